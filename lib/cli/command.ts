// The shape of an ipt command and the option helpers commands share.

import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';

export type OptionSpec = {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  description: string;
  /** Shown in help instead of the generic VALUE. */
  value?: string;
};

export type PositionalSpec = { name: string; description: string; optional?: boolean; variadic?: boolean };

export type CommandArgs = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

export type Io = { stdout: (s: string) => void; stderr: (s: string) => void; readStdin: () => string };

export type Command = {
  /** One or more words: "train", "corpus sample". */
  name: string;
  summary: string;
  description?: string;
  options: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  examples?: string[];
  run(args: CommandArgs, io: Io): Promise<number | void>;
};

/** An error whose message is meant for the user as is (no stack trace). */
export class UsageError extends Error {}

/** Each thread costs memory (a worker's heap, ONNX Runtime's buffers): beyond a few per core there is nothing to gain. */
export function maxThreads(): number {
  return Math.max(4, 4 * availableParallelism());
}

/** --threads: 1 to maxThreads(), or undefined when absent. */
export function threadsOption(values: CommandArgs['values']): number | undefined {
  const v = values.threads;
  if (v === undefined) return undefined;
  const n = Number(v);
  const max = maxThreads();
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(
      `--threads must be a whole number from 1 to ${max} (this machine has ${availableParallelism()} cores; more threads than cores only cost memory), got "${String(v)}"`,
    );
  }
  return n;
}

/** A whole-number option, or undefined when absent; a clear error otherwise. */
export function intOption(values: CommandArgs['values'], name: string, min = 1): number | undefined {
  if (name === 'threads') return threadsOption(values);
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number >= ${min}, got "${String(v)}"`);
  return n;
}

export function numberOption(values: CommandArgs['values'], name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(v)}"`);
  return n;
}

export function requireOption(values: CommandArgs['values'], name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required`);
  return v;
}

export function readInput(path: string | undefined, io: Io): string {
  return path === undefined || path === '-' ? io.readStdin() : readFileSync(path, 'utf8');
}

/**
 * Checks an output file path before the work that fills it starts, so that hours of work are not lost
 * to a path that cannot be written: its folder is created now; a folder at the path itself is refused.
 */
export function prepareOutputFile(path: string, option: string): void {
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    // absent: fine
  }
  if (isFolder) throw new UsageError(`--${option} ${path} is a folder; name a file`);
  mkdirSync(dirname(path), { recursive: true });
}
