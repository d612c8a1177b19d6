// Opens a synthesizer backend from a short spec, as the CLI and notebooks name them:
//   onnx:DIR               an ONNX model folder run here (OnnxCausalLM, ONNX Runtime)
//   gguf:PATH|REPO[:FILE]  a GGUF file run here by llama.cpp (LlamaCppLM, node-llama-cpp; opt-in install)
//   openai:URL             an OpenAI-compatible server (vLLM, TGI, llama.cpp's server, `ipt serve`)

import type { CompletionEngine } from './completion.js';
import { OnnxCausalLM } from './onnx-lm.js';
import { OpenAICompatible } from './openai.js';
import { loadTokenizer } from './tokenizer.js';
import { PROVIDER_CHOICES, type ProviderChoice } from './providers.js';
import { LLAMA_BACKENDS, LlamaCppLM, resolveGguf, type LlamaBackend } from './llama.js';

/** A provider name for either local engine: ONNX Runtime's (cpu, webgpu, cuda, auto) or llama.cpp's (cpu, cuda, vulkan, metal, auto). */
export type EngineProvider = ProviderChoice | LlamaBackend;
export const ENGINE_PROVIDERS: readonly EngineProvider[] = [
  ...new Set<EngineProvider>([...PROVIDER_CHOICES, ...LLAMA_BACKENDS]),
];

export type EngineKind = 'onnx' | 'gguf' | 'openai';
const ENGINE_KINDS: readonly EngineKind[] = ['onnx', 'gguf', 'openai'];

export type EngineOptions = {
  /** onnx and gguf: where the model runs; threads; prompts per batch (gguf: parallel sequences). */
  provider?: EngineProvider;
  threads?: number;
  batchSize?: number;
  /** onnx: the .onnx file when not the folder's default. */
  file?: string;
  /** openai: model id, requests in flight, per-request timeout, retries, a local tokenizer folder for exact budgets. */
  model?: string;
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
  tokenizerDir?: string;
};

export const ENGINE_SPEC_HELP =
  'onnx:DIR (a model folder run here by ONNX Runtime), gguf:FILE or gguf:REPO[:FILE] (a GGUF file run here by llama.cpp, ' +
  'after `npm run setup:llama`), or openai:URL (an OpenAI-compatible server, e.g. openai:http://localhost:8000/v1)';

/** The kind and target of a spec, or undefined when it is not one. */
export function parseEngineSpec(spec: string): { kind: EngineKind; target: string } | undefined {
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, Math.max(colon, 0)) as EngineKind;
  const target = spec.slice(colon + 1);
  return colon > 0 && ENGINE_KINDS.includes(kind) && target ? { kind, target } : undefined;
}

/** Why `provider` cannot run `kind`, or undefined when it can. */
export function providerProblem(kind: EngineKind, provider: EngineProvider | undefined): string | undefined {
  if (provider === undefined || kind === 'openai') return undefined;
  if (kind === 'onnx' && !(PROVIDER_CHOICES as readonly string[]).includes(provider)) {
    return `--provider ${provider} is a llama.cpp backend; ONNX Runtime offers ${PROVIDER_CHOICES.join(', ')} (webgpu runs on Vulkan)`;
  }
  if (kind === 'gguf' && provider === 'webgpu')
    return `--provider webgpu is ONNX Runtime's; llama.cpp offers ${[...LLAMA_BACKENDS, 'auto'].join(', ')}`;
  return undefined;
}

export async function openEngine(spec: string, options: EngineOptions = {}): Promise<CompletionEngine> {
  const parsed = parseEngineSpec(spec);
  if (!parsed) throw new Error(`unknown engine "${spec}": use ${ENGINE_SPEC_HELP}`);
  const problem = providerProblem(parsed.kind, options.provider);
  if (problem) throw new Error(problem);
  const { kind, target } = parsed;
  if (kind === 'onnx') {
    return OnnxCausalLM.load(target, {
      provider: options.provider as ProviderChoice | undefined,
      threads: options.threads,
      batchSize: options.batchSize,
      file: options.file,
    });
  }
  if (kind === 'gguf') {
    const source = await resolveGguf(target);
    return LlamaCppLM.load(source.path, {
      provider: options.provider as LlamaBackend | 'auto' | undefined,
      threads: options.threads,
      batchSize: options.batchSize,
      name: source.name,
    });
  }
  return OpenAICompatible.connect({
    baseUrl: target,
    model: options.model,
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    tokenizer: options.tokenizerDir ? loadTokenizer(options.tokenizerDir) : undefined,
  });
}
