// Reading pair sets: every line shape, run folders, a line cut off mid-write, and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  loadPairsInput,
  pairSetFromChains,
  readPairsFile,
  readPairsInput,
  readSynthesisRun,
  InputError,
} from '../../lib/tasks/input.js';
import { dataPath } from '../../lib/repro/project.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-input-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const entry = (context: string, n: number) => ({
  context,
  pairs: Array.from({ length: n }, (_, i) => ({ question: `${context} q${i}?`, answer: `a${i}` })),
  inheritFromPrev: false,
});

test('all line shapes in one file: pairs, Chain, {chain}, {context, pairs}', () => {
  withDir((dir) => {
    const f = join(dir, 'mixed.jsonl');
    const lines = [
      { question: 'Q1?', answer: 'A1', text_id: 7 },
      { question: 'Q2?', answer: 'A2', text_id: 7 },
      [entry('t1', 2), entry('t2', 0)],
      { chain: [entry('t3', 1)] },
      { id: 'ca01#3', context: 't4', output: '...', pairs: [{ kind: 'topic', question: 'T?', answer: 'x' }] },
    ];
    writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const set = readPairsFile(f);
    assert.equal(set.name, 'mixed');
    assert.deepEqual(
      set.pairs.map((p) => p.question),
      ['Q1?', 'Q2?', 't1 q0?', 't1 q1?', 't3 q0?', 'T?'],
    );
    assert.deepEqual(set.pairsPerText, [2, 2, 0, 1, 1]);
    assert.deepEqual(set.warnings, []);
  });
});

test('pairs without text information leave pairs-per-text unknown', () => {
  withDir((dir) => {
    const f = join(dir, 'p.jsonl');
    writeFileSync(f, '{"question":"a?","answer":"b"}\n\n{"question":"c?","answer":"d"}\n');
    const set = readPairsFile(f);
    assert.equal(set.pairs.length, 2);
    assert.equal(set.pairsPerText, null);
  });
});

test('a last line cut off mid-write is skipped with a warning; a bad line elsewhere is an error with its line number', () => {
  withDir((dir) => {
    const f = join(dir, 'chains.jsonl');
    writeFileSync(f, JSON.stringify([entry('t1', 2)]) + '\n' + JSON.stringify([entry('t2', 3)]).slice(0, 25));
    const set = readPairsFile(f);
    assert.equal(set.pairs.length, 2);
    assert.equal(set.warnings.length, 1);
    assert.match(set.warnings[0], /chains\.jsonl:2: skipped a last line cut off mid-write/);
    writeFileSync(f, '{"question":"a?"\n' + JSON.stringify([entry('t1', 1)]) + '\n');
    assert.throws(() => readPairsFile(f), /chains\.jsonl:1: not valid JSON .*each line must be/);
    writeFileSync(f, '{"text":"raw"}\n');
    assert.throws(() => readPairsFile(f), /chains\.jsonl:1: unrecognised record; each line must be/);
    writeFileSync(f, JSON.stringify([{ context: 'x', pairs: [{ question: 1 }] }]) + '\n');
    assert.throws(() => readPairsFile(f), /chains\.jsonl:1: chain entry 0 is not/);
  });
});

test('a run folder: chains*.jsonl files when present, in name order; other JSONL files ignored', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'chains-001.jsonl'), JSON.stringify([entry('b', 1)]) + '\n');
    writeFileSync(join(dir, 'chains-000.jsonl'), JSON.stringify({ chain: [entry('a', 2)] }) + '\n');
    writeFileSync(join(dir, 'rendered.jsonl'), '{"text":"not pairs"}\n');
    const set = readSynthesisRun(dir);
    assert.deepEqual(
      set.pairs.map((p) => p.question),
      ['a q0?', 'a q1?', 'b q0?'],
    );
    assert.deepEqual(set.pairsPerText, [2, 1]);
    mkdirSync(join(dir, 'empty'));
    assert.throws(() => readSynthesisRun(join(dir, 'empty')), /has no \.jsonl files/);
  });
});

test('readPairsInput: files, folders, hf: and missing paths', () => {
  const run = readPairsInput(dataPath('examples', 'synthesis-run'));
  assert.equal(run.name, 'synthesis-run');
  assert.equal(run.pairs.length, 39);
  assert.equal(run.pairsPerText?.length, 9);
  assert.ok(run.pairsPerText?.includes(0));
  assert.throws(
    () => readPairsInput('hf:org/data'),
    (e: Error) => e instanceof InputError && /use loadPairsInput/.test(e.message),
  );
  assert.throws(() => readPairsInput('/no/such/path.jsonl'), /no such file or folder/);
});

test('chains in memory', () => {
  const set = pairSetFromChains('mem', [[entry('x', 1), entry('y', 2)], [entry('z', 0)]]);
  assert.deepEqual(set.pairsPerText, [1, 2, 0]);
  assert.equal(set.pairs.length, 3);
});

test('loadPairsInput reads hf:<dataset> through the hub cache (loopback hub server)', async () => {
  const { FakeHub } = await import('../hub/fake-hub.js');
  const chains = readFileSync(dataPath('examples', 'synthesis-run', 'chains.jsonl'), 'utf8');
  const hub = await FakeHub.start([
    {
      type: 'dataset',
      id: 'org/pairs',
      commits: [
        [
          { path: 'README.md', content: '# pairs\n' },
          { path: 'data/train.jsonl', content: chains, lfs: true },
          { path: 'extra.jsonl', content: '{"question": "Q?", "answer": "A"}\n' },
        ],
      ],
    },
  ]);
  try {
    const cacheDir = mkdtempSync(join(tmpdir(), 'ipt-hf-pairs-'));
    const hubConfig = { endpoint: hub.url, cacheDir, token: undefined, offline: false };
    const { set, inputs } = await loadPairsInput('hf:org/pairs', {
      include: ['**/*.jsonl'],
      hub: hubConfig,
      progress: 'silent',
    });
    assert.equal(set.pairs.length, 39 + 1);
    assert.equal(set.source, 'hf:org/pairs');
    assert.equal(inputs[0].commit, hub.commit('dataset', 'org/pairs'));
    assert.deepEqual(inputs[0].files?.map((f) => f.path).sort(), ['data/train.jsonl', 'extra.jsonl']);
    // offline, the cached snapshot still answers
    const again = await loadPairsInput('hf:org/pairs', {
      include: ['**/*.jsonl'],
      hub: { ...hubConfig, offline: true },
      progress: 'silent',
    });
    assert.equal(again.set.pairs.length, 40);
    await assert.rejects(
      loadPairsInput('hf:org/pairs', { include: ['*.parquet'], hub: hubConfig, progress: 'silent' }),
      /no file of dataset org\/pairs matches include \[\*\.parquet\]/,
    );
  } finally {
    await hub.close();
  }
});
