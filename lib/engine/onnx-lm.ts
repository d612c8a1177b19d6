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
// Where the time goes (research/onnx.md §2, and a profile of the kit's graphs): with the Optimum
// round trip every step copies the whole cache in-graph (Concat) and onnxruntime-node returns it
// as new JS arrays, O(batch x length) bytes to copy, allocate and collect per step. So the engine
// keeps the cache itself ("kv-delta" layout) wherever it can: in buffers it owns, passed whole
// without copying (free slots masked out), with only the O(batch) new rows fetched back. The kit's
// kv-delta graph also skips the in-graph Concat; for an Optimum graph whose present.* outputs are a
// Concat of the past and the new rows, the engine exposes those new rows as extra outputs and never
// fetches present.* (onnxruntime-node copies only the outputs that are fetched).

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import type { GenerateOptions, ScoreRequest, ScoreResult, TokenLM } from './gpt.js';
import type { Completion, CompletionEngine, CompletionOptions } from './completion.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer.js';
import { openSession, type Provider, type ProviderChoice } from './providers.js';
import { ONNX_FILES } from './onnx-gpt.js';
import { exposeNewCacheRows } from './onnx-graph.js';
import { createRng, deriveSeed, type Rng } from '../repro/rng.js';
import { sha256File } from '../repro/hash.js';
import { readJsonObject } from '../repro/files.js';

export type CacheLayout = 'optimum' | 'kv-delta';

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

/** What the engine needs from config.json, for GPT-2 and Llama/Mistral style names. */
export type DecoderConfig = {
  modelType: string;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  vocabSize?: number;
  contextLength?: number;
  eosTokenIds: number[];
  bosTokenId?: number;
  padTokenId?: number;
};

export type DecoderLayout = {
  layout: CacheLayout;
  layers: number;
  kvHeads: number;
  headDim: number;
  cacheType: 'float32' | 'float16';
  logitsType: 'float32' | 'float16';
  hasPositionIds: boolean;
  hasUseCacheBranch: boolean;
  hasLogitsToKeep: boolean;
  /** Cache inputs and the outputs that feed them, layer by layer, key then value. */
  pastNames: string[];
  returnNames: string[];
  /** Outputs to fetch each step (undefined: all). */
  fetch?: string[];
  /** Where the layout comes from: the kit's kv-delta graph, an Optimum graph with its new rows exposed, or an Optimum graph as is. */
  graph: 'kit-kv-delta' | 'optimum-rows' | 'optimum';
};

export type GenerationStats = { rows: number; newTokens: number; steps: number; prefillMs: number; totalMs: number };

type Row = { prompt: number[]; maxNew: number; rng?: Rng };
type RowResult = { tokens: number[]; finish: 'stop' | 'length' };
type CacheArray = Float32Array | Uint16Array;

function num(json: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) if (typeof json[k] === 'number') return json[k] as number;
  return undefined;
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

/** Reads sizes and special ids from config.json (+ generation_config.json, which wins for EOS). */
export function readDecoderConfig(config: Record<string, unknown>, generation: Record<string, unknown> = {}): DecoderConfig {
  const text = (config.text_config && typeof config.text_config === 'object' ? config.text_config : config) as Record<string, unknown>;
  const heads = num(text, 'n_head', 'num_attention_heads', 'num_heads');
  const hidden = num(text, 'n_embd', 'hidden_size', 'd_model');
  const eos = ids(generation.eos_token_id).length ? ids(generation.eos_token_id) : ids(text.eos_token_id ?? config.eos_token_id);
  return {
    modelType: String(text.model_type ?? config.model_type ?? 'unknown'),
    layers: num(text, 'n_layer', 'num_hidden_layers', 'num_layers'),
    heads,
    kvHeads: num(text, 'num_key_value_heads', 'multi_query_group_num') ?? (text.multi_query === true ? 1 : heads),
    headDim: num(text, 'head_dim') ?? (hidden !== undefined && heads ? hidden / heads : undefined),
    vocabSize: num(text, 'vocab_size'),
    contextLength: num(text, 'n_positions', 'max_position_embeddings', 'n_ctx', 'seq_length'),
    eosTokenIds: eos,
    bosTokenId: num(generation, 'bos_token_id') ?? num(text, 'bos_token_id'),
    padTokenId: num(generation, 'pad_token_id') ?? num(text, 'pad_token_id'),
  };
}

/** The cache layout of a session, from its input names and metadata, checked against config.json. */
export function describeDecoder(session: ort.InferenceSession, cfg: DecoderConfig, exposedRows?: Record<string, string>): DecoderLayout {
  const optimum = /^past_key_values\.(\d+)\.(key|value)$/;
  const delta = /^cache\.(\d+)\.(key|value)$/;
  const layout: CacheLayout | undefined = session.inputNames.some((n) => delta.test(n))
    ? 'kv-delta'
    : session.inputNames.some((n) => optimum.test(n))
      ? 'optimum'
      : undefined;
  if (!layout) {
    throw new Error(
      `the model has no past_key_values.{i}.key/value inputs (inputs: ${session.inputNames.join(', ')}): ` +
        'export it with a KV cache, e.g. `optimum-cli export onnx --task text-generation-with-past` (see env/engines.md)',
    );
  }
  for (const need of ['input_ids', 'attention_mask']) {
    if (!session.inputNames.includes(need)) throw new Error(`the model has no ${need} input; it is not a decoder export the engine can run`);
  }
  const pattern = layout === 'kv-delta' ? delta : optimum;
  const layers = 1 + Math.max(...session.inputNames.map((n) => Number(pattern.exec(n)?.[1] ?? -1)));
  if (cfg.layers !== undefined && cfg.layers !== layers) {
    throw new Error(`config.json says ${cfg.layers} layers but the ONNX graph has a cache for ${layers}: the folder mixes files of different models`);
  }
  const pastNames: string[] = [];
  const returnNames: string[] = [];
  for (let l = 0; l < layers; l++) {
    for (const kv of ['key', 'value']) {
      const past = layout === 'kv-delta' ? `cache.${l}.${kv}` : `past_key_values.${l}.${kv}`;
      const present = `present.${l}.${kv}`;
      const ret = layout === 'kv-delta' ? `cache_delta.${l}.${kv}` : exposedRows ? exposedRows[present] : present;
      if (!ret) throw new Error(`the exposed cache rows miss ${present}`);
      if (!session.inputNames.includes(past)) throw new Error(`the model has no cache input ${past}`);
      if (!session.outputNames.includes(ret)) throw new Error(`the model has no cache output ${ret} to match input ${past}`);
      pastNames.push(past);
      returnNames.push(ret);
    }
  }
  const meta = session.inputMetadata.find((m) => m.name === pastNames[0]);
  const shape = meta && meta.isTensor ? meta.shape : [];
  const [headAxis, dimAxis] = [1, 3]; // [batch, heads, length, head] in every layout
  const fixed = (i: number) => (typeof shape[i] === 'number' ? (shape[i] as number) : undefined);
  const kvHeads = fixed(headAxis) ?? cfg.kvHeads;
  const headDim = fixed(dimAxis) ?? cfg.headDim;
  if (!kvHeads || !headDim) {
    throw new Error('cannot tell the number of key/value heads and the head size: the graph leaves them symbolic and config.json has no num_key_value_heads / n_head / head_dim');
  }
  const typeOf = (m: ort.InferenceSession.ValueMetadata | undefined) => (m && m.isTensor ? m.type : 'float32');
  const cacheType = typeOf(meta);
  const logitsType = typeOf(session.outputMetadata.find((m) => m.name === 'logits'));
  for (const [what, t] of [['cache', cacheType], ['logits', logitsType]] as const) {
    if (t !== 'float32' && t !== 'float16') throw new Error(`the model's ${what} is ${t}; the engine runs float32 and float16 exports`);
  }
  if (!session.outputNames.includes('logits')) throw new Error('the model has no logits output');
  const graph = layout === 'kv-delta' ? 'kit-kv-delta' : exposedRows ? 'optimum-rows' : 'optimum';
  return {
    layout: graph === 'optimum' ? 'optimum' : 'kv-delta',
    graph,
    fetch: graph === 'optimum-rows' ? ['logits', ...returnNames] : undefined,
    layers,
    kvHeads,
    headDim,
    cacheType: cacheType as 'float32' | 'float16',
    logitsType: logitsType as 'float32' | 'float16',
    hasPositionIds: session.inputNames.includes('position_ids'),
    hasUseCacheBranch: session.inputNames.includes('use_cache_branch'),
    hasLogitsToKeep: session.inputNames.includes('num_logits_to_keep'),
    pastNames,
    returnNames,
  };
}

/** The .onnx file to load from a model folder. */
export function findOnnxFile(dir: string, options: { file?: string; layout?: 'auto' | CacheLayout } = {}): string {
  if (options.file) {
    const path = isAbsolute(options.file) ? options.file : join(dir, options.file);
    if (!existsSync(path)) throw new Error(`no ONNX file at ${path}`);
    return path;
  }
  const optimum = [ONNX_FILES.optimum, 'model.onnx', join('onnx', 'decoder_model_merged.onnx'), 'decoder_model_merged.onnx'];
  const candidates = options.layout === 'optimum' ? optimum : [ONNX_FILES['kv-delta'], ...optimum];
  for (const c of candidates) if (existsSync(join(dir, c))) return join(dir, c);
  throw new Error(`no ONNX decoder in ${dir} (looked for ${candidates.join(', ')}); export one with Optimum (see env/engines.md) or name it with --file`);
}

/** Largest file the engine reads into memory to expose its new cache rows (protobuf's own limit is 2 GiB). */
const MAX_GRAPH_EDIT_BYTES = 1.5 * 2 ** 30;

const HALF_TO_FLOAT = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
})();

function argmax(logits: Float32Array | Uint16Array, offset: number, V: number, half: boolean): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let v = 0; v < V; v++) {
    const x = half ? HALF_TO_FLOAT[logits[offset + v]] : logits[offset + v];
    if (x > bestValue) {
      bestValue = x;
      best = v;
    }
  }
  return best;
}

/** Seeded sampling from softmax(logits / temperature), restricted to the top-p nucleus. */
export function sampleToken(logits: ArrayLike<number>, offset: number, V: number, temperature: number, topP: number, rng: Rng, half = false): number {
  const p = new Float64Array(V);
  let max = -Infinity;
  for (let v = 0; v < V; v++) {
    const x = half ? HALF_TO_FLOAT[logits[offset + v]] : logits[offset + v];
    p[v] = x;
    if (x > max) max = x;
  }
  let z = 0;
  for (let v = 0; v < V; v++) z += p[v] = Math.exp((p[v] - max) / temperature);
  if (topP >= 1) {
    let r = rng.next() * z;
    for (let v = 0; v < V; v++) if ((r -= p[v]) < 0) return v;
    return V - 1;
  }
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => p[b] - p[a] || a - b);
  let kept = 0;
  let mass = 0;
  while (kept < V && mass < topP * z) mass += p[order[kept++]];
  let r = rng.next() * mass;
  for (let i = 0; i < kept; i++) if ((r -= p[order[i]]) < 0) return order[i];
  return order[kept - 1];
}

/**
 * The growing cache of one batch. `rows` is the current batch size, `length` the tokens it holds;
 * `columns(length)` is how many attention-mask columns the cache input takes (its slots).
 */
interface KvCache {
  columns(length: number): number;
  feed(feeds: Record<string, ort.Tensor>, rows: number, length: number): void;
  absorb(outputs: ort.InferenceSession.OnnxValueMapType, rows: number, length: number, added: number): void;
  compact(keep: number[], rows: number, length: number): void;
}

function cacheArray(type: DecoderLayout['cacheType'], n: number): CacheArray {
  return type === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

/** Optimum layout: the graph returns the whole cache [B, H, T, D] each step; feed it straight back. */
class FullCache implements KvCache {
  private values: Array<ort.Tensor | undefined>;
  constructor(private readonly l: DecoderLayout) {
    this.values = l.pastNames.map(() => undefined);
  }
  columns(length: number): number {
    return length;
  }
  feed(feeds: Record<string, ort.Tensor>, rows: number, length: number): void {
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    this.l.pastNames.forEach((name, i) => {
      feeds[name] = this.values[i] ?? new ort.Tensor(cacheType, cacheArray(cacheType, 0), [rows, H, length, D]);
    });
  }
  absorb(outputs: ort.InferenceSession.OnnxValueMapType): void {
    this.values = this.l.returnNames.map((name) => outputs[name] as ort.Tensor);
  }
  compact(keep: number[], _rows: number, length: number): void {
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    const block = H * length * D;
    this.values = this.values.map((t) => {
      if (!t) return t;
      const src = t.data as CacheArray;
      const dst = cacheArray(cacheType, keep.length * block);
      keep.forEach((b, j) => dst.set(src.subarray(b * block, (b + 1) * block), j * block));
      return new ort.Tensor(cacheType, dst, [keep.length, H, length, D]);
    });
  }
}

/**
 * kv-delta layout: the engine owns one buffer [B, H, capacity, D] per cache input and passes it
 * whole (zero copy); free slots are masked. The graph returns only the new rows, written here into
 * their slots. Capacity grows in chunks so attention over empty slots stays small.
 */
class DeltaCache implements KvCache {
  static readonly CHUNK = 64;
  private buffers: CacheArray[];
  private capacity = 0;
  constructor(
    private readonly l: DecoderLayout,
    private readonly maxLength: number,
  ) {
    this.buffers = l.pastNames.map(() => cacheArray(l.cacheType, 0));
  }
  columns(length: number): number {
    return length === 0 ? 0 : this.capacity;
  }
  feed(feeds: Record<string, ort.Tensor>, rows: number, length: number): void {
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    const slots = this.columns(length);
    this.l.pastNames.forEach((name, i) => {
      feeds[name] = new ort.Tensor(cacheType, slots === 0 ? cacheArray(cacheType, 0) : this.buffers[i], [rows, H, slots, D]);
    });
  }
  private grow(rows: number, length: number, needed: number): void {
    if (needed <= this.capacity) return;
    const capacity = Math.min(this.maxLength, Math.ceil(needed / DeltaCache.CHUNK) * DeltaCache.CHUNK);
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    this.buffers = this.buffers.map((old) => {
      const fresh = cacheArray(cacheType, rows * H * capacity * D);
      for (let bh = 0; bh < rows * H; bh++) fresh.set(old.subarray(bh * this.capacity * D, (bh * this.capacity + length) * D), bh * capacity * D);
      return fresh;
    });
    this.capacity = capacity;
  }
  absorb(outputs: ort.InferenceSession.OnnxValueMapType, rows: number, length: number, added: number): void {
    this.grow(rows, length, length + added);
    const { kvHeads: H, headDim: D } = this.l;
    const cap = this.capacity;
    this.l.returnNames.forEach((name, i) => {
      const delta = (outputs[name] as ort.Tensor).data as CacheArray;
      if (delta.length !== rows * H * added * D) throw new Error(`cache output ${name} has ${delta.length} values, expected ${rows * H * added * D}`);
      const buffer = this.buffers[i];
      const run = added * D;
      for (let bh = 0; bh < rows * H; bh++) {
        const from = bh * run;
        const to = (bh * cap + length) * D;
        if (run <= 64) for (let e = 0; e < run; e++) buffer[to + e] = delta[from + e];
        else buffer.set(delta.subarray(from, from + run), to);
      }
    });
  }
  compact(keep: number[], _rows: number, _length: number): void {
    // In place, front to back: a row only ever moves to a lower offset. The buffer keeps its size.
    const block = this.l.kvHeads * this.capacity * this.l.headDim;
    this.buffers = this.buffers.map((buffer) => {
      keep.forEach((b, j) => {
        if (b !== j) buffer.copyWithin(j * block, b * block, (b + 1) * block);
      });
      return buffer.subarray(0, keep.length * block);
    });
  }
}

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
    this.eosTokenIds = config.eosTokenIds.length ? config.eosTokenIds : tokenizer?.eosTokenId !== undefined ? [tokenizer.eosTokenId] : [];
    this.padTokenId = config.padTokenId ?? tokenizer?.padTokenId ?? this.eosTokenIds[0] ?? 0;
    this.batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    this.name = `onnx:${dir}@${revision}`;
  }

  /** Loads a model folder: config.json, optional generation_config.json and tokenizer, and an .onnx decoder. */
  static async load(dir: string, options: OnnxCausalLMOptions = {}): Promise<OnnxCausalLM> {
    const folder = resolve(dir);
    const configPath = join(folder, 'config.json');
    if (!existsSync(configPath)) throw new Error(`no config.json in ${folder}: a model folder needs the config.json of its export`);
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
      throw new Error(`${file} cannot run with layout kv-delta: its present.* outputs are not a Concat of the past and the new rows (use layout optimum)`);
    }
    const tokenizer = existsSync(join(folder, 'tokenizer.json')) ? loadTokenizer(folder) : undefined;
    const snapshot = /\/snapshots\/([0-9a-f]{40})(\/|$)/.exec(realpathSync(folder) + '/') ?? /\/snapshots\/([0-9a-f]{40})(\/|$)/.exec(folder + '/');
    const revision = snapshot ? snapshot[1] : `sha256:${(await sha256File(file)).slice(0, 16)}`;
    return new OnnxCausalLM(dir, basename(file), opened.session, opened.provider, layout, config, tokenizer, revision, opened.skipped, options);
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  countTokens(text: string): number {
    return this.requireTokenizer().count(text);
  }

  private requireTokenizer(): TextTokenizer {
    if (!this.tokenizer) throw new Error(`${this.dir} has no tokenizer.json: text in and out needs the model's tokenizer`);
    return this.tokenizer;
  }

  /** New tokens for each prompt (stop id included), in batches of `batchSize` sorted by length. */
  async generate(prompts: number[][], options: GenerateOptions): Promise<number[][]> {
    return (await this.generateRows(prompts, options)).map((r) => r.tokens);
  }

  /** As `generate`, with why each row stopped. */
  async generateRows(prompts: number[][], options: GenerateOptions): Promise<RowResult[]> {
    const maxNew = options.maxNewTokens;
    if (!Number.isInteger(maxNew) || maxNew < 0) throw new RangeError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
    const temperature = options.temperature ?? 0;
    const topP = options.topP ?? 1;
    if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
    if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
    const seed = options.seed ?? 0;
    const rows: Row[] = prompts.map((prompt, i) => {
      if (prompt.length === 0) throw new RangeError(`prompt ${i} is empty: give at least one token (e.g. BOS)`);
      const room = this.contextLength - prompt.length;
      if (room < 1 && maxNew > 0) {
        throw new RangeError(`prompt ${i} has ${prompt.length} tokens; the model's context is ${this.contextLength}, which leaves no room to generate: shorten the text`);
      }
      return { prompt, maxNew: Math.min(maxNew, room), rng: temperature > 0 ? createRng(deriveSeed(seed, 'row', i)) : undefined };
    });
    const stop = new Set(options.stopTokenIds ?? this.eosTokenIds);
    const results = new Array<RowResult>(rows.length);
    const order = rows.map((_, i) => i).sort((a, b) => rows[b].prompt.length - rows[a].prompt.length || a - b);
    const stats: GenerationStats = { rows: rows.length, newTokens: 0, steps: 0, prefillMs: 0, totalMs: 0 };
    for (let start = 0; start < order.length; start += this.batchSize) {
      const chunk = order.slice(start, start + this.batchSize);
      const out = await this.runBatch(
        chunk.map((i) => rows[i]),
        { temperature, topP, stop },
        stats,
      );
      chunk.forEach((i, j) => (results[i] = out[j]));
    }
    this.lastStats = stats;
    return results;
  }

  private async runBatch(rows: Row[], sampling: { temperature: number; topP: number; stop: Set<number> }, stats: GenerationStats): Promise<RowResult[]> {
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
        const offset = (b * Sx + Sx - 1) * V;
        const rng = rows[i].rng;
        const token = rng ? sampleToken(data, offset, V, sampling.temperature, sampling.topP, rng, half) : argmax(data, offset, V, half);
        const r = results[i];
        r.tokens.push(token);
        stats.newTokens++;
        lastPos[i]++;
        if (sampling.stop.has(token)) r.finish = 'stop';
        if (sampling.stop.has(token) || r.tokens.length >= rows[i].maxNew) {
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
      if (r.context.length === 0) throw new RangeError(`request ${i} has an empty context: start it with a token (e.g. BOS)`);
      if (r.continuation.length === 0) throw new RangeError(`request ${i} has an empty continuation`);
      const all = [...r.context, ...r.continuation];
      const window = all.slice(-(Math.min(this.contextLength, Number.MAX_SAFE_INTEGER) + 1)).slice(0, -1);
      return { input: window, continuation: r.continuation.slice(-window.length) };
    });
    const results = new Array<ScoreResult>(requests.length);
    const order = prepared.map((_, i) => i).sort((a, b) => prepared[b].input.length - prepared[a].input.length || a - b);
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
        const offset = (b * Sx + Sx - n + k) * V;
        let max = -Infinity;
        let best = 0;
        for (let v = 0; v < V; v++) {
          const x = half ? HALF_TO_FLOAT[data[offset + v]] : data[offset + v];
          if (x > max) {
            max = x;
            best = v;
          }
        }
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp((half ? HALF_TO_FLOAT[data[offset + v]] : data[offset + v]) - max);
        const target = r.continuation[k];
        const x = half ? HALF_TO_FLOAT[data[offset + target]] : data[offset + target];
        logprob += x - max - Math.log(z);
        perToken.push({ logprob: x - max - Math.log(z), top: best, topLogprob: -Math.log(z) });
        if (best !== target) greedy = false;
      }
      return { logprob, tokens: n, greedy, perToken };
    });
  }
}
