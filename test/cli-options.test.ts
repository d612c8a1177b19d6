// Option values on the command line: negative numbers parse (or get an error that names the option, not
// Node's "argument is ambiguous"), and --threads has an upper bound with a message saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { runCli as run } from './cli-io.js';

test('--threads has an upper bound, checked before any work, for every command that takes it', async () => {
  const max = Math.max(4, 4 * availableParallelism());
  const expected = (cmd: string) =>
    `ipt ${cmd}: --threads must be a whole number from 1 to ${max} (this machine has ${availableParallelism()} cores; more threads than cores only cost memory), got "5000"\n`;
  for (const argv of [
    ['train', '--data', 'brown', '--out', '/nonexistent/never-written', '--threads', '5000'],
    ['ablate', '--profile', 'ci', '--dry-run', '--threads', '5000'],
    ['eval', '--model', '/nonexistent', '--tasks', 'x.json', '--threads', '5000'],
    ['serve', '--model', '/nonexistent', '--threads', '5000'],
    ['tiny-synth', 'train', '--out', '/nonexistent/never-written', '--threads', '5000'],
  ]) {
    const r = await run(argv);
    const name = argv[0] === 'tiny-synth' ? 'tiny-synth train' : argv[0];
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err.split('\n')[0] + '\n', expected(name));
    assert.equal(r.err.split('\n')[1], `usage: ${r.err.split('usage: ')[1].split('\n')[0]}`, 'then one usage line');
  }
  const zero = await run(['ablate', '--profile', 'ci', '--dry-run', '--threads', '0']);
  assert.equal(zero.code, 2);
  assert.match(zero.err, /--threads must be a whole number from 1 to \d+ .*got "0"/);
  const ok = await run(['ablate', '--profile', 'ci', '--dry-run', '--threads', String(max)]);
  assert.equal(ok.code, 0, ok.err);
});
