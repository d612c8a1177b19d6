// What the user reads when a command meets a bad path or a bad option: Node's file-system errors said in
// plain words (whichever command they come from), one usage line after an option error, and nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli as run } from './cli-io.js';

test('file-system errors name the path and what to do, without Node error codes in front', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cli-errors-'));
  try {
    const file = join(dir, 'afile');
    writeFileSync(file, 'hello\n');
    mkdirSync(join(dir, 'folder'));

    let r = await run(['rules', '--input', 'brown', '--n', '2', '--out', join(file, 'x.jsonl')]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `ipt rules: cannot create the folder ${file}: a file of that name is in the way; choose another output path\n`,
    );

    r = await run(['rules', '--input', 'brown', '--n', '2', '--out', join(dir, 'folder')]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `ipt rules: cannot write ${join(dir, 'folder')}: it is a folder; name a file there\n`);
    assert.deepEqual(readdirSync(dir).sort(), ['afile', 'folder'], 'no temporary file left behind');
    assert.deepEqual(readdirSync(join(dir, 'folder')), []);

    r = await run(['prompt', join(dir, 'nope.txt')]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `ipt prompt: no such file or folder: ${join(dir, 'nope.txt')}\n`);

    r = await run(['prompt', join(dir, 'folder')]);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'ipt prompt: a folder was given where a file is expected\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an option error gives one line and the usage line, not the whole help', async () => {
  const r = await run(['rules', '--bogus']);
  assert.equal(r.code, 2);
  assert.equal(
    r.err,
    "ipt rules: Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--bogus\"\nusage: ipt rules [options]   (ipt rules --help lists the options)\n",
  );
});

test('corpus chunk refuses a minimum above the budget instead of keeping nothing', async () => {
  const r = await run(['corpus', 'chunk', 'brown', '--limit', '1', '--min-tokens', '600', '--max-tokens', '512']);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'ipt corpus chunk: --min-tokens (600) is above --max-tokens (512): no context could be kept\n');
  assert.equal(r.out, '');
});

test('rules and coverage read .jsonl.gz like .jsonl; parquet, cut-off gzip and gzip for render are named, not parsed as garbage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cli-gz-'));
  try {
    const plain = join(dir, 'texts.jsonl');
    const texts = [
      'The river rose three feet in the night. By morning the bridge was closed, and the mill stood idle.',
      'Mary wrote to her brother in May. He answered in June, and the letter was short.',
    ];
    writeFileSync(plain, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const gz = join(dir, 'texts.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    const a = await run(['rules', '--input', plain, '--n', '2']);
    const b = await run(['rules', '--input', gz, '--n', '2']);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    assert.equal(b.out, a.out);
    assert.ok(a.out.length > 0);

    const cut = join(dir, 'cut.jsonl.gz');
    writeFileSync(cut, gzipSync(readFileSync(plain)).subarray(0, 30));
    const c = await run(['rules', '--input', cut, '--n', '2']);
    assert.equal(c.code, 1);
    assert.match(
      c.err,
      new RegExp(
        `^ipt rules: ${cut.replace(/[.]/g, '\\.')}: the gzip data is truncated or corrupt \\(.*\\); download or write the file again\\n$`,
      ),
    );

    const parquet = join(dir, 'pairs.parquet');
    writeFileSync(parquet, Buffer.from('PAR1 not really'));
    const p = await run(['coverage', '--input', parquet, '--out', join(dir, 'cov'), '--png', 'no']);
    assert.equal(p.code, 1);
    assert.match(p.err, /pairs\.parquet is a parquet file; this command reads JSON lines \(\.jsonl or \.jsonl\.gz\)/);

    const chains = join(dir, 'chains.jsonl.gz');
    writeFileSync(
      chains,
      gzipSync(
        JSON.stringify([{ context: 'A text.', pairs: [{ question: 'Q?', answer: 'A.' }], inheritFromPrev: false }]) +
          '\n',
      ),
    );
    const cov = await run(['coverage', '--input', chains, '--out', join(dir, 'cov2'), '--png', 'no']);
    assert.equal(cov.code, 0, cov.err);
    assert.match(cov.out, /1 pairs from 1 texts/);
    const r = await run(['render', '--input', chains]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /chains\.jsonl\.gz is a gzip file; ipt render reads plain JSON lines \(gunzip -c .* \| ipt render --input -\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipt eval refuses an empty task list, an unknown provider and an --out folder before loading anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cli-eval-'));
  try {
    // the model folder does not exist: each of these must be refused before it is opened
    const base = ['eval', '--model', join(dir, 'no-model')];
    let r = await run([...base, '--tasks', ',']);
    assert.deepEqual(
      [r.code, r.err],
      [2, 'ipt eval: --tasks names nothing: give benchmark names (arc_easy,mmlu) or task JSON files\n'],
    );
    writeFileSync(join(dir, 'task.json'), '{}');
    r = await run([...base, '--tasks', join(dir, 'task.json'), '--out', dir]);
    assert.deepEqual([r.code, r.err], [2, `ipt eval: --out ${dir} is a folder; name a file\n`]);
    writeFileSync(join(dir, 'afile'), '');
    r = await run([...base, '--tasks', join(dir, 'task.json'), '--out', join(dir, 'afile', 'r.json')]);
    assert.deepEqual(
      [r.code, r.err],
      [
        1,
        `ipt eval: cannot create the folder ${join(dir, 'afile')}: a file of that name is in the way; choose another output path\n`,
      ],
    );
    r = await run([...base, '--tasks', join(dir, 'task.json'), '--provider', 'gpu']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^ipt eval: --provider must be one of cpu, .*got "gpu"\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipt rules: an empty input file and an empty --kinds list are named, not answered with silence', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cli-rules-'));
  try {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n');
    let r = await run(['rules', '--input', empty]);
    assert.deepEqual(
      [r.code, r.err, r.out],
      [1, `ipt rules: ${empty} holds no texts: each line must be a JSON object like {"text": "..."}\n`, ''],
    );
    r = await run(['rules', '--input', 'brown', '--kinds', ',']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^ipt rules: --kinds names no rule kind; choose from /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
