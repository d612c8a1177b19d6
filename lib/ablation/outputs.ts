// What an ablation run leaves for people and programs: results/results.json and results/results.csv
// (every number of the report), report.html (one self-contained page: gains per task and arm with
// error bars, loss curves, instruction-tuning curves, the domain-adaptive comparison, synthesizer
// quality and task coverage, the stages and their timings), and corpora.json (for `ipt export`).

import { join } from 'node:path';
import { writeFileAtomic } from '../repro/files.js';
import { barChart, gainsChart, lineChart, trainingCurves, coverageComparison, type Figure } from '../report/figure.js';
import { writeReport, type ReportSection } from '../report/report.js';
import { categoryCounts } from '../report/coverage.js';
import { computeCoverage, type Coverage } from '../tasks/coverage.js';
import { createClassifier } from '../tasks/classify.js';
import { pairSetFromChains } from '../tasks/input.js';
import { measureSynthesizer, type QualityReport } from '../synth/quality.js';
import type { AblationRecords, AblationOutcome } from './pipeline.js';
import { formatEstimate, formatGain, meanCurve, scoreRows, summaryRows, estimate, pairedGain, type ScoreRow, type SummaryRow, type SeedScores, type TaskInfo } from './results.js';

export type AblationResults = {
  profile: string;
  arms: Array<{ name: string; description: string }>;
  seeds: number[];
  tokensPerRun: number;
  benchmarks: AblationRecords['benchmarks'];
  pretrain: { rows: ScoreRow[]; summary: SummaryRow[]; training: Array<{ arm: string; seed: number; finalLoss: number | null; finalValLoss: number | null; tokensPerSecond: number | null; seconds: number }> };
  domain: { summary: Array<{ variant: string; group: string; score: ReturnType<typeof estimate>; gainOverRaw: ReturnType<typeof pairedGain> }>; baseline: Array<{ group: string; score: ReturnType<typeof estimate> }> };
  tuning: Array<{ arm: string; step: number[]; mean: number[]; se: number[] }>;
  synthesizers: Record<string, { quality: QualityReport; coverage: Pick<Coverage, 'categoriesCovered' | 'categoriesInTaxonomy' | 'otherShare' | 'pairs'> }>;
  tinySynthesizer: unknown;
  corpora: AblationRecords['corpora'];
  stages: AblationOutcome['stages'];
};

const GROUP_NAMES: Record<string, string> = { general: 'held-out documents', 'heldout-genre': 'held-out genre', domain: 'domain (before continual pre-training)' };

function taskInfos(records: AblationRecords): TaskInfo[] {
  return records.benchmarks.map((b) => ({ name: b.name, group: b.group, kind: b.kind, shots: b.shots, chance: b.chance }));
}

function groupAverage(scores: Record<string, number>, names: string[]): number {
  return names.reduce((s, n) => s + (scores[n] ?? 0), 0) / names.length;
}

export function computeResults(records: AblationRecords, stages: AblationOutcome['stages']): { results: AblationResults; coverages: Record<string, Coverage> } {
  const { config } = records;
  const arms = config.arms.map((a) => a.name);
  const vanilla = config.arms.find((a) => a.kind === 'vanilla')!.name;
  const tasks = taskInfos(records);
  const runs: SeedScores[] = records.pretrain.map((p) => ({ arm: p.arm, seed: p.seed, scores: p.scores.scores }));
  const rows = scoreRows(tasks, runs, arms, vanilla);
  const summary = summaryRows(tasks, runs, arms, vanilla);

  // domain-adaptive: averages of the domain and general 0-shot tasks, instruct vs raw paired by seed
  const domainSummary: AblationResults['domain']['summary'] = [];
  const baseline: AblationResults['domain']['baseline'] = [];
  for (const group of ['domain', 'general']) {
    const names = tasks.filter((t) => t.group === group && t.shots === 0).map((t) => t.name);
    if (!names.length) continue;
    const per = (variant: string) => new Map(records.domain.filter((d) => d.variant === variant).map((d) => [d.seed, groupAverage(d.scores.scores, names)]));
    const raw = per('raw');
    for (const variant of ['raw', 'instruct']) {
      const m = per(variant);
      if (m.size) domainSummary.push({ variant, group, score: estimate([...m.values()]), gainOverRaw: variant === 'raw' ? null : pairedGain(m, raw) });
    }
    const base = records.pretrain.filter((p) => p.arm === vanilla).map((p) => groupAverage(p.scores.scores, names));
    if (base.length) baseline.push({ group, score: estimate(base) });
  }

  // instruction tuning: the general 0-shot average along the way
  const general0 = tasks.filter((t) => t.group === 'general' && t.shots === 0).map((t) => t.name);
  const tuning = [...new Set(records.tuning.map((t) => t.arm))].map((arm) => ({
    arm,
    ...meanCurve(records.tuning.filter((t) => t.arm === arm).map((t) => t.points), (p) => groupAverage(p.scores, general0)),
  }));

  // synthesizers: quality and task coverage of the pairs each wrote for the pre-training texts
  const classifier = createClassifier();
  const synthesizers: AblationResults['synthesizers'] = {};
  const coverages: Record<string, Coverage> = {};
  for (const [name, chains] of Object.entries(records.pairs)) {
    const entries = chains.flat();
    const quality = measureSynthesizer(entries.map((e) => ({ context: e.context, pairs: e.pairs })));
    const { labels: _labels, ...cov } = computeCoverage(pairSetFromChains(name, chains), { classifier, examplesPerCategory: 1 });
    void _labels;
    coverages[name] = cov;
    synthesizers[name] = { quality, coverage: { categoriesCovered: cov.categoriesCovered, categoriesInTaxonomy: cov.categoriesInTaxonomy, otherShare: cov.otherShare, pairs: cov.pairs } };
  }

  const ptModel = config.pretrain.model;
  return {
    results: {
      profile: config.profile,
      arms: config.arms.map((a) => ({ name: a.name, description: a.description })),
      seeds: config.seeds,
      tokensPerRun: (config.pretrain.train.steps ?? 0) * (config.pretrain.train.batchSize ?? 0) * (ptModel.contextLength ?? 0),
      benchmarks: records.benchmarks,
      pretrain: {
        rows,
        summary,
        training: records.pretrain.map((p) => ({ arm: p.arm, seed: p.seed, finalLoss: p.train.finalLoss, finalValLoss: p.train.finalValLoss, tokensPerSecond: p.train.tokensPerSecond, seconds: p.train.seconds })),
      },
      domain: { summary: domainSummary, baseline },
      tuning,
      synthesizers,
      tinySynthesizer: records.tinyQuality,
      corpora: records.corpora,
      stages,
    },
    coverages,
  };
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
  const flat = (r: ScoreRow | SummaryRow, task: string, kind: string, chance: number | null) => ({
    group: r.group,
    task,
    kind,
    shots: r.shots,
    arm: r.arm,
    mean: r.score.mean,
    se: r.score.se,
    seeds: r.score.n,
    gain_vs_vanilla: r.gain?.mean ?? null,
    gain_se: r.gain?.se ?? null,
    chance,
  });
  return csv([
    ...results.pretrain.summary.map((r) => flat(r, `(average of ${r.tasks} tasks)`, '', null)),
    ...results.pretrain.rows.map((r) => flat(r, r.task, r.kind, r.chance)),
  ]);
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export type AblationFigures = {
  /** Score per task and arm, one figure per benchmark group and shot count ("general/0"). */
  gains: Record<string, Figure>;
  loss: Figure;
  tuning?: Figure;
  domain?: Figure;
  coverage?: Figure;
};

/** Every figure of the report, built one way for the report and the notebooks. */
export function ablationFigures(results: AblationResults, records: AblationRecords, coverages: Record<string, Coverage>): AblationFigures {
  const arms = records.config.arms.map((a) => a.name);
  const gains: Record<string, Figure> = {};
  for (const key of [...new Set(results.pretrain.rows.map((r) => `${r.group}/${r.shots}`))]) {
    const [group, shots] = [key.split('/')[0], Number(key.split('/')[1])];
    const rows = results.pretrain.rows.filter((r) => r.group === group && r.shots === shots);
    gains[key] = gainsChart(
      rows.map((r) => ({ task: r.kind, arm: r.arm, mean: r.score.mean, se: r.score.se })),
      { title: `${GROUP_NAMES[group] ?? group}, ${shots}-shot: score per task and arm`, yTitle: 'accuracy / token F1', armOrder: arms },
    );
  }
  const curves = arms.map((arm) => {
    const runs = records.pretrain.filter((p) => p.arm === arm);
    const train = meanCurve(runs.map((r) => r.curve.train), (p) => p.loss);
    const val = meanCurve(runs.map((r) => r.curve.val), (p) => p.valLoss);
    return { name: arm, train: { step: train.step, value: train.mean }, eval: { step: val.step, value: val.mean } };
  });
  const figures: AblationFigures = {
    gains,
    loss: trainingCurves(curves, { title: 'Training loss (solid) and validation loss on held-out raw text (dashed), mean over seeds', yTitle: 'cross-entropy (nats per token)' }),
  };
  if (results.tuning.length) {
    figures.tuning = lineChart(results.tuning.map((t) => ({ name: t.arm, x: t.step, y: t.mean })), {
      title: 'Held-out 0-shot average during instruction tuning (mean over seeds)',
      xTitle: 'tuning step',
      yTitle: 'average score',
    });
  }
  if (results.domain.summary.length) {
    figures.domain = barChart(
      results.domain.summary.map((d) => `${d.variant} · ${d.group}`),
      results.domain.summary.map((d) => d.score.mean),
      { title: 'Continual pre-training: average 0-shot score', yTitle: 'average score', errors: results.domain.summary.map((d) => d.score.se) },
    );
  }
  const covs = Object.entries(coverages);
  if (covs.length) figures.coverage = coverageComparison(covs.map(([name, c]) => ({ name, categories: categoryCounts(c) })), { title: 'Task categories of the synthesized pairs', top: 20 });
  return figures;
}

export function reportSections(results: AblationResults, records: AblationRecords, coverages: Record<string, Coverage>): ReportSection[] {
  const figures = ablationFigures(results, records, coverages);
  const { config } = records;
  const arms = config.arms.map((a) => a.name);
  const s: ReportSection[] = [];
  const pt = config.pretrain;
  s.push({
    kind: 'text',
    text:
      `Profile "${config.profile}": ${arms.length} arms × ${config.seeds.length} seeds (${config.seeds.join(', ')}), each pre-trained from scratch for ` +
      `${results.tokensPerRun.toLocaleString('en-US')} tokens (${pt.train.steps} steps × ${pt.train.batchSize} sequences × ${pt.model.contextLength} tokens) ` +
      `on the Brown corpus, a GPT of width ${pt.model.width}, ${pt.model.layers} layers, ${pt.model.heads} heads, vocabulary ${config.tokenizer.vocabSize}. ` +
      `Instruct arms replace ${percent(config.synthesis.augmentShare)} of the pre-training contexts with instruction-augmented texts. ` +
      `Benchmarks are questions about documents no arm or synthesizer trained on; scores are accuracy (multiple choice by log-likelihood) or token F1 of a short generation (exact match is in results.json), ` +
      `mean ± standard error over seeds; gains are paired by seed against vanilla. Numbers are as measured, gain or no gain.`,
  });
  s.push({ kind: 'heading', text: 'Summary' });
  s.push({
    kind: 'table',
    rows: results.pretrain.summary.map((r) => ({
      benchmark: `${GROUP_NAMES[r.group] ?? r.group}, ${r.shots}-shot`,
      arm: r.arm,
      tasks: r.tasks,
      score: formatEstimate(r.score),
      'gain vs vanilla': formatGain(r.gain),
    })),
    caption: 'Average over the tasks of each benchmark group (within each seed, then across seeds).',
  });
  for (const [key, figure] of Object.entries(figures.gains)) {
    const [group, shots] = [key.split('/')[0], Number(key.split('/')[1])];
    const rows = results.pretrain.rows.filter((r) => r.group === group && r.shots === shots);
    s.push({ kind: 'figure', figure, caption: `Chance: ${[...new Set(rows.map((r) => `${r.kind} ${r.chance.toFixed(2)}`))].join(', ')}.` });
  }
  s.push({ kind: 'heading', text: 'Every task' });
  s.push({
    kind: 'table',
    rows: results.pretrain.rows.map((r) => ({ task: r.task, arm: r.arm, score: formatEstimate(r.score), 'gain vs vanilla': formatGain(r.gain), chance: r.chance.toFixed(2) })),
  });

  s.push({ kind: 'heading', text: 'Pre-training loss' });
  s.push({
    kind: 'figure',
    figure: figures.loss,
    caption: 'Training losses are on each arm’s own corpus; validation is the same raw held-out text for every arm.',
  });
  s.push({
    kind: 'table',
    rows: results.pretrain.training.map((t) => ({ arm: t.arm, seed: t.seed, 'final loss': t.finalLoss?.toFixed(3) ?? '', 'validation loss': t.finalValLoss?.toFixed(3) ?? '', 'tokens/s': t.tokensPerSecond ? Math.round(t.tokensPerSecond) : '', seconds: t.seconds.toFixed(1) })),
  });

  if (results.tuning.length) {
    s.push({ kind: 'heading', text: 'Instruction tuning after pre-training' });
    s.push({
      kind: 'text',
      text: 'Each pre-trained model is tuned on questions about passages (the synthesizer’s collection, loss on the answers) and evaluated along the way on the held-out 0-shot benchmarks: does instruction pre-training benefit more from further instruction tuning?',
    });
    if (figures.tuning) s.push({ kind: 'figure', figure: figures.tuning });
    s.push({ kind: 'table', rows: results.tuning.flatMap((t) => t.step.map((step, i) => ({ arm: t.arm, step, score: formatEstimate({ mean: t.mean[i], se: t.se[i], n: config.seeds.length }) }))) });
  }

  if (results.domain.summary.length) {
    s.push({ kind: 'heading', text: 'Domain-adaptive continual pre-training' });
    s.push({
      kind: 'text',
      text: `From each vanilla model, continual pre-training on the ${config.corpus.domainGenres.join(', ')} genre(s) (kept out of general pre-training), raw vs instruction-augmented (${config.domain.synthesizer} synthesizer), each mixed with general instructions (${percent(config.domain.instructionShare)} of the tokens). Scores on held-out domain documents and on the general held-out documents.`,
    });
    s.push({
      kind: 'table',
      rows: [
        ...results.domain.baseline.map((b) => ({ model: 'vanilla (before)', benchmark: b.group, score: formatEstimate(b.score), 'instruct vs raw': '' })),
        ...results.domain.summary.map((d) => ({ model: `continual: ${d.variant}`, benchmark: d.group, score: formatEstimate(d.score), 'instruct vs raw': formatGain(d.gainOverRaw) })),
      ],
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
  if (records.tinyQuality) {
    s.push({ kind: 'text', text: 'The tiny synthesizer on held-out texts (parse rate, pairs per text, answers found in the text, agreement with the rules’ reference pairs):' });
    s.push({ kind: 'html', html: `<pre style="white-space:pre-wrap;font-size:12px">${escapeText(JSON.stringify(records.tinyQuality, null, 2).slice(0, 6000))}</pre>` });
  }

  s.push({ kind: 'heading', text: 'Corpora' });
  s.push({ kind: 'table', rows: Object.entries(results.corpora).map(([name, c]) => ({ corpus: name, documents: c.documents, tokens: c.tokens, 'MB': (c.bytes / 1e6).toFixed(2), description: c.description })) });
  s.push({ kind: 'heading', text: 'Benchmarks' });
  s.push({ kind: 'table', rows: results.benchmarks.map((b) => ({ task: b.name, type: b.type, examples: b.examples, chance: b.chance.toFixed(2) })) });
  s.push({ kind: 'heading', text: 'Stages' });
  s.push({ kind: 'table', rows: results.stages.map((st) => ({ stage: st.name, cached: st.cached ? 'yes' : '', seconds: st.seconds.toFixed(1), folder: st.dir })) });
  return s;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Writes results, report and corpora index; returns the paths written (relative to the run folder). */
export async function writeOutputs(outDir: string, records: AblationRecords, stages: AblationOutcome['stages']): Promise<string[]> {
  const { results, coverages } = computeResults(records, stages);
  writeFileAtomic(join(outDir, 'results', 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileAtomic(join(outDir, 'results', 'results.csv'), resultsCsv(results));
  writeFileAtomic(
    join(outDir, 'corpora.json'),
    JSON.stringify(
      {
        version: 1,
        run: outDir,
        input: 'brown',
        corpora: Object.entries(records.corpora).map(([name, c]) => ({ name, description: c.description, files: [join(c.dir, c.file)], documents: c.documents, tokens: c.tokens, arm: name })),
        tokenizer: stages.find((s) => s.name === 'tokenizer') ? join(stages.find((s) => s.name === 'tokenizer')!.dir, 'tokenizer.json') : null,
      },
      null,
      2,
    ) + '\n',
  );
  writeReport(join(outDir, 'report.html'), {
    title: 'Instruction Pre-Training ablation',
    subtitle: `ipt-kit · profile ${records.config.profile} · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    sections: reportSections(results, records, coverages),
  });
  return ['results/results.json', 'results/results.csv', 'corpora.json', 'report.html'];
}
