// Training options: nonsense values (NaN, a negative clip, betas outside [0, 1), ...) are refused with a
// message naming the option, by the trainer's one validation, which `ipt train` and `ipt ablate --dry-run`
// both go through; nothing is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { resolveTrainConfig } from '../../lib/train/trainer.js';
import { main } from '../../lib/cli.js';
import { capture } from '../cli-io.js';

const NONSENSE: Array<[Record<string, unknown>, RegExp]> = [
  [{ weightDecay: 'NaN' }, /training option weightDecay must be a finite number >= 0, got "NaN"$/],
  [{ weightDecay: -0.1 }, /weightDecay must be a finite number >= 0, got -0\.1/],
  [{ gradClip: -1 }, /training option gradClip must be a finite number >= 0 \(0 turns clipping off\), got -1$/],
  [{ beta1: 5 }, /training option beta1 must be a number in \[0, 1\), got 5$/],
  [{ beta2: 1 }, /beta2 must be a number in \[0, 1\), got 1/],
  [{ eps: -1 }, /training option eps must be a finite number > 0, got -1$/],
  [{ eps: 0 }, /eps must be a finite number > 0, got 0/],
  [{ lr: 'fast' }, /training option lr must be a finite number > 0, got "fast"$/],
  [{ lr: 1e999 }, /lr must be a finite number > 0, got Infinity/],
  [{ minLr: -1 }, /minLr must be a finite number >= 0/],
  [{ lr: 1e-3, minLr: 1e-2 }, /training option minLr \(0\.01\) must not exceed lr \(0\.001\)$/],
  [{ valFraction: 1.5 }, /training option valFraction must be a number in \[0, 1\), got 1\.5$/],
  [{ steps: '10' }, /training option steps must be a positive integer, got "10"$/],
  [{ seed: 1.5 }, /seed must be a non-negative integer, got 1\.5/],
];

test('nonsense training values are refused, each naming its option', () => {
  for (const [partial, message] of NONSENSE)
    assert.throws(() => resolveTrainConfig(partial as never), message, JSON.stringify(partial));
  assert.equal(
    resolveTrainConfig({ gradClip: 0, weightDecay: 0, beta1: 0, valFraction: 0 }).gradClip,
    0,
    'zero is allowed where it means off',
  );
});

test('ipt train and ipt ablate --dry-run refuse them before writing anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-train-config-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.jsonl'), JSON.stringify({ text: 'The cat says meow. '.repeat(20) }) + '\n');
    for (const [train, message] of [
      [{ weightDecay: 'NaN' }, 'training option weightDecay must be a finite number >= 0, got "NaN"'],
      [{ gradClip: -1 }, 'training option gradClip must be a finite number >= 0 (0 turns clipping off), got -1'],
      [{ beta1: 5 }, 'training option beta1 must be a number in [0, 1), got 5'],
      [{ eps: -1 }, 'training option eps must be a finite number > 0, got -1'],
    ] as const) {
      const config = join(dir, 'config.json');
      writeFileSync(
        config,
        JSON.stringify({ model: { contextLength: 16, width: 32, heads: 4, layers: 1 }, train: { steps: 2, ...train } }),
      );
      const out = join(dir, 'out');
      const io = capture();
      assert.equal(await main(['train', '--config', config, '--data', data, '--out', out], io), 1, io.err);
      assert.equal(io.err, `ipt train: ${config}: ${message}\n`);
      assert.ok(!existsSync(out), 'nothing written');

      writeFileSync(config, JSON.stringify({ pretrain: { train } }));
      const ab = capture();
      assert.equal(await main(['ablate', '--profile', 'ci', '--config', config, '--dry-run'], ab), 1);
      assert.equal(ab.err, `ipt ablate: ablation config: pretrain.train: ${message}\n`);
      assert.equal(ab.out, '');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('model size: the arithmetic parameter count agrees with the tensor specs; a model too large is refused by name', async () => {
  const { gptParameterCount, DEFAULT_GPT } = await import('../../lib/engine/gpt.js');
  const { gptParameterEstimate, resolveRunConfig } = await import('../../lib/train/run.js');
  for (const cfg of [
    DEFAULT_GPT,
    { ...DEFAULT_GPT, width: 48, heads: 3, layers: 5, mlpRatio: 3, vocabSize: 300, contextLength: 77 },
  ]) {
    assert.equal(gptParameterEstimate(cfg), gptParameterCount(cfg));
  }
  assert.throws(
    () => resolveRunConfig({ model: { width: 1e9 } }),
    /width 1000000000, 2 layers, vocabSize 512 and contextLength 128 make 2\.40e\+19 parameters; .*at most 4 GiB/,
  );
  assert.throws(() => resolveRunConfig({ model: { layers: 1e9 } }), /make 1\.98e\+14 parameters/);
  const dir = mkdtempSync(join(tmpdir(), 'ipt-train-size-'));
  try {
    const config = join(dir, 'big.json');
    writeFileSync(config, JSON.stringify({ model: { width: 1e9 } }));
    const io = capture();
    assert.equal(await main(['train', '--config', config, '--data', dir, '--out', join(dir, 'out')], io), 1);
    assert.match(
      io.err,
      /^ipt train: .*big\.json: width 1000000000, .* make width, layers, vocabSize or contextLength smaller\n$/,
    );
    assert.ok(!existsSync(join(dir, 'out')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
