// `ipt coverage` end to end on the committed example run: the files it writes, what they hold, the
// PNG figures, and the errors for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main, type Io } from '../../lib/cli.js';
import { dataPath } from '../../lib/repro/project.js';
import { readSynthesisRun } from '../../lib/tasks/input.js';
import { computeCoverage } from '../../lib/tasks/coverage.js';
import { createClassifier } from '../../lib/tasks/classify.js';
import { pngSize } from './browser-check.js';

function capture(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s), readStdin: () => '' };
  return io;
}

const example = dataPath('examples', 'synthesis-run');

test('ipt coverage writes coverage.json, labels, an HTML report and a manifest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    const io = capture();
    assert.equal(await main(['coverage', '--input', example, '--out', dir, '--png', 'no', '--top', '3'], io), 0, io.err);
    assert.match(io.out, /^synthesis-run: 39 pairs from 9 texts, \d+ of 48 categories in \d+ families, "other" \d+\.\d%\n/);
    assert.match(io.out, /category\s+family\s+pairs\s+share\n/);
    const cov = JSON.parse(readFileSync(join(dir, 'coverage.json'), 'utf8'));
    const { labels, ...expected } = computeCoverage(readSynthesisRun(example), { classifier: createClassifier() });
    assert.deepEqual(cov, JSON.parse(JSON.stringify(expected)));
    const lines = readFileSync(join(dir, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 39);
    assert.deepEqual(lines.map((l) => l.category), labels.map((l) => l.category));
    assert.ok(lines.every((l) => typeof l.question === 'string' && typeof l.rule === 'string' && typeof l.text === 'string'));
    const html = readFileSync(join(dir, 'coverage.html'), 'utf8');
    assert.equal(html.match(/class="ipt-figure"/g)?.length, 5); // sunburst, categories, answer words, answer shapes, pairs per text
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.outputs.map((o: { path: string }) => o.path), ['coverage.json', 'labels.jsonl', 'coverage.html']);
    assert.equal(manifest.totals.pairs, 39);
    assert.ok(!existsSync(join(dir, 'figures')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipt coverage --png yes writes one PNG per figure', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    const io = capture();
    assert.equal(await main(['coverage', '--input', example, '--out', dir, '--png', 'yes'], io), 0, io.err);
    for (const f of ['sunburst', 'categories', 'answerWords', 'answerShapes', 'pairsPerText']) {
      const size = pngSize(readFileSync(join(dir, 'figures', `${f}.png`)));
      assert.equal(size.width, 900, f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run killed mid-append: the cut line is skipped with a warning, the rest counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    cpSync(example, join(dir, 'run'), { recursive: true });
    appendFileSync(join(dir, 'run', 'chains.jsonl'), '[{"context":"half a li');
    const io = capture();
    assert.equal(await main(['coverage', '--input', join(dir, 'run'), '--out', join(dir, 'out'), '--png', 'no'], io), 0, io.err);
    assert.match(io.err, /warning: .*chains\.jsonl:5: skipped a last line cut off mid-write/);
    assert.match(io.out, /39 pairs from 9 texts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: hf: datasets, missing paths, bad lines and options exit 2 with a clear message', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['coverage', '--input', '/no/such/file.jsonl'], /no such file or folder/],
    [['coverage'], /--input is required/],
    [['coverage', '--input', example, '--png', 'maybe'], /--png must be auto, yes or no/],
  ];
  for (const [argv, message] of cases) {
    const io = capture();
    assert.equal(await main(argv, io), 2, argv.join(' '));
    assert.match(io.err, message);
  }
  // hf: offline with nothing cached: the hub's error names the repo and the command to run
  const saved = { offline: process.env.HF_HUB_OFFLINE, cache: process.env.HF_HUB_CACHE };
  process.env.HF_HUB_OFFLINE = '1';
  process.env.HF_HUB_CACHE = mkdtempSync(join(tmpdir(), 'ipt-cov-cache-'));
  try {
    const io = capture();
    assert.equal(await main(['coverage', '--input', 'hf:org/pairs'], io), 1);
    assert.match(io.err, /org\/pairs/);
    assert.match(io.err, /ipt download/);
  } finally {
    for (const [k, v] of [['HF_HUB_OFFLINE', saved.offline], ['HF_HUB_CACHE', saved.cache]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    const bad = join(dir, 'bad.jsonl');
    appendFileSync(bad, '{"text":"no pairs here"}\n');
    const io = capture();
    assert.equal(await main(['coverage', '--input', bad, '--out', join(dir, 'o')], io), 1);
    assert.match(io.err, /bad\.jsonl:1: unrecognised record; each line must be/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
