// Shard readers: every format, row positions, and corrupt input (named file and line/row, or skipped and counted).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  CorruptShardError,
  listShards,
  newReadStats,
  readShard,
  readTexts,
  shardFormat,
  type ShardRow,
} from '../../lib/corpus/shards.js';

let dir: string;

function parquet(texts: string[], rowGroupSize: number, extra: Record<string, string[]> = {}): Buffer {
  const columnData = [
    { name: 'text', data: texts, type: 'STRING' as const },
    ...Object.entries(extra).map(([name, data]) => ({ name, data, type: 'STRING' as const })),
  ];
  return Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize }));
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ipt-shards-'));
  writeFileSync(
    join(dir, 'a.jsonl'),
    '\uFEFF{"text": "first", "genre": "news"}\r\n\n{"text": "second"}\n{"text": "third", "id": 7}',
  );
  writeFileSync(join(dir, 'b.jsonl.gz'), gzipSync('{"text": "gz one"}\n{"text": "gz two"}\n'));
  writeFileSync(
    join(dir, 'c.parquet'),
    parquet(['p0', 'p1', 'p2', 'p3', 'p4'], 2, { genre: ['x', 'x', 'y', 'y', 'z'] }),
  );
  writeFileSync(join(dir, 'd.txt'), 'A whole document\n\nin one file.\n');
  writeFileSync(join(dir, 'e.json'), ' [{"text": "arr0"}, {"text": "arr1"}]');
  mkdirSync(join(dir, 'part-0', 'shard'), { recursive: true });
  writeFileSync(join(dir, 'part-0', 'shard', '00000.txt'), 'shard text zero');
  writeFileSync(join(dir, 'part-0', 'shard', '00001.txt'), 'shard text one');
  writeFileSync(join(dir, '.hidden.jsonl'), '{"text": "never"}\n');
  writeFileSync(join(dir, 'README.md'), '# not a shard\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const where = (r: ShardRow) => [r.line ?? r.row, r.value.text];

test('formats by extension; listing is sorted, skips hidden files and filters by globs', () => {
  assert.deepEqual(['x.jsonl', 'x.JSONL.GZ', 'x.json.gz', 'x.json', 'x.parquet', 'x.txt', 'x.csv'].map(shardFormat), [
    'jsonl',
    'jsonl.gz',
    'jsonl.gz',
    'json',
    'parquet',
    'txt',
    undefined,
  ]);
  const rel = (files: string[]) => files.map((f) => f.slice(dir.length + 1));
  assert.deepEqual(rel(listShards(dir)), [
    'a.jsonl',
    'b.jsonl.gz',
    'c.parquet',
    'd.txt',
    'e.json',
    'part-0/shard/00000.txt',
    'part-0/shard/00001.txt',
  ]);
  assert.deepEqual(rel(listShards(dir, { include: ['part-*/shard/*.txt'] })), [
    'part-0/shard/00000.txt',
    'part-0/shard/00001.txt',
  ]);
  assert.deepEqual(rel(listShards(dir, { include: ['*.jsonl*'], exclude: ['b.*'] })), ['a.jsonl']);
  assert.throws(() => listShards(dir, { include: ['*.csv'] }), /no shard files \(.jsonl.*matching \*\.csv/);
  assert.throws(() => listShards(join(dir, 'README.md')), /unknown shard format/);
});

test('rows of every format, with 1-based lines and 0-based rows', async () => {
  assert.deepEqual((await all(readShard(join(dir, 'a.jsonl')))).map(where), [
    [1, 'first'],
    [3, 'second'],
    [4, 'third'],
  ]);
  assert.deepEqual((await all(readShard(join(dir, 'b.jsonl.gz')))).map(where), [
    [1, 'gz one'],
    [2, 'gz two'],
  ]);
  const stats = newReadStats();
  const pq = await all(readShard(join(dir, 'c.parquet'), { stats }));
  assert.deepEqual(pq.map(where), [
    [0, 'p0'],
    [1, 'p1'],
    [2, 'p2'],
    [3, 'p3'],
    [4, 'p4'],
  ]);
  assert.deepEqual(pq[4].value, { text: 'p4', genre: 'z' });
  assert.deepEqual([stats.files, stats.rows], [1, 5]);
  assert.deepEqual((await all(readShard(join(dir, 'c.parquet'), { columns: ['genre'] })))[0].value, { genre: 'x' });
  assert.deepEqual((await all(readShard(join(dir, 'd.txt')))).map(where), [[0, 'A whole document\n\nin one file.\n']]);
  assert.deepEqual((await all(readShard(join(dir, 'e.json')))).map(where), [
    [0, 'arr0'],
    [1, 'arr1'],
  ]);
});

test('texts carry ids from their place (or an id field) and the genre field', async () => {
  const texts = await all(readTexts(listShards(dir), { baseDir: dir }));
  assert.deepEqual(
    texts.map((t) => [t.id, t.text.slice(0, 12), t.genre ?? null]),
    [
      ['a.jsonl:1', 'first', 'news'],
      ['a.jsonl:3', 'second', null],
      ['a.jsonl:4', 'third', null],
      ['b.jsonl.gz:1', 'gz one', null],
      ['b.jsonl.gz:2', 'gz two', null],
      ['c.parquet#0', 'p0', 'x'],
      ['c.parquet#1', 'p1', 'x'],
      ['c.parquet#2', 'p2', 'y'],
      ['c.parquet#3', 'p3', 'y'],
      ['c.parquet#4', 'p4', 'z'],
      ['d.txt', 'A whole docu', null],
      ['e.json#0', 'arr0', null],
      ['e.json#1', 'arr1', null],
      ['part-0/shard/00000.txt', 'shard text z', null],
      ['part-0/shard/00001.txt', 'shard text o', null],
    ],
  );
  const withIds = await all(readTexts([join(dir, 'a.jsonl')], { idField: 'id', baseDir: dir }));
  assert.deepEqual(
    withIds.map((t) => t.id),
    ['a.jsonl:1', 'a.jsonl:3', '7'],
  );
});

async function rejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CorruptShardError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

test('corrupt JSON lines name file and line; skipping counts them and keeps the rest', async () => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(
    bad,
    Buffer.concat([
      Buffer.from('{"text": "ok 1"}\n{"text": "broken\n[1, 2]\n'),
      Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x7d, 0x0a]),
      Buffer.from('{"text": "ok 5"}\n{"text": "cut off'),
    ]),
  );
  await rejects(all(readShard(bad)), /bad\.jsonl:2: not valid JSON/);
  const stats = newReadStats();
  const rows = await all(readShard(bad, { onError: 'skip', stats }));
  assert.deepEqual(rows.map(where), [
    [1, 'ok 1'],
    [5, 'ok 5'],
  ]);
  assert.equal(stats.skipped, 4);
  assert.deepEqual(
    stats.issues.map((i) => [i.line, i.message.split(' (')[0]]),
    [
      [2, 'not valid JSON'],
      [3, 'expected a JSON object per line, got an array'],
      [4, 'not valid UTF-8'],
      [6, 'not valid JSON'],
    ],
  );
  assert.match(stats.issues[3].message, /looks cut off/);
});

test('a missing text field names the row and the fields there are', async () => {
  const f = join(dir, 'other.jsonl');
  writeFileSync(f, '{"content": "x", "meta": 1}\n');
  await rejects(
    all(readTexts([f])),
    /other\.jsonl:1: no string field "text" \(fields: content, meta\); choose the text field with --text-field/,
  );
  assert.deepEqual(
    (await all(readTexts([f], { textField: 'content' }))).map((t) => t.text),
    ['x'],
  );
  const pq = join(dir, 'other.parquet');
  writeFileSync(pq, Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'body', data: ['b0'], type: 'STRING' }] })));
  await rejects(all(readTexts([pq])), /other\.parquet row 0: no string field "text" \(fields: body\)/);
});

test('a truncated gzip shard is reported after its last good line', async () => {
  const gz = gzipSync(
    Array.from({ length: 2000 }, (_, i) => JSON.stringify({ text: `row ${i} ${'x'.repeat(40)}` })).join('\n'),
  );
  const f = join(dir, 'cut.jsonl.gz');
  writeFileSync(f, gz.subarray(0, gz.length >> 1));
  await rejects(all(readShard(f)), /cut\.jsonl\.gz:\d+: the gzip data is truncated or corrupt after line \d+/);
  const stats = newReadStats();
  const rows = await all(readShard(f, { onError: 'skip', stats }));
  assert.ok(rows.length > 100 && rows.length < 2000);
  assert.equal(stats.issues.length, 1);
  assert.match(stats.issues[0].message, new RegExp(`after line ${rows.length}`));
});

test('a truncated parquet file, and a row group that cannot be decoded, are named', async () => {
  const whole = parquet(
    Array.from({ length: 6 }, (_, i) => `row ${i} `.repeat(30)),
    2,
  );
  const cut = join(dir, 'cut.parquet');
  writeFileSync(cut, whole.subarray(0, whole.length - 20));
  await rejects(all(readShard(cut)), /cut\.parquet: not a readable parquet file/);
  const stats = newReadStats();
  assert.deepEqual(await all(readShard(cut, { onError: 'skip', stats })), []);
  assert.equal(stats.issues.length, 1);

  // overwrite the middle row group's data pages with garbage
  const { parquetMetadata } = await import('hyparquet');
  const meta = parquetMetadata(whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.length));
  const chunk = meta.row_groups[1].columns[0].meta_data!;
  const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
  const damaged = Buffer.from(whole);
  damaged.fill(0xff, start, start + Number(chunk.total_compressed_size));
  const f = join(dir, 'damaged.parquet');
  writeFileSync(f, damaged);
  await rejects(all(readShard(f)), /damaged\.parquet row 2: rows 2-3 \(row group 1\) cannot be decoded/);
  const s2 = newReadStats();
  const rows = await all(readShard(f, { onError: 'skip', stats: s2 }));
  assert.deepEqual(
    rows.map((r) => r.row),
    [0, 1, 4, 5],
  );
  assert.equal(s2.skipped, 2);
});

test('a text file that is not UTF-8 names its line', async () => {
  const f = join(dir, 'latin1.txt');
  writeFileSync(f, Buffer.concat([Buffer.from('line one\nline two\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  await rejects(all(readShard(f)), /latin1\.txt:3: not valid UTF-8 text/);
});
