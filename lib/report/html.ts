// HTML for figures: a notebook output (tslab `display.html`) or a self-contained page. The plotly.js
// bundle (plotly.js-dist, a browser-only build) is inlined, never fetched, so everything opens offline.
// In a notebook, `plotlyLoaderHtml()` is displayed once (first figure cell) and later figures use it.
//
// The bundle is 10 MB of JavaScript. By default it travels gzip-compressed and base64-encoded (2.6 MB)
// and the page inflates it with the browser's DecompressionStream before running it; figures that
// arrive first wait in a queue. `{ compress: false }` inlines the plain bundle instead (for browsers
// without DecompressionStream: Chromium < 80, Firefox < 113, Safari < 16.4).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Figure } from './figure.js';
import { readJson } from '../repro/files.js';

const require = createRequire(import.meta.url);

export type LoaderOptions = { compress?: boolean };

/** The plotly.js bundle source (about 10 MB), read from node_modules. */
export function plotlyBundle(): string {
  return readFileSync(require.resolve('plotly.js-dist/plotly.js'), 'utf8');
}

export function plotlyVersion(): string {
  return (readJson(require.resolve('plotly.js-dist/package.json')) as { version: string }).version;
}

let compressedBundle: string | undefined;

/** The bundle gzipped (level 6: within 1% of level 9, five times faster) and base64-encoded; computed once per process. */
export function plotlyBundleGzipBase64(): string {
  compressedBundle ??= gzipSync(Buffer.from(plotlyBundle(), 'utf8'), { level: 6 }).toString('base64');
  return compressedBundle;
}

/** Escapes a JSON string for inclusion inside a <script> element. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function nextId(): string {
  return `ipt-fig-${randomUUID()}`;
}

/** A div plus the script that draws the figure with an already loaded `window.Plotly`. */
export function figureDiv(fig: Figure, options: { id?: string; height?: number } = {}): string {
  const id = options.id ?? nextId();
  const layoutHeight = typeof fig.layout.height === 'number' ? fig.layout.height : undefined;
  const height = options.height ?? layoutHeight ?? 420;
  const config = { responsive: true, displaylogo: false, ...(fig.config ?? {}) };
  return (
    `<div id="${id}" class="ipt-figure" style="width:100%;height:${height}px"></div>\n` +
    `<script>(function(){var d=${scriptSafeJson({ data: fig.data, layout: fig.layout, config })};` +
    `function draw(){window.Plotly.newPlot(${JSON.stringify(id)},d.data,d.layout,d.config);}` +
    `if(window.Plotly){draw();}else{(window.__iptPlotlyQueue=window.__iptPlotlyQueue||[]).push(draw);}})();</script>`
  );
}

const FLUSH_QUEUE = `(window.__iptPlotlyQueue||[]).forEach(function(f){f();});window.__iptPlotlyQueue=[];`;

/** Script elements that define window.Plotly and then draw the figures waiting in the queue. */
export function plotlyScripts(options: LoaderOptions = {}): string {
  if (options.compress === false) {
    return `<script>${plotlyBundle().replace(/<\/script/gi, '<\\/script')}</script>\n<script>${FLUSH_QUEUE}</script>`;
  }
  // Runs once per page even if displayed twice; the inflated source runs as an inline script so
  // it behaves exactly like the plain bundle (global scope, window.Plotly).
  return (
    `<script>(function(){if(window.Plotly||window.__iptPlotlyLoading)return;window.__iptPlotlyLoading=true;` +
    `function fail(e){window.__iptPlotlyLoading=false;console.error('ipt-kit: could not load plotly.js: '+e);}` +
    `if(typeof DecompressionStream==='undefined'){fail('this browser has no DecompressionStream; write the report with compress: false');return;}` +
    `var b=atob("${plotlyBundleGzipBase64()}");var u=new Uint8Array(b.length);for(var i=0;i<b.length;i++)u[i]=b.charCodeAt(i);` +
    `new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream('gzip'))).text().then(function(src){` +
    `var s=document.createElement('script');s.textContent=src;document.head.appendChild(s);` +
    `window.__iptPlotlyLoading=false;${FLUSH_QUEUE}}).catch(fail);})();</script>`
  );
}

/** Display once per notebook before the first figure: defines window.Plotly and draws queued figures. */
export function plotlyLoaderHtml(options: LoaderOptions = {}): string {
  return `${plotlyScripts(options)}<div style="color:#888;font-size:11px">plotly.js ${escapeHtml(plotlyVersion())} loaded</div>`;
}

const PAGE_STYLE = [
  'body{font-family:DejaVu Sans,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}',
  'table.ipt-table{border-collapse:collapse;margin:0.5em 0 1.5em}',
  '.ipt-table td,.ipt-table th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}',
  '.ipt-table td.num{text-align:right;font-variant-numeric:tabular-nums}',
  '.ipt-table th{background:#f4f4f4}.ipt-table caption{text-align:left;font-weight:bold;padding:4px 0}',
  '.ipt-caption{color:#555;font-size:0.9em;margin:0.6em 0 1.5em}',
].join('\n');

/** A whole self-contained page: plotly inlined, then each section's HTML (figures via figureDiv). */
export function standaloneHtml(title: string, sectionsHtml: string[], options: LoaderOptions = {}): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${PAGE_STYLE}</style>`,
    plotlyScripts(options),
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...sectionsHtml,
    '</body></html>',
  ].join('\n');
}

export type Cell = string | number | boolean | null | undefined;
export type TableOptions = { columns?: string[]; caption?: string; digits?: number; maxRows?: number };

function formatCell(v: unknown, digits: number): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function tableColumns(rows: Array<Record<string, unknown>>, columns?: string[]): string[] {
  return columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
}

/** An HTML table of records; numbers are right-aligned and rounded to `digits` (default 3). */
export function tableHtml(rows: Array<Record<string, unknown>>, options: TableOptions = {}): string {
  const cols = tableColumns(rows, options.columns);
  const digits = options.digits ?? 3;
  const shown = options.maxRows !== undefined ? rows.slice(0, options.maxRows) : rows;
  // Inline alignment: notebook front ends right-align every table cell with their own CSS.
  const left = ' style="text-align:left;vertical-align:top"';
  const right = ' class="num" style="text-align:right;vertical-align:top"';
  const body = shown
    .map(
      (r) =>
        `<tr>${cols.map((c) => `<td${typeof r[c] === 'number' ? right : left}>${escapeHtml(formatCell(r[c], digits)).replace(/\n/g, '<br>')}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const more =
    shown.length < rows.length
      ? `<tr><td colspan="${cols.length}"${left}>… ${rows.length - shown.length} more rows</td></tr>`
      : '';
  return (
    `<table class="ipt-table">${options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : ''}` +
    `<thead><tr>${cols.map((c) => `<th${left}>${escapeHtml(c)}</th>`).join('')}</tr></thead>\n<tbody>${body}${more}</tbody></table>`
  );
}

/**
 * A plain-text table with aligned columns, for console output (CLI, notebook stream cells). Long
 * cells are cut to `maxWidth` characters and newlines shown as ⏎, so every row stays on one line.
 */
export function textTable(
  rows: Array<Record<string, unknown>>,
  options: TableOptions & { maxWidth?: number } = {},
): string {
  const cols = tableColumns(rows, options.columns);
  const digits = options.digits ?? 3;
  const maxWidth = options.maxWidth ?? 60;
  const shown = options.maxRows !== undefined ? rows.slice(0, options.maxRows) : rows;
  const cut = (s: string) => {
    const one = s.replace(/\n/g, '⏎');
    return one.length > maxWidth ? `${one.slice(0, maxWidth - 1)}…` : one;
  };
  const cells = shown.map((r) => cols.map((c) => cut(formatCell(r[c], digits))));
  const numeric = cols.map(
    (c) => shown.length > 0 && shown.every((r) => typeof r[c] === 'number' || r[c] === undefined || r[c] === null),
  );
  const widths = cols.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, j) => (numeric[j] ? v.padStart(widths[j]) : v.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  const out = [line(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  if (shown.length < rows.length) out.push(`… ${rows.length - shown.length} more rows`);
  return (options.caption ? `${options.caption}\n` : '') + out.join('\n') + '\n';
}

/** Anything shaped like a danfojs DataFrame (columns and row values), without depending on danfojs. */
export type FrameLike = { columns: string[]; values: unknown[][] | unknown[] };

/** The records of a DataFrame-like object, for tableHtml/textTable. */
export function frameRecords(df: FrameLike): Array<Record<string, unknown>> {
  const values = df.values as unknown[];
  return values.map((row) => {
    const r = Array.isArray(row) ? row : [row];
    return Object.fromEntries(df.columns.map((c, j) => [c, r[j]]));
  });
}

/** An HTML table of a danfojs DataFrame (its own notebook display is a boxed text dump). */
export function frameHtml(df: FrameLike, options: TableOptions = {}): string {
  return tableHtml(frameRecords(df), { columns: df.columns, ...options });
}

/** Paragraphs of plain text (blank lines separate them), escaped. */
export function paragraphsHtml(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}
