// The kit's GPT (lib/engine/gpt.ts) as a trainable model, in the style of llm.c's train_gpt2.c:
// explicit activations, each layer's forward next to its backward, no autograd.
//
//   x0 = wte[ids] + wpe[positions]
//   for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))     (pre-LayerNorm)
//   logits = ln_f(x) @ wte^T                                           (tied output embedding)
//   loss = sum_i weight_i * cross_entropy(logits_i, target_i)          (weights: mask / count)
//
// Parameters live in one flat region of the shared heap in gptTensorSpecs order and layout (Hugging
// Face GPT-2 names, Conv1D weights [in, out]), so import and export are plain copies. Gradients,
// and the AdamW moments when training, mirror that region. The hot loops are the wasm kernels
// behind `Ops`; this file only says what to compute.

import { gptTensorSpecs, checkGPTWeights, validateGPTConfig, type GPTConfig, type GPTWeights } from '../engine/gpt.js';
import { createRng, deriveSeed } from '../repro/rng.js';
import { Heap, HeapPlan } from './heap.js';
import { Ops, attentionScratchBytes, AT_B_CHUNK, TILE_BLOCK_ROWS } from './ops.js';
import { createKernelRunner, defaultThreads } from './pool.js';
import { kernelModule } from './wasm.js';

/** Elements per block of the gradient-norm sum (fixed, so the sum's order never depends on threads). */
export const GRAD_NORM_BLOCK = 8192;

export type Tensor = { name: string; shape: number[]; size: number; /** byte address of the values */ ptr: number; /** of the gradient (0 when not training) */ grad: number };

type LayerActs = {
  ln1: number; ln1Mean: number; ln1Rstd: number; qkv: number; att: number; atty: number; res2: number;
  ln2: number; ln2Mean: number; ln2Rstd: number; fc: number; fcGelu: number; res3: number;
};

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

// ---------------------------------------------------------------------------------------------
// Layers: each one's forward pass with its backward pass next to it. Arguments are byte addresses
// in the heap and sizes; the kernels behind `Ops` do the work. Backward passes add (+=) into the
// parameter gradients (so micro-batches accumulate); input gradients are overwritten, except
// where the input also feeds the residual stream (LayerNorm's dx), which adds.

/** Linear (GPT-2's Conv1D): y[M, N] = x[M, K] @ W[K, N] + b. */
function linearForward(o: Ops, y: number, x: number, W: number, b: number, M: number, K: number, N: number): void {
  o.matmul(y, x, W, b, M, K, N);
}
/** dx = dy @ W^T;  dW += x^T @ dy;  db += column sums of dy. */
function linearBackward(o: Ops, dx: number, dW: number, db: number, dy: number, x: number, W: number, M: number, K: number, N: number): void {
  o.matmulTransposed(dx, dy, W, M, N, K);
  o.matmulAtB(dW, x, dy, M, K, N);
  o.biasBackward(db, dy, M, N);
}

/** LayerNorm of each row of x[M, C]: (x - mean) / std * w + b; keeps mean and 1/std for backward. */
function layernormForward(o: Ops, y: number, mean: number, rstd: number, x: number, w: number, b: number, M: number, C: number, eps: number): void {
  o.layernormForward(y, mean, rstd, x, w, b, M, C, eps);
}
/** dx += (w*dy - mean(w*dy) - norm * mean(w*dy*norm)) / std;  dw += sum norm*dy;  db += sum dy. */
function layernormBackward(o: Ops, dx: number, dw: number, db: number, dy: number, x: number, w: number, mean: number, rstd: number, M: number, C: number): void {
  o.layernormBackward(dx, dw, db, dy, x, w, mean, rstd, M, C);
}

/** Causal multi-head self-attention: y = softmax(Q K^T / sqrt(hs) + causal mask) V per head; keeps the probabilities. */
function attentionForward(o: Ops, y: number, att: number, qkv: number, B: number, T: number, C: number, H: number): void {
  o.attentionForward(y, att, qkv, B, T, C, H);
}
/** dQ, dK, dV (into dqkv) from dy, through the kept probabilities. */
function attentionBackward(o: Ops, dqkv: number, dy: number, qkv: number, att: number, B: number, T: number, C: number, H: number): void {
  o.attentionBackward(dqkv, dy, qkv, att, B, T, C, H);
}

/** GELU, tanh approximation (GPT-2's "gelu_new"). */
function geluForward(o: Ops, y: number, x: number, n: number): void {
  o.geluForward(y, x, n);
}
/** d *= gelu'(x), in place: d holds dy in and dx out. */
function geluBackward(o: Ops, d: number, x: number, n: number): void {
  o.geluBackward(d, x, n);
}

/** Residual connection y = a + b. Its backward is free: dy flows to both a and b unchanged. */
function residualForward(o: Ops, y: number, a: number, b: number, n: number): void {
  o.add(y, a, b, n);
}

/** x0[b, t] = wte[id[b, t]] + wpe[t]. */
function embeddingForward(o: Ops, x0: number, ids: number, wte: number, wpe: number, N: number, T: number, C: number): void {
  o.embeddingForward(x0, ids, wte, wpe, N, T, C);
}
/** dwte[id] += dx0;  dwpe[t] += dx0. */
function embeddingBackward(o: Ops, dwte: number, dwpe: number, dx0: number, ids: number, N: number, T: number, C: number): void {
  o.embeddingBackward(dwte, dwpe, dx0, ids, N, T, C);
}

/** Output head tied to the token embedding: logits[N, V] = x @ wte^T. */
function lmHeadForward(o: Ops, logits: number, x: number, wte: number, N: number, C: number, V: number): void {
  o.matmulTransposed(logits, x, wte, N, C, V);
}
/** dx = dlogits @ wte;  dwte += dlogits^T @ x. */
function lmHeadBackward(o: Ops, dx: number, dwte: number, dlogits: number, x: number, wte: number, N: number, C: number, V: number): void {
  o.matmul(dx, dlogits, wte, 0, N, V, C);
  o.matmulAtB(dwte, dlogits, x, N, V, C);
}

/**
 * Cross-entropy of each row's softmax against its target, weighted; the loss's forward and
 * backward are one pass: logits are replaced by d loss / d logits = weight * (softmax - onehot).
 */
function crossEntropyForwardBackward(o: Ops, logits: number, targets: number, weights: number, losses: number, N: number, V: number): void {
  o.crossEntropy(logits, targets, weights, losses, N, V);
}

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
  readonly tensors: Tensor[];
  readonly numParams: number;
  /** Byte addresses of the flat parameter, gradient and AdamW moment regions. */
  readonly params: number;
  readonly grads: number;
  readonly moment1: number;
  readonly moment2: number;
  /** Per-row losses of the last forward with targets. */
  readonly losses: number;
  readonly logits: number;
  /** f64 scratch for the gradient norm's block sums. */
  readonly partials: number;
  private readonly byName = new Map<string, Tensor>();
  private readonly inputs: number;
  private readonly targets: number;
  private readonly weightsIn: number;
  private readonly emb: number;
  private readonly layers: LayerActs[];
  private readonly lnf: number;
  private readonly lnfMean: number;
  private readonly lnfRstd: number;
  private readonly dres: number;
  private readonly dln: number;
  private readonly datty: number;
  private readonly dqkv: number;
  private readonly dfc: number;
  private last: { B: number; T: number; withLoss: boolean } | undefined;

  private constructor(
    readonly cfg: GPTConfig,
    readonly heap: Heap,
    readonly ops: Ops,
    readonly maxBatch: number,
    readonly training: boolean,
    plan: Record<string, number>,
    tensors: Tensor[],
    layers: LayerActs[],
  ) {
    this.tensors = tensors;
    for (const t of tensors) this.byName.set(t.name, t);
    this.numParams = tensors.reduce((n, t) => n + t.size, 0);
    this.params = plan.params;
    this.grads = plan.grads;
    this.moment1 = plan.moment1;
    this.moment2 = plan.moment2;
    this.losses = plan.losses;
    this.logits = plan.logits;
    this.partials = plan.partials;
    this.inputs = plan.inputs;
    this.targets = plan.targets;
    this.weightsIn = plan.weightsIn;
    this.emb = plan.emb;
    this.lnf = plan.lnf;
    this.lnfMean = plan.lnfMean;
    this.lnfRstd = plan.lnfRstd;
    this.dres = plan.dres;
    this.dln = plan.dln;
    this.datty = plan.datty;
    this.dqkv = plan.dqkv;
    this.dfc = plan.dfc;
    this.layers = layers;
  }

  /** Lays out the heap for `cfg`, starts the kernel threads and loads `weights` (or a seeded init). */
  static async create(cfg: GPTConfig, weights: GPTWeights, options: ModelOptions): Promise<GPTModel> {
    validateGPTConfig(cfg);
    checkGPTWeights(cfg, weights);
    const threads = options.threads ?? defaultThreads();
    const training = options.training ?? false;
    const B = options.maxBatch;
    if (!Number.isInteger(B) || B < 1) throw new RangeError(`maxBatch must be a positive integer, got ${B}`);
    const { contextLength: T, width: C, heads: H, vocabSize: V, layers: L } = cfg;
    const F = cfg.mlpRatio * C;
    const N = B * T;
    const h = new HeapPlan();
    const specs = gptTensorSpecs(cfg);
    const P = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    const p: Record<string, number> = {};
    p.params = h.words(P);
    p.grads = training ? h.words(P) : 0;
    p.moment1 = training ? h.words(P) : 0;
    p.moment2 = training ? h.words(P) : 0;
    const tensors: Tensor[] = [];
    let offset = 0;
    for (const s of specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      tensors.push({ name: s.name, shape: s.shape, size, ptr: p.params + 4 * offset, grad: training ? p.grads + 4 * offset : 0 });
      offset += size;
    }
    p.inputs = h.words(N);
    p.targets = h.words(N);
    p.weightsIn = h.words(N);
    p.losses = h.words(N);
    p.emb = h.words(N * C);
    const layers: LayerActs[] = [];
    for (let l = 0; l < L; l++) {
      layers.push({
        ln1: h.words(N * C), ln1Mean: h.words(N), ln1Rstd: h.words(N), qkv: h.words(N * 3 * C), att: h.words(B * H * T * T),
        atty: h.words(N * C), res2: h.words(N * C), ln2: h.words(N * C), ln2Mean: h.words(N), ln2Rstd: h.words(N),
        fc: h.words(N * F), fcGelu: h.words(N * F), res3: h.words(N * C),
      });
    }
    p.lnf = h.words(N * C);
    p.lnfMean = h.words(N);
    p.lnfRstd = h.words(N);
    p.logits = h.words(N * V);
    if (training) {
      p.dres = h.words(N * C);
      p.dln = h.words(N * C);
      p.datty = h.words(N * C);
      p.dqkv = h.words(N * 3 * C);
      p.dfc = h.words(N * F);
    }
    const attentionStride = attentionScratchBytes(T, C / H);
    // packed B: every weight (as is or transposed) and, for weight gradients, an activation gradient [N, <= max(F, 3C)]
    const panelFloats = Math.max(V * C, 3 * C * C, F * C, training ? N * Math.max(C, F, 3 * C) : 0);
    const tilesStride = 4 * TILE_BLOCK_ROWS * Math.max(C, F, 3 * C, V, AT_B_CHUNK);
    const scratch = {
      panels: h.words(panelFloats),
      tiles: h.bytes(threads * tilesStride),
      tilesStride,
      attention: h.bytes(threads * attentionStride),
      attentionStride,
      partials: h.doubles(Math.ceil(P / GRAD_NORM_BLOCK)),
    };
    p.partials = scratch.partials;
    const heap = new Heap(h);
    const runner = await createKernelRunner(await kernelModule(), heap.memory, threads);
    const model = new GPTModel(cfg, heap, new Ops(runner, scratch), B, training, p, tensors, layers);
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

  private requireTraining(): void {
    if (!this.training) throw new Error('this model was created without training state (training: false)');
  }

  // -------------------------------------------------------------------------------------------
  // Forward

  /**
   * Runs the network on a batch. Without targets it leaves logits [B*T, V] in `this.logits` and
   * returns undefined. With targets and weights it returns the weighted loss sum_i w_i * ce_i and
   * replaces the logits with their gradient, ready for backward().
   */
  forward(batch: Batch): number | undefined {
    const { B, T } = batch;
    const { width: C, vocabSize: V, layerNormEps: eps } = this.cfg;
    if (!Number.isInteger(B) || B < 1 || B > this.maxBatch) throw new RangeError(`batch of ${B} sequences: this model was sized for 1..${this.maxBatch}`);
    if (!Number.isInteger(T) || T < 1 || T > this.cfg.contextLength) throw new RangeError(`sequence length ${T}: the context is 1..${this.cfg.contextLength}`);
    const N = B * T;
    if (batch.inputs.length !== N) throw new RangeError(`batch inputs have ${batch.inputs.length} ids, expected B*T = ${N}`);
    const ids = this.heap.i32(this.inputs, N);
    for (let i = 0; i < N; i++) {
      const id = batch.inputs[i];
      if (!(id >= 0 && id < V && Number.isInteger(id))) throw new RangeError(`token id ${id} at position ${i} is outside the vocabulary 0..${V - 1}`);
      ids[i] = id;
    }
    const o = this.ops;

    embeddingForward(o, this.emb, this.inputs, this.w('wte.weight'), this.w('wpe.weight'), N, T, C);
    let x = this.emb;
    for (let l = 0; l < this.cfg.layers; l++) {
      this.blockForward(l, x, B, T);
      x = this.layers[l].res3;
    }
    layernormForward(o, this.lnf, this.lnfMean, this.lnfRstd, x, this.w('ln_f.weight'), this.w('ln_f.bias'), N, C, eps);
    lmHeadForward(o, this.logits, this.lnf, this.w('wte.weight'), N, C, V);

    this.last = { B, T, withLoss: false };
    if (!batch.targets) return undefined;
    return this.lossForward(batch, N);
  }

  private blockForward(l: number, x: number, B: number, T: number): void {
    const a = this.layers[l];
    const { width: C, heads: H, layerNormEps: eps } = this.cfg;
    const F = this.cfg.mlpRatio * C;
    const N = B * T;
    const w = (n: string) => this.w(`h.${l}.${n}`);
    const o = this.ops;
    // attention half: res2 = x + c_proj(attention(c_attn(ln_1(x))))
    layernormForward(o, a.ln1, a.ln1Mean, a.ln1Rstd, x, w('ln_1.weight'), w('ln_1.bias'), N, C, eps);
    linearForward(o, a.qkv, a.ln1, w('attn.c_attn.weight'), w('attn.c_attn.bias'), N, C, 3 * C);
    attentionForward(o, a.atty, a.att, a.qkv, B, T, C, H);
    linearForward(o, a.res2, a.atty, w('attn.c_proj.weight'), w('attn.c_proj.bias'), N, C, C);
    residualForward(o, a.res2, a.res2, x, N * C);
    // MLP half: res3 = res2 + c_proj(gelu(c_fc(ln_2(res2))))
    layernormForward(o, a.ln2, a.ln2Mean, a.ln2Rstd, a.res2, w('ln_2.weight'), w('ln_2.bias'), N, C, eps);
    linearForward(o, a.fc, a.ln2, w('mlp.c_fc.weight'), w('mlp.c_fc.bias'), N, C, F);
    geluForward(o, a.fcGelu, a.fc, N * F);
    linearForward(o, a.res3, a.fcGelu, w('mlp.c_proj.weight'), w('mlp.c_proj.bias'), N, F, C);
    residualForward(o, a.res3, a.res3, a.res2, N * C);
  }

  private lossForward(batch: Batch, N: number): number {
    if (!batch.weights) throw new Error('a batch with targets needs per-position loss weights');
    if (batch.targets!.length !== N || batch.weights.length !== N) throw new RangeError(`targets and weights need B*T = ${N} values`);
    const V = this.cfg.vocabSize;
    const targets = this.heap.i32(this.targets, N);
    const weights = this.heap.f32(this.weightsIn, N);
    for (let i = 0; i < N; i++) {
      const y = batch.targets![i];
      if (!(y >= 0 && y < V && Number.isInteger(y))) throw new RangeError(`target id ${y} at position ${i} is outside the vocabulary 0..${V - 1}`);
      targets[i] = y;
      weights[i] = batch.weights[i];
    }
    crossEntropyForwardBackward(this.ops, this.logits, this.targets, this.weightsIn, this.losses, N, V);
    const losses = this.heap.f32(this.losses, N);
    let loss = 0;
    for (let i = 0; i < N; i++) if (weights[i] !== 0) loss += weights[i] * losses[i];
    this.last!.withLoss = true;
    return loss;
  }

  // -------------------------------------------------------------------------------------------
  // Backward: the same layers in reverse; gradients accumulate (+=) into the gradient region.

  backward(): void {
    this.requireTraining();
    if (!this.last?.withLoss) throw new Error('backward() needs a forward() with targets first');
    const { B, T } = this.last;
    const { width: C, vocabSize: V, layers: L } = this.cfg;
    const N = B * T;
    const o = this.ops;
    const dlogits = this.logits;

    // the logits buffer holds d loss / d logits (crossEntropyForwardBackward)
    lmHeadBackward(o, this.dln, this.g('wte.weight'), dlogits, this.lnf, this.w('wte.weight'), N, C, V);
    const xL = L > 0 ? this.layers[L - 1].res3 : this.emb;
    this.heap.f32(this.dres, N * C).fill(0); // dres: the gradient of the residual stream, built up layer by layer
    layernormBackward(o, this.dres, this.g('ln_f.weight'), this.g('ln_f.bias'), this.dln, xL, this.w('ln_f.weight'), this.lnfMean, this.lnfRstd, N, C);
    for (let l = L - 1; l >= 0; l--) this.blockBackward(l, l === 0 ? this.emb : this.layers[l - 1].res3, B, T);
    embeddingBackward(o, this.g('wte.weight'), this.g('wpe.weight'), this.dres, this.inputs, N, T, C);
    this.last.withLoss = false; // the logits buffer no longer holds logits
  }

  private blockBackward(l: number, x: number, B: number, T: number): void {
    const a = this.layers[l];
    const { width: C, heads: H } = this.cfg;
    const F = this.cfg.mlpRatio * C;
    const N = B * T;
    const w = (n: string) => this.w(`h.${l}.${n}`);
    const g = (n: string) => this.g(`h.${l}.${n}`);
    const o = this.ops;
    // MLP half. dres holds d res3, which the residual passes on to d res2 unchanged.
    linearBackward(o, this.dfc, g('mlp.c_proj.weight'), g('mlp.c_proj.bias'), this.dres, a.fcGelu, w('mlp.c_proj.weight'), N, F, C);
    geluBackward(o, this.dfc, a.fc, N * F);
    linearBackward(o, this.dln, g('mlp.c_fc.weight'), g('mlp.c_fc.bias'), this.dfc, a.ln2, w('mlp.c_fc.weight'), N, C, F);
    layernormBackward(o, this.dres, g('ln_2.weight'), g('ln_2.bias'), this.dln, a.res2, w('ln_2.weight'), a.ln2Mean, a.ln2Rstd, N, C);
    // attention half. dres now holds d res2, which flows on to d x the same way.
    linearBackward(o, this.datty, g('attn.c_proj.weight'), g('attn.c_proj.bias'), this.dres, a.atty, w('attn.c_proj.weight'), N, C, C);
    attentionBackward(o, this.dqkv, this.datty, a.qkv, a.att, B, T, C, H);
    linearBackward(o, this.dln, g('attn.c_attn.weight'), g('attn.c_attn.bias'), this.dqkv, a.ln1, w('attn.c_attn.weight'), N, C, 3 * C);
    layernormBackward(o, this.dres, g('ln_1.weight'), g('ln_1.bias'), this.dln, x, w('ln_1.weight'), a.ln1Mean, a.ln1Rstd, N, C);
  }

  /** Logits of the last forward without targets, [B*T, V] (a live view). */
  logitsView(): Float32Array {
    if (!this.last || this.last.withLoss) throw new Error('no logits: run forward() without targets first');
    return this.heap.f32(this.logits, this.last.B * this.last.T * this.cfg.vocabSize);
  }

  async close(): Promise<void> {
    await this.ops.runner.close();
  }
}
