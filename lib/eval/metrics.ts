// Scores for evaluation: exact match and SQuAD-style token F1 for generated answers, and the mean
// with its standard error for any per-example metric.

// One token F1 for the whole kit: the synthesizer-quality measure (an earlier stage) defines it.
export { normalizeAnswer, tokenF1 } from '../synth/quality.js';

/** 1 when the prediction equals one of the answers after trimming and collapsing whitespace. */
export function exactMatch(prediction: string, answers: string[]): number {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  return answers.some((a) => norm(a) === norm(prediction)) ? 1 : 0;
}

/** Mean and standard error of the mean (sample standard deviation / sqrt(n); null below 2 values). */
export function meanWithStderr(values: number[]): { value: number; stderr: number | null } {
  const n = values.length;
  if (n === 0) return { value: Number.NaN, stderr: null };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { value: mean, stderr: null };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { value: mean, stderr: Math.sqrt(variance / n) };
}
