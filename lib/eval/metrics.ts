// Scores for evaluation: exact match and SQuAD-style token F1 for generated answers. Statistics over
// scores (means, standard errors, intervals) live in ./stats.ts.

// One token F1 for the whole kit: the synthesizer-quality measure (an earlier stage) defines it.
export { normalizeAnswer, tokenF1 } from '../synth/quality.js';

/** 1 when the prediction equals one of the answers after trimming and collapsing whitespace. */
export function exactMatch(prediction: string, answers: string[]): number {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  return answers.some((a) => norm(a) === norm(prediction)) ? 1 : 0;
}
