// An empty input is an error that names it, and never silently replaces an earlier output with nothing:
// ipt render, ipt coverage, ipt corpus sample and ipt corpus chunk leave their previous output as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli as run } from './cli-io.js';

/** Every file under a folder with its bytes, to compare before and after. */
function snapshot(path: string): Record<string, string> {
  if (!statSync(path).isDirectory()) return { '.': readFileSync(path, 'latin1') };
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full, `${rel}${name}/`);
      else out[`${rel}${name}`] = readFileSync(full, 'latin1');
    }
  };
  walk(path, '');
  return out;
}

test('an empty input is refused and the earlier output is left as it was', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-empty-'));
  try {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const blank = join(dir, 'blank.jsonl');
    writeFileSync(blank, '\n  \n');
    const chains = join(dir, 'chains.jsonl');
    writeFileSync(
      chains,
      JSON.stringify([
        {
          context: 'The cat sat on the mat.',
          pairs: [{ question: 'Where did the cat sit?', answer: 'On the mat.' }],
          inheritFromPrev: false,
        },
      ]) + '\n',
    );
    const docs = join(dir, 'docs.jsonl');
    writeFileSync(
      docs,
      JSON.stringify({ text: 'A first document with some words in it.' }) +
        '\n' +
        JSON.stringify({ text: 'A second document.' }) +
        '\n',
    );

    const cases: Array<{
      make: string[];
      again: (input: string) => string[];
      out: string;
      message: (input: string) => string;
    }> = [
      {
        make: ['render', '--input', chains, '--out', join(dir, 'prev.jsonl')],
        again: (i) => ['render', '--input', i, '--out', join(dir, 'prev.jsonl')],
        out: join(dir, 'prev.jsonl'),
        message: (i) =>
          `ipt render: ${i} holds no chains (it is empty); nothing was written, ${join(dir, 'prev.jsonl')} is left as it was\n`,
      },
      {
        make: ['coverage', '--input', chains, '--out', join(dir, 'prevcov'), '--png', 'no'],
        again: (i) => ['coverage', '--input', i, '--out', join(dir, 'prevcov'), '--png', 'no'],
        out: join(dir, 'prevcov'),
        message: (i) => `ipt coverage: ${i} holds no pairs or texts (it is empty); nothing was written\n`,
      },
      {
        make: ['corpus', 'sample', docs, '--n', '2', '--out', join(dir, 'prev-sample.jsonl')],
        again: (i) => ['corpus', 'sample', i, '--n', '2', '--out', join(dir, 'prev-sample.jsonl')],
        out: join(dir, 'prev-sample.jsonl'),
        message: (i) => `ipt corpus sample: ${i} holds no documents; nothing was written\n`,
      },
      {
        make: ['corpus', 'chunk', docs, '--out', join(dir, 'prev-chunks.jsonl')],
        again: (i) => ['corpus', 'chunk', i, '--out', join(dir, 'prev-chunks.jsonl')],
        out: join(dir, 'prev-chunks.jsonl'),
        message: (i) => `ipt corpus chunk: ${i} holds no documents; nothing was written\n`,
      },
    ];
    for (const c of cases) {
      const made = await run(c.make);
      assert.equal(made.code, 0, made.err);
      const before = snapshot(c.out);
      for (const input of [empty, blank]) {
        const r = await run(c.again(input));
        assert.notEqual(r.code, 0, `${c.again(input).join(' ')} must fail`);
        assert.equal(r.err, c.message(input));
        assert.deepEqual(snapshot(c.out), before, `${c.out} is unchanged`);
      }
    }
    assert.ok(
      readdirSync(dir).every((f) => !f.endsWith('.tmp')),
      'no temporary file left behind',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
