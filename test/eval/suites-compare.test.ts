// Paired gains on hand-computed cases (the verdict follows the interval, groups pool their subjects'
// items), Python's float repr for samples files, and the synthesizer evaluation's collection parsing
// and exact prompts, then a run on the loopback hub's collection copy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pairedDifference, pairedGains } from '../../lib/eval/suites/compare.js';
import { gainEstimate, meanWithStderr } from '../../lib/eval/stats.js';
import { createRng } from '../../lib/repro/rng.js';
import { pyFloat, type SuiteResults } from '../../lib/eval/suites/evaluate.js';
import {
  loadCollectionExamples,
  parseCollectionText,
  responsePrompt,
  synthesizerResponseAccuracy,
} from '../../lib/eval/synthesizer.js';
import { FakeHub } from '../hub/fake-hub.js';
import { benchmarkFixtures } from './fixtures.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { seededGptWeights, writeGptModelFolder } from '../../lib/engine/onnx-gpt.js';
import { loadTokenizer, TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';

test('a paired difference: mean of a_i - b_i, stderr of the differences, 95% interval, verdict from the interval', () => {
  // differences [1, 1, 0, 1]: mean 0.75, sample sd 0.5, se 0.25, interval 0.75 +- 1.95996 * 0.25
  const d = pairedDifference([1, 1, 1, 1], [0, 0, 1, 0]);
  assert.equal(d.diff, 0.75);
  assert.equal(d.stderr, 0.25);
  assert.ok(Math.abs(d.lo! - (0.75 - 1.959963984540054 * 0.25)) < 1e-9);
  assert.ok(Math.abs(d.hi! - (0.75 + 1.959963984540054 * 0.25)) < 1e-9);
  assert.equal(d.verdict, 'gain');
  assert.equal(pairedDifference([0, 1, 0, 1], [1, 0, 0, 1]).verdict, 'within noise');
  assert.equal(pairedDifference([0, 0, 0, 0], [1, 1, 0, 1]).verdict, 'loss');
  // a 90% interval is narrower: z = 1.644854
  const d90 = pairedDifference([1, 1, 1, 1], [0, 0, 1, 0], 0.9);
  assert.ok(Math.abs(d90.lo! - (0.75 - 1.6448536269514722 * 0.25)) < 1e-9);
  // one item says nothing of the spread
  assert.deepEqual(pairedDifference([1], [0]), {
    n: 1,
    a: 1,
    b: 0,
    diff: 1,
    stderr: null,
    lo: null,
    hi: null,
    verdict: 'within noise',
  });
  assert.throws(() => pairedDifference([1], [1, 0]), /same items/);
});

test("paired differences are the statistics module's paired gain: the same mean and standard error as before, the kit's z", () => {
  // what compare.ts computed on its own before it used lib/eval/stats.ts, written out independently
  const before = (a: number[], b: number[]) => {
    const d = a.map((x, i) => x - b[i]);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const se = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (d.length - 1) / d.length);
    return { mean, se, lo: mean - 1.96 * se, hi: mean + 1.96 * se };
  };
  const rng = createRng(5);
  for (let k = 0; k < 50; k++) {
    const n = 2 + rng.int(300);
    // 0/1 accuracies (as acc) and fractional scores (as a token F1)
    const a = Array.from({ length: n }, () => (k % 2 ? rng.next() : rng.int(2)));
    const b = Array.from({ length: n }, () => (k % 2 ? rng.next() : rng.int(2)));
    const want = before(a, b);
    const got = pairedDifference(a, b);
    const viaStats = gainEstimate([[a]], [[b]]);
    assert.equal(got.diff, viaStats.mean);
    assert.equal(got.stderr, viaStats.se);
    assert.equal(got.verdict, viaStats.verdict);
    assert.ok(Math.abs(got.diff - want.mean) < 1e-12, `mean, case ${k}`);
    assert.ok(Math.abs(got.stderr! - want.se) < 1e-12, `stderr, case ${k}`);
    assert.equal(got.stderr, meanWithStderr(a.map((x, i) => x - b[i])).se, `stderr as meanWithStderr's, case ${k}`);
    // the interval's z is 1.959964 (the normal quantile) where it was 1.96: ends move by 0.00004 standard errors
    assert.ok(
      Math.abs(got.lo! - want.lo) <= 4e-5 * want.se + 1e-12 && Math.abs(got.hi! - want.hi) <= 4e-5 * want.se + 1e-12,
      `interval, case ${k}`,
    );
  }
});

function fake(items: Record<string, Record<string, number[]>>, groups: Record<string, string[]> = {}): SuiteResults {
  const r = { ipt: { scores: {}, chance: {}, items: {} }, group_subtasks: { ...groups } } as unknown as SuiteResults;
  for (const [task, byMetric] of Object.entries(items)) {
    const n = Object.values(byMetric)[0].length;
    r.ipt.items[task] = { doc_id: Array.from({ length: n }, (_, i) => i), scores: byMetric };
    r.ipt.scores[task] = Object.fromEntries(Object.keys(byMetric).map((m) => [m, { value: 0, stderr: 0, n }]));
    r.ipt.chance[task] = Object.fromEntries(Object.keys(byMetric).map((m) => [m, 0.25]));
    r.group_subtasks[task] ??= [];
  }
  for (const g of Object.keys(groups)) {
    r.ipt.scores[g] = { acc: { value: 0, stderr: 0, n: 0 } };
    r.ipt.chance[g] = { acc: 0.25 };
  }
  return r;
}

test("pairedGains joins items by doc_id, pools a group's subjects, and skips corpus-level F1 with a note", () => {
  const a = fake({ t1: { acc: [1, 1, 1, 0] }, t2: { acc: [1, 0] }, f: { weighted_F1: [1, 0] } }, { g: ['t1', 't2'] });
  const b = fake({ t1: { acc: [0, 0, 1, 0] }, t2: { acc: [0, 0] }, f: { weighted_F1: [0, 0] } }, { g: ['t1', 't2'] });
  const { rows, notes } = pairedGains(a, b, { metric: 'acc' });
  const byTask = Object.fromEntries(rows.map((r) => [r.task, r]));
  assert.equal(byTask.t1.diff, 0.5);
  assert.equal(byTask.t1.n, 4);
  // the group: differences [1, 1, 0, 0, 1, 0] over all six items
  assert.equal(byTask.g.n, 6);
  assert.ok(Math.abs(byTask.g.diff - 0.5) < 1e-12);
  assert.equal(byTask.g.chance, 0.25);
  assert.ok(!('f' in byTask));
  assert.match(notes.join('\n'), /f: weighted_F1 is a corpus-level score/);
});

test('log-likelihoods are written as Python writes floats', () => {
  assert.equal(pyFloat(-317.7102582770892), '-317.7102582770892');
  assert.equal(pyFloat(-2), '-2.0');
  assert.equal(pyFloat(0), '0.0');
  assert.equal(pyFloat(-1e-5), '-1e-05');
  assert.equal(pyFloat(-0.00012), '-0.00012');
  assert.equal(pyFloat(1.5e-7), '1.5e-07');
  assert.equal(pyFloat(1e16), '1e+16');
  assert.equal(pyFloat(-Infinity), '-inf');
});

test('collection records: finished examples split on </s>, context and pairs in the synthesizer format', () => {
  const text =
    '<s> <CON> The lamp stood by the river. </CON>\n\n<QUE> What stood by the river? <ANS> The lamp </END>\n\n<QUE> Where? <ANS> by the river </END></s><s> <CON> Second text. </CON>\n\n<QUE> Which text? <ANS> the second </END></s>';
  const examples = parseCollectionText(text);
  assert.deepEqual(examples, [
    {
      context: 'The lamp stood by the river.',
      pairs: [
        { question: 'What stood by the river?', answer: 'The lamp' },
        { question: 'Where?', answer: 'by the river' },
      ],
    },
    { context: 'Second text.', pairs: [{ question: 'Which text?', answer: 'the second' }] },
  ]);
  const [first, second] = examples.map((e) => ({ dataset: 'd', ...e }));
  assert.equal(
    responsePrompt(first, 0, []),
    '<s> <CON> The lamp stood by the river. </CON>\n\n<QUE> What stood by the river? <ANS>',
  );
  assert.equal(
    responsePrompt(first, 1, []),
    '<s> <CON> The lamp stood by the river. </CON>\n\n<QUE> What stood by the river? <ANS> The lamp </END>\n\n<QUE> Where? <ANS>',
  );
  assert.equal(
    responsePrompt(second, 0, [first]),
    '<s> <CON> The lamp stood by the river. </CON>\n\n<QUE> What stood by the river? <ANS> The lamp </END>\n\n<QUE> Where? <ANS> by the river </END></s>' +
      '<s> <CON> Second text. </CON>\n\n<QUE> Which text? <ANS>',
  );
});

let hub: FakeHub;
let root: string;
before(async () => {
  hub = await FakeHub.start(benchmarkFixtures());
  root = mkdtempSync(join(tmpdir(), 'ipt-synth-eval-'));
});
after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

test(
  'response accuracy from the collection on the hub: zero-shot and few-shot score the same questions',
  { timeout: 120_000 },
  async () => {
    const { examples, inputs } = await loadCollectionExamples(['squad', 'race'], {
      hub: { endpoint: hub.url, cacheDir: join(root, 'hf'), token: undefined, offline: false },
    });
    assert.equal(examples.length, 2 * (4 + 3) * 2);
    assert.equal(inputs.length, 2);
    const cfg = {
      vocabSize: TINY_BASE_VOCAB,
      contextLength: 512,
      width: 32,
      heads: 4,
      layers: 1,
      mlpRatio: 2,
      layerNormEps: 1e-5,
    };
    writeGptModelFolder(join(root, 'm'), { cfg, weights: seededGptWeights(cfg, 2) }, { variants: ['kv-delta'] });
    const lm = await OnnxCausalLM.load(join(root, 'm'));
    try {
      const tok = loadTokenizer(join(root, 'm'));
      const zero = await synthesizerResponseAccuracy(lm, tok, examples, {
        shots: 0,
        perDataset: 2,
        maxNewTokens: 8,
        modelKey: 'm',
      });
      const few = await synthesizerResponseAccuracy(lm, tok, examples, {
        shots: 2,
        perDataset: 2,
        maxNewTokens: 8,
        modelKey: 'm',
      });
      assert.equal(zero.items.length, 2 * 2 * 2); // 2 datasets x 2 examples x 2 questions
      assert.deepEqual(
        zero.items.map((i) => [i.dataset, i.example, i.pair]),
        few.items.map((i) => [i.dataset, i.example, i.pair]),
      );
      assert.equal(zero.scores.all.f1.n, 8);
      assert.ok(zero.items.every((i) => i.reference.length > 0 && i.f1 >= 0 && i.f1 <= 1));
      await assert.rejects(
        synthesizerResponseAccuracy(lm, tok, examples, { shots: 20, perDataset: 2, modelKey: 'm' }),
        /20-shot needs 20 examples/,
      );
    } finally {
      await lm.close();
    }
  },
);
