// `npm run bench -- report [repeats]`: size and opening time of a coverage report with plotly.js
// inlined plain (10 MB) or gzip+base64 (decompressed in the page), in headless Chromium; and the time
// to render one figure to PNG. Medians over `repeats` page loads (default 5) in one browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { readSynthesisRun } from '../../lib/tasks/input.js';
import { computeCoverage } from '../../lib/tasks/coverage.js';
import { createClassifier } from '../../lib/tasks/classify.js';
import { coverageFigures, coverageReport } from '../../lib/report/coverage.js';
import { figureCount, writeReport } from '../../lib/report/report.js';
import { FigureRenderer, launchChromium } from '../../lib/report/png.js';
import { dataPath } from '../../lib/repro/project.js';
import { checkPage } from '../report/browser-check.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const repeats = Number(args[0] ?? 5);
  const { labels: _labels, ...cov } = computeCoverage(readSynthesisRun(dataPath('examples', 'synthesis-run')), {
    classifier: createClassifier(),
  });
  const report = coverageReport([cov]);
  const dir = mkdtempSync(join(tmpdir(), 'ipt-bench-report-'));
  const browser = await launchChromium();
  const out: Record<string, unknown> = { figures: figureCount(report), repeats };
  try {
    for (const compress of [true, false]) {
      const key = compress ? 'compressed' : 'plain';
      const t0 = performance.now();
      const { path, bytes } = writeReport(join(dir, `${key}.html`), report, { compress });
      const writeMs = performance.now() - t0;
      const loads: number[] = [];
      const drawn: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const c = await checkPage(browser, pathToFileURL(path).href);
        if (c.consoleErrors.length) throw new Error(`${key}: ${c.consoleErrors.join('; ')}`);
        loads.push(c.loadMs);
        drawn.push(c.drawnMs);
        console.log(`${key} #${i + 1}: load event ${c.loadMs} ms, all figures drawn ${c.drawnMs} ms`);
      }
      out[key] = { bytes, writeMs: Math.round(writeMs), loadMsMedian: median(loads), drawnMsMedian: median(drawn) };
    }
  } finally {
    await browser.close();
  }
  const t1 = performance.now();
  const renderer = await FigureRenderer.start();
  const startMs = performance.now() - t1;
  const pngMs: number[] = [];
  try {
    const figs = Object.values(coverageFigures(cov));
    for (const f of figs) {
      const t = performance.now();
      await renderer.png(f);
      pngMs.push(performance.now() - t);
    }
  } finally {
    await renderer.close();
    rmSync(dir, { recursive: true, force: true });
  }
  out.png = { browserStartMs: Math.round(startMs), perFigureMsMedian: Math.round(median(pngMs)) };
  return out;
}
