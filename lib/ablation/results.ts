// Results of an ablation as numbers a reader can trust. Every score and every gain carries a 95%
// interval over items and seeds (lib/eval/stats.ts: the crossed seeds x items variance), every score its
// chance level, every gain a verdict ("gain" only when the interval excludes zero). Gains are paired:
// arm minus vanilla on the same items with the same seed.
//
// Which tasks make the headline is decided here, by rules stated in the results (HEADLINE_RULES):
// answers that vary, not all zero, and the vanilla model above chance on the same kind of question about
// passages it was pre-trained on. A group average (the headline) is taken over the tasks that pass;
// the average over every task is kept beside it, labelled as such.

import {
  detectableDifference,
  discordanceAtChance,
  gainEstimate,
  itemsToDetect,
  linearEstimate,
  meanWithStderr,
  measuredDiscordance,
  type LinearEstimate,
  type Verdict,
} from '../eval/stats.js';
import type { AblationRecords, BenchmarkInfo, ModelScores } from './records.js';

export type Estimate = {
  mean: number;
  lo: number;
  hi: number;
  se: number;
  seeds: number;
  items: number;
  variance: { seeds: number; items: number };
};
export type Gain = Estimate & { verdict: Verdict };

/** The difference a headline must be able to detect, and the test's settings. */
export const POWER = { delta: 0.05, alpha: 0.05, power: 0.8 } as const;

export const HEADLINE_RULES = [
  'answers vary: the most frequent gold answer is given by at most chance + 0.10 of the items (a model that always gives it scores near chance)',
  'not all zero: some arm scores above 0 on some item',
  'measurable: the vanilla model scores above chance (95% interval above the chance level) on the same kind of question about passages of its own pre-training documents (the "seen" group)',
] as const;

export type TaskCriteria = {
  task: string;
  group: string;
  kind: string;
  shots: number;
  items: number;
  chance: number;
  majorityShare: number;
  answersVary: boolean;
  allZero: boolean;
  /** Vanilla on the seen-group task of the same kind (null when there is none). */
  inDistribution: { task: string; chance: number; score: Estimate } | null;
  aboveChanceInDistribution: boolean;
  headline: boolean;
  /** Why the task is not in the headline (empty when it is). */
  reasons: string[];
  power: {
    /** Items one seed needs to detect a 0.05 difference, for arms near chance that err independently. */
    itemsFor005AtChance: number;
    /** The same with the measured share of items on which an arm and vanilla disagree (null for vanilla-only tasks). */
    itemsFor005Measured: number | null;
    discordance: number | null;
    /** The smallest difference this task's items detect (one seed, arms near chance). */
    detectableAtChance: number;
  };
};

export type ScoreRow = {
  group: string;
  task: string;
  kind: string;
  shots: number;
  arm: string;
  chance: number;
  headline: boolean;
  score: Estimate;
  gain: Gain | null;
};

export type SummaryRow = {
  group: string;
  shots: number;
  arm: string;
  /** true: the average over the tasks that pass HEADLINE_RULES; false: over every task of the group. */
  headline: boolean;
  tasks: string[];
  chance: number;
  score: Estimate;
  gain: Gain | null;
};

/** Seeds x items table of one task for the runs given (rows in `seeds` order); undefined when a seed lacks the task. */
export function tableOf(
  runs: Array<{ seed: number; scores: ModelScores }>,
  seeds: readonly number[],
  task: string,
): number[][] | undefined {
  const rows: number[][] = [];
  for (const seed of seeds) {
    const r = runs.find((x) => x.seed === seed)?.scores.items[task];
    if (!r) return undefined;
    rows.push(r);
  }
  return rows;
}

function toEstimate(e: LinearEstimate): Estimate {
  return { mean: e.mean, lo: e.lo, hi: e.hi, se: e.se, seeds: e.seeds, items: e.items, variance: e.variance };
}

function toGain(e: LinearEstimate & { verdict: Verdict }): Gain {
  return { ...toEstimate(e), verdict: e.verdict };
}

/** An arm's average score over tasks, and its gain over a baseline (paired), from each run's per-item scores. */
export function compare(
  tasks: readonly string[],
  mine: Array<{ seed: number; scores: ModelScores }>,
  base: Array<{ seed: number; scores: ModelScores }> | null,
  seeds: readonly number[],
): { score: Estimate; gain: Gain | null } | undefined {
  if (!tasks.length) return undefined;
  const tables = tasks.map((t) => tableOf(mine, seeds, t));
  if (tables.some((t) => !t)) return undefined;
  const score = toEstimate(linearEstimate(tables as number[][][]));
  if (!base) return { score, gain: null };
  const baseTables = tasks.map((t) => tableOf(base, seeds, t));
  if (baseTables.some((t) => !t)) return { score, gain: null };
  return { score, gain: toGain(gainEstimate(tables as number[][][], baseTables as number[][][])) };
}

/** The headline rules applied to every task (the seen group's own tasks only serve the in-distribution check). */
export function taskCriteria(records: AblationRecords, vanilla: string): TaskCriteria[] {
  const seeds = records.config.seeds;
  const vanillaRuns = records.pretrain.filter((p) => p.arm === vanilla);
  const seen = new Map(records.benchmarks.filter((b) => b.group === 'seen').map((b) => [b.kind, b]));
  return records.benchmarks
    .filter((b) => b.group !== 'seen')
    .map((b) => {
      const runs = [...records.pretrain, ...records.domain.map((d) => ({ ...d, arm: `domain-${d.variant}` }))];
      const tables = runs.map((r) => r.scores.items[b.name]).filter((x): x is number[] => x !== undefined);
      const allZero = tables.length > 0 && tables.every((row) => row.every((v) => v === 0));
      const answersVary = b.majorityShare <= b.chance + 0.1;
      const s = seen.get(b.kind);
      const seenScore = s ? compare([s.name], vanillaRuns, null, seeds)?.score : undefined;
      const inDistribution = s && seenScore ? { task: s.name, chance: s.chance, score: seenScore } : null;
      const aboveChanceInDistribution = inDistribution !== null && inDistribution.score.lo > inDistribution.chance;
      const reasons: string[] = [];
      if (!answersVary) reasons.push(`the most frequent answer is ${(100 * b.majorityShare).toFixed(0)}% of the items`);
      if (allZero) reasons.push('every arm scores 0');
      if (!inDistribution) reasons.push(`no seen-group ${b.kind} task to check the vanilla model on`);
      else if (!aboveChanceInDistribution)
        reasons.push(
          `vanilla is not above chance even on pre-training passages (${fmt(inDistribution.score.mean)} [${fmt(inDistribution.score.lo)}, ${fmt(inDistribution.score.hi)}], chance ${fmt(inDistribution.chance)})`,
        );
      const discordances = records.pretrain
        .filter((p) => p.arm !== vanilla)
        .map((p) => {
          const v = vanillaRuns.find((x) => x.seed === p.seed)?.scores.items[b.name];
          const a = p.scores.items[b.name];
          return v && a ? measuredDiscordance([a], [v]) : undefined;
        })
        .filter((x): x is number => x !== undefined);
      const discordance = discordances.length ? discordances.reduce((x, y) => x + y, 0) / discordances.length : null;
      const opts = { alpha: POWER.alpha, power: POWER.power };
      return {
        task: b.name,
        group: b.group,
        kind: b.kind,
        shots: b.shots,
        items: b.examples,
        chance: b.chance,
        majorityShare: b.majorityShare,
        answersVary,
        allZero,
        inDistribution,
        aboveChanceInDistribution,
        headline: reasons.length === 0,
        reasons,
        power: {
          itemsFor005AtChance: itemsToDetect(POWER.delta, discordanceAtChance(b.chance, POWER.delta), opts),
          itemsFor005Measured:
            discordance !== null && discordance > 0 ? itemsToDetect(POWER.delta, discordance, opts) : null,
          discordance,
          detectableAtChance: detectableDifference(b.examples, (d) => discordanceAtChance(b.chance, d), opts),
        },
      };
    });
}

/** Per task and arm: score and paired gain against the baseline. */
export function scoreRows(
  records: AblationRecords,
  criteria: TaskCriteria[],
  arms: string[],
  baseline: string,
): ScoreRow[] {
  const seeds = records.config.seeds;
  const rows: ScoreRow[] = [];
  const base = records.pretrain.filter((p) => p.arm === baseline);
  for (const c of criteria) {
    for (const arm of arms) {
      const r = compare(
        [c.task],
        records.pretrain.filter((p) => p.arm === arm),
        arm === baseline ? null : base,
        seeds,
      );
      if (!r) continue;
      rows.push({
        group: c.group,
        task: c.task,
        kind: c.kind,
        shots: c.shots,
        arm,
        chance: c.chance,
        headline: c.headline,
        score: r.score,
        gain: r.gain,
      });
    }
  }
  return rows;
}

/** Per group and shot count: the average over the headline tasks, and over every task. */
export function summaryRows(
  records: AblationRecords,
  criteria: TaskCriteria[],
  arms: string[],
  baseline: string,
): SummaryRow[] {
  const seeds = records.config.seeds;
  const base = records.pretrain.filter((p) => p.arm === baseline);
  const rows: SummaryRow[] = [];
  for (const key of [...new Set(criteria.map((c) => `${c.group}|${c.shots}`))]) {
    const [group, shots] = [key.split('|')[0], Number(key.split('|')[1])];
    const inGroup = criteria.filter((c) => c.group === group && c.shots === shots);
    for (const headline of [true, false]) {
      const chosen = inGroup.filter((c) => !headline || c.headline);
      if (!chosen.length) continue;
      const tasks = chosen.map((c) => c.task);
      const chance = chosen.reduce((s, c) => s + c.chance, 0) / chosen.length;
      for (const arm of arms) {
        const r = compare(
          tasks,
          records.pretrain.filter((p) => p.arm === arm),
          arm === baseline ? null : base,
          seeds,
        );
        if (r) rows.push({ group, shots, arm, headline, tasks, chance, score: r.score, gain: r.gain });
      }
    }
  }
  return rows;
}

export type DomainRow = {
  model: string;
  group: string;
  headline: boolean;
  tasks: string[];
  chance: number;
  score: Estimate;
  gainOverRaw: Gain | null;
};

/**
 * Domain-adaptive continual pre-training: vanilla before, raw and instruct after, on the domain and
 * general 0-shot tasks (headline tasks when any pass, else every task, said by `headline`).
 */
export function domainRows(records: AblationRecords, criteria: TaskCriteria[], vanilla: string): DomainRow[] {
  const seeds = records.config.seeds;
  const rows: DomainRow[] = [];
  for (const group of ['domain', 'general']) {
    const all = criteria.filter((c) => c.group === group && c.shots === 0);
    const passing = all.filter((c) => c.headline);
    const chosen = passing.length ? passing : all;
    if (!chosen.length) continue;
    const tasks = chosen.map((c) => c.task);
    const chance = chosen.reduce((s, c) => s + c.chance, 0) / chosen.length;
    const before = compare(
      tasks,
      records.pretrain.filter((p) => p.arm === vanilla),
      null,
      seeds,
    );
    if (before)
      rows.push({
        model: 'vanilla (before)',
        group,
        headline: passing.length > 0,
        tasks,
        chance,
        score: before.score,
        gainOverRaw: null,
      });
    const raw = records.domain.filter((d) => d.variant === 'raw');
    for (const variant of ['raw', 'instruct']) {
      const r = compare(
        tasks,
        records.domain.filter((d) => d.variant === variant),
        variant === 'raw' ? null : raw,
        seeds,
      );
      if (r)
        rows.push({
          model: `continual: ${variant}`,
          group,
          headline: passing.length > 0,
          tasks,
          chance,
          score: r.score,
          gainOverRaw: r.gain,
        });
    }
  }
  return rows;
}

export type TuningCurve = { arm: string; tasks: string[]; headline: boolean; step: number[]; score: Estimate[] };

/** Instruction tuning: the general 0-shot average (headline tasks, else all) at each evaluated step, over seeds and items. */
export function tuningCurves(records: AblationRecords, criteria: TaskCriteria[]): TuningCurve[] {
  const all = criteria.filter((c) => c.group === 'general' && c.shots === 0);
  const passing = all.filter((c) => c.headline);
  const tasks = (passing.length ? passing : all).map((c) => c.task);
  if (!tasks.length) return [];
  return [...new Set(records.tuning.map((t) => t.arm))].map((arm) => {
    const runs = records.tuning.filter((t) => t.arm === arm);
    const steps = [...new Set(runs.flatMap((r) => r.points.map((p) => p.step)))]
      .sort((a, b) => a - b)
      .filter((s) => runs.every((r) => r.points.some((p) => p.step === s)));
    const score = steps.map(
      (step) =>
        compare(
          tasks,
          runs.map((r) => ({ seed: r.seed, scores: r.points.find((p) => p.step === step)! })),
          null,
          records.config.seeds,
        )!.score,
    );
    return { arm, tasks, headline: passing.length > 0, step: steps, score };
  });
}

/** Mean curve over seeds: at each step present in every seed, the mean (and standard error) of `value`. */
export function meanCurve<P extends { step: number }>(
  runs: P[][],
  value: (p: P) => number,
): { step: number[]; mean: number[]; se: Array<number | null> } {
  const steps = [...new Set(runs.flat().map((p) => p.step))]
    .sort((a, b) => a - b)
    .filter((s) => runs.every((r) => r.some((p) => p.step === s)));
  const out = { step: [] as number[], mean: [] as number[], se: [] as Array<number | null> };
  for (const s of steps) {
    const e = meanWithStderr(runs.map((r) => value(r.find((p) => p.step === s)!)));
    out.step.push(s);
    out.mean.push(e.mean);
    out.se.push(e.se);
  }
  return out;
}

function fmt(x: number, digits = 3): string {
  return x.toFixed(digits);
}

/** "0.412 [0.377, 0.447]". */
export function formatEstimate(e: Pick<Estimate, 'mean' | 'lo' | 'hi'> | null, digits = 3): string {
  if (!e) return '';
  return `${fmt(e.mean, digits)} [${fmt(e.lo, digits)}, ${fmt(e.hi, digits)}]`;
}

/** "+0.021 [-0.010, +0.052] within noise". */
export function formatGain(e: Gain | null, digits = 3): string {
  if (!e) return '—';
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x, digits)}`;
  return `${signed(e.mean)} [${signed(e.lo)}, ${signed(e.hi)}] ${e.verdict}`;
}

export function describeBenchmark(b: Pick<BenchmarkInfo, 'group' | 'kind' | 'shots'>): string {
  return `${b.group}/${b.kind}/${b.shots}-shot`;
}
