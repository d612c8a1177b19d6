// Scores for evaluation: exact match and SQuAD-style token F1 for generated answers, and the mean
// with its standard error for any per-example metric.

/** SQuAD answer normalisation: lower case, no punctuation, no articles, single spaces. */
export function normalizeAnswer(s: string): string {
  return s
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** 1 when the prediction equals one of the answers after trimming and collapsing whitespace. */
export function exactMatch(prediction: string, answers: string[]): number {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  return answers.some((a) => norm(a) === norm(prediction)) ? 1 : 0;
}

/** The best token-overlap F1 of the prediction against any answer (SQuAD). */
export function tokenF1(prediction: string, answers: string[]): number {
  const pred = normalizeAnswer(prediction).split(' ').filter(Boolean);
  let best = 0;
  for (const a of answers) {
    const gold = normalizeAnswer(a).split(' ').filter(Boolean);
    if (pred.length === 0 || gold.length === 0) {
      best = Math.max(best, pred.length === gold.length ? 1 : 0);
      continue;
    }
    const counts = new Map<string, number>();
    for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
    let common = 0;
    for (const t of pred) {
      const c = counts.get(t) ?? 0;
      if (c > 0) {
        common++;
        counts.set(t, c - 1);
      }
    }
    if (common === 0) continue;
    const precision = common / pred.length, recall = common / gold.length;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best;
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
