// What a decoder folder says about itself: the sizes and special ids of its config.json (GPT-2 and
// Llama/Mistral names), and the cache layout of its ONNX graph (input and output names, head
// counts, float32 or float16), checked against each other so a folder that mixes files of
// different models is refused. Also where in a folder the .onnx decoder is found.

import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type ort from 'onnxruntime-node';
import { ONNX_FILES } from './onnx-gpt.js';

/** 'kv-delta': the engine owns the cache and fetches only new rows; 'optimum': the whole cache round-trips each step. */
export type CacheLayout = 'optimum' | 'kv-delta';

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

function num(json: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) if (typeof json[k] === 'number') return json[k] as number;
  return undefined;
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

/**
 * Mistral's sliding window: an export that attends to the whole context matches the model only up
 * to the window, so the engine runs within it.
 */
function withinWindow(positions: number | undefined, window: number | undefined): number | undefined {
  return window !== undefined && window > 0 && (positions === undefined || window < positions) ? window : positions;
}

/** Reads sizes and special ids from config.json (+ generation_config.json, which wins for EOS). */
export function readDecoderConfig(
  config: Record<string, unknown>,
  generation: Record<string, unknown> = {},
): DecoderConfig {
  const text = (config.text_config && typeof config.text_config === 'object' ? config.text_config : config) as Record<
    string,
    unknown
  >;
  const heads = num(text, 'n_head', 'num_attention_heads', 'num_heads');
  const hidden = num(text, 'n_embd', 'hidden_size', 'd_model');
  const eos = ids(generation.eos_token_id).length
    ? ids(generation.eos_token_id)
    : ids(text.eos_token_id ?? config.eos_token_id);
  return {
    modelType: String(text.model_type ?? config.model_type ?? 'unknown'),
    layers: num(text, 'n_layer', 'num_hidden_layers', 'num_layers'),
    heads,
    kvHeads: num(text, 'num_key_value_heads', 'multi_query_group_num') ?? (text.multi_query === true ? 1 : heads),
    headDim: num(text, 'head_dim') ?? (hidden !== undefined && heads ? hidden / heads : undefined),
    vocabSize: num(text, 'vocab_size'),
    contextLength: withinWindow(
      num(text, 'n_positions', 'max_position_embeddings', 'n_ctx', 'seq_length'),
      num(text, 'sliding_window'),
    ),
    eosTokenIds: eos,
    bosTokenId: num(generation, 'bos_token_id') ?? num(text, 'bos_token_id'),
    padTokenId: num(generation, 'pad_token_id') ?? num(text, 'pad_token_id'),
  };
}

/** The cache layout of a session, from its input names and metadata, checked against config.json. */
export function describeDecoder(
  session: ort.InferenceSession,
  cfg: DecoderConfig,
  exposedRows?: Record<string, string>,
): DecoderLayout {
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
    if (!session.inputNames.includes(need))
      throw new Error(`the model has no ${need} input; it is not a decoder export the engine can run`);
  }
  const pattern = layout === 'kv-delta' ? delta : optimum;
  const layers = 1 + Math.max(...session.inputNames.map((n) => Number(pattern.exec(n)?.[1] ?? -1)));
  if (cfg.layers !== undefined && cfg.layers !== layers) {
    throw new Error(
      `config.json says ${cfg.layers} layers but the ONNX graph has a cache for ${layers}: the folder mixes files of different models`,
    );
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
      if (!session.outputNames.includes(ret))
        throw new Error(`the model has no cache output ${ret} to match input ${past}`);
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
    throw new Error(
      'cannot tell the number of key/value heads and the head size: the graph leaves them symbolic and config.json has no num_key_value_heads / n_head / head_dim',
    );
  }
  const typeOf = (m: ort.InferenceSession.ValueMetadata | undefined) => (m && m.isTensor ? m.type : 'float32');
  const cacheType = typeOf(meta);
  const logitsType = typeOf(session.outputMetadata.find((m) => m.name === 'logits'));
  for (const [what, t] of [
    ['cache', cacheType],
    ['logits', logitsType],
  ] as const) {
    if (t !== 'float32' && t !== 'float16')
      throw new Error(`the model's ${what} is ${t}; the engine runs float32 and float16 exports`);
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
  const optimum = [
    ONNX_FILES.optimum,
    'model.onnx',
    join('onnx', 'decoder_model_merged.onnx'),
    'decoder_model_merged.onnx',
  ];
  const candidates = options.layout === 'optimum' ? optimum : [ONNX_FILES['kv-delta'], ...optimum];
  for (const c of candidates) if (existsSync(join(dir, c))) return join(dir, c);
  throw new Error(
    `no ONNX decoder in ${dir} (looked for ${candidates.join(', ')}); export one with Optimum (see env/engines.md) or name it with --file`,
  );
}
