// Gradient checks, from identical weights and batches with a loss mask:
// - the scalar reference (lib/train/reference.ts, float64) against finite differences of its own loss;
// - the reference against TensorFlow.js autodiff (CPU backend, float32), an independent implementation;
// - the fast engine (wasm kernels, float32) against the reference and against tfjs.
// Float32 results agree with the float64 reference and with each other to 1e-5 relative (max |diff|
// over a tensor divided by max |value| of the reference tensor); the finite differences to 1e-6 of each
// tensor's largest gradient (plus 1e-9 for rounding).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gptTensorSpecs, type GPTConfig, type GPTWeights } from '../../lib/engine/gpt.js';
import { GPTModel, initGPTWeights } from '../../lib/train/model.js';
import { referenceLogits, referenceLossAndGradients } from '../../lib/train/reference.js';
import { createRng } from '../../lib/repro/rng.js';
import { tfjsLossAndGrads, useCpuBackend, tfjsBackend } from './tfjs-gpt.js';

const REGULAR: GPTConfig = {
  vocabSize: 72,
  contextLength: 16,
  width: 32,
  heads: 4,
  layers: 2,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};
/** No size a multiple of 4 or 8, so every kernel's edge paths run. */
const ODD: GPTConfig = {
  vocabSize: 61,
  contextLength: 13,
  width: 30,
  heads: 3,
  layers: 1,
  mlpRatio: 3,
  layerNormEps: 1e-5,
};
const TOLERANCE = 1e-5;

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

/** Seeded GPT-2 init with biases and LayerNorm parameters made non-trivial, so their gradients are tested too. */
function testWeights(cfg: GPTConfig): GPTWeights {
  const weights = initGPTWeights(cfg, 1234);
  const rng = createRng(99);
  for (const s of gptTensorSpecs(cfg))
    if (s.shape.length === 1) weights[s.name] = weights[s.name].map((v) => v + 0.1 * rng.normal());
  return weights;
}

/** max |a - ref| / max |ref|, which must be below `tolerance`; returns it. */
function relativeDiff(name: string, a: ArrayLike<number>, ref: ArrayLike<number>, tolerance: number): number {
  assert.equal(a.length, ref.length, `${name}: sizes differ`);
  let maxDiff = 0,
    maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  assert.ok(maxRef > 0, `${name}: the reference is all zero, the check would be empty`);
  assert.ok(
    maxDiff / maxRef < tolerance,
    `${name}: max |diff| ${maxDiff} vs max |reference| ${maxRef} (relative ${maxDiff / maxRef})`,
  );
  return maxDiff / maxRef;
}

/** Loss within `tolerance` relative, and every gradient by relativeDiff; a one-line summary. */
function compare(
  label: string,
  cfg: GPTConfig,
  a: { loss: number; grads: Record<string, ArrayLike<number>> },
  ref: { loss: number; grads: Record<string, ArrayLike<number>> },
): string {
  const lossRel = Math.abs(a.loss - ref.loss) / Math.abs(ref.loss);
  assert.ok(lossRel < TOLERANCE, `${label}: loss ${a.loss} vs ${ref.loss}`);
  let worst = 0,
    worstName = '';
  for (const s of gptTensorSpecs(cfg)) {
    assert.ok(a.grads[s.name] && ref.grads[s.name], `${label}: no gradient for ${s.name}`);
    const rel = relativeDiff(`${label}: ${s.name}`, a.grads[s.name], ref.grads[s.name], TOLERANCE);
    if (rel > worst) [worst, worstName] = [rel, s.name];
  }
  return `${label}: loss relative ${lossRel.toExponential(1)}, worst gradient ${worstName} relative ${worst.toExponential(1)}`;
}

async function fastLossAndGrads(
  cfg: GPTConfig,
  weights: GPTWeights,
  batch: ReturnType<typeof randomBatch>,
  threads: number,
) {
  const model = await GPTModel.create(cfg, weights, { maxBatch: batch.B, threads, training: true });
  try {
    model.zeroGradients();
    const loss = model.forward(batch)!;
    model.backward();
    return { loss, grads: model.getGradients() };
  } finally {
    await model.close();
  }
}

async function threeWay(cfg: GPTConfig, B: number, T: number, threads: number): Promise<string[]> {
  await useCpuBackend();
  assert.equal(tfjsBackend(), 'cpu');
  const weights = testWeights(cfg);
  const batch = randomBatch(cfg, B, T, 7);
  const reference = referenceLossAndGradients(cfg, weights, batch);
  const tfjs = tfjsLossAndGrads(cfg, weights, batch);
  const fast = await fastLossAndGrads(cfg, weights, batch, threads);
  return [
    compare('reference vs tfjs', cfg, reference, tfjs),
    compare('fast vs reference', cfg, fast, reference),
    compare('fast vs tfjs', cfg, fast, tfjs),
  ];
}

test(
  'one step three ways (reference, tfjs, fast engine): loss and every gradient agree within 1e-5 relative',
  { timeout: 120_000 },
  async (t) => {
    for (const line of await threeWay(REGULAR, 3, 16, 2)) t.diagnostic(line);
  },
);

test(
  'odd sizes (no multiples of 4 or 8) and a sequence shorter than the context also agree three ways',
  { timeout: 120_000 },
  async (t) => {
    for (const line of await threeWay(ODD, 2, 11, 3)) t.diagnostic(line);
  },
);

test(
  "finite differences of the reference's loss match its gradients, for sampled entries of every tensor",
  { timeout: 120_000 },
  async (t) => {
    for (const [cfg, B, T] of [
      [REGULAR, 2, 16],
      [ODD, 2, 11],
    ] as const) {
      const weights: Record<string, Float64Array> = {};
      for (const [name, w] of Object.entries(testWeights(cfg))) weights[name] = Float64Array.from(w);
      const batch = randomBatch(cfg, B, T, 8);
      const { grads } = referenceLossAndGradients(cfg, weights, batch);
      const h = 1e-5;
      const rng = createRng(5);
      let worst = 0,
        checked = 0;
      for (const s of gptTensorSpecs(cfg)) {
        const w = weights[s.name],
          g = grads[s.name];
        const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(scale > 0, `${s.name}: an all-zero gradient would make the check empty`);
        // the largest entry and five seeded others (for wpe, rows t < T: later positions get no gradient)
        const limit = s.name === 'wpe.weight' ? T * cfg.width : w.length;
        const entries = [
          g.indexOf(g.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0)),
          ...Array.from({ length: 5 }, () => rng.int(limit)),
        ];
        for (const i of entries) {
          const saved = w[i];
          w[i] = saved + h;
          const up = referenceLossAndGradients(cfg, weights, batch).loss;
          w[i] = saved - h;
          const down = referenceLossAndGradients(cfg, weights, batch).loss;
          w[i] = saved;
          const numeric = (up - down) / (2 * h);
          // allowed: 1e-6 of the tensor's largest gradient, plus the rounding of the loss difference (~1e-16 * loss / h)
          const diff = Math.abs(numeric - g[i]);
          assert.ok(
            diff < 1e-6 * scale + 1e-9,
            `${s.name}[${i}]: analytic ${g[i]} vs finite difference ${numeric} (tensor's max |gradient| ${scale})`,
          );
          worst = Math.max(worst, diff / scale);
          checked++;
        }
      }
      t.diagnostic(
        `width ${cfg.width}: ${checked} entries, worst |analytic - numeric| / max |gradient| ${worst.toExponential(1)}`,
      );
    }
  },
);

test(
  'logits without targets (the path evaluation and generation use) agree with the reference within 1e-5',
  { timeout: 60_000 },
  async (t) => {
    for (const [cfg, B, T] of [
      [REGULAR, 3, 16],
      [ODD, 2, 7],
    ] as const) {
      const weights = testWeights(cfg);
      const { inputs } = randomBatch(cfg, B, T, 9);
      const model = await GPTModel.create(cfg, weights, { maxBatch: B, threads: 2 });
      try {
        model.forward({ B, T, inputs });
        const rel = relativeDiff(
          `logits (width ${cfg.width})`,
          model.logitsView(),
          referenceLogits(cfg, weights, { B, T, inputs }),
          TOLERANCE,
        );
        t.diagnostic(`width ${cfg.width}, ${B} x ${T}: logits relative ${rel.toExponential(1)}`);
      } finally {
        await model.close();
      }
    }
  },
);
