// Executes every notebook in notebooks/ headless (Jupyter nbconvert + nbclient, tslab kernel) and
// fails on any error output. Notebooks read IPT_PROFILE=ci and run small configurations of the
// same code paths.
// needs env/setup.sh: Jupyter's nbconvert/nbclient, the tslab kernel, Chromium (npm test runs it when missing).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, delimiter } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { projectRoot } from '../lib/repro/project.js';
import { launchChromium } from '../lib/report/png.js';
import { checkPage } from './report/browser-check.js';

const root = projectRoot();
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
// One temporary runs folder for the whole file: notebooks 06 and 07 read the ablation run notebook 05
// made (as they do for a user), and nothing is written into the checkout.
const runsDir = mkdtempSync(join(tmpdir(), 'ipt-nb-runs-'));
after(() => rmSync(runsDir, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: [join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter),
  IPT_PROFILE: 'ci',
  IPT_RUNS_DIR: runsDir,
  IPT_NOTEBOOK_ONLINE: '0',
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
};
// progress as a user sees it: the kernel picks the notebook display by itself (run-tests sets silent)
delete env.IPT_PROGRESS;

type Output = {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  data?: Record<string, string | string[]>;
};
type Cell = { cell_type: string; source: string | string[]; outputs?: Output[] };

function ensureKernel(): void {
  const check = spawnSync(python, ['-m', 'nbconvert', '--version'], { env, encoding: 'utf8' });
  assert.equal(check.status, 0, `Jupyter's nbconvert is missing for ${python}: run env/setup.sh\n${check.stderr}`);
  const reg = spawnSync('bash', [join(root, 'env', 'register-kernel.sh')], { env, encoding: 'utf8' });
  assert.equal(reg.status, 0, `registering the tslab kernel failed:\n${reg.stdout}\n${reg.stderr}`);
}

const notebooks = readdirSync(join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();

test('there are notebooks to run', () => {
  // exactly the ones the README's notebook table lists, each a JSON notebook with code cells (a renamed, lost or empty notebook fails here)
  const listed = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/^\| `(\d\d-[\w-]+\.ipynb)` \|/gm)]
    .map((m) => m[1])
    .sort();
  assert.ok(listed.length > 0, 'the README lists the notebooks');
  assert.deepEqual(notebooks, listed);
  for (const nb of notebooks)
    assert.ok(
      (JSON.parse(readFileSync(join(root, 'notebooks', nb), 'utf8')) as { cells: Cell[] }).cells.some(
        (c) => c.cell_type === 'code',
      ),
      `${nb} has code cells`,
    );
});

/**
 * Notebook 08 reads benchmark datasets from the Hub: in CI a loopback hub serves small copies in the
 * Hub's layouts (test/eval/fixtures.ts). It runs in its own process, since nbconvert blocks this one.
 */
async function fixtureHub(): Promise<{ env: Record<string, string>; stop: () => void }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'test', 'eval', '_fixture-hub.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.on('exit', (code) => reject(new Error(`the fixture hub exited (${code})`)));
  });
  const cache = mkdtempSync(join(tmpdir(), 'ipt-nb-hf-'));
  return {
    env: { HF_ENDPOINT: url, HF_HUB_CACHE: cache, HF_TOKEN: '', HF_HUB_OFFLINE: '0' },
    stop: () => {
      child.stdin.end();
      child.kill();
      rmSync(cache, { recursive: true, force: true });
    },
  };
}

for (const nb of notebooks) {
  test(`notebook ${nb} runs without errors and its figures draw`, { timeout: 20 * 60_000 }, async (t) => {
    ensureKernel();
    const out = mkdtempSync(join(tmpdir(), 'ipt-nb-'));
    const hub = nb.startsWith('08-') ? await fixtureHub() : undefined;
    try {
      const run = spawnSync(
        python,
        [
          '-m',
          'nbconvert',
          '--to',
          'notebook',
          '--execute',
          '--ExecutePreprocessor.kernel_name=tslab',
          '--ExecutePreprocessor.timeout=1200',
          '--output-dir',
          out,
          join(root, 'notebooks', nb),
        ],
        { env: { ...env, ...hub?.env }, encoding: 'utf8', cwd: join(root, 'notebooks'), maxBuffer: 64 * 2 ** 20 },
      );
      assert.equal(run.status, 0, `nbconvert failed on ${nb}:\n${run.stderr.slice(-6000)}`);
      const executed = JSON.parse(readFileSync(join(out, nb), 'utf8')) as { cells: Cell[] };
      const code = executed.cells.filter((c) => c.cell_type === 'code');
      assert.ok(code.length > 0, `${nb} has no code cells`);
      for (const [i, cell] of code.entries()) {
        for (const o of cell.outputs ?? []) {
          const text = Array.isArray(o.text) ? o.text.join('') : (o.text ?? '');
          assert.notEqual(o.output_type, 'error', `${nb} code cell ${i}: ${o.ename}: ${o.evalue}`);
          assert.ok(
            !(o.output_type === 'stream' && o.name === 'stderr' && /\b(Error|Exception)\b/.test(text)),
            `${nb} code cell ${i} wrote an error: ${text}`,
          );
        }
      }
      checkProgress(nb, code);
      checkWholeTables(nb, code);
      t.diagnostic(
        `${nb}: executed ${statSync(join(out, nb)).size} bytes (committed ${statSync(join(root, 'notebooks', nb)).size})`,
      );
      if (nb.startsWith('07-')) {
        // notebook 05 ran first in this file: 07 puts its tiny synthesizer's pairs beside the rules'
        const stdout = code
          .flatMap((c) => c.outputs ?? [])
          .filter((o) => o.name === 'stdout')
          .map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
          .join('');
        assert.match(stdout, /tiny synthesizer \(M=2\): \d+ pairs from \d+ texts/);
      }
      if (nb.startsWith('08-')) {
        // the suites ran on the fixtures and the verdicts were written out, whatever they were
        const stdout = code
          .flatMap((c) => c.outputs ?? [])
          .filter((o) => o.name === 'stdout')
          .map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
          .join('');
        assert.match(stdout, /\| *mmlu *\|/);
        assert.match(stdout, /of the 9 differences|differences are beyond noise/);
        assert.match(stdout, /\d+ examples from squad, race/);
        assert.match(stdout, /1-shot minus 0-shot token F1: .* over \d+ questions: (gain|loss|within noise)/);
      }
      await drawnInBrowser(nb, join(out, nb), executed.cells);
    } finally {
      hub?.stop();
      rmSync(out, { recursive: true, force: true });
    }
  });
}

const textOf = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));

/**
 * Long steps show one progress bar each, updated in place (update_display_data, which nbclient applies
 * to the output it first made): finished bars, never a stream of progress lines. Notebook 04 trains
 * (its bar must be there); every notebook is held to no progress lines on stderr.
 */
function checkProgress(nb: string, code: Cell[]): void {
  const outputs = code.flatMap((c) => c.outputs ?? []);
  const lines = outputs
    .filter((o) => o.output_type === 'stream')
    .flatMap((o) => textOf(o.text).split('\n'))
    .filter((l) => /^\S[^:\n]{0,80}: \d+% /.test(l));
  assert.deepEqual(lines, [], `${nb}: progress printed as lines`);
  const bars = outputs.map((o) => textOf(o.data?.['text/html'])).filter((h) => h.includes('class="ipt-progress"'));
  for (const b of bars) assert.match(b, /✓ 100% /, `${nb}: a progress bar left unfinished: ${b}`);
  if (nb.startsWith('04-')) {
    const train = bars.filter((b) => b.includes('<b>train</b>'));
    assert.equal(train.length, 1, `${nb}: one training progress bar, got ${train.length}`);
    assert.match(train[0], /<progress value="30" max="30"[^>]*><\/progress> <b>train<\/b> ✓ 100% 30\/30 steps/);
  }
}

/** Tables are shown whole (danfojs' print stops at 10 rows); figures that come in a group sit in a grid. */
function checkWholeTables(nb: string, code: Cell[]): void {
  const html = code.flatMap((c) => c.outputs ?? []).map((o) => textOf(o.data?.['text/html']));
  if (nb.startsWith('02-')) {
    const genres = html.find((h) => h.includes('<caption>Brown corpus: documents and mean length per genre</caption>'));
    assert.ok(genres, `${nb}: no genre table`);
    assert.equal((genres.match(/<tr>/g) ?? []).length, 16, `${nb}: the genre table must show all 15 genres`);
  }
  if (nb.startsWith('07-')) {
    const grid = html.find((h) => h.startsWith('<div class="ipt-figure-grid"'));
    assert.ok(grid && (grid.match(/class="ipt-figure"/g) ?? []).length >= 3, `${nb}: the sunbursts are not in a grid`);
  }
}

function figureOutputs(cells: Cell[]): number {
  const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));
  return cells
    .flatMap((c) => c.outputs ?? [])
    .reduce((n, o) => n + (text(o.data?.['text/html']).match(/class="ipt-figure"/g)?.length ?? 0), 0);
}

/**
 * The figures a notebook displayed must draw when the executed notebook is viewed: nbconvert renders
 * it to HTML (what `jupyter nbconvert --to html` gives a reader) and real Chromium opens it.
 */
async function drawnInBrowser(nb: string, executed: string, cells: Cell[]): Promise<void> {
  const expected = figureOutputs(cells);
  if (expected === 0) return;
  const conv = spawnSync(python, ['-m', 'nbconvert', '--to', 'html', executed], { env, encoding: 'utf8' });
  assert.equal(conv.status, 0, `nbconvert --to html failed on ${nb}:\n${conv.stderr.slice(-3000)}`);
  const browser = await launchChromium();
  try {
    // nbconvert's page asks for Debian's require.js and MathJax by file URL; they are optional.
    const check = await checkPage(browser, pathToFileURL(executed.replace(/\.ipynb$/, '.html')).href, {
      allowMissing: /\/usr\/share\/javascript\//,
    });
    assert.deepEqual(check.consoleErrors, [], `${nb}: console errors in the rendered notebook`);
    assert.deepEqual(check.externalRequests, [], `${nb}: the rendered notebook fetched from the network`);
    assert.equal(
      check.figures.length,
      expected,
      `${nb}: ${expected} figures displayed, ${check.figures.length} on the page`,
    );
    for (const f of check.figures) assert.ok(f.svg && f.points > 0, `${nb}: figure ${f.id} did not draw`);
    assert.ok(check.inkShare > 0.02, `${nb}: the rendered notebook looks blank`);
  } finally {
    await browser.close();
  }
}
