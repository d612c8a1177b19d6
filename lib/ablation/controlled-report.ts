// The controlled experiment's part of the report: the headline figure (every arm on every test, with
// chance marks and 95% intervals over items and seeds) and one plain paragraph written from the numbers
// (what was compared, the effect with its interval, what it does not show), then the tables behind them:
// scores and gains per test, instruction tuning, what the synthesizer wrote and what the filters removed,
// and one training text and one test prompt of each kind.

import { scoreChart, type Figure } from '../report/figure.js';
import { textTable } from '../report/html.js';
import type { ReportSection } from '../report/report.js';
import type { ControlledRecords, Measure, TestName } from './controlled.js';
import type { ControlledEstimate, ControlledGain, ControlledResults, ControlledRow } from './controlled-results.js';

export const TEST_LABELS: Record<TestName, string> = {
  seen: '(i) new people, pre-training questions',
  'heldout-wording': '(ii) new people, held-out wordings',
  'heldout-attribute': '(iii) new people, held-out attributes',
  memorised: 'pre-training people, closed book',
};

export const MEASURE_LABELS: Record<Measure, string> = {
  fact: 'which fact',
  value: 'which value',
  generated: 'generated answer',
};

const TEST_ORDER: TestName[] = ['seen', 'heldout-wording', 'heldout-attribute', 'memorised'];
const MEASURE_ORDER: Measure[] = ['fact', 'value', 'generated'];

const label = (r: Pick<ControlledRow, 'test' | 'measure'>) =>
  r.test === 'memorised' ? TEST_LABELS[r.test] : `${TEST_LABELS[r.test]} · ${MEASURE_LABELS[r.measure]}`;
const order = (a: Pick<ControlledRow, 'test' | 'measure'>, b: Pick<ControlledRow, 'test' | 'measure'>) =>
  TEST_ORDER.indexOf(a.test) - TEST_ORDER.indexOf(b.test) ||
  MEASURE_ORDER.indexOf(a.measure) - MEASURE_ORDER.indexOf(b.measure);

function num(x: number, digits = 3): string {
  return x.toFixed(digits);
}

export function formatScore(e: Pick<ControlledEstimate, 'mean' | 'lo' | 'hi'>): string {
  return `${num(e.mean)} [${num(e.lo)}, ${num(e.hi)}]`;
}

export function formatControlledGain(g: ControlledGain | null): string {
  if (!g) return '';
  const sign = (x: number) => (x >= 0 ? '+' : '') + num(x);
  return `${sign(g.mean)} [${sign(g.lo)}, ${sign(g.hi)}] ${g.verdict}`;
}

function verdictWords(g: ControlledGain): string {
  if (g.verdict === 'gain') return 'a gain: its whole interval is above zero';
  if (g.verdict === 'loss') return 'a loss: its whole interval is below zero';
  return 'within noise: its interval includes zero, so it is not a result';
}

function rowsOf(results: ControlledResults, tuned = false): ControlledRow[] {
  return results.rows.filter((r) => r.metric === 'acc' && r.tuned === tuned);
}

/** Every arm on every multiple-choice test, with chance marks. */
export function controlledHeadlineFigure(results: ControlledResults): Figure {
  const rows = rowsOf(results).sort(order);
  const labels = [...new Set(rows.map(label))];
  return scoreChart(
    rows.map((r) => ({ task: label(r), arm: r.arm, mean: r.score.mean, lo: r.score.lo, hi: r.score.hi })),
    {
      title: 'Controlled experiment: questions about biographies, multiple choice, 95% intervals (items and seeds)',
      yTitle: 'accuracy',
      chance: Object.fromEntries(rows.map((r) => [label(r), r.chance])),
      armOrder: results.arms.map((a) => a.name),
      taskOrder: labels,
    },
  );
}

function effect(r: ControlledRow | undefined, base: ControlledRow | undefined): string {
  if (!r?.gain || !base) return '';
  return `${formatScore(r.score)} against vanilla's ${formatScore(base.score)} (chance ${num(r.chance)}), a difference of ${formatControlledGain(r.gain).replace(/ (gain|loss|within noise)$/, '')}, ${verdictWords(r.gain)}`;
}

/** The plain paragraph: written from the numbers, so it says what the run measured and nothing else. */
export function controlledParagraph(results: ControlledResults, records: ControlledRecords): string {
  const c = records.config;
  const mc = rowsOf(results);
  const get = (arm: string, test: TestName, measure: Measure) =>
    mc.find((r) => r.arm === arm && r.test === test && r.measure === measure);
  const vanilla = results.arms.find((a) => a.kind === 'vanilla')!.name;
  const instruct = results.arms.find((a) => a.kind === 'instruct')?.name ?? vanilla;
  const engine =
    c.synthesizer.engine === 'rules'
      ? "the kit's rule-based synthesizer"
      : c.synthesizer.engine === 'tiny'
        ? "the kit's tiny synthesizer"
        : `the synthesizer ${c.synthesizer.engine}`;
  const parts: string[] = [];
  parts.push(
    `What was compared: small language models pre-trained from scratch for ${results.tokensPerRun.toLocaleString('en-US')} tokens each on the biographies of ${c.people.pretrain} synthetic people: ` +
      `the biographies alone (vanilla), each biography followed by the questions and answers ${engine} wrote about it, rendered by the kit's templates (instruct), ` +
      `or the biographies plus as many such instruction texts about other people (mix); ${c.seeds.length} seeds each. ` +
      `The test gives the biography of a person no model has seen and a question about it, and the model chooses an answer by log-likelihood: ` +
      `"which fact" offers the person's values of the asked-about attributes (all in the biography: does the model know which fact the question asks for?), ` +
      `"which value" offers ${c.eval.choices} values of the asked kind with only the right one in the biography (does it read the value?).`,
  );
  const kinds: Array<[TestName, string]> = [
    ['seen', 'On the questions the synthesizer writes'],
    ['heldout-wording', 'With question wordings no training text used'],
    ['heldout-attribute', 'On attributes no pre-training question asked about'],
  ];
  for (const [test, intro] of kinds) {
    const fact = effect(get(instruct, test, 'fact'), get(vanilla, test, 'fact'));
    const value = effect(get(instruct, test, 'value'), get(vanilla, test, 'value'));
    if (fact || value)
      parts.push(
        `${intro}, instruct scores ${[fact && `${fact} on "which fact"`, value && `${value} on "which value"`].filter(Boolean).join('; and ')}.`,
      );
  }
  const memo = get(vanilla, 'memorised', 'value');
  if (memo) {
    const above = memo.score.lo > memo.chance;
    parts.push(
      `Vanilla ${above ? 'did learn its corpus' : 'is not clearly above chance even on its own corpus'}: completing one of its pre-training biographies up to a value (closed book), it scores ${formatScore(memo.score)} against a chance of ${num(memo.chance)}.`,
    );
  }
  parts.push(
    'Intervals are 95%, over items and seeds; differences are paired by seed and item. What this does not show: these are models of a few hundred thousand parameters on short synthetic biographies ' +
      'with a fixed sentence structure and small vocabularies; the test is reading a biography given in the prompt, not recalling knowledge stored in the weights; one synthesizer, one corpus generator ' +
      'and one model size were tried. It shows what the method does at this scale on this data, not how large models behave.',
  );
  return parts.join(' ');
}

function scoreTable(results: ControlledResults, tuned: boolean): Array<Record<string, string>> {
  return results.rows
    .filter((r) => r.tuned === tuned)
    .sort(order)
    .map((r) => ({
      test: TEST_LABELS[r.test],
      measure: `${MEASURE_LABELS[r.measure]} (${r.score.items} items)`,
      arm: tuned ? `${r.arm} + tuning` : r.arm,
      seeds: String(r.score.seeds),
      chance: r.metric === 'acc' ? num(r.chance) : '~0',
      'score [95%]': formatScore(r.score),
      [`vs ${tuned ? 'vanilla + tuning' : 'vanilla'} [95%]`]: formatControlledGain(r.gain),
    }));
}

export function controlledReportSections(results: ControlledResults, records: ControlledRecords): ReportSection[] {
  const c = records.config;
  const s: ReportSection[] = [];
  s.push({ kind: 'heading', text: 'Controlled experiment: questions about people no model has seen' });
  s.push({
    kind: 'figure',
    figure: controlledHeadlineFigure(results),
    caption:
      'Bars: mean accuracy over seeds and items; whiskers: 95% interval over items and seeds; black dash: chance.',
  });
  s.push({ kind: 'text', text: controlledParagraph(results, records) });
  s.push({ kind: 'heading', text: 'Scores and gains per test', level: 3 });
  s.push({ kind: 'table', rows: scoreTable(results, false) });
  if (results.rows.some((r) => r.tuned)) {
    s.push({ kind: 'heading', text: 'After instruction tuning', level: 3 });
    s.push({
      kind: 'text',
      text: `Each model of ${c.tuning.arms.join(' and ')} was then tuned briefly (${c.tuning.train.steps} steps) on questions about ${c.people.tuning} other people's ${c.tuning.attributes.join(', ')} (loss on the answers), and tested again; the held-out attributes were asked neither in pre-training nor in tuning. The paper's claim is that an instruction-pre-trained model gains more from such tuning.`,
    });
    s.push({ kind: 'table', rows: scoreTable(results, true) });
    s.push({
      kind: 'table',
      rows: results.tuningEffect.map((t) => ({
        arm: t.arm,
        test: TEST_LABELS[t.test],
        measure: MEASURE_LABELS[t.measure],
        'tuned minus before tuning [95%]': formatControlledGain(t.gain),
      })),
    });
  }
  s.push({ kind: 'heading', text: 'What the synthesizer wrote, and what pre-training kept', level: 3 });
  s.push({
    kind: 'table',
    rows: Object.entries(results.corpora).map(([arm, x]) => ({
      arm,
      documents: x.documents,
      tokens: x.tokens,
      'pairs kept': x.pairsKept ?? '',
      'dropped: held-out attribute': x.droppedHeldOutAttribute ?? '',
      'dropped: held-out wording': x.droppedHeldOutWording ?? '',
      'kept pairs by attribute': x.pairsByAttribute
        ? Object.entries(x.pairsByAttribute)
            .map(([a, n]) => `${a} ${n}`)
            .join(', ')
        : '',
    })),
  });
  s.push({ kind: 'heading', text: 'Examples', level: 3 });
  for (const [arm, x] of Object.entries(records.corpora))
    s.push({ kind: 'text', text: `Training text, ${arm}:\n${x.example}` });
  for (const test of TEST_ORDER)
    if (records.examples.prompts[test])
      s.push({ kind: 'text', text: `Test prompt, ${TEST_LABELS[test]}:\n${records.examples.prompts[test]}` });
  return s;
}

/** The multiple-choice results of the pre-trained arms and the paragraph, as plain text for a terminal. */
export function controlledSummary(results: ControlledResults, records: ControlledRecords): string {
  const rows = rowsOf(results)
    .sort(order)
    .map((r) => ({
      test: label(r),
      arm: r.arm,
      chance: num(r.chance),
      'score [95%]': formatScore(r.score),
      'vs vanilla [95%]': formatControlledGain(r.gain),
    }));
  return `Controlled experiment\n${textTable(rows)}\n\n${controlledParagraph(results, records)}`;
}

/**
 * The controlled experiment for results/results.md (and so the README): the paragraph, the scores and
 * gains per test, and, when the run tuned, the tuned scores and each arm's gain from tuning. Strings are
 * paragraphs, arrays are tables.
 */
export function controlledMarkdownParts(
  results: ControlledResults,
  records: ControlledRecords,
): Array<string | Array<Record<string, string>>> {
  const parts: Array<string | Array<Record<string, string>>> = [
    '**Controlled experiment** (synthetic biographies; lib/ablation/controlled.ts)',
    controlledParagraph(results, records),
    scoreTable(results, false),
  ];
  if (results.rows.some((r) => r.tuned)) {
    const c = records.config;
    parts.push(
      `After instruction tuning (${c.tuning.train.steps} steps on questions about ${c.people.tuning} other people's ${c.tuning.attributes.join(', ')}; the held-out attributes asked neither in pre-training nor in tuning):`,
    );
    parts.push(scoreTable(results, true));
    parts.push(
      results.tuningEffect.map((t) => ({
        arm: t.arm,
        test: TEST_LABELS[t.test],
        measure: MEASURE_LABELS[t.measure],
        'tuned minus before tuning [95%]': formatControlledGain(t.gain),
      })),
    );
  }
  return parts;
}
