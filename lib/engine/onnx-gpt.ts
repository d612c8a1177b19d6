// The ONNX writer for the kit's GPT (lib/engine/gpt.ts): weights in, a runnable decoder out.
//
// Input is exactly `{ cfg: GPTConfig, weights }`, weights keyed by the tensor names of
// `gptTensorSpecs(cfg)` (Hugging Face GPT-2 names, Conv1D weights [in, out]); the trainer exports
// through here and tests build seeded models through here. The architecture is GPT-2's: learned
// token and position embeddings, pre-LayerNorm blocks, causal multi-head attention, tanh GELU
// ("gelu_new"), final LayerNorm and an output layer tied to the token embedding.
//
// Two graph variants share the weights:
// - 'optimum': the Hugging Face Optimum "text-generation-with-past" I/O, so onnxruntime, Optimum
//   and transformers.js all run it: input_ids, attention_mask, position_ids,
//   past_key_values.{i}.key/.value [batch_size, heads, past_sequence_length, head] in; logits,
//   present.{i}.key/.value [batch_size, heads, total_sequence_length, head] out. Heads and head size
//   are fixed numbers and the batch dimension is named `batch_size` (transformers.js resolves every
//   other symbol to 0 when it builds the empty cache; env/engines.md, "Facts the engine relies on").
// - 'kv-delta': the kit's faster layout for its own engine. The cache is a buffer the engine
//   preallocates and owns (cache.{i}.key/.value [batch_size, heads, cache_length, head]); slots not
//   yet filled are masked out by attention_mask, which covers cache_length + sequence_length
//   columns. The graph attends to the buffer and to the new tokens separately and joins only the
//   scores, so the cache is never copied in-graph (the Optimum graph's Concat of the whole cache
//   was half of a decode step, as profiled here), and only the new rows come back
//   (cache_delta.{i}.key/.value [batch_size, heads, sequence_length, head]), O(batch) per step
//   instead of O(batch x length), with nothing left for the garbage collector (env/engines.md, "Facts the
//   engine relies on").
//   A scalar num_logits_to_keep input (0 = all, as in transformers.js) skips the output layer for
//   the prompt during generation.
//
// Left padding is handled in-graph: the attention bias combines the causal mask (offset by the
// past length) with attention_mask, using a finite -1e9 so fully padded query rows stay finite.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, DataType, readOnnxInitializers } from './onnx-graph.js';
import { checkGPTWeights, gptHfConfig, gptTensorSpecs, type GPTConfig, type GPTWeights } from './gpt.js';
import { tinyTokenizerFiles, writeTokenizerFiles, type TokenizerFiles, BOS_ID, EOS_ID, PAD_ID } from './tokenizer.js';
import { createRng, deriveSeed } from '../repro/rng.js';
import { writeFileAtomic } from '../repro/files.js';

export type GptOnnxVariant = 'optimum' | 'kv-delta';

/** What a trainer hands over: the config and its weights by `gptTensorSpecs` name. */
export type GptModel = { cfg: GPTConfig; weights: GPTWeights };

/** File names inside a model folder (transformers.js looks for `onnx/model.onnx`). */
export const ONNX_FILES: Record<GptOnnxVariant, string> = {
  optimum: join('onnx', 'model.onnx'),
  'kv-delta': join('onnx', 'model_kv_delta.onnx'),
};

/** Input and output names of the kit's kv-delta layout (not Optimum names, so no tool mistakes it for one). */
export const KV_DELTA_NAMES = {
  past: (layer: number, kv: 'key' | 'value') => `cache.${layer}.${kv}`,
  delta: (layer: number, kv: 'key' | 'value') => `cache_delta.${layer}.${kv}`,
  logitsToKeep: 'num_logits_to_keep',
};

const MASK_VALUE = -1e9;
const INT64_MAX = Number.MAX_SAFE_INTEGER;

/** The decoder as ONNX bytes (IR 8, opset 17). */
export function buildGptOnnx(model: GptModel, options: { variant?: GptOnnxVariant } = {}): Uint8Array {
  const { cfg, weights } = model;
  checkGPTWeights(cfg, weights);
  const variant = options.variant ?? 'optimum';
  const C = cfg.width;
  const H = cfg.heads;
  const D = C / H;
  const V = cfg.vocabSize;
  const g = new GraphBuilder();
  for (const spec of gptTensorSpecs(cfg)) g.initializer(spec.name, spec.shape, weights[spec.name]);

  g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  for (let l = 0; l < cfg.layers; l++) {
    for (const kv of ['key', 'value'] as const) {
      if (variant === 'optimum') g.input(`past_key_values.${l}.${kv}`, DataType.FLOAT, ['batch_size', H, 'past_sequence_length', D]);
      else g.input(KV_DELTA_NAMES.past(l, kv), DataType.FLOAT, ['batch_size', H, 'cache_length', D]);
    }
  }
  if (variant === 'kv-delta') g.input(KV_DELTA_NAMES.logitsToKeep, DataType.INT64, []);

  g.output('logits', DataType.FLOAT, ['batch_size', variant === 'optimum' ? 'sequence_length' : 'logits_length', V]);
  for (let l = 0; l < cfg.layers; l++) {
    for (const kv of ['key', 'value'] as const) {
      if (variant === 'optimum') g.output(`present.${l}.${kv}`, DataType.FLOAT, ['batch_size', H, 'total_sequence_length', D]);
      else g.output(KV_DELTA_NAMES.delta(l, kv), DataType.FLOAT, ['batch_size', H, 'sequence_length', D]);
    }
  }

  // Embeddings: token + learned position.
  let x = g.op1('Add', [
    g.op1('Gather', ['wte.weight', 'input_ids'], { axis: { i: 0 } }),
    g.op1('Gather', ['wpe.weight', 'position_ids'], { axis: { i: 0 } }),
  ]);

  // Additive attention bias [B, 1, S, T]: query j (absolute position T-S+j) sees key t <= it, and only real tokens.
  const one = g.i64([1], []);
  const totalLen = g.op1('Gather', [g.op1('Shape', ['attention_mask']), one], { axis: { i: 0 } });
  const seqLen = g.op1('Gather', [g.op1('Shape', ['input_ids']), one], { axis: { i: 0 } });
  const queryPos = g.op1('Range', [g.op1('Sub', [totalLen, seqLen]), totalLen, one]);
  const keyPos = g.op1('Range', [g.i64([0], []), totalLen, one]);
  const causal = g.op1('LessOrEqual', [g.op1('Unsqueeze', [keyPos, g.i64([0])]), g.op1('Unsqueeze', [queryPos, g.i64([1])])]);
  const real = g.op1('Unsqueeze', [g.op1('Cast', ['attention_mask'], { to: { i: DataType.BOOL } }), g.i64([1, 2])]);
  const allowed = g.op1('And', [g.op1('Unsqueeze', [causal, g.i64([0, 1])]), real]);
  const bias = g.op1('Where', [allowed, g.f32([0]), g.f32([MASK_VALUE])]);

  const layerNorm = (input: string, prefix: string) =>
    g.op1('LayerNormalization', [input, `${prefix}.weight`, `${prefix}.bias`], { axis: { i: -1 }, epsilon: { f: cfg.layerNormEps } });
  const conv1d = (input: string, prefix: string) => g.op1('Add', [g.op1('MatMul', [input, `${prefix}.weight`]), `${prefix}.bias`]);
  const splitHeads = (t: string) => g.op1('Reshape', [t, g.i64([0, 0, H, D])]); // [B,S,H,D]
  const scale = g.f32([1 / Math.sqrt(D)]);

  for (let l = 0; l < cfg.layers; l++) {
    const p = `h.${l}`;
    const qkv = conv1d(layerNorm(x, `${p}.ln_1`), `${p}.attn.c_attn`);
    const [q, k, v] = g.op('Split', [qkv, g.i64([C, C, C])], { axis: { i: 2 } }, 3);
    const qh = g.op1('Transpose', [splitHeads(q)], { perm: { ints: [0, 2, 1, 3] } }); // [B,H,S,D]
    let context: string; // [B,S,C]
    if (variant === 'optimum') {
      const kh = g.op1('Transpose', [splitHeads(k)], { perm: { ints: [0, 2, 1, 3] } });
      const vh = g.op1('Transpose', [splitHeads(v)], { perm: { ints: [0, 2, 1, 3] } });
      const keys = g.op1('Concat', [`past_key_values.${l}.key`, kh], { axis: { i: 2 } }, `present.${l}.key`);
      const values = g.op1('Concat', [`past_key_values.${l}.value`, vh], { axis: { i: 2 } }, `present.${l}.value`);
      const keysT = g.op1('Transpose', [keys], { perm: { ints: [0, 1, 3, 2] } });
      const scores = g.op1('Add', [g.op1('Mul', [g.op1('MatMul', [qh, keysT]), scale]), bias]);
      const probs = g.op1('Softmax', [scores], { axis: { i: -1 } });
      context = g.op1('MatMul', [probs, values]);
    } else {
      // Scores against the cache buffer and against the new tokens are joined before the softmax:
      // only the [B,H,S,P+S] scores are concatenated, never the cache itself.
      const kh = g.op1('Transpose', [splitHeads(k)], { perm: { ints: [0, 2, 1, 3] } }, KV_DELTA_NAMES.delta(l, 'key'));
      const vh = g.op1('Transpose', [splitHeads(v)], { perm: { ints: [0, 2, 1, 3] } }, KV_DELTA_NAMES.delta(l, 'value'));
      const pastKeys = KV_DELTA_NAMES.past(l, 'key');
      const pastScores = g.op1('MatMul', [qh, g.op1('Transpose', [pastKeys], { perm: { ints: [0, 1, 3, 2] } })]); // [B,H,S,P]
      const newScores = g.op1('MatMul', [qh, g.op1('Transpose', [kh], { perm: { ints: [0, 1, 3, 2] } })]); // [B,H,S,S]
      const scores = g.op1('Add', [g.op1('Mul', [g.op1('Concat', [pastScores, newScores], { axis: { i: 3 } }), scale]), bias]);
      const probs = g.op1('Softmax', [scores], { axis: { i: -1 } });
      const pastLen = g.op1('Unsqueeze', [g.op1('Sub', [totalLen, seqLen]), g.i64([0])]);
      const pastProbs = g.op1('Slice', [probs, g.i64([0]), pastLen, g.i64([3])]);
      const newProbs = g.op1('Slice', [probs, pastLen, g.i64([INT64_MAX]), g.i64([3])]);
      context = g.op1('Add', [g.op1('MatMul', [pastProbs, KV_DELTA_NAMES.past(l, 'value')]), g.op1('MatMul', [newProbs, vh])]);
    }
    context = g.op1('Reshape', [g.op1('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }), g.i64([0, 0, C])]);
    x = g.op1('Add', [x, conv1d(context, `${p}.attn.c_proj`)]);
    const hidden = gelu(g, conv1d(layerNorm(x, `${p}.ln_2`), `${p}.mlp.c_fc`));
    x = g.op1('Add', [x, conv1d(hidden, `${p}.mlp.c_proj`)]);
  }

  let final = layerNorm(x, 'ln_f');
  if (variant === 'kv-delta') {
    // Keep the last num_logits_to_keep positions; 0 keeps all (Slice from -0 == 0).
    const start = g.op1('Unsqueeze', [g.op1('Neg', [KV_DELTA_NAMES.logitsToKeep]), g.i64([0])]);
    final = g.op1('Slice', [final, start, g.i64([INT64_MAX]), g.i64([1])]);
  }
  // Tied output layer: logits = h · wteᵀ (ONNX Runtime folds the transpose of the initializer once).
  g.op1('MatMul', [final, g.op1('Transpose', ['wte.weight'], { perm: { ints: [1, 0] } })], {}, 'logits');
  return g.toBytes({ graphName: `ipt_gpt_${variant}`, docString: `ipt-kit GPT (${variant} I/O)` });
}

/** tanh GELU as in GPT-2 ("gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function gelu(g: GraphBuilder, x: string): string {
  const cube = g.op1('Pow', [x, g.f32([3])]);
  const inner = g.op1('Mul', [g.op1('Add', [x, g.op1('Mul', [cube, g.f32([0.044715])])]), g.f32([Math.sqrt(2 / Math.PI)])]);
  return g.op1('Mul', [g.op1('Mul', [x, g.f32([0.5])]), g.op1('Add', [g.op1('Tanh', [inner]), g.f32([1])])]);
}

export type ModelFolderOptions = {
  /** Graph files to write; default both (transformers.js and Optimum read `onnx/model.onnx`). */
  variants?: GptOnnxVariant[];
  /** Default: the tiny byte-level tokenizer. */
  tokenizer?: TokenizerFiles;
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
  /** Extra fields for config.json (e.g. provenance of trained weights). */
  configExtra?: Record<string, unknown>;
};

/**
 * Writes a complete model folder: config.json (Hugging Face GPT-2 form), generation_config.json,
 * tokenizer.json + tokenizer_config.json, and the ONNX graphs. Returns the written paths.
 */
export function writeGptModelFolder(dir: string, model: GptModel, options: ModelFolderOptions = {}): string[] {
  const variants = options.variants ?? ['optimum', 'kv-delta'];
  const tokenizer = options.tokenizer ?? tinyTokenizerFiles({ modelMaxLength: model.cfg.contextLength });
  const ids = { bosTokenId: options.bosTokenId ?? BOS_ID, eosTokenId: options.eosTokenId ?? EOS_ID, padTokenId: options.padTokenId ?? PAD_ID };
  for (const [k, id] of Object.entries(ids)) {
    if (!Number.isInteger(id) || id < 0 || id >= model.cfg.vocabSize) throw new RangeError(`${k} ${id} is outside the model's vocabulary (${model.cfg.vocabSize})`);
  }
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const written: string[] = [];
  const put = (rel: string, data: string | Uint8Array) => {
    writeFileAtomic(join(dir, rel), data);
    written.push(rel);
  };
  for (const variant of variants) put(ONNX_FILES[variant], buildGptOnnx(model, { variant }));
  const config = { ...gptHfConfig(model.cfg, ids), 'transformers.js_config': { dtype: 'fp32' }, ...options.configExtra };
  put('config.json', JSON.stringify(config, null, 2) + '\n');
  const generation = { bos_token_id: ids.bosTokenId, eos_token_id: ids.eosTokenId, pad_token_id: ids.padTokenId, do_sample: false };
  put('generation_config.json', JSON.stringify(generation, null, 2) + '\n');
  writeTokenizerFiles(dir, tokenizer);
  written.push('tokenizer.json', 'tokenizer_config.json');
  return written;
}

/** Reads the GPT weights back out of a kit-written ONNX file (both variants store them under their spec names). */
export function readGptOnnxWeights(bytes: Uint8Array, cfg: GPTConfig): GPTWeights {
  const inits = readOnnxInitializers(bytes);
  const weights: GPTWeights = {};
  for (const spec of gptTensorSpecs(cfg)) {
    const t = inits[spec.name];
    if (!t) throw new Error(`the ONNX file has no initializer ${spec.name}: was it written by the kit's GPT writer?`);
    weights[spec.name] = t.data;
  }
  checkGPTWeights(cfg, weights);
  return weights;
}

/**
 * Seeded weights for test and benchmark models, not an initialisation for training: weights
 * N(0, 16/fan_in), embeddings N(0, 1), and biases and LayerNorm gains away from 0 and 1, so every
 * tensor matters, greedy decoding has real gaps between logits (no near ties), and the blocks
 * outweigh the tied embedding (with smaller weights a random model just repeats its last token). Token ids in
 * `silentTokens` get a zero embedding row, which makes their logit 0 while the others spread
 * widely, so greedy decoding never emits them (e.g. keep EOS out of a fixed-length benchmark).
 */
export function seededGptWeights(cfg: GPTConfig, seed: number, options: { silentTokens?: number[] } = {}): GPTWeights {
  const weights: GPTWeights = {};
  for (const spec of gptTensorSpecs(cfg)) {
    const rng = createRng(deriveSeed(seed, spec.name));
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    const isEmbedding = spec.name === 'wte.weight' || spec.name === 'wpe.weight';
    const isLnWeight = /ln_(1|2|f)\.weight$/.test(spec.name);
    const isBias = spec.name.endsWith('.bias');
    const std = isEmbedding ? 1 : isBias || isLnWeight ? 0.1 : 4 / Math.sqrt(spec.shape[0]);
    for (let i = 0; i < n; i++) w[i] = (isLnWeight ? 1 : 0) + std * rng.normal();
    weights[spec.name] = w;
  }
  for (const id of options.silentTokens ?? []) weights['wte.weight'].fill(0, id * cfg.width, (id + 1) * cfg.width);
  return weights;
}

/**
 * A hand-set "scripted" GPT for demonstrations and end-to-end tests: after token script[i] its
 * greedy continuation is script[i + 1], whatever came before (attention is switched off, and the
 * first block's MLP is a lookup table from each script token to the next). The script's tokens
 * must be distinct and fewer than width / 2. With the tiny tokenizer and a script that starts at
 * "\n" and spells `<QUE> ...<ANS>...</END></s>`, it answers every synthesizer prompt with one pair.
 */
export function scriptedGptWeights(cfg: GPTConfig, script: number[]): GPTWeights {
  const C = cfg.width;
  if (new Set(script).size !== script.length) throw new RangeError('scriptedGptWeights: the script tokens must be distinct');
  if (script.length * 2 > C) throw new RangeError(`scriptedGptWeights: a script of ${script.length} tokens needs width >= ${script.length * 2}`);
  if (cfg.mlpRatio * C < script.length) throw new RangeError('scriptedGptWeights: the MLP is too narrow for the script');
  for (const t of script) if (!Number.isInteger(t) || t < 0 || t >= cfg.vocabSize) throw new RangeError(`scriptedGptWeights: token ${t} is outside the vocabulary`);
  const weights: GPTWeights = {};
  for (const spec of gptTensorSpecs(cfg)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    weights[spec.name] = new Float32Array(n).fill(/ln_(1|2|f)\.weight$/.test(spec.name) ? 1 : 0);
  }
  // Token script[i] embeds as the unit vector e_i; every other token embeds as 0 (its logit stays 0).
  script.forEach((t, i) => (weights['wte.weight'][t * C + i] = 1));
  // After LayerNorm, e_i has about sqrt(C) at i and -1/sqrt(C) elsewhere: hidden unit i fires only
  // for token i, and writes a large multiple of e_{i+1} into the residual stream.
  const hiddenSize = cfg.mlpRatio * C;
  const fc = weights['h.0.mlp.c_fc.weight'];
  const fcBias = weights['h.0.mlp.c_fc.bias'];
  const proj = weights['h.0.mlp.c_proj.weight'];
  const threshold = Math.sqrt(C) / 2;
  for (let i = 0; i + 1 < script.length; i++) {
    fc[i * hiddenSize + i] = 1;
    fcBias[i] = -threshold;
    proj[i * C + (i + 1)] = 20 / threshold;
  }
  for (let i = script.length - 1; i < hiddenSize; i++) fcBias[i] = -threshold;
  return weights;
}
