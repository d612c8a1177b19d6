// ipt commands for the engines: serve a model over the OpenAI-compatible API, list execution providers.

import { serveCompletions } from '../engine/serve.js';
import { parseProvider, probeProviders, PROVIDER_CHOICES, type ProviderChoice } from '../engine/providers.js';
import { LlamaCppLM, llamaTokenizer, probeLlamaBackends } from '../engine/llama.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import type { TokenLM } from '../engine/gpt.js';
import type { TextTokenizer } from '../engine/tokenizer.js';
import { LLAMA_INSTALL_HELP } from '../engine/llama-module.js';
import {
  openEngine,
  parseEngineSpec,
  providerProblem,
  ENGINE_PROVIDERS,
  ENGINE_SPEC_HELP,
  type EngineProvider,
} from '../engine/open.js';
import type { CompletionEngine } from '../engine/completion.js';
import {
  intOption,
  numberOption,
  requireOption,
  UsageError,
  type CommandArgs,
  type Command,
  type OptionSpec,
} from './command.js';

/** The options of every command that opens an engine spec (onnx:DIR or openai:URL). */
export const ENGINE_CLIENT_OPTIONS: Record<string, OptionSpec> = {
  provider: {
    type: 'string',
    value: 'EP',
    default: 'cpu',
    description:
      'onnx: cpu, webgpu, cuda, or auto (tries cuda, webgpu, cpu); gguf: cpu, cuda, vulkan, metal, or auto (the best GPU that starts, else cpu)',
  },
  threads: { type: 'string', value: 'N', description: 'onnx, gguf: CPU threads (default: all cores)' },
  file: {
    type: 'string',
    value: 'PATH',
    description: 'onnx: the .onnx file, relative to the folder (default: found in it, see env/engines.md)',
  },
  model: { type: 'string', value: 'ID', description: 'openai: model id on the server (default: the first it lists)' },
  concurrency: { type: 'string', value: 'N', default: '8', description: 'openai: requests in flight' },
  'timeout-s': {
    type: 'string',
    value: 'S',
    default: '600',
    description: 'openai: seconds before a request is retried',
  },
  retries: {
    type: 'string',
    value: 'N',
    default: '6',
    description: 'openai: retries on 429, 5xx, timeouts and dropped connections',
  },
  tokenizer: {
    type: 'string',
    value: 'DIR',
    description: "openai: folder with the served model's tokenizer.json, for exact prompt budgets",
  },
};

/** The token-level side of a local engine, for `echo` + `logprobs` scoring requests to `ipt serve`. */
function scorerOf(lm: CompletionEngine): { scorer?: { model: TokenLM; tokenizer: TextTokenizer } } {
  if (lm instanceof OnnxCausalLM && lm.tokenizer) return { scorer: { model: lm, tokenizer: lm.tokenizer } };
  if (lm instanceof LlamaCppLM) return { scorer: { model: lm, tokenizer: llamaTokenizer(lm) } };
  return {};
}

/** --provider as an ONNX Runtime provider; an unknown name is a usage error. */
export function providerOption(values: CommandArgs['values']): ProviderChoice {
  const value = values.provider as string | undefined;
  if (value !== undefined && !(PROVIDER_CHOICES as readonly string[]).includes(value.toLowerCase())) {
    throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}, got "${value}"`);
  }
  return parseProvider(value);
}

/** --provider for an engine spec: ONNX Runtime's or llama.cpp's names; an unknown name is a usage error. */
export function engineProviderOption(values: CommandArgs['values']): EngineProvider {
  const value = ((values.provider as string | undefined) ?? 'cpu').toLowerCase();
  if (!(ENGINE_PROVIDERS as readonly string[]).includes(value))
    throw new UsageError(`--provider must be one of ${ENGINE_PROVIDERS.join(', ')}, got "${String(values.provider)}"`);
  return value as EngineProvider;
}

/** Usage errors in an engine spec and its options, found before anything is loaded or opened. */
export function checkEngineOptions(spec: string, values: CommandArgs['values']): void {
  const parsed = parseEngineSpec(spec);
  if (!parsed) throw new UsageError(`unknown engine "${spec}": use ${ENGINE_SPEC_HELP}`);
  const problem = providerProblem(parsed.kind, engineProviderOption(values));
  if (problem) throw new UsageError(problem);
}

/** Opens `spec` with the values of ENGINE_CLIENT_OPTIONS; `batchSize` is the prompts per ONNX batch. */
export async function openEngineFromOptions(
  spec: string,
  values: CommandArgs['values'],
  batchSize?: number,
): Promise<CompletionEngine> {
  checkEngineOptions(spec, values);
  const timeout = numberOption(values, 'timeout-s');
  return openEngine(spec, {
    provider: engineProviderOption(values),
    threads: intOption(values, 'threads'),
    batchSize,
    file: values.file as string | undefined,
    model: values.model as string | undefined,
    concurrency: intOption(values, 'concurrency'),
    timeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
    retries: intOption(values, 'retries', 0),
    tokenizerDir: values.tokenizer as string | undefined,
  });
}

export const engineCommands: Command[] = [
  {
    name: 'serve',
    summary:
      'Serve an ONNX model folder over the OpenAI-compatible /v1/completions API (for a workshop, or for tests).',
    options: {
      model: {
        type: 'string',
        value: 'DIR|SPEC',
        description:
          'an ONNX model folder (config.json, tokenizer.json, onnx/model*.onnx), or gguf:FILE|REPO[:FILE] for llama.cpp',
      },
      port: { type: 'string', value: 'P', default: '8000', description: 'port (0 picks a free one)' },
      host: {
        type: 'string',
        value: 'HOST',
        default: '127.0.0.1',
        description: 'address to listen on (0.0.0.0 to share it on the network)',
      },
      name: { type: 'string', value: 'ID', description: 'model id clients use (default: the folder name)' },
      provider: ENGINE_CLIENT_OPTIONS.provider,
      threads: ENGINE_CLIENT_OPTIONS.threads,
      file: ENGINE_CLIENT_OPTIONS.file,
      'batch-size': {
        type: 'string',
        value: 'N',
        default: '8',
        description: 'prompts per generation batch (gguf: parallel sequences)',
      },
      quiet: { type: 'boolean', description: 'no line per request' },
    },
    examples: [
      'ipt serve --model models/synth --port 8000',
      'ipt serve --model gguf:models/synth.Q4_K_M.gguf --port 8000',
      'ipt synthesize --input brown --engine openai:http://127.0.0.1:8000/v1 --out runs/x',
    ],
    async run({ values }, io) {
      const model = requireOption(values, 'model');
      const spec = parseEngineSpec(model) && !model.startsWith('openai:') ? model : `onnx:${model}`;
      const port = intOption(values, 'port', 0) ?? 8000;
      if (port > 65535)
        throw new UsageError(`--port must be 0..65535 (0 picks a free one), got "${String(values.port)}"`);
      const host = (values.host as string | undefined) ?? '127.0.0.1';
      checkEngineOptions(spec, values);
      const lm = await openEngineFromOptions(spec, values, intOption(values, 'batch-size'));
      const name =
        (values.name as string | undefined) ??
        parseEngineSpec(spec)!.target.replace(/\/+$/, '').split(/[/:]/).pop() ??
        'model';
      let server;
      try {
        server = await serveCompletions(lm, {
          debug: Boolean(process.env.IPT_DEBUG),
          port,
          host,
          modelName: name,
          maxModelLen: 'contextLength' in lm && typeof lm.contextLength === 'number' ? lm.contextLength : undefined,
          log: values.quiet ? undefined : (line) => io.stderr(`${line}\n`),
          ...scorerOf(lm),
        });
      } catch (err) {
        await lm.close?.();
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
          throw new Error(`port ${port} on ${host} is in use: choose another --port (0 picks a free one)`);
        throw err;
      }
      io.stdout(`ipt serve: ${name} (${lm.name}) at ${server.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      await lm.close?.();
      io.stderr('ipt serve: stopped\n');
    },
  },
  {
    name: 'providers',
    summary:
      'Show which ONNX Runtime execution providers (cpu, webgpu, cuda) and llama.cpp backends (cpu, cuda, vulkan) start here, and what the others need.',
    options: {},
    async run(_args, io) {
      io.stdout('ONNX Runtime (--engine onnx:DIR)\n');
      const onnx = await probeProviders();
      for (const p of onnx) io.stdout(`  ${p.provider.padEnd(7)} ${p.ok ? 'ok' : `unavailable: ${p.message}`}\n`);
      const onnxAuto = ['cuda', 'webgpu', 'cpu'].find((name) => onnx.some((p) => p.provider === name && p.ok));
      io.stdout(`  --provider auto picks ${onnxAuto ?? 'nothing (no provider starts)'}\n`);
      io.stdout('llama.cpp (--engine gguf:FILE)\n');
      const llama = await probeLlamaBackends();
      if (!llama.installed) {
        io.stdout(`  not installed: ${LLAMA_INSTALL_HELP}\n`);
        return;
      }
      for (const b of llama.backends)
        io.stdout(`  ${b.backend.padEnd(7)} ${b.ok ? 'ok' : `unavailable: ${b.message}`}\n`);
      io.stdout(`  --provider auto picks ${llama.auto ?? 'nothing (no backend starts)'}\n`);
    },
  },
];
