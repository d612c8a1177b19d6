// Chains in, pre-training texts out, as JSON lines: what `ipt render` runs. Input: one Chain per
// line, either the JSON array of {context, pairs, inheritFromPrev} itself or a record holding it as
// "chain" ({"chain": [...], ...}, as in data/examples/synthesis-run). Output: one {"text", "chain"} object per text,
// chain = the 0-based index of the chain it came from. The output file appears complete or not at all
// (written to a temporary sibling, renamed at the end), so a bad line or a kill loses nothing. Lines are
// read by the kit's JSON-lines reader (lib/repro/jsonl.ts), so a bad line is told as every command tells
// one: "file:line: ...".

import {
  createReadStream,
  existsSync,
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  renameSync,
  rmSync,
  statSync,
  mkdirSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import type { Chain } from '../synth/format.js';
import { outputError, sniffDataFile, tempPathFor } from '../repro/files.js';
import { JsonLineError, streamJsonLines } from '../repro/jsonl.js';
import { createProgress } from '../repro/progress.js';
import { chainSeed, renderChain, type Family, type RenderOptions } from './render.js';

/** A line's chain: the line itself, or the "chain" field of a record ({"chain": [...]}). */
export function lineChain(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'chain' in value)
    return (value as { chain: unknown }).chain;
  return value;
}

/** What is wrong with a value that should be a Chain, or undefined when it is one. */
export function chainProblem(value: unknown): string | undefined {
  if (!Array.isArray(value))
    return `expected a JSON array of chain entries (or {"chain": [...]}), got ${describe(value)}`;
  for (let i = 0; i < value.length; i++) {
    const e = value[i] as Record<string, unknown>;
    const at = `entry ${i}`;
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      return `${at}: expected an object {context, pairs, inheritFromPrev}, got ${describe(e)}`;
    if (typeof e.context !== 'string') return `${at}: "context" must be a string, got ${describe(e.context)}`;
    if (!Array.isArray(e.pairs))
      return `${at}: "pairs" must be an array of {question, answer}, got ${describe(e.pairs)}`;
    if (e.inheritFromPrev !== undefined && typeof e.inheritFromPrev !== 'boolean')
      return `${at}: "inheritFromPrev" must be true or false, got ${describe(e.inheritFromPrev)}`;
    for (let j = 0; j < e.pairs.length; j++) {
      const p = e.pairs[j] as Record<string, unknown>;
      if (typeof p !== 'object' || p === null || typeof p.question !== 'string' || typeof p.answer !== 'string') {
        return `${at}, pair ${j}: expected {"question": string, "answer": string}, got ${describe(p)}`;
      }
    }
  }
  return undefined;
}

function describe(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    return 'a value nested too deeply to show'; // JSON.stringify recurses: a line of 100k brackets overflows it
  }
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const LINE_FORMAT =
  'each line must be one chain, a JSON array of {"context", "pairs", "inheritFromPrev"} or {"chain": [...]}';

/** The chunks of `input` as bytes, counting them into `read` as they pass (the progress bar's position). */
async function* countBytes(input: AsyncIterable<Buffer | string>, read: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    read.bytes += bytes.length;
    yield bytes;
  }
}

/** A missing `inheritFromPrev` reads as false (a chain written by hand). */
function normalize(value: Chain): Chain {
  return value.map((e) => (e.inheritFromPrev === undefined ? { ...e, inheritFromPrev: false } : e));
}

export type RenderFileOptions = {
  /** Input path, or "-" for `stdin`. */
  input: string;
  /** Output path; absent: lines go to `write`. */
  out?: string;
  seed: number;
  family?: Family;
  stdin?: Readable;
  write?: (chunk: string) => void;
  /** Progress stream (stderr by default). */
  progress?: NodeJS.WritableStream;
};

export type RenderFileSummary = {
  chains: number;
  texts: number;
  families: Record<string, number>;
  outputBytes: number;
};

/** Reads chains line by line, renders chain i with `chainSeed(seed, i)`, writes JSON lines. */
export async function renderJsonlFile(options: RenderFileOptions): Promise<RenderFileSummary> {
  const name = options.input === '-' ? 'stdin' : options.input;
  const fromStdin = options.input === '-';
  let total = 0;
  if (!fromStdin) {
    try {
      total = statSync(options.input).size;
    } catch {
      throw new Error(
        `cannot read ${options.input}: no such file (give --input a JSON-lines file of chains, or - for stdin)`,
      );
    }
  }
  if (!fromStdin) {
    const kind = sniffDataFile(options.input);
    if (kind !== 'text') {
      throw new Error(
        `${options.input} is a ${kind} file; ipt render reads plain JSON lines` +
          (kind === 'gzip' ? ` (gunzip -c ${options.input} | ipt render --input -)` : ''),
      );
    }
  }
  const stream = fromStdin
    ? (options.stdin ?? process.stdin)
    : createReadStream(options.input, { highWaterMark: 1 << 20 });
  const read = { bytes: 0 };
  const lines = streamJsonLines(Readable.from(countBytes(stream, read)), name, { fix: LINE_FORMAT });
  const renderOptions: RenderOptions = options.family ? { family: options.family } : {};

  let tmp: string | undefined;
  let fd: number | undefined;
  if (options.out !== undefined) {
    mkdirSync(dirname(options.out), { recursive: true });
    tmp = tempPathFor(options.out);
    try {
      fd = openSync(tmp, 'w');
    } catch (err) {
      throw outputError(err, tmp, options.out);
    }
  }
  const write = options.write ?? ((s: string) => process.stdout.write(s));
  let buffer = '';
  let outputBytes = 0;
  const flush = () => {
    if (buffer.length === 0) return;
    if (fd !== undefined) {
      const size = Buffer.byteLength(buffer);
      let done = writeSync(fd, buffer, null, 'utf8');
      if (done < size) {
        // a short write (rare on files): finish from a byte buffer
        const bytes = Buffer.from(buffer, 'utf8');
        while (done < size) done += writeSync(fd, bytes, done, size - done);
      }
      outputBytes += size;
    } else {
      outputBytes += Buffer.byteLength(buffer);
      write(buffer);
    }
    buffer = '';
  };

  const summary: RenderFileSummary = { chains: 0, texts: 0, families: {}, outputBytes: 0 };
  const bar = createProgress({ label: `render ${name}`, total, bytes: true, stream: options.progress });
  try {
    for await (const { line, value: record } of lines) {
      const value = lineChain(record);
      const problem = chainProblem(value);
      if (problem) throw new JsonLineError(name, line, problem);
      const index = summary.chains++;
      for (const r of renderChain(normalize(value as Chain), chainSeed(options.seed, index), renderOptions)) {
        buffer += JSON.stringify({ text: r.text, chain: index }) + '\n';
        summary.texts++;
        summary.families[r.family] = (summary.families[r.family] ?? 0) + 1;
      }
      if (buffer.length > 1 << 20) flush();
      if ((index & 255) === 0) {
        if (fromStdin) bar.setTotal(read.bytes); // size unknown up front
        bar.update(fromStdin ? read.bytes : Math.min(read.bytes, total), { chains: summary.chains });
      }
    }
    flush();
    // an empty input is a mistake (a wrong path, a run that wrote nothing), not an empty result to keep
    if (summary.chains === 0) {
      const kept = options.out !== undefined && existsSync(options.out) ? `, ${options.out} is left as it was` : '';
      throw new Error(`${name} holds no chains (it is empty); nothing was written${kept}`);
    }
    if (fd !== undefined) {
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp!, options.out!);
    }
    if (fromStdin) bar.setTotal(read.bytes);
    bar.update(fromStdin ? read.bytes : total, { chains: summary.chains });
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (tmp !== undefined) rmSync(tmp, { force: true });
    await lines.return(undefined);
    if (!fromStdin) (stream as ReturnType<typeof createReadStream>).destroy();
    throw tmp !== undefined ? outputError(err, tmp, options.out!) : err;
  } finally {
    bar.stop();
  }
  summary.outputBytes = outputBytes;
  return summary;
}
