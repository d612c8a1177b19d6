// The kit's tiny synthesizer: few-shot training data (fits the context, loss on the pairs only, one
// sequence per row, every example once), a model overfit on a handful of examples that writes their
// pairs back through ONNX and the multi-round driver, the measurement on scripted and real engines,
// and the `ipt tiny-synth` commands.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  openTinySynthesizer,
  PAD,
  tinySynthesizerData,
  trainTinySynthesizer,
  type TinySynthesizerEngine,
} from '../../lib/train/tiny-synthesizer.js';
import { measureTinySynthesizer, tinySynthesizerHeldOut } from '../../lib/synth/tiny-measure.js';
import type { SynthesizerExample } from '../../lib/synth/collection.js';
import { cookCompre, cookRead, EOS, parseComprehension, type Pair } from '../../lib/synth/format.js';
import { synthesize } from '../../lib/synth/driver.js';
import { trainBpeMerges, BpeEncoder } from '../../lib/train/bpe.js';
import { packDocuments, tokenizeDocuments, type TrainingDocument } from '../../lib/train/data.js';
import { BOS_ID, PAD_ID, tinyTokenizerFiles } from '../../lib/engine/tokenizer.js';
import type { Completion, CompletionEngine, CompletionOptions } from '../../lib/engine/completion.js';
import { loadBrown } from '../../lib/corpus/brown.js';
import { main } from '../../lib/cli.js';
import { DEFAULT_PROFILE, mergeConfig, validateConfig } from '../../lib/ablation/config.js';
import { capture } from '../cli-io.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-tiny-synth-'));

// A handful of short examples: five sources, the first two with two texts each.
const EXAMPLES: SynthesizerExample[] = [
  ex('farm', 'The red barn stood beside the old mill. Cows slept in the barn all winter.', [
    { question: 'Fill in the blank: "The red ____ stood beside the old mill."', answer: 'barn' },
    { question: 'Where did the cows sleep?', answer: 'in the barn' },
  ]),
  ex('farm', 'In spring the farmer planted corn and beans along the river.', [
    { question: 'What did the farmer plant?', answer: 'corn and beans' },
  ]),
  ex('sea', 'A small boat left the harbor at dawn. The sailors caught twelve fish.', [
    { question: 'How many fish did the sailors catch?', answer: 'twelve' },
    { question: 'When did the boat leave?', answer: 'at dawn' },
  ]),
  ex('sea', 'Storms closed the harbor for three days in March.', [
    { question: 'Why was the harbor closed?', answer: 'Storms' },
  ]),
  ex('town', 'The mayor opened the new library on Friday morning.', [
    { question: 'What did the mayor open?', answer: 'the new library' },
  ]),
  ex('school', 'Students painted a mural of the moon on the gym wall.', [
    { question: 'What did the students paint?', answer: 'a mural of the moon' },
  ]),
  ex('garden', 'Roses and tulips grow in the garden behind the church.', [
    { question: 'Which flowers grow in the garden?', answer: 'Roses and tulips' },
  ]),
];

function ex(source: string, context: string, pairs: Pair[]): SynthesizerExample {
  return { source, context, pairs, kinds: pairs.map(() => 'completion') };
}

const merges = trainBpeMerges(
  EXAMPLES.flatMap((e) => [cookRead(e.context), cookCompre(e.pairs) + EOS]),
  120,
);
const TOKENIZER = tinyTokenizerFiles({ merges });
const encoder = new BpeEncoder(merges);
const countTokens = (s: string) => encoder.encode(s).length;

const textOf = (d: TrainingDocument) => ('segments' in d ? d.segments.map((s) => s.text).join('') : '');

describe('tinySynthesizerData', () => {
  test('aligned: each sequence fills exactly one training row, starts with <s>, and the loss falls on the pairs only', () => {
    const T = 96;
    const data = tinySynthesizerData(EXAMPLES, { maxTokens: T, countTokens, seed: 1, valShare: 0, align: true });
    assert.equal(data.skipped, 0);
    assert.equal(data.examples, EXAMPLES.length);
    assert.equal(data.validation.length, 0);
    for (const [i, d] of data.train.entries()) {
      assert.ok('segments' in d);
      // content + pads = T - 1 tokens (the packer's EOS makes T); the last one pad more
      assert.equal(countTokens(textOf(d)), T - 1 + (i === data.train.length - 1 ? 1 : 0));
      for (const s of d.segments) {
        if (s.train) assert.ok(s.text.startsWith('<QUE> ') && s.text.endsWith(' </END></s>'), s.text);
        else assert.ok(s.text.startsWith('<s> <CON> ') || /^(<pad>)+$/.test(s.text), s.text);
      }
    }
    const packed = packDocuments(
      tokenizeDocuments(data.train, (s) => encoder.encode(s), 512),
      { contextLength: T, eosId: 2 },
    );
    assert.equal(packed.rows, data.train.length);
    for (let r = 0; r < packed.rows; r++) {
      assert.equal(packed.tokens[r * T], BOS_ID, `row ${r} starts a sequence`);
      // what a row is trained on: exactly its pairs segments (targets are the next tokens)
      const targets = Array.from(packed.tokens.subarray(r * T + 1, r * T + T + 1)).filter(
        (_, j) => packed.mask[r * T + 1 + j] === 1,
      );
      const doc = data.train[r] as { segments: Array<{ text: string; train: boolean }> };
      const want = doc.segments.filter((s) => s.train).flatMap((s) => encoder.encode(s.text));
      assert.deepEqual(targets, want, `row ${r}`);
      assert.ok(targets.every((t) => t !== PAD_ID));
    }
  });

  test('every example lands in exactly one sequence, validation split by source, deterministic', () => {
    const data = tinySynthesizerData(EXAMPLES, { maxTokens: 200, countTokens, seed: 3, valShare: 0.4 });
    assert.ok(data.validation.length > 0 && data.train.length > 0);
    const sourcesOf = (docs: TrainingDocument[]) =>
      new Set(
        docs.flatMap((d) => EXAMPLES.filter((e) => textOf(d).includes(cookRead(e.context))).map((e) => e.source)),
      );
    const trainSources = sourcesOf(data.train);
    for (const s of sourcesOf(data.validation)) assert.ok(!trainSources.has(s), `source ${s} on both sides`);
    assert.equal(data.split.train.sources + data.split.validation.sources, 5);
    const all = [...data.train, ...data.validation].map(textOf);
    for (const e of EXAMPLES) {
      const demo = cookRead(e.context) + cookCompre(e.pairs) + EOS;
      assert.equal(all.filter((t) => t.includes(demo)).length, 1, e.context);
    }
    assert.equal(data.examples, EXAMPLES.length);
    // few-shot: the two farm texts share one sequence
    assert.ok(
      all.some((t) => t.includes(EXAMPLES[0].context) && t.includes(EXAMPLES[1].context)) || !trainSources.has('farm'),
    );
    assert.deepEqual(tinySynthesizerData(EXAMPLES, { maxTokens: 200, countTokens, seed: 3, valShare: 0.4 }), data);
    for (const d of [...data.train, ...data.validation]) assert.ok(countTokens(textOf(d)) <= 200);
  });

  test('too-long examples are counted as skipped; bad input says what to do', () => {
    const sizes = EXAMPLES.map((e) => countTokens(cookRead(e.context) + cookCompre(e.pairs) + EOS)).sort(
      (a, b) => a - b,
    );
    const data = tinySynthesizerData(EXAMPLES, { maxTokens: sizes[3] + 1, countTokens, seed: 1, valShare: 0 });
    assert.equal(data.skipped, sizes.filter((n) => n > sizes[3]).length);
    assert.ok(data.skipped > 0 && data.examples + data.skipped === EXAMPLES.length);
    assert.throws(
      () => tinySynthesizerData(EXAMPLES, { maxTokens: sizes[0], countTokens, seed: 1 }),
      /no training sequences/,
    );
    assert.throws(() => tinySynthesizerData([], { maxTokens: 40, countTokens, seed: 1 }), /collection is empty/);
    assert.throws(
      () => tinySynthesizerData(EXAMPLES, { maxTokens: 96, countTokens: (s) => s.length, seed: 1, align: true }),
      /align: false/,
    );
    const loose = tinySynthesizerData(EXAMPLES, { maxTokens: 400, countTokens: (s) => s.length, seed: 1, valShare: 0 });
    assert.equal(loose.examples, EXAMPLES.length);
    assert.ok(loose.train.every((d) => !textOf(d).includes(PAD)));
  });
});

/** Answers from a table of prompts; anything else gets no pairs. */
class ScriptedEngine implements CompletionEngine {
  readonly name = 'scripted@test';
  constructor(readonly table: Record<string, string>) {}
  async complete(prompts: string[], _options: CompletionOptions): Promise<Completion[]> {
    return prompts.map((p) => ({
      text: this.table[p] ?? 'no idea',
      finishReason: p in this.table ? 'stop' : 'length',
      completionTokens: 3,
    }));
  }
}

test('measureTinySynthesizer on a scripted engine: exact figures', async () => {
  const heldOut = [
    { context: 'The cat sat on the mat.', genre: 'fiction' },
    { context: 'Ten ships sailed north.' },
    { context: 'Rain fell all day.' },
  ];
  const references: Pair[][] = [
    [
      { question: 'Where did the cat sit?', answer: 'on the mat' },
      { question: 'Who sat?', answer: 'The cat' },
    ],
    [{ question: 'How many ships sailed?', answer: 'Ten' }],
    [{ question: 'What fell?', answer: 'Rain' }],
  ];
  const engine = new ScriptedEngine({
    [cookRead(heldOut[0].context)]:
      '<QUE> Where did the cat sit? <ANS> On the mat. </END>\n\n<QUE> Is the cat a dog? <ANS> No </END>\n\n<QUE> where did the cat sit? <ANS> sofa </END>',
    [cookRead(heldOut[1].context)]: '<QUE> Which way did they sail? <ANS> south </END>',
    [`${cookRead(heldOut[0].context)}<QUE> Where did the cat sit? <ANS>`]: ' on the mat </END>\n\n<QUE> more',
    [`${cookRead(heldOut[0].context)}<QUE> Who sat? <ANS>`]: ' a cat </END>',
    [`${cookRead(heldOut[1].context)}<QUE> How many ships sailed? <ANS>`]: ' ten',
  });
  const q = await measureTinySynthesizer({ engine, heldOut, references, maxNewTokens: 50, batchSize: 2, examples: 2 });
  assert.equal(q.texts, 3);
  assert.equal(q.quality.parsed, 2);
  assert.equal(q.quality.parseRate, 2 / 3);
  assert.equal(q.quality.pairs, 3); // the repeated question is dropped
  assert.equal(q.quality.duplicates.withinText, 1);
  assert.deepEqual(q.quality.pairsPerText.histogram, { '0': 1, '1': 1, '2': 1 });
  // "On the mat." is in its text, "south" is not, "No" is a label
  assert.deepEqual(q.quality.answerInContext, { eligible: 2, found: 1, labelAnswers: 1, rate: 0.5 });
  // free: one of four references asked (by the synthesizer's own question), answered right
  assert.equal(q.free.references, 4);
  assert.equal(q.free.asked, 1);
  assert.equal(q.free.exact, 1);
  assert.equal(q.free.exactOverall, 0.25);
  // prompted: "on the mat" and "ten" exact, "a cat" F1 1 against "The cat" (SQuAD drops articles) but not exact, "no idea" wrong
  assert.equal(q.prompted.asked, 4);
  assert.equal(q.prompted.exact, 2);
  assert.equal(q.prompted.f1Overall, (1 + 1 + 1 + 0) / 4);
  assert.deepEqual(q.finishReasons, { stop: 2, length: 1 });
  // baselines by rule kind: "Where..." and "Who..." are kinds of one reference each (their own majority),
  // the other two share "other" with two different answers: 3 of 4 by majority
  assert.deepEqual(q.majorityBaseline, { references: 4, exact: 3, exactOverall: 0.75 });
  assert.deepEqual(q.priorBaseline, { references: 4, exact: 3, exactOverall: 0.75 });
  assert.equal(q.answerMaxNewTokens, 50);
  assert.deepEqual(
    q.examples.map((e) => [e.genre, e.pairs.length, e.promptedAnswers]),
    [
      ['fiction', 2, ['on the mat', 'a cat']],
      [undefined, 1, ['ten']],
    ],
  );
  assert.equal(q.examples[0].output, engine.table[cookRead(heldOut[0].context)]);
});

test('the prior baseline: a random option where the majority answer is not one, the majority answer elsewhere', async () => {
  const heldOut = [{ context: 'A. B. C.' }, { context: 'D. E.' }, { context: 'F.' }];
  const order = (first: string, second: string) =>
    `Which of these two sentences comes first in the text?\nOptions:\n- ${first}\n- ${second}`;
  const references: Pair[][] = [
    [
      { question: order('A.', 'B.'), answer: 'A.' },
      { question: 'Is this statement true according to the text? "C."\nOptions:\n- Yes\n- No', answer: 'Yes' },
    ],
    [
      { question: order('E.', 'D.'), answer: 'D.' },
      { question: 'Is this statement true according to the text? "X."', answer: 'No' },
    ],
    [{ question: 'Is this statement true according to the text? "F."', answer: 'Yes' }],
  ];
  const q = await measureTinySynthesizer({ engine: new ScriptedEngine({}), heldOut, references, maxNewTokens: 8 });
  // majority: ordering answers all differ (1 of 2), yes_no "yes" (2 of 3): 3 of 5
  assert.deepEqual(q.majorityBaseline, { references: 5, exact: 3, exactOverall: 0.6 });
  // prior: ordering's majority "a" (first met) is an option of the first question only (right: 1), the
  // second gets a random option (1/2); yes_no answers "yes": right with options (1) and on "F." (1), wrong on "X."
  assert.deepEqual(q.priorBaseline, { references: 5, exact: 3.5, exactOverall: 0.7 });
  const two = [
    [{ question: order('A.', 'B.'), answer: 'A.' }],
    [{ question: order('E.', 'D.'), answer: 'D.' }],
    [{ question: order('F.', 'G.'), answer: 'G.' }],
  ];
  const r = await measureTinySynthesizer({ engine: new ScriptedEngine({}), heldOut, references: two, maxNewTokens: 8 });
  assert.deepEqual(r.majorityBaseline, { references: 3, exact: 1, exactOverall: 1 / 3 });
  // "a" is the majority of ordering (first met): an option only in the first question
  assert.deepEqual(r.priorBaseline, { references: 3, exact: 2, exactOverall: 2 / 3 });
});

describe('a tiny synthesizer overfit on a handful of examples', () => {
  const runDir = join(root, 'overfit');
  let engine: TinySynthesizerEngine;
  let trainedData: { sequences: number; examples: number };

  before(async () => {
    const r = await trainTinySynthesizer({
      outDir: runDir,
      collection: EXAMPLES,
      tokenizer: TOKENIZER,
      model: { contextLength: 160, width: 64, heads: 4, layers: 2 },
      train: { steps: 150, batchSize: 8, lr: 1e-2, minLr: 1e-3, warmupSteps: 10, evalEvery: 0, checkpointEvery: 50 },
      seed: 2,
      valShare: 0,
      // one sequence per row at position 0: the prompts of the texts that open a sequence are then exactly what was trained
      align: true,
      threads: 2,
      progress: 'silent',
    });
    trainedData = r.data;
    assert.equal(r.result.finished, true);
    assert.ok(existsSync(join(r.modelDir, 'onnx', 'model.onnx')));
    engine = await openTinySynthesizer(runDir, { threads: 1 });
  });

  test('greedy generation through ONNX writes the training pairs back exactly', async () => {
    assert.equal(trainedData.examples, EXAMPLES.length);
    assert.equal(engine.contextLength, 160);
    const out = await engine.complete(
      EXAMPLES.map((e) => cookRead(e.context)),
      { maxNewTokens: 60 },
    );
    // texts that open a training sequence are prompted exactly as they were trained
    const openers = EXAMPLES.map((e, i) => i).filter((i) => i === 0 || EXAMPLES[i - 1].source !== EXAMPLES[i].source);
    for (const i of openers) {
      assert.equal(out[i].text, cookCompre(EXAMPLES[i].pairs), EXAMPLES[i].context);
      assert.equal(out[i].finishReason, 'stop');
    }
    for (const i of openers) assert.deepEqual(parseComprehension(out[i].text), EXAMPLES[i].pairs);
  });

  test('the M-round driver keeps every text once in its chains (rounds 2)', async () => {
    const texts = EXAMPLES.map((e) => e.context);
    const r = await synthesize({
      texts,
      engine,
      outDir: join(root, 'synth'),
      rounds: 2,
      maxModelLen: 160,
      maxNewTokens: 48,
      batchSize: 4,
      progress: 'silent',
    });
    const contexts = r.chains.flat().map((e) => e.context);
    assert.deepEqual([...contexts].sort(), [...texts].sort());
    assert.ok(r.chains.flat().filter((e) => e.pairs.length > 0).length >= 5, JSON.stringify(r.chains));
  });

  test('measured on its training texts: every text parsed, every answer in its text, first prompted answers exact', async () => {
    const openers = EXAMPLES.filter((e, i) => i === 0 || EXAMPLES[i - 1].source !== e.source);
    const q = await measureTinySynthesizer({
      engine,
      heldOut: openers.map((e) => ({ context: e.context })),
      references: openers.map((e) => e.pairs),
      maxNewTokens: 60,
      outDir: join(root, 'measure'),
    });
    assert.equal(q.quality.parseRate, 1);
    assert.equal(
      q.quality.pairs,
      openers.reduce((n, e) => n + e.pairs.length, 0),
    );
    assert.equal(q.free.exactOverall, 1);
    assert.equal(q.quality.answerInContext.rate, 1);
    // prompted: the first question of each text is trained right after the text, so its answer is exact
    // (a second question was only ever trained after the first pair)
    assert.deepEqual(
      q.examples.map((e) => e.promptedAnswers[0]),
      openers.map((e) => e.pairs[0].answer),
    );
    assert.ok(q.prompted.exact >= openers.length, JSON.stringify(q.prompted));
    const saved = JSON.parse(readFileSync(join(root, 'measure', 'quality.json'), 'utf8'));
    assert.deepEqual(saved, JSON.parse(JSON.stringify(q)));
    // a rerun finds the synthesis and the prompted answers done
    const again = await measureTinySynthesizer({
      engine,
      heldOut: openers.map((e) => ({ context: e.context })),
      references: openers.map((e) => e.pairs),
      maxNewTokens: 60,
      outDir: join(root, 'measure'),
    });
    assert.deepEqual(again.quality, q.quality);
    assert.deepEqual(again.prompted, q.prompted);
  });

  test('closing the engine releases its ONNX session: it takes no more work', async () => {
    const prompt = cookRead(EXAMPLES[0].context);
    assert.equal((await engine.complete([prompt], { maxNewTokens: 1 })).length, 1, 'open, it completes');
    await engine.close();
    await assert.rejects(engine.complete([prompt], { maxNewTokens: 1 }), /disposed/);
  });
});

test('tinySynthesizerHeldOut: texts from held-out documents only, with their rule pairs', () => {
  const docs = loadBrown().slice(0, 60);
  const { heldOut, references } = tinySynthesizerHeldOut(docs, { seed: 0, heldOutShare: 0.2, n: 12 });
  assert.equal(heldOut.length, 12);
  assert.equal(references.length, 12);
  assert.ok(references.every((r) => r.length >= 1 && r.length <= 2));
  assert.deepEqual(tinySynthesizerHeldOut(docs, { seed: 0, heldOutShare: 0.2, n: 12 }), { heldOut, references });
});

test('ipt tiny-synth train and measure, small', { timeout: 120_000 }, async () => {
  const help = capture();
  assert.equal(await main(['tiny-synth', 'train', '--help'], help), 0);
  assert.match(help.out, /^Usage: ipt tiny-synth train/);
  const out = join(root, 'cli-run');
  const train = capture();
  assert.equal(
    await main(
      ['tiny-synth', 'train', '--out', out, '--docs', '6', '--steps', '4', '--profile', 'ci', '--threads', '1'],
      train,
    ),
    0,
    train.err,
  );
  assert.match(train.out, /step 4: loss \d/);
  assert.ok(existsSync(join(out, 'model', 'onnx', 'model.onnx')));
  // the same command again finds the run finished; other options in the same folder are refused
  const again = capture();
  assert.equal(
    await main(
      ['tiny-synth', 'train', '--out', out, '--docs', '6', '--steps', '4', '--profile', 'ci', '--threads', '1'],
      again,
    ),
    0,
    again.err,
  );
  assert.match(again.out, /step 4 \(resumed from step 4\)/);
  const other = capture();
  assert.equal(
    await main(
      ['tiny-synth', 'train', '--out', out, '--docs', '6', '--steps', '5', '--profile', 'ci', '--threads', '1'],
      other,
    ),
    1,
  );
  assert.match(other.err, /different config/);
  const measure = capture();
  assert.equal(
    await main(
      ['tiny-synth', 'measure', '--model', out, '--n', '4', '--max-new-tokens', '16', '--threads', '1'],
      measure,
    ),
    0,
    measure.err,
  );
  const q = JSON.parse(measure.out);
  assert.equal(q.texts, 4);
  assert.equal(q.maxNewTokens, 16);
  assert.match(measure.err, /4 held-out texts: parse rate/);
  const wrong = capture();
  assert.equal(await main(['tiny-synth', 'measure', '--model', out, '--seed', '5'], wrong), 2);
  assert.match(wrong.err, /trained with seed 0/);
});

test("the ablation config checks the tiny synthesizer's collection kinds, weights and sampling", () => {
  const bad = (over: unknown) => () => validateConfig(mergeConfig(DEFAULT_PROFILE, over));
  assert.doesNotThrow(bad({}));
  assert.throws(
    bad({ synthesis: { collection: { kinds: [] } } }),
    /synthesis.collection.kinds must be a non-empty list/,
  );
  assert.throws(
    bad({ synthesis: { collection: { kinds: ['fill_blank', 'riddles'] } } }),
    /synthesis.collection.kinds: unknown rule kind "riddles"/,
  );
  assert.throws(
    bad({ synthesis: { collection: { weights: { who: -1 } } } }),
    /synthesis.collection.weights.who must be a positive number/,
  );
  assert.throws(bad({ synthesis: { tiny: { temperature: -0.5 } } }), /synthesis.tiny.temperature must be >= 0/);
  assert.throws(bad({ synthesis: { tiny: { topP: 0 } } }), /synthesis.tiny.topP must be in \(0, 1\]/);
});
