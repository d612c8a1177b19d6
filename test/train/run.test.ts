// Training-run folders through `ipt train`: a run killed midway (SIGKILL) and started again with
// the same command finishes with exactly the weights and loss curve of an uninterrupted run, even
// on another thread count; a finished run is not redone; another config in the same folder is
// refused; bad input (data, starting model) fails before anything is written; a damaged checkpoint is
// skipped with a warning. Also the response-only mask from {"prompt", "response"} rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { projectRoot } from '../../lib/repro/project.js';
import { readMetrics, trainRun } from '../../lib/train/run.js';

const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');
const root = mkdtempSync(join(tmpdir(), 'ipt-run-'));
const dataDir = join(root, 'data');
const configPath = join(root, 'config.json');

function setup(): void {
  const animals = ['cat', 'dog', 'cow', 'duck', 'owl', 'pig'];
  const sounds = ['meow', 'woof', 'moo', 'quack', 'hoot', 'oink'];
  const lines = [];
  for (let i = 0; i < 60; i++)
    lines.push(
      JSON.stringify({
        text: `The ${animals[i % 6]} says ${sounds[i % 6]}. The ${animals[(i + 1) % 6]} says ${sounds[(i + 1) % 6]}.`,
      }),
    );
  lines.push(JSON.stringify({ prompt: 'What does the cat say?', response: ' meow' }));
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'animals.jsonl'), lines.join('\n') + '\n');
  writeFileSync(
    configPath,
    JSON.stringify({
      model: { vocabSize: 296, contextLength: 16, width: 32, heads: 4, layers: 2 },
      train: {
        steps: 300,
        batchSize: 8,
        microBatchSize: 4,
        warmupSteps: 5,
        lr: 3e-3,
        checkpointEvery: 10,
        evalEvery: 25,
        evalRows: 8,
        seed: 3,
      },
    }),
  );
}
setup();

function ipt(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, IPT_PROGRESS: 'silent' },
  });
}

const curve = (dir: string) =>
  readMetrics(dir).train.map(({ step, loss, lr, gradNorm, tokens }) => ({ step, loss, lr, gradNorm, tokens }));

test(
  'a run killed midway resumes with the same command and ends bit-identical to an uninterrupted run',
  { timeout: 180_000 },
  async () => {
    const straight = join(root, 'straight');
    const r = await trainRun({
      outDir: straight,
      config: JSON.parse(readFileSync(configPath, 'utf8')),
      data: { dir: dataDir },
      threads: 2,
      progress: 'silent',
    });
    assert.equal(r.finished, true);

    const killed = join(root, 'killed');
    const args = ['train', '--config', configPath, '--data', dataDir, '--out', killed];
    const child = spawn(process.execPath, [cli, ...args, '--threads', '1'], {
      env: { ...process.env, IPT_PROGRESS: 'silent' },
      stdio: 'ignore',
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const ckpts = existsSync(join(killed, 'checkpoints'))
          ? readdirSync(join(killed, 'checkpoints')).filter((f) => f.endsWith('.safetensors'))
          : [];
        if (ckpts.length > 0) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 2);
      child.once('exit', () => {
        clearInterval(timer);
        reject(new Error('the run finished before it could be killed'));
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(!existsSync(join(killed, 'model', 'model.safetensors')), 'the killed run had not finished');

    const again = ipt([...args, '--threads', '2']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /finished at step 300\/300 \(resumed from step \d+\)/);
    assert.deepEqual(
      readFileSync(join(killed, 'model', 'model.safetensors')),
      readFileSync(join(straight, 'model', 'model.safetensors')),
    );
    assert.deepEqual(curve(killed), curve(straight), 'the loss curve has each step once, with the same values');
    assert.deepEqual(readMetrics(killed).val, readMetrics(straight).val);
    const manifest = JSON.parse(readFileSync(join(killed, 'manifest.json'), 'utf8'));
    assert.equal(manifest.totals.steps, 300);
    assert.ok(manifest.outputs.some((o: { path: string }) => o.path === 'model/model.safetensors'));

    const done = ipt(args);
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /finished at step 300\/300 \(resumed from step 300\)/);
    assert.deepEqual(curve(killed), curve(straight), 'a finished run is not redone');

    const other = JSON.parse(readFileSync(configPath, 'utf8'));
    other.train.lr = 1e-3;
    writeFileSync(join(root, 'other.json'), JSON.stringify(other));
    const refused = ipt(['train', '--config', join(root, 'other.json'), '--data', dataDir, '--out', killed]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /already holds a run with a different config/);
  },
);

test('the trained model learned the data, and the tokenizer was fitted to the vocabulary', () => {
  const straight = join(root, 'straight');
  const { train, val } = readMetrics(straight);
  assert.ok(train.at(-1)!.loss < train[0].loss / 3, `loss ${train[0].loss} -> ${train.at(-1)!.loss}`);
  assert.ok(val.length >= 2);
  const tok = JSON.parse(readFileSync(join(straight, 'tokenizer', 'tokenizer.json'), 'utf8'));
  assert.equal(tok.model.merges.length, 296 - 264, 'BPE merges fill the vocabulary');
  const data = JSON.parse(readFileSync(join(straight, 'data.json'), 'utf8'));
  assert.equal(data.documents.train + data.documents.val, 61);
});

test(
  'a run can start from another model: its weights and tokenizer carry over; another shape is refused',
  { timeout: 60_000 },
  async () => {
    const straight = join(root, 'straight');
    const tuned = join(root, 'tuned');
    const base = JSON.parse(readFileSync(configPath, 'utf8'));
    const cont = await trainRun({
      outDir: tuned,
      config: {
        model: base.model,
        train: { steps: 5, batchSize: 8, warmupSteps: 0, lr: 1e-4, evalEvery: 0, checkpointEvery: 0, seed: 9 },
      },
      data: {
        name: 'cats',
        documents: Array.from({ length: 10 }, () => ({
          segments: [
            { text: 'The cat says', train: false },
            { text: ' meow. The dog says woof.', train: true },
          ],
        })),
        validation: [],
      },
      initFrom: join(straight, 'model'),
      threads: 1,
      progress: 'silent',
    });
    assert.equal(cont.finished, true);
    // the first step of the continued run starts from the trained weights: on text the model learned,
    // its loss is far below that of the same run from a seeded init
    const first = readMetrics(tuned).train[0].loss;
    const fresh = await trainRun({
      outDir: join(root, 'fresh'),
      config: {
        model: base.model,
        train: { steps: 1, batchSize: 8, warmupSteps: 0, lr: 1e-4, evalEvery: 0, checkpointEvery: 0, seed: 9 },
      },
      data: {
        name: 'cats',
        documents: Array.from({ length: 10 }, () => ({
          segments: [
            { text: 'The cat says', train: false },
            { text: ' meow. The dog says woof.', train: true },
          ],
        })),
        validation: [],
      },
      tokenizer: {
        tokenizerJson: JSON.parse(readFileSync(join(straight, 'tokenizer', 'tokenizer.json'), 'utf8')),
        tokenizerConfig: JSON.parse(readFileSync(join(straight, 'tokenizer', 'tokenizer_config.json'), 'utf8')),
      },
      threads: 1,
      progress: 'silent',
    });
    assert.equal(fresh.finished, true);
    const freshFirst = readMetrics(join(root, 'fresh')).train[0].loss;
    assert.ok(first < freshFirst / 3, `first loss from the trained model ${first}, from a seeded init ${freshFirst}`);
    assert.deepEqual(
      readFileSync(join(tuned, 'tokenizer', 'tokenizer.json')),
      readFileSync(join(straight, 'tokenizer', 'tokenizer.json')),
    );
    assert.equal(JSON.parse(readFileSync(join(tuned, 'init.json'), 'utf8')).modelDir, join(straight, 'model'));
    const manifest = JSON.parse(readFileSync(join(tuned, 'manifest.json'), 'utf8'));
    assert.ok(manifest.inputs.some((i: { name: string }) => i.name === 'initFrom'));
    await assert.rejects(
      trainRun({
        outDir: join(root, 'wrong-shape'),
        config: { model: { ...base.model, width: 64 } },
        data: { name: 'x', documents: [{ segments: [{ text: 'x', train: true }] }] },
        initFrom: join(straight, 'model'),
        progress: 'silent',
      }),
      /this run's model config is/,
    );
    // the CLI takes the model's shape from the folder
    const cli = ipt([
      'train',
      '--data',
      dataDir,
      '--out',
      join(root, 'cli-cont'),
      '--init-from',
      join(straight, 'model'),
      '--steps',
      '3',
      '--threads',
      '1',
    ]);
    assert.equal(cli.status, 0, cli.stderr);
  },
);

test(
  'bad input fails before the run folder is written, so the corrected command (another config) starts cleanly',
  { timeout: 60_000 },
  () => {
    const out = join(root, 'bad-input');
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const truncated = join(root, 'truncated-model');
    mkdirSync(truncated);
    writeFileSync(join(truncated, 'config.json'), readFileSync(join(root, 'straight', 'model', 'config.json')));
    writeFileSync(
      join(truncated, 'model.safetensors'),
      readFileSync(join(root, 'straight', 'model', 'model.safetensors')).subarray(0, 1000),
    );
    const dataFile = join(dataDir, 'animals.jsonl');
    const cases: Array<[string[], RegExp]> = [
      [['--data', empty], new RegExp(`^ipt train: no documents in ${empty}: put \\*\\.jsonl files there\n$`)],
      [
        ['--data', join(root, 'nope')],
        new RegExp(`^ipt train: data folder ${join(root, 'nope')} does not exist\\.\nData folder layout:`),
      ],
      [
        ['--data', dataFile],
        new RegExp(
          `^ipt train: ${dataFile} is a file, not a folder: the data must be a folder of \\*\\.jsonl files \\(put animals\\.jsonl in a folder of its own and pass that\\)\\.\nData folder layout:`,
        ),
      ],
      [
        ['--data', dataDir, '--init-from', truncated],
        new RegExp(
          `^ipt train: ${truncated}/model\\.safetensors is not a valid safetensors file: header length \\d+ does not fit in 1000 bytes`,
        ),
      ],
    ];
    for (const [args, message] of cases) {
      const r = ipt(['train', ...args, '--out', out, '--config', configPath, '--steps', '2']);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, message);
      assert.ok(!existsSync(out), `nothing left behind after ${args.join(' ')}`);
    }
    // too little data for one row is found before anything is written too
    const tiny = join(root, 'one-word');
    mkdirSync(tiny);
    writeFileSync(join(tiny, 'a.jsonl'), JSON.stringify({ text: 'hi' }) + '\n');
    const short = ipt(['train', '--data', tiny, '--out', out, '--config', configPath, '--steps', '2']);
    assert.equal(short.status, 1);
    assert.match(
      short.stderr,
      /^ipt train: the training data has fewer than contextLength \+ 1 = 17 tokens: add data or shorten the context\n$/,
    );
    assert.ok(!existsSync(out));

    const other = JSON.parse(readFileSync(configPath, 'utf8'));
    other.train.steps = 2;
    other.train.seed = 4;
    writeFileSync(join(root, 'corrected.json'), JSON.stringify(other));
    const fixed = ipt([
      'train',
      '--data',
      dataDir,
      '--out',
      out,
      '--config',
      join(root, 'corrected.json'),
      '--threads',
      '1',
    ]);
    assert.equal(fixed.status, 0, fixed.stderr);
    assert.match(fixed.stdout, /^finished at step 2\/2: /);
  },
);

test(
  'a damaged checkpoint is skipped with a warning naming it; the run resumes from the one before, or from step 0, bit-identically',
  { timeout: 120_000 },
  () => {
    const out = join(root, 'damaged');
    const args = ['train', '--config', configPath, '--data', dataDir, '--out', out, '--steps', '20', '--threads', '1'];
    const first = ipt(args);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stderr, '');
    const weights = readFileSync(join(out, 'model', 'model.safetensors'));
    const ckpt = (step: number) => join(out, 'checkpoints', `step-${String(step).padStart(8, '0')}.safetensors`);
    assert.deepEqual(readdirSync(join(out, 'checkpoints')).sort(), [
      'step-00000010.safetensors',
      'step-00000020.safetensors',
    ]);
    const truncate = (path: string) => writeFileSync(path, readFileSync(path).subarray(0, 500));

    truncate(ckpt(20));
    rmSync(join(out, 'model'), { recursive: true });
    const previous = ipt(args);
    assert.equal(previous.status, 0, previous.stderr);
    assert.equal(
      previous.stderr,
      `warning: checkpoint ${ckpt(20)} is unreadable (truncated or corrupt): resuming from the previous good checkpoint, step 10\n`,
    );
    assert.match(previous.stdout, /^finished at step 20\/20 \(resumed from step 10\)/);
    assert.deepEqual(readFileSync(join(out, 'model', 'model.safetensors')), weights);

    truncate(ckpt(10));
    truncate(ckpt(20));
    rmSync(join(out, 'model'), { recursive: true });
    const restart = ipt(args);
    assert.equal(restart.status, 0, restart.stderr);
    const lost = 'no readable checkpoint is left, training starts again from step 0';
    assert.equal(
      restart.stderr,
      `warning: checkpoint ${ckpt(20)} is unreadable (truncated or corrupt): ${lost}\nwarning: checkpoint ${ckpt(10)} is unreadable (truncated or corrupt): ${lost}\n`,
    );
    assert.match(restart.stdout, /^finished at step 20\/20: /);
    assert.deepEqual(readFileSync(join(out, 'model', 'model.safetensors')), weights);
    assert.equal(readMetrics(out).train.length, 20, 'each step once in the loss curve');
  },
);

test(
  'a checkpoint with one flipped bit in its tensor data is named and skipped, not resumed silently',
  { timeout: 120_000 },
  () => {
    const out = join(root, 'bit-flip');
    const args = ['train', '--config', configPath, '--data', dataDir, '--out', out, '--steps', '20', '--threads', '1'];
    const first = ipt(args);
    assert.equal(first.status, 0, first.stderr);
    const weights = readFileSync(join(out, 'model', 'model.safetensors'));
    const ckpt = (step: number) => join(out, 'checkpoints', `step-${String(step).padStart(8, '0')}.safetensors`);
    const bytes = readFileSync(ckpt(20));
    const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
    bytes[headerEnd + 1000] ^= 0x40; // an exponent bit of a weight: the size and the header stay valid
    writeFileSync(ckpt(20), bytes);
    rmSync(join(out, 'model'), { recursive: true });
    const again = ipt(args);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(
      again.stderr,
      `warning: checkpoint ${ckpt(20)} is unreadable (truncated or corrupt): resuming from the previous good checkpoint, step 10\n`,
    );
    assert.match(again.stdout, /^finished at step 20\/20 \(resumed from step 10\)/);
    assert.deepEqual(readFileSync(join(out, 'model', 'model.safetensors')), weights);
  },
);

test.after(() => rmSync(root, { recursive: true, force: true }));
