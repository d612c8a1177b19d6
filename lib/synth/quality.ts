// Synthesizer quality: how well a synthesizer's outputs fit their texts, measured the same way for
// the rule-based miner, the kit's tiny synthesizer and the released model. Plain JSON in and out.
//
// Definitions (every rate is a share in [0, 1]; 0 when its denominator is 0):
// - normalise(s): Unicode NFKC, lower case, every punctuation or symbol character replaced by a
//   space, whitespace collapsed, trimmed.
// - pairs of a text: `parseComprehension(output, { deduplicate: true })`, as the multi-round
//   driver keeps them (or the given `pairs`, deduplicated the same way).
// - parse rate: texts with at least one pair / texts.
// - pairs per text: over all texts, unparsed ones counting 0.
// - final answer: for a chain-of-thought answer the text after the last
//   "\nTherefore, the answer is ", else the whole answer. The answer of a multiple-choice question
//   is the chosen option's text, so it is checked like any answer.
// - answer in context: a pair's normalised final answer occurs in the normalised context on word
//   boundaries. Label answers (normalised "yes", "no", "true", "false") are not expected in the text
//   and are left out of the denominator (counted in `labelAnswers`).
// - multiple choice valid: a multiple-choice question whose answer is one of its options (exactly,
//   after trimming).
// - duplicates within a text: pairs dropped by deduplication (same question ignoring case);
//   across texts: kept pairs whose normalised (question, final answer) appeared in an earlier text.
// - kinds: `ruleKindOfQuestion`, the rule wording a question follows, or "other" (counted by rule
//   kind, not by the task classifier of lib/tasks: a kind is one wording family of the rules, e.g.
//   "fill_blank", "who"). question kinds: the number of distinct kinds other than "other"; top kind:
//   the most frequent kind ("other" included) and its share of the pairs, so that one kind asked of
//   nearly every text shows however many others appear once.
// - answers in context by kind: the same count per kind of the pair's question.
// - accuracy on reference pairs (e.g. rule-mined pairs of held-out texts), two ways:
//   free: a reference is "asked" when the synthesizer's own pairs for that text contain a question
//     whose normalised form equals the reference question's (the first such pair is used). Exact:
//     normalised final answers equal. Token F1: SQuAD-style F1 between the normalised final answers'
//     tokens. Rates are given on asked references and over all references (not asked = wrong, F1 0).
//   prompted: `referencePrompts` forces each reference question after the text
//     (`cookRead(context) + "<QUE> " + question + " <ANS>"`) and the synthesizer writes only the answer
//     (up to its first marker, normally `</END>`); `scoreReferenceAnswers` scores those answers the same way, with every
//     reference asked.

import {
  ANS,
  BOS,
  CON_END,
  CON_START,
  COT_ANSWER_MARKER,
  END,
  EOS,
  QUE,
  cookRead,
  deduplicateQuestions,
  parseComprehension,
  pyStrip,
  type Pair,
} from './format.js';
import { optionsOf, ruleKindOfQuestion } from './rules.js';
import type { CompletionEngine } from '../engine/completion.js';

export type QualityItem = {
  context: string;
  /** The synthesizer's raw output for this text. */
  output?: string;
  /** Or its pairs, already parsed. */
  pairs?: Pair[];
  /** Reference pairs for this text (e.g. from the rules), for accuracy. */
  references?: Pair[];
};

export type Stats = { n: number; mean: number; min: number; p10: number; median: number; p90: number; max: number };

export type ReferenceScore = {
  references: number;
  asked: number;
  askedRate: number;
  exact: number;
  exactOnAsked: number;
  exactOverall: number;
  f1OnAsked: number;
  f1Overall: number;
};

export type QualityReport = {
  texts: number;
  parsed: number;
  parseRate: number;
  pairs: number;
  pairsPerText: Stats & { histogram: Record<string, number> };
  answerInContext: { eligible: number; found: number; rate: number; labelAnswers: number };
  answerChars: Stats;
  questionChars: Stats;
  forms: { multipleChoice: number; chainOfThought: number; free: number };
  multipleChoiceValid: { total: number; valid: number; rate: number };
  kinds: Record<string, number>;
  /** Distinct kinds other than "other". */
  questionKinds: number;
  /** The most frequent kind ("other" included) and its share of all pairs; undefined without pairs. */
  topKind?: { kind: string; share: number };
  answerInContextByKind: Record<string, { eligible: number; found: number }>;
  duplicates: { withinText: number; acrossTexts: number };
  /** Present when some item has references. */
  reference?: ReferenceScore;
};

export function normalise(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The final answer: after the last chain-of-thought marker when there is one. */
export function finalOf(answer: string): string {
  const at = answer.lastIndexOf(COT_ANSWER_MARKER);
  return pyStrip(at < 0 ? answer : answer.slice(at + COT_ANSWER_MARKER.length));
}

const LABELS = new Set(['yes', 'no', 'true', 'false']);

export function answerInContext(answer: string, context: string): boolean {
  const a = normalise(finalOf(answer));
  return a.length > 0 && ` ${normalise(context)} `.includes(` ${a} `);
}

/** SQuAD answer normalisation (NFKC, lower case, no punctuation or articles, single spaces). */
export function normalizeAnswer(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The kit's one token F1 (SQuAD): the best token-overlap F1 of the prediction against any of the
 * answers after normalizeAnswer (both empty: 1). lib/eval scores generations with it too.
 */
export function tokenF1(prediction: string, answers: string | string[]): number {
  const pred = normalizeAnswer(prediction).split(' ').filter(Boolean);
  let best = 0;
  for (const a of typeof answers === 'string' ? [answers] : answers) {
    const gold = normalizeAnswer(a).split(' ').filter(Boolean);
    if (pred.length === 0 || gold.length === 0) {
      best = Math.max(best, pred.length === gold.length ? 1 : 0);
      continue;
    }
    const counts = new Map<string, number>();
    for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
    let common = 0;
    for (const t of pred) {
      const c = counts.get(t) ?? 0;
      if (c > 0) {
        common++;
        counts.set(t, c - 1);
      }
    }
    if (common === 0) continue;
    const precision = common / pred.length;
    const recall = common / gold.length;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best;
}

export function stats(values: number[]): Stats {
  if (values.length === 0) return { n: 0, mean: 0, min: 0, p10: 0, median: 0, p90: 0, max: 0 };
  const sorted = [...values].sort((x, y) => x - y);
  // nearest-rank quantiles: an actual value of the sample, no interpolation
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return {
    n: sorted.length,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    min: sorted[0],
    p10: q(0.1),
    median: q(0.5),
    p90: q(0.9),
    max: sorted[sorted.length - 1],
  };
}

const rate = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Scores one answer per reference (undefined: the reference was not asked). */
function scoreAnswers(answers: Array<{ reference: Pair; answer: string | undefined }>): ReferenceScore {
  let asked = 0;
  let exact = 0;
  let f1 = 0;
  for (const { reference, answer } of answers) {
    if (answer === undefined) continue;
    asked++;
    const ref = finalOf(reference.answer);
    const got = finalOf(answer);
    if (normalise(got) === normalise(ref)) exact++;
    f1 += tokenF1(got, ref);
  }
  const references = answers.length;
  return {
    references,
    asked,
    askedRate: rate(asked, references),
    exact,
    exactOnAsked: rate(exact, asked),
    exactOverall: rate(exact, references),
    f1OnAsked: rate(f1, asked),
    f1Overall: rate(f1, references),
  };
}

function pairsOf(item: QualityItem): { kept: Pair[]; raw: Pair[] } {
  const raw = item.output !== undefined ? parseComprehension(item.output) : (item.pairs ?? []);
  return { raw, kept: deduplicateQuestions(raw) };
}

/** Free-mode accuracy: each reference is answered by the synthesizer's own pair with the same question, if any. */
export function referenceAccuracy(items: QualityItem[]): ReferenceScore {
  const answers: Array<{ reference: Pair; answer: string | undefined }> = [];
  for (const item of items) {
    const { kept } = pairsOf(item);
    const byQuestion = new Map<string, string>();
    for (const p of kept) {
      const key = normalise(p.question);
      if (!byQuestion.has(key)) byQuestion.set(key, p.answer);
    }
    for (const reference of item.references ?? [])
      answers.push({ reference, answer: byQuestion.get(normalise(reference.question)) });
  }
  return scoreAnswers(answers);
}

function topKindOf(kinds: Record<string, number>, pairs: number): { topKind?: { kind: string; share: number } } {
  const top = Object.entries(kinds).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0];
  return top ? { topKind: { kind: top[0], share: top[1] / pairs } } : {};
}

export function measureSynthesizer(items: QualityItem[]): QualityReport {
  let parsed = 0;
  let pairs = 0;
  const perText: number[] = [];
  const answerChars: number[] = [];
  const questionChars: number[] = [];
  const kinds: Record<string, number> = {};
  const inContextByKind: Record<string, { eligible: number; found: number }> = {};
  const forms = { multipleChoice: 0, chainOfThought: 0, free: 0 };
  const inContext = { eligible: 0, found: 0, labelAnswers: 0 };
  const mcValid = { total: 0, valid: 0 };
  const duplicates = { withinText: 0, acrossTexts: 0 };
  const seen = new Set<string>();
  for (const item of items) {
    const { raw, kept } = pairsOf(item);
    duplicates.withinText += raw.length - kept.length;
    perText.push(kept.length);
    if (kept.length > 0) parsed++;
    pairs += kept.length;
    const here = new Set<string>();
    for (const p of kept) {
      answerChars.push(p.answer.length);
      questionChars.push(p.question.length);
      const kind = ruleKindOfQuestion(p.question) ?? 'other';
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const options = optionsOf(p.question);
      const isCot = p.answer.includes(COT_ANSWER_MARKER);
      if (options) forms.multipleChoice++;
      if (isCot) forms.chainOfThought++;
      if (!options && !isCot) forms.free++;
      if (options) {
        mcValid.total++;
        const final = finalOf(p.answer);
        if (options.some((o) => pyStrip(o) === final)) mcValid.valid++;
      }
      if (LABELS.has(normalise(finalOf(p.answer)))) inContext.labelAnswers++;
      else {
        const found = answerInContext(p.answer, item.context);
        const byKind = (inContextByKind[kind] ??= { eligible: 0, found: 0 });
        inContext.eligible++;
        byKind.eligible++;
        if (found) {
          inContext.found++;
          byKind.found++;
        }
      }
      const key = `${normalise(p.question)}\u0000${normalise(finalOf(p.answer))}`;
      if (seen.has(key)) duplicates.acrossTexts++;
      here.add(key);
    }
    for (const k of here) seen.add(k);
  }
  const histogram: Record<string, number> = {};
  for (const n of perText) histogram[String(n)] = (histogram[String(n)] ?? 0) + 1;
  const report: QualityReport = {
    texts: items.length,
    parsed,
    parseRate: rate(parsed, items.length),
    pairs,
    pairsPerText: { ...stats(perText), histogram },
    answerInContext: { ...inContext, rate: rate(inContext.found, inContext.eligible) },
    answerChars: stats(answerChars),
    questionChars: stats(questionChars),
    forms,
    multipleChoiceValid: { ...mcValid, rate: rate(mcValid.valid, mcValid.total) },
    kinds,
    questionKinds: Object.keys(kinds).filter((k) => k !== 'other').length,
    ...topKindOf(kinds, pairs),
    answerInContextByKind: inContextByKind,
    duplicates,
  };
  if (items.some((i) => i.references !== undefined)) report.reference = referenceAccuracy(items);
  return report;
}

// ---------------------------------------------------------------------------------------------
// Prompted mode: force the reference question, let the synthesizer write the answer

export type ReferencePrompt = { item: number; reference: number; prompt: string };

/** One prompt per reference pair: the text as the synthesizer reads it, then `<QUE> {question} <ANS>`. */
export function referencePrompts(items: Array<Pick<QualityItem, 'context' | 'references'>>): ReferencePrompt[] {
  const out: ReferencePrompt[] = [];
  items.forEach((item, i) => {
    (item.references ?? []).forEach((r, j) => {
      out.push({ item: i, reference: j, prompt: `${cookRead(item.context)}${QUE} ${r.question} ${ANS}` });
    });
  });
  return out;
}

/**
 * The answer a synthesizer wrote after a forced question: up to its first marker, trimmed. An answer
 * never holds a marker, so one that runs on past its answer without `</END>` ("No <ANS> Yes </END>")
 * answered "No".
 */
export function answerOfCompletion(completion: string): string {
  let at = completion.length;
  for (const marker of [END, ANS, QUE, EOS, BOS, CON_START, CON_END]) {
    const i = completion.indexOf(marker);
    if (i >= 0 && i < at) at = i;
  }
  return pyStrip(completion.slice(0, at));
}

/** Scores completions of `referencePrompts(items)` (same order) against the references. */
export function scoreReferenceAnswers(
  items: Array<Pick<QualityItem, 'context' | 'references'>>,
  completions: string[],
): ReferenceScore {
  const prompts = referencePrompts(items);
  if (completions.length !== prompts.length) {
    throw new RangeError(
      `scoreReferenceAnswers got ${completions.length} completions for ${prompts.length} reference prompts`,
    );
  }
  return scoreAnswers(
    prompts.map((p, k) => ({
      reference: items[p.item].references![p.reference],
      answer: answerOfCompletion(completions[k]),
    })),
  );
}

/** Runs the prompted mode with an engine, `batchSize` prompts at a time. */
export async function answerReferenceQuestions(
  engine: CompletionEngine,
  items: Array<Pick<QualityItem, 'context' | 'references'>>,
  options: { maxNewTokens: number; batchSize?: number },
): Promise<ReferenceScore & { answers: string[] }> {
  const prompts = referencePrompts(items).map((p) => p.prompt);
  const batchSize = options.batchSize ?? 16;
  const completions: string[] = [];
  for (let i = 0; i < prompts.length; i += batchSize) {
    const batch = await engine.complete(prompts.slice(i, i + batchSize), { maxNewTokens: options.maxNewTokens });
    completions.push(...batch.map((c) => c.text));
  }
  return { ...scoreReferenceAnswers(items, completions), answers: completions.map(answerOfCompletion) };
}
