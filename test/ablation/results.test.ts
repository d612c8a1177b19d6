// The headline rules and the results' statistics on hand-made records: which tasks pass and why,
// averages over the passing tasks only, paired gains with verdicts, chance beside every score.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PROFILE } from '../../lib/ablation/config.js';
import { computeResults, resultsMarkdown } from '../../lib/ablation/outputs.js';
import type { AblationRecords, BenchmarkInfo, ModelScores } from '../../lib/ablation/records.js';
import { summaryRows, taskCriteria } from '../../lib/ablation/results.js';
import { gainEstimate } from '../../lib/eval/stats.js';

const N = 100;
const ones = (k: number) => Array.from({ length: N }, (_, i) => (i < k ? 1 : 0));

function bench(name: string, chance: number, majorityShare: number): BenchmarkInfo {
  const [group, kind] = name.split('/');
  return {
    name,
    group: group as BenchmarkInfo['group'],
    kind,
    shots: 0,
    type: 'multiple_choice',
    examples: N,
    chance,
    majorityShare,
  };
}

function scores(items: Record<string, number[]>): ModelScores {
  return {
    items,
    scores: Object.fromEntries(Object.entries(items).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length])),
    metrics: {},
  };
}

function records(): AblationRecords {
  const config = { ...DEFAULT_PROFILE, seeds: [1, 2], arms: DEFAULT_PROFILE.arms.slice(0, 2) };
  const benchmarks = [
    bench('general/yes_no/0-shot', 0.5, 0.5),
    bench('seen/yes_no/0-shot', 0.5, 0.5),
    bench('general/genre/0-shot', 0.25, 0.9), // one answer for 90% of the items
    bench('seen/genre/0-shot', 0.25, 0.3),
    bench('general/fill_blank/0-shot', 0.25, 0.01), // every arm scores 0
    bench('seen/fill_blank/0-shot', 0.25, 0.01),
    bench('general/ordering/0-shot', 0.5, 0.5), // vanilla at chance even on pre-training passages
    bench('seen/ordering/0-shot', 0.5, 0.5),
  ];
  const train = {
    modelDir: 'm',
    steps: 1,
    tokens: 1,
    finalLoss: null,
    finalValLoss: null,
    tokensPerSecond: null,
    seconds: 1,
  };
  const curve = { train: [], val: [] };
  // item i of a seed: vanilla right on the first k items; the arm on more of them
  const vanilla = (seed: number) =>
    scores({
      'general/yes_no/0-shot': ones(55 + seed),
      'seen/yes_no/0-shot': ones(80),
      'general/genre/0-shot': ones(80),
      'seen/genre/0-shot': ones(70),
      'general/fill_blank/0-shot': ones(0),
      'seen/fill_blank/0-shot': ones(60),
      'general/ordering/0-shot': ones(50),
      'seen/ordering/0-shot': ones(50),
    });
  const arm = (seed: number) =>
    scores({
      'general/yes_no/0-shot': ones(75 + seed),
      'general/genre/0-shot': ones(80),
      'general/fill_blank/0-shot': ones(0),
      'general/ordering/0-shot': ones(51),
    });
  return {
    config,
    split: { documents: {} as never, contexts: {} as never, input: {} as never },
    benchmarks,
    skippedBenchmarks: [],
    collection: { examples: 0, pairs: 0, sources: 0 },
    synthesis: {},
    synthesizers: {},
    tinyQuality: null,
    corpora: {},
    pretrain: [1, 2].flatMap((seed) => [
      { arm: 'vanilla', seed, train, scores: vanilla(seed), curve },
      { arm: config.arms[1].name, seed, train, scores: arm(seed), curve },
    ]),
    domain: [],
    tuning: [],
    pairs: {},
    tokenizerDir: 'tok',
    splitDir: 'split',
  };
}

test('headline rules: varied answers, not all zero, vanilla above chance in distribution; each failure says why', () => {
  const c = taskCriteria(records(), 'vanilla');
  const by = Object.fromEntries(c.map((x) => [x.kind, x]));
  assert.deepEqual(
    Object.keys(by).sort(),
    ['fill_blank', 'genre', 'ordering', 'yes_no'],
    'seen tasks are checks, not rows',
  );
  assert.equal(by.yes_no.headline, true);
  assert.deepEqual(by.yes_no.reasons, []);
  assert.equal(by.yes_no.inDistribution!.task, 'seen/yes_no/0-shot');
  assert.equal(by.genre.headline, false);
  assert.match(by.genre.reasons.join(), /most frequent answer is 90%/);
  assert.equal(by.fill_blank.allZero, true);
  assert.match(by.fill_blank.reasons.join(), /every arm scores 0/);
  assert.equal(by.ordering.aboveChanceInDistribution, false);
  assert.match(by.ordering.reasons.join(), /not above chance even on pre-training passages/);
  // power: two arms near a yes/no chance level need over a thousand items for 0.05
  assert.ok(by.yes_no.power.itemsFor005AtChance > 1000);
  assert.ok(by.yes_no.power.detectableAtChance > 0.15 && by.yes_no.power.detectableAtChance < 0.25);
  assert.equal(by.yes_no.power.discordance, 0.2); // the arm is right on 20 more items of 100 in each seed
});

test('summaries: the headline averages only passing tasks, the all-task average is kept beside it; gains are paired with verdicts', () => {
  const r = records();
  const criteria = taskCriteria(r, 'vanilla');
  const rows = summaryRows(r, criteria, ['vanilla', 'instruct-rules'], 'vanilla');
  const headline = rows.filter((x) => x.headline);
  assert.deepEqual(
    headline.map((x) => x.tasks),
    [['general/yes_no/0-shot'], ['general/yes_no/0-shot']],
  );
  const gain = headline.find((x) => x.arm === 'instruct-rules')!.gain!;
  assert.equal(gain.verdict, 'gain');
  const table = (arm: string) =>
    r.pretrain.filter((p) => p.arm === arm).map((p) => p.scores.items['general/yes_no/0-shot']);
  const direct = gainEstimate([table('instruct-rules')], [table('vanilla')]);
  assert.deepEqual([gain.mean, gain.lo, gain.hi], [direct.mean, direct.lo, direct.hi]);
  assert.equal(headline[0].chance, 0.5);
  const all = rows.filter((x) => !x.headline && x.arm === 'instruct-rules')[0];
  assert.equal(all.tasks.length, 4);
  assert.equal(all.chance, (0.5 + 0.25 + 0.25 + 0.5) / 4);
  // ordering: one item better in each seed is within noise
  const results = computeResults(r, []);
  const ordering = results.pretrain.rows.find((x) => x.kind === 'ordering' && x.arm === 'instruct-rules')!;
  assert.equal(ordering.gain!.verdict, 'within noise');
  assert.match(results.headline, /On the 1 task that pass/);
  assert.match(results.headline, /instruct-rules \+0\.200 \[\+0\.\d+, \+0\.\d+\] \(gain\)/);
  const md = resultsMarkdown(results);
  assert.ok(md.includes('| general/yes_no/0-shot | 100 | 0.500 |'), md);
});
