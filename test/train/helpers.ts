// Small configurations and data shared by the training tests.
import { createHash } from 'node:crypto';
import type { GPTConfig, GPTWeights } from '../../lib/engine/gpt.js';
import { gptTensorSpecs } from '../../lib/engine/gpt.js';
import { packDocuments, type PackedData } from '../../lib/train/data.js';
import { createRng } from '../../lib/repro/rng.js';

export const TINY: GPTConfig = {
  vocabSize: 64,
  contextLength: 16,
  width: 32,
  heads: 4,
  layers: 2,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};

/** Documents of random ids with partial loss masks, packed for `cfg`. */
export function syntheticData(cfg: GPTConfig, docs: number, seed: number): PackedData {
  const rng = createRng(seed);
  const list = Array.from({ length: docs }, () => {
    const n = 5 + rng.int(40);
    const ids = Int32Array.from({ length: n }, () => 3 + rng.int(cfg.vocabSize - 3));
    const split = rng.int(n);
    const mask = Uint8Array.from({ length: n }, (_, i) => (i >= split ? 1 : 0));
    return { ids, mask };
  });
  return packDocuments(list, { contextLength: cfg.contextLength, eosId: 2 });
}

export function weightsHash(cfg: GPTConfig, w: GPTWeights): string {
  const h = createHash('sha256');
  for (const s of gptTensorSpecs(cfg))
    h.update(new Uint8Array(w[s.name].buffer, w[s.name].byteOffset, w[s.name].byteLength));
  return h.digest('hex');
}

/** The exact bits of a float64, for comparisons that must be bit-identical. */
export function bits(x: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b.toString('hex');
}

/** Documents that repeat short cycles of ids: learnable, so training must lower the loss. */
export function patternData(cfg: GPTConfig, docs: number, seed: number): PackedData {
  const rng = createRng(seed);
  const list = Array.from({ length: docs }, () => {
    const start = 3 + rng.int(cfg.vocabSize - 3);
    const step = 1 + rng.int(3);
    const n = 20 + rng.int(30);
    const ids = Int32Array.from({ length: n }, (_, i) => 3 + ((start - 3 + i * step) % (cfg.vocabSize - 3)));
    return { ids, mask: new Uint8Array(n).fill(1) };
  });
  return packDocuments(list, { contextLength: cfg.contextLength, eosId: 2 });
}
