// PNG export of figures and whole reports with the machine's Chromium (Debian's `chromium`),
// driven by playwright-core. plotly.js only runs in a browser, so this is the one way the kit turns
// a figure into an image. playwright-core never downloads a browser of its own: without Chromium
// the functions here throw ChromiumMissingError, which tells the user to run env/setup.sh.

import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Figure } from './figure.js';
import { plotlyBundle } from './html.js';
import { writeFileAtomic } from '../repro/files.js';

export class ChromiumMissingError extends Error {
  constructor(tried: string[]) {
    super(
      `Chromium is needed for PNG export and browser tests but none was found (looked for ${tried.join(', ')}). ` +
        "Run env/setup.sh (it installs Debian's chromium), or set IPT_CHROMIUM to a Chromium or Chrome executable.",
    );
    this.name = 'ChromiumMissingError';
  }
}

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** Flags that keep a headless Chromium quiet on a machine without a network (no background fetches, no first-run UI). */
export const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium executable to use: IPT_CHROMIUM, else the first of the usual Debian paths; undefined when none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const list = env.IPT_CHROMIUM ? [env.IPT_CHROMIUM] : CANDIDATES;
  return list.find(executable);
}

export function chromiumAvailable(): boolean {
  return findChromium() !== undefined;
}

/**
 * Starts headless Chromium. playwright-core adds --headless and --no-sandbox itself and gives every
 * launch a fresh empty --user-data-dir (it refuses one passed in args), so nothing leaks between runs.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath)
    throw new ChromiumMissingError(process.env.IPT_CHROMIUM ? [process.env.IPT_CHROMIUM] : CANDIDATES);
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

export type PngOptions = { width?: number; height?: number; scale?: number };

/** Renders figures to PNG bytes in one browser page (plotly's own toImage, so the size is exact). */
export class FigureRenderer {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  static async start(): Promise<FigureRenderer> {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
      await page.addScriptTag({ content: plotlyBundle() });
      return new FigureRenderer(browser, page);
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  async png(fig: Figure, options: PngOptions = {}): Promise<Buffer> {
    const layoutHeight = typeof fig.layout.height === 'number' ? fig.layout.height : undefined;
    const size = {
      width: options.width ?? 900,
      height: options.height ?? layoutHeight ?? 500,
      scale: options.scale ?? 1,
    };
    const dataUrl = await this.page.evaluate(
      async ({ fig, size }) => {
        const P = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
        return P.toImage({ data: fig.data, layout: fig.layout }, { format: 'png', ...size });
      },
      { fig: { data: fig.data, layout: fig.layout }, size },
    );
    const prefix = 'data:image/png;base64,';
    if (!dataUrl.startsWith(prefix)) throw new Error('plotly did not return a PNG data URL');
    return Buffer.from(dataUrl.slice(prefix.length), 'base64');
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Writes one PNG per figure; starts and stops a browser once for all of them. */
export async function writeFigurePngs(items: Array<{ figure: Figure; path: string } & PngOptions>): Promise<string[]> {
  const renderer = await FigureRenderer.start();
  try {
    const written: string[] = [];
    for (const { figure, path, ...opts } of items) {
      writeFileAtomic(path, await renderer.png(figure, opts));
      written.push(path);
    }
    return written;
  } finally {
    await renderer.close();
  }
}

/** A PNG of a whole HTML file (e.g. a report) as Chromium draws it, after every figure has been drawn. */
export async function htmlFilePng(
  htmlPath: string,
  pngPath: string,
  options: { width?: number; fullPage?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: options.width ?? 1200, height: 900 } });
    await page.goto(pathToFileURL(resolve(htmlPath)).href, { waitUntil: 'load', timeout: options.timeoutMs ?? 60_000 });
    await waitForFigures(page, options.timeoutMs ?? 60_000);
    mkdirSync(dirname(pngPath), { recursive: true });
    writeFileAtomic(pngPath, await page.screenshot({ fullPage: options.fullPage ?? true, type: 'png' }));
  } finally {
    await browser.close();
  }
}

/** Waits until every .ipt-figure div holds a drawn plot (plotly adds the js-plotly-plot class and an SVG). */
export async function waitForFigures(page: Page, timeoutMs = 60_000): Promise<void> {
  // A string, not a function: the library is compiled without the DOM typings.
  await page.waitForFunction(
    `Array.from(document.querySelectorAll('.ipt-figure')).every((f) => f.classList.contains('js-plotly-plot') && f.querySelector('svg.main-svg') !== null)`,
    undefined,
    { timeout: timeoutMs, polling: 100 },
  );
}
