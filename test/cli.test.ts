// The `ipt` command: help for every command, exit codes, and the contract commands end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, listCommands, type Io } from '../lib/cli.js';
import { projectRoot } from '../lib/repro/project.js';

function capture(stdin = ''): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    readStdin: () => stdin,
  };
  return io;
}

test('ipt --help lists every command', async () => {
  const io = capture();
  assert.equal(await main(['--help'], io), 0);
  for (const c of listCommands()) assert.ok(io.out.includes(c.name), `${c.name} missing from help`);
});

test('every command has --help with a usage line', async () => {
  for (const c of listCommands()) {
    const io = capture();
    assert.equal(await main([...c.name.split(' '), '--help'], io), 0);
    assert.match(io.out, new RegExp(`^Usage: ipt ${c.name}`));
    assert.ok(io.out.includes(c.summary));
  }
});

test('unknown commands and options exit 2 with help', async () => {
  const a = capture();
  assert.equal(await main(['frobnicate'], a), 2);
  assert.match(a.err, /unknown command "frobnicate"/);
  const b = capture();
  assert.equal(await main(['parse', '--bogus'], b), 2);
  assert.match(b.err, /Unknown option '--bogus'/);
});

test('ipt prompt prints the exact synthesizer prompt', async () => {
  const io = capture('The cat sat.\n');
  assert.equal(await main(['prompt'], io), 0);
  assert.equal(io.out, '<s> <CON> The cat sat. </CON>\n\n');
});

test('ipt parse prints pairs as JSON, deduplicated unless asked', async () => {
  const output = '<QUE> Who? <ANS> Cat </END>\n\n<QUE> who? <ANS> Dog </END>';
  const io = capture(output);
  assert.equal(await main(['parse'], io), 0);
  assert.deepEqual(JSON.parse(io.out), [{ question: 'Who?', answer: 'Cat' }]);
  const keep = capture(output);
  await main(['parse', '--keep-duplicates'], keep);
  assert.equal(JSON.parse(keep.out).length, 2);
});

test('the bin entry runs as a process', () => {
  const root = projectRoot();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli.js'), 'prompt'], { input: 'x', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '<s> <CON> x </CON>\n\n');
});

test('ipt train names the --config file in its errors and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cli-config-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.jsonl'), JSON.stringify({ text: 'The cat says meow.' }) + '\n');
    const files: Record<string, string> = { 'empty.json': '', 'corrupt.json': '{"train": {}} x', 'list.json': '[]', 'section.json': '{"optimizer": {}}' };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const out = join(dir, 'run');
    const expected: Array<[string, string]> = [
      ['empty.json', 'not valid JSON (Unexpected end of JSON input)'],
      ['corrupt.json', 'not valid JSON (Unexpected non-whitespace character after JSON at position 14)'],
      ['missing.json', 'no such file (the --config JSON file)'],
      ['list.json', 'not a JSON object; expected {"model": {...}, "train": {...}, "tokenizer": ...}'],
      ['section.json', 'unknown config section "optimizer": use model, train and tokenizer'],
      ['data', 'is a folder; --config takes a JSON file'],
    ];
    for (const [name, message] of expected) {
      const io = capture();
      assert.equal(await main(['train', '--config', join(dir, name), '--data', data, '--out', out], io), 1, name);
      assert.equal(io.err, `ipt train: ${join(dir, name)}: ${message}\n`);
      assert.ok(!existsSync(out), `nothing written after ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
