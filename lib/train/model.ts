// The kit's GPT (lib/engine/gpt.ts) as a fast trainable model: the forward and backward passes of
// lib/train/reference.ts (the readable scalar version, where each layer's math is written out) run
// on the wasm SIMD kernels behind `Ops`, over the shared heap laid out by `planGPTHeap`.
//
//   x0 = wte[ids] + wpe[positions]
//   for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))     (pre-LayerNorm)
//   logits = ln_f(x) @ wte^T                                           (tied output embedding)
//   loss = sum_i weight_i * cross_entropy(logits_i, target_i)          (weights: mask / count)
//
// Parameters live in one flat region of the heap in gptTensorSpecs order and layout (Hugging Face
// GPT-2 names, Conv1D weights [in, out]), so import and export are plain copies. Gradients, and the
// AdamW moments when training, mirror that region. Backward adds (+=) into the parameter gradients,
// so micro-batches accumulate.

import { gptTensorSpecs, checkGPTWeights, validateGPTConfig, type GPTConfig, type GPTWeights } from '../engine/gpt.js';
import { createRng, deriveSeed } from '../repro/rng.js';
import { Heap, planGPTHeap, type BackwardBuffers, type GPTHeapLayout, type Tensor } from './heap.js';
import { Ops } from './ops.js';
import { createKernelRunner, defaultThreads } from './pool.js';
import { kernelModule } from './wasm.js';

export type ModelOptions = {
  /** Threads for the kernels (default: the number of cores). */
  threads?: number;
  /** Most sequences in one forward pass (activations are sized for maxBatch x contextLength). */
  maxBatch: number;
  /** Allocate gradients and AdamW moments. */
  training?: boolean;
};

export type Batch = {
  /** Sequences in the batch and their common length (T <= contextLength). */
  B: number;
  T: number;
  /** [B*T] token ids. */
  inputs: ArrayLike<number>;
  /** [B*T] next-token ids; with weights, forward also computes the loss and its gradient. */
  targets?: ArrayLike<number>;
  /** [B*T] per-position loss weights (the loss mask divided by the number of counted tokens). */
  weights?: ArrayLike<number>;
};

/** GPT-2 initialisation: N(0, 0.02) weights and embeddings, residual projections scaled by 1/sqrt(2 layers). */
export function initGPTWeights(cfg: GPTConfig, seed: number): GPTWeights {
  const weights: GPTWeights = {};
  const projStd = 0.02 / Math.sqrt(2 * cfg.layers);
  for (const spec of gptTensorSpecs(cfg)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(size);
    const kind = spec.name.split('.').at(-1);
    if (/ln_(1|2|f)\.weight$/.test(spec.name)) w.fill(1);
    else if (kind === 'weight') {
      const std = /c_proj\.weight$/.test(spec.name) ? projStd : 0.02;
      const rng = createRng(deriveSeed(seed, 'init', spec.name)); // one stream per tensor: robust to config changes
      for (let i = 0; i < size; i++) w[i] = std * rng.normal();
    }
    weights[spec.name] = w;
  }
  return weights;
}

export class GPTModel {
  /** The parameters, with the byte addresses of their values and gradients. */
  readonly tensors: Tensor[];
  readonly numParams: number;
  /** Byte addresses of the flat parameter, gradient and AdamW moment regions (tensors at the same offsets in each). */
  readonly params: number;
  readonly grads: number;
  readonly moment1: number;
  readonly moment2: number;
  private readonly byName = new Map<string, Tensor>();
  private last: { B: number; T: number; withLoss: boolean } | undefined;

  private constructor(
    readonly cfg: GPTConfig,
    readonly heap: Heap,
    readonly ops: Ops,
    private readonly layout: GPTHeapLayout,
    readonly maxBatch: number,
    readonly training: boolean,
  ) {
    ({
      tensors: this.tensors,
      numParams: this.numParams,
      params: this.params,
      grads: this.grads,
      moment1: this.moment1,
      moment2: this.moment2,
    } = layout);
    for (const t of this.tensors) this.byName.set(t.name, t);
  }

  /** Lays out the heap for `cfg`, starts the kernel threads and loads `weights` (or a seeded init). */
  static async create(cfg: GPTConfig, weights: GPTWeights, options: ModelOptions): Promise<GPTModel> {
    validateGPTConfig(cfg);
    checkGPTWeights(cfg, weights);
    const threads = options.threads ?? defaultThreads();
    const training = options.training ?? false;
    const maxBatch = options.maxBatch;
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    const layout = planGPTHeap(cfg, { maxBatch, training, threads });
    const heap = new Heap(layout.size);
    const runner = await createKernelRunner(await kernelModule(), heap.memory, threads);
    const model = new GPTModel(cfg, heap, new Ops(runner, heap, layout.scratch), layout, maxBatch, training);
    model.setWeights(weights);
    return model;
  }

  get threads(): number {
    return this.ops.runner.threads;
  }

  tensor(name: string): Tensor {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no tensor ${name} in this model`);
    return t;
  }

  private w(name: string): number {
    return this.tensor(name).ptr;
  }
  private g(name: string): number {
    return this.tensor(name).grad;
  }

  setWeights(weights: GPTWeights): void {
    checkGPTWeights(this.cfg, weights);
    for (const t of this.tensors) this.heap.f32(t.ptr, t.size).set(weights[t.name]);
  }

  /** A copy of the weights by Hugging Face GPT-2 name. */
  getWeights(): GPTWeights {
    const out: GPTWeights = {};
    for (const t of this.tensors) out[t.name] = this.heap.f32(t.ptr, t.size).slice();
    return out;
  }

  /** A copy of the gradients by tensor name (after backward). */
  getGradients(): GPTWeights {
    this.requireTraining();
    const out: GPTWeights = {};
    for (const t of this.tensors) out[t.name] = this.heap.f32(t.grad, t.size).slice();
    return out;
  }

  /** Views of the flat parameter / gradient / moment regions (live, not copies). */
  flat(region: 'params' | 'grads' | 'moment1' | 'moment2'): Float32Array {
    if (region !== 'params') this.requireTraining();
    return this.heap.f32(this[region], this.numParams);
  }

  zeroGradients(): void {
    this.requireTraining();
    this.flat('grads').fill(0);
  }

  private requireTraining(): BackwardBuffers {
    if (!this.layout.backward) throw new Error('this model was created without training state (training: false)');
    return this.layout.backward;
  }

  // -------------------------------------------------------------------------------------------
  // Forward

  /**
   * Runs the network on a batch. Without targets it leaves logits [B*T, V] in the heap (see
   * logitsView) and returns undefined. With targets and weights it returns the weighted loss
   * sum_i w_i * ce_i and replaces the logits with their gradient, ready for backward().
   */
  forward(batch: Batch): number | undefined {
    const { B, T } = batch;
    const { width: C, vocabSize: V, layerNormEps: eps } = this.cfg;
    if (!Number.isInteger(B) || B < 1 || B > this.maxBatch)
      throw new RangeError(`batch of ${B} sequences: this model was sized for 1..${this.maxBatch}`);
    if (!Number.isInteger(T) || T < 1 || T > this.cfg.contextLength)
      throw new RangeError(`sequence length ${T}: the context is 1..${this.cfg.contextLength}`);
    const N = B * T;
    if (batch.inputs.length !== N)
      throw new RangeError(`batch inputs have ${batch.inputs.length} ids, expected B*T = ${N}`);
    const a = this.layout;
    const ids = this.heap.i32(a.inputs, N);
    for (let i = 0; i < N; i++) {
      const id = batch.inputs[i];
      if (!(id >= 0 && id < V && Number.isInteger(id)))
        throw new RangeError(`token id ${id} at position ${i} is outside the vocabulary 0..${V - 1}`);
      ids[i] = id;
    }
    const o = this.ops;

    o.embeddingForward(a.embedding, a.inputs, this.w('wte.weight'), this.w('wpe.weight'), N, T, C);
    let x = a.embedding;
    for (let l = 0; l < this.cfg.layers; l++) {
      this.blockForward(l, x, B, T);
      x = a.blocks[l].res3;
    }
    o.layernormForward(a.lnf, a.lnfMean, a.lnfRstd, x, this.w('ln_f.weight'), this.w('ln_f.bias'), N, C, eps);
    o.matmulTransposed(a.logits, a.lnf, this.w('wte.weight'), N, C, V); // the tied lm head: logits = ln_f @ wte^T

    this.last = { B, T, withLoss: false };
    if (!batch.targets) return undefined;
    return this.lossForward(batch, N);
  }

  private blockForward(l: number, x: number, B: number, T: number): void {
    const a = this.layout.blocks[l];
    const { width: C, heads: H, layerNormEps: eps } = this.cfg;
    const F = this.cfg.mlpRatio * C;
    const N = B * T;
    const w = (n: string) => this.w(`h.${l}.${n}`);
    const o = this.ops;
    // attention half: res2 = x + c_proj(attention(c_attn(ln_1(x))))
    o.layernormForward(a.ln1, a.ln1Mean, a.ln1Rstd, x, w('ln_1.weight'), w('ln_1.bias'), N, C, eps);
    o.matmul(a.qkv, a.ln1, w('attn.c_attn.weight'), w('attn.c_attn.bias'), N, C, 3 * C);
    o.attentionForward(a.atty, a.att, a.qkv, B, T, C, H);
    o.matmul(a.res2, a.atty, w('attn.c_proj.weight'), w('attn.c_proj.bias'), N, C, C);
    o.add(a.res2, a.res2, x, N * C);
    // MLP half: res3 = res2 + c_proj(gelu(c_fc(ln_2(res2))))
    o.layernormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.res2, w('ln_2.weight'), w('ln_2.bias'), N, C, eps);
    o.matmul(a.fc, a.ln2, w('mlp.c_fc.weight'), w('mlp.c_fc.bias'), N, C, F);
    o.geluForward(a.fcGelu, a.fc, N * F);
    o.matmul(a.res3, a.fcGelu, w('mlp.c_proj.weight'), w('mlp.c_proj.bias'), N, F, C);
    o.add(a.res3, a.res3, a.res2, N * C);
  }

  private lossForward(batch: Batch, N: number): number {
    if (!batch.weights) throw new Error('a batch with targets needs per-position loss weights');
    if (batch.targets!.length !== N || batch.weights.length !== N)
      throw new RangeError(`targets and weights need B*T = ${N} values`);
    const V = this.cfg.vocabSize;
    const a = this.layout;
    const targets = this.heap.i32(a.targets, N);
    const weights = this.heap.f32(a.lossWeights, N);
    for (let i = 0; i < N; i++) {
      const y = batch.targets![i];
      if (!(y >= 0 && y < V && Number.isInteger(y)))
        throw new RangeError(`target id ${y} at position ${i} is outside the vocabulary 0..${V - 1}`);
      targets[i] = y;
      weights[i] = batch.weights[i];
    }
    // the loss's forward and backward in one pass: logits become d loss / d logits
    this.ops.crossEntropy(a.logits, a.targets, a.lossWeights, a.losses, N, V);
    const losses = this.heap.f32(a.losses, N);
    let loss = 0;
    for (let i = 0; i < N; i++) if (weights[i] !== 0) loss += weights[i] * losses[i];
    this.last!.withLoss = true;
    return loss;
  }

  // -------------------------------------------------------------------------------------------
  // Backward: the same layers in reverse; gradients accumulate (+=) into the gradient region.

  backward(): void {
    const d = this.requireTraining();
    if (!this.last?.withLoss) throw new Error('backward() needs a forward() with targets first');
    const { B, T } = this.last;
    const { width: C, vocabSize: V, layers: L } = this.cfg;
    const N = B * T;
    const o = this.ops;
    const a = this.layout;
    const dlogits = a.logits; // the logits buffer holds d loss / d logits (crossEntropy)

    // the tied lm head: d ln_f = dlogits @ wte;  dwte += dlogits^T @ ln_f
    o.matmul(d.dln, dlogits, this.w('wte.weight'), 0, N, V, C);
    o.matmulAtB(this.g('wte.weight'), dlogits, a.lnf, N, V, C);
    const xL = L > 0 ? a.blocks[L - 1].res3 : a.embedding;
    this.heap.f32(d.dres, N * C).fill(0); // dres: the gradient of the residual stream, built up layer by layer
    o.layernormBackward(
      d.dres,
      this.g('ln_f.weight'),
      this.g('ln_f.bias'),
      d.dln,
      xL,
      this.w('ln_f.weight'),
      a.lnfMean,
      a.lnfRstd,
      N,
      C,
    );
    for (let l = L - 1; l >= 0; l--) this.blockBackward(l, l === 0 ? a.embedding : a.blocks[l - 1].res3, B, T, d);
    o.embeddingBackward(this.g('wte.weight'), this.g('wpe.weight'), d.dres, a.inputs, N, T, C);
    this.last.withLoss = false; // the logits buffer no longer holds logits
  }

  private blockBackward(l: number, x: number, B: number, T: number, d: BackwardBuffers): void {
    const a = this.layout.blocks[l];
    const { width: C, heads: H } = this.cfg;
    const F = this.cfg.mlpRatio * C;
    const N = B * T;
    const w = (n: string) => this.w(`h.${l}.${n}`);
    const g = (n: string) => this.g(`h.${l}.${n}`);
    const o = this.ops;
    // MLP half. dres holds d res3, which the residual passes on to d res2 unchanged.
    o.linearBackward(
      d.dfc,
      g('mlp.c_proj.weight'),
      g('mlp.c_proj.bias'),
      d.dres,
      a.fcGelu,
      w('mlp.c_proj.weight'),
      N,
      F,
      C,
    );
    o.geluBackward(d.dfc, a.fc, N * F);
    o.linearBackward(d.dln, g('mlp.c_fc.weight'), g('mlp.c_fc.bias'), d.dfc, a.ln2, w('mlp.c_fc.weight'), N, C, F);
    o.layernormBackward(
      d.dres,
      g('ln_2.weight'),
      g('ln_2.bias'),
      d.dln,
      a.res2,
      w('ln_2.weight'),
      a.ln2Mean,
      a.ln2Rstd,
      N,
      C,
    );
    // attention half. dres now holds d res2, which flows on to d x the same way.
    o.linearBackward(
      d.datty,
      g('attn.c_proj.weight'),
      g('attn.c_proj.bias'),
      d.dres,
      a.atty,
      w('attn.c_proj.weight'),
      N,
      C,
      C,
    );
    o.attentionBackward(d.dqkv, d.datty, a.qkv, a.att, B, T, C, H);
    o.linearBackward(
      d.dln,
      g('attn.c_attn.weight'),
      g('attn.c_attn.bias'),
      d.dqkv,
      a.ln1,
      w('attn.c_attn.weight'),
      N,
      C,
      3 * C,
    );
    o.layernormBackward(
      d.dres,
      g('ln_1.weight'),
      g('ln_1.bias'),
      d.dln,
      x,
      w('ln_1.weight'),
      a.ln1Mean,
      a.ln1Rstd,
      N,
      C,
    );
  }

  /** Logits of the last forward without targets, [B*T, V] (a live view). */
  logitsView(): Float32Array {
    if (!this.last || this.last.withLoss) throw new Error('no logits: run forward() without targets first');
    return this.heap.f32(this.layout.logits, this.last.B * this.last.T * this.cfg.vocabSize);
  }

  async close(): Promise<void> {
    await this.ops.runner.close();
  }
}
