// The one sampler (lib/engine/sampling.ts): its distribution, and parity between the two engines
// the kit runs itself: the same weights in the in-process GPT and in ONNX Runtime give the same
// seeded samples and stop at the same default (the model's EOS).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  argmax,
  logSoftmaxAt,
  resolveSampling,
  rowRng,
  sampleToken,
  stopIds,
  wholeRow,
} from '../../lib/engine/sampling.js';
import { createRng } from '../../lib/repro/rng.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { GPTLanguageModel } from '../../lib/train/lm.js';
import { seededGptWeights, writeGptModelFolder } from '../../lib/engine/onnx-gpt.js';
import type { GPTConfig } from '../../lib/engine/gpt.js';
import { TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-sampling-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('sampling follows softmax(logits / temperature) within the top-p nucleus', () => {
  const rng = createRng(3);
  const row = wholeRow(Float32Array.from([0, Math.log(3), -50]));
  let ones = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) if (sampleToken(row, 1, 1, rng) === 1) ones++;
  assert.ok(Math.abs(ones / n - 0.75) < 0.03, `P(token 1) = ${ones / n}, expected 0.75`);
  // temperature 0.5 sharpens 1:3 into 1:9
  let sharp = 0;
  for (let i = 0; i < n; i++) if (sampleToken(row, 0.5, 1, rng) === 1) sharp++;
  assert.ok(Math.abs(sharp / n - 0.9) < 0.03, `P(token 1) at T=0.5 = ${sharp / n}, expected 0.9`);
  // top-p 0.7: the nucleus is token 1 alone (0.75 >= 0.7)
  for (let i = 0; i < 200; i++) assert.equal(sampleToken(row, 1, 0.7, rng), 1);
});

test('argmax takes the first of equal logits; float16 rows read as numbers; log-softmax sums to one', () => {
  assert.equal(argmax(wholeRow(Float32Array.from([1, 3, 3, 2]))), 1);
  // float16 bit patterns of 1, 2, -2: argmax 1
  assert.equal(argmax({ data: Uint16Array.from([0x3c00, 0x4000, 0xc000]), offset: 0, V: 3, half: true }), 1);
  const row = wholeRow(Float32Array.from([0.5, -1, 2, 0]));
  const total = [0, 1, 2, 3].reduce((s, id) => s + Math.exp(logSoftmaxAt(row, id)), 0);
  assert.ok(Math.abs(total - 1) < 1e-12);
});

test('options: greedy by default, bad values refused, one generator per row, stop ids default to EOS', () => {
  assert.deepEqual(resolveSampling({}), { temperature: 0, topP: 1, seed: 0 });
  assert.throws(() => resolveSampling({ temperature: -1 }), /temperature must be >= 0/);
  assert.throws(() => resolveSampling({ topP: 0 }), /topP must be in \(0, 1\]/);
  assert.equal(rowRng(resolveSampling({}), 0), undefined);
  const s = resolveSampling({ temperature: 1, seed: 4 });
  assert.equal(rowRng(s, 2)!.next(), rowRng(s, 2)!.next());
  assert.notEqual(rowRng(s, 2)!.next(), rowRng(s, 3)!.next());
  assert.deepEqual([...stopIds(undefined, [2])], [2]);
  assert.deepEqual([...stopIds([], [2])], []);
});

test(
  'parity: the in-process GPT and ONNX Runtime give the same seeded samples and stop at the same EOS',
  { timeout: 120_000 },
  async () => {
    const cfg: GPTConfig = {
      vocabSize: TINY_BASE_VOCAB,
      contextLength: 64,
      width: 32,
      heads: 4,
      layers: 2,
      mlpRatio: 4,
      layerNormEps: 1e-5,
    };
    const weights = seededGptWeights(cfg, 9);
    const prompts = [
      [1, 50, 60, 70],
      [1, 9],
      [1, 100, 101, 102, 103, 104, 105],
    ];
    const options = { maxNewTokens: 24, temperature: 1, topP: 0.9, seed: 11 };
    const free = join(root, 'free');
    writeGptModelFolder(free, { cfg, weights });
    const onnxFree = await OnnxCausalLM.load(free, { threads: 1 });
    const inProcessFree = await GPTLanguageModel.create(cfg, weights, { threads: 1 });
    let sampled: number[][];
    try {
      sampled = await onnxFree.generate(prompts, { ...options, stopTokenIds: [] });
      assert.deepEqual(await inProcessFree.generate(prompts, { ...options, stopTokenIds: [] }), sampled);
      assert.ok(sampled.every((r) => r.length === 24));
      const greedy = await onnxFree.generate(prompts, { maxNewTokens: 24, stopTokenIds: [] });
      assert.notDeepEqual(sampled, greedy, 'temperature 1 departs from greedy');
    } finally {
      await onnxFree.close();
      await inProcessFree.close();
    }
    // A model whose EOS is a token the sample above produced: with no stop ids given, both engines end there.
    const eos = sampled[0][5];
    const stopping = join(root, 'stopping');
    writeGptModelFolder(stopping, { cfg, weights }, { eosTokenId: eos });
    const onnx = await OnnxCausalLM.load(stopping, { threads: 1 });
    const inProcess = await GPTLanguageModel.create(cfg, weights, { threads: 1, eosTokenIds: [eos] });
    try {
      const expected = sampled.map((r) => (r.includes(eos) ? r.slice(0, r.indexOf(eos) + 1) : r));
      assert.deepEqual(await onnx.generate(prompts, options), expected);
      assert.deepEqual(await inProcess.generate(prompts, options), expected);
      assert.ok(expected[0].length <= 6);
    } finally {
      await onnx.close();
      await inProcess.close();
    }
  },
);
