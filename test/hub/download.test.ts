// Hub downloads against a real HTTP server on loopback (fake-hub.ts): the Python cache layout,
// cache reuse, offline resolution, globs, pinned revisions, and each fault the kit must survive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FakeHub, type FixtureRepo } from './fake-hub.js';
import {
  downloadRepo,
  HubError,
  manifestInputOf,
  resolveSnapshot,
  type DownloadOptions,
} from '../../lib/hub/download.js';
import { createRng } from '../../lib/repro/rng.js';
import { sha256 } from '../../lib/repro/hash.js';
import { writeManifest } from '../../lib/repro/manifest.js';

function bytes(n: number, seed: number): Buffer {
  const rng = createRng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.uint32() & 0xff;
  return b;
}

const WEIGHTS = bytes(300_000, 1);
const EXTRA = bytes(5_000, 2);
const FP16 = bytes(150_000, 3);
const GOOD_TOKEN = 'hf_gatedAccessToken0123456789';

const repos: FixtureRepo[] = [
  {
    type: 'model',
    id: 'org/tiny',
    commits: [
      [
        { path: 'config.json', content: '{"v": 1}\n' },
        { path: 'README.md', content: '# tiny v1\n' },
      ],
      [
        { path: '.gitattributes', content: '*.safetensors filter=lfs diff=lfs merge=lfs -text\n' },
        { path: 'README.md', content: '# tiny\n' },
        { path: 'config.json', content: '{"v": 2}\n' },
        { path: 'tokenizer.json', content: '{"model": {}}\n' },
        { path: 'model.safetensors', content: WEIGHTS, lfs: true },
        { path: 'fp16/model.safetensors', content: FP16, lfs: true },
        { path: 'sub/extra.bin', content: EXTRA, lfs: true },
        { path: 'sub/deeper/notes.txt', content: 'nested\n' },
      ],
    ],
    refs: { v1: 0 },
  },
  {
    type: 'dataset',
    id: 'org/corpus',
    commits: [
      [
        { path: 'README.md', content: '# corpus\n' },
        { path: 'data/train-00000.jsonl', content: '{"text": "a"}\n{"text": "b"}\n' },
        { path: 'data/copy-a.bin', content: EXTRA, lfs: true },
        { path: 'data/copy-b.bin', content: EXTRA, lfs: true },
      ],
    ],
  },
  {
    type: 'model',
    id: 'org/gated',
    gatedToken: GOOD_TOKEN,
    commits: [
      [
        { path: 'config.json', content: '{"gated": true}\n' },
        { path: 'w.bin', content: EXTRA, lfs: true },
      ],
    ],
  },
  {
    type: 'model',
    id: 'org/many',
    commits: [
      Array.from({ length: 120 }, (_, i) => ({
        path: `shards/part-${String(i).padStart(3, '0')}.txt`,
        content: `text ${i}\n`,
      })),
    ],
  },
];

let hub: FakeHub;
const tmps: string[] = [];

before(async () => {
  hub = await FakeHub.start(repos);
});
after(async () => {
  await hub.close();
  for (const t of tmps) rmSync(t, { recursive: true, force: true });
});

function freshCache(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-hf-cache-'));
  tmps.push(dir);
  return dir;
}

function opts(cacheDir: string, extra: Partial<DownloadOptions> & { repo: string }): DownloadOptions {
  const { config, ...rest } = extra;
  return {
    progress: 'silent',
    retryDelayMs: 5,
    ...rest,
    config: { endpoint: hub.url, cacheDir, token: undefined, offline: false, ...config },
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, ...fragments: string[]): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HubError, `expected a HubError, got ${err}`);
    assert.equal(err.code, code, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should mention "${f}"`);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

/** The cache as lines: "path" for files (with content for refs), "path -> target" for symlinks. */
function layout(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(full);
      if (r === '.locks') continue;
      if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(full)}`);
      else if (st.isDirectory()) walk(full, r);
      else if (r.includes('/refs/')) out.push(`${r} = ${readFileSync(full, 'utf8')}`);
      else out.push(r);
    }
  };
  walk(root, '');
  return out;
}

test('the cache layout is the one huggingface_hub documents', async () => {
  const cache = freshCache();
  const result = await downloadRepo(opts(cache, { repo: 'org/tiny', exclude: ['fp16/'] }));
  const c = hub.commit('model', 'org/tiny');
  const oid = (p: string) => hub.file('model', 'org/tiny', p).gitOid;
  const lfs = (p: string) => hub.file('model', 'org/tiny', p).sha256;
  // From the huggingface_hub cache guide: <cache>/models--org--name/{blobs,refs,snapshots}; refs/main holds
  // the commit; snapshots/<commit>/<path> are relative symlinks into blobs/, named by the git blob sha1
  // of regular files and the sha256 of LFS files.
  const expected = [
    `models--org--tiny/blobs/${oid('.gitattributes')}`,
    `models--org--tiny/blobs/${oid('README.md')}`,
    `models--org--tiny/blobs/${oid('config.json')}`,
    `models--org--tiny/blobs/${oid('sub/deeper/notes.txt')}`,
    `models--org--tiny/blobs/${oid('tokenizer.json')}`,
    `models--org--tiny/blobs/${lfs('model.safetensors')}`,
    `models--org--tiny/blobs/${lfs('sub/extra.bin')}`,
    `models--org--tiny/refs/main = ${c}`,
    `models--org--tiny/snapshots/${c}/.gitattributes -> ../../blobs/${oid('.gitattributes')}`,
    `models--org--tiny/snapshots/${c}/README.md -> ../../blobs/${oid('README.md')}`,
    `models--org--tiny/snapshots/${c}/config.json -> ../../blobs/${oid('config.json')}`,
    `models--org--tiny/snapshots/${c}/model.safetensors -> ../../blobs/${lfs('model.safetensors')}`,
    `models--org--tiny/snapshots/${c}/sub/deeper/notes.txt -> ../../../../blobs/${oid('sub/deeper/notes.txt')}`,
    `models--org--tiny/snapshots/${c}/sub/extra.bin -> ../../../blobs/${lfs('sub/extra.bin')}`,
    `models--org--tiny/snapshots/${c}/tokenizer.json -> ../../blobs/${oid('tokenizer.json')}`,
  ];
  assert.deepEqual(layout(cache).sort(), expected.sort());
  assert.equal(result.snapshotDir, join(cache, 'models--org--tiny', 'snapshots', c));
  assert.equal(result.commit, c);
  for (const f of result.files) {
    assert.deepEqual(readFileSync(f.localPath), hub.file('model', 'org/tiny', f.path).content);
    assert.equal(f.sha256, sha256(hub.file('model', 'org/tiny', f.path).content));
  }

  const ds = await downloadRepo(opts(cache, { repo: 'org/corpus', type: 'dataset', include: ['data/*.jsonl'] }));
  const dc = hub.commit('dataset', 'org/corpus');
  assert.deepEqual(
    layout(cache).filter((l) => l.startsWith('datasets--')),
    [
      `datasets--org--corpus/blobs/${hub.file('dataset', 'org/corpus', 'data/train-00000.jsonl').gitOid}`,
      `datasets--org--corpus/refs/main = ${dc}`,
      `datasets--org--corpus/snapshots/${dc}/data/train-00000.jsonl -> ../../../blobs/${hub.file('dataset', 'org/corpus', 'data/train-00000.jsonl').gitOid}`,
    ],
  );
  assert.equal(ds.type, 'dataset');
});

test('a second download reuses the cache and transfers nothing', async () => {
  const cache = freshCache();
  const first = await downloadRepo(opts(cache, { repo: 'org/tiny' }));
  assert.ok(first.bytesDownloaded >= WEIGHTS.length + FP16.length + EXTRA.length);
  assert.ok(first.files.every((f) => !f.fromCache));
  const before = { resolve: hub.count('hub', /\/resolve\//), cdn: hub.count('cdn', /./) };
  const second = await downloadRepo(opts(cache, { repo: 'org/tiny' }));
  assert.equal(second.bytesDownloaded, 0);
  assert.ok(second.files.every((f) => f.fromCache));
  assert.deepEqual({ resolve: hub.count('hub', /\/resolve\//), cdn: hub.count('cdn', /./) }, before);
  assert.deepEqual(
    second.files.map((f) => [f.path, f.sha256]),
    first.files.map((f) => [f.path, f.sha256]),
  );
});

test('offline, "main" resolves to the cached commit without a request; nothing cached names the repo and the command', async () => {
  const cache = freshCache();
  const online = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['*.json'] }));
  const n = hub.requests.length;
  const offline = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['*.json'], config: { offline: true } }));
  assert.equal(hub.requests.length, n, 'offline mode made a request');
  assert.equal(offline.commit, online.commit);
  assert.ok(offline.fromCache);
  assert.deepEqual(
    offline.files.map((f) => f.path),
    ['config.json', 'tokenizer.json'],
  );
  assert.deepEqual(
    offline.files.map((f) => f.sha256),
    online.files.map((f) => f.sha256),
  );
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/corpus', type: 'dataset', config: { offline: true } })),
    'offline-missing',
    'dataset org/corpus',
    'ipt download org/corpus --dataset',
    'HF_HUB_OFFLINE',
  );
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'], config: { offline: true } })),
    'offline-missing',
    'model.safetensors',
    'ipt download org/tiny --include model.safetensors',
  );
  assert.equal(hub.requests.length, n);
});

test('include and exclude globs select files; named files use paths-info, not the whole tree', async () => {
  const cache = freshCache();
  const paths = async (include: string[], exclude: string[] = []) =>
    (await downloadRepo(opts(cache, { repo: 'org/tiny', include, exclude }))).files.map((f) => f.path);
  assert.deepEqual(await paths(['*.json']), ['config.json', 'tokenizer.json']);
  assert.deepEqual(await paths(['*.safetensors']), ['fp16/model.safetensors', 'model.safetensors']);
  assert.deepEqual(await paths(['*.safetensors'], ['fp16/']), ['model.safetensors']);
  assert.deepEqual(await paths(['sub/']), ['sub/deeper/notes.txt', 'sub/extra.bin']);
  assert.deepEqual(await paths(['sub/*']), ['sub/extra.bin']);
  assert.deepEqual(await paths(['**/*.txt', '.git*']), ['.gitattributes', 'sub/deeper/notes.txt']);
  const trees = hub.count('hub', /\/tree\//);
  assert.deepEqual(await paths(['config.json', 'sub/extra.bin']), ['config.json', 'sub/extra.bin']);
  assert.equal(hub.count('hub', /\/tree\//), trees);
  assert.ok(hub.count('hub', /\/paths-info\//) >= 1);
  // a named folder takes everything under it, online and offline
  assert.deepEqual(await paths(['sub/deeper']), ['sub/deeper/notes.txt']);
  const off = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['sub/deeper'], config: { offline: true } }));
  assert.deepEqual(
    off.files.map((f) => f.path),
    ['sub/deeper/notes.txt'],
  );
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['*.gguf'] })),
    'not-found',
    '*.gguf',
    'config.json',
  );
});

test('a pinned revision downloads that commit, writes its ref, and resolves offline later', async () => {
  const cache = freshCache();
  const v1 = await downloadRepo(opts(cache, { repo: 'org/tiny', revision: 'v1' }));
  assert.equal(v1.commit, hub.commit('model', 'org/tiny', 0));
  assert.equal(readFileSync(v1.files.find((f) => f.path === 'config.json')!.localPath, 'utf8'), '{"v": 1}\n');
  assert.equal(readFileSync(join(cache, 'models--org--tiny', 'refs', 'v1'), 'utf8'), v1.commit);
  const byCommit = await downloadRepo(
    opts(cache, { repo: 'org/tiny', revision: hub.commit('model', 'org/tiny'), include: ['config.json'] }),
  );
  assert.equal(readFileSync(byCommit.files[0].localPath, 'utf8'), '{"v": 2}\n');
  assert.deepEqual(readdirSync(join(cache, 'models--org--tiny', 'refs')), ['v1'], 'a commit revision writes no ref');
  const offline = await downloadRepo(opts(cache, { repo: 'org/tiny', revision: 'v1', config: { offline: true } }));
  assert.equal(offline.commit, v1.commit);
  const m = manifestInputOf(v1);
  assert.deepEqual(
    { name: m.name, source: m.source, revision: m.revision, commit: m.commit },
    { name: 'org/tiny', source: 'hf:org/tiny', revision: 'v1', commit: v1.commit },
  );
  assert.deepEqual(m.files, [
    { path: 'README.md', sha256: sha256('# tiny v1\n'), bytes: 10 },
    { path: 'config.json', sha256: sha256('{"v": 1}\n'), bytes: 9 },
  ]);
  await rejectsWith(downloadRepo(opts(cache, { repo: 'org/tiny', revision: 'v9' })), 'not-found', 'v9', '404');
});

test('a connection dropped mid-file is resumed with a Range request', async () => {
  const cache = freshCache();
  const sha = hub.file('model', 'org/tiny', 'model.safetensors').sha256;
  hub.faults = { drop: new Map([[sha, { bytes: 100_000, times: 1 }]]) };
  const start = hub.requests.length;
  const r = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'] }));
  hub.faults = {};
  assert.deepEqual(readFileSync(r.files[0].localPath), WEIGHTS);
  const ranges = hub.requests
    .slice(start)
    .filter((q) => q.server === 'cdn')
    .map((q) => q.range);
  assert.equal(ranges.length, 2);
  assert.equal(ranges[0], undefined);
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
  assert.ok(resumedAt > 0 && resumedAt <= 100_000, `resumed at ${ranges[1]}`);
  assert.equal(r.bytesDownloaded, WEIGHTS.length);
});

test('a download that keeps failing leaves only an .incomplete file, which the next run resumes', async () => {
  const cache = freshCache();
  const sha = hub.file('model', 'org/tiny', 'model.safetensors').sha256;
  hub.faults = { drop: new Map([[sha, { bytes: 120_000, times: 3 }]]) };
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'], retries: 2 })),
    'network',
    'model.safetensors',
    'failed 3 times',
    'resumes',
  );
  const repoDir = join(cache, 'models--org--tiny');
  const c = hub.commit('model', 'org/tiny');
  assert.ok(!existsSync(join(repoDir, 'blobs', sha)), 'no blob may exist for a half file');
  assert.ok(!existsSync(join(repoDir, 'snapshots', c, 'model.safetensors')));
  const kept = statSync(join(repoDir, 'blobs', `${sha}.incomplete`)).size;
  assert.ok(kept > 0 && kept <= 120_000);
  // offline, the half file is not trusted
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'], config: { offline: true } })),
    'offline-missing',
  );
  hub.faults = {};
  const start = hub.requests.length;
  const r = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'] }));
  assert.deepEqual(readFileSync(r.files[0].localPath), WEIGHTS);
  assert.deepEqual(
    hub.requests
      .slice(start)
      .filter((q) => q.server === 'cdn')
      .map((q) => q.range),
    [`bytes=${kept}-`],
  );
  assert.equal(r.bytesDownloaded, WEIGHTS.length - kept);
  assert.ok(!existsSync(join(repoDir, 'blobs', `${sha}.incomplete`)));
});

test('a stalled transfer is cut after the idle timeout and retried', async () => {
  const cache = freshCache();
  const sha = hub.file('model', 'org/tiny', 'sub/extra.bin').sha256;
  hub.faults = { stall: new Map([[sha, { bytes: 1000, times: 1 }]]) };
  const r = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['sub/extra.bin'], idleTimeoutMs: 300 }));
  hub.faults = {};
  assert.deepEqual(readFileSync(r.files[0].localPath), EXTRA);
});

test('bytes that do not match the LFS sha256 (or the git sha1) are refused and deleted', async () => {
  const cache = freshCache();
  const repoDir = join(cache, 'models--org--tiny');
  const sha = hub.file('model', 'org/tiny', 'model.safetensors').sha256;
  hub.faults = { corrupt: new Set([sha]) };
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'] })),
    'checksum',
    'model.safetensors',
    'LFS sha256',
    sha,
  );
  assert.ok(!existsSync(join(repoDir, 'blobs', sha)));
  assert.ok(!existsSync(join(repoDir, 'blobs', `${sha}.incomplete`)));
  assert.ok(!existsSync(join(repoDir, 'snapshots', hub.commit('model', 'org/tiny'), 'model.safetensors')));
  const oid = hub.file('model', 'org/tiny', 'config.json').gitOid;
  hub.faults = { corrupt: new Set([oid]) };
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['config.json'] })),
    'checksum',
    'config.json',
    'git sha1',
  );
  hub.faults = {};
  const ok = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors', 'config.json'] }));
  assert.deepEqual(readFileSync(ok.files[1].localPath), WEIGHTS);
});

test('a gated repo answers 401 without a token; the token works, goes to the hub only, and is never shown', async () => {
  const cache = freshCache();
  await rejectsWith(downloadRepo(opts(cache, { repo: 'org/gated' })), 'unauthorized', 'org/gated', '401', 'HF_TOKEN');
  hub.faults = { echoAuthorization: true };
  const wrong = 'hf_wrongTokenButSecret42';
  const err = await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/gated', config: { token: wrong } })),
    'unauthorized',
    '403',
  );
  assert.ok(!err.message.includes(wrong) && !String(err.stack).includes(wrong));
  hub.faults = {};
  const start = hub.requests.length;
  const r = await downloadRepo(opts(cache, { repo: 'org/gated', config: { token: GOOD_TOKEN } }));
  assert.deepEqual(
    r.files.map((f) => f.path),
    ['config.json', 'w.bin'],
  );
  const reqs = hub.requests.slice(start);
  assert.ok(reqs.filter((q) => q.server === 'hub').every((q) => q.authorization === `Bearer ${GOOD_TOKEN}`));
  assert.ok(reqs.some((q) => q.server === 'cdn'));
  assert.ok(
    reqs.filter((q) => q.server === 'cdn').every((q) => q.authorization === undefined),
    'the token followed the redirect to another host',
  );
  const runDir = freshCache();
  const prev = process.env.HF_TOKEN;
  process.env.HF_TOKEN = GOOD_TOKEN;
  try {
    await writeManifest(runDir, {
      command: ['ipt', 'download', 'org/gated'],
      config: { repo: 'org/gated' },
      seeds: {},
      inputs: [manifestInputOf(r)],
      startedAt: new Date(),
    });
  } finally {
    if (prev === undefined) delete process.env.HF_TOKEN;
    else process.env.HF_TOKEN = prev;
  }
  const text = readFileSync(join(runDir, 'manifest.json'), 'utf8');
  assert.ok(!text.includes(GOOD_TOKEN));
  assert.ok(text.includes(r.commit));
});

test('a missing file is a 404 that names it, and is remembered in .no_exist', async () => {
  const cache = freshCache();
  const c = hub.commit('model', 'org/tiny');
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['nope.bin'] })),
    'not-found',
    '"nope.bin"',
    '404',
  );
  assert.ok(existsSync(join(cache, 'models--org--tiny', '.no_exist', c, 'nope.bin')));
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['nope.bin'], config: { offline: true } })),
    'not-found',
    'nope.bin',
  );
  hub.faults = { resolve404: new Set(['tokenizer.json']) };
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['*.json'] })),
    'not-found',
    '"tokenizer.json"',
    'EntryNotFound',
  );
  hub.faults = {};
  await rejectsWith(downloadRepo(opts(cache, { repo: 'org/nothere' })), 'not-found', 'org/nothere', '404');
});

test('a paginated tree is listed completely; identical blobs are stored and fetched once', async () => {
  const cache = freshCache();
  const trees = hub.count('hub', /\/tree\//);
  const r = await downloadRepo(opts(cache, { repo: 'org/many', concurrency: 6 }));
  assert.equal(r.files.length, 120);
  assert.equal(hub.count('hub', /\/tree\//) - trees, 3);
  assert.equal(readFileSync(r.files[119].localPath, 'utf8'), 'text 119\n');
  const cdn = hub.count('cdn', /./);
  const d = await downloadRepo(opts(cache, { repo: 'org/corpus', type: 'dataset', include: ['*.bin'] }));
  assert.equal(hub.count('cdn', /./) - cdn, 1);
  assert.equal(d.files[0].blobPath, d.files[1].blobPath);
  assert.deepEqual(readFileSync(d.files[1].localPath), EXTRA);
});

test('when the hub cannot be reached, a cached revision is used with a warning', async () => {
  const cache = freshCache();
  await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['config.json'] }));
  const dead = 'http://127.0.0.1:9'; // discard port: connection refused
  const r = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['config.json'], config: { endpoint: dead } }));
  assert.ok(r.fromCache);
  assert.match(r.warning ?? '', /cannot reach/);
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/other', include: ['config.json'], config: { endpoint: dead } })),
    'network',
    'cannot reach',
    'HF_HUB_OFFLINE',
  );
});

test('HF_ENDPOINT, HF_HUB_CACHE and HF_TOKEN from the environment are honoured', async () => {
  const cache = freshCache();
  const saved = { ...process.env };
  Object.assign(process.env, { HF_ENDPOINT: hub.url + '/', HF_HUB_CACHE: cache, HF_TOKEN: GOOD_TOKEN });
  delete process.env.HF_HUB_OFFLINE;
  try {
    const plan = await resolveSnapshot({ repo: 'org/gated' });
    assert.equal(plan.commit, hub.commit('model', 'org/gated'));
    const r = await downloadRepo({ repo: 'org/gated', progress: 'silent' });
    assert.ok(r.snapshotDir.startsWith(join(cache, 'models--org--gated')));
    process.env.HF_HUB_OFFLINE = '1';
    const n = hub.requests.length;
    const off = await downloadRepo({ repo: 'org/gated', progress: 'silent' });
    assert.equal(hub.requests.length, n);
    assert.equal(off.commit, r.commit);
  } finally {
    for (const k of ['HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_TOKEN', 'HF_HUB_OFFLINE']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
});

test('progress events count bytes up to the total', async () => {
  const cache = freshCache();
  const events: Array<{ bytes: number; total: number }> = [];
  await downloadRepo({
    ...opts(cache, { repo: 'org/tiny', include: ['*.safetensors'] }),
    onProgress: (e) => events.push({ bytes: e.bytes, total: e.total }),
  });
  assert.ok(events.length > 2);
  const last = events[events.length - 1];
  assert.equal(last.total, WEIGHTS.length + FP16.length);
  assert.equal(last.bytes, last.total);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].bytes >= 0 && events[i].bytes <= last.total);
});

test('a lock left by a killed process is taken over; a live holder is waited for', async () => {
  const { spawn, spawnSync } = await import('node:child_process');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const sha = hub.file('model', 'org/tiny', 'sub/extra.bin').sha256;
  const lockIn = (cache: string) => {
    const dir = join(cache, '.locks', 'models--org--tiny');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${sha}.ipt.lock`);
  };
  const cache = freshCache();
  const deadPid = spawnSync('true').pid;
  writeFileSync(lockIn(cache), String(deadPid));
  const r = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['sub/extra.bin'] }));
  assert.deepEqual(readFileSync(r.files[0].localPath), EXTRA);
  assert.ok(!existsSync(lockIn(cache)));

  const cache2 = freshCache();
  const holder = spawn('sleep', ['30']);
  try {
    writeFileSync(lockIn(cache2), String(holder.pid));
    const started = performance.now();
    setTimeout(() => rmSync(lockIn(cache2), { force: true }), 400);
    const r2 = await downloadRepo(opts(cache2, { repo: 'org/tiny', include: ['sub/extra.bin'] }));
    assert.ok(performance.now() - started >= 350, 'the download did not wait for the lock holder');
    assert.deepEqual(readFileSync(r2.files[0].localPath), EXTRA);
  } finally {
    holder.kill();
  }
});

test('a cached blob of the right size but the wrong content is found: re-downloaded online, an error naming it offline', async () => {
  const { utimesSync, writeFileSync } = await import('node:fs');
  const cache = freshCache();
  const first = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors', 'config.json'] }));
  const [config, weights] = first.files;
  const spoil = (path: string) => {
    const st = statSync(path);
    const b = readFileSync(path);
    b[b.length >> 1] ^= 0x01;
    writeFileSync(path, b);
    utimesSync(path, st.atime, st.mtime); // the same size and modification time: only the content differs
  };
  spoil(weights.blobPath);
  spoil(config.blobPath);
  // offline nothing can be fetched: the damaged files are named, with what to do
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'], config: { offline: true } })),
    'checksum',
    `the cached copy of model.safetensors of model org/tiny (${weights.blobPath}) is damaged: its LFS sha256 is ${sha256(readFileSync(weights.blobPath))}, expected ${sha256(WEIGHTS)}`,
    'ipt download org/tiny --include model.safetensors',
    'HF_HUB_OFFLINE',
  );
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['config.json'], config: { offline: true } })),
    'checksum',
    config.blobPath,
    'git sha1',
  );
  // online the damaged blobs are fetched again, and what is reported is the file's own hash
  const start = hub.requests.length;
  const again = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors', 'config.json'] }));
  assert.deepEqual(readFileSync(again.files[1].localPath), WEIGHTS);
  assert.deepEqual(readFileSync(again.files[0].localPath), hub.file('model', 'org/tiny', 'config.json').content);
  for (const f of again.files) assert.equal(f.sha256, sha256(readFileSync(f.localPath)), f.path);
  assert.match(
    again.warning ?? '',
    /the cached copy of config\.json .* is damaged: .*downloaded again\.\n.*the cached copy of model\.safetensors/,
  );
  assert.equal(again.bytesDownloaded, WEIGHTS.length + config.bytes);
  assert.equal(hub.requests.slice(start).filter((q) => q.server === 'cdn').length, 1);
  // a verified blob is not hashed again while it is unchanged, yet any write to it is noticed
  const third = await downloadRepo(
    opts(cache, { repo: 'org/tiny', include: ['model.safetensors'], config: { offline: true } }),
  );
  assert.equal(third.files[0].sha256, sha256(WEIGHTS));
  spoil(weights.blobPath);
  await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'], config: { offline: true } })),
    'checksum',
    'model.safetensors',
  );
});

test('a 429 answer is retried after the Retry-After it gives (transfers and API calls); a wait too long fails saying so', async () => {
  const cache = freshCache();
  const sha = hub.file('model', 'org/tiny', 'sub/extra.bin').sha256;
  hub.faults = {
    rateLimit: new Map([[sha, { retryAfter: '1', times: 1 }]]),
    apiRateLimit: { retryAfter: '1', times: 1 },
  };
  const start = hub.requests.length;
  const r = await downloadRepo(opts(cache, { repo: 'org/tiny', include: ['sub/extra.bin'] }));
  hub.faults = {};
  assert.deepEqual(readFileSync(r.files[0].localPath), EXTRA);
  const log = hub.requests.slice(start);
  const api = log.filter((q) => q.url.startsWith('/api/'));
  const cdn = log.filter((q) => q.server === 'cdn');
  assert.equal(cdn.length, 2);
  // retryDelayMs is 5 ms here: only Retry-After explains a wait of a second
  assert.ok(api[1].at - api[0].at >= 950, `the API call was retried after ${Math.round(api[1].at - api[0].at)} ms`);
  assert.ok(cdn[1].at - cdn[0].at >= 950, `the transfer was retried after ${Math.round(cdn[1].at - cdn[0].at)} ms`);
  // an HTTP date works too; a wait beyond maxRetryAfterMs is not waited for
  const cache2 = freshCache();
  hub.faults = {
    rateLimit: new Map([[sha, { retryAfter: new Date(Date.now() + 3_600_000).toUTCString(), times: 1 }]]),
  };
  await rejectsWith(
    downloadRepo(opts(cache2, { repo: 'org/tiny', include: ['sub/extra.bin'], maxRetryAfterMs: 60_000 })),
    'network',
    'sub/extra.bin',
    'HTTP 429',
    'asks to wait',
    'try again',
  );
  hub.faults = {};
});

test('a file the hub lists with the wrong size fails clearly and leaves no .incomplete behind', async () => {
  const cache = freshCache();
  const repoDir = join(cache, 'models--org--tiny');
  const sha = hub.file('model', 'org/tiny', 'model.safetensors').sha256;
  for (const skew of [-10, 10]) {
    hub.faults = { sizeSkew: new Map([['model.safetensors', skew]]) };
    const err = await rejectsWith(
      downloadRepo(opts(cache, { repo: 'org/tiny', include: ['model.safetensors'] })),
      'checksum',
      'model.safetensors',
      `${WEIGHTS.length + skew} bytes`,
      'deleted',
    );
    assert.ok(!err.message.includes('.incomplete'), err.message);
    assert.deepEqual(readdirSync(join(repoDir, 'blobs')), [], `skew ${skew}: nothing is left in blobs/`);
  }
  hub.faults = {};
});

test('the final message of a failed transfer names the kept .incomplete file only when it exists', async () => {
  const cache = freshCache();
  const sha = hub.file('model', 'org/tiny', 'sub/extra.bin').sha256;
  hub.faults = { rateLimit: new Map([[sha, { retryAfter: '0', times: 5 }]]) };
  const err = await rejectsWith(
    downloadRepo(opts(cache, { repo: 'org/tiny', include: ['sub/extra.bin'], retries: 1 })),
    'network',
    'sub/extra.bin',
    'failed 2 times',
  );
  hub.faults = {};
  assert.ok(!err.message.includes('.incomplete'), err.message);
  assert.match(err.message, /nothing was received; the next run starts from the beginning/);
});
