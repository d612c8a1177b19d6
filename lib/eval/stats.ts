// The kit's statistics, one definition of each: the mean with its standard error, intervals that include
// item sampling, verdicts on paired gains, and the number of items a benchmark needs to detect a given
// difference. Plotting and reporting modules only display what these compute.
//
// A benchmark score averages over items drawn from a population of possible questions and over models
// drawn from a population of training seeds: seed-to-seed spread alone ignores that a task of 30 questions
// could have been 30 other questions; item spread alone ignores that another seed trains another model.
// Seeds and items are crossed (every seed's model answers every item), so a score's variance has three
// parts, seed / S + item / I + seed-by-item residual / (S I) (a two-way random-effects model).
//
// The kit's intervals (`linearEstimate`, `scoreEstimate`, `gainEstimate`) use that variance, estimated
// from ANOVA mean squares: unbiased, deterministic, fast. A two-level bootstrap (`bootstrapReplicates`:
// resample seeds, and items within each task, the same items for every arm) is here too and agrees on
// large data, but resampling both ways counts the residual about three times; with the kit's 2-3 seeds
// and models near chance the residual dominates, and the bootstrap's intervals come out up to 1.7 times
// too wide (test/eval/stats.test.ts measures both coverages). Gains are paired: the variance is that of
// the per-item differences between two arms (same seed, same item), so shared noise cancels.

import { createRng, deriveSeed } from '../repro/rng.js';

export type MeanEstimate = {
  mean: number;
  /** null for a single value: one value says nothing of its spread */ se: number | null;
  n: number;
};

/** Mean and standard error of the mean (sample standard deviation / sqrt(n)). */
export function meanWithStderr(values: readonly number[]): MeanEstimate {
  const n = values.length;
  if (n === 0) throw new RangeError('meanWithStderr needs at least one value');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, se: null, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n), n };
}

// ------------------------------------------------------------------------------------------- normal

/**
 * Quantile of the standard normal distribution (Acklam's rational approximation, relative error below
 * 1.2e-9 over (0, 1)).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

// ---------------------------------------------------------------------------------------- intervals

export type Interval = { lo: number; hi: number };
/** A score or a gain with its interval: `level` (e.g. 0.95) of the bootstrap distribution lies in [lo, hi]. */
export type IntervalEstimate = {
  mean: number;
  lo: number;
  hi: number;
  /** standard error: from the variance, or the standard deviation of bootstrap replicates */ se: number;
  level: number;
};

export type Verdict = 'gain' | 'loss' | 'within noise';

/** A gain is a gain only when its whole interval is above zero; a loss only when it is below. */
export function verdictOf(interval: Interval): Verdict {
  if (interval.lo > 0) return 'gain';
  if (interval.hi < 0) return 'loss';
  return 'within noise';
}

/** The value below which a share `p` of the sorted values lies (linear interpolation, as numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of no values');
  const at = p * (n - 1);
  const i = Math.floor(at);
  const f = at - i;
  return i + 1 < n ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/** Percentile interval of bootstrap replicates around the point estimate computed on the data itself. */
export function percentileInterval(point: number, replicates: ArrayLike<number>, level = 0.95): IntervalEstimate {
  const sorted = Float64Array.from(replicates).sort();
  const alpha = (1 - level) / 2;
  let m = 0;
  for (const v of sorted) m += v;
  m /= sorted.length;
  let ss = 0;
  for (const v of sorted) ss += (v - m) ** 2;
  return {
    mean: point,
    lo: quantileSorted(sorted, alpha),
    hi: quantileSorted(sorted, 1 - alpha),
    se: Math.sqrt(ss / Math.max(1, sorted.length - 1)),
    level,
  };
}

/** mean ± z * se: the normal-approximation interval. */
export function normalInterval(mean: number, se: number, level = 0.95): IntervalEstimate {
  const z = normalQuantile(1 - (1 - level) / 2);
  return { mean, lo: mean - z * se, hi: mean + z * se, se, level };
}

// ---------------------------------------------------------------------------------- the bootstrap

/**
 * Per-item scores of one task: for each arm, one row per seed (in the order of `seeds`), one value per
 * item (in the same item order for every arm and seed). Multiple choice gives 0/1, generation a token F1.
 */
export type TaskItemScores = Record<string, number[][]>;

export type BootstrapOptions = {
  /** Replicates (default 2000). */
  replicates?: number;
  /** Seed of the resampling: the same data and seed give the same intervals. */
  seed: number;
  /** Resample seeds (default true; with one seed there is nothing to resample). */
  resampleSeeds?: boolean;
  /** Resample items (default true). */
  resampleItems?: boolean;
};

/** Bootstrap replicates of every task's score for every arm: replicates[task][arm][b]. */
export type Replicates = {
  count: number;
  tasks: Record<string, Record<string, Float64Array>>;
  point: Record<string, Record<string, number>>;
};

function checkShape(name: string, scores: TaskItemScores, seeds: number): number {
  let items = -1;
  for (const [arm, rows] of Object.entries(scores)) {
    if (rows.length !== seeds)
      throw new RangeError(`task ${name}, arm ${arm}: ${rows.length} seed rows, expected ${seeds}`);
    for (const row of rows) {
      if (items < 0) items = row.length;
      if (row.length !== items)
        throw new RangeError(
          `task ${name}, arm ${arm}: rows of ${row.length} and ${items} items; every arm and seed must answer the same items`,
        );
    }
  }
  if (items <= 0) throw new RangeError(`task ${name} has no items`);
  return items;
}

function mean2(rows: number[][]): number {
  let s = 0;
  let n = 0;
  for (const r of rows) for (const v of r) ((s += v), n++);
  return s / n;
}

/**
 * The two-level (crossed) bootstrap: each replicate draws `seedCount` seed rows with replacement (one draw for
 * every task and arm) and, for each task, its items with replacement (one draw for every arm and seed).
 * Returns each task's score per arm in every replicate and on the data itself; averages over tasks and
 * differences between arms are then taken replicate by replicate (`combine`).
 */
export function bootstrapReplicates(
  tasks: Record<string, TaskItemScores>,
  seedCount: number,
  options: BootstrapOptions,
): Replicates {
  const B = options.replicates ?? 2000;
  if (!(Number.isInteger(B) && B >= 1)) throw new RangeError(`replicates must be a positive integer, got ${B}`);
  if (!(Number.isInteger(seedCount) && seedCount >= 1))
    throw new RangeError(`seedCount must be a positive integer, got ${seedCount}`);
  const names = Object.keys(tasks).sort();
  const sizes = new Map(names.map((t) => [t, checkShape(t, tasks[t], seedCount)]));
  const out: Replicates = { count: B, tasks: {}, point: {} };
  for (const t of names) {
    out.tasks[t] = Object.fromEntries(Object.keys(tasks[t]).map((a) => [a, new Float64Array(B)]));
    out.point[t] = Object.fromEntries(Object.entries(tasks[t]).map(([a, rows]) => [a, mean2(rows)]));
  }
  const seedRng = createRng(deriveSeed(options.seed, 'bootstrap-seeds'));
  const itemRng = new Map(names.map((t) => [t, createRng(deriveSeed(options.seed, 'bootstrap-items', t))]));
  const resampleSeeds = options.resampleSeeds !== false && seedCount > 1;
  const resampleItems = options.resampleItems !== false;
  const seedWeights = new Float64Array(seedCount);
  for (let b = 0; b < B; b++) {
    seedWeights.fill(resampleSeeds ? 0 : 1);
    if (resampleSeeds) for (let k = 0; k < seedCount; k++) seedWeights[seedRng.int(seedCount)] += 1;
    for (const t of names) {
      const n = sizes.get(t)!;
      const itemWeights = new Float64Array(n).fill(resampleItems ? 0 : 1);
      if (resampleItems) {
        const rng = itemRng.get(t)!;
        for (let k = 0; k < n; k++) itemWeights[rng.int(n)] += 1;
      }
      for (const [arm, rows] of Object.entries(tasks[t])) {
        let s = 0;
        for (let k = 0; k < seedCount; k++) {
          const w = seedWeights[k];
          if (w === 0) continue;
          const row = rows[k];
          let r = 0;
          for (let i = 0; i < n; i++) r += itemWeights[i] * row[i];
          s += w * r;
        }
        out.tasks[t][arm][b] = s / (seedCount * n);
      }
    }
  }
  return out;
}

/**
 * A statistic of task scores, computed on the data and on every replicate: `f` gets one arm-by-task
 * lookup and returns a number (a group average, a paired gain, a gain of averages).
 */
export function combine(
  reps: Replicates,
  f: (score: (task: string, arm: string) => number) => number,
  level = 0.95,
): IntervalEstimate {
  const point = f((t, a) => lookup(reps.point, t, a));
  const values = new Float64Array(reps.count);
  for (let b = 0; b < reps.count; b++) values[b] = f((t, a) => lookup(reps.tasks, t, a)[b]);
  return percentileInterval(point, values, level);
}

function lookup<T>(m: Record<string, Record<string, T>>, task: string, arm: string): T {
  const v = m[task]?.[arm];
  if (v === undefined) throw new RangeError(`no scores for task ${task}, arm ${arm}`);
  return v;
}

/** The average over `tasks` of one arm's task scores, with its interval. */
export function bootstrapScore(
  reps: Replicates,
  tasks: readonly string[],
  arm: string,
  level = 0.95,
): IntervalEstimate {
  if (tasks.length === 0) throw new RangeError('a group average needs at least one task');
  return combine(reps, (score) => tasks.reduce((s, t) => s + score(t, arm), 0) / tasks.length, level);
}

/** arm minus baseline of the average over `tasks`, paired by seed and item, with its interval and verdict. */
export function bootstrapGain(
  reps: Replicates,
  tasks: readonly string[],
  arm: string,
  baseline: string,
  level = 0.95,
): IntervalEstimate & { verdict: Verdict } {
  if (tasks.length === 0) throw new RangeError('a gain needs at least one task');
  const e = combine(
    reps,
    (score) => tasks.reduce((s, t) => s + score(t, arm) - score(t, baseline), 0) / tasks.length,
    level,
  );
  return { ...e, verdict: verdictOf(e) };
}

// ------------------------------------------------------------------------------- analytic variance

/**
 * Variance components of a seeds x items table (two-way random effects, one value per cell) and the
 * variance of its grand mean: sigma2_seed / S + sigma2_item / I + sigma2_residual / (S I), from the
 * ANOVA mean squares, E[MS_seed] = s2e + I s2s, E[MS_item] = s2e + S s2i, E[MS_resid] = s2e. Applied to
 * per-item differences between two arms it is the variance of a paired gain. An independent check of
 * the bootstrap, and a normal-approximation interval of its own.
 */
export function crossedVariance(table: SeedItemTable): {
  meanVariance: number;
  seed: number;
  item: number;
  residual: number;
} {
  const S = table.length;
  const I = table[0]?.length ?? 0;
  if (S === 0 || I === 0 || table.some((r) => r.length !== I))
    throw new RangeError('crossedVariance needs a non-empty rectangular table');
  const { msSeed, msItem, msResid } = meanSquares(table);
  const residual = msResid;
  const seed = S > 1 ? Math.max(0, (msSeed - msResid) / I) : 0;
  const item = I > 1 ? Math.max(0, (msItem - msResid) / S) : 0;
  return { meanVariance: seed / S + item / I + residual / (S * I), seed, item, residual };
}

/** Seeds x items table of one task, one value per cell (a score, or a per-item difference between two arms). */
export type SeedItemTable = number[][];

export type LinearEstimate = IntervalEstimate & {
  /** Variance of the estimate from seeds and from items (with the seed-by-item residual). */
  variance: { seeds: number; items: number };
  seeds: number;
  items: number;
};

/**
 * The average over tasks of each task's grand mean, with a normal interval from the crossed design's
 * variance. Items differ between tasks (independent); seeds are shared (one seed is one model that
 * answers every task), so the seed part is estimated from the per-seed averages over tasks:
 *   Var = max(0, var_s(g_s) - sum_t MS_resid,t / (T^2 I_t)) / S + sum_t MS_item,t / (T^2 S I_t),
 * where g_s is seed s's average over tasks and the MS are each task's ANOVA mean squares. With one seed
 * the seed part cannot be estimated and is 0 (the interval then covers item sampling only).
 */
export function linearEstimate(tables: readonly SeedItemTable[], level = 0.95): LinearEstimate {
  const T = tables.length;
  if (T === 0) throw new RangeError('linearEstimate needs at least one table');
  const S = tables[0].length;
  if (S === 0 || tables.some((t) => t.length !== S))
    throw new RangeError('every table needs the same, non-zero number of seed rows');
  let itemPart = 0;
  let residualOfSeedMeans = 0;
  const seedAverages = new Array<number>(S).fill(0);
  let items = 0;
  for (const table of tables) {
    const I = table[0].length;
    if (I === 0 || table.some((r) => r.length !== I))
      throw new RangeError('a table needs the same, non-zero number of items in every seed row');
    items += I;
    const { msItem, msResid } = meanSquares(table);
    // with one seed, MS_item is the items' own variance: sigma2_item + residual, as wanted
    itemPart += msItem / (T * T * S * I);
    residualOfSeedMeans += msResid / (T * T * I);
    table.forEach((row, s) => (seedAverages[s] += row.reduce((a, b) => a + b, 0) / I / T));
  }
  const mean = seedAverages.reduce((a, b) => a + b, 0) / S;
  let seedPart = 0;
  if (S > 1) {
    const varSeed = seedAverages.reduce((a, g) => a + (g - mean) ** 2, 0) / (S - 1);
    seedPart = Math.max(0, varSeed - residualOfSeedMeans) / S;
  }
  const iv = normalInterval(mean, Math.sqrt(seedPart + itemPart), level);
  return { ...iv, variance: { seeds: seedPart, items: itemPart }, seeds: S, items };
}

function meanSquares(table: SeedItemTable): { msSeed: number; msItem: number; msResid: number } {
  const S = table.length;
  const I = table[0].length;
  const grand = mean2(table);
  const seedMeans = table.map((r) => r.reduce((a, b) => a + b, 0) / I);
  const itemMeans = Array.from({ length: I }, (_, i) => table.reduce((a, r) => a + r[i], 0) / S);
  let ssSeed = 0;
  for (const m of seedMeans) ssSeed += I * (m - grand) ** 2;
  let ssItem = 0;
  for (const m of itemMeans) ssItem += S * (m - grand) ** 2;
  let ssResid = 0;
  for (let s = 0; s < S; s++)
    for (let i = 0; i < I; i++) ssResid += (table[s][i] - seedMeans[s] - itemMeans[i] + grand) ** 2;
  return {
    msSeed: S > 1 ? ssSeed / (S - 1) : 0,
    msItem: I > 1 ? ssItem / (I - 1) : 0,
    msResid: S > 1 && I > 1 ? ssResid / ((S - 1) * (I - 1)) : 0,
  };
}

/** An arm's average score over tasks (one seeds x items table per task), with its interval. */
export function scoreEstimate(tasks: readonly SeedItemTable[], level = 0.95): LinearEstimate {
  return linearEstimate(tasks, level);
}

/**
 * arm minus baseline, averaged over tasks, paired by seed and item (tables in the same task order, rows
 * in the same seed order), with its interval and verdict.
 */
export function gainEstimate(
  arm: readonly SeedItemTable[],
  baseline: readonly SeedItemTable[],
  level = 0.95,
): LinearEstimate & { verdict: Verdict } {
  if (arm.length !== baseline.length)
    throw new RangeError(`${arm.length} tasks for the arm but ${baseline.length} for the baseline`);
  const diffs = arm.map((t, k) => {
    const b = baseline[k];
    if (t.length !== b.length || t.some((row, s) => row.length !== b[s].length))
      throw new RangeError(`task ${k}: the arm and the baseline must answer the same items with the same seeds`);
    return t.map((row, s) => row.map((v, i) => v - b[s][i]));
  });
  const e = linearEstimate(diffs, level);
  return { ...e, verdict: verdictOf(e) };
}

// ------------------------------------------------------------------------------------------- power

export type PowerOptions = { alpha?: number; power?: number };

/**
 * Items needed to detect a difference `delta` between two arms answering the same items (paired
 * proportions, McNemar's test; Connor 1987): n = (z_a sqrt(psi) + z_b sqrt(psi - delta^2))^2 / delta^2,
 * where psi is the share of items on which the two arms disagree (discordance). Defaults: alpha 0.05
 * two-sided, power 0.8.
 */
export function itemsToDetect(delta: number, discordance: number, options: PowerOptions = {}): number {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  const psi = Math.max(discordance, delta); // |p10 - p01| = delta cannot exceed p10 + p01
  const za = normalQuantile(1 - (options.alpha ?? 0.05) / 2);
  const zb = normalQuantile(options.power ?? 0.8);
  return Math.ceil((za * Math.sqrt(psi) + zb * Math.sqrt(psi - delta ** 2)) ** 2 / delta ** 2);
}

/**
 * The discordance of two arms near a task's chance level c that err independently given the item:
 * one right and the other wrong on (c + delta)(1 - c) + c(1 - c - delta) of the items. With models
 * that agree more often than that (they share training data) fewer items suffice: pass the measured
 * discordance to `itemsToDetect` instead.
 */
export function discordanceAtChance(chance: number, delta: number): number {
  const p1 = Math.min(1, chance + delta);
  return p1 * (1 - chance) + chance * (1 - p1);
}

/** The smallest difference `n` paired items detect (alpha, power as in itemsToDetect), by bisection. */
export function detectableDifference(
  items: number,
  discordance: (delta: number) => number,
  options: PowerOptions = {},
): number {
  if (!(items >= 1)) throw new RangeError(`items must be at least 1, got ${items}`);
  let lo = 1e-4;
  let hi = 0.999;
  if (itemsToDetect(hi, discordance(hi), options) > items) return 1;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (itemsToDetect(mid, discordance(mid), options) <= items) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The share of items on which two 0/1 score rows disagree, averaged over seeds (rows paired by seed). */
export function measuredDiscordance(a: number[][], b: number[][]): number {
  let d = 0;
  let n = 0;
  a.forEach((row, s) =>
    row.forEach((v, i) => {
      d += v >= 0.5 !== b[s][i] >= 0.5 ? 1 : 0;
      n++;
    }),
  );
  return n ? d / n : 0;
}
