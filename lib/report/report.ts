// A report: one self-contained HTML file with headings, text, figures and tables that opens offline
// (plotly.js is inlined). Sections are plain records, so a command, a notebook or a test can build a
// report the same way and the same report can be written to HTML or rendered to PNG.

import { statSync } from 'node:fs';
import type { Figure } from './figure.js';
import {
  escapeHtml,
  figureDiv,
  paragraphsHtml,
  standaloneHtml,
  tableHtml,
  type LoaderOptions,
  type TableOptions,
} from './html.js';
import { writeFileAtomic } from '../repro/files.js';

export type ReportSection =
  | { kind: 'heading'; text: string; level?: 2 | 3 }
  | { kind: 'text'; text: string }
  /** Trusted HTML written by the kit itself. */
  | { kind: 'html'; html: string }
  | { kind: 'figure'; figure: Figure; caption?: string; height?: number }
  | ({ kind: 'table'; rows: Array<Record<string, unknown>> } & TableOptions);

export type Report = { title: string; subtitle?: string; sections: ReportSection[] };

export function sectionHtml(section: ReportSection, index: number): string {
  switch (section.kind) {
    case 'heading': {
      const level = section.level ?? 2;
      return `<h${level}>${escapeHtml(section.text)}</h${level}>`;
    }
    case 'text':
      return paragraphsHtml(section.text);
    case 'html':
      return section.html;
    case 'figure':
      return (
        figureDiv(section.figure, {
          id: `ipt-figure-${index}`,
          ...(section.height ? { height: section.height } : {}),
        }) + (section.caption ? `\n<p class="ipt-caption">${escapeHtml(section.caption)}</p>` : '')
      );
    case 'table': {
      const { rows, ...opts } = section;
      return tableHtml(rows, opts);
    }
  }
}

/** The report as one HTML page. Figure ids are numbered in order, so the same report gives the same page. */
export function renderReport(report: Report, options: LoaderOptions = {}): string {
  const parts = report.sections.map((s, i) => sectionHtml(s, i));
  if (report.subtitle) parts.unshift(`<p class="ipt-caption">${escapeHtml(report.subtitle)}</p>`);
  return standaloneHtml(report.title, parts, options);
}

/** Writes the report atomically; returns the path and its size in bytes. */
export function writeReport(
  path: string,
  report: Report,
  options: LoaderOptions = {},
): { path: string; bytes: number } {
  writeFileAtomic(path, renderReport(report, options));
  return { path, bytes: statSync(path).size };
}

/** How many figures a report has (a browser test checks each one is drawn). */
export function figureCount(report: Report): number {
  return report.sections.filter((s) => s.kind === 'figure').length;
}
