// Choosing the next token from a row of logits: one sampler for every engine the kit runs itself
// (the in-process GPT of lib/train/lm.ts and OnnxCausalLM), so the same logits, options and seed
// give the same tokens whichever engine computed them. Greedy is argmax (the first index on ties);
// sampling draws from softmax(logits / temperature) restricted to the top-p nucleus. Each prompt
// row draws from its own generator, seeded by (seed, row index), so a row's tokens do not depend on
// how the prompts were batched. When a call names no stop ids, a row stops at the model's EOS.
// (llama.cpp, behind the gguf engine, samples with its own code: its seeded tokens differ.)

import { createRng, deriveSeed, type Rng } from '../repro/rng.js';
import { HALF_TO_FLOAT } from './float16.js';

/** A row of logits inside a larger buffer: `V` values from `offset`; `half` when they are float16 bit patterns. */
export type LogitsRow = { data: ArrayLike<number>; offset: number; V: number; half?: boolean };

export type Sampling = {
  /** 0: greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1]. */
  topP: number;
  seed: number;
};

/** Temperature, top-p and seed with the kit's defaults (greedy, 1, 0), checked. */
export function resolveSampling(options: { temperature?: number; topP?: number; seed?: number }): Sampling {
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
  return { temperature, topP, seed: options.seed ?? 0 };
}

/** The generator of prompt row `row`, or undefined when decoding is greedy. */
export function rowRng(sampling: Sampling, row: number): Rng | undefined {
  return sampling.temperature > 0 ? createRng(deriveSeed(sampling.seed, 'row', row)) : undefined;
}

/** The ids that end a row: the call's own, else the model's EOS ids. */
export function stopIds(requested: number[] | undefined, eosTokenIds: readonly number[]): Set<number> {
  return new Set(requested ?? eosTokenIds);
}

function valueAt(row: LogitsRow, v: number): number {
  const x = row.data[row.offset + v];
  return row.half ? HALF_TO_FLOAT[x] : x;
}

/** Index of the largest logit (the first on ties). */
export function argmax(row: LogitsRow): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let v = 0; v < row.V; v++) {
    const x = valueAt(row, v);
    if (x > bestValue) {
      bestValue = x;
      best = v;
    }
  }
  return best;
}

/** Seeded draw from softmax(logits / temperature) over the smallest top-probability set holding topP of the mass. */
export function sampleToken(row: LogitsRow, temperature: number, topP: number, rng: Rng): number {
  const { V } = row;
  const p = new Float64Array(V);
  let max = -Infinity;
  for (let v = 0; v < V; v++) {
    p[v] = valueAt(row, v);
    if (p[v] > max) max = p[v];
  }
  let z = 0;
  for (let v = 0; v < V; v++) z += p[v] = Math.exp((p[v] - max) / temperature);
  // Most probable first (lower id first on ties), so the draw does not depend on the vocabulary order.
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => p[b] - p[a] || a - b);
  let kept = 0;
  let mass = 0;
  while (kept < V && (kept === 0 || mass < topP * z)) mass += p[order[kept++]];
  let r = rng.next() * mass;
  for (let i = 0; i < kept; i++) if ((r -= p[order[i]]) < 0) return order[i];
  return order[kept - 1];
}

/** The next token of a row: argmax without a generator, a seeded draw with one. */
export function nextToken(row: LogitsRow, sampling: Sampling, rng: Rng | undefined): number {
  return rng ? sampleToken(row, sampling.temperature, sampling.topP, rng) : argmax(row);
}

/** log softmax(row)[id], in double precision. */
export function logSoftmaxAt(row: LogitsRow, id: number): number {
  let max = -Infinity;
  for (let v = 0; v < row.V; v++) max = Math.max(max, valueAt(row, v));
  let sum = 0;
  for (let v = 0; v < row.V; v++) sum += Math.exp(valueAt(row, v) - max);
  return valueAt(row, id) - max - Math.log(sum);
}

/** A whole Float32Array as one row. */
export function wholeRow(data: Float32Array): LogitsRow {
  return { data, offset: 0, V: data.length };
}
