// Notebook display helpers: whole tables, and several figures side by side.
//
// danfojs' `.print()` (and its default notebook display) shows at most 10 rows and cuts every cell
// at 17 characters; `showTable` shows every row and every character, as an HTML output of the
// running tslab cell (escaped, numbers right-aligned and rounded, by `tableHtml`). Outside a
// notebook (a script, the CLI) the same table is printed as aligned text.
//
// Figures stacked in one cell make a tall output, and the classic Notebook folds any output taller
// than 100 lines (about 1,800 px) into a 24em scroll box; `showFigures` lays them out in a grid
// (two per row by default) so that they stay whole and visible side by side.
//
// In a notebook cell:
//   const nb = await import('../dist/lib/report/notebook.js');
//   nb.showTable(df);                                          // a danfojs DataFrame
//   nb.showTable(rows, { caption: 'Per task', digits: 2 });    // or plain records
//   nb.showFigures([figA, figB, figC], { height: 460 });       // after html.plotlyLoaderHtml()

import { showHtml } from '../repro/notebook.js';
import { figureDiv, frameRecords, tableHtml, textTable, type FrameLike, type TableOptions } from './html.js';
import type { Figure } from './figure.js';

/** Rows for a table: plain records, or anything shaped like a danfojs DataFrame. */
export type TableData = ReadonlyArray<Record<string, unknown>> | FrameLike;

function isFrame(data: TableData): data is FrameLike {
  return !Array.isArray(data);
}

/** The records and column order of table data (a DataFrame keeps its column order). */
export function tableRows(data: TableData): { rows: Array<Record<string, unknown>>; columns?: string[] } {
  if (isFrame(data)) return { rows: frameRecords(data), columns: [...data.columns] };
  return { rows: [...(data as ReadonlyArray<Record<string, unknown>>)] };
}

/** The HTML `showTable` displays: every row, every character. */
export function wholeTableHtml(data: TableData, options: TableOptions = {}): string {
  const { rows, columns } = tableRows(data);
  return tableHtml(rows, { ...(columns ? { columns } : {}), ...options });
}

/**
 * Shows a whole table: an HTML output in a notebook cell, aligned text on stdout elsewhere.
 * Returns nothing, so that tslab does not echo a value after the table.
 */
export function showTable(data: TableData, options: TableOptions = {}): void {
  if (showHtml(wholeTableHtml(data, options))) return;
  const { rows, columns } = tableRows(data);
  process.stdout.write(
    textTable(rows, { ...(columns ? { columns } : {}), maxWidth: Number.POSITIVE_INFINITY, ...options }),
  );
}

export type GridOptions = { columns?: number; height?: number };

/** Figures in a grid of `columns` (default 2) equal columns, each `height` px tall (default 460). */
export function figureGridHtml(figures: Figure[], options: GridOptions = {}): string {
  const columns = Math.max(1, Math.min(options.columns ?? 2, figures.length || 1));
  const height = options.height ?? 460;
  const cells = figures.map((f) => `<div style="min-width:0">${figureDiv(f, { height })}</div>`).join('\n');
  return `<div class="ipt-figure-grid" style="display:grid;grid-template-columns:repeat(${columns},minmax(0,1fr));gap:12px;width:100%">\n${cells}\n</div>`;
}

/**
 * Shows figures side by side in the running notebook cell (one output, see figureGridHtml).
 * Outside a notebook there is nothing to draw on: it says so on stdout.
 */
export function showFigures(figures: Figure[], options: GridOptions = {}): void {
  if (figures.length === 0) return;
  if (!showHtml(figureGridHtml(figures, options)))
    process.stdout.write(`(${figures.length} figures: shown in a notebook only)\n`);
}
