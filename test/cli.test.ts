// The `ipt` command: help for every command, exit codes, and the contract commands end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { writeGptModelFolder, seededGptWeights } from '../lib/engine/onnx-gpt.js';
import { TINY_BASE_VOCAB } from '../lib/engine/tokenizer.js';
import { main, listCommands } from '../lib/cli.js';
import { projectRoot } from '../lib/repro/project.js';
import { capture } from './cli-io.js';

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
  assert.equal(io.err, 'ipt parse: 1 pair; 1 piece dropped (1 × repeats an earlier question (ignoring case))\n');
  const keep = capture(output);
  assert.equal(await main(['parse', '--keep-duplicates'], keep), 0);
  assert.equal(JSON.parse(keep.out).length, 2);
  assert.equal(keep.err, '');
});

test('ipt parse on garbage: [] on stdout, the dropped pieces counted by reason on stderr, exit 1', async () => {
  const garbage = 'lorem ipsum </END> <QUE> q <ANS> </END> <QUE> a <ANS> b <ANS> c </END> trailing text';
  const io = capture(garbage);
  assert.equal(await main(['parse'], io), 1);
  assert.equal(io.out, '[]\n');
  assert.equal(
    io.err,
    'ipt parse: no pairs in stdin: 4 pieces dropped (1 × no <ANS> between question and answer | 1 × empty answer | 1 × 2 <ANS> markers; a pair has exactly one | 1 × cut off: the output does not end with </END>); a pair is <QUE> question <ANS> answer </END>\n',
  );
  const empty = capture('');
  assert.equal(await main(['parse'], empty), 1);
  assert.equal(empty.out, '[]\n');
  assert.match(empty.err, /no pairs in stdin: no text to parse/);
  const mixed = capture('<QUE> Who? <ANS> Cat </END> <QUE> cut');
  assert.equal(await main(['parse'], mixed), 0);
  assert.equal(mixed.err, 'ipt parse: 1 pair; 1 piece dropped (1 × cut off: the output does not end with </END>)\n');
});

test('the bin entry runs as a process', () => {
  const root = projectRoot();
  const r = spawnSync(process.execPath, [join(root, 'dist', 'lib', 'cli.js'), 'prompt'], {
    input: 'x',
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '<s> <CON> x </CON>\n\n');
});

test('engine and sampling flags are usage errors (exit 2) before anything is loaded', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ipt-cli-'));
  try {
    const out = join(tmp, 'run');
    // the input does not exist: these must be refused before it is read
    const synth = ['synthesize', '--input', join(tmp, 'missing.jsonl'), '--out', out];
    const help =
      'use onnx:DIR \\(a model folder run here by ONNX Runtime\\), gguf:FILE or gguf:REPO\\[:FILE\\] \\(.*\\), or openai:URL \\(';
    const cases: Array<[string[], RegExp]> = [
      [[...synth, '--engine', 'bogus'], new RegExp(`^ipt synthesize: unknown engine "bogus": ${help}`)],
      [[...synth, '--engine', 'onnx:'], new RegExp(`^ipt synthesize: unknown engine "onnx:": ${help}`)],
      [
        [...synth, '--engine', 'onnx:m', '--provider', 'gpu'],
        /^ipt synthesize: --provider must be one of cpu, webgpu, cuda, auto, vulkan, metal, got "gpu"\n$/,
      ],
      [
        [...synth, '--engine', 'onnx:m', '--provider', 'vulkan'],
        /^ipt synthesize: --provider vulkan is a llama\.cpp backend; ONNX Runtime offers cpu, webgpu, cuda, auto/,
      ],
      [
        [...synth, '--engine', 'onnx:m', '--temperature=-1'],
        /^ipt synthesize: --temperature must be >= 0 \(0 is greedy\), got "-1"\n$/,
      ],
      [[...synth, '--engine', 'onnx:m', '--top-p', '5'], /^ipt synthesize: --top-p must be in \(0, 1\], got "5"\n$/],
      [[...synth, '--engine', 'onnx:m', '--top-p', '0'], /^ipt synthesize: --top-p must be in \(0, 1\], got "0"\n$/],
      [
        ['serve', '--model', join(tmp, 'm'), '--port', '70000'],
        /^ipt serve: --port must be 0\.\.65535 \(0 picks a free one\), got "70000"\n$/,
      ],
      [
        ['serve', '--model', join(tmp, 'm'), '--provider', 'gpu'],
        /^ipt serve: --provider must be one of cpu, webgpu, cuda, auto, vulkan, metal, got "gpu"\n$/,
      ],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      assert.equal(await main(args, io), 2, `${args.join(' ')}: ${io.err}`);
      assert.match(io.err, message);
    }
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('ipt serve on a port in use says so and how to choose another', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ipt-cli-'));
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const cfg = {
      vocabSize: TINY_BASE_VOCAB,
      contextLength: 16,
      width: 8,
      heads: 1,
      layers: 1,
      mlpRatio: 1,
      layerNormEps: 1e-5,
    };
    writeGptModelFolder(join(tmp, 'm'), { cfg, weights: seededGptWeights(cfg, 1) });
    const port = (blocker.address() as AddressInfo).port;
    const io = capture();
    assert.equal(await main(['serve', '--model', join(tmp, 'm'), '--port', String(port), '--threads', '1'], io), 1);
    assert.equal(
      io.err,
      `ipt serve: port ${port} on 127.0.0.1 is in use: choose another --port (0 picks a free one)\n`,
    );
  } finally {
    blocker.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('ipt train names the --config file in its errors and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cli-config-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.jsonl'), JSON.stringify({ text: 'The cat says meow.' }) + '\n');
    const files: Record<string, string> = {
      'empty.json': '',
      'corrupt.json': '{"train": {}} x',
      'list.json': '[]',
      'section.json': '{"optimizer": {}}',
    };
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
