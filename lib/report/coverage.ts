// Coverage figures and the `ipt coverage` run: label a set of pairs, write coverage.json, the labels,
// a self-contained HTML report, PNG figures (when Chromium is there) and a manifest.

import { basename, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import {
  barChart,
  coverageBar,
  coverageComparison,
  coverageSunburst,
  type AxisTitles,
  type CategoryCount,
  type Figure,
} from './figure.js';
import { writeReport, type Report, type ReportSection } from './report.js';
import { chromiumAvailable, writeFigurePngs } from './png.js';
import { computeCoverage, coverageSummary, type Coverage, type IntHistogram } from '../tasks/coverage.js';
import { createClassifier, type Classification, type Classifier } from '../tasks/classify.js';
import { loadPairsInput, type PairSet } from '../tasks/input.js';
import type { ManifestInput } from '../repro/manifest.js';
import { writeFileAtomic } from '../repro/files.js';
import { writeManifest } from '../repro/manifest.js';
import { hashJson } from '../repro/hash.js';
import { judgePairs, JUDGE_UNPARSED_RULE } from '../tasks/judge.js';
import type { CompletionEngine } from '../engine/completion.js';

/** Bars of a whole-number histogram; the capped bin is labelled "cap+". */
export function histogramBars(h: IntHistogram, opts: AxisTitles): Figure {
  const fig = barChart(
    h.values.map((v) => (v === h.cap ? `${v}+` : String(v))),
    h.counts,
    opts,
  );
  fig.layout.xaxis = { ...(fig.layout.xaxis as object), type: 'category' };
  fig.layout.bargap = 0.05;
  return fig;
}

export function categoryCounts(cov: Coverage): CategoryCount[] {
  return cov.categories.map((c) => ({
    id: c.id,
    name: c.id,
    family: c.family,
    familyName: c.familyName,
    count: c.count,
  }));
}

export type CoverageFigures = {
  sunburst: Figure;
  categories: Figure;
  answerWords: Figure;
  pairsPerText?: Figure;
  answerShapes: Figure;
};

export function coverageFigures(cov: Coverage, opts: { top?: number } = {}): CoverageFigures {
  const counts = categoryCounts(cov);
  const familyOrder = cov.families.map((f) => f.id);
  const figs: CoverageFigures = {
    sunburst: coverageSunburst(counts, {
      familyOrder,
      title: `${cov.name}: ${cov.categoriesCovered} of ${cov.categoriesInTaxonomy} categories, "other" ${(100 * cov.otherShare).toFixed(1)}%`,
    }),
    categories: coverageBar(counts, { top: opts.top, familyOrder, title: `${cov.name}: pairs per task category` }),
    answerWords: histogramBars(cov.answerWordsHistogram, {
      title: `${cov.name}: answer length`,
      xTitle: 'words in the (final) answer',
      yTitle: 'pairs',
    }),
    answerShapes: barChart(
      Object.keys(cov.answerShapes).filter((k) => cov.answerShapes[k as keyof Coverage['answerShapes']] > 0),
      Object.values(cov.answerShapes).filter((v) => v > 0),
      { title: `${cov.name}: answer shapes`, yTitle: 'pairs' },
    ),
  };
  if (cov.pairsPerTextHistogram) {
    figs.pairsPerText = histogramBars(cov.pairsPerTextHistogram, {
      title: `${cov.name}: pairs per text`,
      xTitle: 'pairs synthesized for a text',
      yTitle: 'texts',
    });
  }
  return figs;
}

/** Sections for one coverage: summary, families, figures, categories with an example each. */
export function coverageSections(cov: Coverage): ReportSection[] {
  if (cov.pairs === 0) {
    const texts = cov.texts === null ? '' : ` (${cov.texts} texts, none with a pair)`;
    return [
      { kind: 'heading', text: cov.name },
      { kind: 'text', text: `No pairs${texts}: nothing to count or draw. Source: ${cov.source}.` },
      ...(cov.warnings.length ? [{ kind: 'text' as const, text: `Warnings:\n${cov.warnings.join('\n')}` }] : []),
    ];
  }
  const figs = coverageFigures(cov);
  const f = (x: number | undefined) => (x === undefined ? '' : x.toFixed(1));
  const sections: ReportSection[] = [
    { kind: 'heading', text: cov.name },
    {
      kind: 'text',
      text:
        `${coverageSummary(cov)}. Labelled by ${cov.labeller}. Source: ${cov.source}.\n` +
        `Multiple choice: ${cov.formats.multipleChoice} pairs; chain of thought: ${cov.formats.chainOfThought} pairs. ` +
        `Answer length (words): median ${f(cov.answerWords?.median)}, mean ${f(cov.answerWords?.mean)}, 90th percentile ${f(cov.answerWords?.p90)}.` +
        (cov.pairsPerText
          ? ` Pairs per text: mean ${f(cov.pairsPerText.mean)}, median ${f(cov.pairsPerText.median)}, max ${cov.pairsPerText.max}.`
          : ''),
    },
    { kind: 'figure', figure: figs.sunburst, height: 560 },
    { kind: 'figure', figure: figs.categories },
    {
      kind: 'table',
      caption: 'Families',
      rows: [...cov.families]
        .sort((a, b) => b.count - a.count)
        .filter((x) => x.count > 0)
        .map((x) => ({
          family: x.name,
          pairs: x.count,
          share: `${(100 * x.share).toFixed(1)}%`,
          categories: `${x.categoriesCovered} / ${x.categoriesInTaxonomy}`,
        })),
    },
    { kind: 'figure', figure: figs.answerWords, height: 340 },
    { kind: 'figure', figure: figs.answerShapes, height: 340 },
  ];
  if (figs.pairsPerText) sections.push({ kind: 'figure', figure: figs.pairsPerText, height: 340 });
  sections.push({
    kind: 'table',
    caption: 'Categories, with the first pair of each',
    rows: cov.categories
      .filter((c) => c.count > 0)
      .map((c) => ({
        category: c.id,
        family: c.familyName,
        pairs: c.count,
        question: c.examples[0]?.question ?? '',
        answer: c.examples[0]?.answer ?? '',
      })),
  });
  const missing = cov.categories.filter((c) => c.count === 0 && c.id !== 'other').map((c) => c.id);
  if (missing.length)
    sections.push({ kind: 'text', text: `Categories with no pairs (${missing.length}): ${missing.join(', ')}.` });
  if (cov.warnings.length) sections.push({ kind: 'text', text: `Warnings:\n${cov.warnings.join('\n')}` });
  return sections;
}

/** A report for one or more pair sets; with several, a side-by-side comparison comes first. */
export function coverageReport(covs: Coverage[], title = 'Task coverage'): Report {
  const sections: ReportSection[] = [];
  if (covs.length > 1) {
    sections.push({ kind: 'heading', text: 'Side by side' });
    sections.push({
      kind: 'figure',
      figure: coverageComparison(covs.map((c) => ({ name: c.name, categories: categoryCounts(c) }))),
      height: 520,
    });
  }
  for (const c of covs) sections.push(...coverageSections(c));
  return {
    title,
    subtitle:
      'Categories of the ipt-kit task taxonomy (data/tasks/taxonomy.json), labelled by its rule classifier unless said otherwise.',
    sections,
  };
}

export type PngMode = 'auto' | 'yes' | 'no';

/** Label with an LM judge instead of the rules (lib/tasks/judge.ts); the rules still run, for agreement. */
export type CoverageJudge = { engine: CompletionEngine; batchSize?: number; maxNewTokens?: number };

/** How an LM judge's labels compare with the rule classifier's on the same pairs (judge.json). */
export type JudgeAgreement = {
  engine: string;
  pairs: number;
  /** Answers that named no category (counted as "other"). */
  unparsed: number;
  agreeing: number;
  agreement: number;
  /** Pairs the two label differently, most frequent (rules, judge) combinations first. */
  disagreements: Array<{ rules: string; judge: string; pairs: number }>;
};

export type CoverageRunOptions = {
  input: string;
  out: string;
  name?: string;
  png?: PngMode;
  classifier?: Classifier;
  judge?: CoverageJudge;
  command?: string[];
  examplesPerCategory?: number;
};

export type CoverageRunResult = { coverage: Coverage; files: string[]; pngSkipped?: string; judge?: JudgeAgreement };

export function judgeAgreement(engine: string, rules: Classification[], judged: Classification[]): JudgeAgreement {
  if (rules.length !== judged.length)
    throw new RangeError(`${rules.length} rule labels but ${judged.length} judge labels`);
  const pairsBy = new Map<string, { rules: string; judge: string; pairs: number }>();
  let agreeing = 0;
  rules.forEach((r, i) => {
    const j = judged[i].category;
    if (r.category === j) return void agreeing++;
    const key = `${r.category}\u0000${j}`;
    const entry = pairsBy.get(key) ?? { rules: r.category, judge: j, pairs: 0 };
    entry.pairs++;
    pairsBy.set(key, entry);
  });
  const disagreements = [...pairsBy.values()].sort(
    (a, b) => b.pairs - a.pairs || a.rules.localeCompare(b.rules) || a.judge.localeCompare(b.judge),
  );
  return {
    engine,
    pairs: rules.length,
    unparsed: judged.filter((l) => l.rule === JUDGE_UNPARSED_RULE).length,
    agreeing,
    agreement: rules.length ? agreeing / rules.length : 0,
    disagreements,
  };
}

/** Labels a pair set (or reads it from `input`) and writes the run folder. */
export async function runCoverage(
  options: CoverageRunOptions,
  preloaded?: { set: PairSet; inputs: ManifestInput[] },
): Promise<CoverageRunResult> {
  const startedAt = new Date();
  const { set, inputs } = preloaded ?? (await loadPairsInput(options.input, { name: options.name }));
  const classifier = options.classifier ?? createClassifier();
  const ruleLabels = set.pairs.map((p) => classifier.classify(p));
  let judge: JudgeAgreement | undefined;
  let judged: Classification[] | undefined;
  if (options.judge) {
    const { engine, batchSize, maxNewTokens } = options.judge;
    judged = await judgePairs(engine, set.pairs, { taxonomy: classifier.taxonomy, batchSize, maxNewTokens });
    judge = judgeAgreement(engine.name, ruleLabels, judged);
  }
  const { labels, ...coverage } = computeCoverage(set, {
    taxonomy: classifier.taxonomy,
    labels: judged ?? ruleLabels,
    labeller: judge ? `an LM judge (${judge.engine})` : 'rules',
    examplesPerCategory: options.examplesPerCategory,
  });
  mkdirSync(options.out, { recursive: true });
  const files: string[] = [];
  const write = (rel: string, data: string | Uint8Array) => {
    writeFileAtomic(join(options.out, rel), data);
    files.push(rel);
  };
  write('coverage.json', JSON.stringify(coverage, null, 2) + '\n');
  const labelLine = (i: number) =>
    judge ? { ...labels[i], rulesCategory: ruleLabels[i].category, rulesRule: ruleLabels[i].rule } : labels[i];
  write(
    'labels.jsonl',
    set.pairs.map((p, i) => JSON.stringify({ ...p, ...labelLine(i) })).join('\n') + (set.pairs.length ? '\n' : ''),
  );
  if (judge) write('judge.json', JSON.stringify(judge, null, 2) + '\n');
  writeReport(join(options.out, 'coverage.html'), coverageReport([coverage], `Task coverage: ${coverage.name}`));
  files.push('coverage.html');
  let pngSkipped: string | undefined;
  const mode = options.png ?? 'auto';
  if (coverage.pairs === 0 && mode !== 'no') {
    pngSkipped = 'no pairs, nothing to draw';
  } else if (mode === 'yes' || (mode === 'auto' && chromiumAvailable())) {
    const figs = coverageFigures(coverage);
    const items = Object.entries(figs).map(([k, figure]) => ({
      figure,
      path: join(options.out, 'figures', `${k}.png`),
    }));
    await writeFigurePngs(items);
    files.push(...items.map((i) => join('figures', basename(i.path))));
  } else if (mode === 'auto') {
    pngSkipped = 'Chromium is not installed; run env/setup.sh for PNG figures';
  }
  await writeManifest(options.out, {
    command: options.command ?? ['ipt', 'coverage', '--input', options.input],
    config: {
      input: options.input,
      name: set.name,
      png: mode,
      rules: hashJson(classifier.rules),
      taxonomy: `${classifier.taxonomy.name} v${classifier.taxonomy.version}`,
      ...(options.judge
        ? {
            judge: {
              engine: options.judge.engine.name,
              batchSize: options.judge.batchSize ?? null,
              maxNewTokens: options.judge.maxNewTokens ?? null,
              decoding: 'greedy',
            },
          }
        : {}),
    },
    seeds: {},
    inputs,
    outputs: files,
    startedAt,
    totals: {
      pairs: coverage.pairs,
      categoriesCovered: coverage.categoriesCovered,
      ...(judge ? { judgeAgreement: judge.agreement, judgeUnparsed: judge.unparsed } : {}),
    },
    notes: [...coverage.warnings, ...(pngSkipped ? [`PNG figures skipped: ${pngSkipped}`] : [])],
  });
  return {
    coverage,
    files: [...files, 'manifest.json'],
    ...(pngSkipped ? { pngSkipped } : {}),
    ...(judge ? { judge } : {}),
  };
}
