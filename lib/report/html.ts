// HTML for figures: a notebook output (tslab `display.html`) or a self-contained page. The plotly.js
// bundle (plotly.js-dist, a browser-only build) is inlined, never fetched, so everything opens offline.
// In a notebook, `plotlyLoaderHtml()` is displayed once (first figure cell) and later figures use it.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import type { Figure } from './figure.js';

const require = createRequire(import.meta.url);

/** The plotly.js bundle source (about 10 MB), read from node_modules. */
export function plotlyBundle(): string {
  return readFileSync(require.resolve('plotly.js-dist/plotly.js'), 'utf8');
}

/** Escapes a JSON string for inclusion inside a <script> element. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
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
  const height = options.height ?? 420;
  const config = { responsive: true, displaylogo: false, ...(fig.config ?? {}) };
  return (
    `<div id="${id}" class="ipt-figure" style="width:100%;height:${height}px"></div>\n` +
    `<script>(function(){var d=${scriptSafeJson({ data: fig.data, layout: fig.layout, config })};` +
    `function draw(){window.Plotly.newPlot(${JSON.stringify(id)},d.data,d.layout,d.config);}` +
    `if(window.Plotly){draw();}else{(window.__iptPlotlyQueue=window.__iptPlotlyQueue||[]).push(draw);}})();</script>`
  );
}

/** Display once per notebook before the first figure: defines window.Plotly and draws queued figures. */
export function plotlyLoaderHtml(): string {
  return (
    `<script>${plotlyBundle().replace(/<\/script/gi, '<\\/script')}</script>` +
    `<script>(window.__iptPlotlyQueue||[]).forEach(function(f){f();});window.__iptPlotlyQueue=[];</script>` +
    `<div style="color:#888;font-size:11px">plotly.js loaded</div>`
  );
}

/** A whole self-contained page: plotly inlined, then each section's HTML (figures via figureDiv). */
export function standaloneHtml(title: string, sectionsHtml: string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:DejaVu Sans,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}',
    'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}</style>',
    `<script>${plotlyBundle().replace(/<\/script/gi, '<\\/script')}</script>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...sectionsHtml,
    '</body></html>',
  ].join('\n');
}
