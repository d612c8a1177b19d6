#!/usr/bin/env node
// The `ipt` command: a thin client of lib/. Each command parses its options, calls the library,
// and prints. `ipt --help` lists the commands; `ipt <command> --help` explains one.

import { parseArgs } from 'node:util';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { threadsOption, UsageError, type Command, type CommandArgs, type Io, type OptionSpec } from './cli/command.js';
import { synthCommands } from './cli/synth.js';
import { templatesCommands } from './cli/templates.js';
import { corpusCommands } from './cli/corpus.js';
import { engineCommands } from './cli/engine.js';
import { tasksCommands } from './cli/tasks.js';
import { trainCommands } from './cli/train.js';
import { evalCommands } from './cli/eval.js';
import { tinyCommands } from './cli/tiny.js';
import { ablateCommands } from './cli/ablate.js';
import { exportCommands } from './cli/export.js';
import { convertCommands } from './cli/convert.js';

export {
  UsageError,
  type Command,
  type CommandArgs,
  type Io,
  type OptionSpec,
  type PositionalSpec,
} from './cli/command.js';

const commands: Command[] = [
  ...synthCommands,
  ...templatesCommands,
  ...corpusCommands,
  ...engineCommands,
  ...convertCommands,
  ...trainCommands,
  ...evalCommands,
  ...tinyCommands,
  ...tasksCommands,
  ...ablateCommands,
  ...exportCommands,
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
    const def =
      o.default !== undefined && o.default !== false
        ? ` (default: ${Array.isArray(o.default) ? o.default.join(', ') : o.default})`
        : '';
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
        Object.fromEntries(
          Object.entries({ type: o.type, short: o.short, multiple: o.multiple, default: o.default }).filter(
            ([, v]) => v !== undefined,
          ),
        ),
      ]),
    );
    const result = parseArgs({
      args: optionValues(rest, cmd.options),
      options: options as never,
      allowPositionals: true,
      strict: true,
    });
    parsed = { values: result.values as CommandArgs['values'], positionals: result.positionals };
    const required = (cmd.positionals ?? []).filter((p) => !p.optional).length;
    const variadic = (cmd.positionals ?? []).some((p) => p.variadic);
    if (
      parsed.positionals.length < required ||
      (!variadic && parsed.positionals.length > (cmd.positionals ?? []).length)
    ) {
      throw new UsageError(`expected ${usageLine(cmd)}`);
    }
    // checked before any work: a command may load data for minutes before it reads its threads
    if ('threads' in cmd.options) threadsOption(parsed.values);
  } catch (err) {
    io.stderr(
      `ipt ${cmd.name}: ${(err as Error).message}\nusage: ${usageLine(cmd)}   (ipt ${cmd.name} --help lists the options)\n`,
    );
    return 2;
  }
  try {
    return (await cmd.run(parsed, io)) ?? 0;
  } catch (err) {
    const e = err as Error;
    io.stderr(`ipt ${cmd.name}: ${fileErrorMessage(e) ?? e.message}\n`);
    if (process.env.IPT_DEBUG) io.stderr(`${e.stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/**
 * Node's parseArgs reads "--n -1" as an option followed by another ("argument is ambiguous"): a value
 * that is a number (negative seeds, a mistaken -1) is joined to its option, so the option's own check
 * answers; an option followed by a real option is said to need a value.
 */
function optionValues(args: string[], specs: Record<string, OptionSpec>): string[] {
  const byShort = new Map(Object.entries(specs).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = /^--[^=]+$/.test(a) ? a.slice(2) : /^-[^-]$/.test(a) ? byShort.get(a[1]) : undefined;
    const next = args[i + 1];
    if (
      name === undefined ||
      specs[name]?.type !== 'string' ||
      next === undefined ||
      !next.startsWith('-') ||
      next === '-'
    ) {
      out.push(a);
      continue;
    }
    if (!/^-(\d|\.\d)/.test(next))
      throw new UsageError(
        `--${name} needs a value (${specs[name].value ?? 'VALUE'}); a value that starts with "-" is written --${name}=${next}`,
      );
    out.push(`--${name}=${next}`);
    i++;
  }
  return out;
}

/**
 * Node's file-system errors ("EEXIST: file already exists, mkdir 'x'") said the way a user can act on,
 * wherever in the kit they come from; undefined for any other error.
 */
export function fileErrorMessage(err: Error): string | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  // reading an open folder fails with no path to name
  if (e.code === 'EISDIR' && typeof e.path !== 'string') return 'a folder was given where a file is expected';
  if (typeof e.path !== 'string') return undefined;
  const path = e.path;
  const target = e.dest ?? path;
  switch (e.code) {
    case 'ENOENT':
      return `no such file or folder: ${path}`;
    case 'EEXIST':
      return e.syscall === 'mkdir'
        ? `cannot create the folder ${path}: a file of that name is in the way; choose another output path`
        : `${target} already exists`;
    case 'ENOTDIR':
      return `${path}: part of this path is a file, not a folder; choose another path`;
    case 'EISDIR':
      return e.syscall === 'rename'
        ? `cannot write ${target}: it is a folder; name a file there`
        : `${path} is a folder; a file is expected here`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${target}`;
    case 'ENOSPC':
      return `no space left on the device while writing ${target}`;
    default:
      return undefined;
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
  // `ipt ... | head` closes the pipe early: that is the reader's choice, not an error
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
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
