// The tiny synthesizer's fine-tuning collection: examples from the rules grouped by source, a stable
// held-out split, and few-shot packing with loss on the pairs only, in the exact contract strings.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildSynthesizerCollection,
  fewShotSequences,
  splitSources,
  TINY_SYNTH_COLLECTION,
  type SynthesizerExample,
} from '../../lib/synth/collection.js';
import { mineTasks, RULE_KINDS } from '../../lib/synth/rules.js';
import { cookDemonstration, cookRead, planRound, collectRound } from '../../lib/synth/format.js';
import { loadBrown } from '../../lib/corpus/brown.js';
import { contextsOf } from '../../lib/corpus/chunk.js';
import { encodeTinyBytes, tinyTokenizerFiles, tokenizerFromFiles } from '../../lib/engine/tokenizer.js';

const para = (topic: string, k: number) =>
  `The ${topic} report number ${k} was read aloud to the whole committee on Monday. Members asked the clerk to file the ${topic} report because the hall was closing early. However, the chairman said the ${topic} work would go on next week.`;
const DOCS = [
  { id: 'd1', genre: 'news', text: [1, 2, 3, 4].map((k) => para('budget', k)).join('\n\n') },
  { id: 'd2', genre: 'government', text: [1, 2, 3].map((k) => para('harbor', k)).join('\n\n') },
  { id: 'd3', text: 'Too short.' },
];

describe('buildSynthesizerCollection', () => {
  const collection = buildSynthesizerCollection(DOCS, { seed: 4, pairsPerText: 5, chunk: { maxTokens: 500 } });

  test('one example per chunk with pairs, in document order, pairs exactly as the rules mine them', () => {
    assert.deepEqual(
      collection.map((e) => e.source),
      ['d1', 'd1', 'd2', 'd2'],
    );
    const chunks = [...contextsOf(DOCS[0].text, { maxTokens: 500 }), ...contextsOf(DOCS[1].text, { maxTokens: 500 })];
    assert.deepEqual(
      collection.map((e) => e.context),
      chunks,
    );
    for (const e of collection) {
      const mined = mineTasks(e.context, { seed: 4, maxPairs: 5, genre: e.genre });
      assert.deepEqual(
        e.pairs,
        mined.map((p) => ({ question: p.question, answer: p.answer })),
      );
      assert.deepEqual(
        e.kinds,
        mined.map((p) => p.kind),
      );
      assert.ok(e.pairs.length >= 3 && e.pairs.length <= 5);
    }
    assert.equal(collection[0].genre, 'news');
  });

  test('deterministic for a seed, and ids must be unique', () => {
    assert.deepEqual(
      buildSynthesizerCollection(DOCS, { seed: 4, pairsPerText: 5, chunk: { maxTokens: 500 } }),
      collection,
    );
    assert.throws(() => buildSynthesizerCollection([DOCS[0], DOCS[0]], { seed: 1 }), /document id "d1" appears twice/);
  });

  test('options: texts per source, no genre questions', () => {
    const one = buildSynthesizerCollection(DOCS, { seed: 4, chunk: { maxTokens: 500 }, maxTextsPerSource: 1 });
    assert.deepEqual(
      one.map((e) => e.source),
      ['d1', 'd2'],
    );
    const noGenre = buildSynthesizerCollection(DOCS, { seed: 4, useGenre: false, kinds: ['genre', 'cause_effect'] });
    assert.ok(noGenre.length > 0 && noGenre.every((e) => e.kinds.every((k) => k === 'cause_effect')));
  });
});

test('splitSources is stable: a document stays on its side whatever else is in the list', () => {
  const docs = loadBrown();
  const { train, heldOut } = splitSources(docs, { seed: 3, heldOutShare: 0.1 });
  assert.equal(train.length + heldOut.length, docs.length);
  assert.ok(heldOut.length > 25 && heldOut.length < 75, `${heldOut.length}`);
  const again = splitSources(
    docs.filter((_, i) => i % 2 === 0),
    { seed: 3, heldOutShare: 0.1 },
  );
  const held = new Set(heldOut.map((d) => d.id));
  assert.ok(again.heldOut.every((d) => held.has(d.id)) && again.train.every((d) => !held.has(d.id)));
  assert.throws(() => splitSources(docs, { seed: 1, heldOutShare: 2 }), /heldOutShare/);
});

describe('fewShotSequences', () => {
  const ex = (source: string, context: string): SynthesizerExample => ({
    context,
    source,
    pairs: [{ question: `Q about ${context}?`, answer: 'A' }],
    kinds: ['completion'],
  });
  const examples = [ex('s1', 'one'), ex('s1', 'two'), ex('s1', 'three'), ex('s2', 'four'), ex('s2', 'x'.repeat(500))];
  const length = (s: string) => s.length;

  test('packs consecutive examples of one source up to the budget, loss on the pairs only', () => {
    const size = (e: SynthesizerExample) => cookDemonstration(e).length;
    const budget = size(examples[0]) + size(examples[1]);
    const { sequences, skipped } = fewShotSequences(examples, { maxTokens: budget, countTokens: length });
    assert.equal(skipped, 1);
    assert.deepEqual(
      sequences.map((s) => [s.source, s.examples]),
      [
        ['s1', 2],
        ['s1', 1],
        ['s2', 1],
      ],
    );
    assert.equal(sequences[0].tokens, budget);
    assert.deepEqual(sequences[0].segments, [
      { text: '<s> <CON> one </CON>\n\n', loss: false },
      { text: '<QUE> Q about one? <ANS> A </END></s>', loss: true },
      { text: '<s> <CON> two </CON>\n\n', loss: false },
      { text: '<QUE> Q about two? <ANS> A </END></s>', loss: true },
    ]);
    assert.equal(
      sequences[0].segments.map((s) => s.text).join(''),
      cookDemonstration(examples[0]) + cookDemonstration(examples[1]),
    );
    assert.deepEqual(
      fewShotSequences(examples, { maxTokens: 1e6, countTokens: length, maxExamplesPerSequence: 1 }).sequences.length,
      5,
    );
  });

  test('a sequence is what the multi-round driver prompts with, plus the answer', () => {
    const { sequences } = fewShotSequences(examples.slice(0, 2), { maxTokens: 1e6 });
    const round1 = collectRound(planRound([], ['one'], { maxModelLen: 1e6, maxNewTokens: 10 }), [
      '<QUE> Q about one? <ANS> A </END>',
    ]);
    const [item] = planRound(round1, ['two'], { maxModelLen: 1e6, maxNewTokens: 10 });
    const text = sequences[0].segments.map((s) => s.text).join('');
    assert.ok(text.startsWith(item.prompt));
    assert.equal(item.prompt, cookDemonstration(examples[0]) + cookRead('two'));
  });

  test('tokenizing segment by segment gives the ids of the whole sequence', () => {
    const collection = buildSynthesizerCollection(loadBrown().slice(0, 2), { seed: 1 });
    const { sequences } = fewShotSequences(collection, {
      maxTokens: 4000,
      countTokens: (s) => encodeTinyBytes(s).length,
    });
    const merged = tokenizerFromFiles(
      tinyTokenizerFiles({
        merges: [
          ['Ċ', 'Ċ'],
          ['Ġ', 't'],
          ['h', 'e'],
          ['Ġt', 'he'],
        ],
      }),
    );
    assert.ok(sequences.length > 2);
    for (const s of sequences.slice(0, 3)) {
      const whole = s.segments.map((x) => x.text).join('');
      assert.deepEqual(
        s.segments.flatMap((x) => encodeTinyBytes(x.text)),
        encodeTinyBytes(whole),
      );
      assert.deepEqual(
        s.segments.flatMap((x) => merged.encode(x.text)),
        merged.encode(whole),
      );
      assert.equal(s.tokens, encodeTinyBytes(whole).length);
      assert.ok(s.tokens <= 4000);
    }
  });
});

test('the tiny collection: no word counts, genre or sentence-from-words; weights prefer the kinds asked for', () => {
  const kinds = TINY_SYNTH_COLLECTION.kinds!;
  for (const k of ['counting', 'genre', 'word_to_text'] as const) assert.ok(!kinds.includes(k), k);
  for (const k of ['fill_blank', 'who', 'where', 'when', 'what'] as const) assert.ok(kinds.includes(k), k);
  const docs = loadBrown().slice(0, 12);
  const collection = buildSynthesizerCollection(docs, { ...TINY_SYNTH_COLLECTION, seed: 3 });
  assert.ok(collection.length > 50);
  assert.ok(collection.every((e) => e.kinds.every((k) => kinds.includes(k))));
  // a heavy weight puts a kind first wherever the text offers it; the candidates themselves do not change
  const text = contextsOf(docs[0].text)[0];
  const plain = mineTasks(text, { seed: 1, maxPairs: 3, minPairs: 3 });
  const heavy = mineTasks(text, { seed: 1, maxPairs: 3, minPairs: 3, weights: { completion: 1e6 } });
  assert.equal(heavy[0].kind, 'completion');
  assert.deepEqual(heavy[0], mineTasks(text, { seed: 1, maxPairs: 1, kinds: ['completion'] })[0]);
  assert.notDeepEqual(heavy, plain);
  assert.throws(
    () => mineTasks(text, { seed: 1, weights: { ordering: 0 } }),
    /weight of "ordering" must be a positive number/,
  );
  assert.throws(
    () => mineTasks(text, { seed: 1, weights: { riddles: 1 } as never }),
    /weights: unknown rule kind "riddles"/,
  );
  assert.equal(RULE_KINDS.length, 17);
});
