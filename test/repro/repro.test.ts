// Seeds, hashes, manifests and crash-safe writes: the reproducibility side module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createRng, rngFromState, deriveSeed, shuffleInPlace, pickWeighted } from '../../lib/repro/rng.js';
import { canonicalJson, hashJson, sha256, sha256File } from '../../lib/repro/hash.js';
import { writeManifest, redactSecrets } from '../../lib/repro/manifest.js';
import { writeFileAtomic } from '../../lib/repro/files.js';
import { createProgress } from '../../lib/repro/progress.js';

test('the same seed gives the same stream; a saved state resumes it', () => {
  const a = createRng(42);
  const b = createRng(42);
  const xs = Array.from({ length: 100 }, () => a.uint32());
  assert.deepEqual(
    Array.from({ length: 100 }, () => b.uint32()),
    xs,
  );
  const c = createRng(42);
  for (let i = 0; i < 50; i++) c.uint32();
  const resumed = rngFromState(c.state());
  assert.deepEqual(
    Array.from({ length: 50 }, () => resumed.uint32()),
    xs.slice(50),
  );
  assert.notDeepEqual(
    Array.from({ length: 5 }, () => createRng(43).uint32()),
    xs.slice(0, 5),
  );
});

test('xoshiro128** matches its reference output for a known state', () => {
  // reference: xoshiro128** with s = {1, 2, 3, 4}
  const r = rngFromState([1, 2, 3, 4]);
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32()], [11520, 0, 5927040]);
});

test('uniform draws are in range and roughly uniform', () => {
  const r = createRng(1);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 100000; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    counts[Math.floor(x * 10)]++;
  }
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `bucket ${c}`);
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < 20000; i++) {
    const z = r.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / 20000) < 0.03);
  assert.ok(Math.abs(sq / 20000 - 1) < 0.05);
});

test('derived seeds separate streams by label', () => {
  assert.equal(deriveSeed(7, 'shuffle'), deriveSeed(7, 'shuffle'));
  assert.notEqual(deriveSeed(7, 'shuffle'), deriveSeed(7, 'init'));
  assert.notEqual(deriveSeed(7, 'shuffle', 1), deriveSeed(7, 'shuffle', 2));
});

test('shuffle is a permutation and deterministic; weighted picks follow weights', () => {
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const s1 = shuffleInPlace([...xs], createRng(3));
  assert.deepEqual(
    [...s1].sort((a, b) => a - b),
    xs,
  );
  assert.deepEqual(shuffleInPlace([...xs], createRng(3)), s1);
  const r = createRng(9);
  let heavy = 0;
  for (let i = 0; i < 10000; i++) if (pickWeighted(['a', 'b'], [9, 1], r) === 'a') heavy++;
  assert.ok(heavy > 8700 && heavy < 9300, String(heavy));
});

test('canonical JSON sorts keys at every level and rejects non-finite numbers', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: 'x' } }),
    '{"a":{"c":"x","d":[1,{"y":1,"z":0}]},"b":1}',
  );
  assert.equal(hashJson({ x: 1, y: 2 }), hashJson({ y: 2, x: 1 }));
  assert.throws(
    () => canonicalJson({ x: Number.NaN }),
    /^TypeError: x is NaN, which JSON cannot hold: give a finite number$/,
  );
  assert.throws(() => canonicalJson({ train: { lr: Infinity } }), /train\.lr is Infinity/);
  assert.equal(sha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('writeFileAtomic leaves no temporary files and replaces whole files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-atomic-'));
  const file = join(dir, 'sub', 'x.json');
  writeFileAtomic(file, 'first');
  writeFileAtomic(file, 'second');
  assert.equal(readFileSync(file, 'utf8'), 'second');
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['x.json']);
  assert.equal(await sha256File(file), sha256('second'));
});

test('a manifest records command, seeds, versions and output hashes, never a token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-manifest-'));
  writeFileSync(join(dir, 'out.txt'), 'hello');
  const secret = 'hf_abcdefghijklmnopqrstuvwxyz';
  const old = process.env.HF_TOKEN;
  process.env.HF_TOKEN = secret;
  try {
    const m = await writeManifest(dir, {
      command: ['ipt', 'x', '--token', secret],
      config: { lr: 0.001, hfToken: secret, headers: { Authorization: `Bearer ${secret}` } },
      seeds: { train: 1 },
      outputs: ['out.txt'],
      startedAt: new Date(Date.now() - 1500),
    });
    const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
    assert.ok(!text.includes(secret), 'token leaked into manifest');
    assert.deepEqual(m.outputs, [{ path: 'out.txt', sha256: sha256('hello'), bytes: 5 }]);
    assert.equal(m.seeds.train, 1);
    assert.ok(m.packages['typescript'], 'installed package versions are recorded');
    assert.ok(m.timings.seconds >= 1.4);
    assert.equal((m.config as { lr: number }).lr, 0.001);
    assert.match(m.runtime.node, /^v\d+/);
  } finally {
    if (old === undefined) delete process.env.HF_TOKEN;
    else process.env.HF_TOKEN = old;
  }
});

test('redactSecrets scrubs secret-looking keys and known values anywhere', () => {
  const out = redactSecrets({ a: ['x sk-123456 y'], apiKey: 'zzz', nested: { password: 'p', ok: true } }, [
    'sk-123456',
  ]);
  assert.deepEqual(out, { a: ['x [redacted] y'], apiKey: '[redacted]', nested: { password: '[redacted]', ok: true } });
  // token counts are figures, token values are secrets
  const counts = redactSecrets(
    { maxNewTokens: 400, completionTokens: 12, tokensPerSecond: 9.5, HF_TOKEN: 'x', access_token: 'y', hfToken: 'z' },
    [],
  );
  assert.deepEqual(counts, {
    maxNewTokens: 400,
    completionTokens: 12,
    tokensPerSecond: 9.5,
    HF_TOKEN: '[redacted]',
    access_token: '[redacted]',
    hfToken: '[redacted]',
  });
});

test('progress in lines mode prints rate, ETA and fields', () => {
  let written = '';
  let t = 0;
  const p = createProgress({
    label: 'train',
    total: 100,
    unit: 'steps',
    mode: 'lines',
    everySeconds: 0,
    now: () => t,
    stream: { write: (s: string) => ((written += s), true) } as never,
  });
  t = 10;
  p.update(50, { loss: 1.23456 });
  p.stop();
  assert.match(written, /train: 50% 50\/100 steps \| 5 steps\/s \| ETA 10s \| loss=1\.23/);
});

test('readJson and writeJson: a round trip; an absent file, a folder and invalid JSON are named with what to do', async () => {
  const { readJson, writeJson } = await import('../../lib/repro/files.js');
  const { nonFiniteNumberPath } = await import('../../lib/repro/hash.js');
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ipt-json-'));
  try {
    const path = join(dir, 'a', 'x.json');
    writeJson(path, { b: [1, 2], a: 'é' });
    assert.equal(readFileSync(path, 'utf8'), '{\n  "b": [\n    1,\n    2\n  ],\n  "a": "é"\n}\n');
    assert.deepEqual(readJson(path), { b: [1, 2], a: 'é' });
    writeJson(path, [1], { compact: true });
    assert.equal(readFileSync(path, 'utf8'), '[1]');
    assert.throws(
      () => readJson(join(dir, 'nope.json'), { what: '--config' }),
      new RegExp(`^Error: ${join(dir, 'nope.json')}: no such file \\(the --config JSON file\\)$`),
    );
    assert.throws(
      () => readJson(dir, { what: '--config' }),
      new RegExp(`^Error: ${dir}: is a folder; --config takes a JSON file$`),
    );
    writeFileSync(path, '{"a": ');
    assert.throws(
      () => readJson(path, { fix: 'delete it and run again' }),
      /x\.json: not valid JSON \(.*\); delete it and run again$/,
    );
    assert.equal(nonFiniteNumberPath(JSON.parse('{"a": {"b": [1, 1e999]}}')), 'a.b[1]');
    assert.equal(nonFiniteNumberPath({ a: 1, b: [2] }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the one JSON-lines reader: values with line numbers, errors naming file and line, skip and torn-last-line policies, files and streams alike', async () => {
  const { jsonLines, readJsonLines, streamJsonLines, JsonLineError, newJsonLinesReport } = await import(
    '../../lib/repro/jsonl.js'
  );
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { gzipSync } = await import('node:zlib');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { Readable } = await import('node:stream');
  const text = '\uFEFF{"a": 1}\r\n\n[2]\n{"b": \n"s"\n{"cut": ';
  assert.throws(
    () => [...jsonLines(text, 'f.jsonl')],
    (err: unknown) =>
      err instanceof JsonLineError &&
      err.line === 4 &&
      /^f\.jsonl:4: not valid JSON \(.*\); the line looks cut off$/.test(err.message),
  );
  const report = newJsonLinesReport();
  const rows = [
    ...jsonLines(text, 'f.jsonl', { onError: 'skip', tornLastLine: 'skip', fix: 'write one object a line' }, report),
  ];
  assert.deepEqual(rows, [
    { line: 1, value: { a: 1 } },
    { line: 3, value: [2] },
    { line: 5, value: 's' },
  ]);
  assert.deepEqual(
    report.skipped.map((s) => s.line),
    [4],
  );
  assert.match(report.skipped[0].message, /not valid JSON .*; write one object a line$/);
  assert.deepEqual(report.warnings, ['f.jsonl:6: skipped a last line cut off mid-write']);
  // a torn last line is only forgiven when asked, and only the last one without its newline
  assert.throws(() => [...jsonLines('{"a": 1}\n{"cut', 'g.jsonl')], /g\.jsonl:2: not valid JSON/);
  assert.throws(
    () => [...jsonLines('{"cut\n{"a": 1}', 'g.jsonl', { tornLastLine: 'skip' })],
    /g\.jsonl:1: not valid JSON/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'ipt-jsonl-'));
  try {
    const plain = join(dir, 'x.jsonl');
    writeFileSync(plain, '{"a": 1}\n{"b": 2}\n');
    const gz = join(dir, 'x.jsonl.gz');
    writeFileSync(gz, gzipSync('{"a": 1}\n{"b": 2}\n'));
    const expected = [
      { line: 1, value: { a: 1 } },
      { line: 2, value: { b: 2 } },
    ];
    assert.deepEqual(readJsonLines(plain).rows, expected);
    assert.deepEqual(readJsonLines(gz).rows, expected);
    for (const input of [plain, gz]) {
      const got = [];
      for await (const r of streamJsonLines(input, input)) got.push(r);
      assert.deepEqual(got, expected);
    }
    const streamed = [];
    const bad = newJsonLinesReport();
    for await (const r of streamJsonLines(
      Readable.from([Buffer.from('{"a": 1}\n\xff\xfe\n'), Buffer.from([0xff, 0x0a]), Buffer.from('{"b": 2}')]),
      'stdin',
      { onError: 'skip' },
      bad,
    ))
      streamed.push(r);
    assert.deepEqual(
      streamed.map((r) => r.line),
      [1, 4],
    );
    assert.deepEqual(bad.skipped, [
      { line: 2, message: 'not valid JSON (Unexpected token \'ÿ\', "ÿþ" is not valid JSON)' },
      { line: 3, message: 'not valid UTF-8' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('staging folders: a killed build leaves only a hidden sibling, removed once its process is gone; commit swaps whole folders', async () => {
  const { commitStagingDir, createStagingDir, isProcessAlive } = await import('../../lib/repro/files.js');
  const { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = await import(
    'node:fs'
  );
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ipt-staging-'));
  try {
    const dead = spawnSync('true').pid!;
    assert.equal(isProcessAlive(dead), false);
    assert.equal(isProcessAlive(process.pid), true);
    const out = join(dir, 'export');
    mkdirSync(join(dir, `.export.partial-${dead}-abcd1234`));
    mkdirSync(join(dir, `.export.partial-${process.pid}-00000000`)); // a live build (this process): kept
    const staging = createStagingDir(out);
    assert.deepEqual(
      readdirSync(dir).sort(),
      [`.export.partial-${process.pid}-00000000`, staging.split('/').pop()!].sort(),
    );
    writeFileSync(join(staging, 'a.txt'), 'new');
    mkdirSync(out);
    writeFileSync(join(out, 'a.txt'), 'old');
    commitStagingDir(staging, out);
    assert.equal(readFileSync(join(out, 'a.txt'), 'utf8'), 'new');
    assert.equal(existsSync(staging), false);
    assert.deepEqual(readdirSync(dir).sort(), [`.export.partial-${process.pid}-00000000`, 'export']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
