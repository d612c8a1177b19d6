// What `ipt rules` does: take texts (a seeded sample of Brown chunks, or the first N contexts of a
// JSON-lines file's records, a long record cut into contexts like a Brown document), mine pairs with the
// rules, and return one plain record per text with the context, the exact synthesizer output string,
// and the pairs with their kinds, for a workshop to read.

import { readTextFile } from '../repro/files.js';
import { jsonLines } from '../repro/jsonl.js';
import { loadBrown } from '../corpus/brown.js';
import { contextsOf, type TokenBudget } from '../corpus/chunk.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';
import { mineTasks, synthesizerOutput, type RuleKind } from './rules.js';

export type RuleText = { id: string; genre?: string; text: string };

export type RuleRecord = {
  id: string;
  genre?: string;
  context: string;
  /** Exactly what a synthesizer would have written for this context. */
  output: string;
  pairs: Array<{ kind: RuleKind; question: string; answer: string }>;
};

/** `n` Brown chunks sampled with the seed (ids like "ca01#3": document and chunk number). */
export function brownRuleTexts(n: number, seed: number, chunk?: TokenBudget): RuleText[] {
  const all = loadBrown().flatMap((d) =>
    contextsOf(d.text, chunk).map((text, k) => ({ id: `${d.id}#${k}`, genre: d.genre, text })),
  );
  return shuffleInPlace(all, createRng(deriveSeed(seed, 'rules-sample'))).slice(0, n);
}

/**
 * The first `n` contexts of a JSON-lines file of records with a string `text` and optional `id` and
 * `genre`. A record longer than a context is cut into contexts (ids "<id>#<k>") as Brown documents are:
 * the rules read contexts, and mining one 50 MB text as a whole took minutes for a handful of pairs.
 */
export function jsonlRuleTexts(path: string, n: number, chunk?: TokenBudget): RuleText[] {
  const out: RuleText[] = [];
  for (const { line, value } of jsonLines(readTextFile(path), path, {
    fix: 'each line must be an object like {"text": "..."}',
  })) {
    if (out.length >= n) break;
    const r = value as { text?: unknown; id?: unknown; genre?: unknown };
    if (typeof r !== 'object' || r === null || typeof r.text !== 'string') {
      throw new Error(`${path}:${line}: expected an object with a string "text" field`);
    }
    const id = typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : `line${line}`;
    const genre = typeof r.genre === 'string' ? { genre: r.genre } : {};
    const contexts = contextsOf(r.text, chunk);
    if (contexts.length <= 1) out.push({ id, ...genre, text: r.text });
    else
      for (let k = 0; k < contexts.length && out.length < n; k++)
        out.push({ id: `${id}#${k}`, ...genre, text: contexts[k] });
  }
  return out;
}

export function mineRecords(
  texts: RuleText[],
  options: { seed: number; maxPairs?: number; kinds?: readonly RuleKind[]; onText?: () => void },
): RuleRecord[] {
  return texts.map((t) => {
    const mined = mineTasks(t.text, {
      seed: options.seed,
      genre: t.genre,
      maxPairs: options.maxPairs,
      kinds: options.kinds,
    });
    options.onText?.();
    return {
      id: t.id,
      ...(t.genre !== undefined ? { genre: t.genre } : {}),
      context: t.text,
      output: synthesizerOutput(mined),
      pairs: mined.map((p) => ({ kind: p.kind, question: p.question, answer: p.answer })),
    };
  });
}
