// Committed notebooks carry no outputs, and a run does not make git dirty: env/strip-notebook.mjs
// is the clean filter .gitattributes names for notebooks/*.ipynb (env/setup.sh and `npm run
// notebook` configure it). Checked with real git in a temporary repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { projectRoot } from '../lib/repro/project.js';

const root = projectRoot();
const script = join(root, 'env', 'strip-notebook.mjs');
const notebooks = readdirSync(join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();

function strip(text: string): string {
  const r = spawnSync(process.execPath, [script], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

type Nb = {
  cells: Array<{
    cell_type: string;
    id?: string;
    outputs?: unknown[];
    execution_count?: number | null;
    metadata: Record<string, unknown>;
  }>;
};

/** A notebook as Jupyter saves it after a run: outputs, counts, timings, the kernel's language info, sources as lines. */
function executed(text: string): string {
  const nb = JSON.parse(text) as Nb & { metadata: Record<string, unknown> };
  nb.metadata.language_info = {
    name: 'typescript',
    version: '3.7.2',
    mimetype: 'text/typescript',
    file_extension: '.ts',
  };
  nb.cells.forEach((c, i) => {
    const cell = c as typeof c & { source: string | string[] };
    if (typeof cell.source === 'string') cell.source = cell.source.split(/(?<=\n)/);
    if (c.cell_type !== 'code') return;
    c.outputs = [
      {
        output_type: 'display_data',
        data: { 'text/html': '<script>/* 2.7 MB of plotly.js */</script>' },
        metadata: {},
      },
    ];
    c.execution_count = i;
    c.metadata.execution = { 'iopub.status.busy': '2026-12-02T09:00:00Z' };
  });
  return JSON.stringify(nb, null, 1) + '\n';
}

test("committed notebooks have no outputs; those with cell ids are in the filter's normal form", (t) => {
  assert.ok(notebooks.length >= 7);
  for (const nb of notebooks) {
    const text = readFileSync(join(root, 'notebooks', nb), 'utf8');
    const parsed = JSON.parse(text) as Nb;
    for (const c of parsed.cells.filter((x) => x.cell_type === 'code')) {
      assert.deepEqual(
        [c.outputs, c.execution_count],
        [[], null],
        `${nb} is committed with outputs: node env/strip-notebook.mjs notebooks/${nb}`,
      );
    }
    assert.ok(text.length < 40_000, `${nb}: ${text.length} characters`);
    // a cell without an id gets a random one at every Jupyter save: such a notebook cannot stay clean
    if (parsed.cells.every((c) => typeof c.id === 'string'))
      assert.equal(strip(text), text, `${nb}: run node env/strip-notebook.mjs notebooks/${nb}`);
    else t.diagnostic(`${nb} has cells without ids: node env/strip-notebook.mjs notebooks/${nb} gives them ids`);
  }
});

test("the strip filter removes outputs, counts, timings and the kernel's language details, and passes anything else through", () => {
  const clean = readFileSync(join(root, 'notebooks', notebooks[0]), 'utf8');
  const run = executed(clean);
  assert.notEqual(run, clean);
  assert.equal(strip(run), clean);
  for (const other of ['', 'not json', '<<<<<<< HEAD\n{"cells": []}\n', '{"a": 1}']) assert.equal(strip(other), other);
});

test('with the filter configured, an executed notebook leaves git clean', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-nbgit-'));
  const git = (...args: string[]) =>
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, encoding: 'utf8' });
  try {
    for (const d of ['notebooks', 'env']) mkdirSync(join(dir, d));
    copyFileSync(join(root, '.gitattributes'), join(dir, '.gitattributes'));
    copyFileSync(script, join(dir, 'env', 'strip-notebook.mjs'));
    copyFileSync(join(root, 'env', 'setup.sh'), join(dir, 'env', 'setup.sh'));
    const nb = join(dir, 'notebooks', notebooks[0]);
    copyFileSync(join(root, 'notebooks', notebooks[0]), nb);
    assert.equal(git('init', '-q').status, 0);
    assert.equal(spawnSync('bash', ['env/setup.sh', '--git-filter'], { cwd: dir, encoding: 'utf8' }).status, 0);
    assert.equal(git('add', '.').status, 0);
    assert.equal(git('commit', '-qm', 'clean notebooks').status, 0);
    writeFileSync(nb, executed(readFileSync(nb, 'utf8')));
    // git's status trusts the file size and lists the notebook until the index is refreshed; the
    // diff runs the filter and is empty, and adding stages nothing
    assert.equal(git('diff', '--stat').stdout, '', 'an executed notebook differs in nothing git keeps');
    assert.equal(git('add', 'notebooks').status, 0);
    assert.equal(git('diff', '--cached', '--stat').stdout, '');
    assert.equal(git('status', '--porcelain').stdout, '');
    assert.match(readFileSync(nb, 'utf8'), /2\.7 MB of plotly/, 'the file on disk keeps its outputs');
    // an edit to a cell's source is still a change
    writeFileSync(nb, readFileSync(nb, 'utf8').replace('"# 01', '"# 01 (edited)'));
    assert.match(git('status', '--porcelain').stdout, /notebooks\//);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
