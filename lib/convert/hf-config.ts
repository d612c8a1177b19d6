// What a Hugging Face checkpoint's config.json says, for the architectures the converter handles:
// LlamaForCausalLM and MistralForCausalLM (grouped-query attention, rope_theta, rms_norm_eps,
// head_dim, tied or untied lm_head, Llama-3 rope scaling) and GPT2LMHeadModel. Anything else is
// refused here, before a byte is written, with a message that names what is not supported.

import { gptConfigFromHf, gptTensorSpecs, type GPTConfig } from '../engine/gpt.js';

export type Llama3RopeScaling = {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
};

export type LlamaSpec = {
  kind: 'llama';
  architecture: 'LlamaForCausalLM' | 'MistralForCausalLM';
  modelType: 'llama' | 'mistral';
  vocabSize: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeTheta: number;
  rmsNormEps: number;
  maxPositions: number;
  /** Mistral's sliding window, when set: the converted model is run within it (see `contextLimit`). */
  slidingWindow?: number;
  tieWordEmbeddings: boolean;
  ropeScaling?: Llama3RopeScaling;
};

/** GPT-2 is the kit's own GPT architecture (lib/engine/gpt.ts), so its spec is a GPTConfig. */
export type Gpt2Spec = { kind: 'gpt2'; architecture: 'GPT2LMHeadModel'; modelType: 'gpt2'; cfg: GPTConfig };

export type ModelSpec = LlamaSpec | Gpt2Spec;

/** Error for a checkpoint the converter cannot convert; the message names what is unsupported. */
export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}

type Json = Record<string, unknown>;

function fail(source: string, what: string): never {
  throw new UnsupportedModelError(`${source}: ${what}`);
}

function int(json: Json, key: string, source: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    fail(source, `"${key}" must be a positive integer, got ${JSON.stringify(json[key])}`);
  return v;
}

function positive(json: Json, key: string, source: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !(v > 0))
    fail(source, `"${key}" must be a positive number, got ${JSON.stringify(json[key])}`);
  return v;
}

const SUPPORTED = 'LlamaForCausalLM, MistralForCausalLM and GPT2LMHeadModel';

/** The architecture of a config.json, or an UnsupportedModelError saying why not. `source` names the file in messages. */
export function readModelSpec(config: Json, source = 'config.json'): ModelSpec {
  const archs = Array.isArray(config.architectures)
    ? config.architectures.filter((a): a is string => typeof a === 'string')
    : [];
  const arch = archs[0] ?? (config.model_type === 'gpt2' ? 'GPT2LMHeadModel' : undefined);
  if (!arch) fail(source, `names no architecture ("architectures" is missing); the converter handles ${SUPPORTED}`);
  if (archs.length > 1)
    fail(source, `names several architectures (${archs.join(', ')}); the converter handles one of ${SUPPORTED}`);
  if (arch === 'LlamaForCausalLM' || arch === 'MistralForCausalLM') return readLlama(config, arch, source);
  if (arch === 'GPT2LMHeadModel') return readGpt2(config, source);
  fail(source, `architecture ${arch} is not supported; the converter handles ${SUPPORTED}`);
}

function readLlama(c: Json, architecture: LlamaSpec['architecture'], source: string): LlamaSpec {
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') fail(source, `hidden_act "${String(act)}" is not supported (Llama and Mistral use "silu")`);
  for (const flag of ['attention_bias', 'mlp_bias'] as const)
    if (c[flag] === true) fail(source, `${flag}: true is not supported (biases on the attention or MLP projections)`);
  if (typeof c.partial_rotary_factor === 'number' && c.partial_rotary_factor !== 1)
    fail(
      source,
      `partial_rotary_factor ${c.partial_rotary_factor} is not supported (rotary positions over part of each head)`,
    );
  const hidden = int(c, 'hidden_size', source);
  const heads = int(c, 'num_attention_heads', source);
  const kvHeads = int(c, 'num_key_value_heads', source, heads);
  if (heads % kvHeads !== 0)
    fail(source, `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  const headDim = c.head_dim == null ? hidden / heads : int(c, 'head_dim', source);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    fail(source, `a head size of ${headDim} is not supported (rotary positions need an even integer)`);
  const maxPositions = int(c, 'max_position_embeddings', source, 2048);
  const window = c.sliding_window;
  const slidingWindow = typeof window === 'number' && window > 0 && window < maxPositions ? window : undefined;
  return {
    kind: 'llama',
    architecture,
    modelType: architecture === 'MistralForCausalLM' ? 'mistral' : 'llama',
    vocabSize: int(c, 'vocab_size', source),
    hidden,
    intermediate: int(c, 'intermediate_size', source),
    layers: int(c, 'num_hidden_layers', source),
    heads,
    kvHeads,
    headDim,
    ropeTheta: positive(c, 'rope_theta', source, 10000),
    rmsNormEps: positive(c, 'rms_norm_eps', source, 1e-6),
    maxPositions,
    ...(slidingWindow ? { slidingWindow } : {}),
    tieWordEmbeddings: c.tie_word_embeddings === true,
    ...readRopeScaling(c, source),
  };
}

function readRopeScaling(c: Json, source: string): { ropeScaling?: Llama3RopeScaling } {
  const s = c.rope_scaling;
  if (s === null || s === undefined) return {};
  if (typeof s !== 'object' || Array.isArray(s)) fail(source, 'rope_scaling must be an object or null');
  const r = s as Json;
  const type = r.rope_type ?? r.type;
  if (type === 'default') return {};
  if (type !== 'llama3')
    fail(
      source,
      `rope_scaling of type "${String(type)}" is not supported (only "llama3", Llama 3.1's frequency scaling)`,
    );
  return {
    ropeScaling: {
      factor: positive(r, 'factor', `${source} rope_scaling`),
      lowFreqFactor: positive(r, 'low_freq_factor', `${source} rope_scaling`),
      highFreqFactor: positive(r, 'high_freq_factor', `${source} rope_scaling`),
      originalMaxPositions: int(r, 'original_max_position_embeddings', `${source} rope_scaling`),
    },
  };
}

function readGpt2(c: Json, source: string): Gpt2Spec {
  const act = c.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new') fail(source, `activation_function "${String(act)}" is not supported (GPT-2 uses "gelu_new")`);
  for (const flag of ['scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn'] as const)
    if (c[flag] === true) fail(source, `${flag}: true is not supported`);
  if (c.scale_attn_weights === false) fail(source, 'scale_attn_weights: false is not supported');
  if (c.add_cross_attention === true)
    fail(source, 'add_cross_attention: true is not supported (a decoder with cross-attention)');
  const width = int(c, 'n_embd', source);
  const heads = int(c, 'n_head', source);
  if (width % heads !== 0) fail(source, `n_embd ${width} is not divisible by n_head ${heads}`);
  const inner = c.n_inner == null ? 4 * width : int(c, 'n_inner', source);
  if (inner % width !== 0) fail(source, `n_inner ${inner} is not a multiple of n_embd ${width}`);
  int(c, 'vocab_size', source);
  int(c, 'n_positions', source);
  int(c, 'n_layer', source);
  return { kind: 'gpt2', architecture: 'GPT2LMHeadModel', modelType: 'gpt2', cfg: gptConfigFromHf(c) };
}

/** The longest sequence the converted model is run on: the positions it has, within a sliding window if any. */
export function contextLimit(spec: ModelSpec): number {
  if (spec.kind === 'gpt2') return spec.cfg.contextLength;
  return Math.min(spec.maxPositions, spec.slidingWindow ?? Infinity);
}

/** Rotary inverse frequencies 1 / theta^(2i/D), with Llama 3's scaling folded in when the config has it. */
export function ropeInverseFrequencies(spec: LlamaSpec): Float64Array {
  const D = spec.headDim;
  const inv = Float64Array.from({ length: D / 2 }, (_, i) => 1 / spec.ropeTheta ** ((2 * i) / D));
  const s = spec.ropeScaling;
  if (!s) return inv;
  const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositions / s.highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / s.factor;
    const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

/** The weight tensors of a checkpoint in its own (Hugging Face) names and shapes, in the order they are used. */
export type WeightSpec = { name: string; shape: number[] };

export function llamaWeightSpecs(spec: LlamaSpec): WeightSpec[] {
  const { hidden: C, intermediate: F, heads: H, kvHeads: K, headDim: D, vocabSize: V } = spec;
  const out: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [V, C] }];
  for (let l = 0; l < spec.layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [C] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [H * D, C] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [K * D, C] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [K * D, C] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [C, H * D] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [C] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [F, C] },
      { name: `${p}.mlp.up_proj.weight`, shape: [F, C] },
      { name: `${p}.mlp.down_proj.weight`, shape: [C, F] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [C] });
  if (!spec.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, C] });
  return out;
}

/** GPT-2's tensors (without the "transformer." prefix some checkpoints carry); Conv1D weights are [in, out]. */
export function gpt2WeightSpecs(spec: Gpt2Spec): WeightSpec[] {
  return gptTensorSpecs(spec.cfg);
}
