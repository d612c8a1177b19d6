// What an ablation run leaves for people and programs: results/results.json and results/results.csv
// (every number of the report), report.html (one self-contained page that opens with a headline slot,
// then scores against chance and paired gains with their intervals, loss curves, the domain-adaptive
// comparison, synthesizer quality and task coverage, the benchmarks and the rules that chose the headline,
// the stages and their timings), and corpora.json (for `ipt export`). Everything slow (evaluation,
// synthesizer quality, task coverage) was computed by cached stages; this module only summarises and renders.

import { computeControlledResults, type ControlledResults } from './controlled-results.js';
import { controlledMarkdownParts } from './controlled-report.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../repro/files.js';
import {
  barChart,
  gainsChart,
  lineChart,
  scoreChart,
  trainingCurves,
  coverageComparison,
  type Figure,
} from '../report/figure.js';
import { writeReport, type ReportSection } from '../report/report.js';
import { categoryCounts } from '../report/coverage.js';
import type { TinySynthesizerQuality } from '../synth/tiny-measure.js';
import type { Coverage } from '../tasks/coverage.js';
import type { QualityReport } from '../synth/quality.js';
import type { AblationRecords, BenchmarkInfo, StageTiming } from './records.js';
import type { SkippedBenchmark } from './benchmarks.js';
import {
  HEADLINE_RULES,
  POWER,
  domainRows,
  formatEstimate,
  formatGain,
  meanCurve,
  scoreRows,
  summaryRows,
  taskCriteria,
  tuningCurves,
  type DomainRow,
  type ScoreRow,
  type SummaryRow,
  type TaskCriteria,
  type TuningCurve,
} from './results.js';

export type AblationResults = {
  profile: string;
  arms: Array<{ name: string; description: string }>;
  seeds: number[];
  tokensPerRun: number;
  statistics: { interval: string; level: number; headlineRules: readonly string[]; power: typeof POWER };
  /** The Brown part's plain paragraph, written from the numbers below. */
  headline: string;
  benchmarks: BenchmarkInfo[];
  skippedBenchmarks: SkippedBenchmark[];
  criteria: TaskCriteria[];
  pretrain: {
    rows: ScoreRow[];
    summary: SummaryRow[];
    training: Array<{
      arm: string;
      seed: number;
      finalLoss: number | null;
      finalValLoss: number | null;
      tokensPerSecond: number | null;
      seconds: number;
    }>;
  };
  domain: DomainRow[];
  tuning: TuningCurve[];
  /** Per arm, mean over seeds: training loss and validation loss along the steps. */
  lossCurves: Record<string, { train: { step: number[]; value: number[] }; eval: { step: number[]; value: number[] } }>;
  synthesizers: Record<
    string,
    {
      quality: QualityReport;
      coverage: Pick<Coverage, 'categoriesCovered' | 'categoriesInTaxonomy' | 'otherShare' | 'pairs'>;
    }
  >;
  tinySynthesizer: Omit<TinySynthesizerQuality, 'examples'> | null;
  corpora: AblationRecords['corpora'];
  stages: StageTiming[];
  /** The controlled experiment (lib/ablation/controlled-results.ts), or null when the run skipped it. */
  controlled: ControlledResults | null;
};

export const GROUP_NAMES: Record<string, string> = {
  general: 'held-out documents',
  seen: 'pre-training passages (in-distribution check)',
  'heldout-genre': 'held-out genre',
  domain: 'domain (before continual pre-training)',
};

const STATISTICS = {
  interval:
    '95% interval over items and seeds: a normal interval from the crossed seeds x items variance (seed / S + item / I + residual / (S I), ANOVA estimates; lib/eval/stats.ts). Gains are paired (same items, same seed). With one seed the interval covers item sampling only.',
  level: 0.95,
};

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
}

/** The Brown part's paragraph: what was compared, the effect with its interval, what it does not show. */
export function brownHeadline(results: Omit<AblationResults, 'headline'>): string {
  const arms = results.arms.map((a) => a.name);
  const vanilla = arms[0];
  const general = results.pretrain.summary.filter((r) => r.group === 'general' && r.shots === 0);
  const headline = general.filter((r) => r.headline);
  const all = general.filter((r) => !r.headline);
  const passing = results.criteria
    .filter((c) => c.group === 'general' && c.shots === 0 && c.headline)
    .map((c) => c.kind);
  const failing = results.criteria
    .filter((c) => c.group === 'general' && c.shots === 0 && !c.headline)
    .map((c) => c.kind);
  const intro =
    `Brown corpus: ${arms.length} arms (${arms.join(', ')}) × ${results.seeds.length} seeds, each a GPT pre-trained from scratch on ${results.tokensPerRun.toLocaleString('en-US')} tokens, ` +
    `tested zero-shot with multiple-choice questions about held-out documents.`;
  const rows = headline.length ? headline : all;
  const base = rows.find((r) => r.arm === vanilla);
  const effects = rows
    .filter((r) => r.gain)
    .map((r) => `${r.arm} ${signed(r.gain!.mean)} [${signed(r.gain!.lo)}, ${signed(r.gain!.hi)}] (${r.gain!.verdict})`)
    .join('; ');
  const what = headline.length
    ? `On the ${passing.length} task${passing.length === 1 ? '' : 's'} that pass the headline rules (${passing.join(', ')}), vanilla scores ${base ? formatEstimate(base.score) : '?'} against a chance level of ${base?.chance.toFixed(3)}; gains over vanilla, paired by item and seed, with 95% intervals: ${effects}.`
    : `No task passes the headline rules: the vanilla model is not above chance on any kind of question even about passages it was pre-trained on, so these models are too small for the Brown questions to show a difference. Averaged over every task anyway, vanilla scores ${base ? formatEstimate(base.score) : '?'} against a chance level of ${base?.chance.toFixed(3)}; gains over vanilla: ${effects}.`;
  const gains = rows.filter((r) => r.gain?.verdict === 'gain').map((r) => r.arm);
  const verdict = gains.length
    ? `The interval of ${gains.join(' and ')} excludes zero.`
    : 'No gain excludes zero: at this size the Brown ablation shows no effect of instruction pre-training either way.';
  // per-task verdicts: with many comparisons some intervals exclude zero by chance alone
  const perTask = results.pretrain.rows.filter((r) => r.group === 'general' && r.shots === 0 && r.gain);
  const flagged = perTask.filter((r) => r.gain!.verdict !== 'within noise');
  const byChance = 0.05 * perTask.length;
  const multiple = flagged.length
    ? `Per task, ${flagged.length} of ${perTask.length} paired comparisons ${flagged.length === 1 ? 'excludes' : 'exclude'} zero (${flagged.map((r) => `${r.kind}, ${r.arm} ${signed(r.gain!.mean)}${r.headline ? '' : ', a task not in the headline'}`).join('; ')}), where chance alone would give about ${byChance.toFixed(1)} at 95%: read them as such.`
    : '';
  const limits =
    `What it does not show: ${failing.length ? `the ${failing.join(', ')} task${failing.length === 1 ? '' : 's'}, where vanilla is at chance even in distribution, can show no difference; ` : ''}` +
    `one corpus of 6 MB and models of half a million parameters say nothing about large models, and a group average of ${rows[0]?.tasks.length ?? 0} task${rows[0]?.tasks.length === 1 ? '' : 's'} of ${results.benchmarks.find((b) => b.group === 'general')?.examples ?? 0} items detects differences of about ${detectableOfAverage(results, rows[0]?.tasks ?? []).toFixed(2)}, not the 0.05 a single task would need over a thousand items for.`;
  return [intro, what, verdict, multiple, limits].filter(Boolean).join(' ');
}

/** The smallest difference a group average detects, from its tasks' detectable differences (pooled items). */
function detectableOfAverage(results: Pick<AblationResults, 'criteria'>, tasks: string[]): number {
  const cs = results.criteria.filter((c) => tasks.includes(c.task));
  if (!cs.length) return 1;
  // averaging k tasks of similar size divides the variance by k: the detectable difference by sqrt(k)
  const mean = cs.reduce((s, c) => s + c.power.detectableAtChance, 0) / cs.length;
  return mean / Math.sqrt(cs.length);
}

/** The tiny synthesizer's measure without its example outputs (they stay in its stage folder). */
function withoutExamples({
  examples: _examples,
  ...rest
}: TinySynthesizerQuality): Omit<TinySynthesizerQuality, 'examples'> {
  void _examples;
  return rest;
}

export function computeResults(records: AblationRecords, stages: StageTiming[]): AblationResults {
  const { config } = records;
  const arms = config.arms.map((a) => a.name);
  const vanilla = config.arms.find((a) => a.kind === 'vanilla')!.name;
  const criteria = taskCriteria(records, vanilla);
  const ptModel = config.pretrain.model;
  const partial: Omit<AblationResults, 'headline'> = {
    profile: config.profile,
    arms: config.arms.map((a) => ({ name: a.name, description: a.description })),
    seeds: config.seeds,
    tokensPerRun:
      (config.pretrain.train.steps ?? 0) * (config.pretrain.train.batchSize ?? 0) * (ptModel.contextLength ?? 0),
    statistics: { ...STATISTICS, headlineRules: HEADLINE_RULES, power: POWER },
    benchmarks: records.benchmarks,
    skippedBenchmarks: records.skippedBenchmarks,
    criteria,
    pretrain: {
      rows: scoreRows(records, criteria, arms, vanilla),
      summary: summaryRows(records, criteria, arms, vanilla),
      training: records.pretrain.map((p) => ({
        arm: p.arm,
        seed: p.seed,
        finalLoss: p.train.finalLoss,
        finalValLoss: p.train.finalValLoss,
        tokensPerSecond: p.train.tokensPerSecond,
        seconds: p.train.seconds,
      })),
    },
    domain: domainRows(records, criteria, vanilla),
    tuning: tuningCurves(records, criteria),
    lossCurves: Object.fromEntries(
      arms.map((arm) => {
        const runs = records.pretrain.filter((p) => p.arm === arm);
        const train = meanCurve(
          runs.map((r) => r.curve.train),
          (p) => p.loss,
        );
        const val = meanCurve(
          runs.map((r) => r.curve.val),
          (p) => p.valLoss,
        );
        return [arm, { train: { step: train.step, value: train.mean }, eval: { step: val.step, value: val.mean } }];
      }),
    ),
    synthesizers: Object.fromEntries(
      Object.entries(records.synthesizers).map(([name, m]) => [
        name,
        {
          quality: m.quality,
          coverage: {
            categoriesCovered: m.coverage.categoriesCovered,
            categoriesInTaxonomy: m.coverage.categoriesInTaxonomy,
            otherShare: m.coverage.otherShare,
            pairs: m.coverage.pairs,
          },
        },
      ]),
    ),
    tinySynthesizer: records.tinyQuality ? withoutExamples(records.tinyQuality) : null,
    corpora: records.corpora,
    stages,
    controlled: records.controlled ? computeControlledResults(records.controlled) : null,
  };
  return { ...partial, headline: brownHeadline(partial) };
}

function csv(rows: Array<Record<string, unknown>>): string {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'number' ? String(Number(v.toFixed(6))) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

export function resultsCsv(results: AblationResults): string {
  const flat = (r: ScoreRow | SummaryRow, task: string, kind: string) => ({
    group: r.group,
    task,
    kind,
    shots: r.shots,
    arm: r.arm,
    headline: r.headline,
    chance: r.chance,
    mean: r.score.mean,
    lo: r.score.lo,
    hi: r.score.hi,
    seeds: r.score.seeds,
    items: r.score.items,
    gain_vs_vanilla: r.gain?.mean ?? null,
    gain_lo: r.gain?.lo ?? null,
    gain_hi: r.gain?.hi ?? null,
    verdict: r.gain?.verdict ?? null,
  });
  return csv([
    ...results.pretrain.summary.map((r) =>
      flat(r, `(average of ${r.tasks.length} ${r.headline ? 'headline' : ''} tasks)`.replace('  ', ' '), ''),
    ),
    ...results.pretrain.rows.map((r) => flat(r, r.task, r.kind)),
  ]);
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export type AblationFigures = {
  /** The headline: group averages per arm against chance. */
  headline: Figure;
  /** Score per task and arm with chance marks, one figure per benchmark group and shot count ("general/0"). */
  scores: Record<string, Figure>;
  /** Paired gains over vanilla per task, with a line at zero, one per group and shot count. */
  gains: Record<string, Figure>;
  loss: Figure;
  tuning?: Figure;
  domain?: Figure;
  coverage?: Figure;
};

function summaryLabel(r: SummaryRow): string {
  return `${GROUP_NAMES[r.group] ?? r.group}${r.shots ? `, ${r.shots}-shot` : ''}${r.headline ? '' : ' (all tasks)'}`;
}

/** Every figure of the report, built one way for the report and the notebooks. */
export function ablationFigures(results: AblationResults, coverages: Record<string, Coverage> = {}): AblationFigures {
  const arms = results.arms.map((a) => a.name);
  const vanilla = arms[0];
  const summary = results.pretrain.summary;
  const headlineRows = summary.some((r) => r.headline) ? summary.filter((r) => r.headline) : summary;
  const headline = scoreChart(
    headlineRows.map((r) => ({
      task: summaryLabel(r),
      arm: r.arm,
      mean: r.score.mean,
      lo: r.score.lo,
      hi: r.score.hi,
    })),
    {
      title: summary.some((r) => r.headline)
        ? 'Brown: average score of the headline tasks, 95% intervals (items and seeds)'
        : 'Brown: no task passed the headline rules; average of every task, 95% intervals',
      yTitle: 'accuracy',
      armOrder: arms,
      chance: Object.fromEntries(headlineRows.map((r) => [summaryLabel(r), r.chance])),
    },
  );
  const scores: Record<string, Figure> = {};
  const gains: Record<string, Figure> = {};
  for (const key of [...new Set(results.pretrain.rows.map((r) => `${r.group}/${r.shots}`))]) {
    const [group, shots] = [key.split('/')[0], Number(key.split('/')[1])];
    const rows = results.pretrain.rows.filter((r) => r.group === group && r.shots === shots);
    const label = (r: ScoreRow) => `${r.kind}${r.headline ? '' : ' *'}`;
    scores[key] = scoreChart(
      rows.map((r) => ({ task: label(r), arm: r.arm, mean: r.score.mean, lo: r.score.lo, hi: r.score.hi })),
      {
        title: `${GROUP_NAMES[group] ?? group}, ${shots}-shot: score per task (dashed: chance; * not in the headline)`,
        yTitle: 'accuracy',
        armOrder: arms,
        chance: Object.fromEntries(rows.map((r) => [label(r), r.chance])),
      },
    );
    const withGain = rows.filter((r) => r.gain);
    if (withGain.length)
      gains[key] = gainsChart(
        withGain.map((r) => ({ task: label(r), arm: r.arm, mean: r.gain!.mean, lo: r.gain!.lo, hi: r.gain!.hi })),
        {
          title: `${GROUP_NAMES[group] ?? group}, ${shots}-shot: gain over ${vanilla} per task (paired; an interval across 0 is within noise)`,
          yTitle: `score minus ${vanilla}`,
          armOrder: arms.filter((a) => a !== vanilla),
        },
      );
  }
  const figures: AblationFigures = { headline, scores, gains, loss: lossFigure(results, arms) };
  if (results.tuning.length) {
    figures.tuning = lineChart(
      results.tuning.map((t) => ({ name: t.arm, x: t.step, y: t.score.map((e) => e.mean) })),
      {
        title: 'Held-out 0-shot average during instruction tuning (intervals in the table)',
        xTitle: 'tuning step',
        yTitle: 'average score',
      },
    );
  }
  if (results.domain.length) {
    figures.domain = barChart(
      results.domain.map((d) => `${d.model} · ${d.group}`),
      results.domain.map((d) => d.score.mean),
      {
        title: 'Continual pre-training: average 0-shot score, 95% intervals',
        yTitle: 'average score',
        intervals: results.domain.map((d) => ({ lo: d.score.lo, hi: d.score.hi })),
      },
    );
  }
  const covs = Object.entries(coverages);
  if (covs.length)
    figures.coverage = coverageComparison(
      covs.map(([name, c]) => ({ name, categories: categoryCounts(c) })),
      { title: 'Task categories of the synthesized pairs', top: 20 },
    );
  return figures;
}

function lossFigure(results: AblationResults, arms: string[]): Figure {
  return trainingCurves(
    arms.map((arm) => ({ name: arm, ...(results.lossCurves[arm] ?? {}) })),
    {
      title: 'Training loss (solid) and validation loss on held-out raw text (dashed), mean over seeds',
      yTitle: 'cross-entropy (nats per token)',
    },
  );
}

/** The tiny synthesizer's measurement on held-out texts as table rows (instead of its JSON). */
export function tinyQualityRows(t: Omit<TinySynthesizerQuality, 'examples'>): Array<Record<string, string | number>> {
  const q = t.quality;
  return [
    { measure: 'held-out texts', value: t.texts },
    { measure: 'texts with at least one parsed pair', value: percent(q.parseRate) },
    { measure: 'pairs per text (mean)', value: q.pairsPerText.mean.toFixed(2) },
    {
      measure: 'answers found in the text',
      value: `${percent(q.answerInContext.rate)} of ${q.answerInContext.eligible}`,
    },
    {
      measure: 'multiple-choice / chain-of-thought / free pairs',
      value: `${q.forms.multipleChoice} / ${q.forms.chainOfThought} / ${q.forms.free}`,
    },
    {
      measure: 'duplicate questions within a text / across texts',
      value: `${q.duplicates.withinText} / ${q.duplicates.acrossTexts}`,
    },
    {
      measure: 'question kinds written (rule wording)',
      value:
        Object.entries(q.kinds)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none',
    },
    {
      measure: "free mode: the rules' reference questions it asked itself",
      value: `${percent(t.free.askedRate)}, exact on those ${percent(t.free.exactOnAsked)}`,
    },
    { measure: 'prompted mode: exact match on the reference questions', value: percent(t.prompted.exactOverall) },
    { measure: 'prompted mode: token F1', value: t.prompted.f1Overall.toFixed(3) },
    { measure: 'majority-answer baseline (prompted, per rule kind)', value: percent(t.majorityBaseline.exactOverall) },
    {
      measure: 'generated tokens; seconds (synthesis, prompted)',
      value: `${t.completionTokens}; ${t.seconds.synthesis.toFixed(1)}, ${t.seconds.prompted.toFixed(1)}`,
    },
  ];
}

function estimateCells(prefix: string, e: { mean: number; lo: number; hi: number } | null): Record<string, string> {
  return { [prefix]: e ? formatEstimate(e) : '' };
}

export type ReportOptions = {
  /**
   * Sections that go first, under the headline (e.g. the controlled experiment's figure and paragraph).
   * The Brown part's own headline figure and paragraph follow them.
   */
  headline?: ReportSection[];
};

export function reportSections(
  results: AblationResults,
  records: AblationRecords,
  options: ReportOptions = {},
): ReportSection[] {
  const coverages = Object.fromEntries(Object.entries(records.synthesizers).map(([k, v]) => [k, v.coverage]));
  const figures = ablationFigures(results, coverages);
  const { config } = records;
  const arms = config.arms.map((a) => a.name);
  const vanilla = arms[0];
  const s: ReportSection[] = [];
  const pt = config.pretrain;

  s.push({ kind: 'heading', text: 'Headline' });
  s.push(...(options.headline ?? []));
  s.push({ kind: 'heading', text: 'Brown corpus', level: 3 });
  s.push({
    kind: 'figure',
    figure: figures.headline,
    caption: 'Bars: mean score; whiskers: 95% interval over items and seeds; dashed line: chance level.',
  });
  s.push({ kind: 'text', text: results.headline });

  s.push({ kind: 'heading', text: 'What was run' });
  s.push({
    kind: 'text',
    text:
      `Profile "${config.profile}": ${arms.length} arms × ${config.seeds.length} seeds (${config.seeds.join(', ')}), each pre-trained from scratch for ` +
      `${results.tokensPerRun.toLocaleString('en-US')} tokens (${pt.train.steps} steps × ${pt.train.batchSize} sequences × ${pt.model.contextLength} tokens) ` +
      `on the Brown corpus, a GPT of width ${pt.model.width}, ${pt.model.layers} layers, ${pt.model.heads} heads, vocabulary ${config.tokenizer.vocabSize}. ` +
      `Instruct arms replace ${percent(config.synthesis.augmentShare)} of the pre-training contexts with instruction-augmented texts. ` +
      `Benchmarks are multiple-choice questions about documents no arm or synthesizer trained on, scored by the log-likelihood of each option (accuracy). ` +
      `Intervals: ${STATISTICS.interval} A gain is called a gain only when its interval excludes zero; otherwise it is "within noise".`,
  });

  s.push({ kind: 'heading', text: 'Which tasks make the headline' });
  s.push({
    kind: 'text',
    text: `A task is in a group's headline average when it passes every rule:\n${HEADLINE_RULES.map((r, i) => `${i + 1}. ${r}`).join('\n')}`,
  });
  s.push({
    kind: 'table',
    rows: results.criteria.map((c) => ({
      task: c.task,
      items: c.items,
      chance: c.chance.toFixed(3),
      'most frequent answer': percent(c.majorityShare),
      'vanilla on pre-training passages': c.inDistribution
        ? `${formatEstimate(c.inDistribution.score)} (chance ${c.inDistribution.chance.toFixed(3)})`
        : '—',
      headline: c.headline ? 'yes' : 'no',
      'why not': c.reasons.join('; '),
    })),
  });
  s.push({
    kind: 'table',
    rows: results.criteria.map((c) => ({
      task: c.task,
      items: c.items,
      [`items to detect ${POWER.delta} (arms near chance)`]: c.power.itemsFor005AtChance,
      [`items to detect ${POWER.delta} (measured disagreement)`]: c.power.itemsFor005Measured ?? '—',
      'disagreement with vanilla': c.power.discordance === null ? '—' : percent(c.power.discordance),
      'smallest difference these items detect': c.power.detectableAtChance.toFixed(3),
    })),
    caption: `Power for paired proportions (McNemar), one seed, alpha ${POWER.alpha} two-sided, power ${POWER.power}. No single task here has the items to detect ${POWER.delta}; a group average pools its tasks' items.`,
  });
  if (results.skippedBenchmarks.length)
    s.push({
      kind: 'table',
      rows: results.skippedBenchmarks.map((k) => ({
        group: k.group,
        kind: k.kind,
        items: k.items,
        'not built because': k.reason,
      })),
    });

  s.push({ kind: 'heading', text: 'Summary' });
  s.push({
    kind: 'table',
    rows: results.pretrain.summary.map((r) => ({
      benchmark: summaryLabel(r),
      tasks: r.tasks.length,
      arm: r.arm,
      chance: r.chance.toFixed(3),
      ...estimateCells('score [95%]', r.score),
      [`gain vs ${vanilla} [95%]`]: formatGain(r.gain),
    })),
    caption: 'Average over the tasks of each group: the headline tasks, then every task (labelled "all tasks").',
  });
  for (const [key, figure] of Object.entries(figures.scores)) {
    s.push({ kind: 'figure', figure });
    if (figures.gains[key]) s.push({ kind: 'figure', figure: figures.gains[key] });
  }
  s.push({ kind: 'heading', text: 'Every task' });
  s.push({
    kind: 'table',
    rows: results.pretrain.rows.map((r) => ({
      task: r.task,
      arm: r.arm,
      chance: r.chance.toFixed(3),
      ...estimateCells('score [95%]', r.score),
      [`gain vs ${vanilla} [95%]`]: formatGain(r.gain),
      headline: r.headline ? 'yes' : 'no',
    })),
  });

  s.push({ kind: 'heading', text: 'Pre-training loss' });
  s.push({
    kind: 'figure',
    figure: figures.loss,
    caption: 'Training losses are on each arm’s own corpus; validation is the same raw held-out text for every arm.',
  });
  s.push({
    kind: 'table',
    rows: results.pretrain.training.map((t) => ({
      arm: t.arm,
      seed: t.seed,
      'final loss': t.finalLoss?.toFixed(3) ?? '',
      'validation loss': t.finalValLoss?.toFixed(3) ?? '',
      'tokens/s': t.tokensPerSecond ? Math.round(t.tokensPerSecond) : '',
      seconds: t.seconds.toFixed(1),
    })),
  });

  if (results.tuning.length) {
    s.push({ kind: 'heading', text: 'Instruction tuning after pre-training' });
    s.push({
      kind: 'text',
      text: 'Each pre-trained model is tuned on questions about passages (the synthesizer’s collection, loss on the answers) and evaluated along the way on the held-out 0-shot benchmarks: does instruction pre-training benefit more from further instruction tuning?',
    });
    if (figures.tuning) s.push({ kind: 'figure', figure: figures.tuning });
    s.push({
      kind: 'table',
      rows: results.tuning.flatMap((t) =>
        t.step.map((step, i) => ({
          arm: t.arm,
          step,
          tasks: t.headline ? 'headline' : 'all',
          ...estimateCells('score [95%]', t.score[i]),
        })),
      ),
    });
  }

  if (results.domain.length) {
    s.push({ kind: 'heading', text: 'Domain-adaptive continual pre-training' });
    s.push({
      kind: 'text',
      text: `From each vanilla model, continual pre-training on the ${config.corpus.domainGenres.join(', ')} genre(s) (kept out of general pre-training), raw vs instruction-augmented (${config.domain.synthesizer} synthesizer), each mixed with general instructions (${percent(config.domain.instructionShare)} of the tokens). Scores on held-out domain documents and on the general held-out documents (headline tasks where any pass, else every task).`,
    });
    s.push({
      kind: 'table',
      rows: results.domain.map((d) => ({
        model: d.model,
        benchmark: `${d.group}${d.headline ? '' : ' (all tasks)'}`,
        chance: d.chance.toFixed(3),
        ...estimateCells('score [95%]', d.score),
        'instruct vs raw [95%]': formatGain(d.gainOverRaw),
      })),
    });
    if (figures.domain) s.push({ kind: 'figure', figure: figures.domain });
  }

  s.push({ kind: 'heading', text: 'The synthesizers' });
  s.push({
    kind: 'table',
    rows: Object.entries(results.synthesizers).map(([name, v]) => ({
      synthesizer: name,
      texts: v.quality.texts,
      'with pairs': percent(v.quality.parseRate),
      'pairs per text': v.quality.pairsPerText.mean.toFixed(2),
      'answer in context': percent(v.quality.answerInContext.rate),
      categories: `${v.coverage.categoriesCovered} of ${v.coverage.categoriesInTaxonomy}`,
      other: percent(v.coverage.otherShare),
    })),
    caption: 'Pairs written for the pre-training texts; categories from the kit’s task taxonomy (lib/tasks).',
  });
  if (figures.coverage) s.push({ kind: 'figure', figure: figures.coverage });
  if (results.tinySynthesizer) {
    s.push({
      kind: 'text',
      text: 'The tiny synthesizer on held-out texts: what it writes, and how it answers the rules’ reference questions when asked them (prompted mode) against answering every question with its kind’s most common answer.',
    });
    s.push({ kind: 'table', rows: tinyQualityRows(results.tinySynthesizer) });
  }

  s.push({ kind: 'heading', text: 'Corpora' });
  s.push({
    kind: 'table',
    rows: Object.entries(results.corpora).map(([name, c]) => ({
      corpus: name,
      documents: c.documents,
      tokens: c.tokens,
      MB: (c.bytes / 1e6).toFixed(2),
      description: c.description,
    })),
  });
  s.push({ kind: 'heading', text: 'Stages' });
  s.push({
    kind: 'table',
    rows: results.stages.map((st) => ({
      stage: st.name,
      cached: st.cached ? 'yes' : '',
      seconds: st.seconds.toFixed(1),
      folder: st.dir,
    })),
  });
  return s;
}

/**
 * The results as Markdown tables (results/results.md; the README's results section is pasted from it):
 * the controlled experiment first when the run has one, then the Brown ablation.
 */
export function resultsMarkdown(results: AblationResults, records?: AblationRecords): string {
  const table = (rows: Array<Record<string, string | number>>): string => {
    if (!rows.length) return '';
    const cols = Object.keys(rows[0]);
    const cell = (v: string | number) => String(v).replace(/\|/g, '\\|');
    return [
      `| ${cols.join(' | ')} |`,
      `|${cols.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`),
    ].join('\n');
  };
  const vanilla = results.arms[0].name;
  const parts: string[] = [];
  if (results.controlled && records?.controlled) {
    for (const part of controlledMarkdownParts(results.controlled, records.controlled))
      parts.push(typeof part === 'string' ? part : table(part));
    parts.push('**Brown corpus**');
  }
  parts.push(results.headline);
  parts.push(
    table(
      results.pretrain.summary.map((r) => ({
        benchmark: `${GROUP_NAMES[r.group] ?? r.group}, ${r.shots}-shot, ${r.headline ? `headline (${r.tasks.length} tasks)` : `all ${r.tasks.length} tasks`}`,
        arm: r.arm,
        chance: r.chance.toFixed(3),
        'score [95%]': formatEstimate(r.score),
        [`gain vs ${vanilla} [95%]`]: formatGain(r.gain),
      })),
    ),
  );
  parts.push(
    table(
      results.criteria.map((c) => ({
        task: c.task,
        items: c.items,
        chance: c.chance.toFixed(3),
        'vanilla on pre-training passages [95%]': c.inDistribution ? formatEstimate(c.inDistribution.score) : '—',
        headline: c.headline ? 'yes' : 'no',
        [`items to detect ${POWER.delta}`]: c.power.itemsFor005AtChance,
        'detectable with these items': c.power.detectableAtChance.toFixed(3),
      })),
    ),
  );
  parts.push(
    table(
      results.pretrain.rows
        .filter((r) => r.group === 'general' && r.shots === 0)
        .map((r) => ({
          task: r.kind,
          arm: r.arm,
          chance: r.chance.toFixed(3),
          'score [95%]': formatEstimate(r.score),
          [`gain vs ${vanilla} [95%]`]: formatGain(r.gain),
          'in the headline': r.headline ? 'yes' : 'no',
        })),
    ),
  );
  if (results.skippedBenchmarks.length)
    parts.push(`Not built: ${results.skippedBenchmarks.map((k) => `${k.group}/${k.kind} (${k.reason})`).join('; ')}.`);
  if (results.domain.length)
    parts.push(
      table(
        results.domain.map((d) => ({
          model: d.model,
          benchmark: `${d.group}${d.headline ? '' : ' (all tasks)'}`,
          chance: d.chance.toFixed(3),
          'score [95%]': formatEstimate(d.score),
          'instruct vs raw [95%]': formatGain(d.gainOverRaw),
        })),
      ),
    );
  parts.push(
    table(
      Object.entries(results.synthesizers).map(([name, v]) => ({
        synthesizer: name,
        'texts with pairs': percent(v.quality.parseRate),
        'pairs per text': v.quality.pairsPerText.mean.toFixed(2),
        'answers found in the text': percent(v.quality.answerInContext.rate),
        'task categories': `${v.coverage.categoriesCovered} of ${v.coverage.categoriesInTaxonomy}`,
      })),
    ),
  );
  return parts.filter(Boolean).join('\n\n') + '\n';
}

/** Writes results, report and corpora index; returns the paths written (relative to the run folder). */
export async function writeOutputs(
  outDir: string,
  records: AblationRecords,
  stages: StageTiming[],
  options: ReportOptions = {},
): Promise<string[]> {
  const results = computeResults(records, stages);
  writeFileAtomic(join(outDir, 'results', 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileAtomic(join(outDir, 'results', 'results.csv'), resultsCsv(results));
  writeFileAtomic(join(outDir, 'results', 'results.md'), resultsMarkdown(results, records));
  writeFileAtomic(
    join(outDir, 'corpora.json'),
    JSON.stringify(
      {
        version: 1,
        run: outDir,
        input: 'brown',
        corpora: Object.entries(records.corpora).map(([name, c]) => ({
          name,
          description: c.description,
          files: [join(c.dir, c.file)],
          documents: c.documents,
          tokens: c.tokens,
          arm: name,
        })),
        tokenizer: join(records.tokenizerDir, 'tokenizer.json'),
      },
      null,
      2,
    ) + '\n',
  );
  writeReport(join(outDir, 'report.html'), {
    title: 'Instruction Pre-Training ablation',
    subtitle: `ipt-kit · profile ${records.config.profile} · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    sections: reportSections(results, records, options),
  });
  return ['results/results.json', 'results/results.csv', 'results/results.md', 'corpora.json', 'report.html'];
}
