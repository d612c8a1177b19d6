// Messages a user can act on, from the adversarial run of issue 14: negative numbers parse (or are refused
// naming the option, never Node's "argument is ambiguous"); a vocabulary too large for the BPE, a deeply
// nested JSON line, a number JSON reads as Infinity, a missing or folder --config file and a read-only
// output folder are each said in plain words naming the file or option (never the hidden temp file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { projectRoot } from '../lib/repro/project.js';
import { runCli as run } from './cli-io.js';

test('negative numbers reach the option checks: accepted where allowed, refused by name otherwise', async () => {
  const refused: Array<[string[], string]> = [
    [['corpus', 'sample', 'brown', '--n', '-1'], 'ipt corpus sample: --n must be a positive integer, got -1\n'],
    [['rules', '--input', 'brown', '--n', '-1'], 'ipt rules: --n must be an integer >= 1, got "-1"\n'],
    [
      ['corpus', 'chunk', 'brown', '--max-tokens', '-5'],
      'ipt corpus chunk: --max-tokens must be an integer >= 1, got -5\n',
    ],
    [['render', '--input', 'x.jsonl', '--seed', '-1.5'], 'ipt render: --seed must be an integer, got "-1.5"\n'],
  ];
  for (const [argv, message] of refused) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err, message);
  }
  const ok = await run(['corpus', 'sample', 'brown', '--n', '1', '--seed', '-3', '--genre', 'news']);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(ok.out.trim().split('\n').length, 1);
  // a value that only looks like an option is still an unknown option when it is one
  const flag = await run(['corpus', 'sample', 'brown', '--n', '--seed']);
  assert.equal(flag.code, 2);
  assert.doesNotMatch(flag.err, /ambiguous/);
});

test('a vocabulary too large for the BPE, a number read as Infinity and a missing or folder --config say what to change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-messages-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.jsonl'), JSON.stringify({ text: 'The cat says meow. '.repeat(20) }) + '\n');
    const config = join(dir, 'config.json');
    const train = async (cfg: string) => {
      writeFileSync(config, cfg);
      return run(['train', '--config', config, '--data', data, '--out', join(dir, 'out')]);
    };
    let r = await train(
      JSON.stringify({ model: { vocabSize: 70000, width: 16, heads: 2, layers: 1, contextLength: 16 } }),
    );
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      "ipt train: vocabSize 70000 is too large for the kit's BPE tokenizer (at most 65536 tokens): choose vocabSize <= 65536, or put a tokenizer.json in the data folder\n",
    );
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'data'], 'nothing written');
    r = await train('{"model": {"layerNormEps": 1e999}}');
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `ipt train: ${config}: model.layerNormEps is not a finite number (1e999 and the like read as Infinity): give a finite number\n`,
    );

    const ablate = async (cfg: string) => {
      writeFileSync(config, cfg);
      return run(['ablate', '--profile', 'ci', '--config', config, '--dry-run']);
    };
    r = await ablate('{"corpus": {"contextBytes": 1e999}}');
    assert.equal(
      r.err,
      `ipt ablate: ${config}: corpus.contextBytes is not a finite number (1e999 and the like read as Infinity): give a finite number\n`,
    );
    r = await ablate('{"tokenizer": {"vocabSize": 70000}}');
    assert.match(
      r.err,
      /^ipt ablate: ablation config: tokenizer\.vocabSize 70000 is too large for the kit's BPE tokenizer \(at most 65536 tokens\)/,
    );
    r = await run(['ablate', '--config', join(dir, 'nope.json'), '--dry-run']);
    assert.equal(r.code, 1);
    assert.equal(r.err, `ipt ablate: ${join(dir, 'nope.json')}: no such file (the --config JSON file)\n`);
    r = await run(['ablate', '--config', dir, '--dry-run']);
    assert.equal(r.err, `ipt ablate: ${dir}: is a folder; --config takes a JSON file\n`);
    writeFileSync(config, '{"seeds": [1,');
    r = await run(['ablate', '--config', config, '--dry-run']);
    assert.match(r.err, new RegExp(`^ipt ablate: ${config}: not valid JSON \\(.*\\)\n$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipt render on a deeply nested JSON line names the line, not "Maximum call stack size exceeded"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-messages-'));
  try {
    const input = join(dir, 'deep.jsonl');
    writeFileSync(input, '['.repeat(200_000) + ']'.repeat(200_000) + '\n');
    const r = await run(['render', '--input', input]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `ipt render: ${input}:1: entry 0: expected an object {context, pairs, inheritFromPrev}, got a value nested too deeply to show\n`,
    );
    assert.doesNotMatch(r.err, /call stack/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-only output folder is named with the output file, not the hidden temporary file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-messages-'));
  try {
    chmodSync(dir, 0o755);
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');
    // root may write anywhere: run the command as nobody then, which needs a checkout nobody can read
    // (a clone under /root, mode 700, is not: found on a fresh Debian machine)
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (
      'uid' in asUser &&
      spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(cli)})`], asUser).status !== 0
    ) {
      t.skip(
        `running as root, and user nobody cannot read ${cli}: clone the kit into a folder others can read to run this test`,
      );
      return;
    }
    for (const argv of [
      ['rules', '--input', 'brown', '--n', '2', '--out', join(ro, 'pairs.jsonl')],
      ['corpus', 'sample', 'brown', '--n', '2', '--out', join(ro, 'sample.jsonl')],
    ]) {
      const r = spawnSync(process.execPath, [cli, ...argv], {
        encoding: 'utf8',
        env: { ...process.env, IPT_PROGRESS: 'silent' },
        ...asUser,
      });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(
        r.stderr,
        `ipt ${argv[0] === 'corpus' ? 'corpus sample' : 'rules'}: permission denied: ${argv.at(-1)}\n`,
      );
    }
    assert.deepEqual(readdirSync(ro), []);
  } finally {
    chmodSync(join(dir, 'ro'), 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});
