// The kit's one reader of JSON lines (one JSON value per line), with an error policy: a line that is not
// JSON stops reading with an error naming the file and line, or (onError: 'skip') is counted and
// skipped; a last line with no newline after it that is not JSON (a run killed while appending) may be
// skipped with a warning instead (tornLastLine: 'skip'). Whole files (gzip or not) and streams read the
// same way, so every command words a bad line alike: "file:line: not valid JSON (...)".

import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { readTextFile } from './files.js';

export type JsonLinesPolicy = {
  /** A line that is not JSON: an error (default), or counted in `skipped` and passed over. */
  onError?: 'throw' | 'skip';
  /** A last line without its newline that is not JSON: an error (default), or skipped with a warning. */
  tornLastLine?: 'throw' | 'skip';
  /** What to do, appended to the error, e.g. 'each line must be one chain, a JSON array'. */
  fix?: string;
};

export type JsonLine = { line: number; value: unknown };
export type JsonLineIssue = { line: number; message: string };

/** A line that is not JSON (or not UTF-8): `${source}:${line}: ${detail}`. */
export class JsonLineError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${source}:${line}: ${detail}`);
    this.name = 'JsonLineError';
  }
}

/** One line's value; an error naming `source` and `line` (1-based) when it is not JSON. */
export function parseJsonLine(text: string, source: string, line: number, fix?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const t = text.trim();
    const cut =
      (t.startsWith('{') && !t.endsWith('}')) || (t.startsWith('[') && !t.endsWith(']'))
        ? '; the line looks cut off'
        : '';
    throw new JsonLineError(source, line, `not valid JSON (${(err as Error).message})${cut}${fix ? `; ${fix}` : ''}`);
  }
}

/** Counts, warnings and skipped lines of one read, filled as lines are read. */
export type JsonLinesReport = { skipped: JsonLineIssue[]; warnings: string[] };

export function newJsonLinesReport(): JsonLinesReport {
  return { skipped: [], warnings: [] };
}

/** Applies the policy to a line that failed: rethrows, or records it. */
function handle(err: JsonLineError, policy: JsonLinesPolicy, report: JsonLinesReport, torn: boolean): void {
  if (torn && policy.tornLastLine === 'skip') {
    report.warnings.push(`${err.source}:${err.line}: skipped a last line cut off mid-write`);
    return;
  }
  if ((policy.onError ?? 'throw') === 'throw') throw err;
  report.skipped.push({ line: err.line, message: err.detail });
}

/** The values of the non-blank lines of `text`, lazily, in order. */
export function* jsonLines(
  text: string,
  source: string,
  policy: JsonLinesPolicy = {},
  report: JsonLinesReport = newJsonLinesReport(),
): Generator<JsonLine> {
  const lines = text.split('\n');
  const endsCleanly = text.endsWith('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const t = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (t.trim() === '') continue;
    let value: unknown;
    try {
      value = parseJsonLine(t, source, i + 1, policy.fix);
    } catch (err) {
      handle(err as JsonLineError, policy, report, i === lines.length - 1 && !endsCleanly);
      continue;
    }
    yield { line: i + 1, value };
  }
}

/** A JSON-lines file (gzip or plain) read whole: its values, and what the policy skipped. */
export function readJsonLines(path: string, policy: JsonLinesPolicy = {}): { rows: JsonLine[] } & JsonLinesReport {
  const report = newJsonLinesReport();
  const rows = [...jsonLines(readTextFile(path), path, policy, report)];
  return { rows, ...report };
}

/** Lines as bytes, numbered from 1, split on \n (a \r before it is dropped); no line is held twice. */
export async function* byteLines(
  stream: AsyncIterable<Buffer>,
): AsyncGenerator<{ line: number; bytes: Buffer; last: boolean }> {
  let pending: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    let start = 0;
    for (let i = chunk.indexOf(10, start); i >= 0; i = chunk.indexOf(10, start)) {
      let bytes = chunk.subarray(start, i);
      if (pending.length) {
        bytes = Buffer.concat([...pending, bytes]);
        pending = [];
      }
      n++;
      yield {
        line: n,
        bytes: bytes.length && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes,
        last: false,
      };
      start = i + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length) yield { line: n + 1, bytes: Buffer.concat(pending), last: true };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The values of a stream's (or a file's, gzip or plain) non-blank lines, one at a time in bounded
 * memory, by the same policy; a line that is not UTF-8 counts as a bad line too.
 */
export async function* streamJsonLines(
  input: string | Readable,
  source: string,
  policy: JsonLinesPolicy = {},
  report: JsonLinesReport = newJsonLinesReport(),
): AsyncGenerator<JsonLine> {
  let stream: Readable;
  if (typeof input === 'string') {
    const raw = createReadStream(input);
    const gz = /\.gz$/i.test(input);
    stream = gz ? raw.pipe(createGunzip()) : raw;
    if (gz) raw.on('error', (e) => stream.destroy(e));
  } else stream = input;
  for await (const { line, bytes, last } of byteLines(stream as AsyncIterable<Buffer>)) {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      handle(new JsonLineError(source, line, 'not valid UTF-8'), policy, report, last);
      continue;
    }
    if (line === 1) text = text.replace(/^\uFEFF/, '');
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = parseJsonLine(text, source, line, policy.fix);
    } catch (err) {
      handle(err as JsonLineError, policy, report, last);
      continue;
    }
    yield { line, value };
  }
}
