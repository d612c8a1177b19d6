// Near-duplicate texts: MinHash signatures over word shingles, banded locality-sensitive hashing to
// find candidates, and the estimated Jaccard similarity to decide. The first of a group is kept, so
// the result depends only on the order of the texts and the seed.

import { createRng } from '../repro/rng.js';

export type DedupOptions = {
  /** Estimated Jaccard similarity of shingle sets at or above which a text is a near-duplicate. */
  threshold?: number;
  /** Hash functions per signature. */
  numPerm?: number;
  /** LSH bands (numPerm must be a multiple); more bands find pairs of lower similarity. */
  bands?: number;
  /** Words per shingle. */
  shingle?: number;
  seed?: number;
};

export type DedupResult = {
  keep: boolean[];
  /** For a dropped text, the index of the kept text it duplicates; -1 for kept texts. */
  duplicateOf: number[];
  dropped: number;
};

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h >>> 0);
}

/** Hashes of the distinct k-word shingles of a text (lowercased letters and digits). */
export function shingleHashes(text: string, k = 5): Uint32Array {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const set = new Set<number>();
  if (words.length > 0 && words.length < k) set.add(hashString(words.join(' ')));
  for (let i = 0; i + k <= words.length; i++) set.add(hashString(words.slice(i, i + k).join(' ')));
  return Uint32Array.from(set);
}

function permutationSeeds(numPerm: number, seed: number): Uint32Array {
  const rng = createRng(seed);
  return Uint32Array.from({ length: numPerm }, () => rng.uint32());
}

/** MinHash signature: per hash function, the minimum over the shingles. */
export function minhash(shingles: Uint32Array, seeds: Uint32Array): Uint32Array {
  const sig = new Uint32Array(seeds.length).fill(0xffffffff);
  for (let p = 0; p < seeds.length; p++) {
    const s = seeds[p];
    let min = 0xffffffff;
    for (let i = 0; i < shingles.length; i++) {
      const h = fmix32((shingles[i] ^ s) >>> 0);
      if (h < min) min = h;
    }
    sig[p] = min;
  }
  return sig;
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Exact Jaccard similarity of two texts' shingle sets (for tests and reports). */
export function jaccard(a: string, b: string, k = 5): number {
  const sa = new Set(shingleHashes(a, k));
  const sb = new Set(shingleHashes(b, k));
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  const union = sa.size + sb.size - inter;
  return union === 0 ? 1 : inter / union;
}

export function nearDuplicates(texts: readonly string[], options: DedupOptions = {}): DedupResult {
  const threshold = options.threshold ?? 0.8;
  const numPerm = options.numPerm ?? 128;
  const bands = options.bands ?? 32;
  if (numPerm % bands !== 0) throw new RangeError(`numPerm (${numPerm}) must be a multiple of bands (${bands})`);
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  const rows = numPerm / bands;
  const seeds = permutationSeeds(numPerm, options.seed ?? 0);
  const buckets = new Map<string, number[]>();
  const signatures: Uint32Array[] = [];
  const keep = new Array<boolean>(texts.length).fill(true);
  const duplicateOf = new Array<number>(texts.length).fill(-1);
  let dropped = 0;
  texts.forEach((text, i) => {
    const sig = minhash(shingleHashes(text, options.shingle ?? 5), seeds);
    signatures.push(sig);
    const keys: string[] = [];
    let best = -1;
    let bestSim = -1;
    for (let b = 0; b < bands; b++) {
      let h = b;
      for (let r = 0; r < rows; r++) h = fmix32((h ^ sig[b * rows + r]) >>> 0) ^ Math.imul(r + 1, 0x9e3779b9);
      const key = `${b}:${h >>> 0}`;
      keys.push(key);
      for (const j of buckets.get(key) ?? []) {
        const sim = estimatedJaccard(sig, signatures[j]);
        if (sim >= threshold && (sim > bestSim || (sim === bestSim && j < best))) {
          best = j;
          bestSim = sim;
        }
      }
    }
    if (best >= 0) {
      keep[i] = false;
      duplicateOf[i] = best;
      dropped++;
      return;
    }
    for (const key of keys) {
      const list = buckets.get(key);
      if (list) list.push(i);
      else buckets.set(key, [i]);
    }
  });
  return { keep, duplicateOf, dropped };
}
