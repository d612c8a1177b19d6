// The stage cache: reuse by key, recompute on change, resume an unfinished folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runStage, stageDir, readStage } from '../../lib/repro/stages.js';

test('a finished stage is reused; a changed key or version recomputes', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'ipt-stage-'));
  let runs = 0;
  const spec = (key: unknown, version = 1) => ({
    name: 'double',
    version,
    key,
    async run({ dir }: { dir: string }) {
      runs++;
      writeFileSync(join(dir, 'out.txt'), String((key as { x: number }).x * 2));
      return { value: (key as { x: number }).x * 2 };
    },
  });
  const a = await runStage(cache, spec({ x: 2, y: [1, 2] }));
  assert.deepEqual([a.cached, a.result.value, runs], [false, 4, 1]);
  const b = await runStage(cache, spec({ y: [1, 2], x: 2 }));
  assert.deepEqual([b.cached, b.result.value, runs, b.dir], [true, 4, 1, a.dir], 'key order does not matter');
  const c = await runStage(cache, spec({ x: 3, y: [1, 2] }));
  assert.deepEqual([c.cached, c.result.value, runs], [false, 6, 2]);
  assert.notEqual(c.dir, a.dir);
  const d = await runStage(cache, spec({ x: 2, y: [1, 2] }, 2));
  assert.deepEqual([d.cached, runs], [false, 3]);
  assert.equal(readFileSync(join(a.dir, 'out.txt'), 'utf8'), '4');
});

test('a stage that died midway resumes in its folder; a failing stage leaves no stage.json', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'ipt-stage-'));
  const spec = {
    name: 'count',
    version: 1,
    key: { n: 5 },
    async run({ dir, resuming }: { dir: string; resuming: boolean }) {
      const file = join(dir, 'progress.txt');
      const start = existsSync(file) ? Number(readFileSync(file, 'utf8')) : 0;
      for (let i = start; i < 5; i++) {
        writeFileSync(file, String(i + 1));
        if (i === 2 && !resuming) throw new Error('killed');
      }
      return { resumedFrom: start, resuming };
    },
  };
  await assert.rejects(runStage(cache, spec), /killed/);
  assert.equal(readStage(cache, spec), undefined);
  assert.ok(!existsSync(join(stageDir(cache, spec), 'stage.json')));
  const again = await runStage(cache, spec);
  assert.deepEqual(again.result, { resumedFrom: 3, resuming: true });
  assert.equal(again.record.resumed, true);
});

test('stage names must be file-name safe', () => {
  assert.throws(() => stageDir('/tmp', { name: '../x', version: 1, key: 1 }), /stage name/);
});
