// Opens any model the kit can evaluate as a TokenLM with its tokenizer, from the spec `ipt eval --model`
// takes:
//   DIR           a model folder: the in-process trainer's model (model.safetensors) or ONNX (onnx/model.onnx)
//   onnx:DIR      an ONNX model folder run by ONNX Runtime (kit exports, Optimum exports)
//   openai:URL    an OpenAI-compatible server scoring with echo + logprobs (vLLM, `ipt serve`); needs the
//                 served model's tokenizer folder
//   gguf:FILE     a GGUF file, or gguf:REPO[:FILE] on the Hub, run by llama.cpp (node-llama-cpp, opt-in install:
//                 npm run setup:llama); its own tokenizer

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenLM } from '../engine/gpt.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import { openGgufTokenLM, type LlamaBackend } from '../engine/llama.js';
import { providerProblem } from '../engine/open.js';
import { type ProviderChoice } from '../engine/providers.js';
import { loadTokenizer, readTokenizerFiles, type TextTokenizer, type TokenizerFiles } from '../engine/tokenizer.js';
import { GPTLanguageModel } from '../train/lm.js';
import { OpenAIScoringLM } from './openai-lm.js';

export type Runtime = 'auto' | 'in-process' | 'onnx';
export const RUNTIMES: readonly Runtime[] = ['auto', 'in-process', 'onnx'];

export type OpenedModel = { model: TokenLM & { close(): Promise<void> }; runtime: Exclude<Runtime, 'auto'> };

/** auto: the in-process model when the folder has model.safetensors in the kit's GPT layout, else ONNX. */
export async function openTokenLM(
  dir: string,
  options: { runtime?: Runtime; threads?: number; provider?: ProviderChoice; batchSize?: number } = {},
): Promise<OpenedModel> {
  const runtime = options.runtime ?? 'auto';
  const hasSafetensors = existsSync(join(dir, 'model.safetensors'));
  const hasOnnx = existsSync(join(dir, 'onnx')) || existsSync(join(dir, 'model.onnx'));
  if (!hasSafetensors && !hasOnnx)
    throw new Error(`${dir} has neither model.safetensors nor an onnx/ folder: is it a model folder?`);
  if (runtime === 'in-process' || (runtime === 'auto' && hasSafetensors)) {
    return { model: await GPTLanguageModel.fromFolder(dir, { threads: options.threads }), runtime: 'in-process' };
  }
  return {
    model: await OnnxCausalLM.load(dir, {
      threads: options.threads,
      provider: options.provider,
      batchSize: options.batchSize,
    }),
    runtime: 'onnx',
  };
}

export type ModelSpec = { kind: 'folder' | 'onnx' | 'openai' | 'gguf'; target: string };

export const MODEL_SPEC_HELP =
  'DIR (a model folder), onnx:DIR, openai:URL (an OpenAI-compatible server with echo + logprobs, e.g. vLLM or ipt serve; give --tokenizer DIR) or gguf:FILE';

export function parseModelSpec(spec: string): ModelSpec {
  const m = /^(onnx|openai|gguf):(.+)$/.exec(spec);
  if (m) return { kind: m[1] as ModelSpec['kind'], target: m[2] };
  if (/^[a-z]+:\/\//i.test(spec)) throw new Error(`"${spec}" looks like a URL: write openai:${spec}`);
  return { kind: 'folder', target: spec };
}

/**
 * Whether the tokenizer puts a BOS token first by default (what a Hugging Face tokenizer does with
 * add_special_tokens=True, and so what lm-eval's HF model does): `add_bos_token` in
 * tokenizer_config.json, else a post-processor template that starts with the BOS token.
 */
export function tokenizerAddsBos(files: TokenizerFiles): boolean {
  const flag = files.tokenizerConfig.add_bos_token;
  if (typeof flag === 'boolean') return flag;
  const bos = files.tokenizerConfig.bos_token;
  const bosText =
    typeof bos === 'string' ? bos : bos && typeof bos === 'object' ? (bos as { content?: unknown }).content : undefined;
  const starts = (p: unknown): boolean => {
    if (!p || typeof p !== 'object') return false;
    const proc = p as { type?: unknown; single?: unknown; processors?: unknown };
    if (proc.type === 'Sequence' && Array.isArray(proc.processors)) return proc.processors.some(starts);
    if (proc.type !== 'TemplateProcessing' || !Array.isArray(proc.single)) return false;
    const first = proc.single[0] as { SpecialToken?: { id?: unknown } } | undefined;
    return first?.SpecialToken?.id !== undefined && first.SpecialToken.id === bosText;
  };
  return starts(files.tokenizerJson.post_processor);
}

export type EvalModel = {
  model: TokenLM & { close(): Promise<void> };
  tokenizer: TextTokenizer;
  /** Recorded in results (spec, runtime). */
  name: string;
  /** Names the model in request-cache keys: the spec plus what pins its weights (ONNX revision). */
  key: string;
  /** The tokenizer's own BOS default (lm-eval's HF behaviour). */
  addsBos: boolean;
  close(): Promise<void>;
};

export type OpenEvalModelOptions = {
  runtime?: Runtime;
  threads?: number;
  /** ONNX Runtime's provider, or llama.cpp's backend for gguf: (cpu, cuda, vulkan, metal, auto). */
  provider?: ProviderChoice | LlamaBackend;
  /** Requests per ONNX batch; parallel sequences for gguf:. */
  batchSize?: number;
  /** openai: the served model's tokenizer folder (required), model id, requests in flight. */
  tokenizerDir?: string;
  model?: string;
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
};

/** Opens a model spec for evaluation; errors name the spec and what is missing. */
export async function openEvalModel(spec: string, options: OpenEvalModelOptions = {}): Promise<EvalModel> {
  const { kind, target } = parseModelSpec(spec);
  const bosOf = (dir: string) => {
    const files = readTokenizerFiles(dir);
    return files ? tokenizerAddsBos(files) : false;
  };
  if (kind === 'folder' || kind === 'onnx') {
    if (!existsSync(target)) throw new Error(`model folder ${target} does not exist`);
    const problem = providerProblem('onnx', options.provider);
    if (problem) throw new Error(problem);
    const onnxOptions = {
      threads: options.threads,
      provider: options.provider as ProviderChoice | undefined,
      batchSize: options.batchSize,
    };
    const tokenizer = loadTokenizer(target);
    const opened =
      kind === 'onnx'
        ? { model: await OnnxCausalLM.load(target, onnxOptions), runtime: 'onnx' as const }
        : await openTokenLM(target, { ...onnxOptions, runtime: options.runtime });
    const revision = opened.model instanceof OnnxCausalLM ? opened.model.name : `${opened.runtime}:${target}`;
    return {
      model: opened.model,
      tokenizer,
      name: `${spec} (${opened.runtime})`,
      key: revision,
      addsBos: bosOf(target),
      close: () => opened.model.close(),
    };
  }
  if (kind === 'openai') {
    if (!options.tokenizerDir)
      throw new Error(
        `${spec}: scoring through a server needs the served model's tokenizer: give --tokenizer DIR (a folder with its tokenizer.json)`,
      );
    const tokenizer = loadTokenizer(options.tokenizerDir);
    const model = await OpenAIScoringLM.connect({
      baseUrl: target,
      tokenizer,
      model: options.model,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
    });
    return {
      model,
      tokenizer,
      name: model.name,
      key: model.name,
      addsBos: bosOf(options.tokenizerDir),
      close: () => model.close(),
    };
  }
  // gguf: llama.cpp scores and generates with the file's own tokenizer; its BOS default comes from the file
  const problem = providerProblem('gguf', options.provider);
  if (problem) throw new Error(problem);
  const opened = await openGgufTokenLM(target, {
    provider: options.provider as LlamaBackend | 'auto' | undefined,
    threads: options.threads,
    batchSize: options.batchSize,
  });
  return {
    model: opened.model,
    tokenizer: opened.tokenizer,
    name: `${opened.source.name} (llama.cpp ${opened.model.backend})`,
    key: opened.source.name,
    addsBos: opened.addsBos,
    close: () => opened.model.close(),
  };
}
