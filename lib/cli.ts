#!/usr/bin/env node
// The `ipt` command: a thin client of lib/. Each command parses its options, calls the library,
// and prints. `ipt --help` lists the commands; `ipt <command> --help` explains one.

import { parseArgs } from 'node:util';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cookRead, parseComprehension } from './synth/format.js';
import { synthesize, SYNTHESIS_DEFAULTS } from './synth/driver.js';
import { loadTexts, INPUT_HELP } from './synth/input.js';
import { openEngine, ENGINE_SPEC_HELP } from './engine/open.js';
import { OnnxCausalLM } from './engine/onnx-lm.js';
import { serveCompletions } from './engine/serve.js';
import { parseProvider, probeProviders } from './engine/providers.js';

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

/** A whole-number option, or undefined when absent; a clear error otherwise. */
function intOption(values: CommandArgs['values'], name: string, min = 1): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got "${String(v)}"`);
  return n;
}

function numberOption(values: CommandArgs['values'], name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(v)}"`);
  return n;
}

function requireOption(values: CommandArgs['values'], name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required`);
  return v;
}

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
    name: 'synthesize',
    summary: 'Synthesize instruction-response pairs for raw texts, M rounds, resumable (kill it and run it again).',
    description:
      'Runs the multi-round synthesizer over the input texts with an engine, appending every finished batch to ' +
      'round-<r>.jsonl in the output folder. Running the same command again after an interruption finishes the run: ' +
      'every text is synthesized exactly once, and greedy results equal an uninterrupted run. The final chains go to ' +
      'chains.jsonl, and manifest.json records engine, model revision, options, seeds and throughput.',
    options: {
      input: { type: 'string', value: 'SOURCE', description: INPUT_HELP },
      engine: { type: 'string', value: 'SPEC', description: ENGINE_SPEC_HELP },
      out: { type: 'string', value: 'DIR', description: 'run folder (created; resumed when it holds the same run)' },
      rounds: { type: 'string', value: 'M', default: String(SYNTHESIS_DEFAULTS.rounds), description: 'rounds: texts are cut into M slices, each round continuing the chains of the last' },
      'max-model-len': { type: 'string', value: 'N', default: String(SYNTHESIS_DEFAULTS.maxModelLen), description: 'context budget in the synthesizer\'s tokens' },
      'max-new-tokens': { type: 'string', value: 'N', default: String(SYNTHESIS_DEFAULTS.maxNewTokens), description: 'tokens generated per text at most' },
      'batch-size': { type: 'string', value: 'N', default: String(SYNTHESIS_DEFAULTS.batchSize), description: 'prompts per engine call (one batch, one append to the run folder)' },
      'parallel-batches': { type: 'string', value: 'N', default: '1', description: 'batches in flight (raise it for remote servers)' },
      temperature: { type: 'string', value: 'T', default: '0', description: '0 is greedy (the released setup)' },
      'top-p': { type: 'string', value: 'P', default: '1', description: 'nucleus sampling mass when sampling' },
      seed: { type: 'string', value: 'N', default: '0', description: 'sampling seed' },
      limit: { type: 'string', value: 'N', description: 'use only the first N texts' },
      'chunk-chars': { type: 'string', value: 'N', description: 'split texts longer than N characters at paragraph and sentence ends' },
      provider: { type: 'string', value: 'EP', default: 'cpu', description: 'onnx: cpu, webgpu, cuda, or auto (tries cuda, webgpu, cpu)' },
      threads: { type: 'string', value: 'N', description: 'onnx: intra-op threads (default: all cores)' },
      model: { type: 'string', value: 'ID', description: 'openai: model id on the server (default: the first it lists)' },
      concurrency: { type: 'string', value: 'N', default: '8', description: 'openai: requests in flight' },
      'timeout-s': { type: 'string', value: 'S', default: '600', description: 'openai: seconds before a request is retried' },
      retries: { type: 'string', value: 'N', default: '6', description: 'openai: retries on 429, 5xx, timeouts and dropped connections' },
      tokenizer: { type: 'string', value: 'DIR', description: 'openai: folder with the served model\'s tokenizer.json, for exact prompt budgets' },
    },
    examples: [
      'ipt synthesize --input brown --chunk-chars 3000 --engine onnx:models/synth --rounds 2 --out runs/synth-brown',
      'ipt synthesize --input texts.jsonl --engine openai:http://gpu-box:8000/v1 --parallel-batches 4 --out runs/synth',
    ],
    async run({ values }, io) {
      const input = requireOption(values, 'input');
      const spec = requireOption(values, 'engine');
      const out = requireOption(values, 'out');
      const source = loadTexts(input, { limit: intOption(values, 'limit'), chunkChars: intOption(values, 'chunk-chars') });
      const timeout = numberOption(values, 'timeout-s');
      const engine = await openEngine(spec, {
        provider: parseProvider(values.provider as string | undefined),
        threads: intOption(values, 'threads'),
        batchSize: intOption(values, 'batch-size'),
        model: values.model as string | undefined,
        concurrency: intOption(values, 'concurrency'),
        timeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
        retries: intOption(values, 'retries', 0),
        tokenizerDir: values.tokenizer as string | undefined,
      });
      try {
        io.stderr(`ipt synthesize: ${source.texts.length} texts from ${input} with ${engine.name}\n`);
        const result = await synthesize({
          texts: source.texts,
          engine,
          outDir: out,
          rounds: intOption(values, 'rounds'),
          maxModelLen: intOption(values, 'max-model-len'),
          maxNewTokens: intOption(values, 'max-new-tokens'),
          batchSize: intOption(values, 'batch-size'),
          parallelBatches: intOption(values, 'parallel-batches'),
          temperature: numberOption(values, 'temperature'),
          topP: numberOption(values, 'top-p'),
          seed: intOption(values, 'seed', 0),
          command: ['ipt', 'synthesize', ...Object.entries(values).flatMap(([k, v]) => (v === undefined ? [] : typeof v === 'boolean' ? (v ? [`--${k}`] : []) : [`--${k}`, String(v)]))],
          inputs: [source.input],
        });
        const t = result.totals;
        const s = result.session;
        io.stdout(
          `${t.texts} texts, ${t.pairs} pairs (${t.textsWithPairs} texts with pairs); this session: ${s.texts} texts in ${s.seconds.toFixed(1)} s, ` +
            `${s.tokensPerSecond.toFixed(1)} tokens/s, ${s.textsPerSecond.toFixed(2)} texts/s` +
            (s.resumedTexts ? ` (${s.resumedTexts} texts were already done)` : '') +
            `\nchains: ${out}/chains.jsonl\n`,
        );
      } finally {
        await engine.close?.();
      }
    },
  },
  {
    name: 'serve',
    summary: 'Serve an ONNX model folder over the OpenAI-compatible /v1/completions API (for a workshop, or for tests).',
    options: {
      model: { type: 'string', value: 'DIR', description: 'model folder (config.json, tokenizer.json, onnx/model*.onnx)' },
      port: { type: 'string', value: 'P', default: '8000', description: 'port (0 picks a free one)' },
      host: { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'address to listen on (0.0.0.0 to share it on the network)' },
      name: { type: 'string', value: 'ID', description: 'model id clients use (default: the folder name)' },
      provider: { type: 'string', value: 'EP', default: 'cpu', description: 'cpu, webgpu, cuda, or auto (tries cuda, webgpu, cpu)' },
      threads: { type: 'string', value: 'N', description: 'intra-op threads (default: all cores)' },
      'batch-size': { type: 'string', value: 'N', default: '8', description: 'prompts per generation batch' },
      quiet: { type: 'boolean', description: 'no line per request' },
    },
    examples: ['ipt serve --model models/synth --port 8000', 'ipt synthesize --input brown --engine openai:http://127.0.0.1:8000/v1 --out runs/x'],
    async run({ values }, io) {
      const dir = requireOption(values, 'model');
      const lm = await OnnxCausalLM.load(dir, {
        provider: parseProvider(values.provider as string | undefined),
        threads: intOption(values, 'threads'),
        batchSize: intOption(values, 'batch-size'),
      });
      const name = (values.name as string | undefined) ?? dir.replace(/\/+$/, '').split('/').pop() ?? 'model';
      const server = await serveCompletions(lm, {
        port: intOption(values, 'port', 0) ?? 8000,
        host: (values.host as string | undefined) ?? '127.0.0.1',
        modelName: name,
        maxModelLen: lm.contextLength,
        log: values.quiet ? undefined : (line) => io.stderr(`${line}\n`),
      });
      io.stdout(`ipt serve: ${name} (${lm.name}, ${lm.provider}) at ${server.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      await lm.close();
      io.stderr('ipt serve: stopped\n');
    },
  },
  {
    name: 'providers',
    summary: 'Show which ONNX Runtime execution providers (cpu, webgpu, cuda) start on this machine, and what to install for the others.',
    options: {},
    async run(_args, io) {
      for (const p of await probeProviders()) io.stdout(`${p.provider.padEnd(7)} ${p.ok ? 'ok' : `unavailable: ${p.message}`}\n`);
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
