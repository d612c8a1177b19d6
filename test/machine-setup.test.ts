// `npm test` sets the machine up (env/setup.sh) before running the test files that need Chromium or
// Jupyter: the files that say so with a `// needs env/setup.sh:` header line (test/run-tests.mjs).
// A file that drives Chromium or Jupyter without that line would fail on a fresh machine whenever
// it runs without the others, so every such file must carry it. And `env/setup.sh --check` must
// report what is missing without installing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { projectRoot } from '../lib/repro/project.js';

const root = projectRoot();
const MARK = /^\/\/ needs env\/setup\.sh:/m;
// what needs the machine: a browser launch, PNG export, a Jupyter runner or server
const USES = /launchChromium|FigureRenderer|htmlFilePng|writeFigurePngs|'nbconvert'|'-m', 'notebook'|'--png', 'yes'/;

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? testFiles(full) : full.endsWith('.test.ts') ? [full] : [];
  });
}

test('every test file that drives Chromium or Jupyter says it needs env/setup.sh', () => {
  const files = testFiles(join(root, 'test')).filter((f) => !f.endsWith('machine-setup.test.ts')); // not this file's patterns
  const using = files.filter((f) => USES.test(readFileSync(f, 'utf8')));
  assert.ok(using.length >= 4, `found ${using.length}`);
  const unmarked = using.filter((f) => !MARK.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
  assert.deepEqual(unmarked, []);
});

test('env/setup.sh --check names what is missing on one line, installs nothing, and exits 1', () => {
  // a PATH where dpkg-query knows no package and python3 has no Jupyter: the fresh machine's view
  const bin = mkdtempSync(join(tmpdir(), 'ipt-fresh-bin-'));
  try {
    mkdirSync(join(bin, 'bin'));
    for (const [name, body] of [
      ['dpkg-query', 'exit 1'],
      ['python3', 'exit 1'],
      ['apt-get', 'echo apt-get must not run >&2; exit 9'],
    ]) {
      writeFileSync(join(bin, 'bin', name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, 'bin', name), 0o755);
    }
    const env = { ...process.env, PATH: `${join(bin, 'bin')}:/usr/bin:/bin` };
    // (the kernel check asks /usr/bin/python3 first, so "tslab kernel" shows only where that has none)
    const run = spawnSync('bash', [join(root, 'env', 'setup.sh'), '--check'], {
      env: { ...env, IPT_CHROMIUM: '' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 1, run.stderr);
    const line = run.stdout.trim();
    assert.equal(line.split('\n').length, 1);
    assert.match(
      line,
      /^missing: jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-notebook chromium fonts-dejavu-core( tslab kernel)?$/,
    );
    assert.equal(run.stderr, '');
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
