// The kit's code is formatted by Prettier at 120 columns (.prettierrc.json; `npm run format` rewrites it):
// npm test, and so CI, fails on a file that is not, naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { projectRoot } from '../lib/repro/project.js';

test('lib/, test/ and env/ are formatted (npm run format)', { timeout: 300_000 }, () => {
  const root = projectRoot();
  const cli = join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  createRequire(import.meta.url).resolve(cli); // prettier is a dev dependency: npm install brings it
  const run = spawnSync(process.execPath, [cli, '--check', 'lib', 'test', 'env'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, `not formatted (run npm run format):\n${run.stdout}${run.stderr}`);
});
