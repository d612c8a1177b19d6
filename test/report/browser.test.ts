// Real Chromium (Debian's, via playwright-core) opens generated reports offline: no console errors,
// no request leaves the machine, every figure is an SVG with data points, and the page is not blank.
// Also PNG export of single figures and whole reports, and the missing-Chromium error.
// needs env/setup.sh: Chromium (npm test runs it when missing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import {
  confusionHeatmap,
  coverageBar,
  coverageComparison,
  coverageSunburst,
  scoreChart,
  lineChart,
  throughputChart,
  trainingCurves,
  type CategoryCount,
} from '../../lib/report/figure.js';
import { figureCount, writeReport, type Report } from '../../lib/report/report.js';
import { FigureRenderer, htmlFilePng, launchChromium } from '../../lib/report/png.js';
import { histogramBars } from '../../lib/report/coverage.js';
import { checkPage, pngSize } from './browser-check.js';

const cats: CategoryCount[] = [
  { id: 'extractive-qa', family: 'qa', familyName: 'Question answering', count: 12 },
  { id: 'yes-no-qa', family: 'qa', familyName: 'Question answering', count: 5 },
  { id: 'sentiment', family: 'cls', familyName: 'Classification', count: 4 },
  { id: 'arithmetic', family: 'math', familyName: 'Arithmetic', count: 3 },
  { id: 'other', family: 'other', familyName: 'Other', count: 1 },
];

function everyFigureKind(): Report {
  return {
    title: 'Every figure kind',
    sections: [
      { kind: 'heading', text: 'Coverage' },
      { kind: 'figure', figure: coverageSunburst(cats) },
      { kind: 'figure', figure: coverageBar(cats) },
      {
        kind: 'figure',
        figure: coverageComparison([
          { name: 'rules', categories: cats },
          { name: 'tiny', categories: cats.slice(1) },
        ]),
      },
      {
        kind: 'figure',
        figure: histogramBars({ values: [1, 2, 5, 100], counts: [4, 9, 2, 1], cap: 100 }, { title: 'answer length' }),
      },
      { kind: 'heading', text: 'Training and evaluation' },
      {
        kind: 'figure',
        figure: scoreChart(
          [
            { task: 'piqa', arm: 'vanilla', mean: 0.52, lo: 0.45, hi: 0.6 },
            { task: 'piqa', arm: 'ipt', mean: 0.61, lo: 0.55, hi: 0.68 },
          ],
          { title: 'scores', yTitle: 'accuracy', chance: { piqa: 0.5 } },
        ),
      },
      {
        kind: 'figure',
        figure: trainingCurves(
          [{ name: 'vanilla', train: { step: [1, 2, 3], value: [3, 2.5, 2.2] }, eval: { step: [3], value: [2.4] } }],
          { title: 'loss' },
        ),
      },
      { kind: 'figure', figure: throughputChart([{ name: 'b16', x: [1, 2, 3], y: [9000, 9600, 9700] }]) },
      {
        kind: 'figure',
        figure: confusionHeatmap(
          ['a', 'b'],
          [
            [3, 1],
            [0, 4],
          ],
        ),
      },
      { kind: 'figure', figure: lineChart([{ name: 'one point', x: [1], y: [1] }], { title: 'single point' }) },
      { kind: 'table', rows: [{ category: 'extractive-qa', pairs: 12 }] },
      { kind: 'text', text: 'The end.' },
    ],
  };
}

let browser: Browser;
let dir: string;

before(async () => {
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'ipt-browser-'));
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const compress of [true, false]) {
  test(
    `a report (${compress ? 'compressed' : 'plain'} plotly) opens offline and draws every figure`,
    { timeout: 120_000 },
    async (t) => {
      const report = everyFigureKind();
      const file = join(dir, `report-${compress}.html`);
      const { bytes } = writeReport(file, report, { compress });
      const check = await checkPage(browser, pathToFileURL(file).href);
      t.diagnostic(
        `${(bytes / 1e6).toFixed(2)} MB; load event ${check.loadMs} ms; all figures drawn ${check.drawnMs} ms; ink ${(100 * check.inkShare).toFixed(1)}%`,
      );
      assert.deepEqual(check.consoleErrors, []);
      assert.deepEqual(check.externalRequests, []);
      assert.equal(check.figures.length, figureCount(report));
      for (const f of check.figures) {
        assert.ok(f.svg, `${f.id} has no SVG`);
        assert.ok(f.points > 0, `${f.id} drew no data points`);
      }
      assert.ok(check.inkShare > 0.03, `screenshot is nearly blank (${check.inkShare})`);
      assert.ok(check.luminanceStd > 10, `screenshot has almost no contrast (${check.luminanceStd})`);
      assert.ok(compress ? bytes < 3_000_000 : bytes > 10_000_000);
    },
  );
}

test('a console error on the page is caught (the check can fail)', { timeout: 60_000 }, async () => {
  const file = join(dir, 'broken.html');
  const report = everyFigureKind();
  writeReport(file, {
    ...report,
    sections: [...report.sections, { kind: 'html', html: '<script>console.error("boom")</script>' }],
  });
  const check = await checkPage(browser, pathToFileURL(file).href);
  assert.deepEqual(check.consoleErrors, ['boom']);
});

test('PNG export: exact figure sizes, and a whole report', { timeout: 120_000 }, async () => {
  const renderer = await FigureRenderer.start();
  try {
    const a = await renderer.png(coverageSunburst(cats));
    assert.deepEqual(pngSize(a), { width: 900, height: 500 });
    const b = await renderer.png(coverageBar(cats), { width: 640, height: 480, scale: 2 });
    assert.deepEqual(pngSize(b), { width: 1280, height: 960 });
    assert.ok(a.length > 10_000);
  } finally {
    await renderer.close();
  }
  const html = join(dir, 'whole.html');
  writeReport(html, everyFigureKind());
  const png = join(dir, 'whole.png');
  await htmlFilePng(html, png, { width: 1000 });
  const size = pngSize(readFileSync(png));
  assert.equal(size.width, 1000);
  assert.ok(size.height > 3000, `full page height ${size.height}`);
  assert.ok(statSync(png).size > 50_000);
});

test('without Chromium the error says to run env/setup.sh', async () => {
  const saved = process.env.IPT_CHROMIUM;
  process.env.IPT_CHROMIUM = join(dir, 'no-such-chromium');
  try {
    await assert.rejects(launchChromium(), /none was found .*Run env\/setup\.sh/);
  } finally {
    if (saved === undefined) delete process.env.IPT_CHROMIUM;
    else process.env.IPT_CHROMIUM = saved;
  }
});
