// Task coverage of a set of pairs: how many pairs fall in each category and family of the taxonomy,
// how many categories are covered at all, the share nobody could place ("other"), answer and
// question lengths, multiple-choice and chain-of-thought shares, and pairs per text. The paper
// reports that its synthesized pairs cover 40+ task categories; this is the kit's way to measure it.

import type { Pair } from '../synth/format.js';
import { OTHER, categories as taxonomyCategories, category as categoryOf, type Taxonomy } from './taxonomy.js';
import { ANSWER_SHAPES, pairFeatures, type AnswerShape, type Classification, type Classifier } from './classify.js';
import type { PairSet } from './input.js';

export type Stats = { n: number; mean: number; median: number; p10: number; p90: number; min: number; max: number };

/** Counts of whole-number values; `cap` collects every value at or above it ("cap or more"). */
export type IntHistogram = { values: number[]; counts: number[]; cap: number };

export function intHistogram(values: number[], cap: number): IntHistogram {
  const counts = new Map<number, number>();
  for (const v of values) {
    const k = Math.min(Math.max(0, Math.round(v)), cap);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const keys = [...counts.keys()].sort((a, b) => a - b);
  return { values: keys, counts: keys.map((k) => counts.get(k)!), cap };
}

export type CategoryCoverage = {
  id: string;
  name: string;
  family: string;
  familyName: string;
  count: number;
  share: number;
  /** Which rules (or judge) produced the labels, with counts. */
  rules: Record<string, number>;
  examples: Pair[];
};

export type FamilyCoverage = {
  id: string;
  name: string;
  count: number;
  share: number;
  categoriesCovered: number;
  categoriesInTaxonomy: number;
};

export type Coverage = {
  name: string;
  source: string;
  labeller: string;
  pairs: number;
  texts: number | null;
  /** Categories with at least one pair, "other" not counted. */
  categoriesCovered: number;
  categoriesInTaxonomy: number;
  familiesCovered: number;
  otherShare: number;
  /** Every taxonomy category (zeros included) and "other", largest first. */
  categories: CategoryCoverage[];
  /** Every family in taxonomy order, "other" last. */
  families: FamilyCoverage[];
  formats: { multipleChoice: number; chainOfThought: number };
  answerShapes: Record<AnswerShape, number>;
  answerWords: Stats | null;
  questionWords: Stats | null;
  pairsPerText: Stats | null;
  /** For the histograms: answer lengths capped at 100 words, pairs per text capped at 50. */
  answerWordsHistogram: IntHistogram;
  pairsPerTextHistogram: IntHistogram | null;
  warnings: string[];
};

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 1) return sorted[0];
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Summary statistics (linear-interpolated quantiles, as numpy's default); null for no values. */
export function stats(values: number[]): Stats | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    median: quantile(s, 0.5),
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
    min: s[0],
    max: s[s.length - 1],
  };
}

function words(s: string): number {
  const t = s.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

export type CoverageOptions = {
  /** The rule classifier; used unless `labels` are given. */
  classifier?: Classifier;
  taxonomy?: Taxonomy;
  /** Labels computed elsewhere (e.g. by the LM judge), one per pair in order. */
  labels?: Classification[];
  labeller?: string;
  examplesPerCategory?: number;
};

/** Labels every pair and summarises the set. Deterministic: examples are the first pairs of each category. */
export function computeCoverage(set: PairSet, options: CoverageOptions): Coverage & { labels: Classification[] } {
  const tax = options.taxonomy ?? options.classifier?.taxonomy;
  if (!tax) throw new Error('computeCoverage needs a classifier or a taxonomy');
  const labels =
    options.labels ??
    set.pairs.map((p) => {
      if (!options.classifier) throw new Error('computeCoverage needs a classifier when no labels are given');
      return options.classifier.classify(p);
    });
  if (labels.length !== set.pairs.length) throw new RangeError(`${labels.length} labels for ${set.pairs.length} pairs`);
  const k = options.examplesPerCategory ?? 3;
  const total = set.pairs.length;
  const byCat = new Map<string, CategoryCoverage>();
  for (const c of [...taxonomyCategories(tax), tax.other]) {
    const family =
      c.family === OTHER ? { id: OTHER, name: tax.other.name } : tax.families.find((f) => f.id === c.family)!;
    byCat.set(c.id, {
      id: c.id,
      name: c.name,
      family: family.id,
      familyName: family.name,
      count: 0,
      share: 0,
      rules: {},
      examples: [],
    });
  }
  const shapes = Object.fromEntries(ANSWER_SHAPES.map((s) => [s, 0])) as Record<AnswerShape, number>;
  let multipleChoice = 0;
  let chainOfThought = 0;
  const answerWords: number[] = [];
  set.pairs.forEach((p, i) => {
    const label = labels[i];
    categoryOf(tax, label.category); // throws on a label outside the taxonomy
    const entry = byCat.get(label.category)!;
    entry.count++;
    entry.rules[label.rule] = (entry.rules[label.rule] ?? 0) + 1;
    if (entry.examples.length < k) entry.examples.push({ question: p.question, answer: p.answer });
    const f = pairFeatures(p);
    answerWords.push(f.answerWords);
    shapes[f.answerShape]++;
    if (f.options.length > 0) multipleChoice++;
    if (f.chainOfThought) chainOfThought++;
  });
  const cats = [...byCat.values()];
  for (const c of cats) c.share = total ? c.count / total : 0;
  const order = new Map(cats.map((c, i) => [c.id, i]));
  cats.sort((a, b) => b.count - a.count || order.get(a.id)! - order.get(b.id)!);
  const families: FamilyCoverage[] = [
    ...tax.families.map((f) => ({ id: f.id, name: f.name, size: f.categories.length })),
    { id: OTHER, name: tax.other.name, size: 1 },
  ].map((f) => {
    const inF = cats.filter((c) => c.family === f.id);
    const count = inF.reduce((a, c) => a + c.count, 0);
    return {
      id: f.id,
      name: f.name,
      count,
      share: total ? count / total : 0,
      categoriesCovered: inF.filter((c) => c.count > 0).length,
      categoriesInTaxonomy: f.size,
    };
  });
  const covered = cats.filter((c) => c.id !== OTHER && c.count > 0).length;
  return {
    name: set.name,
    source: set.source,
    labeller: options.labeller ?? (options.labels ? 'given labels' : 'rules'),
    pairs: total,
    texts: set.pairsPerText ? set.pairsPerText.length : null,
    categoriesCovered: covered,
    categoriesInTaxonomy: taxonomyCategories(tax).length,
    familiesCovered: families.filter((f) => f.id !== OTHER && f.count > 0).length,
    otherShare: total ? byCat.get(OTHER)!.count / total : 0,
    categories: cats,
    families,
    formats: { multipleChoice, chainOfThought },
    answerShapes: shapes,
    answerWords: stats(answerWords),
    questionWords: stats(set.pairs.map((p) => words(p.question))),
    pairsPerText: set.pairsPerText ? stats(set.pairsPerText) : null,
    answerWordsHistogram: intHistogram(answerWords, 100),
    pairsPerTextHistogram: set.pairsPerText ? intHistogram(set.pairsPerText, 50) : null,
    warnings: set.warnings,
    labels,
  };
}

/** Rows for a table of categories: the top `n` (all when absent), zeros left out. */
export function categoryRows(
  cov: Coverage,
  n?: number,
): Array<{ category: string; family: string; pairs: number; share: string }> {
  const rows = cov.categories
    .filter((c) => c.count > 0)
    .map((c) => ({ category: c.id, family: c.familyName, pairs: c.count, share: `${(100 * c.share).toFixed(1)}%` }));
  return n === undefined ? rows : rows.slice(0, n);
}

/** One line: "48 pairs, 17 of 48 categories in 8 families, other 4.2%". */
export function coverageSummary(cov: Coverage): string {
  return (
    `${cov.name}: ${cov.pairs} pairs${cov.texts !== null ? ` from ${cov.texts} texts` : ''}, ` +
    `${cov.categoriesCovered} of ${cov.categoriesInTaxonomy} categories in ${cov.familiesCovered} families, ` +
    `"other" ${(100 * cov.otherShare).toFixed(1)}%`
  );
}
