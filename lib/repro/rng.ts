// Seeded pseudo-random numbers for every stage of the kit.
// xoshiro128** seeded through splitmix32: fast, 128-bit state that fits in a JSON checkpoint,
// and independent streams per purpose via deriveSeed(seed, "label"), so no stage shares or
// hides a global generator.

export type RngState = [number, number, number, number];

export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  uint32(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller; one fresh pair per call keeps the state simple). */
  normal(): number;
  /** A copy of the current state; `rngFromState(state)` continues the same sequence. */
  state(): RngState;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over the UTF-16 code units of a label: stable across platforms and runs. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A seed for a named sub-stream: deriveSeed(7, "shuffle", 3) differs from deriveSeed(7, "init"). */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  let h = seed >>> 0;
  for (const label of labels) {
    const mix = splitmix32(h ^ hashLabel(String(label)));
    h = mix();
  }
  return h >>> 0;
}

export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new TypeError(`seed must be a finite number, got ${seed}`);
  const sm = splitmix32(Math.floor(seed) >>> 0);
  const s: RngState = [sm(), sm(), sm(), sm()];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return rngFromState(s);
}

export function rngFromState(initial: RngState): Rng {
  if (!Array.isArray(initial) || initial.length !== 4)
    throw new TypeError('rng state must be 4 unsigned 32-bit integers');
  let [a, b, c, d] = initial.map((x) => x >>> 0);
  const uint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c = (c ^ t) >>> 0;
    d = rotl(d, 11);
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  const next = (): number => uint32() / 4294967296;
  return {
    uint32,
    next,
    int(n: number): number {
      if (!(n > 0) || !Number.isInteger(n)) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
      // rejection sampling keeps the draw unbiased for any n < 2^32
      const limit = 4294967296 - (4294967296 % n);
      let x = uint32();
      while (x >= limit) x = uint32();
      return x % n;
    },
    normal(): number {
      const u1 = Math.max(next(), 1e-300);
      const u2 = next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    state: () => [a >>> 0, b >>> 0, c >>> 0, d >>> 0],
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fisher-Yates shuffle in place; returns the same array. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** One element, uniformly. Throws on an empty list rather than returning undefined. */
export function pick<T>(items: readonly T[], rng: Rng): T {
  if (items.length === 0) throw new RangeError('pick() from an empty list');
  return items[rng.int(items.length)];
}

/** One element by non-negative weights (need not sum to 1). */
export function pickWeighted<T>(items: readonly T[], weights: readonly number[], rng: Rng): T {
  if (items.length === 0 || items.length !== weights.length) {
    throw new RangeError(
      `pickWeighted needs as many weights as items (${items.length} items, ${weights.length} weights)`,
    );
  }
  let total = 0;
  for (const w of weights) total += w;
  let r = rng.next() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i];
    if (r < 0) return items[i];
  }
  return items[items.length - 1];
}
