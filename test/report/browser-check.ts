// Shared by the browser tests: open a page in real headless Chromium and report what a person would
// see: console errors, requests that left the machine, whether every figure drew data points, and how
// much of a screenshot is not blank.
import type { Browser } from 'playwright-core';
import { waitForFigures } from '../../lib/report/png.js';

export type FigureState = { id: string; svg: boolean; points: number };
export type PageCheck = {
  consoleErrors: string[];
  /** Requests for anything but file:, data: and blob: URLs (a report must open offline). */
  externalRequests: string[];
  figures: FigureState[];
  screenshot: Buffer;
  /** Share of screenshot pixels that are not (near) white, and the standard deviation of luminance (0-255). */
  inkShare: number;
  luminanceStd: number;
  loadMs: number;
  drawnMs: number;
};

const POINTS = [
  '.scatterlayer .trace path.js-line',
  '.scatterlayer .trace .point',
  '.barlayer .trace .point path',
  '.sunburstlayer path.surface',
  '.heatmaplayer image',
].join(', ');

export type CheckOptions = {
  timeoutMs?: number;
  width?: number;
  /** Files the page may fail to load without it counting as an error (e.g. nbconvert's optional MathJax). */
  allowMissing?: RegExp;
};

export async function checkPage(browser: Browser, url: string, options: CheckOptions = {}): Promise<PageCheck> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 1200, height: 900 } });
  const consoleErrors: string[] = [];
  const externalRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  const failed: string[] = [];
  page.on('request', (r) => {
    const u = r.url();
    if (!/^(file|data|blob|about):/.test(u)) externalRequests.push(u);
  });
  page.on('requestfailed', (r) => failed.push(r.url()));
  try {
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'load', timeout: options.timeoutMs ?? 60_000 });
    const loadMs = Date.now() - t0;
    await waitForFigures(page, options.timeoutMs ?? 60_000);
    const drawnMs = Date.now() - t0;
    const figures = (await page.evaluate(
      `Array.from(document.querySelectorAll('.ipt-figure')).map((f) => ({
        id: f.id,
        svg: f.querySelector('svg.main-svg') !== null,
        points: Array.from(f.querySelectorAll(${JSON.stringify(POINTS)})).filter((e) => e.tagName !== 'path' || (e.getAttribute('d') || '').length > 2).length,
      }))`,
    )) as FigureState[];
    const screenshot = await page.screenshot({ fullPage: true, type: 'png' });
    const ink = (await page.evaluate(
      `(async () => {
        const img = new Image();
        img.src = 'data:image/png;base64,${screenshot.toString('base64')}';
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width; c.height = img.height;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0, inked = 0, sum = 0, sum2 = 0;
        for (let i = 0; i < d.length; i += 16) {
          const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
          n++; sum += y; sum2 += y * y;
          if (y < 245) inked++;
        }
        const mean = sum / n;
        return { inkShare: inked / n, luminanceStd: Math.sqrt(Math.max(0, sum2 / n - mean * mean)) };
      })()`,
    )) as { inkShare: number; luminanceStd: number };
    // Chromium reports a missing file twice: as a failed request (with its URL) and as a console
    // error (without it). Allowed files are dropped from both.
    const allowed = failed.filter((u) => options.allowMissing?.test(u));
    let drop = allowed.length;
    const errors = consoleErrors.filter((e) => !(drop > 0 && e.startsWith('Failed to load resource') && drop--));
    return { consoleErrors: errors, externalRequests, figures, screenshot, ...ink, loadMs, drawnMs };
  } finally {
    await page.close();
  }
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(signature) || png.toString('ascii', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
