// A tiny Llama/Mistral-style decoder for tests: RMSNorm, rotary positions (rotate-half), grouped-query
// attention (fewer key/value heads than query heads, as in Mistral-7B), SwiGLU, untied output layer,
// with the Optimum I/O and a Llama config.json; its reference logits come from the independent forward
// pass of test/convert/llama-reference.ts. It
// stands in for a real Optimum export of the synthesizer, which is too large for tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, DataType } from '../../lib/engine/onnx-graph.js';
import { createRng } from '../../lib/repro/rng.js';
import { tinyTokenizerFiles, writeTokenizerFiles, TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';
import type { Weights } from '../convert/hf-checkpoint.js';
import { llamaGreedy, llamaLogits, type LlamaRefConfig } from '../convert/llama-reference.js';

export type LlamaConfig = {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  ropeTheta: number;
  eps: number;
  maxPositions: number;
};
export const TINY_LLAMA: LlamaConfig = {
  vocab: TINY_BASE_VOCAB,
  hidden: 32,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  ffn: 64,
  ropeTheta: 10000,
  eps: 1e-5,
  maxPositions: 128,
};

export function llamaWeights(c: LlamaConfig, seed: number): Record<string, Float32Array> {
  const rng = createRng(seed);
  const D = c.hidden / c.heads;
  const w: Record<string, Float32Array> = {};
  const randn = (name: string, n: number, std: number) =>
    (w[name] = Float32Array.from({ length: n }, () => std * rng.normal()));
  randn('embed', c.vocab * c.hidden, 1);
  for (let l = 0; l < c.layers; l++) {
    randn(`l${l}.q`, c.hidden * c.heads * D, 4 / Math.sqrt(c.hidden));
    randn(`l${l}.k`, c.hidden * c.kvHeads * D, 4 / Math.sqrt(c.hidden));
    randn(`l${l}.v`, c.hidden * c.kvHeads * D, 4 / Math.sqrt(c.hidden));
    randn(`l${l}.o`, c.heads * D * c.hidden, 4 / Math.sqrt(c.hidden));
    randn(`l${l}.gate`, c.hidden * c.ffn, 2 / Math.sqrt(c.hidden));
    randn(`l${l}.up`, c.hidden * c.ffn, 2 / Math.sqrt(c.hidden));
    randn(`l${l}.down`, c.ffn * c.hidden, 2 / Math.sqrt(c.ffn));
    w[`l${l}.norm1`] = Float32Array.from({ length: c.hidden }, () => 1 + 0.1 * rng.normal());
    w[`l${l}.norm2`] = Float32Array.from({ length: c.hidden }, () => 1 + 0.1 * rng.normal());
  }
  w.norm = Float32Array.from({ length: c.hidden }, () => 1 + 0.1 * rng.normal());
  randn('lm_head', c.hidden * c.vocab, 1 / Math.sqrt(c.hidden));
  return w;
}

export function buildLlamaOnnx(c: LlamaConfig, w: Record<string, Float32Array>): Uint8Array {
  const g = new GraphBuilder();
  const D = c.hidden / c.heads;
  const groups = c.heads / c.kvHeads;
  g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  g.output('logits', DataType.FLOAT, ['batch_size', 'sequence_length', c.vocab]);
  for (let l = 0; l < c.layers; l++) {
    for (const kv of ['key', 'value']) {
      g.input(`past_key_values.${l}.${kv}`, DataType.FLOAT, ['batch_size', c.kvHeads, 'past_sequence_length', D]);
      g.output(`present.${l}.${kv}`, DataType.FLOAT, ['batch_size', c.kvHeads, 'total_sequence_length', D]);
    }
  }
  const mat = (name: string, rows: number, cols: number) => g.initializer(name, [rows, cols], w[name]);
  const vec = (name: string) => g.initializer(name, [c.hidden], w[name]);
  const rms = (x: string, weight: string) => {
    const ms = g.op1('ReduceMean', [g.op1('Mul', [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    return g.op1('Mul', [g.op1('Div', [x, g.op1('Sqrt', [g.op1('Add', [ms, g.f32([c.eps])])])]), weight]);
  };
  let x = g.op1('Gather', [g.initializer('embed', [c.vocab, c.hidden], w.embed), 'input_ids'], { axis: { i: 0 } });
  const invFreq = Float32Array.from({ length: D / 2 }, (_, i) => 1 / c.ropeTheta ** ((2 * i) / D));
  const freqs = g.op1('Mul', [
    g.op1('Unsqueeze', [g.op1('Cast', ['position_ids'], { to: { i: DataType.FLOAT } }), g.i64([2])]),
    g.initializer('inv_freq', [D / 2], invFreq),
  ]);
  const emb = g.op1('Concat', [freqs, freqs], { axis: { i: -1 } });
  const cos = g.op1('Unsqueeze', [g.op1('Cos', [emb]), g.i64([1])]);
  const sin = g.op1('Unsqueeze', [g.op1('Sin', [emb]), g.i64([1])]);
  const rope = (t: string) => {
    const x1 = g.op1('Slice', [t, g.i64([0]), g.i64([D / 2]), g.i64([3])]);
    const x2 = g.op1('Slice', [t, g.i64([D / 2]), g.i64([D]), g.i64([3])]);
    return g.op1('Add', [
      g.op1('Mul', [t, cos]),
      g.op1('Mul', [g.op1('Concat', [g.op1('Neg', [x2]), x1], { axis: { i: 3 } }), sin]),
    ]);
  };
  const one = g.i64([1], []);
  const total = g.op1('Gather', [g.op1('Shape', ['attention_mask']), one], { axis: { i: 0 } });
  const seq = g.op1('Gather', [g.op1('Shape', ['input_ids']), one], { axis: { i: 0 } });
  const q = g.op1('Range', [g.op1('Sub', [total, seq]), total, one]);
  const k = g.op1('Range', [g.i64([0], []), total, one]);
  const causal = g.op1('LessOrEqual', [g.op1('Unsqueeze', [k, g.i64([0])]), g.op1('Unsqueeze', [q, g.i64([1])])]);
  const real = g.op1('Unsqueeze', [g.op1('Cast', ['attention_mask'], { to: { i: DataType.BOOL } }), g.i64([1, 2])]);
  const bias = g.op1('Where', [
    g.op1('And', [g.op1('Unsqueeze', [causal, g.i64([0, 1])]), real]),
    g.f32([0]),
    g.f32([-1e9]),
  ]);
  const heads = (t: string, n: number) =>
    g.op1('Transpose', [g.op1('Reshape', [t, g.i64([0, 0, n, D])])], { perm: { ints: [0, 2, 1, 3] } });
  // [B, kv, T, D] -> [B, kv * groups, T, D], each key/value head serving `groups` query heads
  const repeat = (t: string) =>
    g.op1('Reshape', [
      g.op1('Expand', [g.op1('Unsqueeze', [t, g.i64([2])]), g.i64([1, 1, groups, 1, 1])]),
      g.i64([0, c.heads, -1, D]),
    ]);
  for (let l = 0; l < c.layers; l++) {
    const h = rms(x, vec(`l${l}.norm1`));
    const qh = rope(heads(g.op1('MatMul', [h, mat(`l${l}.q`, c.hidden, c.heads * D)]), c.heads));
    const kh = rope(heads(g.op1('MatMul', [h, mat(`l${l}.k`, c.hidden, c.kvHeads * D)]), c.kvHeads));
    const vh = heads(g.op1('MatMul', [h, mat(`l${l}.v`, c.hidden, c.kvHeads * D)]), c.kvHeads);
    const keys = g.op1('Concat', [`past_key_values.${l}.key`, kh], { axis: { i: 2 } }, `present.${l}.key`);
    const values = g.op1('Concat', [`past_key_values.${l}.value`, vh], { axis: { i: 2 } }, `present.${l}.value`);
    const scores = g.op1('Add', [
      g.op1('Mul', [
        g.op1('MatMul', [qh, g.op1('Transpose', [repeat(keys)], { perm: { ints: [0, 1, 3, 2] } })]),
        g.f32([1 / Math.sqrt(D)]),
      ]),
      bias,
    ]);
    const ctx = g.op1('MatMul', [g.op1('Softmax', [scores], { axis: { i: -1 } }), repeat(values)]);
    const merged = g.op1('Reshape', [
      g.op1('Transpose', [ctx], { perm: { ints: [0, 2, 1, 3] } }),
      g.i64([0, 0, c.heads * D]),
    ]);
    x = g.op1('Add', [x, g.op1('MatMul', [merged, mat(`l${l}.o`, c.heads * D, c.hidden)])]);
    const h2 = rms(x, vec(`l${l}.norm2`));
    const gate = g.op1('MatMul', [h2, mat(`l${l}.gate`, c.hidden, c.ffn)]);
    const up = g.op1('MatMul', [h2, mat(`l${l}.up`, c.hidden, c.ffn)]);
    const act = g.op1('Mul', [g.op1('Mul', [gate, g.op1('Sigmoid', [gate])]), up]);
    x = g.op1('Add', [x, g.op1('MatMul', [act, mat(`l${l}.down`, c.ffn, c.hidden)])]);
  }
  g.op1('MatMul', [rms(x, vec('norm')), mat('lm_head', c.hidden, c.vocab)], {}, 'logits');
  return g.toBytes({ graphName: 'tiny_llama_gqa', producer: 'ipt-kit tests' });
}

/** A folder shaped like an Optimum export of a Mistral-style model: config.json, generation_config.json, tokenizer, model.onnx at the root. */
export function writeLlamaFolder(dir: string, c: LlamaConfig, w: Record<string, Float32Array>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), buildLlamaOnnx(c, w));
  const config = {
    architectures: ['MistralForCausalLM'],
    model_type: 'mistral',
    vocab_size: c.vocab,
    hidden_size: c.hidden,
    intermediate_size: c.ffn,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.eps,
    rope_theta: c.ropeTheta,
    bos_token_id: 1,
    eos_token_id: 2,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }));
  writeTokenizerFiles(dir, tinyTokenizerFiles());
}

/**
 * The tiny model in Hugging Face's names and layouts (Linear weights [out, in]), for the independent
 * forward pass of test/convert/llama-reference.ts, written from Hugging Face's modeling code.
 */
function asCheckpoint(c: LlamaConfig, w: Record<string, Float32Array>): { config: LlamaRefConfig; weights: Weights } {
  const D = c.hidden / c.heads;
  // this model stores [in, out] (x · W); a torch Linear stores [out, in]
  const linear = (m: Float32Array, fin: number, fout: number) => {
    const t = new Float32Array(fin * fout);
    for (let k = 0; k < fin; k++) for (let o = 0; o < fout; o++) t[o * fin + k] = m[k * fout + o];
    return t;
  };
  const weights: Weights = {
    'model.embed_tokens.weight': w.embed,
    'model.norm.weight': w.norm,
    'lm_head.weight': linear(w.lm_head, c.hidden, c.vocab),
  };
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    weights[`${p}.input_layernorm.weight`] = w[`l${l}.norm1`];
    weights[`${p}.post_attention_layernorm.weight`] = w[`l${l}.norm2`];
    weights[`${p}.self_attn.q_proj.weight`] = linear(w[`l${l}.q`], c.hidden, c.heads * D);
    weights[`${p}.self_attn.k_proj.weight`] = linear(w[`l${l}.k`], c.hidden, c.kvHeads * D);
    weights[`${p}.self_attn.v_proj.weight`] = linear(w[`l${l}.v`], c.hidden, c.kvHeads * D);
    weights[`${p}.self_attn.o_proj.weight`] = linear(w[`l${l}.o`], c.heads * D, c.hidden);
    weights[`${p}.mlp.gate_proj.weight`] = linear(w[`l${l}.gate`], c.hidden, c.ffn);
    weights[`${p}.mlp.up_proj.weight`] = linear(w[`l${l}.up`], c.hidden, c.ffn);
    weights[`${p}.mlp.down_proj.weight`] = linear(w[`l${l}.down`], c.ffn, c.hidden);
  }
  const config: LlamaRefConfig = {
    vocab: c.vocab,
    hidden: c.hidden,
    intermediate: c.ffn,
    layers: c.layers,
    heads: c.heads,
    kvHeads: c.kvHeads,
    headDim: D,
    ropeTheta: c.ropeTheta,
    eps: c.eps,
    tied: false,
  };
  return { config, weights };
}

/** Independent forward pass (float64), one sequence at positions 0..n-1: logits [n, vocab]. */
export function llamaReferenceLogits(c: LlamaConfig, w: Record<string, Float32Array>, ids: number[]): Float64Array {
  const { config, weights } = asCheckpoint(c, w);
  return llamaLogits(config, weights, ids);
}

export function llamaReferenceGreedy(
  c: LlamaConfig,
  w: Record<string, Float32Array>,
  prompt: number[],
  maxNew: number,
): number[] {
  const { config, weights } = asCheckpoint(c, w);
  return llamaGreedy(config, weights, prompt, maxNew);
}
