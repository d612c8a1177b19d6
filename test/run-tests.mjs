#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's built-in test runner.
// `npm test` builds first; `npm test -- synth templates` runs only files whose path contains a filter.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
if (!existsSync(testDir)) {
  console.error('dist/test is missing: run `npm run build` first (npm test does it for you).');
  process.exit(1);
}
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const full = join(dir, name);
  return statSync(full).isDirectory() ? walk(full) : full.endsWith('.test.js') ? [full] : [];
});
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = walk(testDir).sort().filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}
const concurrency = Math.max(1, Math.min(2, cpus().length));
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...passThrough, ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, IPT_PROGRESS: process.env.IPT_PROGRESS ?? 'silent' },
});
process.exit(result.status ?? 1);
