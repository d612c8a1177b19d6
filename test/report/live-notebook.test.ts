// Figures in a live Jupyter Notebook (Debian's classic Notebook 6, `jupyter notebook`), driven in
// real Chromium: run every cell of notebook 07, every figure draws; saved and reopened (trusted) they
// draw again without running anything; the same notebook changed elsewhere is untrusted and its
// figures stay empty until it is signed (`python3 -m nbformat.sign`, Debian's `jupyter trust`).
// Skipped, saying why, where Debian's jupyter-notebook is not installed (env/setup.sh installs it).
// needs env/setup.sh: the classic Jupyter Notebook, the tslab kernel, Chromium (npm test runs it when missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, delimiter } from 'node:path';
import { tmpdir } from 'node:os';
import type { Page } from 'playwright-core';
import { projectRoot } from '../../lib/repro/project.js';
import { launchChromium, waitForFigures } from '../../lib/report/png.js';

const root = projectRoot();
const python = '/usr/bin/python3';
const hasNotebook = spawnSync(python, ['-m', 'notebook', '--version'], { encoding: 'utf8' }).status === 0;
const NB = '07-task-coverage.ipynb';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitHttp(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`no answer from ${url} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function openNotebook(page: Page, url: string): Promise<{ trusted: boolean }> {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(
    'window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()',
    undefined,
    { timeout: 60_000 },
  );
  return { trusted: (await page.evaluate('Jupyter.notebook.trusted')) as boolean };
}

/** One cell: 40 steps of 100 ms through the kit's progress module, as a training loop reports them. */
function progressNotebook(): object {
  const source = [
    "const progress = await import('../dist/lib/repro/progress.js');",
    "const p = progress.createProgress({ label: 'live', total: 40, unit: 'steps' });",
    'for (let i = 1; i <= 40; i++) { await new Promise((r) => setTimeout(r, 100)); p.update(i); }',
    'p.stop();',
  ].join('\n');
  return {
    cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source }],
    metadata: {
      kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
      language_info: { name: 'typescript' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

const drawn = (page: Page) =>
  page.evaluate(
    `Array.from(document.querySelectorAll('.ipt-figure')).map((f) => f.classList.contains('js-plotly-plot') && f.querySelector('svg.main-svg') !== null)`,
  ) as Promise<boolean[]>;

test(
  'figures draw in a live classic Jupyter Notebook, and again when a trusted notebook is reopened; progress is one bar updated in place',
  { timeout: 240_000 },
  async (t) => {
    assert.ok(hasNotebook, "Debian's jupyter-notebook is not installed: run env/setup.sh");
    const dir = mkdtempSync(join(tmpdir(), 'ipt-live-nb-'));
    let server: ChildProcess | undefined;
    const browser = await launchChromium();
    try {
      mkdirSync(join(dir, 'notebooks'));
      copyFileSync(join(root, 'notebooks', NB), join(dir, 'notebooks', NB));
      for (const d of ['dist', 'data', 'node_modules']) symlinkSync(join(root, d), join(dir, d));
      copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
      // as after notebook 05 / npm start: a tiny-synthesizer run, so 07 shows four pair sets (the example
      // run's chains stand in for it)
      const stage = join(dir, 'runs', 'ablation-ci', 'stages', 'synth-tiny-pretrain-m2-example');
      mkdirSync(stage, { recursive: true });
      copyFileSync(join(root, 'data', 'examples', 'synthesis-run', 'chains.jsonl'), join(stage, 'chains.jsonl'));
      const env = {
        ...process.env,
        PATH: [join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter),
        IPT_PROFILE: 'ci',
        IPT_RUNS_DIR: join(dir, 'runs'),
        IPT_PROGRESS: '', // unset: progress as a user sees it (run-tests sets silent)
        JUPYTER_CONFIG_DIR: join(dir, '.jupyter-config'),
        JUPYTER_DATA_DIR: join(dir, '.jupyter-data'),
        JUPYTER_RUNTIME_DIR: join(dir, '.jupyter-runtime'),
        PYDEVD_DISABLE_FILE_VALIDATION: '1',
      };
      const port = await freePort();
      server = spawn(
        python,
        [
          '-m',
          'notebook',
          '--no-browser',
          `--port=${port}`,
          '--ip=127.0.0.1',
          '--NotebookApp.token=',
          '--NotebookApp.password=',
          '--allow-root',
          `--notebook-dir=${dir}`,
        ],
        { env, stdio: 'ignore' },
      );
      const base = `http://127.0.0.1:${port}`;
      await waitHttp(`${base}/api/status`, 30_000);
      const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));

      const first = await openNotebook(page, `${base}/notebooks/notebooks/${NB}`);
      assert.equal(first.trusted, false, 'a notebook without outputs opens untrusted');
      const t0 = Date.now();
      await page.evaluate('Jupyter.notebook.execute_all_cells()');
      await page.waitForFunction(
        "Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code').every((c) => typeof c.input_prompt_number === 'number')",
        undefined,
        { timeout: 180_000, polling: 250 },
      );
      await waitForFigures(page, 60_000);
      t.diagnostic(`ran ${NB} in ${Date.now() - t0} ms`);
      assert.equal(await page.locator('.output_error').count(), 0, 'a cell raised an error');
      const live = await drawn(page);
      assert.ok(live.length >= 5 && live.every(Boolean), `figures drawn live: ${live}`);
      // every figure whole: no output folded into the Notebook's scroll box, each plot as large as its box
      assert.equal(await page.locator('.output_scroll').count(), 0, 'an output was folded into a scroll box');
      const sizes = (await page.evaluate(
        `Array.from(document.querySelectorAll('.ipt-figure')).map((f) => { const s = f.querySelector('svg.main-svg').getBoundingClientRect(); const b = f.getBoundingClientRect(); return [Math.round(b.width), Math.round(s.width), Math.round(b.height), Math.round(s.height)]; })`,
      )) as number[][];
      for (const [bw, sw, bh, sh] of sizes)
        assert.ok(
          bw > 200 && Math.abs(sw - bw) <= 2 && Math.abs(sh - bh) <= 2,
          `a figure is cropped or squeezed: box ${bw}x${bh}, plot ${sw}x${sh}`,
        );

      await page.evaluate('Jupyter.notebook.save_notebook()');
      await page.waitForFunction('!Jupyter.notebook.dirty', undefined, { timeout: 30_000 });
      const reopened = await openNotebook(page, `${base}/notebooks/notebooks/${NB}`);
      assert.equal(reopened.trusted, true, 'a notebook saved by this server is trusted');
      await waitForFigures(page, 60_000);
      assert.deepEqual(
        await drawn(page),
        live.map(() => true),
        'saved outputs draw again without running',
      );

      // What Jupyter saved, with its outputs, is the committed notebook once git's clean filter has run
      const savedText = readFileSync(join(dir, 'notebooks', NB), 'utf8');
      assert.ok(savedText.length > 2_000_000, `the saved notebook holds its outputs (${savedText.length} characters)`);
      const stripped = spawnSync(process.execPath, [join(root, 'env', 'strip-notebook.mjs')], {
        input: savedText,
        encoding: 'utf8',
      });
      assert.equal(
        stripped.stdout,
        readFileSync(join(root, 'notebooks', NB), 'utf8'),
        'git would see a change in a notebook that was only run',
      );

      // The same outputs in a file this server did not sign (e.g. executed by nbconvert, or sent by someone).
      const saved = JSON.parse(savedText);
      saved.metadata.executed_elsewhere = true;
      writeFileSync(join(dir, 'notebooks', 'elsewhere.ipynb'), JSON.stringify(saved));
      const foreign = await openNotebook(page, `${base}/notebooks/notebooks/elsewhere.ipynb`);
      assert.equal(foreign.trusted, false);
      await page.waitForTimeout(3000);
      assert.ok(
        (await drawn(page)).every((d) => !d),
        'untrusted outputs must not run their scripts',
      );
      const sign = spawnSync(python, ['-m', 'nbformat.sign', join(dir, 'notebooks', 'elsewhere.ipynb')], {
        env,
        encoding: 'utf8',
      });
      assert.equal(sign.status, 0, sign.stderr);
      const signed = await openNotebook(page, `${base}/notebooks/notebooks/elsewhere.ipynb`);
      assert.equal(signed.trusted, true);
      await waitForFigures(page, 60_000);
      assert.ok((await drawn(page)).every(Boolean));

      // A long step shows one progress bar that updates in place while the cell runs.
      writeFileSync(join(dir, 'notebooks', 'progress.ipynb'), JSON.stringify(progressNotebook()));
      await openNotebook(page, `${base}/notebooks/notebooks/progress.ipynb`);
      await page.evaluate('Jupyter.notebook.execute_all_cells()');
      const seen = new Set<string>();
      let most = 0;
      for (let i = 0; i < 400; i++) {
        const state = (await page.evaluate(
          `(() => { const bars = Array.from(document.querySelectorAll('.output_area .ipt-progress')); return { n: bars.length, value: bars.map((b) => b.querySelector('progress').getAttribute('value')).join(','), done: Jupyter.notebook.get_cell(0).input_prompt_number }; })()`,
        )) as { n: number; value: string; done: number | null | string };
        most = Math.max(most, state.n);
        if (state.value) seen.add(state.value);
        if (typeof state.done === 'number') break;
        await page.waitForTimeout(100);
      }
      const final = await page.locator('.output_area .ipt-progress').allTextContents();
      t.diagnostic(`progress values seen while running: ${[...seen].join(' ')}`);
      assert.equal(most, 1, 'one progress output at any time, never a growing list');
      assert.ok(seen.size >= 3, `the bar updated in place while the cell ran: ${[...seen].join(' ')}`);
      assert.deepEqual(
        final.map((x) => x.trim().replace(/ \| .*$/, '')),
        ['live ✓ 100% 40/40 steps'],
      );
      assert.equal(await page.locator('.output_stderr').count(), 0, 'no progress lines on stderr');
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server!.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
