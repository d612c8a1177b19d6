// The controlled experiment's part of the report: the headline figure (every arm on every test, with
// chance marks and 95% intervals over items and seeds) and one plain paragraph written from the numbers
// (what was compared, the effect with its interval, what it does not show), then the tables behind them:
// scores and gains per test, instruction tuning, what the synthesizer wrote and what the filters removed,
// and one training text and one test prompt of each kind.

import { scoreChart, type Figure } from '../report/figure.js';
import type { ReportSection } from '../report/report.js';
import type { ControlledRecords, TestName } from './controlled.js';
import type { ControlledEstimate, ControlledGain, ControlledResults, ControlledRow } from './controlled-results.js';

export const TEST_LABELS: Record<TestName, string> = {
  seen: '(i) new people, pre-training questions',
  'heldout-wording': '(ii) new people, held-out wordings',
  'heldout-attribute': '(iii) new people, held-out attributes',
  memorised: 'pre-training people, closed book',
};

const TEST_ORDER: TestName[] = ['seen', 'heldout-wording', 'heldout-attribute', 'memorised'];

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

function rowsOf(results: ControlledResults, metric: 'acc' | 'exact_match', tuned = false): ControlledRow[] {
  return results.rows.filter((r) => r.metric === metric && r.tuned === tuned);
}

/** Every arm on every multiple-choice test, with chance marks. */
export function controlledHeadlineFigure(results: ControlledResults): Figure {
  const rows = rowsOf(results, 'acc');
  const tests = TEST_ORDER.filter((t) => rows.some((r) => r.test === t));
  return scoreChart(
    rows.map((r) => ({ task: TEST_LABELS[r.test], arm: r.arm, mean: r.score.mean, lo: r.score.lo, hi: r.score.hi })),
    {
      title: 'Controlled experiment: multiple choice about biographies, 95% intervals (items and seeds)',
      yTitle: 'accuracy',
      chance: Object.fromEntries(rows.map((r) => [TEST_LABELS[r.test], r.chance])),
      armOrder: results.arms.map((a) => a.name),
      taskOrder: tests.map((t) => TEST_LABELS[t]),
    },
  );
}

/** The plain paragraph: written from the numbers, so it says what the run measured and nothing else. */
export function controlledParagraph(results: ControlledResults, records: ControlledRecords): string {
  const c = records.config;
  const mc = rowsOf(results, 'acc');
  const get = (arm: string, test: TestName) => mc.find((r) => r.arm === arm && r.test === test);
  const vanilla = results.arms.find((a) => a.kind === 'vanilla')!.name;
  const instruct = results.arms.find((a) => a.kind === 'instruct')?.name;
  const chance = mc[0]?.chance ?? 1 / c.eval.choices;
  const parts: string[] = [];
  const engine = c.synthesizer.engine === 'rules' ? "the kit's rule-based synthesizer" : c.synthesizer.engine === 'tiny' ? "the kit's tiny synthesizer" : `the synthesizer ${c.synthesizer.engine}`;
  parts.push(
    `What was compared: small language models pre-trained from scratch for ${results.tokensPerRun.toLocaleString('en-US')} tokens each on the biographies of ${c.people.pretrain} synthetic people, ` +
      `either the biographies alone (vanilla) or each followed by the questions and answers ${engine} wrote about it, rendered by the kit's templates (instruct), ` +
      `or the biographies plus as many such instruction texts about other people (mix); ${c.seeds.length} seeds each. ` +
      `The test: the biography of a person no model has seen and a question about it; the model chooses the answer among ${c.eval.choices} values of the asked kind by log-likelihood (chance ${num(chance)}).`,
  );
  const base = get(vanilla, 'seen') ?? get(vanilla, 'heldout-wording');
  const main = instruct ? get(instruct, 'seen') ?? get(instruct, 'heldout-wording') : undefined;
  if (base && main?.gain) {
    parts.push(
      `On ${main.test === 'seen' ? 'the questions as the synthesizer writes them' : 'held-out wordings'}, instruct scores ${formatScore(main.score)} and vanilla ${formatScore(base.score)}: ` +
        `a difference of ${formatControlledGain(main.gain).replace(/ (gain|loss|within noise)$/, '')} (paired by seed and item, 95% interval), ${verdictWords(main.gain)}.`,
    );
  }
  for (const test of ['heldout-wording', 'heldout-attribute'] as const) {
    const r = instruct ? get(instruct, test) : undefined;
    if (r?.gain && r.test !== main?.test) {
      parts.push(`${test === 'heldout-wording' ? 'With question wordings no training text used' : 'On attributes no pre-training question asked about'}, instruct's difference from vanilla is ${formatControlledGain(r.gain).replace(/ (gain|loss|within noise)$/, '')}: ${verdictWords(r.gain)}.`);
    }
  }
  const memo = get(vanilla, 'memorised');
  if (memo) {
    const above = memo.score.lo > memo.chance;
    parts.push(
      `Vanilla ${above ? 'did learn its corpus' : 'is not clearly above chance even on its own corpus'}: completing a pre-training biography up to a value (closed book), it scores ${formatScore(memo.score)} against a chance of ${num(memo.chance)}` +
        `${base ? `, while on new people's questions it scores ${formatScore(base.score)}` : ''}.`,
    );
  }
  parts.push(
    'What this does not show: these are models of a few hundred thousand parameters on short synthetic biographies with a fixed sentence structure and small vocabularies; ' +
      'the test is reading a biography given in the prompt, not recalling knowledge stored in the weights; one synthesizer, one corpus generator and one model size were tried. ' +
      'It shows what the method does at this scale on this data, not how large models behave.',
  );
  return parts.join(' ');
}

function scoreTable(results: ControlledResults, tuned: boolean): Array<Record<string, string>> {
  return results.rows
    .filter((r) => r.tuned === tuned)
    .sort((a, b) => TEST_ORDER.indexOf(a.test) - TEST_ORDER.indexOf(b.test) || a.metric.localeCompare(b.metric))
    .map((r) => ({
      test: TEST_LABELS[r.test],
      measure: r.metric === 'acc' ? `multiple choice (${r.score.items} items)` : `exact answer, generated (${r.score.items} items)`,
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
  s.push({ kind: 'figure', figure: controlledHeadlineFigure(results), caption: `Bars: mean accuracy over seeds and items; whiskers: 95% interval over items and seeds; black dash: chance (${c.eval.choices} choices).` });
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
      rows: results.tuningEffect.map((t) => ({ arm: t.arm, test: TEST_LABELS[t.test], measure: t.metric === 'acc' ? 'multiple choice' : 'exact answer', 'tuned minus before tuning [95%]': formatControlledGain(t.gain) })),
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
      'kept pairs by attribute': x.pairsByAttribute ? Object.entries(x.pairsByAttribute).map(([a, n]) => `${a} ${n}`).join(', ') : '',
    })),
  });
  s.push({ kind: 'heading', text: 'Examples', level: 3 });
  for (const [arm, x] of Object.entries(records.corpora)) s.push({ kind: 'text', text: `Training text, ${arm}:\n${x.example}` });
  for (const test of TEST_ORDER) if (records.examples.prompts[test]) s.push({ kind: 'text', text: `Test prompt, ${TEST_LABELS[test]}:\n${records.examples.prompts[test]}` });
  return s;
}
