// Streaming rows out of dataset shards: JSON lines (plain or gzipped), JSON arrays, plain-text files
// holding one text each (as in instruction-pretrain/general-instruction-augmented-corpora), and parquet
// (hyparquet, with hyparquet-compressors for zstd/gzip/brotli/lz4). Rows come one at a time, so a
// shard of any size reads in bounded memory (parquet: one row group at a time).
//
// A corrupt line or row is an error that names the file and the line (1-based) or row (0-based).
// With onError: 'skip' it is counted in the stats instead, and reading goes on.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { fileFilter } from '../hub/globs.js';
import { JsonLineError, newJsonLinesReport, streamJsonLines } from '../repro/jsonl.js';

export type ShardFormat = 'jsonl' | 'jsonl.gz' | 'json' | 'parquet' | 'txt';
export type ErrorPolicy = 'throw' | 'skip';

export const SHARD_EXTENSIONS = ['.jsonl', '.jsonl.gz', '.json', '.json.gz', '.parquet', '.txt'] as const;

export type ShardIssue = { file: string; line?: number; row?: number; message: string };

export type ReadStats = {
  files: number;
  rows: number;
  /** Lines or rows skipped as corrupt (onError: 'skip'). */
  skipped: number;
  /** Rows without text (empty text files, empty strings). */
  empty: number;
  /** The first 100 issues, for the report. */
  issues: ShardIssue[];
};

export function newReadStats(): ReadStats {
  return { files: 0, rows: 0, skipped: 0, empty: 0, issues: [] };
}

export class CorruptShardError extends Error {
  constructor(
    readonly file: string,
    readonly where: { line?: number; row?: number },
    readonly detail: string,
  ) {
    const at = where.line !== undefined ? `:${where.line}` : where.row !== undefined ? ` row ${where.row}` : '';
    super(`${file}${at}: ${detail}`);
    this.name = 'CorruptShardError';
  }
}

export type ShardRow = { file: string; line?: number; row?: number; value: Record<string, unknown> };

export type ReadOptions = {
  onError?: ErrorPolicy;
  stats?: ReadStats;
  /** Parquet: read only these columns. */
  columns?: string[];
};

export function shardFormat(path: string): ShardFormat | undefined {
  const p = path.toLowerCase();
  if (p.endsWith('.jsonl.gz') || p.endsWith('.json.gz')) return 'jsonl.gz';
  if (p.endsWith('.jsonl')) return 'jsonl';
  if (p.endsWith('.json')) return 'json';
  if (p.endsWith('.parquet')) return 'parquet';
  if (p.endsWith('.txt')) return 'txt';
  return undefined;
}

/** Handles one problem by the policy: throw it, or count it and go on. */
function report(err: CorruptShardError, options: ReadOptions, skippedRows = 1): void {
  if ((options.onError ?? 'throw') === 'throw') throw err;
  if (options.stats) {
    options.stats.skipped += skippedRows;
    if (options.stats.issues.length < 100)
      options.stats.issues.push({ file: err.file, ...err.where, message: err.detail });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

async function* readJsonLines(file: string, options: ReadOptions): AsyncGenerator<ShardRow> {
  const policy = { onError: options.onError ?? 'throw' } as const;
  const skipped = newJsonLinesReport();
  let reported = 0;
  // issues the reader skipped go into the stats as they come
  const sync = () => {
    for (; reported < skipped.skipped.length; reported++) {
      const { line, message } = skipped.skipped[reported];
      report(new CorruptShardError(file, { line }, message), options);
    }
  };
  let last = 0;
  try {
    for await (const { line, value } of streamJsonLines(file, file, policy, skipped)) {
      sync();
      last = line;
      if (!isRecord(value)) {
        report(
          new CorruptShardError(
            file,
            { line },
            `expected a JSON object per line, got ${Array.isArray(value) ? 'an array' : typeof value}`,
          ),
          options,
        );
        continue;
      }
      yield { file, line, value };
    }
    sync();
  } catch (err) {
    if (err instanceof CorruptShardError) throw err;
    if (err instanceof JsonLineError) throw new CorruptShardError(file, { line: err.line }, err.detail);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (/\.gz$/i.test(file) && /^Z_/.test(code)) {
      // the rest of a broken gzip stream cannot be read: report and stop this file
      report(
        new CorruptShardError(
          file,
          { line: last + 1 },
          `the gzip data is truncated or corrupt after line ${last} (${(err as Error).message}); download the shard again`,
        ),
        options,
        0,
      );
      return;
    }
    throw err;
  }
}

function readJsonArray(file: string, options: ReadOptions): ShardRow[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    report(new CorruptShardError(file, {}, `not valid JSON (${(err as Error).message})`), options);
    return [];
  }
  if (!Array.isArray(value)) {
    report(new CorruptShardError(file, {}, 'expected a JSON array of objects or JSON lines'), options);
    return [];
  }
  const rows: ShardRow[] = [];
  value.forEach((v, row) => {
    if (isRecord(v)) rows.push({ file, row, value: v });
    else
      report(
        new CorruptShardError(file, { row }, `expected an object, got ${Array.isArray(v) ? 'an array' : typeof v}`),
        options,
      );
  });
  return rows;
}

/** A .json file is either a JSON array of objects or JSON lines (as Hugging Face datasets reads it). */
function firstByte(file: string): number | undefined {
  const head = readFileSync(file).subarray(0, 4096);
  for (const b of head)
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf) return b;
  return undefined;
}

function readTextFile(file: string, options: ReadOptions): ShardRow[] {
  const bytes = readFileSync(file);
  try {
    return [{ file, row: 0, value: { text: utf8.decode(bytes).replace(/^\uFEFF/, '') } }];
  } catch {
    const loose = bytes.toString('utf8');
    const at = loose.indexOf('\uFFFD');
    const line = at < 0 ? undefined : loose.slice(0, at).split('\n').length;
    report(new CorruptShardError(file, { line }, 'not valid UTF-8 text'), options);
    return [];
  }
}

async function* readParquet(file: string, options: ReadOptions): AsyncGenerator<ShardRow> {
  const buffer = await asyncBufferFromFile(file);
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (err) {
    report(
      new CorruptShardError(
        file,
        {},
        `not a readable parquet file (${(err as Error).message}); the file may be truncated: download it again`,
      ),
      options,
      0,
    );
    return;
  }
  let rowStart = 0;
  for (const [group, rg] of metadata.row_groups.entries()) {
    const n = Number(rg.num_rows);
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await parquetReadObjects({
        file: buffer,
        metadata,
        rowStart,
        rowEnd: rowStart + n,
        columns: options.columns,
        compressors,
      });
    } catch (err) {
      report(
        new CorruptShardError(
          file,
          { row: rowStart },
          `rows ${rowStart}-${rowStart + n - 1} (row group ${group}) cannot be decoded (${(err as Error).message})`,
        ),
        options,
        n,
      );
      rowStart += n;
      continue;
    }
    for (let i = 0; i < rows.length; i++) yield { file, row: rowStart + i, value: rows[i] };
    rowStart += n;
  }
}

/** Rows of one shard, in file order. */
export async function* readShard(file: string, options: ReadOptions = {}): AsyncGenerator<ShardRow> {
  const format = shardFormat(file);
  if (!format) throw new Error(`${file}: unknown shard format; the kit reads ${SHARD_EXTENSIONS.join(', ')}`);
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  if (options.stats) options.stats.files++;
  const count = function* (rows: Iterable<ShardRow>) {
    for (const r of rows) {
      if (options.stats) options.stats.rows++;
      yield r;
    }
  };
  if (format === 'txt') return yield* count(readTextFile(file, options));
  if (format === 'json' && firstByte(file) === 0x5b) return yield* count(readJsonArray(file, options));
  const source = format === 'parquet' ? readParquet(file, options) : readJsonLines(file, options);
  for await (const r of source) {
    if (options.stats) options.stats.rows++;
    yield r;
  }
}

/**
 * Shard files under a path: the file itself, or every file of a known format under a folder (hidden
 * entries skipped), filtered by globs on the path relative to the folder, in sorted order.
 */
export function listShards(path: string, options: { include?: string[]; exclude?: string[] } = {}): string[] {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  if (statSync(path).isFile()) {
    if (!shardFormat(path))
      throw new Error(`${path}: unknown shard format; the kit reads ${SHARD_EXTENSIONS.join(', ')}`);
    return [path];
  }
  const keep = fileFilter(options.include, options.exclude);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(dir, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (shardFormat(name) && keep(relative(path, full).split('\\').join('/'))) out.push(full);
    }
  };
  walk(path);
  if (out.length === 0) {
    throw new Error(
      `no shard files (${SHARD_EXTENSIONS.join(', ')}) under ${path}${options.include?.length ? ` matching ${options.include.join(', ')}` : ''}`,
    );
  }
  return out.sort((a, b) => {
    const ra = relative(path, a);
    const rb = relative(path, b);
    return ra < rb ? -1 : ra > rb ? 1 : 0;
  });
}

export type TextRecord = {
  id: string;
  text: string;
  genre?: string;
  source: { file: string; line?: number; row?: number };
};

export type TextOptions = ReadOptions & {
  /** The field that holds the text; default "text". */
  textField?: string;
  /** A field to use as document id; default: the shard path and line/row. */
  idField?: string;
  /** A field to use as genre/domain; default "genre" when present. */
  genreField?: string;
  /** Ids are shard paths relative to this folder. */
  baseDir?: string;
};

/** Texts out of shards: the text field of each row, with an id and where it came from. */
export async function* readTexts(files: string[], options: TextOptions = {}): AsyncGenerator<TextRecord> {
  const field = options.textField ?? 'text';
  const genreField = options.genreField ?? 'genre';
  for (const file of files) {
    const rel = options.baseDir ? relative(options.baseDir, file).split('\\').join('/') : file;
    for await (const r of readShard(file, options)) {
      const text = r.value[field];
      if (typeof text !== 'string') {
        const fields = Object.keys(r.value).slice(0, 12).join(', ');
        const what =
          text === undefined
            ? `no string field "${field}" (fields: ${fields || 'none'})`
            : `field "${field}" is ${text === null ? 'null' : Array.isArray(text) ? 'an array' : typeof text === 'object' ? 'an object' : `a ${typeof text}`}, not a string`;
        report(
          new CorruptShardError(
            file,
            { line: r.line, row: r.line === undefined ? r.row : undefined },
            `${what}; choose the text field with --text-field`,
          ),
          options,
        );
        continue;
      }
      if (text.trim() === '') {
        if (options.stats) options.stats.empty++;
        continue;
      }
      const own = options.idField !== undefined ? r.value[options.idField] : undefined;
      const id =
        typeof own === 'string' || typeof own === 'number'
          ? String(own)
          : r.line !== undefined
            ? `${rel}:${r.line}`
            : shardFormat(file) === 'txt'
              ? rel
              : `${rel}#${r.row}`;
      const genre = r.value[genreField];
      yield {
        id,
        text,
        ...(typeof genre === 'string' ? { genre } : {}),
        source: { file, ...(r.line !== undefined ? { line: r.line } : { row: r.row }) },
      };
    }
  }
}
