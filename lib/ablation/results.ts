// Results of an ablation as numbers a reader can trust: per task and arm the mean over seeds with its
// standard error, and the paired difference against vanilla (arm minus vanilla within each seed, then
// mean and standard error of those differences, so seed-to-seed noise shared by both arms cancels).
// Group averages are taken within each seed first. Plain functions of the run's records.

import { meanWithStderr as meanAndStandardError } from '../eval/stats.js';

export type Estimate = { mean: number; se: number; n: number };

export type ScoreRow = {
  group: string;
  task: string;
  kind: string;
  shots: number;
  arm: string;
  score: Estimate;
  /** Arm minus vanilla, paired by seed; null for vanilla itself. */
  gain: Estimate | null;
  chance: number;
};

export type SummaryRow = { group: string; shots: number; arm: string; tasks: number; score: Estimate; gain: Estimate | null };

export type TaskInfo = { name: string; group: string; kind: string; shots: number; chance: number };
export type SeedScores = { arm: string; seed: number; scores: Record<string, number> };

export function estimate(values: number[]): Estimate {
  const { mean, se, n } = meanAndStandardError(values);
  return { mean, se, n };
}

/** Paired differences a - b over the seeds both have. */
export function pairedGain(a: Map<number, number>, b: Map<number, number>): Estimate | null {
  const diffs = [...a.keys()].filter((s) => b.has(s)).map((s) => a.get(s)! - b.get(s)!);
  return diffs.length ? estimate(diffs) : null;
}

function bySeed(runs: SeedScores[], arm: string, value: (s: Record<string, number>) => number | undefined): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of runs) {
    if (r.arm !== arm) continue;
    const v = value(r.scores);
    if (v !== undefined && Number.isFinite(v)) m.set(r.seed, v);
  }
  return m;
}

export function scoreRows(tasks: TaskInfo[], runs: SeedScores[], arms: string[], baseline: string): ScoreRow[] {
  const rows: ScoreRow[] = [];
  for (const t of tasks) {
    const base = bySeed(runs, baseline, (s) => s[t.name]);
    for (const arm of arms) {
      const mine = bySeed(runs, arm, (s) => s[t.name]);
      if (mine.size === 0) continue;
      rows.push({ group: t.group, task: t.name, kind: t.kind, shots: t.shots, arm, score: estimate([...mine.values()]), gain: arm === baseline ? null : pairedGain(mine, base), chance: t.chance });
    }
  }
  return rows;
}

/** Per group and shot count: the average over its tasks within each seed, then across seeds. */
export function summaryRows(tasks: TaskInfo[], runs: SeedScores[], arms: string[], baseline: string): SummaryRow[] {
  const groups = [...new Set(tasks.map((t) => `${t.group}|${t.shots}`))];
  const rows: SummaryRow[] = [];
  for (const g of groups) {
    const [group, shots] = [g.split('|')[0], Number(g.split('|')[1])];
    const names = tasks.filter((t) => t.group === group && t.shots === shots).map((t) => t.name);
    const average = (s: Record<string, number>) => {
      const vs = names.map((n) => s[n]).filter((v) => v !== undefined);
      return vs.length === names.length ? vs.reduce((a, b) => a + b, 0) / vs.length : undefined;
    };
    const base = bySeed(runs, baseline, average);
    for (const arm of arms) {
      const mine = bySeed(runs, arm, average);
      if (mine.size === 0) continue;
      rows.push({ group, shots, arm, tasks: names.length, score: estimate([...mine.values()]), gain: arm === baseline ? null : pairedGain(mine, base) });
    }
  }
  return rows;
}

/** Mean curve over seeds: at each step present in every seed, the mean (and standard error) of `value`. */
export function meanCurve<P extends { step: number }>(runs: P[][], value: (p: P) => number): { step: number[]; mean: number[]; se: number[] } {
  const steps = [...new Set(runs.flat().map((p) => p.step))].sort((a, b) => a - b).filter((s) => runs.every((r) => r.some((p) => p.step === s)));
  const out = { step: [] as number[], mean: [] as number[], se: [] as number[] };
  for (const s of steps) {
    const e = estimate(runs.map((r) => value(r.find((p) => p.step === s)!)));
    out.step.push(s);
    out.mean.push(e.mean);
    out.se.push(e.se);
  }
  return out;
}

export function formatEstimate(e: Estimate | null, digits = 3): string {
  if (!e) return '';
  return `${e.mean.toFixed(digits)} ± ${e.se.toFixed(digits)}`;
}

export function formatGain(e: Estimate | null, digits = 3): string {
  if (!e) return '—';
  const sign = e.mean >= 0 ? '+' : '';
  return `${sign}${e.mean.toFixed(digits)} ± ${e.se.toFixed(digits)}`;
}
