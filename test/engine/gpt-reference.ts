// An independent GPT-2 forward pass in plain TypeScript (float64 arithmetic, one sequence, no cache),
// written from the architecture description rather than from the ONNX graph, so tests can check the
// ONNX writer and the generation engine against it.
import type { GPTConfig, GPTWeights } from '../../lib/engine/gpt.js';

function layerNorm(x: Float64Array, n: number, C: number, w: Float32Array, b: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let j = 0; j < C; j++) mean += x[i * C + j];
    mean /= C;
    let v = 0;
    for (let j = 0; j < C; j++) v += (x[i * C + j] - mean) ** 2;
    const r = 1 / Math.sqrt(v / C + eps);
    for (let j = 0; j < C; j++) y[i * C + j] = (x[i * C + j] - mean) * r * w[j] + b[j];
  }
  return y;
}

function linear(x: Float64Array, n: number, fin: number, fout: number, w: Float32Array, b: Float32Array): Float64Array {
  const y = new Float64Array(n * fout);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < fout; o++) y[i * fout + o] = b[o];
    for (let k = 0; k < fin; k++) {
      const a = x[i * fin + k];
      if (a === 0) continue;
      for (let o = 0; o < fout; o++) y[i * fout + o] += a * w[k * fout + o];
    }
  }
  return y;
}

const geluNew = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Logits [n, vocab] for tokens at positions 0..n-1. */
export function referenceLogits(cfg: GPTConfig, W: GPTWeights, ids: number[]): Float64Array {
  const n = ids.length;
  const C = cfg.width;
  const H = cfg.heads;
  const D = C / H;
  const F = cfg.mlpRatio * C;
  let x = new Float64Array(n * C);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < C; j++) x[i * C + j] = W['wte.weight'][ids[i] * C + j] + W['wpe.weight'][i * C + j];
  for (let l = 0; l < cfg.layers; l++) {
    const p = `h.${l}`;
    const h = layerNorm(x, n, C, W[`${p}.ln_1.weight`], W[`${p}.ln_1.bias`], cfg.layerNormEps);
    const qkv = linear(h, n, C, 3 * C, W[`${p}.attn.c_attn.weight`], W[`${p}.attn.c_attn.bias`]);
    const ctx = new Float64Array(n * C);
    for (let head = 0; head < H; head++) {
      for (let i = 0; i < n; i++) {
        const s = new Float64Array(i + 1);
        let max = -Infinity;
        for (let t = 0; t <= i; t++) {
          let dot = 0;
          for (let e = 0; e < D; e++) dot += qkv[i * 3 * C + head * D + e] * qkv[t * 3 * C + C + head * D + e];
          s[t] = dot / Math.sqrt(D);
          max = Math.max(max, s[t]);
        }
        let z = 0;
        for (let t = 0; t <= i; t++) z += s[t] = Math.exp(s[t] - max);
        for (let t = 0; t <= i; t++)
          for (let e = 0; e < D; e++) ctx[i * C + head * D + e] += (s[t] / z) * qkv[t * 3 * C + 2 * C + head * D + e];
      }
    }
    const a = linear(ctx, n, C, C, W[`${p}.attn.c_proj.weight`], W[`${p}.attn.c_proj.bias`]);
    for (let i = 0; i < x.length; i++) x[i] += a[i];
    const h2 = layerNorm(x, n, C, W[`${p}.ln_2.weight`], W[`${p}.ln_2.bias`], cfg.layerNormEps);
    const f = linear(h2, n, C, F, W[`${p}.mlp.c_fc.weight`], W[`${p}.mlp.c_fc.bias`]);
    for (let i = 0; i < f.length; i++) f[i] = geluNew(f[i]);
    const m = linear(f, n, F, C, W[`${p}.mlp.c_proj.weight`], W[`${p}.mlp.c_proj.bias`]);
    for (let i = 0; i < x.length; i++) x[i] += m[i];
  }
  x = layerNorm(x, n, C, W['ln_f.weight'], W['ln_f.bias'], cfg.layerNormEps);
  const V = cfg.vocabSize;
  const logits = new Float64Array(n * V);
  for (let i = 0; i < n; i++) {
    for (let v = 0; v < V; v++) {
      let dot = 0;
      for (let j = 0; j < C; j++) dot += x[i * C + j] * W['wte.weight'][v * C + j];
      logits[i * V + v] = dot;
    }
  }
  return logits;
}

function argmax(a: Float64Array, from: number, len: number): number {
  let best = 0;
  for (let v = 1; v < len; v++) if (a[from + v] > a[from + best]) best = v;
  return best;
}

/** Greedy continuation by full recomputation each step (no cache), stopping after a stop id. */
export function referenceGreedy(
  cfg: GPTConfig,
  W: GPTWeights,
  prompt: number[],
  maxNew: number,
  stopIds: number[] = [],
): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let s = 0; s < maxNew; s++) {
    const logits = referenceLogits(cfg, W, seq);
    const next = argmax(logits, (seq.length - 1) * cfg.vocabSize, cfg.vocabSize);
    out.push(next);
    seq.push(next);
    if (stopIds.includes(next)) break;
  }
  return out;
}

/** The gap between the best and second-best logit at each greedy step (to check a test is not decided by a near tie). */
export function referenceMinGap(cfg: GPTConfig, W: GPTWeights, prompt: number[], continuation: number[]): number {
  const seq = [...prompt, ...continuation];
  const logits = referenceLogits(cfg, W, seq);
  const V = cfg.vocabSize;
  let min = Infinity;
  for (let i = prompt.length - 1; i < seq.length - 1; i++) {
    const row = Array.from(logits.subarray(i * V, (i + 1) * V)).sort((a, b) => b - a);
    min = Math.min(min, row[0] - row[1]);
  }
  return min;
}
