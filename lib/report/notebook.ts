// Whole tables in a notebook. danfojs' `.print()` (and its default notebook display) shows at most
// 10 rows and cuts every cell at 17 characters; `showTable` shows every row and every character, as
// an HTML output of the running tslab cell (escaped, numbers right-aligned and rounded, by
// `tableHtml`). Outside a notebook (a script, the CLI) the same table is printed as aligned text.
//
// In a notebook cell:
//   const nb = await import('../dist/lib/report/notebook.js');
//   nb.showTable(df);                                  // a danfojs DataFrame
//   nb.showTable(rows, { caption: 'Per task', digits: 2 });   // or plain records

import { showHtml } from '../repro/notebook.js';
import { frameRecords, tableHtml, textTable, type FrameLike, type TableOptions } from './html.js';

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
  process.stdout.write(textTable(rows, { ...(columns ? { columns } : {}), maxWidth: Number.POSITIVE_INFINITY, ...options }));
}
