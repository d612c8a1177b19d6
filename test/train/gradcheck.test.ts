// Gradient check: one forward/backward of the engine against TensorFlow.js autodiff (CPU backend)
// from identical weights and batch, with a loss mask. Loss and every gradient agree to 1e-5
// relative (max |diff| over the tensor divided by max |reference|).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gptTensorSpecs, type GPTConfig } from '../../lib/engine/gpt.js';
import { GPTModel, initGPTWeights } from '../../lib/train/model.js';
import { createRng } from '../../lib/repro/rng.js';
import { tfjsLossAndGrads, useCpuBackend, tfjsBackend } from './tfjs-gpt.js';

function randomBatch(cfg: GPTConfig, B: number, T: number, seed: number) {
  const rng = createRng(seed);
  const inputs = new Int32Array(B * T).map(() => rng.int(cfg.vocabSize));
  const targets = new Int32Array(B * T).map(() => rng.int(cfg.vocabSize));
  // mask out about a third of the positions, as a response-only stage would
  const mask = Array.from({ length: B * T }, () => (rng.next() < 0.33 ? 0 : 1));
  const count = mask.reduce((a: number, b) => a + b, 0);
  const weights = new Float32Array(mask.map((m) => m / count));
  return { B, T, inputs, targets, weights };
}

async function check(cfg: GPTConfig, B: number, T: number, threads: number): Promise<string> {
  await useCpuBackend();
  assert.equal(tfjsBackend(), 'cpu');
  const weights = initGPTWeights(cfg, 1234);
  // make biases and LayerNorm parameters non-trivial so their gradients are tested too
  const rng = createRng(99);
  for (const s of gptTensorSpecs(cfg)) if (s.shape.length === 1) weights[s.name] = weights[s.name].map((v) => v + 0.1 * rng.normal());
  const batch = randomBatch(cfg, B, T, 7);
  const model = await GPTModel.create(cfg, weights, { maxBatch: B, threads, training: true });
  try {
    model.zeroGradients();
    const loss = model.forward(batch)!;
    model.backward();
    const grads = model.getGradients();
    const ref = tfjsLossAndGrads(cfg, weights, batch);
    const lossRel = Math.abs(loss - ref.loss) / Math.abs(ref.loss);
    assert.ok(lossRel < 1e-5, `loss ${loss} vs tfjs ${ref.loss}`);
    let worst = 0, worstName = '';
    for (const s of gptTensorSpecs(cfg)) {
      const a = grads[s.name], b = ref.grads[s.name];
      assert.ok(b, `tfjs has no gradient for ${s.name}`);
      let maxDiff = 0, maxRef = 0;
      for (let i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        maxRef = Math.max(maxRef, Math.abs(b[i]));
      }
      assert.ok(maxRef > 0, `${s.name}: the reference gradient is all zero, the check would be empty`);
      assert.ok(maxDiff / maxRef < 1e-5, `${s.name}: max |diff| ${maxDiff} vs max |grad| ${maxRef} (relative ${maxDiff / maxRef})`);
      if (maxDiff / maxRef > worst) [worst, worstName] = [maxDiff / maxRef, s.name];
    }
    return `loss ${loss} vs tfjs ${ref.loss} (relative ${lossRel.toExponential(1)}); worst gradient ${worstName} relative ${worst.toExponential(1)}`;
  } finally {
    await model.close();
  }
}

test('one step matches tfjs (cpu backend): loss and every gradient within 1e-5 relative', { timeout: 120_000 }, async (t) => {
  const cfg: GPTConfig = { vocabSize: 72, contextLength: 16, width: 32, heads: 4, layers: 2, mlpRatio: 4, layerNormEps: 1e-5 };
  t.diagnostic(await check(cfg, 3, 16, 2));
});

test('odd sizes (no multiples of 4 or 8) and a short sequence also match tfjs', { timeout: 120_000 }, async (t) => {
  const cfg: GPTConfig = { vocabSize: 61, contextLength: 13, width: 30, heads: 3, layers: 1, mlpRatio: 3, layerNormEps: 1e-5 };
  t.diagnostic(await check(cfg, 2, 11, 3));
});
