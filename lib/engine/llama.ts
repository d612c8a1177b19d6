// LlamaCppLM: a GGUF model run by llama.cpp through node-llama-cpp, behind the kit's two model
// contracts: CompletionEngine (raw text in, text out: the synthesizer prompt is not a chat, so no
// chat template is applied and the prompt's own `<s>` is read as the BOS token) and TokenLM (token
// generation and log-likelihood scoring, for lib/eval).
//
// `batchSize` sequences run at once, each in its own llama.cpp context: with node-llama-cpp 3.21.1 a
// context holding several sequences gave tokens that differ from the same prompts run alone (measured on
// 32 prompts of 256 tokens, 64 greedy new tokens, f32 weights and cache: with 16 sequences per context
// 13-16 of the 32 rows differed in each of three runs, many of them from the same step at once; with 4,
// 2 rows in one run of three; with 1, none in three), which is not float rounding but sequences disturbing
// each other. One context per sequence costs llama.cpp's cross-sequence batching (each context decodes
// separately) and a compute buffer per context, not KV memory (the same cells either way);
// test/engine/llama.test.ts runs 32 prompts against each alone. The prompts of
// a call are spread over the sequences. Each row starts from an empty sequence, so its tokens do not depend on the others. Greedy is
// llama.cpp's argmax; sampled rows use llama.cpp's own sampler (temperature, top-p) seeded per row
// with the kit's derivation (seed, 'row', i): reproducible, but not the same draws as the kit's own
// sampler (lib/engine/sampling.ts). Rows stop at a stop id (default: the model's EOS) or their budget.

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { GenerateOptions, ScoreRequest, ScoreResult, TokenLM } from './gpt.js';
import type { Completion, CompletionEngine, CompletionOptions } from './completion.js';
import { resolveSampling, stopIds, type Sampling } from './sampling.js';
import {
  findNodeLlamaCpp,
  loadNodeLlamaCpp,
  type Llama,
  type LlamaContext,
  type LlamaGpu,
  type LlamaModel,
  type LlamaSequence,
} from './llama-module.js';
import { deriveSeed } from '../repro/rng.js';
import type { ManifestInput } from '../repro/manifest.js';
import type { TextTokenizer } from './tokenizer.js';
import { downloadPlanned, manifestInputOf, resolveSnapshot, type DownloadOptions } from '../hub/download.js';
import { parseRepo } from '../hub/repo.js';

export type LlamaBackend = 'cpu' | 'cuda' | 'vulkan' | 'metal';
export const LLAMA_BACKENDS: readonly LlamaBackend[] = ['cpu', 'cuda', 'vulkan', 'metal'];

export type LlamaCppOptions = {
  /** cpu, cuda, vulkan, metal, or auto (default: the best GPU node-llama-cpp finds, else the CPU). */
  provider?: LlamaBackend | 'auto';
  /** CPU threads (default: llama.cpp's choice, the machine's cores). */
  threads?: number;
  /** Sequences run in parallel (default 8). */
  batchSize?: number;
  /** Tokens per sequence, prompt and generation (default: the model's training context, at most 4096). */
  contextLength?: number;
  /**
   * Precision of attention: llama.cpp's default f16 cache with flash attention, or f32 (cache and
   * attention in float32, flash attention off: llama.cpp's CPU flash attention computes in float16),
   * to compare with float32 engines (log-probabilities then agree to about 1e-5, against 5e-3).
   */
  cacheType?: 'f16' | 'f32';
  /** How manifests name the model (default: the path and a fingerprint of the file). */
  name?: string;
};

type Row = { prompt: number[]; maxNew: number; seed: number };
type RowResult = { tokens: number[]; finish: 'stop' | 'length' };

const DEFAULT_CONTEXT = 4096;
/** Sequences per llama.cpp context: one (see the module header). */
const SEQUENCES_PER_CONTEXT = 1;
const FINGERPRINT_BYTES = 16 * 2 ** 20;

/** Size and sha256 of the first 16 MiB: identifies a local file quickly (hashing a 4 GB model would take seconds). */
function fileFingerprint(path: string): string {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, FINGERPRINT_BYTES));
    readSync(fd, head, 0, head.length, 0);
    return `size-${size}-head-${createHash('sha256').update(head).digest('hex').slice(0, 16)}`;
  } finally {
    closeSync(fd);
  }
}

function gpuOption(provider: LlamaCppOptions['provider']): 'auto' | LlamaGpu {
  if (provider === undefined || provider === 'cpu') return false;
  return provider;
}

/** Opens llama.cpp on the requested backend; an explicit GPU that cannot start says what to install. */
async function openLlama(provider: LlamaCppOptions['provider']): Promise<Llama> {
  const lib = await loadNodeLlamaCpp();
  try {
    return await lib.getLlama({
      gpu: gpuOption(provider),
      build: 'never',
      logLevel: 'error',
      progressLogs: false,
      skipDownload: true,
    });
  } catch (err) {
    const raw =
      (err as Error).constructor.name === 'NoBinaryFoundError'
        ? 'its prebuilt binary is not installed'
        : (err as Error).message.split('\n')[0];
    throw new Error(
      `cannot start llama.cpp on ${provider}: ${raw}. ` +
        (provider === 'cuda'
          ? "The CUDA build needs `npm run setup:llama -- --gpu` and NVIDIA's driver with the CUDA 12 runtime and cuBLAS (libcudart.so.12, libcublas.so.12) on the library path"
          : provider === 'vulkan'
            ? 'The Vulkan build needs `npm run setup:llama -- --gpu` and a Vulkan driver (`vulkaninfo --summary` should list the GPU)'
            : 'Run `npm run setup:llama` again') +
        '; or use --provider cpu, or --provider auto to fall back to the CPU.',
      { cause: err },
    );
  }
}

export class LlamaCppLM implements TokenLM, CompletionEngine {
  readonly name: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly eosTokenIds: number[];
  readonly batchSize: number;
  private readonly free: LlamaSequence[];
  private readonly waiting: Array<(s: LlamaSequence) => void> = [];

  private constructor(
    readonly path: string,
    readonly backend: LlamaBackend,
    private readonly llama: Llama,
    readonly llamaModel: LlamaModel,
    private readonly contexts: Array<{ context: LlamaContext; sequences: number }>,
    contextLength: number,
    vocabSize: number,
    name: string,
  ) {
    this.contextLength = contextLength;
    this.vocabSize = vocabSize;
    this.eosTokenIds = llamaModel.tokens.eos === null ? [] : [llamaModel.tokens.eos];
    this.free = contexts.flatMap((c) => Array.from({ length: c.sequences }, () => c.context.getSequence()));
    this.batchSize = this.free.length;
    this.name = name;
  }

  /** Loads a .gguf file. */
  static async load(path: string, options: LlamaCppOptions = {}): Promise<LlamaCppLM> {
    const file = resolve(path);
    const batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1))
      throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
    const name = options.name ?? `gguf:${path}@${fileFingerprint(file)}`;
    const llama = await openLlama(options.provider);
    let model: LlamaModel | undefined;
    try {
      model = await llama.loadModel({ modelPath: file });
      const contextLength = options.contextLength ?? Math.min(model.trainContextSize, DEFAULT_CONTEXT);
      const cache = options.cacheType === 'f32' ? 'F32' : 'F16';
      const perContext = SEQUENCES_PER_CONTEXT;
      const contexts: Array<{ context: LlamaContext; sequences: number }> = [];
      try {
        for (let left = batchSize; left > 0; left -= perContext) {
          const sequences = Math.min(perContext, left);
          const context = await model.createContext({
            sequences,
            contextSize: contextLength * sequences,
            ...(options.threads ? { threads: options.threads } : {}),
            experimentalKvCacheKeyType: cache,
            experimentalKvCacheValueType: cache,
            ...(cache === 'F32' ? { flashAttention: false } : {}),
          });
          contexts.push({ context, sequences });
        }
      } catch (err) {
        for (const c of contexts) await c.context.dispose();
        throw err;
      }
      // llama.cpp may round a context up (never past what was asked: a GPT-2 has no positions beyond its own)
      const perSequence = Math.min(
        contextLength,
        ...contexts.map((c) => Math.floor(c.context.contextSize / c.sequences)),
      );
      const backend: LlamaBackend = llama.gpu === false ? 'cpu' : llama.gpu;
      return new LlamaCppLM(path, backend, llama, model, contexts, perSequence, vocabularySize(model), name);
    } catch (err) {
      await model?.dispose();
      await llama.dispose();
      throw new Error(`cannot load ${file} with llama.cpp: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.context.dispose();
    await this.llamaModel.dispose();
    await this.llama.dispose();
  }

  countTokens(text: string): number {
    return this.encode(text).length;
  }

  /**
   * Whether the model's tokenizer puts BOS first by default (GGUF `tokenizer.ggml.add_bos_token`;
   * llama.cpp assumes it for SentencePiece vocabularies that do not say), as lm-eval's HF model
   * would. The kit's own encoding never adds it; this tells an evaluator whether to.
   */
  get addsBos(): boolean {
    const ggml = (
      this.llamaModel.fileInfo.metadata as { tokenizer?: { ggml?: { add_bos_token?: unknown; model?: unknown } } }
    ).tokenizer?.ggml;
    return typeof ggml?.add_bos_token === 'boolean' ? ggml.add_bos_token : ggml?.model === 'llama';
  }

  /** Text to ids as the prompt is read: special-token text such as `<s>` becomes its token, and no BOS is added. */
  encode(text: string): number[] {
    return this.llamaModel.tokenize(text, true);
  }

  decode(ids: readonly number[]): string {
    return this.llamaModel.detokenize(ids, false);
  }

  private async withSequence<T>(work: (s: LlamaSequence) => Promise<T>): Promise<T> {
    const sequence = this.free.pop() ?? (await new Promise<LlamaSequence>((ok) => this.waiting.push(ok)));
    try {
      await sequence.clearHistory();
      return await work(sequence);
    } finally {
      const next = this.waiting.shift();
      if (next) next(sequence);
      else this.free.push(sequence);
    }
  }

  private rows(prompts: number[][], maxNewTokens: number, sampling: Sampling): Row[] {
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)
      throw new RangeError(`maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
    return prompts.map((prompt, i) => {
      if (prompt.length === 0) throw new RangeError(`prompt ${i} is empty: give at least one token (e.g. BOS)`);
      const room = this.contextLength - prompt.length;
      if (room < 1 && maxNewTokens > 0) {
        throw new RangeError(
          `prompt ${i} has ${prompt.length} tokens; the context is ${this.contextLength} per sequence, which leaves no room to generate: shorten the text or raise the context`,
        );
      }
      return { prompt, maxNew: Math.min(maxNewTokens, room), seed: deriveSeed(sampling.seed, 'row', i) };
    });
  }

  private async runRow(sequence: LlamaSequence, row: Row, sampling: Sampling, stop: Set<number>): Promise<RowResult> {
    const result: RowResult = { tokens: [], finish: 'length' };
    if (row.maxNew === 0) return result;
    // top-k and min-p off (node-llama-cpp defaults top-k to 40): the kit samples by temperature and top-p only.
    const options =
      sampling.temperature > 0
        ? {
            temperature: sampling.temperature,
            topP: sampling.topP,
            topK: 0,
            minP: 0,
            seed: row.seed,
            yieldEogToken: true,
          }
        : { temperature: 0, yieldEogToken: true };
    for await (const token of sequence.evaluate(row.prompt, options)) {
      result.tokens.push(token);
      if (stop.has(token)) {
        result.finish = 'stop';
        break;
      }
      if (result.tokens.length >= row.maxNew) break;
    }
    return result;
  }

  /** New tokens for each prompt (stop id included), with why each row stopped. */
  async generateRows(prompts: number[][], options: GenerateOptions): Promise<RowResult[]> {
    const sampling = resolveSampling(options);
    const stop = stopIds(options.stopTokenIds, this.eosTokenIds);
    const rows = this.rows(prompts, options.maxNewTokens, sampling);
    return Promise.all(rows.map((row) => this.withSequence((s) => this.runRow(s, row, sampling, stop))));
  }

  async generate(prompts: number[][], options: GenerateOptions): Promise<number[][]> {
    return (await this.generateRows(prompts, options)).map((r) => r.tokens);
  }

  /** Text in, text out; each prompt is read exactly as given. */
  async complete(prompts: string[], options: CompletionOptions): Promise<Completion[]> {
    const encoded = prompts.map((p) => this.encode(p));
    const rows = await this.generateRows(encoded, {
      maxNewTokens: options.maxNewTokens,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
    });
    const eos = new Set(this.eosTokenIds);
    return rows.map((r, i) => {
      const shown = r.finish === 'stop' && eos.has(r.tokens[r.tokens.length - 1]) ? r.tokens.slice(0, -1) : r.tokens;
      return {
        text: this.decode(shown),
        promptTokens: encoded[i].length,
        completionTokens: r.tokens.length,
        finishReason: r.finish,
      };
    });
  }

  /**
   * Log-probability of each continuation given its context, as lm-evaluation-harness computes it:
   * one pass over context + continuation (truncated on the left to the context), reading llama.cpp's
   * next-token probabilities (float32, so a probability below 1.4e-45 counts as that).
   */
  async scoreContinuations(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    return Promise.all(
      requests.map((r, i) => {
        if (r.context.length === 0)
          throw new RangeError(`request ${i} has an empty context: start it with a token (e.g. BOS)`);
        if (r.continuation.length === 0) throw new RangeError(`request ${i} has an empty continuation`);
        const all = [...r.context, ...r.continuation].slice(-(this.contextLength + 1));
        const input = all.slice(0, -1);
        const n = Math.min(r.continuation.length, input.length);
        const first = input.length - n; // input position whose next-token distribution predicts continuation[0]
        return this.withSequence(async (s) => {
          const items = input.map((t, j) =>
            j >= first
              ? ([t, { generateNext: { probabilities: true } }] as [
                  number,
                  { generateNext: { probabilities: boolean } },
                ])
              : t,
          );
          const out = await s.controlledEvaluate(items);
          let logprob = 0;
          let greedy = true;
          const perToken: NonNullable<ScoreResult['perToken']> = [];
          const log = (p: number | undefined) => Math.log(Math.max(p ?? 0, 1.4e-45));
          for (let k = 0; k < n; k++) {
            const probabilities = out[first + k]?.next.probabilities;
            if (!probabilities) throw new Error(`llama.cpp returned no probabilities for request ${i}`);
            const target = all[first + k + 1];
            // the map is sorted, most probable first
            const [top, topP] = probabilities.entries().next().value as [number, number];
            logprob += log(probabilities.get(target));
            perToken.push({ logprob: log(probabilities.get(target)), top, topLogprob: log(topP) });
            if (top !== target) greedy = false;
          }
          return { logprob, tokens: n, greedy, perToken };
        });
      }),
    );
  }
}

function vocabularySize(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly string[] } } }).tokenizer?.ggml
    ?.tokens;
  return tokens?.length ?? 0;
}

/** llama.cpp's tokenizer as the kit's TextTokenizer (special-token text parsed, no BOS added). */
export function llamaTokenizer(lm: LlamaCppLM): TextTokenizer {
  const model = lm.llamaModel;
  return {
    encode: (text) => lm.encode(text),
    decode: (ids, options) => model.detokenize(ids, !(options?.skipSpecialTokens ?? false)),
    count: (text) => lm.countTokens(text),
    tokenToId: (token) => {
      const ids = model.tokenize(token, true);
      return ids.length === 1 ? ids[0] : undefined;
    },
    vocabSize: lm.vocabSize,
    bosTokenId: model.tokens.bos ?? undefined,
    eosTokenId: model.tokens.eos ?? undefined,
    padTokenId: undefined,
  };
}

export type GgufSource = { path: string; name: string; input: ManifestInput };

/**
 * A GGUF spec as the CLI takes it: a local .gguf file, or REPO[:FILE] on the Hugging Face Hub (only
 * that file is downloaded, into the standard cache). Without FILE the repo must hold one .gguf file;
 * a repo with several (one per quantization) is an error that lists them.
 */
export async function resolveGguf(
  spec: string,
  hub: Omit<DownloadOptions, 'repo' | 'include' | 'exclude'> = {},
): Promise<GgufSource> {
  if (existsSync(spec)) {
    if (statSync(spec).isDirectory()) throw new Error(`${spec} is a folder: name the .gguf file (gguf:PATH)`);
    return {
      path: spec,
      name: `gguf:${spec}@${fileFingerprint(spec)}`,
      input: { name: 'model', source: resolve(spec), files: [{ path: spec, bytes: statSync(spec).size }] },
    };
  }
  const colon = spec.indexOf(':');
  const repoId = colon < 0 ? spec : spec.slice(0, colon);
  const file = colon < 0 ? undefined : spec.slice(colon + 1);
  if (/^[.~/]/.test(spec) || !/^[^/\s:]+\/[^/\s:]+$/.test(repoId))
    throw new Error(
      `gguf:${spec}: no such file, and not a Hub repo id (REPO[:FILE], e.g. gguf:QuantFactory/instruction-synthesizer-GGUF to list its files)`,
    );
  const repo = parseRepo(repoId);
  const plan = await resolveSnapshot({ ...hub, repo: repo.id });
  const ggufs = plan.files.map((f) => f.path).filter((p) => p.endsWith('.gguf'));
  const chosen = file ?? (ggufs.length === 1 ? ggufs[0] : undefined);
  if (!chosen) {
    throw new Error(
      ggufs.length === 0
        ? `${repo.id} has no .gguf file`
        : `${repo.id} has ${ggufs.length} .gguf files; name one as gguf:${repo.id}:FILE, e.g. ${ggufs.slice(0, 6).join(', ')}`,
    );
  }
  if (!ggufs.includes(chosen))
    throw new Error(
      `${repo.id}@${plan.revision} has no file ${chosen}${ggufs.length ? `; its .gguf files: ${ggufs.slice(0, 8).join(', ')}` : ''}`,
    );
  const result = await downloadPlanned(plan, hub, [chosen]);
  return {
    path: result.files[0].localPath,
    name: `gguf:${repo.id}:${chosen}@${result.commit}`,
    input: manifestInputOf(result, 'model'),
  };
}

/**
 * A GGUF model as the TokenLM lib/eval scores, with its tokenizer (`ipt eval --model gguf:SPEC`):
 * `const { model, tokenizer } = await openGgufTokenLM('models/x.gguf'); ... await model.close();`
 */
export async function openGgufTokenLM(
  spec: string,
  options: LlamaCppOptions & { hub?: Omit<DownloadOptions, 'repo' | 'include' | 'exclude'> } = {},
): Promise<{ model: LlamaCppLM; tokenizer: TextTokenizer; source: GgufSource; addsBos: boolean }> {
  const source = await resolveGguf(spec, options.hub);
  const model = await LlamaCppLM.load(source.path, { ...options, name: options.name ?? source.name });
  return { model, tokenizer: llamaTokenizer(model), source, addsBos: model.addsBos };
}

export type BackendProbe = { backend: LlamaBackend; ok: boolean; message?: string };

/**
 * Which llama.cpp backends start here (`ipt providers`): each is opened once, without building or
 * downloading anything; `auto` is the first GPU that starts, else the CPU. Empty when node-llama-cpp
 * is not installed (the caller says how to install it).
 */
export async function probeLlamaBackends(): Promise<{
  installed: boolean;
  backends: BackendProbe[];
  auto?: LlamaBackend;
}> {
  if (!findNodeLlamaCpp()) return { installed: false, backends: [] };
  const candidates: LlamaBackend[] = process.platform === 'darwin' ? ['cpu', 'metal'] : ['cpu', 'cuda', 'vulkan'];
  const backends: BackendProbe[] = [];
  for (const backend of candidates) {
    try {
      const llama = await openLlama(backend);
      await llama.dispose();
      backends.push({ backend, ok: true });
    } catch (err) {
      backends.push({ backend, ok: false, message: (err as Error).message });
    }
  }
  const gpu = backends.find((b) => b.ok && b.backend !== 'cpu');
  return {
    installed: true,
    backends,
    auto: gpu?.backend ?? (backends.find((b) => b.backend === 'cpu' && b.ok) ? 'cpu' : undefined),
  };
}
