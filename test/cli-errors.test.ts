// What the user reads when a command meets a bad path or a bad option: Node's file-system errors said in
// plain words (whichever command they come from), one usage line after an option error, and nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main, type Io } from '../lib/cli.js';

function capture(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s), readStdin: () => '' };
  return io;
}

async function run(argv: string[]): Promise<{ code: number; err: string; out: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, err: io.err, out: io.out };
}

test('file-system errors name the path and what to do, without Node error codes in front', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cli-errors-'));
  try {
    const file = join(dir, 'afile');
    writeFileSync(file, 'hello\n');
    mkdirSync(join(dir, 'folder'));

    let r = await run(['rules', '--input', 'brown', '--n', '2', '--out', join(file, 'x.jsonl')]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `ipt rules: cannot create the folder ${file}: a file of that name is in the way; choose another output path\n`);

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
  assert.equal(r.err, "ipt rules: Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--bogus\"\nusage: ipt rules [options]   (ipt rules --help lists the options)\n");
});
