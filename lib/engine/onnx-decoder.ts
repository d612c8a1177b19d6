// Decoder graphs as ONNX, for the two architectures the kit writes: GPT-2 (the kit's own GPT, and
// converted GPT-2 checkpoints) and Llama/Mistral (converted checkpoints: RMSNorm, rotary positions,
// grouped-query attention, SwiGLU). The graph is independent of how the weights are stored: a
// `GraphWeights` provider turns each named weight into initializers and ops (float32 MatMul, a
// float16 MatMul between casts, or int4 MatMulNBits), so the kit's in-memory writer (onnx-gpt.ts)
// and the streaming converter (lib/convert) share one graph.
//
// Two I/O variants share the weights:
// - 'optimum': Hugging Face Optimum's "text-generation-with-past" I/O, which ONNX Runtime, Optimum
//   and transformers.js run: input_ids, attention_mask, position_ids,
//   past_key_values.{i}.key/.value [batch_size, kv_heads, past_sequence_length, head] in; logits,
//   present.{i}.key/.value [batch_size, kv_heads, total_sequence_length, head] out. Heads and head
//   size are fixed numbers and the batch dimension is named `batch_size` (transformers.js resolves
//   every other symbol to 0 when it builds the empty cache; env/engines.md, "Facts the engine relies on").
// - 'kv-delta': the kit's faster layout. The cache is a buffer the engine preallocates and owns
//   (cache.{i}.key/.value [batch_size, kv_heads, cache_length, head]); slots not yet filled are masked
//   out by attention_mask, which covers cache_length + sequence_length columns. The graph attends to
//   the buffer and to the new tokens separately and joins only the scores, so the cache is never
//   copied in-graph, and only the new rows come back (cache_delta.{i}.key/.value), O(batch) per step.
//   A scalar num_logits_to_keep input (0 = all) skips the output layer for the prompt.
//
// Left padding is handled in-graph: the attention bias combines the causal mask (offset by the past
// length) with attention_mask, using a finite -1e9 so fully padded query rows stay finite. Grouped
// query heads never copy the cache: queries are regrouped to [batch, kv_heads, groups x length, head]
// and multiplied with the keys of their group. Norms, rotary positions, softmax and the residual
// stream are float32 in every variant; a float16 cache keeps the attention products in float16.

import { GraphBuilder, DataType } from './onnx-graph.js';
import type { GPTConfig } from './gpt.js';

export type DecoderVariant = 'optimum' | 'kv-delta';
export type CacheType = 'float32' | 'float16';

/** Turns named weights into graph values; bound to one GraphBuilder. */
export interface GraphWeights {
  /** Precision of the KV cache the graph keeps (float16 halves its memory). */
  readonly cacheType: CacheType;
  /** Rows of an embedding table [rows, width] for the ids in `ids`, as float32 [.., width]. */
  gather(name: string, ids: string): string;
  /** A float32 vector (norm gains, biases). */
  vector(name: string): string;
  /** x · W: `stored` is 'out-in' for a torch Linear weight [out, in], 'in-out' for GPT-2's Conv1D [in, out]. Float32 in and out. */
  linear(x: string, name: string, stored: 'out-in' | 'in-out'): string;
  /** x · Eᵀ for an embedding table E [vocab, width] that doubles as the output layer. */
  tiedOutput(x: string, name: string): string;
}

/** The names of the kit's kv-delta inputs and outputs (not Optimum names, so no tool mistakes one for the other). */
export const KV_DELTA_NAMES = {
  past: (layer: number, kv: 'key' | 'value') => `cache.${layer}.${kv}`,
  delta: (layer: number, kv: 'key' | 'value') => `cache_delta.${layer}.${kv}`,
  logitsToKeep: 'num_logits_to_keep',
};

const MASK_VALUE = -1e9;
const INT64_MAX = Number.MAX_SAFE_INTEGER;

type Shape = { layers: number; kvHeads: number; headDim: number; vocab: number };

function elemType(t: CacheType) {
  return t === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
}

function declareIO(g: GraphBuilder, s: Shape, variant: DecoderVariant, cacheType: CacheType): void {
  const T = elemType(cacheType);
  g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  for (let l = 0; l < s.layers; l++) {
    for (const kv of ['key', 'value'] as const) {
      if (variant === 'optimum')
        g.input(`past_key_values.${l}.${kv}`, T, ['batch_size', s.kvHeads, 'past_sequence_length', s.headDim]);
      else g.input(KV_DELTA_NAMES.past(l, kv), T, ['batch_size', s.kvHeads, 'cache_length', s.headDim]);
    }
  }
  if (variant === 'kv-delta') g.input(KV_DELTA_NAMES.logitsToKeep, DataType.INT64, []);
  g.output('logits', DataType.FLOAT, [
    'batch_size',
    variant === 'optimum' ? 'sequence_length' : 'logits_length',
    s.vocab,
  ]);
  for (let l = 0; l < s.layers; l++) {
    for (const kv of ['key', 'value'] as const) {
      if (variant === 'optimum')
        g.output(`present.${l}.${kv}`, T, ['batch_size', s.kvHeads, 'total_sequence_length', s.headDim]);
      else g.output(KV_DELTA_NAMES.delta(l, kv), T, ['batch_size', s.kvHeads, 'sequence_length', s.headDim]);
    }
  }
}

/** The additive attention bias [B, 1, S, T]: query j (absolute position T-S+j) sees key t <= it, and only real tokens. */
function attentionBias(g: GraphBuilder): { bias: string; totalLen: string; seqLen: string } {
  const one = g.i64([1], []);
  const totalLen = g.op1('Gather', [g.op1('Shape', ['attention_mask']), one], { axis: { i: 0 } });
  const seqLen = g.op1('Gather', [g.op1('Shape', ['input_ids']), one], { axis: { i: 0 } });
  const queryPos = g.op1('Range', [g.op1('Sub', [totalLen, seqLen]), totalLen, one]);
  const keyPos = g.op1('Range', [g.i64([0], []), totalLen, one]);
  const causal = g.op1('LessOrEqual', [
    g.op1('Unsqueeze', [keyPos, g.i64([0])]),
    g.op1('Unsqueeze', [queryPos, g.i64([1])]),
  ]);
  const real = g.op1('Unsqueeze', [g.op1('Cast', ['attention_mask'], { to: { i: DataType.BOOL } }), g.i64([1, 2])]);
  const allowed = g.op1('And', [g.op1('Unsqueeze', [causal, g.i64([0, 1])]), real]);
  return { bias: g.op1('Where', [allowed, g.f32([0]), g.f32([MASK_VALUE])]), totalLen, seqLen };
}

type Attention = {
  layer: number;
  variant: DecoderVariant;
  heads: number;
  kvHeads: number;
  headDim: number;
  cacheType: CacheType;
  mask: { bias: string; totalLen: string; seqLen: string };
  /** [B, heads, S, D], [B, kvHeads, S, D], [B, kvHeads, S, D], float32, rotary positions applied. */
  q: string;
  k: string;
  v: string;
};

/** Causal attention over the cache and the new tokens; writes the cache outputs; returns [B, S, heads x D]. */
function attend(g: GraphBuilder, a: Attention): string {
  const { heads: H, kvHeads: K, headDim: D } = a;
  const groups = H / K;
  const half = a.cacheType === 'float16';
  const toCache = (t: string, name: string) =>
    g.op1(half ? 'Cast' : 'Identity', [t], half ? { to: { i: DataType.FLOAT16 } } : {}, name);
  const regroup = (t: string, n: number) => (groups === 1 ? t : g.op1('Reshape', [t, g.i64([0, n, -1, 0])]));
  const transposeLast = (t: string) => g.op1('Transpose', [t], { perm: { ints: [0, 1, 3, 2] } });
  let q = g.op1('Mul', [a.q, g.f32([1 / Math.sqrt(D)])]);
  if (half) q = g.op1('Cast', [q], { to: { i: DataType.FLOAT16 } });
  q = regroup(q, K); // [B, K, groups*S, D]
  const softmax = (scores: string) => {
    let s = regroup(scores, H); // [B, H, S, T]
    if (half) s = g.op1('Cast', [s], { to: { i: DataType.FLOAT } });
    let p = g.op1('Softmax', [g.op1('Add', [s, a.mask.bias])], { axis: { i: -1 } });
    if (half) p = g.op1('Cast', [p], { to: { i: DataType.FLOAT16 } });
    return regroup(p, K); // [B, K, groups*S, T]
  };
  let context: string; // [B, K, groups*S, D]
  if (a.variant === 'optimum') {
    const keys = g.op1(
      'Concat',
      [`past_key_values.${a.layer}.key`, toCache(a.k, `/new_key_${a.layer}`)],
      { axis: { i: 2 } },
      `present.${a.layer}.key`,
    );
    const values = g.op1(
      'Concat',
      [`past_key_values.${a.layer}.value`, toCache(a.v, `/new_value_${a.layer}`)],
      { axis: { i: 2 } },
      `present.${a.layer}.value`,
    );
    context = g.op1('MatMul', [softmax(g.op1('MatMul', [q, transposeLast(keys)])), values]);
  } else {
    // Scores against the cache buffer and against the new tokens are joined before the softmax:
    // only the [.., P+S] scores are concatenated, never the cache itself.
    const newK = toCache(a.k, KV_DELTA_NAMES.delta(a.layer, 'key'));
    const newV = toCache(a.v, KV_DELTA_NAMES.delta(a.layer, 'value'));
    const pastScores = g.op1('MatMul', [q, transposeLast(KV_DELTA_NAMES.past(a.layer, 'key'))]);
    const newScores = g.op1('MatMul', [q, transposeLast(newK)]);
    const probs = softmax(g.op1('Concat', [pastScores, newScores], { axis: { i: 3 } }));
    const pastLen = g.op1('Unsqueeze', [g.op1('Sub', [a.mask.totalLen, a.mask.seqLen]), g.i64([0])]);
    const pastProbs = g.op1('Slice', [probs, g.i64([0]), pastLen, g.i64([3])]);
    const newProbs = g.op1('Slice', [probs, pastLen, g.i64([INT64_MAX]), g.i64([3])]);
    context = g.op1('Add', [
      g.op1('MatMul', [pastProbs, KV_DELTA_NAMES.past(a.layer, 'value')]),
      g.op1('MatMul', [newProbs, newV]),
    ]);
  }
  context = regroup(context, H); // [B, H, S, D]
  if (half) context = g.op1('Cast', [context], { to: { i: DataType.FLOAT } });
  return g.op1('Reshape', [g.op1('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }), g.i64([0, 0, H * D])]);
}

/** [B, S, n x D] -> [B, n, S, D] */
function splitHeads(g: GraphBuilder, t: string, n: number, D: number): string {
  return g.op1('Transpose', [g.op1('Reshape', [t, g.i64([0, 0, n, D])])], { perm: { ints: [0, 2, 1, 3] } });
}

/** The final hidden states through the output layer into `logits`; the kv-delta graph keeps only the last num_logits_to_keep positions. */
function outputLogits(g: GraphBuilder, hidden: string, variant: DecoderVariant, head: (x: string) => string): void {
  let x = hidden;
  if (variant === 'kv-delta') {
    // 0 keeps all (Slice from -0 == 0).
    const start = g.op1('Unsqueeze', [g.op1('Neg', [KV_DELTA_NAMES.logitsToKeep]), g.i64([0])]);
    x = g.op1('Slice', [x, start, g.i64([INT64_MAX]), g.i64([1])]);
  }
  g.op1('Identity', [head(x)], {}, 'logits');
}

/** tanh GELU as in GPT-2 ("gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function geluNew(g: GraphBuilder, x: string): string {
  const cube = g.op1('Pow', [x, g.f32([3])]);
  const inner = g.op1('Mul', [
    g.op1('Add', [x, g.op1('Mul', [cube, g.f32([0.044715])])]),
    g.f32([Math.sqrt(2 / Math.PI)]),
  ]);
  return g.op1('Mul', [g.op1('Mul', [x, g.f32([0.5])]), g.op1('Add', [g.op1('Tanh', [inner]), g.f32([1])])]);
}

/**
 * GPT-2 (the kit's GPTConfig; Hugging Face GPT-2 names without a "transformer." prefix): learned
 * token and position embeddings, pre-LayerNorm blocks, tanh GELU, final LayerNorm, output layer tied
 * to the token embedding.
 */
export function buildGptGraph(g: GraphBuilder, cfg: GPTConfig, w: GraphWeights, variant: DecoderVariant): void {
  const C = cfg.width;
  const H = cfg.heads;
  const D = C / H;
  declareIO(g, { layers: cfg.layers, kvHeads: H, headDim: D, vocab: cfg.vocabSize }, variant, w.cacheType);
  let x = g.op1('Add', [w.gather('wte.weight', 'input_ids'), w.gather('wpe.weight', 'position_ids')]);
  const mask = attentionBias(g);
  const layerNorm = (input: string, prefix: string) =>
    g.op1('LayerNormalization', [input, w.vector(`${prefix}.weight`), w.vector(`${prefix}.bias`)], {
      axis: { i: -1 },
      epsilon: { f: cfg.layerNormEps },
    });
  const conv1d = (input: string, prefix: string) =>
    g.op1('Add', [w.linear(input, `${prefix}.weight`, 'in-out'), w.vector(`${prefix}.bias`)]);
  for (let l = 0; l < cfg.layers; l++) {
    const p = `h.${l}`;
    const qkv = conv1d(layerNorm(x, `${p}.ln_1`), `${p}.attn.c_attn`);
    const [q, k, v] = g.op('Split', [qkv, g.i64([C, C, C])], { axis: { i: 2 } }, 3);
    const heads = (t: string) => splitHeads(g, t, H, D);
    const context = attend(g, {
      layer: l,
      variant,
      heads: H,
      kvHeads: H,
      headDim: D,
      cacheType: w.cacheType,
      mask,
      q: heads(q),
      k: heads(k),
      v: heads(v),
    });
    x = g.op1('Add', [x, conv1d(context, `${p}.attn.c_proj`)]);
    const hidden = geluNew(g, conv1d(layerNorm(x, `${p}.ln_2`), `${p}.mlp.c_fc`));
    x = g.op1('Add', [x, conv1d(hidden, `${p}.mlp.c_proj`)]);
  }
  outputLogits(g, layerNorm(x, 'ln_f'), variant, (h) => w.tiedOutput(h, 'wte.weight'));
}

/** What the Llama/Mistral graph needs (the converter reads it from config.json). */
export type LlamaGraphConfig = {
  vocabSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  rmsNormEps: number;
  /** Rotary inverse frequencies, D/2 of them (scaling already folded in). */
  invFreq: ArrayLike<number>;
  tieWordEmbeddings: boolean;
};

/**
 * Llama/Mistral (Hugging Face names): RMSNorm, rotary positions (rotate-half, as Hugging Face
 * stores q/k), grouped-query attention, SwiGLU MLP, optional tied output layer.
 */
export function buildLlamaGraph(
  g: GraphBuilder,
  cfg: LlamaGraphConfig,
  w: GraphWeights,
  variant: DecoderVariant,
): void {
  const { heads: H, kvHeads: K, headDim: D } = cfg;
  if (cfg.invFreq.length !== D / 2)
    throw new RangeError(`invFreq has ${cfg.invFreq.length} values; head size ${D} needs ${D / 2}`);
  declareIO(g, { layers: cfg.layers, kvHeads: K, headDim: D, vocab: cfg.vocabSize }, variant, w.cacheType);
  let x = w.gather('model.embed_tokens.weight', 'input_ids');
  const mask = attentionBias(g);
  // RMSNorm written as ONNX Runtime's SimplifiedLayerNormalization fusion expects it.
  const rms = (input: string, weight: string) => {
    const ms = g.op1('ReduceMean', [g.op1('Pow', [input, g.f32([2])])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    return g.op1('Mul', [
      g.op1('Div', [input, g.op1('Sqrt', [g.op1('Add', [ms, g.f32([cfg.rmsNormEps])])])]),
      w.vector(weight),
    ]);
  };
  // cos/sin [B, 1, S, D] from the position ids, shared by every layer (float32, as Hugging Face computes them).
  const freqs = g.op1('Mul', [
    g.op1('Unsqueeze', [g.op1('Cast', ['position_ids'], { to: { i: DataType.FLOAT } }), g.i64([2])]),
    g.initializer('rotary.inv_freq', [D / 2], Float32Array.from(cfg.invFreq)),
  ]);
  const angles = g.op1('Concat', [freqs, freqs], { axis: { i: -1 } });
  const cos = g.op1('Unsqueeze', [g.op1('Cos', [angles]), g.i64([1])]);
  const sin = g.op1('Unsqueeze', [g.op1('Sin', [angles]), g.i64([1])]);
  const rope = (t: string) => {
    const first = g.op1('Slice', [t, g.i64([0]), g.i64([D / 2]), g.i64([3])]);
    const second = g.op1('Slice', [t, g.i64([D / 2]), g.i64([D]), g.i64([3])]);
    const rotated = g.op1('Concat', [g.op1('Neg', [second]), first], { axis: { i: 3 } });
    return g.op1('Add', [g.op1('Mul', [t, cos]), g.op1('Mul', [rotated, sin])]);
  };
  for (let l = 0; l < cfg.layers; l++) {
    const p = `model.layers.${l}`;
    const h = rms(x, `${p}.input_layernorm.weight`);
    const q = rope(splitHeads(g, w.linear(h, `${p}.self_attn.q_proj.weight`, 'out-in'), H, D));
    const k = rope(splitHeads(g, w.linear(h, `${p}.self_attn.k_proj.weight`, 'out-in'), K, D));
    const v = splitHeads(g, w.linear(h, `${p}.self_attn.v_proj.weight`, 'out-in'), K, D);
    const context = attend(g, {
      layer: l,
      variant,
      heads: H,
      kvHeads: K,
      headDim: D,
      cacheType: w.cacheType,
      mask,
      q,
      k,
      v,
    });
    x = g.op1('Add', [x, w.linear(context, `${p}.self_attn.o_proj.weight`, 'out-in')]);
    const h2 = rms(x, `${p}.post_attention_layernorm.weight`);
    const gate = w.linear(h2, `${p}.mlp.gate_proj.weight`, 'out-in');
    const up = w.linear(h2, `${p}.mlp.up_proj.weight`, 'out-in');
    const act = g.op1('Mul', [g.op1('Mul', [gate, g.op1('Sigmoid', [gate])]), up]);
    x = g.op1('Add', [x, w.linear(act, `${p}.mlp.down_proj.weight`, 'out-in')]);
  }
  const head = (h: string) =>
    cfg.tieWordEmbeddings ? w.tiedOutput(h, 'model.embed_tokens.weight') : w.linear(h, 'lm_head.weight', 'out-in');
  outputLogits(g, rms(x, 'model.norm.weight'), variant, head);
}
