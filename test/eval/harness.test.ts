// The evaluation harness end to end: a tiny model trained on "The <animal> says <sound>." finds
// every right answer (multiple choice and generation), an untrained one scores near chance.
// Also the task format, k-shot prompts, batching through any TokenLM, and `ipt eval`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import type { GenerateOptions, ScoreRequest, TokenLM } from '../../lib/engine/gpt.js';
import { loadTokenizer } from '../../lib/engine/tokenizer.js';
import { createRng } from '../../lib/repro/rng.js';
import { projectRoot } from '../../lib/repro/project.js';
import { documentsFromTexts } from '../../lib/train/data.js';
import { GPTLanguageModel } from '../../lib/train/lm.js';
import { initGPTWeights } from '../../lib/train/model.js';
import { trainRun } from '../../lib/train/run.js';
import { buildPrompt, evaluate, resultsTable } from '../../lib/eval/harness.js';
import { loadTasks, parseTask, type Task } from '../../lib/eval/tasks.js';

const animals = ['cat', 'dog', 'cow', 'duck', 'owl', 'pig'];
const sounds = ['meow', 'woof', 'moo', 'quack', 'hoot', 'oink'];
const root = mkdtempSync(join(tmpdir(), 'ipt-eval-'));

const soundsMC: Task = parseTask({
  name: 'animal-sounds',
  type: 'multiple_choice',
  examples: animals.map((a, i) => ({ context: `The ${a} says`, choices: sounds, gold: i })),
});
const soundsGen: Task = parseTask({
  name: 'animal-sounds-gen',
  type: 'generation',
  stop: ['.'],
  maxNewTokens: 6,
  examples: animals.map((a, i) => ({ question: `The ${a} says`, answer: sounds[i] })),
});

let modelDir = '';
test.before(async () => {
  const rng = createRng(1);
  const texts = Array.from({ length: 80 }, () =>
    Array.from({ length: 4 }, () => {
      const i = rng.int(6);
      return `The ${animals[i]} says ${sounds[i]}.`;
    }).join(' '),
  );
  const r = await trainRun({
    outDir: join(root, 'run'),
    config: {
      model: { vocabSize: 296, contextLength: 32, width: 32, heads: 4, layers: 2 },
      train: { steps: 250, batchSize: 8, warmupSteps: 10, lr: 3e-3, evalEvery: 0, checkpointEvery: 0, seed: 2 },
    },
    data: { name: 'animals', documents: documentsFromTexts(texts) },
    threads: 2,
    progress: 'silent',
  });
  modelDir = r.modelDir!;
});
test.after(() => rmSync(root, { recursive: true, force: true }));

test(
  'a model trained on the pattern scores 100% on multiple choice and exact match',
  { timeout: 120_000 },
  async () => {
    const lm = await GPTLanguageModel.fromFolder(modelDir, { threads: 2 });
    try {
      const res = await evaluate(lm, loadTokenizer(modelDir), [soundsMC, soundsGen], { samples: true, batchSize: 5 });
      const mc = res.results['animal-sounds'];
      assert.equal(mc.n, 6);
      assert.deepEqual(mc.metrics.acc, { value: 1, stderr: 0 });
      assert.equal(mc.metrics.acc_norm.value, 1);
      const gen = res.results['animal-sounds-gen'];
      assert.deepEqual(
        gen.samples!.map((s) => s.prediction),
        sounds,
      );
      assert.deepEqual(gen.metrics.exact_match, { value: 1, stderr: 0 });
      assert.equal(gen.metrics.f1.value, 1);
    } finally {
      await lm.close();
    }
  },
);

test('an untrained model scores near chance', { timeout: 60_000 }, async () => {
  const trained = await GPTLanguageModel.fromFolder(modelDir, { threads: 1 });
  const untrained = await GPTLanguageModel.create(trained.config, initGPTWeights(trained.config, 9), { threads: 1 });
  await trained.close();
  try {
    // 24 questions: every animal with 4 rotations of the choices, chance is 1/6
    const many = parseTask({
      name: 'animal-sounds-24',
      type: 'multiple_choice',
      examples: animals.flatMap((a, i) =>
        [0, 1, 2, 3].map((r) => ({
          context: `The ${a} says`,
          choices: [...sounds.slice(r), ...sounds.slice(0, r)],
          gold: (i - r + 6) % 6,
        })),
      ),
    });
    const res = await evaluate(untrained, loadTokenizer(modelDir), [many, soundsGen]);
    const acc = res.results['animal-sounds-24'].metrics.acc;
    assert.ok(acc.value <= 0.5, `untrained accuracy ${acc.value}`);
    assert.ok(acc.stderr! > 0);
    assert.equal(res.results['animal-sounds-gen'].metrics.exact_match.value, 0);
    // every item's scores, in example order, always there (intervals resample them): their mean is the metric
    const perItem = res.results['animal-sounds-24'].perItem;
    assert.equal(perItem.acc.length, 24);
    assert.ok(perItem.acc.every((v) => v === 0 || v === 1));
    assert.equal(perItem.acc.reduce((a, b) => a + b, 0) / 24, acc.value);
    assert.equal(res.results['animal-sounds-gen'].perItem.f1.length, res.results['animal-sounds-gen'].n);
  } finally {
    await untrained.close();
  }
});

/** Any TokenLM plugs in: this one forwards to a real model and records the batches it is given. */
class Recording implements TokenLM {
  batches: number[] = [];
  constructor(private inner: TokenLM) {}
  get vocabSize() {
    return this.inner.vocabSize;
  }
  get contextLength() {
    return this.inner.contextLength;
  }
  scoreContinuations(r: ScoreRequest[]) {
    this.batches.push(r.length);
    return this.inner.scoreContinuations(r);
  }
  generate(p: number[][], o: GenerateOptions) {
    this.batches.push(p.length);
    return this.inner.generate(p, o);
  }
}

test(
  'requests reach the model in batches; k-shot prompts are seeded and never show the answer being asked',
  { timeout: 60_000 },
  async () => {
    const lm = await GPTLanguageModel.fromFolder(modelDir, { threads: 1 });
    try {
      const rec = new Recording(lm);
      // demonstrations joined as in the training text: "The dog says woof. The cat says"
      const task = { ...soundsMC, fewshotDelimiter: '. ' };
      const res = await evaluate(rec, loadTokenizer(modelDir), [task], { batchSize: 8, shots: 2, seed: 3 });
      assert.deepEqual(rec.batches, [8, 8, 8, 8, 4], '36 continuations in batches of 8');
      assert.equal(
        res.results['animal-sounds'].metrics.acc.value,
        1,
        'demonstrations do not confuse the trained model',
      );
      const p = buildPrompt(task, 0, 2, 3);
      assert.equal(p, buildPrompt(task, 0, 2, 3));
      const parts = p.split('. ');
      assert.equal(parts.length, 3);
      assert.equal(parts[2], 'The cat says');
      assert.ok(parts.slice(0, 2).every((d) => /^The \w+ says \w+$/.test(d) && !d.startsWith('The cat')));
      assert.notEqual(buildPrompt(task, 0, 2, 4), p, 'another seed draws other demonstrations');
      assert.equal(buildPrompt(soundsMC, 0, 2, 3), p.split('. ').join('\n\n'), 'the default delimiter is a blank line');
      assert.throws(() => buildPrompt(soundsMC, 0, 6, 1), /6-shot needs 6 demonstrations but only 5/);
      const rows = resultsTable(res);
      assert.deepEqual(
        rows.map((r) => r.metric),
        ['acc', 'acc_norm'],
      );
    } finally {
      await lm.close();
    }
  },
);

test('ipt eval writes the results JSON', { timeout: 60_000 }, () => {
  const tasksPath = join(root, 'tasks.json');
  writeFileSync(tasksPath, JSON.stringify([soundsMC, soundsGen]));
  const out = join(root, 'results.json');
  const run = spawnSync(
    process.execPath,
    [
      join(projectRoot(), 'dist', 'lib', 'cli.js'),
      'eval',
      '--model',
      modelDir,
      '--tasks',
      tasksPath,
      '--out',
      out,
      '--threads',
      '1',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, IPT_PROGRESS: 'silent' },
    },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /animal-sounds\s+acc\s+1\.0000 ± 0\.0000 \(n=6, chance 0\.1667\)/);
  assert.match(run.stderr, /animal-sounds-gen\s+exact_match\s+1\.0000 ± 0\.0000 \(n=6, chance 0\.0000\)/);
  const res = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(res.results['animal-sounds-gen'].metrics.exact_match.value, 1);
  assert.equal(res.config.model, modelDir);
  // the same folder through ONNX Runtime (the export the trainer writes) scores the same
  const onnxOut = join(root, 'results-onnx.json');
  const onnx = spawnSync(
    process.execPath,
    [
      join(projectRoot(), 'dist', 'lib', 'cli.js'),
      'eval',
      '--model',
      modelDir,
      '--tasks',
      tasksPath,
      '--out',
      onnxOut,
      '--runtime',
      'onnx',
      '--threads',
      '1',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, IPT_PROGRESS: 'silent' },
    },
  );
  assert.equal(onnx.status, 0, onnx.stderr);
  const viaOnnx = JSON.parse(readFileSync(onnxOut, 'utf8'));
  for (const task of ['animal-sounds', 'animal-sounds-gen']) {
    for (const [metric, v] of Object.entries(res.results[task].metrics as Record<string, { value: number }>)) {
      assert.equal(viaOnnx.results[task].metrics[metric].value, v.value, `${task} ${metric}`);
    }
  }
});

test('bad task files get a clear error', () => {
  assert.throws(
    () => parseTask({ name: 'x', type: 'multiple_choice', examples: [{ context: 'a', choices: ['b', 'c'], gold: 2 }] }),
    /x\) example 0: "gold" must be the index/,
  );
  assert.throws(() => parseTask({ name: 'x', type: 'ranking', examples: [] }), /"type" must be/);
  assert.throws(() => parseTask({ name: 'x', type: 'generation', examples: [{ context: 'a' }] }), /needs "answers"/);
  // task files are read by the kit's one JSON reader: the file is named, and what to do is said
  const missing = join(root, 'no-such-tasks.json');
  assert.throws(() => loadTasks(missing), { message: `${missing}: no such file (the --tasks JSON file)` });
  const broken = join(root, 'broken-tasks.json');
  writeFileSync(broken, '[{"name": "x", ');
  assert.throws(
    () => loadTasks(broken),
    (err: Error) =>
      err.message.startsWith(`${broken}: not valid JSON (`) &&
      err.message.endsWith('); a task file holds one task object or a list of them'),
  );
  assert.throws(() => loadTasks(root), /is a folder; --tasks takes a JSON file/);
  const two = join(root, 'two-tasks.json');
  writeFileSync(two, JSON.stringify([soundsMC, { name: 'y', type: 'multiple_choice', examples: [] }]));
  assert.throws(() => loadTasks(two), /two-tasks\.json task 1 \(y\): needs a non-empty "examples" list/);
});

/**
 * A scripted TokenLM for acc_mutual_info: every continuation token costs 1 nat, and a continuation
 * that mentions "meow" gains 0.5 after a real prompt (a context longer than the prefix token). Short
 * choices then win on plain log-likelihood; what the prompt adds favours "meow".
 */
class Scripted implements TokenLM {
  readonly vocabSize = 296;
  readonly contextLength = 64;
  requests: ScoreRequest[] = [];
  constructor(private readonly meow: number[]) {}
  async scoreContinuations(rs: ScoreRequest[]) {
    this.requests.push(...rs);
    const mentions = (ids: number[]) => ids.some((_, i) => this.meow.every((t, k) => ids[i + k] === t));
    return rs.map((r) => ({
      logprob: -r.continuation.length + (r.context.length > 1 && mentions(r.continuation) ? 0.5 : 0),
      tokens: r.continuation.length,
      greedy: false,
    }));
  }
  async generate(): Promise<number[][]> {
    throw new Error('not used');
  }
}

test("acc_mutual_info: lm-eval's unconditional requests (prefix token, then the choice), and the choice the prompt makes likelier wins", async () => {
  const tok = loadTokenizer(modelDir);
  const task = parseTask({
    name: 'mi',
    type: 'multiple_choice',
    mutualInfo: true,
    examples: [
      { context: 'The cat says', choices: ['a', 'meow meow meow'], gold: 1 },
      { context: 'The dog says', choices: ['meow meow meow', 'a'], gold: 1 },
    ],
  });
  const lm = new Scripted(tok.encode(' meow').slice(0, 1));
  const res = await evaluate(lm, tok, [task], { samples: true, progress: 'silent' });
  const eos = tok.eosTokenId!;
  // the conditional requests first, then one unconditional request per choice: [EOS] + tokens of " choice"
  const unconditional = lm.requests.slice(4);
  assert.deepEqual(
    unconditional,
    ['a', 'meow meow meow', 'meow meow meow', 'a'].map((c) => ({ context: [eos], continuation: tok.encode(` ${c}`) })),
  );
  const r = res.results.mi;
  // plain accuracy picks the shorter "a" both times (right once); mutual information picks "meow" both times (right once too, on the cat)
  assert.deepEqual(
    r.samples!.map((s) => [s.scores.acc, s.scores.acc_mutual_info]),
    [
      [0, 1],
      [1, 0],
    ],
  );
  assert.equal(r.metrics.acc_mutual_info.value, 0.5);
  // each sample keeps both sets of log-likelihoods; their difference is what was compared
  const s0 = r.samples![0];
  assert.deepEqual(
    s0.unconditionalLogprobs,
    unconditional.slice(0, 2).map((q) => -q.continuation.length),
  );
  assert.ok(s0.logprobs![1] - s0.unconditionalLogprobs![1] > s0.logprobs![0] - s0.unconditionalLogprobs![0]);
  assert.throws(
    () =>
      parseTask({
        name: 'x',
        type: 'multiple_choice',
        mutualInfo: 'yes',
        examples: [{ context: 'a', choices: ['b', 'c'], gold: 0 }],
      }),
    /"mutualInfo" must be true or false/,
  );
});
