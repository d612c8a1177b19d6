// Determinism: the same seed and data give bit-identical losses and weights across runs and across
// thread counts; a checkpoint restored into a fresh trainer continues bit-identically.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Trainer, resolveTrainConfig } from '../../lib/train/trainer.js';
import { readSafetensors } from '../../lib/train/safetensors.js';
import { TINY, syntheticData, patternData, weightsHash, bits } from './helpers.js';

const train = syntheticData(TINY, 120, 5);
const val = syntheticData(TINY, 20, 6);
const config = resolveTrainConfig({
  steps: 8,
  batchSize: 8,
  microBatchSize: 4,
  warmupSteps: 2,
  lr: 3e-3,
  gradClip: 0.5,
  seed: 11,
});

async function run(threads: number, steps: number) {
  const t = await Trainer.create({ gpt: TINY, config, train, val, threads });
  try {
    const losses: string[] = [];
    for (let i = 0; i < steps; i++) losses.push(bits(t.trainStep().loss));
    return { losses, val: bits(t.validationLoss()!), weights: weightsHash(TINY, t.weights()) };
  } finally {
    await t.close();
  }
}

test(
  'same seed and data: bit-identical losses and weights across runs and thread counts 1, 2, 3',
  { timeout: 120_000 },
  async () => {
    const one = await run(1, 8);
    const again = await run(1, 8);
    const two = await run(2, 8);
    const three = await run(3, 8);
    assert.deepEqual(again, one);
    assert.deepEqual(two, one);
    assert.deepEqual(three, one);
    assert.notEqual(one.losses[0], one.losses[7], 'the loss moves');
  },
);

test('training lowers the loss, and a different seed gives different weights', { timeout: 120_000 }, async () => {
  const pattern = patternData(TINY, 100, 3);
  const t = await Trainer.create({
    gpt: TINY,
    config: { ...config, steps: 30 },
    train: pattern,
    val: patternData(TINY, 20, 4),
    threads: 2,
  });
  const other = await Trainer.create({ gpt: TINY, config: { ...config, seed: 12 }, train, val, threads: 2 });
  try {
    const before = t.validationLoss()!;
    for (let i = 0; i < 30; i++) t.trainStep();
    const after = t.validationLoss()!;
    assert.ok(after < before - 0.5, `validation loss ${before} -> ${after}`);
    other.trainStep();
    assert.notEqual(weightsHash(TINY, other.weights()), weightsHash(TINY, t.weights()));
  } finally {
    await t.close();
    await other.close();
  }
});

test('gradient accumulation: 4 micro-batches of 2 give the loss of one batch of 8', { timeout: 60_000 }, async () => {
  const whole = await Trainer.create({ gpt: TINY, config: { ...config, microBatchSize: 8 }, train, threads: 1 });
  const parts = await Trainer.create({ gpt: TINY, config: { ...config, microBatchSize: 2 }, train, threads: 1 });
  try {
    const a = whole.trainStep(),
      b = parts.trainStep();
    assert.ok(Math.abs(a.loss - b.loss) < 1e-6 * a.loss, `${a.loss} vs ${b.loss}`);
    assert.ok(Math.abs(a.gradNorm - b.gradNorm) < 1e-5 * a.gradNorm, `${a.gradNorm} vs ${b.gradNorm}`);
  } finally {
    await whole.close();
    await parts.close();
  }
});

test(
  'checkpoint and restore continue bit-identically (weights, AdamW moments, step, loader, RNG)',
  { timeout: 120_000 },
  async () => {
    const straight = await run(2, 8);
    const dir = mkdtempSync(join(tmpdir(), 'ipt-ckpt-'));
    try {
      const first = await Trainer.create({ gpt: TINY, config, train, val, threads: 2 });
      const losses: string[] = [];
      for (let i = 0; i < 3; i++) losses.push(bits(first.trainStep().loss));
      const path = join(dir, 'c.safetensors');
      first.saveCheckpoint(path);
      await first.close();
      const file = readSafetensors(path);
      assert.equal(file.metadata.step, '3');
      assert.ok(file.tensors['optimizer.m.h.0.attn.c_attn.weight'], 'AdamW moments are saved');
      assert.ok(JSON.parse(file.metadata.loader).rng.length === 4, 'the loader RNG state is saved');
      const second = await Trainer.create({ gpt: TINY, config, train, val, threads: 1 });
      second.restore(file);
      for (let i = 3; i < 8; i++) losses.push(bits(second.trainStep().loss));
      const resumed = { losses, val: bits(second.validationLoss()!), weights: weightsHash(TINY, second.weights()) };
      await second.close();
      assert.deepEqual(resumed, straight);
      const wrongData = await Trainer.create({ gpt: TINY, config, train: val, threads: 1 });
      assert.throws(() => wrongData.restore(file), /other data/);
      await wrongData.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
