// How well a labeller (the rule classifier, an LM judge) agrees with the kit's hand-labelled pairs
// (data/tasks/labelled-pairs.jsonl): accuracy, per-category recall and precision, and the confusion
// table. The labelled set has a "dev" split (written first; the rules were tuned on it) and a
// "heldout" split (written after the rules were frozen), so both figures can be reported.

import type { Pair } from '../synth/format.js';
import { readJsonLines } from '../repro/jsonl.js';
import { dataPath } from '../repro/project.js';
import { hasCategory, type Taxonomy } from './taxonomy.js';

export type LabelledPair = Pair & { id: string; split: string; category: string };

export function defaultLabelledPath(): string {
  return dataPath('tasks', 'labelled-pairs.jsonl');
}

/** Reads the labelled set; every line must be a complete record with a known category. */
export function loadLabelledPairs(path: string = defaultLabelledPath(), taxonomy?: Taxonomy): LabelledPair[] {
  const out: LabelledPair[] = [];
  const ids = new Set<string>();
  for (const { line, value } of readJsonLines(path).rows) {
    const r = (value ?? {}) as Partial<LabelledPair>;
    for (const k of ['id', 'split', 'category', 'question', 'answer'] as const) {
      if (typeof r[k] !== 'string') throw new Error(`${path}:${line}: "${k}" must be a string`);
    }
    if (ids.has(r.id!)) throw new Error(`${path}:${line}: id "${r.id}" is used twice`);
    ids.add(r.id!);
    if (taxonomy && !hasCategory(taxonomy, r.category!))
      throw new Error(`${path}:${line}: unknown category "${r.category}"`);
    out.push({ id: r.id!, split: r.split!, category: r.category!, question: r.question!, answer: r.answer! });
  }
  return out;
}

export type CategoryScore = {
  category: string;
  support: number;
  predicted: number;
  correct: number;
  recall: number;
  precision: number;
};

export type Evaluation = {
  n: number;
  correct: number;
  accuracy: number;
  /** Categories in the order they first appear in `labels` (or the order given). */
  perCategory: CategoryScore[];
  /** confusion[gold][predicted] = count; only non-zero cells. */
  confusion: Record<string, Record<string, number>>;
  errors: Array<{ id: string; gold: string; predicted: string; rule?: string; question: string; answer: string }>;
};

/** Compares predictions with gold labels, pair by pair (the two arrays line up). */
export function evaluateLabels(
  gold: LabelledPair[],
  predicted: Array<{ category: string; rule?: string }>,
  categoryOrder?: string[],
): Evaluation {
  if (gold.length !== predicted.length)
    throw new RangeError(`${gold.length} labelled pairs but ${predicted.length} predictions`);
  const confusion: Record<string, Record<string, number>> = {};
  const support = new Map<string, number>();
  const predCount = new Map<string, number>();
  const hits = new Map<string, number>();
  const errors: Evaluation['errors'] = [];
  let correct = 0;
  gold.forEach((g, i) => {
    const p = predicted[i];
    const row = (confusion[g.category] ??= {});
    row[p.category] = (row[p.category] ?? 0) + 1;
    support.set(g.category, (support.get(g.category) ?? 0) + 1);
    predCount.set(p.category, (predCount.get(p.category) ?? 0) + 1);
    if (p.category === g.category) {
      correct++;
      hits.set(g.category, (hits.get(g.category) ?? 0) + 1);
    } else {
      errors.push({
        id: g.id,
        gold: g.category,
        predicted: p.category,
        ...(p.rule ? { rule: p.rule } : {}),
        question: g.question,
        answer: g.answer,
      });
    }
  });
  const order = categoryOrder ?? [...new Set([...gold.map((g) => g.category), ...predicted.map((p) => p.category)])];
  const perCategory = order
    .filter((c) => support.has(c) || predCount.has(c))
    .map((c) => {
      const s = support.get(c) ?? 0;
      const pc = predCount.get(c) ?? 0;
      const h = hits.get(c) ?? 0;
      return { category: c, support: s, predicted: pc, correct: h, recall: s ? h / s : 0, precision: pc ? h / pc : 0 };
    });
  return { n: gold.length, correct, accuracy: gold.length ? correct / gold.length : 0, perCategory, confusion, errors };
}

export type ConfusionRow = { gold: string; predicted: string; count: number };

/** The off-diagonal cells of a confusion table, largest first: what gets mistaken for what. */
export function confusionPairs(ev: Evaluation): ConfusionRow[] {
  const rows: ConfusionRow[] = [];
  for (const [gold, row] of Object.entries(ev.confusion)) {
    for (const [predicted, count] of Object.entries(row)) if (gold !== predicted) rows.push({ gold, predicted, count });
  }
  return rows.sort(
    (a, b) => b.count - a.count || a.gold.localeCompare(b.gold) || a.predicted.localeCompare(b.predicted),
  );
}

/** A dense matrix over the given labels (rows gold, columns predicted), for a heatmap or a table. */
export function confusionMatrix(ev: Evaluation, labels: string[]): number[][] {
  return labels.map((g) => labels.map((p) => ev.confusion[g]?.[p] ?? 0));
}
