// What both sides of the generation benchmark share: the model, the prompts, the token budget.
import type { GPTConfig } from '../../lib/engine/gpt.js';

/** About 1M parameters, context 512 (the benchmark model). */
export const BENCH_GPT: GPTConfig = {
  vocabSize: 512,
  contextLength: 512,
  width: 128,
  heads: 4,
  layers: 4,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};
export const PROMPT_TOKENS = 256;
export const NEW_TOKENS = 64;
export const BATCHES = [1, 8, 32] as const;
/** Greedy decoding never picks these (zero embedding rows): every row generates all 64 tokens on both sides. */
export const SILENT_TOKENS = [0, 1, 2];

/** Deterministic prompts of exactly PROMPT_TOKENS ids, different per row. */
export function benchPrompts(batch: number): number[][] {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: PROMPT_TOKENS }, (_, i) => 3 + ((b * 7919 + i * 104729 + ((i * i) % 97)) % 500)),
  );
}
