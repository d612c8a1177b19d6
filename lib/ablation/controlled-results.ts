// The controlled experiment's numbers (results.json's `controlled` section), computed from the records'
// per-item scores with the kit's statistics (lib/eval/stats.ts): every score with its chance level and a
// 95% interval over items and seeds, every gain paired by seed and item against vanilla (or, after
// instruction tuning, against tuned vanilla) with its interval and verdict, and scores per attribute.

import { gainEstimate, scoreEstimate, type LinearEstimate, type SeedItemTable, type Verdict } from '../eval/stats.js';
import { armSeeds } from './controlled-config.js';
import {
  MEASURE_DESCRIPTIONS,
  TEST_DESCRIPTIONS,
  type ControlledRecords,
  type ControlledRun,
  type Measure,
  type TestName,
} from './controlled.js';

export type ControlledEstimate = Pick<LinearEstimate, 'mean' | 'lo' | 'hi' | 'se' | 'seeds' | 'items'>;
export type ControlledGain = ControlledEstimate & { verdict: Verdict; baseline: string };

export type ControlledRow = {
  test: TestName;
  measure: Measure;
  /** acc: multiple choice by log-likelihood; exact_match: greedy generation equals the value. */
  metric: 'acc' | 'exact_match';
  task: string;
  arm: string;
  /** After instruction tuning. */
  tuned: boolean;
  chance: number;
  score: ControlledEstimate;
  /** Paired against vanilla (tuned against tuned vanilla) on the same seeds and items; null for vanilla itself. */
  gain: ControlledGain | null;
  /** Mean score per attribute asked (seeds and items pooled). */
  byAttribute: Record<string, number>;
};

export type ControlledResults = {
  /** What each test asks, and how each measure answers, in words. */
  tests: Record<TestName, string>;
  measures: Record<Measure, string>;
  arms: Array<{ name: string; kind: string; seeds: number[]; description: string }>;
  tokensPerRun: number;
  rows: ControlledRow[];
  /** Instruction tuning's own effect per arm (tuned minus the same arm before tuning, same seed and item). */
  tuningEffect: Array<{ arm: string; test: TestName; measure: Measure; task: string; gain: ControlledGain }>;
  synthesis: ControlledRecords['synthesis'];
  corpora: Record<
    string,
    {
      documents: number;
      tokens: number;
      pairsKept: number | null;
      droppedHeldOutAttribute: number | null;
      droppedHeldOutWording: number | null;
      pairsByAttribute: Record<string, number> | null;
    }
  >;
  /** Per run: tokens, steps, final loss (wall times are in the run's stage timings, which vary between runs). */
  training: Array<{
    arm: string;
    seed: number;
    tuned: boolean;
    tokens: number;
    steps: number;
    finalLoss: number | null;
  }>;
};

const pick = (e: LinearEstimate): ControlledEstimate => ({
  mean: e.mean,
  lo: e.lo,
  hi: e.hi,
  se: e.se,
  seeds: e.seeds,
  items: e.items,
});

function table(runs: ControlledRun[], task: string): SeedItemTable {
  return runs.map((r) => {
    const items = r.scores.items[task];
    if (!items) throw new Error(`the controlled run ${r.arm} seed ${r.seed} has no scores for ${task}`);
    return items;
  });
}

function runsOf(records: ControlledRecords, arm: string, tuned: boolean, seeds: number[]): ControlledRun[] {
  return seeds.map((seed) => {
    const run = records.runs.find((r) => r.arm === arm && r.tuned === tuned && r.seed === seed);
    if (!run) throw new Error(`the controlled experiment has no ${tuned ? 'tuned ' : ''}${arm} model for seed ${seed}`);
    return run;
  });
}

function byAttribute(records: ControlledRecords, runs: ControlledRun[], task: string): Record<string, number> {
  const info = records.taskItems[task];
  const sums: Record<string, { total: number; n: number }> = {};
  for (const r of runs) {
    r.scores.items[task].forEach((v, i) => {
      const a = info[i].attribute;
      sums[a] ??= { total: 0, n: 0 };
      sums[a].total += v;
      sums[a].n++;
    });
  }
  return Object.fromEntries(Object.entries(sums).map(([a, s]) => [a, s.total / s.n]));
}

export function computeControlledResults(records: ControlledRecords): ControlledResults {
  const c = records.config;
  const vanilla = c.arms.find((a) => a.kind === 'vanilla' && a.seeds === undefined)!.name;
  const rows: ControlledRow[] = [];
  const tuningEffect: ControlledResults['tuningEffect'] = [];
  for (const task of records.tasks) {
    for (const tuned of [false, true]) {
      for (const arm of c.arms) {
        if (tuned && !c.tuning.arms.includes(arm.name)) continue;
        const seeds = armSeeds(c, arm);
        if (!records.runs.some((r) => r.arm === arm.name && r.tuned === tuned && r.scores.items[task.name])) continue;
        const runs = runsOf(records, arm.name, tuned, seeds);
        const score = scoreEstimate([table(runs, task.name)]);
        let gain: ControlledGain | null = null;
        if (arm.name !== vanilla && (!tuned || c.tuning.arms.includes(vanilla))) {
          const base = runsOf(records, vanilla, tuned, seeds);
          const g = gainEstimate([table(runs, task.name)], [table(base, task.name)]);
          gain = { ...pick(g), verdict: g.verdict, baseline: tuned ? `${vanilla} + tuning` : vanilla };
        }
        rows.push({
          test: task.test,
          measure: task.measure,
          metric: task.metric,
          task: task.name,
          arm: arm.name,
          tuned,
          chance: task.chance,
          score: pick(score),
          gain,
          byAttribute: byAttribute(records, runs, task.name),
        });
        if (tuned) {
          const before = runsOf(records, arm.name, false, seeds);
          const g = gainEstimate([table(runs, task.name)], [table(before, task.name)]);
          tuningEffect.push({
            arm: arm.name,
            test: task.test,
            measure: task.measure,
            task: task.name,
            gain: { ...pick(g), verdict: g.verdict, baseline: `${arm.name} before tuning` },
          });
        }
      }
    }
  }
  return {
    tests: TEST_DESCRIPTIONS,
    measures: MEASURE_DESCRIPTIONS,
    arms: c.arms.map((a) => ({ name: a.name, kind: a.kind, seeds: armSeeds(c, a), description: a.description })),
    tokensPerRun: (c.pretrain.steps ?? 0) * (c.pretrain.batchSize ?? 0) * (c.model.contextLength ?? 0),
    rows,
    tuningEffect,
    synthesis: records.synthesis,
    corpora: Object.fromEntries(
      Object.entries(records.corpora).map(([name, x]) => [
        name,
        {
          documents: x.documents,
          tokens: x.tokens,
          pairsKept: x.filter?.kept ?? null,
          droppedHeldOutAttribute: x.filter?.heldOutAttribute ?? null,
          droppedHeldOutWording: x.filter?.heldOutWording ?? null,
          pairsByAttribute: x.pairsByAttribute,
        },
      ]),
    ),
    training: records.runs.map((r) => ({
      arm: r.arm,
      seed: r.seed,
      tuned: r.tuned,
      tokens: r.train.tokens,
      steps: r.train.steps,
      finalLoss: r.train.finalLoss,
    })),
  };
}

/** The row of one arm on one task (before or after tuning), if the experiment has it. */
export function controlledRow(
  results: ControlledResults,
  arm: string,
  task: string,
  tuned = false,
): ControlledRow | undefined {
  return results.rows.find((r) => r.arm === arm && r.task === task && r.tuned === tuned);
}
