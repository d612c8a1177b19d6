// The readable GPT: the model's forward and backward passes in plain scalar TypeScript, one layer
// at a time, each layer's forward written next to its backward. This is the reference for what the
// fast path computes (model.ts driving the AssemblyScript SIMD kernels of asm/kernels.ts through
// ops.ts), in the role llm.c's train_gpt2.c plays beside its fast variants: nothing here is fused,
// packed, tiled or threaded, every index is written out, and the layers are called in the same
// order as the fast model calls its kernels.
//
//   x0 = wte[ids] + wpe[positions]                                      embedding
//   for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))       pre-LayerNorm blocks
//   logits = ln_f(x) @ wte^T                                            tied lm head
//   loss = sum_i weight_i * cross_entropy(softmax(logits_i), target_i)  weights = loss mask / count
//
// It computes in double precision (JavaScript numbers in Float64Arrays), which makes it an oracle
// as well as a description: finite differences of its loss check its gradients, it agrees with an
// independent TensorFlow.js autodiff implementation, and the fast float32 path agrees with it
// within 1e-5 relative (test/train/gradcheck.test.ts). The fast path is not bit-identical to it:
// it rounds to float32 in its own order of summation, and its exp and tanh are polynomial approximations.
// It is far too slow to train with; it exists to be read and to test against.
//
// Shapes: B sequences of T tokens, N = B*T rows (row n = b*T + t), C = width, NH heads of hs =
// C/NH, F = mlpRatio*C hidden units, V = vocabulary. Weights are laid out as Hugging Face GPT-2
// (lib/engine/gpt.ts): Conv1D weights [in, out], wte [V, C], wpe [contextLength, C].
// Every backward function adds (+=) into the gradients it is given, which start at zero.

import { gptTensorSpecs, validateGPTConfig, type GPTConfig } from '../engine/gpt.js';
import type { Batch } from './model.js';

// ---------------------------------------------------------------------------------------------
// Embedding: token plus position.

/** out[b,t,:] = wte[ids[b,t],:] + wpe[t,:] */
function embeddingForward(
  out: Float64Array,
  ids: ArrayLike<number>,
  wte: Float64Array,
  wpe: Float64Array,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const n = b * T + t,
        id = ids[n];
      for (let i = 0; i < C; i++) out[n * C + i] = wte[id * C + i] + wpe[t * C + i];
    }
  }
}

/** dwte[ids[b,t],:] += dout[b,t,:];  dwpe[t,:] += dout[b,t,:] */
function embeddingBackward(
  dwte: Float64Array,
  dwpe: Float64Array,
  dout: Float64Array,
  ids: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const n = b * T + t,
        id = ids[n];
      for (let i = 0; i < C; i++) {
        dwte[id * C + i] += dout[n * C + i];
        dwpe[t * C + i] += dout[n * C + i];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// LayerNorm over each row of C values.

/** out = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps); keeps mean and rstd per row. */
function layernormForward(
  out: Float64Array,
  mean: Float64Array,
  rstd: Float64Array,
  inp: Float64Array,
  weight: Float64Array,
  bias: Float64Array,
  N: number,
  C: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += inp[x + i];
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (inp[x + i] - m) ** 2;
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) out[x + i] = (inp[x + i] - m) * s * weight[i] + bias[i];
    mean[n] = m;
    rstd[n] = s;
  }
}

/**
 * With norm = (x - mean) * rstd and dnorm = weight * dout:
 * dbias += dout;  dweight += norm * dout;  dinp += (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd.
 */
function layernormBackward(
  dinp: Float64Array,
  dweight: Float64Array,
  dbias: Float64Array,
  dout: Float64Array,
  inp: Float64Array,
  weight: Float64Array,
  mean: Float64Array,
  rstd: Float64Array,
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let dnormMean = 0,
      dnormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - mean[n]) * rstd[n];
      const dnorm = weight[i] * dout[x + i];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - mean[n]) * rstd[n];
      const dnorm = weight[i] * dout[x + i];
      dbias[i] += dout[x + i];
      dweight[i] += norm * dout[x + i];
      dinp[x + i] += (dnorm - dnormMean - norm * dnormNormMean) * rstd[n];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Linear layer (GPT-2's Conv1D): weight [IC, OC].

/** out[n, o] = bias[o] + sum_i inp[n, i] * weight[i, o] */
function linearForward(
  out: Float64Array,
  inp: Float64Array,
  weight: Float64Array,
  bias: Float64Array,
  N: number,
  IC: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      let s = bias[o];
      for (let i = 0; i < IC; i++) s += inp[n * IC + i] * weight[i * OC + o];
      out[n * OC + o] = s;
    }
  }
}

/** dinp += dout @ weight^T;  dweight += inp^T @ dout;  dbias += column sums of dout. */
function linearBackward(
  dinp: Float64Array,
  dweight: Float64Array,
  dbias: Float64Array,
  dout: Float64Array,
  inp: Float64Array,
  weight: Float64Array,
  N: number,
  IC: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      const d = dout[n * OC + o];
      dbias[o] += d;
      for (let i = 0; i < IC; i++) {
        dinp[n * IC + i] += d * weight[i * OC + o];
        dweight[i * OC + o] += d * inp[n * IC + i];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Causal multi-head self-attention. qkv [N, 3C] holds each row's query, key and value side by
// side; head h uses columns h*hs .. h*hs+hs-1 of each. Position t attends to positions 0..t.

/**
 * out[b,t,head h] = sum_{t2 <= t} att[b,h,t,t2] * v[b,t2,h], where att[b,h,t,:] is the softmax over t2 <= t of
 * q[b,t,h] . k[b,t2,h] / sqrt(hs) (0 for t2 > t); keeps att for backward.
 */
function attentionForward(
  out: Float64Array,
  att: Float64Array,
  qkv: Float64Array,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH,
    scale = 1 / Math.sqrt(hs);
  const score = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * C + h * hs;
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * 3 * C + C + h * hs;
          let dot = 0;
          for (let i = 0; i < hs; i++) dot += qkv[q + i] * qkv[k + i];
          score[t2] = dot * scale;
          max = Math.max(max, score[t2]);
        }
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) sum += Math.exp(score[t2] - max);
        const a = ((b * NH + h) * T + t) * T;
        for (let t2 = 0; t2 < T; t2++) att[a + t2] = t2 <= t ? Math.exp(score[t2] - max) / sum : 0;
        const y = (b * T + t) * C + h * hs;
        for (let i = 0; i < hs; i++) {
          let s = 0;
          for (let t2 = 0; t2 <= t; t2++) s += att[a + t2] * qkv[(b * T + t2) * 3 * C + 2 * C + h * hs + i];
          out[y + i] = s;
        }
      }
    }
  }
}

/**
 * Through out = att @ v: datt = dout . v, dv += att * dout; through the softmax:
 * dscore = att * (datt - sum_t2 att * datt); through score = q . k * scale: dq += dscore * k * scale,
 * dk += dscore * q * scale.
 */
function attentionBackward(
  dqkv: Float64Array,
  dout: Float64Array,
  qkv: Float64Array,
  att: Float64Array,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH,
    scale = 1 / Math.sqrt(hs);
  const datt = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const a = ((b * NH + h) * T + t) * T;
        const y = (b * T + t) * C + h * hs;
        const q = (b * T + t) * 3 * C + h * hs;
        for (let t2 = 0; t2 <= t; t2++) {
          const v = (b * T + t2) * 3 * C + 2 * C + h * hs;
          datt[t2] = 0;
          for (let i = 0; i < hs; i++) {
            datt[t2] += dout[y + i] * qkv[v + i];
            dqkv[v + i] += att[a + t2] * dout[y + i];
          }
        }
        let attDotDatt = 0;
        for (let t2 = 0; t2 <= t; t2++) attDotDatt += att[a + t2] * datt[t2];
        for (let t2 = 0; t2 <= t; t2++) {
          const dscore = att[a + t2] * (datt[t2] - attDotDatt);
          const k = (b * T + t2) * 3 * C + C + h * hs;
          for (let i = 0; i < hs; i++) {
            dqkv[q + i] += dscore * qkv[k + i] * scale;
            dqkv[k + i] += dscore * qkv[q + i] * scale;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GELU, tanh approximation (GPT-2's "gelu_new").

const GELU_SCALE = Math.sqrt(2 / Math.PI);

/** out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
function geluForward(out: Float64Array, inp: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + 0.044715 * x ** 3)));
  }
}

/** dinp += gelu'(x) * dout, gelu'(x) = 0.5 (1 + tanh u) + 0.5 x sech^2(u) sqrt(2/pi) (1 + 3 * 0.044715 x^2). */
function geluBackward(dinp: Float64Array, inp: Float64Array, dout: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const th = Math.tanh(GELU_SCALE * (x + 0.044715 * x ** 3));
    const sech2 = 1 - th * th;
    dinp[i] += (0.5 * (1 + th) + 0.5 * x * sech2 * GELU_SCALE * (1 + 3 * 0.044715 * x * x)) * dout[i];
  }
}

// ---------------------------------------------------------------------------------------------
// Residual connection.

/** out = a + b */
function residualForward(out: Float64Array, a: Float64Array, b: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/** da += dout;  db += dout */
function residualBackward(da: Float64Array, db: Float64Array, dout: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

// ---------------------------------------------------------------------------------------------
// The lm head, tied to the token embedding: wte [V, C] used transposed.

/** logits[n, v] = sum_i inp[n, i] * wte[v, i] */
function lmHeadForward(
  logits: Float64Array,
  inp: Float64Array,
  wte: Float64Array,
  N: number,
  C: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let i = 0; i < C; i++) s += inp[n * C + i] * wte[v * C + i];
      logits[n * V + v] = s;
    }
  }
}

/** dinp += dlogits @ wte;  dwte += dlogits^T @ inp */
function lmHeadBackward(
  dinp: Float64Array,
  dwte: Float64Array,
  dlogits: Float64Array,
  inp: Float64Array,
  wte: Float64Array,
  N: number,
  C: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) {
      const d = dlogits[n * V + v];
      for (let i = 0; i < C; i++) {
        dinp[n * C + i] += d * wte[v * C + i];
        dwte[v * C + i] += d * inp[n * C + i];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Softmax and cross-entropy.

/** probs[n,:] = softmax(logits[n,:]) (the row's maximum subtracted first, for range). */
function softmaxForward(probs: Float64Array, logits: Float64Array, N: number, V: number): void {
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[n * V + v] - max);
    for (let v = 0; v < V; v++) probs[n * V + v] = Math.exp(logits[n * V + v] - max) / sum;
  }
}

/** losses[n] = -log probs[n, targets[n]] */
function crossEntropyForward(
  losses: Float64Array,
  probs: Float64Array,
  targets: ArrayLike<number>,
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) losses[n] = -Math.log(probs[n * V + targets[n]]);
}

/** Of loss = sum_n weights[n] * losses[n]: dlogits[n,:] += weights[n] * (probs[n,:] - onehot(targets[n])). */
function crossEntropySoftmaxBackward(
  dlogits: Float64Array,
  probs: Float64Array,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) dlogits[n * V + v] += weights[n] * (probs[n * V + v] - (v === targets[n] ? 1 : 0));
  }
}

// ---------------------------------------------------------------------------------------------
// The model: parameters and activations as named arrays, forward and backward over the layers.

/** A block's parameters (llm.c's short names; the Hugging Face names are in namedParams). */
type BlockParams = {
  ln1w: Float64Array;
  ln1b: Float64Array; // [C]
  qkvw: Float64Array;
  qkvb: Float64Array; // [C, 3C], [3C]
  attprojw: Float64Array;
  attprojb: Float64Array; // [C, C], [C]
  ln2w: Float64Array;
  ln2b: Float64Array; // [C]
  fcw: Float64Array;
  fcb: Float64Array; // [C, F], [F]
  fcprojw: Float64Array;
  fcprojb: Float64Array; // [F, C], [C]
};
type Params = {
  wte: Float64Array; // [V, C]
  wpe: Float64Array; // [contextLength, C]
  blocks: BlockParams[];
  lnfw: Float64Array;
  lnfb: Float64Array; // [C]
};

/** Parameters (or gradients) by Hugging Face GPT-2 name. */
export type ReferenceTensors = Record<string, Float64Array>;

/** Copies `weights` (by Hugging Face name, float32 or float64) into double-precision parameters. */
function paramsFrom(cfg: GPTConfig, weights: Record<string, ArrayLike<number>>): Params {
  const tensors: ReferenceTensors = {};
  for (const s of gptTensorSpecs(cfg)) {
    const w = weights[s.name];
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (!w || w.length !== size) {
      throw new Error(`reference GPT: ${s.name} needs ${size} values, got ${w ? w.length : 'none'}`);
    }
    tensors[s.name] = Float64Array.from(w);
  }
  return namedParams(cfg, tensors);
}

/** The same arrays under the short names (no copies). */
function namedParams(cfg: GPTConfig, t: ReferenceTensors): Params {
  const blocks: BlockParams[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const h = (name: string) => t[`h.${l}.${name}`];
    blocks.push({
      ln1w: h('ln_1.weight'),
      ln1b: h('ln_1.bias'),
      qkvw: h('attn.c_attn.weight'),
      qkvb: h('attn.c_attn.bias'),
      attprojw: h('attn.c_proj.weight'),
      attprojb: h('attn.c_proj.bias'),
      ln2w: h('ln_2.weight'),
      ln2b: h('ln_2.bias'),
      fcw: h('mlp.c_fc.weight'),
      fcb: h('mlp.c_fc.bias'),
      fcprojw: h('mlp.c_proj.weight'),
      fcprojb: h('mlp.c_proj.bias'),
    });
  }
  return { wte: t['wte.weight'], wpe: t['wpe.weight'], blocks, lnfw: t['ln_f.weight'], lnfb: t['ln_f.bias'] };
}

/** Zeroed gradients for every parameter, by Hugging Face name. */
function zeroTensors(cfg: GPTConfig): ReferenceTensors {
  const out: ReferenceTensors = {};
  for (const s of gptTensorSpecs(cfg)) out[s.name] = new Float64Array(s.shape.reduce((a, b) => a * b, 1));
  return out;
}

type BlockActivations = {
  ln1: Float64Array;
  ln1Mean: Float64Array;
  ln1Rstd: Float64Array; // [N, C], [N], [N]
  qkv: Float64Array; // [N, 3C]
  att: Float64Array; // [B, NH, T, T]
  atty: Float64Array; // [N, C] attention output
  attproj: Float64Array; // [N, C] after c_proj
  res2: Float64Array; // [N, C] x + attproj
  ln2: Float64Array;
  ln2Mean: Float64Array;
  ln2Rstd: Float64Array;
  fch: Float64Array;
  fchGelu: Float64Array; // [N, F]
  fcproj: Float64Array; // [N, C]
  res3: Float64Array; // [N, C] res2 + fcproj: the block's output
};
type Activations = {
  embedding: Float64Array; // [N, C]
  blocks: BlockActivations[];
  lnf: Float64Array;
  lnfMean: Float64Array;
  lnfRstd: Float64Array;
  logits: Float64Array; // [N, V]
};

function checkBatch(cfg: GPTConfig, batch: Batch): void {
  const { B, T } = batch;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1 || T > cfg.contextLength) {
    throw new RangeError(`reference GPT: a batch of ${B} x ${T} does not fit the context of ${cfg.contextLength}`);
  }
  for (const [name, ids] of [
    ['inputs', batch.inputs],
    ['targets', batch.targets ?? []],
  ] as const) {
    for (let i = 0; i < ids.length; i++) {
      if (!(Number.isInteger(ids[i]) && ids[i] >= 0 && ids[i] < cfg.vocabSize)) {
        throw new RangeError(`reference GPT: ${name}[${i}] = ${ids[i]} is outside the vocabulary`);
      }
    }
  }
  if (batch.inputs.length !== B * T) {
    throw new RangeError(`reference GPT: ${batch.inputs.length} inputs for a batch of ${B} x ${T}`);
  }
}

function forward(cfg: GPTConfig, p: Params, batch: Batch): Activations {
  const { B, T } = batch;
  const { width: C, heads: NH, vocabSize: V, layerNormEps: eps } = cfg;
  const F = cfg.mlpRatio * C,
    N = B * T;
  const embedding = new Float64Array(N * C);
  embeddingForward(embedding, batch.inputs, p.wte, p.wpe, B, T, C);
  const blocks: BlockActivations[] = [];
  let x = embedding;
  for (const w of p.blocks) {
    const a: BlockActivations = {
      ln1: new Float64Array(N * C),
      ln1Mean: new Float64Array(N),
      ln1Rstd: new Float64Array(N),
      qkv: new Float64Array(N * 3 * C),
      att: new Float64Array(B * NH * T * T),
      atty: new Float64Array(N * C),
      attproj: new Float64Array(N * C),
      res2: new Float64Array(N * C),
      ln2: new Float64Array(N * C),
      ln2Mean: new Float64Array(N),
      ln2Rstd: new Float64Array(N),
      fch: new Float64Array(N * F),
      fchGelu: new Float64Array(N * F),
      fcproj: new Float64Array(N * C),
      res3: new Float64Array(N * C),
    };
    layernormForward(a.ln1, a.ln1Mean, a.ln1Rstd, x, w.ln1w, w.ln1b, N, C, eps);
    linearForward(a.qkv, a.ln1, w.qkvw, w.qkvb, N, C, 3 * C);
    attentionForward(a.atty, a.att, a.qkv, B, T, C, NH);
    linearForward(a.attproj, a.atty, w.attprojw, w.attprojb, N, C, C);
    residualForward(a.res2, x, a.attproj, N * C);
    layernormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.res2, w.ln2w, w.ln2b, N, C, eps);
    linearForward(a.fch, a.ln2, w.fcw, w.fcb, N, C, F);
    geluForward(a.fchGelu, a.fch, N * F);
    linearForward(a.fcproj, a.fchGelu, w.fcprojw, w.fcprojb, N, F, C);
    residualForward(a.res3, a.res2, a.fcproj, N * C);
    blocks.push(a);
    x = a.res3;
  }
  const lnf = new Float64Array(N * C),
    lnfMean = new Float64Array(N),
    lnfRstd = new Float64Array(N);
  layernormForward(lnf, lnfMean, lnfRstd, x, p.lnfw, p.lnfb, N, C, eps);
  const logits = new Float64Array(N * V);
  lmHeadForward(logits, lnf, p.wte, N, C, V);
  return { embedding, blocks, lnf, lnfMean, lnfRstd, logits };
}

/** Backward from d loss / d logits, adding into the gradients `g`. */
function backward(cfg: GPTConfig, p: Params, g: Params, acts: Activations, dlogits: Float64Array, batch: Batch): void {
  const { B, T } = batch;
  const { width: C, heads: NH, vocabSize: V, layers: L } = cfg;
  const F = cfg.mlpRatio * C,
    N = B * T;
  const dlnf = new Float64Array(N * C);
  lmHeadBackward(dlnf, g.wte, dlogits, acts.lnf, p.wte, N, C, V);
  let dx = new Float64Array(N * C); // d loss / d the residual stream entering ln_f, then each block's input in turn
  const xL = L > 0 ? acts.blocks[L - 1].res3 : acts.embedding;
  layernormBackward(dx, g.lnfw, g.lnfb, dlnf, xL, p.lnfw, acts.lnfMean, acts.lnfRstd, N, C);
  for (let l = L - 1; l >= 0; l--) {
    const w = p.blocks[l],
      gw = g.blocks[l],
      a = acts.blocks[l];
    const x = l === 0 ? acts.embedding : acts.blocks[l - 1].res3;
    // dx holds d res3. MLP half: res3 = res2 + fcproj
    const dres2 = new Float64Array(N * C),
      dfcproj = new Float64Array(N * C);
    residualBackward(dres2, dfcproj, dx, N * C);
    const dfchGelu = new Float64Array(N * F),
      dfch = new Float64Array(N * F),
      dln2 = new Float64Array(N * C);
    linearBackward(dfchGelu, gw.fcprojw, gw.fcprojb, dfcproj, a.fchGelu, w.fcprojw, N, F, C);
    geluBackward(dfch, a.fch, dfchGelu, N * F);
    linearBackward(dln2, gw.fcw, gw.fcb, dfch, a.ln2, w.fcw, N, C, F);
    layernormBackward(dres2, gw.ln2w, gw.ln2b, dln2, a.res2, w.ln2w, a.ln2Mean, a.ln2Rstd, N, C);
    // attention half: res2 = x + attproj
    const dxIn = new Float64Array(N * C),
      dattproj = new Float64Array(N * C);
    residualBackward(dxIn, dattproj, dres2, N * C);
    const datty = new Float64Array(N * C),
      dqkv = new Float64Array(N * 3 * C),
      dln1 = new Float64Array(N * C);
    linearBackward(datty, gw.attprojw, gw.attprojb, dattproj, a.atty, w.attprojw, N, C, C);
    attentionBackward(dqkv, datty, a.qkv, a.att, B, T, C, NH);
    linearBackward(dln1, gw.qkvw, gw.qkvb, dqkv, a.ln1, w.qkvw, N, C, 3 * C);
    layernormBackward(dxIn, gw.ln1w, gw.ln1b, dln1, x, w.ln1w, a.ln1Mean, a.ln1Rstd, N, C);
    dx = dxIn;
  }
  embeddingBackward(g.wte, g.wpe, dx, batch.inputs, B, T, C);
}

/** Logits [B*T, V] of a batch (targets and weights are ignored). */
export function referenceLogits(
  cfg: GPTConfig,
  weights: Record<string, ArrayLike<number>>,
  batch: Batch,
): Float64Array {
  validateGPTConfig(cfg);
  checkBatch(cfg, batch);
  return forward(cfg, paramsFrom(cfg, weights), batch).logits;
}

/**
 * The loss sum_n weights[n] * (-log softmax(logits[n])[targets[n]]) of a batch with targets and
 * weights, its per-position cross-entropies, and the gradient of the loss for every parameter by
 * Hugging Face name.
 */
export function referenceLossAndGradients(
  cfg: GPTConfig,
  weights: Record<string, ArrayLike<number>>,
  batch: Batch,
): { loss: number; losses: Float64Array; grads: ReferenceTensors } {
  validateGPTConfig(cfg);
  checkBatch(cfg, batch);
  const { targets, weights: lossWeights } = batch;
  const N = batch.B * batch.T,
    V = cfg.vocabSize;
  if (!targets || !lossWeights || targets.length !== N || lossWeights.length !== N) {
    throw new RangeError(`reference GPT: the loss needs ${N} targets and ${N} weights`);
  }
  const p = paramsFrom(cfg, weights);
  const acts = forward(cfg, p, batch);
  const probs = new Float64Array(N * V),
    losses = new Float64Array(N);
  softmaxForward(probs, acts.logits, N, V);
  crossEntropyForward(losses, probs, targets, N, V);
  let loss = 0;
  for (let n = 0; n < N; n++) loss += lossWeights[n] * losses[n];
  const grads = zeroTensors(cfg);
  const dlogits = new Float64Array(N * V);
  crossEntropySoftmaxBackward(dlogits, probs, targets, lossWeights, N, V);
  backward(cfg, p, namedParams(cfg, grads), acts, dlogits, batch);
  return { loss, losses, grads };
}
