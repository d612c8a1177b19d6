// Paired comparison of two models' benchmark results: for each task, the per-item difference of
// scores on the same documents (joined by doc_id), its mean, standard error and 95% interval, all from
// lib/eval/stats.ts (`gainEstimate`: two models are one seed each, so the interval covers item sampling).
// A difference is called a gain (or a loss) only when the interval excludes zero (`verdictOf`);
// otherwise it is within noise. Groups (mmlu) pool their subjects' items, so their difference is the
// size-weighted one lm-eval reports. Tasks scored by a corpus-level F1 have no per-item score of
// that metric and are left out, with a note.

import { gainEstimate, type Verdict } from '../stats.js';
import { aggregateMean } from './lmeval.js';
import type { SuiteResults } from './evaluate.js';

export type PairedGain = {
  task: string;
  metric: string;
  n: number;
  a: number;
  b: number;
  /** Mean of a_i - b_i over the shared items. */
  diff: number;
  stderr: number | null;
  lo: number | null;
  hi: number | null;
  chance: number | null;
  verdict: Verdict;
};

export type PairedDifference = {
  n: number;
  a: number;
  b: number;
  diff: number;
  stderr: number | null;
  lo: number | null;
  hi: number | null;
  verdict: PairedGain['verdict'];
};

/**
 * The paired difference of two score lists over the same items (a_i - b_i), with its interval at
 * `level` (0.95 by default). One item says nothing of the spread: no standard error, no interval.
 */
export function pairedDifference(a: number[], b: number[], level = 0.95): PairedDifference {
  if (a.length !== b.length) throw new RangeError(`paired scores need the same items: ${a.length} vs ${b.length}`);
  if (a.length === 0) throw new RangeError('paired scores need at least one item');
  const means = { n: a.length, a: aggregateMean(a).value, b: aggregateMean(b).value };
  if (a.length === 1) return { ...means, diff: a[0] - b[0], stderr: null, lo: null, hi: null, verdict: 'within noise' };
  const g = gainEstimate([[a]], [[b]], level);
  return { ...means, diff: g.mean, stderr: g.se, lo: g.lo, hi: g.hi, verdict: g.verdict };
}

/** Metrics that are means of per-item scores (a paired difference of items is their difference). */
const ITEMWISE = new Set(['acc', 'acc_norm', 'micro_F1', 'entity_level_f1', 'ConvFinQA_em']);

function itemsOf(r: SuiteResults, task: string, metric: string): Map<number, number> | undefined {
  const items = r.ipt.items[task];
  const scores = items?.scores[metric];
  if (!items || !scores) return undefined;
  return new Map(items.doc_id.map((id, i) => [id, scores[i]]));
}

function leavesOf(r: SuiteResults, name: string): string[] {
  const children = r.group_subtasks[name];
  if (!children || children.length === 0) return [name];
  return children.flatMap((c) => leavesOf(r, c));
}

/**
 * Model A minus model B on every task and group both evaluated, with `metric` where a task has it
 * (else the task's first metric). `level` sets the interval (0.95 by default).
 */
export function pairedGains(
  a: SuiteResults,
  b: SuiteResults,
  options: { metric?: string; level?: number } = {},
): { rows: PairedGain[]; notes: string[] } {
  const level = options.level ?? 0.95;
  const rows: PairedGain[] = [];
  const notes: string[] = [];
  const names = [...Object.keys(a.ipt.scores)].filter((n) => n in b.ipt.scores);
  for (const name of names) {
    const metrics = Object.keys(a.ipt.scores[name]);
    const metric =
      options.metric && metrics.includes(options.metric) ? options.metric : metrics.find((m) => m !== 'average');
    if (!metric) continue;
    if (!ITEMWISE.has(metric)) {
      notes.push(`${name}: ${metric} is a corpus-level score with no per-item value; no paired interval`);
      continue;
    }
    const as: number[] = [];
    const bs: number[] = [];
    for (const leaf of leavesOf(a, name)) {
      const ia = itemsOf(a, leaf, metric);
      const ib = itemsOf(b, leaf, metric);
      if (!ia || !ib) continue;
      for (const [id, va] of ia) {
        const vb = ib.get(id);
        if (vb === undefined) continue;
        as.push(va);
        bs.push(vb);
      }
    }
    if (as.length === 0) {
      notes.push(`${name}: no documents scored by both models`);
      continue;
    }
    const chance = a.ipt.chance[name]?.[metric];
    rows.push({
      task: name,
      metric,
      chance: typeof chance === 'number' ? chance : null,
      ...pairedDifference(as, bs, level),
    });
  }
  return { rows, notes };
}
