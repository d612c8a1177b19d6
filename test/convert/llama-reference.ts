// An independent Llama/Mistral forward pass in plain TypeScript (float64, one sequence, no cache),
// written from Hugging Face's modeling code rather than from the converter's graph: weights in
// checkpoint names and torch layouts (Linear [out, in]), RMSNorm, rotary positions by rotate-half,
// grouped-query attention (query head h reads key/value head floor(h / groups)), SwiGLU, tied or
// untied output layer, and Llama 3's frequency scaling computed here from its definition.
import type { Weights } from './hf-checkpoint.js';

export type LlamaRefConfig = {
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeTheta: number;
  eps: number;
  tied: boolean;
  llama3?: { factor: number; low: number; high: number; original: number };
};

export function refConfig(c: Record<string, unknown>): LlamaRefConfig {
  const n = (k: string) => c[k] as number;
  const s = c.rope_scaling as Record<string, number> | null;
  return {
    vocab: n('vocab_size'),
    hidden: n('hidden_size'),
    intermediate: n('intermediate_size'),
    layers: n('num_hidden_layers'),
    heads: n('num_attention_heads'),
    kvHeads: n('num_key_value_heads'),
    headDim: (c.head_dim as number | undefined) ?? n('hidden_size') / n('num_attention_heads'),
    ropeTheta: n('rope_theta'),
    eps: n('rms_norm_eps'),
    tied: c.tie_word_embeddings === true,
    ...(s
      ? {
          llama3: {
            factor: s.factor,
            low: s.low_freq_factor,
            high: s.high_freq_factor,
            original: s.original_max_position_embeddings,
          },
        }
      : {}),
  };
}

function frequencies(c: LlamaRefConfig): number[] {
  const D = c.headDim;
  const base = Array.from({ length: D / 2 }, (_, i) => Math.pow(c.ropeTheta, -(2 * i) / D));
  if (!c.llama3) return base;
  const { factor, low, high, original } = c.llama3;
  return base.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < original / high) return f;
    if (wavelen > original / low) return f / factor;
    const smooth = (original / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** y[i] = x[i] · Wᵀ for a torch Linear weight W [out, in]. */
function linear(x: Float64Array, n: number, fin: number, fout: number, W: Float32Array): Float64Array {
  const y = new Float64Array(n * fout);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < fout; o++) {
      let s = 0;
      for (let k = 0; k < fin; k++) s += x[i * fin + k] * W[o * fin + k];
      y[i * fout + o] = s;
    }
  }
  return y;
}

/** Logits [n, vocab] for tokens at positions 0..n-1. */
export function llamaLogits(c: LlamaRefConfig, W: Weights, ids: number[]): Float64Array {
  const n = ids.length;
  const { hidden: C, headDim: D, heads: H, kvHeads: K } = c;
  const groups = H / K;
  const freqs = frequencies(c);
  const rms = (x: Float64Array, w: Float32Array) => {
    const y = new Float64Array(x.length);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < C; j++) s += x[i * C + j] ** 2;
      const r = 1 / Math.sqrt(s / C + c.eps);
      for (let j = 0; j < C; j++) y[i * C + j] = x[i * C + j] * r * w[j];
    }
    return y;
  };
  const rotate = (t: Float64Array, heads: number) => {
    for (let i = 0; i < n; i++) {
      for (let h = 0; h < heads; h++) {
        const o = (i * heads + h) * D;
        const orig = t.slice(o, o + D);
        for (let j = 0; j < D / 2; j++) {
          const a = i * freqs[j];
          t[o + j] = orig[j] * Math.cos(a) - orig[j + D / 2] * Math.sin(a);
          t[o + j + D / 2] = orig[j + D / 2] * Math.cos(a) + orig[j] * Math.sin(a);
        }
      }
    }
  };
  const x = new Float64Array(n * C);
  ids.forEach((id, i) => {
    for (let j = 0; j < C; j++) x[i * C + j] = W['model.embed_tokens.weight'][id * C + j];
  });
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    const h = rms(x, W[`${p}.input_layernorm.weight`]);
    const q = linear(h, n, C, H * D, W[`${p}.self_attn.q_proj.weight`]);
    const k = linear(h, n, C, K * D, W[`${p}.self_attn.k_proj.weight`]);
    const v = linear(h, n, C, K * D, W[`${p}.self_attn.v_proj.weight`]);
    rotate(q, H);
    rotate(k, K);
    const ctx = new Float64Array(n * H * D);
    for (let head = 0; head < H; head++) {
      const kv = Math.floor(head / groups);
      for (let i = 0; i < n; i++) {
        const s: number[] = [];
        for (let t = 0; t <= i; t++) {
          let dot = 0;
          for (let e = 0; e < D; e++) dot += q[(i * H + head) * D + e] * k[(t * K + kv) * D + e];
          s.push(dot / Math.sqrt(D));
        }
        const max = Math.max(...s);
        const p2 = s.map((z) => Math.exp(z - max));
        const sum = p2.reduce((a, b) => a + b, 0);
        for (let t = 0; t <= i; t++)
          for (let e = 0; e < D; e++) ctx[(i * H + head) * D + e] += (p2[t] / sum) * v[(t * K + kv) * D + e];
      }
    }
    const o = linear(ctx, n, H * D, C, W[`${p}.self_attn.o_proj.weight`]);
    for (let i = 0; i < x.length; i++) x[i] += o[i];
    const h2 = rms(x, W[`${p}.post_attention_layernorm.weight`]);
    const gate = linear(h2, n, C, c.intermediate, W[`${p}.mlp.gate_proj.weight`]);
    const up = linear(h2, n, C, c.intermediate, W[`${p}.mlp.up_proj.weight`]);
    for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
    const down = linear(gate, n, c.intermediate, C, W[`${p}.mlp.down_proj.weight`]);
    for (let i = 0; i < x.length; i++) x[i] += down[i];
  }
  return linear(
    rms(x, W['model.norm.weight']),
    n,
    C,
    c.vocab,
    c.tied ? W['model.embed_tokens.weight'] : W['lm_head.weight'],
  );
}

export function llamaGreedy(c: LlamaRefConfig, W: Weights, prompt: number[], maxNew: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let s = 0; s < maxNew; s++) {
    const logits = llamaLogits(c, W, seq);
    const row = logits.subarray((seq.length - 1) * c.vocab, seq.length * c.vocab);
    let best = 0;
    for (let v = 1; v < c.vocab; v++) if (row[v] > row[best]) best = v;
    out.push(best);
    seq.push(best);
  }
  return out;
}
