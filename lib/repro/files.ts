// Crash-safe file writing: a file is either absent, or complete. Used for manifests,
// checkpoints, downloads and every JSON a later run trusts. Also the one reader and writer of JSON
// files (readJson, writeJson): errors name the file and say what to do.

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  writeSync,
  rmSync,
} from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A sibling temporary path, so the final rename never crosses file systems. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * A file-system error on the hidden temporary file, told about the file the user asked for: a read-only
 * folder is "permission denied: out.jsonl", not ".out.jsonl.1234.ab12cd34.tmp".
 */
export function outputError(err: unknown, tmp: string, path: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && e.path === tmp) {
    e.path = path;
    e.message = e.message.split(tmp).join(path);
  }
  return err;
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw outputError(err, tmp, path);
  }
}

/** Flushes a file written by other means (a stream, a library) to the disk before it is renamed into place. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export type ReadJsonOptions = {
  /** How the user gave the file, e.g. "--config": messages then say "x.json: no such file (the --config JSON file)". */
  what?: string;
  /** What to do when the file is not valid JSON, e.g. "delete the stage folder and run again". */
  fix?: string;
};

/** A JSON file's value; an absent file, a folder or invalid JSON is an error naming the file. */
export function readJson(path: string, options: ReadJsonOptions = {}): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new Error(`${path}: no such file${options.what ? ` (the ${options.what} JSON file)` : ''}`);
    if (code === 'EISDIR') throw new Error(`${path}: is a folder; ${options.what ?? 'this'} takes a JSON file`);
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})${options.fix ? `; ${options.fix}` : ''}`);
  }
}

/** Writes `value` as JSON, atomically: pretty-printed with a final newline unless `compact`. */
export function writeJson(path: string, value: unknown, options: { compact?: boolean } = {}): void {
  writeFileAtomic(path, options.compact ? JSON.stringify(value) : JSON.stringify(value, null, 2) + '\n');
}

/** What a data file holds, judged by its first bytes (not its name): gzip, parquet, or text. */
export function sniffDataFile(path: string): 'gzip' | 'parquet' | 'text' {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (n === 4 && head.toString('latin1') === 'PAR1') return 'parquet';
    return 'text';
  } finally {
    closeSync(fd);
  }
}

/**
 * A JSON-lines (or other text) file as a string; gzip data is decompressed. A parquet file, or gzip data
 * cut off, is an error that says what to do rather than a first line of binary garbage.
 */
export function readTextFile(path: string): string {
  const kind = sniffDataFile(path);
  if (kind === 'parquet') {
    throw new Error(
      `${path} is a parquet file; this command reads JSON lines (.jsonl or .jsonl.gz): ipt corpus sample/chunk and ipt synthesize read parquet`,
    );
  }
  const bytes = readFileSync(path);
  if (kind === 'text') return bytes.toString('utf8');
  try {
    return gunzipSync(bytes).toString('utf8');
  } catch (err) {
    throw new Error(
      `${path}: the gzip data is truncated or corrupt (${(err as Error).message}); download or write the file again`,
    );
  }
}

/** A JSON object from a file; a damaged file gets an error that names it and says what to do (`fix`). */
export function readJsonObject(path: string, fix: string, what?: string): Record<string, unknown> {
  const value = readJson(path, { fix, what });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${path}: expected a JSON object; ${fix}`);
  return value as Record<string, unknown>;
}

/** Whether a process with this id is running (a pid of this machine; EPERM means it exists). */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A folder is built beside its final place and renamed into it at the end, so `out` is always either
 * absent, the previous complete folder, or the new complete one; a killed build leaves only a hidden
 * `.NAME.partial-PID-RAND` sibling, which the next build removes once its process is gone.
 */
export function createStagingDir(out: string): string {
  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  removeStaleStaging(out);
  const staging = join(parent, `.${basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging);
  return staging;
}

/** Removes staging and set-aside folders of `out` left by processes that no longer run. */
export function removeStaleStaging(out: string): void {
  const parent = dirname(out);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const prefix = `.${basename(out)}.`;
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(partial|old)-(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length)) : null;
    if (m && !isProcessAlive(Number(m[2]))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

/** Puts a finished staging folder in place of `out`: the old one steps aside, the new one takes its name, the old one goes. */
export function commitStagingDir(staging: string, out: string): void {
  const old = join(dirname(out), `.${basename(out)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
  const hadOld = existsSync(out);
  if (hadOld) renameSync(out, old);
  renameSync(staging, out);
  if (hadOld) rmSync(old, { recursive: true, force: true });
}
