#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's built-in test runner.
// `npm test` builds first; `npm test -- synth templates` runs only files whose path contains a filter.
//
// Test files whose header has a line starting `// needs env/setup.sh:` (notebooks, browser, PNG, live
// Notebook) need Debian's Jupyter runner, Chromium and the tslab kernel. When such a file is selected
// and `env/setup.sh --check` finds something missing, this runs env/setup.sh first (as root, or with
// sudo), saying so in one line; without root or sudo it fails with what to install. IPT_SETUP=skip
// skips the check (a machine set up another way: Jupyter from pip, IPT_CHROMIUM).
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
if (!existsSync(testDir)) {
  console.error('dist/test is missing: run `npm run build` first (npm test does it for you).');
  process.exit(1);
}
const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : full.endsWith('.test.js') ? [full] : [];
  });
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = walk(testDir)
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}
const needsSetup = files.filter((f) => /^\/\/ needs env\/setup\.sh:/m.test(readFileSync(f, 'utf8')));
if (needsSetup.length > 0 && process.env.IPT_SETUP !== 'skip') ensureMachine(needsSetup);

function ensureMachine(needing) {
  let check = spawnSync('bash', [join(root, 'env', 'setup.sh'), '--check'], { cwd: root, encoding: 'utf8' });
  // a shared machine may be installing packages this very moment: look again before installing
  if (check.status !== 0)
    check = spawnSync('bash', ['-c', 'sleep 3; bash env/setup.sh --check'], { cwd: root, encoding: 'utf8' });
  if (check.status === 0) return;
  const what = (check.stdout.trim() || check.stderr.trim() || 'the check failed').replace(/^missing: /, '');
  console.log(
    `npm test: ${needing.length} test file(s) need env/setup.sh and this machine lacks ${what}: running env/setup.sh (Debian packages, kernel registration; once)`,
  );
  const started = Date.now();
  const setup = spawnSync('bash', [join(root, 'env', 'setup.sh')], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  if (setup.status !== 0) {
    process.stderr.write(setup.stdout.slice(-4000) + setup.stderr.slice(-4000));
    console.error(
      `npm test: env/setup.sh failed (exit ${setup.status}); the tests in ${needing.map((f) => relative(root, f)).join(', ')} cannot run without it. Install what it names, or run only other tests (npm test -- <filter>).`,
    );
    process.exit(1);
  }
  const again = spawnSync('bash', [join(root, 'env', 'setup.sh'), '--check'], { cwd: root, encoding: 'utf8' });
  if (again.status !== 0) {
    console.error(
      `npm test: env/setup.sh ran but the machine still lacks ${again.stdout.trim().replace(/^missing: /, '')}`,
    );
    process.stderr.write(setup.stdout.slice(-3000) + setup.stderr.slice(-3000));
    process.exit(1);
  }
  console.log(`npm test: env/setup.sh done in ${Math.round((Date.now() - started) / 1000)} s`);
}

const concurrency = Math.max(1, Math.min(2, cpus().length));
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...passThrough, ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, IPT_PROGRESS: process.env.IPT_PROGRESS ?? 'silent' },
});
process.exit(result.status ?? 1);
