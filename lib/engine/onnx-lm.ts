// OnnxCausalLM: batched generation and scoring over decoder-only ONNX exports with ONNX Runtime.
//
// Runs any export with the Hugging Face Optimum "text-generation-with-past" I/O (GPT-2 style and
// Llama/Mistral style configs, grouped-query attention, float32 or float16 cache), and the kit's
// own kv-delta graph (lib/engine/onnx-gpt.ts), which it prefers when a folder has one.
//
// Generation: prompts are left-padded into one batch, position_ids are cumsum(mask) - 1 (as
// Hugging Face computes them, so results match transformers.js), the cache grows one token per
// step, greedy or seeded temperature/top-p sampling, each row stops at a stop id or its token
// budget, and finished rows are dropped from the batch so they cost nothing further.
//
// Where the time goes (env/engines.md, "How the engine keeps the KV cache"): with the Optimum
// round trip every step copies the whole cache in-graph (Concat) and onnxruntime-node returns it
// as new JS arrays, O(batch x length) bytes to copy, allocate and collect per step. So the engine
// keeps the cache itself ("kv-delta" layout) wherever it can: in buffers it owns, passed whole
// without copying (free slots masked out), with only the O(batch) new rows fetched back. The kit's
// kv-delta graph also skips the in-graph Concat; for an Optimum graph whose present.* outputs are a
// Concat of the past and the new rows, the engine exposes those new rows as extra outputs and never
// fetches present.* (onnxruntime-node copies only the outputs that are fetched).

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import type { GenerateOptions, ScoreRequest, ScoreResult, TokenLM } from './gpt.js';
import type { Completion, CompletionEngine, CompletionOptions } from './completion.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer.js';
import { openSession, type Provider, type ProviderChoice } from './providers.js';
import { exposeNewCacheRows } from './onnx-graph.js';
import {
  describeDecoder,
  findOnnxFile,
  readDecoderConfig,
  type CacheLayout,
  type DecoderConfig,
  type DecoderLayout,
} from './decoder-config.js';
import { DeltaCache, FullCache, type KvCache } from './kv-cache.js';
import { argmax, logSoftmaxAt, nextToken, resolveSampling, rowRng, stopIds, type Sampling } from './sampling.js';
import type { Rng } from '../repro/rng.js';
import { sha256File } from '../repro/hash.js';
import { readJsonObject } from '../repro/files.js';

export type OnnxCausalLMOptions = {
  /** Execution provider: cpu (default), webgpu, cuda, or auto (cuda, webgpu, cpu). */
  provider?: ProviderChoice;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** The .onnx file, relative to the folder or absolute; default: found in the folder. */
  file?: string;
  /**
   * How the cache is kept. 'kv-delta': the engine owns the cache buffers and fetches only new rows
   * (the kit's kv-delta file, or an Optimum file whose new rows the engine exposes as extra outputs);
   * 'optimum': the Optimum round trip, whole cache out and back in each step; 'auto' (default):
   * kv-delta when the folder or graph allows it.
   */
  layout?: 'auto' | CacheLayout;
  /** Prompts per generation batch in `complete` and `generate` (default 8). */
  batchSize?: number;
};

export type GenerationStats = { rows: number; newTokens: number; steps: number; prefillMs: number; totalMs: number };

type Row = { prompt: number[]; maxNew: number; rng?: Rng };
type RowResult = { tokens: number[]; finish: 'stop' | 'length' };

/** Largest file the engine reads into memory to expose its new cache rows (protobuf's own limit is 2 GiB). */
const MAX_GRAPH_EDIT_BYTES = 1.5 * 2 ** 30;

export class OnnxCausalLM implements TokenLM, CompletionEngine {
  readonly name: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly eosTokenIds: number[];
  readonly padTokenId: number;
  readonly batchSize: number;
  /** Last generate/complete call's figures. */
  lastStats: GenerationStats = { rows: 0, newTokens: 0, steps: 0, prefillMs: 0, totalMs: 0 };

  private constructor(
    readonly dir: string,
    readonly file: string,
    readonly session: ort.InferenceSession,
    readonly provider: Provider,
    readonly layout: DecoderLayout,
    readonly config: DecoderConfig,
    readonly tokenizer: TextTokenizer | undefined,
    readonly revision: string,
    readonly skippedProviders: Array<{ provider: Provider; reason: string }>,
    options: OnnxCausalLMOptions,
  ) {
    this.vocabSize = config.vocabSize ?? tokenizer?.vocabSize ?? 0;
    this.contextLength = config.contextLength ?? Number.MAX_SAFE_INTEGER;
    this.eosTokenIds = config.eosTokenIds.length
      ? config.eosTokenIds
      : tokenizer?.eosTokenId !== undefined
        ? [tokenizer.eosTokenId]
        : [];
    this.padTokenId = config.padTokenId ?? tokenizer?.padTokenId ?? this.eosTokenIds[0] ?? 0;
    this.batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    this.name = `onnx:${dir}@${revision}`;
  }

  /** Loads a model folder: config.json, optional generation_config.json and tokenizer, and an .onnx decoder. */
  static async load(dir: string, options: OnnxCausalLMOptions = {}): Promise<OnnxCausalLM> {
    const folder = resolve(dir);
    const configPath = join(folder, 'config.json');
    if (!existsSync(configPath))
      throw new Error(`no config.json in ${folder}: a model folder needs the config.json of its export`);
    const readJson = (p: string) => readJsonObject(p, "restore it from the model's export");
    const genPath = join(folder, 'generation_config.json');
    const config = readDecoderConfig(readJson(configPath), existsSync(genPath) ? readJson(genPath) : {});
    const file = findOnnxFile(folder, options);
    // An Optimum graph gets its new cache rows exposed as outputs, so the engine can keep the cache itself.
    let model: string | Uint8Array = file;
    let exposed: Record<string, string> | undefined;
    if (options.layout !== 'optimum' && statSync(file).size <= MAX_GRAPH_EDIT_BYTES) {
      try {
        const edited = exposeNewCacheRows(readFileSync(file));
        if (edited) {
          model = edited.bytes;
          exposed = edited.names;
        }
      } catch {
        // not a protobuf this reader understands: let ONNX Runtime load the file and report
      }
    }
    let opened;
    try {
      opened = await openSession(model, { provider: options.provider, threads: options.threads });
    } catch (err) {
      if ((err as Error).name === 'ProviderUnavailableError') throw err;
      throw new Error(`cannot load ${file}: ${(err as Error).message}`, { cause: err });
    }
    const layout = describeDecoder(opened.session, config, exposed);
    if (options.layout === 'kv-delta' && layout.layout !== 'kv-delta') {
      await opened.session.release();
      throw new Error(
        `${file} cannot run with layout kv-delta: its present.* outputs are not a Concat of the past and the new rows (use layout optimum)`,
      );
    }
    const tokenizer = existsSync(join(folder, 'tokenizer.json')) ? loadTokenizer(folder) : undefined;
    const snapshot =
      /\/snapshots\/([0-9a-f]{40})(\/|$)/.exec(realpathSync(folder) + '/') ??
      /\/snapshots\/([0-9a-f]{40})(\/|$)/.exec(folder + '/');
    const revision = snapshot ? snapshot[1] : `sha256:${(await sha256File(file)).slice(0, 16)}`;
    return new OnnxCausalLM(
      dir,
      basename(file),
      opened.session,
      opened.provider,
      layout,
      config,
      tokenizer,
      revision,
      opened.skipped,
      options,
    );
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  countTokens(text: string): number {
    return this.requireTokenizer().count(text);
  }

  private requireTokenizer(): TextTokenizer {
    if (!this.tokenizer)
      throw new Error(`${this.dir} has no tokenizer.json: text in and out needs the model's tokenizer`);
    return this.tokenizer;
  }

  /** New tokens for each prompt (stop id included), in batches of `batchSize` sorted by length. */
  async generate(prompts: number[][], options: GenerateOptions): Promise<number[][]> {
    return (await this.generateRows(prompts, options)).map((r) => r.tokens);
  }

  /** As `generate`, with why each row stopped. */
  async generateRows(prompts: number[][], options: GenerateOptions): Promise<RowResult[]> {
    const maxNew = options.maxNewTokens;
    if (!Number.isInteger(maxNew) || maxNew < 0)
      throw new RangeError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
    const sampling = resolveSampling(options);
    const rows: Row[] = prompts.map((prompt, i) => {
      if (prompt.length === 0) throw new RangeError(`prompt ${i} is empty: give at least one token (e.g. BOS)`);
      const room = this.contextLength - prompt.length;
      if (room < 1 && maxNew > 0) {
        throw new RangeError(
          `prompt ${i} has ${prompt.length} tokens; the model's context is ${this.contextLength}, which leaves no room to generate: shorten the text`,
        );
      }
      return { prompt, maxNew: Math.min(maxNew, room), rng: rowRng(sampling, i) };
    });
    const stop = stopIds(options.stopTokenIds, this.eosTokenIds);
    const results = new Array<RowResult>(rows.length);
    const order = rows.map((_, i) => i).sort((a, b) => rows[b].prompt.length - rows[a].prompt.length || a - b);
    const stats: GenerationStats = { rows: rows.length, newTokens: 0, steps: 0, prefillMs: 0, totalMs: 0 };
    for (let start = 0; start < order.length; start += this.batchSize) {
      const chunk = order.slice(start, start + this.batchSize);
      const out = await this.runBatch(
        chunk.map((i) => rows[i]),
        { sampling, stop },
        stats,
      );
      chunk.forEach((i, j) => (results[i] = out[j]));
    }
    this.lastStats = stats;
    return results;
  }

  private async runBatch(
    rows: Row[],
    decode: { sampling: Sampling; stop: Set<number> },
    stats: GenerationStats,
  ): Promise<RowResult[]> {
    const started = performance.now();
    const l = this.layout;
    const results: RowResult[] = rows.map(() => ({ tokens: [], finish: 'length' }));
    const budget = Math.max(...rows.map((r) => r.maxNew));
    if (budget === 0) return results;
    const Lp = Math.max(...rows.map((r) => r.prompt.length));
    const Tmax = Lp + budget;
    // Per current batch position: the original row, its left padding, its last position.
    let active = rows.map((_, i) => i);
    let B = rows.length;
    let pad = rows.map((r) => Lp - r.prompt.length);
    const cache: KvCache = l.layout === 'kv-delta' ? new DeltaCache(l, Tmax) : new FullCache(l);
    const maskArena = new BigInt64Array(B * (Tmax + DeltaCache.CHUNK + 1));
    const half = l.logitsType === 'float16';

    // Prefill: the whole left-padded prompt; positions cumsum(mask) - 1, pads at 1 as Hugging Face does.
    let inputIds = new BigInt64Array(B * Lp);
    let positions = new BigInt64Array(B * Lp);
    for (let b = 0; b < B; b++) {
      const p = rows[b].prompt;
      for (let j = 0; j < Lp; j++) {
        const real = j >= pad[b];
        inputIds[b * Lp + j] = BigInt(real ? p[j - pad[b]] : this.padTokenId);
        positions[b * Lp + j] = BigInt(real ? j - pad[b] : 1);
      }
    }
    let S = Lp;
    let T = 0;
    let finishedInBatch = 0;
    const done = rows.map(() => false);
    const lastPos = rows.map((r) => r.prompt.length - 1);
    const keepOne = new ort.Tensor('int64', BigInt64Array.from([1n]), []);
    for (;;) {
      // Mask columns: the cache's slots (pads and free slots 0), then the new tokens.
      const slots = cache.columns(T);
      const total = slots + S;
      const mask = maskArena.subarray(0, B * total);
      for (let b = 0; b < B; b++) {
        const row = b * total;
        const pastPad = Math.min(pad[b], T);
        const newPad = Math.max(0, pad[b] - T); // only while the prompt itself is fed
        mask.fill(0n, row, row + pastPad);
        mask.fill(1n, row + pastPad, row + T);
        mask.fill(0n, row + T, row + slots);
        mask.fill(0n, row + slots, row + slots + newPad);
        mask.fill(1n, row + slots + newPad, row + total);
      }
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', inputIds, [B, S]),
        attention_mask: new ort.Tensor('int64', mask, [B, total]),
      };
      if (l.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', positions, [B, S]);
      if (l.hasLogitsToKeep) feeds.num_logits_to_keep = keepOne;
      if (l.hasUseCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([T > 0 ? 1 : 0]), [1]);
      cache.feed(feeds, B, T);
      const outputs = l.fetch ? await this.session.run(feeds, l.fetch) : await this.session.run(feeds);
      cache.absorb(outputs, B, T, S);
      const logits = outputs.logits as ort.Tensor;
      const [, Sx, V] = logits.dims as number[];
      const data = logits.data as Float32Array | Uint16Array;
      if (T === 0) stats.prefillMs += performance.now() - started;
      T += S;
      stats.steps++;

      const next = new BigInt64Array(B);
      const nextPos = new BigInt64Array(B);
      for (let b = 0; b < B; b++) {
        const i = active[b];
        if (done[i]) {
          next[b] = BigInt(this.padTokenId);
          nextPos[b] = BigInt(lastPos[i]);
          continue;
        }
        const token = nextToken({ data, offset: (b * Sx + Sx - 1) * V, V, half }, decode.sampling, rows[i].rng);
        const r = results[i];
        r.tokens.push(token);
        stats.newTokens++;
        lastPos[i]++;
        if (decode.stop.has(token)) r.finish = 'stop';
        if (decode.stop.has(token) || r.tokens.length >= rows[i].maxNew) {
          done[i] = true;
          finishedInBatch++;
        }
        next[b] = BigInt(token);
        nextPos[b] = BigInt(lastPos[i]);
      }
      if (finishedInBatch === B) break;
      if (finishedInBatch > 0 && finishedInBatch * 8 >= B) {
        // Drop finished rows: one copy of the cache now instead of computing them every step.
        const keep = active.map((i, b) => (done[i] ? -1 : b)).filter((b) => b >= 0);
        cache.compact(keep, B, T);
        const compactMask = (src: bigint[] | BigInt64Array) => BigInt64Array.from(keep.map((b) => src[b]));
        inputIds = compactMask(next);
        positions = compactMask(nextPos);
        pad = keep.map((b) => pad[b]);
        active = keep.map((b) => active[b]);
        B = keep.length;
        finishedInBatch = 0;
      } else {
        inputIds = next;
        positions = nextPos;
      }
      S = 1;
    }
    stats.totalMs += performance.now() - started;
    return results;
  }

  /** Text in, text out; each prompt is encoded exactly as given (no special tokens added). */
  async complete(prompts: string[], options: CompletionOptions): Promise<Completion[]> {
    const tok = this.requireTokenizer();
    const encoded = prompts.map((p) => tok.encode(p));
    const rows = await this.generateRows(encoded, {
      maxNewTokens: options.maxNewTokens,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
    });
    const stop = new Set(this.eosTokenIds);
    return rows.map((r, i) => {
      const shown = r.finish === 'stop' && stop.has(r.tokens[r.tokens.length - 1]) ? r.tokens.slice(0, -1) : r.tokens;
      return {
        text: tok.decode(shown, { skipSpecialTokens: true }),
        promptTokens: encoded[i].length,
        completionTokens: r.tokens.length,
        finishReason: r.finish,
      };
    });
  }

  /**
   * Log-probability of each continuation given its context, as lm-evaluation-harness computes it:
   * one forward pass over context + continuation (truncated on the left to the context length).
   */
  async scoreContinuations(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    const prepared = requests.map((r, i) => {
      if (r.context.length === 0)
        throw new RangeError(`request ${i} has an empty context: start it with a token (e.g. BOS)`);
      if (r.continuation.length === 0) throw new RangeError(`request ${i} has an empty continuation`);
      const all = [...r.context, ...r.continuation];
      const window = all.slice(-(Math.min(this.contextLength, Number.MAX_SAFE_INTEGER) + 1)).slice(0, -1);
      return { input: window, continuation: r.continuation.slice(-window.length) };
    });
    const results = new Array<ScoreResult>(requests.length);
    const order = prepared
      .map((_, i) => i)
      .sort((a, b) => prepared[b].input.length - prepared[a].input.length || a - b);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const chunk = order.slice(start, start + this.batchSize);
      const scored = await this.scoreBatch(chunk.map((i) => prepared[i]));
      chunk.forEach((i, j) => (results[i] = scored[j]));
    }
    return results;
  }

  private async scoreBatch(rows: Array<{ input: number[]; continuation: number[] }>): Promise<ScoreResult[]> {
    const l = this.layout;
    const B = rows.length;
    const L = Math.max(...rows.map((r) => r.input.length));
    const ids = new BigInt64Array(B * L);
    const mask = new BigInt64Array(B * L);
    const pos = new BigInt64Array(B * L);
    rows.forEach((r, b) => {
      const pad = L - r.input.length;
      for (let j = 0; j < L; j++) {
        const real = j >= pad;
        ids[b * L + j] = BigInt(real ? r.input[j - pad] : this.padTokenId);
        mask[b * L + j] = real ? 1n : 0n;
        pos[b * L + j] = BigInt(real ? j - pad : 1);
      }
    });
    const keep = Math.max(...rows.map((r) => r.continuation.length));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, L]),
      attention_mask: new ort.Tensor('int64', mask, [B, L]),
    };
    if (l.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', pos, [B, L]);
    if (l.hasLogitsToKeep) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.from([BigInt(keep)]), []);
    if (l.hasUseCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([0]), [1]);
    (l.layout === 'kv-delta' ? new DeltaCache(l, 0) : new FullCache(l)).feed(feeds, B, 0);
    const out = await this.session.run(feeds, ['logits']);
    const logits = out.logits as ort.Tensor;
    const [, Sx, V] = logits.dims as number[];
    const data = logits.data as Float32Array | Uint16Array;
    const half = l.logitsType === 'float16';
    return rows.map((r, b) => {
      let logprob = 0;
      let greedy = true;
      const n = r.continuation.length;
      const perToken: NonNullable<ScoreResult['perToken']> = [];
      for (let k = 0; k < n; k++) {
        // logits at the last n positions predict the n continuation tokens
        const row = { data, offset: (b * Sx + Sx - n + k) * V, V, half };
        const target = r.continuation[k];
        const lp = logSoftmaxAt(row, target);
        const best = argmax(row);
        logprob += lp;
        perToken.push({ logprob: lp, top: best, topLogprob: logSoftmaxAt(row, best) });
        if (best !== target) greedy = false;
      }
      return { logprob, tokens: n, greedy, perToken };
    });
  }
}
