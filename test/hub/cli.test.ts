// `ipt download`, `ipt corpus sample` and `ipt corpus chunk` end to end (the hub on loopback).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../lib/cli.js';
import { FakeHub } from './fake-hub.js';
import { sha256 } from '../../lib/repro/hash.js';
import { capture } from '../cli-io.js';

let hub: FakeHub;
let tmp: string;
const saved = { endpoint: process.env.HF_ENDPOINT, offline: process.env.HF_HUB_OFFLINE };
before(async () => {
  hub = await FakeHub.start([
    {
      type: 'model',
      id: 'org/tiny',
      commits: [
        [
          { path: 'config.json', content: '{"n_layer": 2}\n' },
          { path: 'model.bin', content: Buffer.alloc(4096, 7), lfs: true },
        ],
      ],
    },
  ]);
  tmp = mkdtempSync(join(tmpdir(), 'ipt-cli-'));
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_HUB_OFFLINE;
});
after(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
  if (saved.endpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = saved.endpoint;
  if (saved.offline !== undefined) process.env.HF_HUB_OFFLINE = saved.offline;
});

test('ipt download fetches into the given cache and writes a manifest', async () => {
  const cache = join(tmp, 'cache');
  const runDir = join(tmp, 'run-download');
  const io = capture();
  assert.equal(
    await main(['download', 'org/tiny', '--include', '*.json', '--cache-dir', cache, '--run-dir', runDir], io),
    0,
    io.err,
  );
  const commit = hub.commit('model', 'org/tiny');
  assert.equal(io.out.split('\n')[0], `model org/tiny @ main = ${commit}`);
  assert.match(io.out, /^1 files, 15 B \(15 B downloaded now\)$/m);
  assert.ok(io.out.includes(join(cache, 'models--org--tiny', 'snapshots', commit)));
  const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.inputs[0], {
    name: 'org/tiny',
    source: 'hf:org/tiny',
    revision: 'main',
    commit,
    files: [{ path: 'config.json', sha256: sha256('{"n_layer": 2}\n'), bytes: 15 }],
  });
  const again = capture();
  assert.equal(
    await main(['download', 'org/tiny', '--include', '*.json', '--cache-dir', cache, '--offline', '--json'], again),
    0,
    again.err,
  );
  assert.equal(JSON.parse(again.out).commit, commit);
  const missing = capture();
  assert.equal(await main(['download', 'org/other', '--dataset', '--offline', '--cache-dir', cache], missing), 1);
  assert.match(
    missing.err,
    /^ipt download: dataset org\/other \(revision "main"\) is not in the Hugging Face cache .* Run `ipt download org\/other --dataset` with network access/,
  );
  const bad = capture();
  assert.equal(await main(['download', 'org/tiny', '--concurrency', '0'], bad), 2);
});

test('ipt corpus sample: brown by genre, a folder with a corrupt line skipped and reported', async () => {
  const io = capture();
  assert.equal(await main(['corpus', 'sample', 'brown', '--n', '3', '--genre', 'news', '--seed', '5'], io), 0, io.err);
  const docs = io.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; genre: string; text: string });
  assert.equal(docs.length, 3);
  assert.ok(docs.every((d) => d.genre === 'news' && /^ca\d\d$/.test(d.id) && d.text.length > 1000));
  assert.match(io.err, /sampled 3 of 44 documents from brown/);
  const dir = join(tmp, 'shards');
  const file = join(dir, 'x.jsonl');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, '{"text": "one"}\n{"text": oops}\n{"text": "three"}\n');
  const strict = capture();
  assert.equal(await main(['corpus', 'sample', dir, '--n', '5'], strict), 1);
  assert.match(strict.err, /x\.jsonl:2: not valid JSON/);
  const lenient = capture();
  const runDir = join(tmp, 'run-sample');
  assert.equal(
    await main(['corpus', 'sample', dir, '--n', '5', '--on-error', 'skip', '--run-dir', runDir], lenient),
    0,
    lenient.err,
  );
  assert.match(lenient.err, /sampled 2 of 2 documents .*skipped 1 corrupt/);
  assert.match(lenient.err, /x\.jsonl:2: not valid JSON/);
  assert.deepEqual(
    readFileSync(join(runDir, 'sample.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).text),
    ['one', 'three'],
  );
  const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.inputs[0].files[0].path, 'x.jsonl');
  assert.deepEqual(manifest.seeds, { sample: 0 });
  assert.equal(manifest.outputs[0].path, 'sample.jsonl');
});

test('ipt corpus chunk writes contexts within the budget and a manifest', async () => {
  const runDir = join(tmp, 'run-chunk');
  const io = capture();
  assert.equal(
    await main(
      ['corpus', 'chunk', 'brown', '--genre', 'humor', '--max-tokens', '300', '--dedup', '--run-dir', runDir],
      io,
    ),
    0,
    io.err,
  );
  const contexts = readFileSync(join(runDir, 'contexts.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; tokens: number; genre: string });
  assert.ok(contexts.length > 100);
  assert.ok(contexts.every((c) => c.tokens <= 300 && c.genre === 'humor'));
  assert.match(io.err, new RegExp(`^9 documents -> ${contexts.length} contexts`));
  const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.totals.contexts, contexts.length);
  assert.equal(manifest.inputs[0].files.length, 9);
});
