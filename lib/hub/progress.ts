// Download progress for displays that update in place (a notebook cell's display handle, a web page):
// a one-line summary of a DownloadProgressEvent, and a throttle so the display is redrawn a few times a
// second rather than for every network chunk. lib/ stays free of notebook imports: the caller passes
// the function that draws (in a tslab notebook: `const d = tslab.newDisplay(); (line) => d.text(line)`).

import { formatBytes, formatSeconds } from '../repro/progress.js';
import type { DownloadProgressEvent } from './download.js';

export function downloadProgressLine(e: DownloadProgressEvent, elapsedSeconds: number): string {
  const pct = e.total > 0 ? Math.floor((100 * e.bytes) / e.total) : 100;
  const rate = elapsedSeconds > 0 ? e.bytes / elapsedSeconds : 0;
  const eta = rate > 0 ? formatSeconds((e.total - e.bytes) / rate) : '?';
  const width = 24;
  const filled = Math.round((pct / 100) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `${e.repo} ${bar} ${pct}% ${formatBytes(e.bytes)}/${formatBytes(e.total)} | ${e.filesDone}/${e.filesTotal} files | ${formatBytes(rate)}/s | ETA ${eta} | ${e.file}`;
}

/** An onProgress callback that draws at most every `everyMs`, and always draws the last event. */
export function throttledProgress(draw: (line: string) => void, options: { everyMs?: number; now?: () => number } = {}): (e: DownloadProgressEvent) => void {
  const now = options.now ?? (() => performance.now());
  const every = options.everyMs ?? 250;
  const started = now();
  let last = -Infinity;
  return (e) => {
    const t = now();
    const finished = e.bytes >= e.total && e.filesDone >= e.filesTotal;
    if (t - last < every && !finished) return;
    last = t;
    draw(downloadProgressLine(e, (t - started) / 1000));
  };
}
