// ipt export: round trips through the kit's own readers for both formats, the dataset card's YAML
// against the files written, LLaMA-Factory's dataset_info.json, the manifest, determinism, shard and
// row-group boundaries, atomic replacement, and every input error named as it should be.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { parse as parseYaml } from 'yaml';
import picomatch from 'picomatch';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { readShard, readTexts } from '../../lib/corpus/shards.js';
import { sha256 } from '../../lib/repro/hash.js';
import {
  exportCorpora,
  readCorporaIndex,
  shardFileName,
  type ExportFormat,
  type ExportResult,
} from '../../lib/ablation/export.js';
import { parseByteSize } from '../../lib/cli/export.js';
import { main } from '../../lib/cli.js';
import { makeRunFolder, expectedText, type FixtureCorpus } from './fixture.js';
import { capture } from '../cli-io.js';

let root: string;
let run: string;

const LONG = Array.from({ length: 20000 }, (_, i) => `Sentence ${i} of a long document, with ünïcödé and 漢字.`).join(
  ' ',
);

const CORPORA: FixtureCorpus[] = [
  {
    name: 'vanilla',
    description: 'raw texts only',
    arm: 'vanilla',
    tokens: 12345,
    train: [
      [
        { text: 'The cat sat on the mat.' },
        { text: 'Ünïcödé: naïve café, 漢字かな交じり, emoji 👩‍👩‍👧‍👦🎉, RTL שלום, combining e\u0301.' },
        { text: 'Lines\nand\r\nCRLF\tand "quotes" \\ backslashes, and the separators \u2028 \u2029 in text.' },
        { text: '' },
        { text: LONG },
      ],
      [{ text: 'A second train file, read after the first.' }, { text: 'Its last document.' }],
    ],
    validation: [[{ text: 'Held-out text one.' }, { text: 'Held-out text two.' }]],
  },
  {
    name: 'instruct-rules',
    description: 'instruction-augmented texts | rule-based synthesizer',
    arm: 'instruct',
    train: [
      [
        { text: 'Context.\n\nQuestion: What sat?\nAnswer: The cat.' },
        {
          segments: [
            { text: 'Instruction: say hi.\n', train: false },
            { text: 'Response: hi.', train: true },
          ],
        },
        { prompt: 'Q: 2+2?\nA:', response: ' 4' },
        { segments: [{ text: 'plain ' }, { text: 'segments', train: true }] },
      ],
    ],
  },
  {
    name: 'domain-learned-instruct',
    train: [[{ text: 'lone surrogate \ud800 here' }, { text: 'paired 😀 fine' }]],
    validation: [[]],
  },
];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ipt-export-'));
  run = join(root, 'run');
  await makeRunFolder(run, CORPORA, { input: 'brown' });
});
after(() => rmSync(root, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}

async function rowsOf(files: string[]): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const f of files) for await (const r of readShard(f)) rows.push(r.value);
  return rows;
}

/** The YAML header of a dataset card. */
function cardHeader(card: string): Record<string, any> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
  assert.ok(m, 'the card starts with a YAML header between --- lines');
  return parseYaml(m[1]);
}

const quiet = { progress: false } as const;

async function roundTrip(format: ExportFormat): Promise<ExportResult> {
  const out = join(root, `rt-${format}`);
  const result = await exportCorpora({ run, out, format, shardDocuments: 3, ...quiet });
  assert.equal(result.out, out);
  for (const corpus of CORPORA) {
    for (const split of ['train', 'validation'] as const) {
      const source = (split === 'train' ? corpus.train : (corpus.validation ?? [])).flat();
      const dir = join(out, corpus.name, 'data', split);
      if (source.length === 0) {
        assert.ok(!existsSync(dir), `${corpus.name}/${split} has no documents and no folder`);
        continue;
      }
      const names = readdirSync(dir).sort();
      const count = Math.ceil(source.length / 3);
      assert.deepEqual(
        names,
        Array.from({ length: count }, (_, i) => shardFileName(split, i, count, format)),
      );
      const rows = await rowsOf(names.map((n) => join(dir, n)));
      const want = source.map((r) => expectedText(r).replace(/\ud800/g, '\uFFFD'));
      assert.equal(rows.length, want.length);
      rows.forEach((row, i) => {
        assert.deepEqual(Object.keys(row), ['id', 'text', 'source']);
        assert.equal(row.text, want[i], `${corpus.name}/${split} document ${i}`);
        assert.equal(row.id, `${corpus.name}-${split}-${i}`);
        assert.equal(row.source, corpus.name);
      });
    }
  }
  return result;
}

test("jsonl: every document comes back exactly, in order, split by split, through the kit's readers", async () => {
  const result = await roundTrip('jsonl');
  // readTexts is how the kit reads shards elsewhere: it skips the empty document and ids rows by file and line
  const files = readdirSync(join(result.out, 'vanilla/data/train'))
    .map((n) => join(result.out, 'vanilla/data/train', n))
    .sort();
  const texts = [];
  for await (const t of readTexts(files, { idField: 'id' })) texts.push(t);
  assert.deepEqual(
    texts.map((t) => t.id),
    ['vanilla-train-0', 'vanilla-train-1', 'vanilla-train-2', 'vanilla-train-4', 'vanilla-train-5', 'vanilla-train-6'],
  );
  // one object per line, UTF-8, nothing escaped that need not be
  const first = readFileSync(files[0], 'utf8').split('\n');
  assert.equal(first.length, 4);
  assert.equal(first[3], '');
  assert.ok(first[1].includes('漢字かな交じり'));
  assert.equal(first[0], '{"id":"vanilla-train-0","text":"The cat sat on the mat.","source":"vanilla"}');
});

test('parquet: the same round trip; snappy, typed, with row groups and the features datasets writes', async () => {
  const result = await roundTrip('parquet');
  const shard = join(result.out, 'vanilla/data/train', shardFileName('train', 0, 3, 'parquet'));
  const md = await parquetMetadataAsync(await asyncBufferFromFile(shard));
  assert.equal(Number(md.num_rows), 3);
  assert.deepEqual(
    md.schema.slice(1).map((s) => [s.name, s.type, s.converted_type, s.repetition_type]),
    [
      ['id', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['text', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['source', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
    ],
  );
  assert.ok(md.row_groups.every((g) => g.columns.every((c) => c.meta_data?.codec === 'SNAPPY')));
  const hf = JSON.parse(md.key_value_metadata!.find((k) => k.key === 'huggingface')!.value!);
  assert.deepEqual(hf.info.features.text, { dtype: 'string', _type: 'Value' });
  assert.match(md.created_by ?? '', /^ipt-kit \d+\.\d+\.\d+/);
});

test('parquet row groups close at rowGroupDocuments documents or rowGroupBytes of text', async () => {
  const out = join(root, 'rowgroups');
  await exportCorpora({
    run,
    out,
    format: 'parquet',
    corpora: ['vanilla'],
    rowGroupDocuments: 2,
    rowGroupBytes: 200,
    ...quiet,
  });
  const shard = join(out, 'vanilla/data/train', shardFileName('train', 0, 1, 'parquet'));
  const md = await parquetMetadataAsync(await asyncBufferFromFile(shard));
  // texts of 23, 115, 79, 0, ~1.1M, 42, 18 bytes: two by count, two by count, the long one cut by bytes, the rest
  assert.deepEqual(
    CORPORA[0].train
      .flat()
      .map((r) => Buffer.byteLength(expectedText(r)))
      .filter((b) => b < 1000),
    [23, 115, 79, 0, 42, 18],
  );
  assert.deepEqual(
    md.row_groups.map((g) => Number(g.num_rows)),
    [2, 2, 1, 2],
  );
  const rows = await rowsOf([shard]);
  assert.deepEqual(
    rows.map((r) => r.text),
    CORPORA[0].train.flat().map(expectedText),
  );
});

test('shard boundaries by bytes: a shard closes before the document that would pass the limit', async () => {
  const out = join(root, 'bytes');
  const result = await exportCorpora({ run, out, format: 'jsonl', corpora: ['vanilla'], shardBytes: 120, ...quiet });
  const train = result.corpora[0].splits.find((s) => s.split === 'train')!;
  const sizes = CORPORA[0].train.flat().map((r) => Buffer.byteLength(expectedText(r)));
  // recompute the expected cut independently: greedy, one oversized document alone
  const want: number[] = [];
  let docs = 0;
  let bytes = 0;
  for (const b of sizes) {
    if (docs > 0 && bytes + b > 120) {
      want.push(docs);
      docs = 0;
      bytes = 0;
    }
    docs++;
    bytes += b;
  }
  want.push(docs);
  assert.deepEqual(
    train.shards.map((s) => s.documents),
    want,
  );
  assert.ok(want.length >= 4);
  assert.equal(
    train.textBytes,
    sizes.reduce((a, b) => a + b, 0),
  );
  assert.deepEqual(
    readdirSync(join(out, 'vanilla/data/train')).sort(),
    want.map((_, i) => shardFileName('train', i, want.length, 'jsonl')),
  );
});

test('the dataset card: YAML parses, its data_files globs match exactly the files written, counts match', async () => {
  for (const format of ['jsonl', 'parquet'] as const) {
    const out = join(root, `rt-${format}`);
    for (const corpus of CORPORA) {
      const dir = join(out, corpus.name);
      const card = readFileSync(join(dir, 'README.md'), 'utf8');
      const header = cardHeader(card);
      assert.equal(header.configs.length, 1);
      assert.equal(header.configs[0].config_name, 'default');
      const written = filesUnder(dir).filter((f) => f !== 'README.md');
      const matched: string[] = [];
      for (const { split, path } of header.configs[0].data_files) {
        const hits = written.filter((f) => picomatch(path)(f));
        assert.ok(hits.length > 0, `${corpus.name}: ${path} matches nothing`);
        assert.ok(hits.every((f) => f.startsWith(`data/${split}/${split}-`) && f.endsWith(`.${format}`)));
        matched.push(...hits);
        const rows = await rowsOf(hits.map((f) => join(dir, f)));
        assert.equal(
          header.dataset_info.splits.find((s: { name: string }) => s.name === split).num_examples,
          rows.length,
        );
      }
      assert.deepEqual(matched.sort(), written, 'every data file belongs to exactly one split');
      assert.deepEqual(
        header.dataset_info.features.map((f: { name: string }) => f.name),
        ['id', 'text', 'source'],
      );
      assert.equal(header.license, 'other');
      assert.equal(header.license_name, 'brown-corpus');
      assert.deepEqual(header.task_categories, ['text-generation']);
      assert.match(card, /redistribution permitted/);
      assert.match(card, new RegExp(`load_dataset\\("${format === 'jsonl' ? 'json' : 'parquet'}", data_files=`));
      assert.match(card, /stage: pt/);
      assert.match(card, /dolma tokens/);
      assert.match(card, /ipt-kit \d+\.\d+\.\d+/);
      assert.ok(card.includes('runs/ablation-fixture'));
      if (corpus.description) assert.ok(card.includes(corpus.description));
    }
    const vanilla = readFileSync(join(out, 'vanilla/README.md'), 'utf8');
    assert.match(vanilla, /\| train \| 7 \| 3 \| [\d,]+ \|/);
    assert.match(vanilla, /\| validation \| 2 \| 1 \| 36 \|/);
    assert.match(vanilla, /12,345 tokens/);
    assert.match(
      readFileSync(join(out, 'instruct-rules/README.md'), 'utf8'),
      /2 documents had segments the kit excluded from the loss/,
    );
    assert.match(
      readFileSync(join(out, 'domain-learned-instruct/README.md'), 'utf8'),
      /1 documents held unpaired UTF-16 surrogates/,
    );
  }
});

test('dataset_info.json: one LLaMA-Factory pre-training entry per split, each folder one split of one file type', () => {
  const out = join(root, 'rt-parquet');
  const info = JSON.parse(readFileSync(join(out, 'dataset_info.json'), 'utf8'));
  assert.deepEqual(Object.keys(info), ['vanilla', 'vanilla-validation', 'instruct-rules', 'domain-learned-instruct']);
  assert.deepEqual(info.vanilla, { file_name: 'vanilla/data/train', columns: { prompt: 'text' } });
  assert.deepEqual(info['vanilla-validation'], { file_name: 'vanilla/data/validation', columns: { prompt: 'text' } });
  for (const entry of Object.values(info) as Array<{ file_name: string }>) {
    // LLaMA-Factory loads every file of a folder (os.listdir) and requires one extension
    const names = readdirSync(join(out, entry.file_name));
    assert.ok(names.length > 0 && names.every((n) => n.endsWith('.parquet') && !n.startsWith('.')), entry.file_name);
  }
});

test('the manifest: source run manifest hash, corpus file hashes, every output hashed, counts', async () => {
  const out = join(root, 'rt-jsonl');
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.config.tool, 'ipt export');
  assert.equal(manifest.config.format, 'jsonl');
  const outputs = manifest.outputs as Array<{ path: string; sha256: string; bytes: number }>;
  assert.deepEqual(
    outputs.map((o) => o.path).sort(),
    filesUnder(out)
      .filter((f) => f !== 'manifest.json')
      .sort(),
  );
  for (const o of outputs) {
    const bytes = readFileSync(join(out, o.path));
    assert.equal(o.sha256, sha256(bytes));
    assert.equal(o.bytes, bytes.length);
  }
  const runInput = manifest.inputs.find((i: { name: string }) => i.name === 'run');
  assert.equal(runInput.sha256, sha256(readFileSync(join(run, 'manifest.json'))));
  const vanillaFiles = manifest.inputs.find((i: { name: string }) => i.name === 'corpus:vanilla').files;
  assert.equal(vanillaFiles.length, 3);
  for (const f of vanillaFiles) assert.equal(f.sha256, sha256(readFileSync(join(run, f.path))));
  assert.equal(manifest.totals['vanilla.train.documents'], 7);
  assert.equal(manifest.totals['vanilla.validation.documents'], 2);
  assert.equal(manifest.totals['instruct-rules.train.maskedDocuments'], 2);
  assert.equal(manifest.totals.documents, 7 + 2 + 4 + 2);
  assert.equal(manifest.totals.corpora, 3);
  assert.ok(manifest.notes.some((n: string) => /domain-learned-instruct.*validation files hold no documents/.test(n)));
  // the card cites the same run manifest
  assert.ok(readFileSync(join(out, 'vanilla/README.md'), 'utf8').includes(runInput.sha256));
});

test('deterministic: the same run exports to byte-identical files; a re-run replaces OUT cleanly', async () => {
  for (const format of ['jsonl', 'parquet'] as const) {
    const a = join(root, `det-a-${format}`);
    const b = join(root, `det-b-${format}`);
    await exportCorpora({ run, out: a, format, shardDocuments: 2, ...quiet });
    await exportCorpora({ run, out: b, format, shardDocuments: 2, ...quiet });
    const files = filesUnder(a);
    assert.deepEqual(filesUnder(b), files);
    for (const f of files.filter((x) => x !== 'manifest.json'))
      assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${format} ${f} differs`);
    // re-run over an existing export with other settings and one corpus: only the new export remains
    writeFileSync(join(a, 'vanilla', 'stray.txt'), 'left by the user in an old export');
    await exportCorpora({ run, out: a, format, corpora: ['instruct-rules'], ...quiet });
    assert.deepEqual(filesUnder(a), [
      'README.md',
      'dataset_info.json',
      'instruct-rules/README.md',
      `instruct-rules/data/train/${shardFileName('train', 0, 1, format)}`,
      'manifest.json',
    ]);
  }
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.')),
    [],
    'no staging folders left behind',
  );
});

test('default out is RUN/export/<format>; the CLI prints a summary and runs only what it is asked', async () => {
  const io = capture();
  assert.equal(
    await main(
      ['export', '--run', run, '--format', 'jsonl', '--corpus', 'vanilla', '--shard-documents', '4', '--quiet'],
      io,
    ),
    0,
    io.err,
  );
  assert.match(io.out, /^vanilla: train 7 documents in 2 shards, validation 2 documents in 1 shard\n/);
  assert.match(io.out, /wrote 1 corpora as jsonl to .*export\/jsonl/);
  assert.deepEqual(readdirSync(join(run, 'export', 'jsonl', 'vanilla', 'data', 'train')).sort(), [
    shardFileName('train', 0, 2, 'jsonl'),
    shardFileName('train', 1, 2, 'jsonl'),
  ]);
  const manifest = JSON.parse(readFileSync(join(run, 'export', 'jsonl', 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.command, [
    'ipt',
    'export',
    '--run',
    run,
    '--format',
    'jsonl',
    '--corpus',
    'vanilla',
    '--shard-documents',
    '4',
    '--quiet',
  ]);
  // the run's own corpus files are not inside the default out, so a second export there is fine
  assert.equal(
    await main(['export', '--run', run, '--format', 'jsonl', '--corpus', 'vanilla', '--quiet'], capture()),
    0,
  );
  rmSync(join(run, 'export'), { recursive: true });

  const bad = capture();
  assert.equal(await main(['export', '--run', run, '--format', 'csv'], bad), 2);
  assert.match(bad.err, /--format must be jsonl or parquet, got "csv"/);
  const missing = capture();
  assert.equal(await main(['export', '--format', 'jsonl'], missing), 2);
  assert.match(missing.err, /--run is required/);
  const size = capture();
  assert.equal(await main(['export', '--run', run, '--format', 'jsonl', '--shard-bytes', 'lots'], size), 2);
  assert.match(size.err, /--shard-bytes must be a size such as 500MB/);
});

test('byte sizes on the command line', () => {
  assert.equal(parseByteSize('500MB', 'x'), 500_000_000);
  assert.equal(parseByteSize('2gb', 'x'), 2_000_000_000);
  assert.equal(parseByteSize('64k', 'x'), 64_000);
  assert.equal(parseByteSize('1.5M', 'x'), 1_500_000);
  assert.equal(parseByteSize('1000', 'x'), 1000);
  assert.throws(() => parseByteSize('0', 'x'), /must be a size/);
  assert.throws(() => parseByteSize('-5MB', 'x'), /must be a size/);
});

/** A fresh copy of the fixture run to break. */
async function brokenRun(name: string): Promise<string> {
  const dir = join(root, `broken-${name}`);
  await makeRunFolder(dir, CORPORA.slice(0, 2), { withManifest: false });
  return dir;
}

test('errors: missing or corrupt corpora.json, bad fields, unknown corpus names', async () => {
  const dir = await brokenRun('index');
  const out = join(root, 'never');
  rmSync(join(dir, 'corpora.json'));
  await assert.rejects(
    exportCorpora({ run: dir, out, format: 'jsonl', ...quiet }),
    /corpora\.json not found: .* is not an ablation run whose corpora are built/,
  );
  writeFileSync(join(dir, 'corpora.json'), '{"version": 1, "corpora": [{"name": "a", "fi');
  await assert.rejects(
    exportCorpora({ run: dir, out, format: 'jsonl', ...quiet }),
    /corpora\.json is not valid JSON .*cut off/,
  );
  const cases: Array<[unknown, RegExp]> = [
    [{ version: 2, corpora: [] }, /"version" must be 1/],
    [{ version: 1, corpora: [] }, /"corpora" must be a non-empty list/],
    [{ version: 1, corpora: [{ name: 'a' }] }, /corpora\[0\]\.files must be a non-empty list of file paths/],
    [{ version: 1, corpora: [{ name: '../up', files: ['x.jsonl'] }] }, /corpora\[0\]\.name must be a name of letters/],
    [
      {
        version: 1,
        corpora: [
          { name: 'a', files: ['x'] },
          { name: 'a', files: ['y'] },
        ],
      },
      /corpus name "a" appears twice/,
    ],
    [{ version: 1, corpora: [{ name: 'a', files: ['x'], tokens: -1 }] }, /corpora\[0\]\.tokens must be a whole number/],
  ];
  for (const [index, error] of cases) {
    writeFileSync(join(dir, 'corpora.json'), JSON.stringify(index));
    assert.throws(() => readCorporaIndex(dir), error);
  }
  await assert.rejects(
    exportCorpora({ run: join(root, 'no-such-run'), out, format: 'jsonl', ...quiet }),
    /run folder .*no-such-run does not exist/,
  );
  const ok = await brokenRun('names');
  await assert.rejects(
    exportCorpora({ run: ok, out, format: 'jsonl', corpora: ['vanilla', 'nope'], ...quiet }),
    /no corpus "nope" in .*corpora\.json; it has vanilla, instruct-rules/,
  );
  assert.ok(!existsSync(out));
});

test('errors: a missing corpus file, a corrupt or cut-off JSONL line, a row of no known shape: named by file and line, nothing written', async () => {
  const dir = await brokenRun('files');
  const index = readCorporaIndex(dir);
  const trainFile = join(dir, index.corpora[0].files[0]);
  const out = join(root, 'never2');

  const original = readFileSync(trainFile);
  rmSync(trainFile);
  await assert.rejects(
    exportCorpora({ run: dir, out, format: 'parquet', ...quiet }),
    new RegExp(
      `corpus "vanilla": train file ${index.corpora[0].files[0]} \\(listed in .*corpora\\.json\\) does not exist`,
    ),
  );

  const lines = original.toString('utf8').split('\n');
  lines[2] = lines[2].slice(0, 20);
  writeFileSync(trainFile, lines.join('\n'));
  await assert.rejects(exportCorpora({ run: dir, out, format: 'parquet', ...quiet }), (err: Error) => {
    assert.ok(err.message.includes(`corpus "vanilla" (train): ${trainFile}:3: not valid JSON`), err.message);
    assert.match(err.message, /the line looks cut off/);
    assert.match(err.message, /rebuild that stage of the run/);
    return true;
  });
  writeFileSync(trainFile, original);
  appendFileSync(trainFile, '{"title": "no text"}\n');
  await assert.rejects(
    exportCorpora({ run: dir, out, format: 'jsonl', ...quiet }),
    new RegExp(`${trainFile} line 6: unrecognised row`),
  );
  writeFileSync(trainFile, original);
  appendFileSync(trainFile, '{"ids": [1, 2, 3]}\n');
  await assert.rejects(exportCorpora({ run: dir, out, format: 'jsonl', ...quiet }), /line 6: pre-tokenized documents/);
  writeFileSync(trainFile, '\n');
  writeFileSync(join(dir, index.corpora[0].files[1]), '');
  await assert.rejects(
    exportCorpora({ run: dir, out, format: 'jsonl', ...quiet }),
    /corpus "vanilla": its files .* hold no documents/,
  );

  assert.ok(!existsSync(out), 'a failed export writes nothing at OUT');
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.')),
    [],
    'and leaves no staging folder',
  );
});

test('errors: a failed re-run keeps the previous export; OUT that is not an export or holds the run is refused', async () => {
  const dir = await brokenRun('rerun');
  const out = join(root, 'keep');
  await exportCorpora({ run: dir, out, format: 'jsonl', ...quiet });
  const before = filesUnder(out).map((f) => [f, sha256(readFileSync(join(out, f)))]);
  const trainFile = join(dir, readCorporaIndex(dir).corpora[1].files[0]);
  appendFileSync(trainFile, '{"text": "cut');
  await assert.rejects(exportCorpora({ run: dir, out, format: 'jsonl', ...quiet }), /not valid JSON/);
  assert.deepEqual(
    filesUnder(out).map((f) => [f, sha256(readFileSync(join(out, f)))]),
    before,
  );

  const foreign = join(root, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  await assert.rejects(
    exportCorpora({ run, out: foreign, format: 'jsonl', ...quiet }),
    /exists and is not an earlier ipt export/,
  );
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'mine');
  await assert.rejects(exportCorpora({ run, out: root, format: 'jsonl', ...quiet }), /contains the run folder/);
  await assert.rejects(
    exportCorpora({ run, out: join(run, 'stages'), format: 'jsonl', ...quiet }),
    /lies inside --out .* which the export replaces/,
  );
  // a run without manifest.json still exports, and says so
  const noManifest = await exportCorpora({
    run: dir,
    out: join(root, 'nomanifest'),
    format: 'jsonl',
    corpora: ['vanilla'],
    ...quiet,
  });
  assert.equal(noManifest.runManifestSha256, null);
  assert.ok(noManifest.notes.some((n) => /no manifest\.json/.test(n)));
});

test('a run without a known input gets a license note that says to check the source', async () => {
  const dir = join(root, 'hf-run');
  await makeRunFolder(dir, [CORPORA[1]], { input: 'hf:org/web-texts' });
  const out = join(root, 'hf-out');
  await exportCorpora({ run: dir, out, format: 'jsonl', ...quiet });
  const card = readFileSync(join(out, 'instruct-rules/README.md'), 'utf8');
  assert.equal(cardHeader(card).license_name, 'same-as-source');
  assert.match(card, /`hf:org\/web-texts`; its license governs/);
});

test('gzipped corpus files (.jsonl.gz) export like plain ones', async () => {
  const dir = await brokenRun('gz');
  const index = JSON.parse(readFileSync(join(dir, 'corpora.json'), 'utf8'));
  const rel = index.corpora[1].files[0];
  writeFileSync(join(dir, `${rel}.gz`), gzipSync(readFileSync(join(dir, rel))));
  rmSync(join(dir, rel));
  index.corpora[1].files = [`${rel}.gz`];
  writeFileSync(join(dir, 'corpora.json'), JSON.stringify(index));
  const result = await exportCorpora({
    run: dir,
    out: join(root, 'gz-out'),
    format: 'parquet',
    corpora: ['instruct-rules'],
    ...quiet,
  });
  const rows = await rowsOf(result.corpora[0].splits[0].shards.map((s) => join(result.out, s.path)));
  assert.deepEqual(
    rows.map((r) => r.text),
    CORPORA[1].train.flat().map(expectedText),
  );
});

test('an export killed midway leaves a hidden staging folder that the next export removes', async () => {
  const out = join(root, 'killed');
  // a pid above Linux's pid_max limit (2^22) belongs to no process
  const stale = join(root, '.killed.partial-4194999-deadbeef');
  mkdirSync(join(stale, 'vanilla'), { recursive: true });
  writeFileSync(join(stale, 'vanilla', 'half.jsonl'), '{"id":');
  const other = join(root, '.killed-not-ours.partial-4194999-deadbeef');
  mkdirSync(other);
  await exportCorpora({ run, out, format: 'jsonl', corpora: ['instruct-rules'], ...quiet });
  assert.ok(!existsSync(stale));
  assert.ok(existsSync(other), 'only staging folders of this OUT are touched');
  rmSync(other, { recursive: true });
  assert.ok(existsSync(join(out, 'manifest.json')));
});
