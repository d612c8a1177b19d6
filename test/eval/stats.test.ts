// The kit's statistics: hand-computed cases, the bootstrap against the analytic crossed-design variance on
// large synthetic data, coverage of the 95% interval on simulated benchmarks, the power formula against a
// simulated McNemar test, and determinism for a seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapReplicates,
  crossedVariance,
  detectableDifference,
  discordanceAtChance,
  bootstrapScore,
  gainEstimate,
  linearEstimate,
  itemsToDetect,
  meanWithStderr,
  measuredDiscordance,
  normalInterval,
  normalQuantile,
  bootstrapGain,
  percentileInterval,
  quantileSorted,
  verdictOf,
  type TaskItemScores,
} from '../../lib/eval/stats.js';
import { createRng } from '../../lib/repro/rng.js';

const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tolerance ${tol})`);

test('mean and standard error: hand-computed, one value has no standard error, none is an error', () => {
  assert.deepEqual(meanWithStderr([2, 4, 6]), { mean: 4, se: Math.sqrt(4 / 3), n: 3 }); // sample variance 4, n 3
  assert.deepEqual(meanWithStderr([1, 1, 1, 1]), { mean: 1, se: 0, n: 4 });
  const r = meanWithStderr([1, 0, 1, 0]);
  close(r.se!, Math.sqrt(1 / 3 / 4), 1e-15);
  assert.deepEqual(meanWithStderr([5]), { mean: 5, se: null, n: 1 });
  assert.throws(() => meanWithStderr([]), /at least one value/);
});

test('normal quantiles match tabulated values', () => {
  close(normalQuantile(0.975), 1.959963985, 1e-8);
  close(normalQuantile(0.8), 0.8416212336, 1e-8);
  close(normalQuantile(0.01), -2.326347874, 1e-8);
  close(normalQuantile(0.5), 0, 1e-12);
  assert.throws(() => normalQuantile(1), /in \(0, 1\)/);
  const iv = normalInterval(0.1, 0.05);
  close(iv.lo, 0.1 - 1.959963985 * 0.05, 1e-8);
});

test('quantiles interpolate as numpy does; percentile interval keeps the point estimate', () => {
  const sorted = [1, 2, 3, 4, 5];
  assert.equal(quantileSorted(sorted, 0), 1);
  assert.equal(quantileSorted(sorted, 0.5), 3);
  assert.equal(quantileSorted(sorted, 0.1), 1.4);
  const iv = percentileInterval(2.5, [5, 1, 4, 2, 3], 0.8);
  assert.deepEqual([iv.mean, iv.lo, iv.hi], [2.5, 1.4, 4.6]);
  close(iv.se, Math.sqrt(2.5), 1e-12);
});

test('verdicts: a gain only when the whole interval is above zero', () => {
  assert.equal(verdictOf({ lo: 0.01, hi: 0.2 }), 'gain');
  assert.equal(verdictOf({ lo: -0.2, hi: -0.01 }), 'loss');
  assert.equal(verdictOf({ lo: -0.01, hi: 0.2 }), 'within noise');
  assert.equal(verdictOf({ lo: 0, hi: 0.2 }), 'within noise');
});

test('bootstrap: hand cases, paired by item and seed, deterministic for a seed', () => {
  // two seeds x four items; arm b is arm a with one item flipped to right in every seed
  const a = [
    [1, 0, 0, 1],
    [1, 1, 0, 0],
  ];
  const b = [
    [1, 0, 1, 1],
    [1, 1, 1, 0],
  ];
  const tasks: Record<string, TaskItemScores> = {
    t: { a, b },
    u: {
      a: [
        [1, 1],
        [0, 0],
      ],
      b: [
        [1, 1],
        [0, 0],
      ],
    },
  };
  const fixed = bootstrapReplicates(tasks, 2, { seed: 1, replicates: 5, resampleItems: false, resampleSeeds: false });
  assert.deepEqual([...fixed.tasks.t.a], [0.5, 0.5, 0.5, 0.5, 0.5]);
  assert.deepEqual(fixed.point.t, { a: 0.5, b: 0.75 });
  const reps = bootstrapReplicates(tasks, 2, { seed: 7, replicates: 500 });
  // identical rows give a zero gain in every replicate: pairing removes all noise
  const same = bootstrapGain(reps, ['u'], 'b', 'a');
  assert.deepEqual([same.mean, same.lo, same.hi, same.verdict], [0, 0, 0, 'within noise']);
  // the gain of t is the share of resampled items that are item 2: between 0 and 1, point 0.25
  const g = bootstrapGain(reps, ['t'], 'b', 'a');
  assert.equal(g.mean, 0.25);
  assert.ok(g.lo >= 0 && g.hi <= 1 && g.lo < 0.25 && g.hi > 0.25);
  const avg = bootstrapScore(reps, ['t', 'u'], 'a');
  assert.equal(avg.mean, (0.5 + 0.5) / 2);
  // determinism: same seed, same replicates; another seed, others
  const again = bootstrapReplicates(tasks, 2, { seed: 7, replicates: 500 });
  assert.deepEqual([...again.tasks.t.b], [...reps.tasks.t.b]);
  const other = bootstrapReplicates(tasks, 2, { seed: 8, replicates: 500 });
  assert.notDeepEqual([...other.tasks.t.b], [...reps.tasks.t.b]);
  assert.throws(() => bootstrapReplicates({ t: { a: [[1, 0]], b: [[1]] } }, 1, { seed: 1 }), /same items/);
  assert.throws(() => bootstrapReplicates({ t: { a: [[1, 0]] } }, 2, { seed: 1 }), /1 seed rows, expected 2/);
});

/** A simulated benchmark: p(seed s, item i) = 0.5 + shift + seed effect + item effect, answers drawn 0/1. */
function simulate(
  rng: ReturnType<typeof createRng>,
  seeds: number,
  items: number,
  opts: { seedSd: number; itemHalfWidth: number; shift?: number; itemEffects?: number[]; seedEffects?: number[] },
) {
  const itemEffects =
    opts.itemEffects ?? Array.from({ length: items }, () => (2 * rng.next() - 1) * opts.itemHalfWidth);
  const seedEffects =
    opts.seedEffects ?? Array.from({ length: seeds }, () => (2 * rng.next() - 1) * opts.seedSd * Math.sqrt(3));
  const table = seedEffects.map((a) => itemEffects.map((b) => (rng.next() < 0.5 + (opts.shift ?? 0) + a + b ? 1 : 0)));
  return { table, itemEffects, seedEffects };
}

/**
 * What the crossed bootstrap's standard error should be: the analytic variance plus twice the residual
 * part again (resampling seeds and items each re-draws the residual: Owen 2007's pigeonhole bootstrap).
 */
function bootstrapTheory(tables: number[][][]): number {
  const T = tables.length;
  const extra = tables.reduce((a, t) => a + (2 * crossedVariance(t).residual) / (T * T * t.length * t[0].length), 0);
  const e = linearEstimate(tables);
  return Math.sqrt(e.se ** 2 + extra);
}

const diff = (b: number[][], a: number[][]) => b.map((row, s) => row.map((v, i) => v - a[s][i]));

test('the analytic variance and the two-level bootstrap agree on large data (scores, paired gains, group averages), up to the residual the bootstrap counts three times', () => {
  const rng = createRng(11);
  const S = 100;
  const I = 400;
  const seedEffects = Array.from({ length: S }, () => (2 * rng.next() - 1) * 0.04 * Math.sqrt(3));
  const va = simulate(rng, S, I, { seedSd: 0.04, itemHalfWidth: 0.3, seedEffects });
  // arm b shares the items' difficulty and the seeds' luck (paired) and is 0.05 better
  const vb = simulate(rng, S, I, {
    seedSd: 0.04,
    itemHalfWidth: 0.3,
    shift: 0.05,
    itemEffects: va.itemEffects,
    seedEffects,
  });
  // a second task answered by the same models (same seed effects), other items
  const wa = simulate(rng, S, I, { seedSd: 0.04, itemHalfWidth: 0.2, seedEffects });
  const wb = simulate(rng, S, I, {
    seedSd: 0.04,
    itemHalfWidth: 0.2,
    shift: 0.02,
    itemEffects: wa.itemEffects,
    seedEffects,
  });
  const reps = bootstrapReplicates({ t: { a: va.table, b: vb.table }, u: { a: wa.table, b: wb.table } }, S, {
    seed: 3,
    replicates: 3000,
  });
  const score = linearEstimate([va.table]);
  close(score.se, Math.sqrt(crossedVariance(va.table).meanVariance), 1e-12, 'one task is the crossed variance');
  close(bootstrapScore(reps, ['t'], 'a').se / bootstrapTheory([va.table]), 1, 0.06, 'score se ratio');
  close(bootstrapScore(reps, ['t'], 'a').se / score.se, 1, 0.1, 'score se ratio to the analytic one');
  const gain = gainEstimate([vb.table], [va.table]);
  close(
    bootstrapGain(reps, ['t'], 'b', 'a').se / bootstrapTheory([diff(vb.table, va.table)]),
    1,
    0.06,
    'gain se ratio',
  );
  const group = gainEstimate([vb.table, wb.table], [va.table, wa.table]);
  close(
    bootstrapGain(reps, ['t', 'u'], 'b', 'a').se /
      bootstrapTheory([diff(vb.table, va.table), diff(wb.table, wa.table)]),
    1,
    0.06,
    'group gain se ratio',
  );
  close(
    bootstrapScore(reps, ['t', 'u'], 'a').se / bootstrapTheory([va.table, wa.table]),
    1,
    0.06,
    'group score se ratio',
  );
  // pairing matters: the gain's se is well below what two independent scores would give
  assert.ok(gain.se < score.se);
  assert.equal(gain.verdict, 'gain');
  close(group.mean, (gain.mean + gainEstimate([wb.table], [wa.table]).mean) / 2, 1e-12, 'group mean');
});

test('linear estimate: one seed covers item sampling only; shapes are checked', () => {
  const e = linearEstimate([[[1, 0, 1, 0]]]);
  close(e.se, Math.sqrt(1 / 3 / 4), 1e-15); // the items' sample variance / n
  assert.equal(e.variance.seeds, 0);
  assert.throws(() => gainEstimate([[[1, 0]]], [[[1, 0, 1]]]), /same items/);
  assert.throws(() => linearEstimate([[[1]], [[1], [0]]]), /same, non-zero number of seed rows/);
});

test('crossed variance: hand-computed components of a 2 x 2 table', () => {
  // values 0, 2 / 4, 6: seed means 1, 5; item means 2, 4; grand 3; no interaction
  const v = crossedVariance([
    [0, 2],
    [4, 6],
  ]);
  // MS_seed = 2 * ((1-3)^2 + (5-3)^2) / 1 = 16, MS_item = 2 * (1 + 1) = 4, MS_resid = 0
  assert.deepEqual(v, { seed: 8, item: 2, residual: 0, meanVariance: 8 / 2 + 2 / 2 });
});

test('coverage of the 95% interval on simulated benchmarks with 3 seeds: analytic near 95%, bootstrap conservative', () => {
  const rng = createRng(5);
  const datasets = 400;
  let analytic = 0;
  let analyticGain = 0;
  let boot = 0;
  for (let k = 0; k < datasets; k++) {
    // true mean 0.5, true gain 0.03: seed and item effects are symmetric around zero; models near chance
    const seedEffects = Array.from({ length: 3 }, () => (2 * rng.next() - 1) * 0.02 * Math.sqrt(3));
    const a = simulate(rng, 3, 150, { seedSd: 0.02, itemHalfWidth: 0.15, seedEffects });
    const b = simulate(rng, 3, 150, {
      seedSd: 0.02,
      itemHalfWidth: 0.15,
      shift: 0.03,
      itemEffects: a.itemEffects,
      seedEffects: seedEffects.map((x) => x + (2 * rng.next() - 1) * 0.01),
    });
    const e = linearEstimate([a.table]);
    if (e.lo <= 0.5 && 0.5 <= e.hi) analytic++;
    const g = gainEstimate([b.table], [a.table]);
    if (g.lo <= 0.03 && 0.03 <= g.hi) analyticGain++;
    const iv = bootstrapScore(bootstrapReplicates({ t: { a: a.table } }, 3, { seed: k, replicates: 300 }), ['t'], 'a');
    if (iv.lo <= 0.5 && 0.5 <= iv.hi) boot++;
  }
  const [ra, rg, rb] = [analytic / datasets, analyticGain / datasets, boot / datasets];
  assert.ok(ra >= 0.91 && ra <= 0.98, `analytic score coverage ${ra}`);
  assert.ok(rg >= 0.91 && rg <= 0.98, `analytic gain coverage ${rg}`);
  assert.ok(rb >= ra && rb >= 0.97, `bootstrap coverage ${rb} (conservative)`);
});

test('items to detect a paired difference: hand-computed, and a simulated McNemar test has the promised power', () => {
  // (1.959964 * sqrt(0.5) + 0.841621 * sqrt(0.5 - 0.0025))^2 / 0.0025 = 1567.4
  assert.equal(itemsToDetect(0.05, 0.5), 1568);
  // two 4-choice arms at chance that err independently: 0.3 * 0.75 + 0.25 * 0.7 = 0.4
  close(discordanceAtChance(0.25, 0.05), 0.4, 1e-12);
  const psi = 0.3;
  const n = itemsToDetect(0.05, psi);
  const rng = createRng(9);
  const p10 = (psi + 0.05) / 2;
  const p01 = (psi - 0.05) / 2;
  let rejected = 0;
  const trials = 1500;
  for (let t = 0; t < trials; t++) {
    let n10 = 0;
    let n01 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (u < p10) n10++;
      else if (u < p10 + p01) n01++;
    }
    if ((n10 - n01) / Math.sqrt(n10 + n01) > 1.959964) rejected++;
  }
  close(rejected / trials, 0.8, 0.035, 'power');
  // the inverse: n items detect this difference
  const d = detectableDifference(n, () => psi);
  close(d, 0.05, 0.001, 'detectable difference');
  assert.equal(
    detectableDifference(3, () => 0.5),
    1,
  ); // too few items to detect anything
});

test('measured discordance counts disagreements per seed and item', () => {
  assert.equal(measuredDiscordance([[1, 0, 1, 1]], [[1, 1, 0, 1]]), 0.5);
  assert.equal(
    measuredDiscordance(
      [
        [1, 0],
        [0, 0],
      ],
      [
        [1, 0],
        [0, 1],
      ],
    ),
    0.25,
  );
});
