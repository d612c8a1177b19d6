// The walkthrough: its steps match the synthesizer contract, the malformed output is explained piece by
// piece, and the parse explanation agrees with parseComprehension on arbitrary outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  explainParse,
  formatWalkthrough,
  loadWalkthroughExample,
  runWalkthrough,
} from '../../lib/templates/walkthrough.js';
import { cookDemonstration, cookRead, parseComprehension } from '../../lib/synth/format.js';
import { FAMILIES, chainSeed, toPretrainTexts } from '../../lib/templates/render.js';

const example = loadWalkthroughExample();
const w = runWalkthrough(example);

test('the example has two rounds of two texts, with multiple-choice and chain-of-thought pairs', () => {
  assert.equal(w.rounds.length, 2);
  const first = w.rounds[0].items[0];
  assert.equal(first.prompt, cookRead(example.rounds[0].texts[0]));
  assert.equal(first.demonstrations, 0);
  assert.ok(first.pairs.some((p) => p.question.includes('\nOptions:\n- ')));
  assert.ok(
    first.pairs.some(
      (p) => p.question.endsWith("\nLet's think step by step.") && p.answer.includes('\nTherefore, the answer is '),
    ),
  );
});

test('round 2 prompts carry the round-1 text and pairs as a demonstration', () => {
  const [a] = w.chains[0];
  const item = w.rounds[1].items[0];
  assert.equal(item.prompt, cookDemonstration(a) + cookRead(example.rounds[1].texts[0]));
  assert.equal(item.demonstrations, 1);
  assert.equal(item.inheritFromPrev, true);
});

test('the malformed output keeps no pairs, every piece explained, and the entry stays raw text', () => {
  const bad = w.rounds[1].items[1];
  assert.deepEqual(bad.pairs, []);
  assert.equal(bad.inheritFromPrev, false);
  assert.deepEqual(
    bad.pieces.map((p) => p.reason),
    [
      'no <ANS> between question and answer',
      '2 <ANS> markers; a pair has exactly one',
      'empty answer',
      'cut off: the output does not end with </END>',
    ],
  );
  assert.deepEqual(
    w.texts[1].map((t) => t.family === 'raw'),
    [false, true],
  );
  assert.equal(w.texts[1][1].text, example.rounds[1].texts[1]);
});

test('chain 1 becomes one few-shot text holding both of its texts; families are shown side by side', () => {
  assert.equal(w.texts[0].length, 1);
  assert.deepEqual(w.texts[0][0].entries, [0, 1]);
  assert.deepEqual(
    w.texts[0].map((t) => t.text),
    toPretrainTexts(w.chains[0], chainSeed(example.seed, 0)),
  );
  assert.deepEqual(
    w.families.map((f) => f.family),
    [...FAMILIES],
  );
  for (const f of w.families)
    for (const text of example.rounds.map((r) => r.texts[0])) assert.ok(f.text.includes(text), f.family);
});

test('the text rendering shows every step', () => {
  const s = formatWalkthrough(w);
  for (const needle of [
    'Round 1',
    'Round 2',
    'the prompt the synthesizer sees',
    "the model's output",
    'dropped (empty answer)',
    'Chains after 2 rounds',
    'raw text',
    '[inverted]',
  ]) {
    assert.ok(s.includes(needle), needle);
  }
});

test('explainParse keeps exactly what parseComprehension (with deduplication) keeps', () => {
  const markers = fc.constantFrom('<QUE>', '<ANS>', '</END>', ' ', '\n', 'x', 'X', '');
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.array(markers, { maxLength: 30 }).map((a) => a.join('')),
      ),
      (s) => {
        const kept = explainParse(s)
          .filter((v) => v.kept)
          .map((v) => v.pair);
        assert.deepEqual(kept, parseComprehension(s, { deduplicate: true }));
      },
    ),
    { numRuns: 3000 },
  );
  assert.equal(
    explainParse('<QUE> a <ANS> b </END><QUE> A <ANS> c </END>')[1].reason,
    'repeats an earlier question (ignoring case)',
  );
  assert.equal(explainParse('junk <QUE> a <ANS> b </END>')[0].reason, 'does not start with <QUE>');
});

test('a broken example file gets a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-wt-'));
  try {
    const p = join(dir, 'ex.json');
    writeFileSync(
      p,
      JSON.stringify({ seed: 1, maxModelLen: 10, maxNewTokens: 1, rounds: [{ texts: ['a'], outputs: [] }] }),
    );
    assert.throws(() => loadWalkthroughExample(p), /round 1 needs "texts" and "outputs"/);
    writeFileSync(p, '{not json');
    assert.throws(() => loadWalkthroughExample(p), /ex\.json: not valid JSON \(.*\)$/);
    assert.throws(
      () => loadWalkthroughExample(join(dir, 'nope.json')),
      /nope\.json: no such file \(the --example JSON file\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
