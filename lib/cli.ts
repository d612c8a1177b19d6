#!/usr/bin/env node
// The `ipt` command: a thin client of lib/. Each command parses its options, calls the library,
// and prints. `ipt --help` lists the commands; `ipt <command> --help` explains one.

import { parseArgs } from 'node:util';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { cookRead, parseComprehension } from './synth/format.js';

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

function readInput(path: string | undefined, io: Io): string {
  return path === undefined || path === '-' ? io.readStdin() : readFileSync(path, 'utf8');
}

const commands: Command[] = [
  {
    name: 'prompt',
    summary: 'Print the synthesizer prompt for a raw text (the exact string the model must see).',
    options: {},
    positionals: [{ name: 'FILE', description: 'raw text file; "-" or nothing reads stdin', optional: true }],
    examples: ['echo "The cat sat on the mat." | ipt prompt'],
    async run({ positionals }, io) {
      io.stdout(cookRead(readInput(positionals[0], io).replace(/\n+$/, '')));
    },
  },
  {
    name: 'parse',
    summary: 'Parse a synthesizer output into instruction-response pairs (JSON).',
    options: {
      'keep-duplicates': { type: 'boolean', description: 'keep questions repeated ignoring case (the released pipeline drops them)' },
    },
    positionals: [{ name: 'FILE', description: 'model output; "-" or nothing reads stdin', optional: true }],
    async run({ values, positionals }, io) {
      const pairs = parseComprehension(readInput(positionals[0], io), { deduplicate: values['keep-duplicates'] !== true });
      io.stdout(JSON.stringify(pairs, null, 2) + '\n');
    },
  },
  {
    name: 'coverage',
    summary: 'Task-category coverage of a set of pairs: counts per category and family, lengths, figures.',
    description:
      'Labels every pair with the kit\'s task taxonomy (data/tasks/taxonomy.json) using the rule classifier\n' +
      '(data/tasks/rules.json), then writes coverage.json, labels.jsonl, a self-contained coverage.html,\n' +
      'PNG figures under figures/ (when Chromium is installed) and manifest.json into the output folder.\n' +
      'Input lines may be {"question","answer"} pairs, Chains, {"chain": Chain} or {"context","pairs"} records.',
    options: {
      input: { type: 'string', short: 'i', value: 'PATH', description: 'pairs or chains JSONL file, a synthesis run folder, or hf:<dataset> (download it first)' },
      out: { type: 'string', short: 'o', value: 'DIR', description: 'output folder (default: runs/coverage/<name>)' },
      name: { type: 'string', value: 'NAME', description: 'name shown in the report (default: the input file or folder name)' },
      png: { type: 'string', value: 'auto|yes|no', default: 'auto', description: 'write PNG figures with Chromium: auto (if installed), yes (fail without it), no' },
      top: { type: 'string', value: 'N', default: '15', description: 'categories to list in the printed table' },
    },
    examples: ['ipt coverage --input data/examples/synthesis-run', 'ipt coverage --input pairs.jsonl --out runs/coverage/mine --png no'],
    async run({ values }, io) {
      const input = values.input as string | undefined;
      if (!input) throw new UsageError('--input is required (a pairs JSONL file, a synthesis run folder, or hf:<dataset>)');
      const png = (values.png as string) ?? 'auto';
      if (!['auto', 'yes', 'no'].includes(png)) throw new UsageError(`--png must be auto, yes or no (got "${png}")`);
      const top = Number(values.top ?? 15);
      if (!Number.isInteger(top) || top < 0) throw new UsageError(`--top must be a whole number (got "${values.top}")`);
      // Loaded here so other commands do not pay for playwright-core and the taxonomy at start-up.
      const { readPairsInput, InputError } = await import('./tasks/input.js');
      const { runCoverage } = await import('./report/coverage.js');
      const { categoryRows, coverageSummary } = await import('./tasks/coverage.js');
      const { textTable } = await import('./report/html.js');
      let set;
      try {
        set = readPairsInput(input, values.name as string | undefined);
      } catch (err) {
        if (err instanceof InputError) throw new UsageError(err.message);
        throw err;
      }
      const out = (values.out as string | undefined) ?? join('runs', 'coverage', set.name.replace(/[^\w.-]+/g, '_'));
      const result = await runCoverage({ input, out, png: png as 'auto' | 'yes' | 'no', command: ['ipt', 'coverage', ...process.argv.slice(3)] }, set);
      for (const w of result.coverage.warnings) io.stderr(`warning: ${w}\n`);
      if (result.pngSkipped) io.stderr(`note: no PNG figures (${result.pngSkipped})\n`);
      io.stdout(`${coverageSummary(result.coverage)}\n\n`);
      if (top > 0) io.stdout(textTable(categoryRows(result.coverage, top)) + '\n');
      io.stdout(`wrote ${result.files.map((f) => join(out, f)).join(', ')}\n`);
    },
  },
];

export function listCommands(): readonly Command[] {
  return commands;
}

function usageLine(cmd: Command): string {
  const pos = (cmd.positionals ?? []).map((p) => {
    const name = p.variadic ? `${p.name}...` : p.name;
    return p.optional ? `[${name}]` : name;
  });
  return ['ipt', cmd.name, Object.keys(cmd.options).length ? '[options]' : '', ...pos].filter(Boolean).join(' ');
}

export function commandHelp(cmd: Command): string {
  const lines = [`Usage: ${usageLine(cmd)}`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  if (cmd.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of cmd.positionals) lines.push(`  ${p.name.padEnd(24)} ${p.description}`);
  }
  const opts = Object.entries(cmd.options);
  lines.push('', 'Options:');
  for (const [name, o] of opts) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${Array.isArray(o.default) ? o.default.join(', ') : o.default})` : '';
    lines.push(`  ${flag.padEnd(24)} ${o.description}${o.multiple ? ' (repeatable)' : ''}${def}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(24)} show this help`);
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'ipt: the Instruction Pre-Training kit (Cheng et al., 2024, arXiv 2406.14491)',
    '',
    'Usage: ipt <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    'Run `ipt <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

/** The command whose (possibly multi-word) name is the longest prefix of argv. */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    const target = argv[0] === 'help' && argv.length > 1 ? findCommand(argv.slice(1)) : undefined;
    io.stdout(target ? commandHelp(target.cmd) : mainHelp());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr(`ipt: unknown command "${argv.join(' ')}"\n\n${mainHelp()}`);
    return 2;
  }
  const { cmd, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(cmd));
    return 0;
  }
  let parsed: CommandArgs;
  try {
    const options = Object.fromEntries(
      Object.entries(cmd.options).map(([name, o]) => [
        name,
        Object.fromEntries(Object.entries({ type: o.type, short: o.short, multiple: o.multiple, default: o.default }).filter(([, v]) => v !== undefined)),
      ]),
    );
    const result = parseArgs({ args: rest, options: options as never, allowPositionals: true, strict: true });
    parsed = { values: result.values as CommandArgs['values'], positionals: result.positionals };
    const required = (cmd.positionals ?? []).filter((p) => !p.optional).length;
    const variadic = (cmd.positionals ?? []).some((p) => p.variadic);
    if (parsed.positionals.length < required || (!variadic && parsed.positionals.length > (cmd.positionals ?? []).length)) {
      throw new UsageError(`expected ${usageLine(cmd)}`);
    }
  } catch (err) {
    io.stderr(`ipt ${cmd.name}: ${(err as Error).message}\n\n${commandHelp(cmd)}`);
    return 2;
  }
  try {
    return (await cmd.run(parsed, io)) ?? 0;
  } catch (err) {
    const e = err as Error;
    io.stderr(`ipt ${cmd.name}: ${e.message}\n`);
    if (process.env.IPT_DEBUG) io.stderr(`${e.stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

function defaultIo(): Io {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    readStdin: () => readFileSync(0, 'utf8'),
  };
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`ipt: ${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
