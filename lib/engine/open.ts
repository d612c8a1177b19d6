// Opens a synthesizer backend from a short spec, as the CLI and notebooks name them:
//   onnx:DIR      an ONNX model folder run here (OnnxCausalLM)
//   openai:URL    an OpenAI-compatible server (vLLM, TGI, llama.cpp, `ipt serve`)

import type { CompletionEngine } from './completion.js';
import { OnnxCausalLM } from './onnx-lm.js';
import { OpenAICompatible } from './openai.js';
import { loadTokenizer } from './tokenizer.js';
import type { ProviderChoice } from './providers.js';

export type EngineOptions = {
  /** onnx: execution provider, threads, prompts per batch, the .onnx file when not the folder's default. */
  provider?: ProviderChoice;
  threads?: number;
  batchSize?: number;
  file?: string;
  /** openai: model id, requests in flight, per-request timeout, retries, a local tokenizer folder for exact budgets. */
  model?: string;
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
  tokenizerDir?: string;
};

export const ENGINE_SPEC_HELP = 'onnx:DIR (a model folder run here) or openai:URL (an OpenAI-compatible server, e.g. openai:http://localhost:8000/v1)';

export async function openEngine(spec: string, options: EngineOptions = {}): Promise<CompletionEngine> {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? '' : spec.slice(0, colon);
  const target = spec.slice(colon + 1);
  if (kind === 'onnx' && target) {
    return OnnxCausalLM.load(target, { provider: options.provider, threads: options.threads, batchSize: options.batchSize, file: options.file });
  }
  if (kind === 'openai' && target) {
    return OpenAICompatible.connect({
      baseUrl: target,
      model: options.model,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      tokenizer: options.tokenizerDir ? loadTokenizer(options.tokenizerDir) : undefined,
    });
  }
  throw new Error(`unknown engine "${spec}": use ${ENGINE_SPEC_HELP}`);
}
