// A transparent task classifier for instruction-response pairs. A pair is first reduced to a few
// plain features (the question's stem without its options and chain-of-thought line, the options, the
// final answer and its shape), then ordered rules kept as data (data/tasks/rules.json) are tried in
// turn; the first rule whose conditions all hold names the category, and the result says which rule
// fired, so every label can be traced and argued with. Nothing matches: "other".

import { COT_ANSWER_MARKER, COT_QUESTION_SUFFIX, type Pair } from '../synth/format.js';
import { dataPath } from '../repro/project.js';
import { OTHER, familyOf, hasCategory, loadTaxonomy, type Taxonomy } from './taxonomy.js';
import { readJson } from '../repro/files.js';

export type AnswerShape =
  | 'yes-no'
  | 'number'
  | 'code'
  | 'list'
  | 'word'
  | 'phrase'
  | 'sentence'
  | 'paragraph'
  | 'empty';

export const ANSWER_SHAPES: readonly AnswerShape[] = [
  'yes-no',
  'number',
  'code',
  'list',
  'word',
  'phrase',
  'sentence',
  'paragraph',
  'empty',
];

export type PairFeatures = {
  /** The question without its options block and without the chain-of-thought line. */
  stem: string;
  /**
   * The stem with quoted passages of three or more words replaced by "…": the instruction around the
   * quoted text. Cue words inside a quoted sentence of the context ("...the people mentioned...")
   * then cannot pass for the task; short quotes ("he", "bank") stay, as they are what is asked about.
   */
  instruction: string;
  options: string[];
  chainOfThought: boolean;
  /** The reasoning before "Therefore, the answer is" (chain of thought only). */
  reasoning?: string;
  /** The answer, or the part after "Therefore, the answer is" for chain of thought. */
  finalAnswer: string;
  answerWords: number;
  answerShape: AnswerShape;
  /** The final answer is one of the options (ignoring case, quotes and a final full stop). */
  answerIsOption: boolean;
  /** The stem is phrased as a question (ends with "?" or starts with a question word). */
  isQuestion: boolean;
  /** The stem contains a numeral. */
  stemHasNumber: boolean;
};

export type Classification = { category: string; family: string; rule: string };

/** Conditions of a rule; all given ones must hold. Regular expressions are case-insensitive, `.` spans lines. */
export type RuleConditions = {
  /** A regex, or several that must all match. */
  stem?: string | string[];
  /** No regex of these may match. */
  stemNot?: string | string[];
  /** The same on the instruction (the stem without long quotations). */
  instruction?: string | string[];
  instructionNot?: string | string[];
  answer?: string | string[];
  answerNot?: string | string[];
  shape?: AnswerShape[];
  shapeNot?: AnswerShape[];
  options?: boolean;
  chainOfThought?: boolean;
  answerIsOption?: boolean;
  isQuestion?: boolean;
  stemHasNumber?: boolean;
  minAnswerWords?: number;
  maxAnswerWords?: number;
};

export type Rule = { id: string; category: string; if: RuleConditions; why?: string };
export type RuleSet = { version: number; description?: string; rules: Rule[] };

export function defaultRulesPath(): string {
  return dataPath('tasks', 'rules.json');
}

const OPTIONS_LINE = /\nOptions:\s*\n/;

function unquote(s: string): string {
  return s
    .trim()
    .replace(/^["'“”‘’`]+|["'“”‘’`]+$/g, '')
    .trim();
}

function normaliseOption(s: string): string {
  return unquote(s)
    .replace(/[.!]+$/, '')
    .trim()
    .toLowerCase();
}

const NUMBER_WORD =
  '(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|a dozen|none)';
const NUMBER_ANSWER = new RegExp(
  `^(about |around |approximately |roughly |nearly |over |under |exactly )?([-+]?[$£€]?\\d[\\d,]*(\\.\\d+)?\\s*(%|percent|per cent)?|${NUMBER_WORD}(-${NUMBER_WORD})?)(\\s+[a-z%]+){0,2}\\.?$`,
  'i',
);
const YES_NO = /^(yes|no)\b/i;
const CODE =
  /(^|\n)\s*(def |function |class |import |return |#include|public |SELECT |INSERT |UPDATE |DELETE |CREATE TABLE|console\.|print\(|for \(|while \()|=>|[;{]\s*$|[;{]\s*\n|^\^.*\$$|^\/.+\/[gimsuy]*$/;
const QUESTION_START =
  /^(who|whom|whose|what|what's|which|where|when|why|how|is|are|was|were|am|do|does|did|can|could|will|would|should|shall|may|might|must|has|have|had)\b/i;

// Titles and initials end with a full stop without ending a sentence ("Dr. Osei", "J. R. R. Tolkien").
const NOT_A_SENTENCE_END = /(\b(mr|mrs|ms|dr|prof|st|sr|jr|vs|etc|e\.g|i\.e|mt|ft|approx|inc|ltd|co)|\b[A-Z])\.$/i;

function countSentences(s: string): number {
  let n = 0;
  let start = 0;
  const boundary = /[.!?]["”’)]*\s+(?=["“‘(]?[A-Z0-9])/g;
  for (let m = boundary.exec(s); m; m = boundary.exec(s)) {
    const piece = s.slice(start, m.index + 1);
    if (NOT_A_SENTENCE_END.test(piece.trimEnd())) continue;
    n++;
    start = m.index + m[0].length;
  }
  return n + (s.slice(start).trim() ? 1 : 0);
}

function countWords(s: string): number {
  const t = s.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/** The shape of an answer: what kind of text it is, judged from its surface alone. */
export function answerShape(answer: string): AnswerShape {
  const a = unquote(answer);
  if (a === '') return 'empty';
  if (YES_NO.test(a)) return 'yes-no';
  if (NUMBER_ANSWER.test(a)) return 'number';
  if (CODE.test(a)) return 'code';
  const words = countWords(a);
  const bullets = a.split('\n').filter((l) => /^\s*([-*•]|\d+[.)])\s+/.test(l)).length;
  if (bullets >= 2) return 'list';
  const sentences = countSentences(a);
  // A list: three or more short comma/semicolon-separated items, and no sentence inside.
  const items = a
    .replace(/[.]$/, '')
    .split(/\s*[,;]\s*(?:and\s+|or\s+)?|\s+and\s+/)
    .filter((x) => x.trim());
  if (sentences === 1 && /[,;]/.test(a) && items.length >= 3 && items.every((x) => countWords(x) <= 5)) return 'list';
  if (sentences > 1) return 'paragraph';
  if (words === 1) return 'word';
  if (words <= 8) return 'phrase';
  return 'sentence';
}

const QUOTED = /"[^"\n]*"|“[^”\n]*”/g;

function withoutLongQuotes(s: string): string {
  return s.replace(QUOTED, (q) => (countWords(q) >= 3 ? '"…"' : q));
}

/** The features the rules look at. */
export function pairFeatures(pair: Pair): PairFeatures {
  let question = pair.question.replace(/\r\n/g, '\n');
  let chainOfThought = false;
  if (question.trimEnd().endsWith(COT_QUESTION_SUFFIX.trim())) {
    chainOfThought = true;
    const cut = question.trimEnd();
    question = cut.slice(0, cut.length - COT_QUESTION_SUFFIX.trim().length);
  }
  let options: string[] = [];
  const m = OPTIONS_LINE.exec(question);
  if (m) {
    const block = question.slice(m.index + m[0].length);
    question = question.slice(0, m.index);
    options = block
      .split('\n')
      .map((l) => l.replace(/^\s*-\s?/, '').trim())
      .filter((l) => l !== '');
  }
  const answer = pair.answer.replace(/\r\n/g, '\n').trim();
  let finalAnswer = answer;
  let reasoning: string | undefined;
  const marker = COT_ANSWER_MARKER.trim();
  const at = answer.lastIndexOf(marker);
  if (at >= 0 && (chainOfThought || at > 0)) {
    chainOfThought = true;
    reasoning = answer.slice(0, at).trim();
    finalAnswer = answer.slice(at + marker.length).trim();
  }
  const stem = question.trim();
  const normalisedAnswer = normaliseOption(finalAnswer);
  return {
    stem,
    instruction: withoutLongQuotes(stem),
    options,
    chainOfThought,
    ...(reasoning !== undefined ? { reasoning } : {}),
    finalAnswer,
    answerWords: countWords(finalAnswer),
    answerShape: answerShape(finalAnswer),
    answerIsOption: options.some((o) => normaliseOption(o) === normalisedAnswer),
    isQuestion: /\?["'”’)]*$/.test(stem) || QUESTION_START.test(unquote(stem)),
    stemHasNumber: /\d/.test(stem),
  };
}

type CompiledRule = Rule & { test: (f: PairFeatures) => boolean };

const CONDITION_KEYS = new Set<keyof RuleConditions>([
  'stem',
  'stemNot',
  'instruction',
  'instructionNot',
  'answer',
  'answerNot',
  'shape',
  'shapeNot',
  'options',
  'chainOfThought',
  'answerIsOption',
  'isQuestion',
  'stemHasNumber',
  'minAnswerWords',
  'maxAnswerWords',
]);

function compileRegex(src: unknown, where: string): RegExp {
  if (typeof src !== 'string' || src === '') throw new Error(`${where}: must be a non-empty regular expression string`);
  try {
    return new RegExp(src, 'is');
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}

function compileRegexes(src: unknown, where: string): RegExp[] {
  const list = Array.isArray(src) ? src : [src];
  if (list.length === 0) throw new Error(`${where}: an empty list of regular expressions`);
  return list.map((s, i) => compileRegex(s, Array.isArray(src) ? `${where}[${i}]` : where));
}

function compileRule(rule: Rule, tax: Taxonomy, where: string): CompiledRule {
  if (!rule || typeof rule.id !== 'string' || !rule.id) throw new Error(`${where}: a rule needs an "id"`);
  if (!hasCategory(tax, rule.category)) throw new Error(`${where} (${rule.id}): unknown category "${rule.category}"`);
  const c = rule.if ?? {};
  const checks: Array<(f: PairFeatures) => boolean> = [];
  for (const key of Object.keys(c) as Array<keyof RuleConditions>) {
    if (!CONDITION_KEYS.has(key)) throw new Error(`${where} (${rule.id}): unknown condition "${key}"`);
    const at = `${where} (${rule.id}).${key}`;
    const v = c[key];
    switch (key) {
      case 'stem': {
        const res = compileRegexes(v, at);
        checks.push((f) => res.every((re) => re.test(f.stem)));
        break;
      }
      case 'stemNot': {
        const res = compileRegexes(v, at);
        checks.push((f) => !res.some((re) => re.test(f.stem)));
        break;
      }
      case 'instruction': {
        const res = compileRegexes(v, at);
        checks.push((f) => res.every((re) => re.test(f.instruction)));
        break;
      }
      case 'instructionNot': {
        const res = compileRegexes(v, at);
        checks.push((f) => !res.some((re) => re.test(f.instruction)));
        break;
      }
      case 'answer': {
        const res = compileRegexes(v, at);
        checks.push((f) => res.every((re) => re.test(f.finalAnswer)));
        break;
      }
      case 'answerNot': {
        const res = compileRegexes(v, at);
        checks.push((f) => !res.some((re) => re.test(f.finalAnswer)));
        break;
      }
      case 'shape':
      case 'shapeNot': {
        if (!Array.isArray(v) || v.some((s) => !ANSWER_SHAPES.includes(s as AnswerShape))) {
          throw new Error(`${at}: must be a list of answer shapes (${ANSWER_SHAPES.join(', ')})`);
        }
        const set = new Set(v as AnswerShape[]);
        checks.push(key === 'shape' ? (f) => set.has(f.answerShape) : (f) => !set.has(f.answerShape));
        break;
      }
      case 'options':
        if (typeof v !== 'boolean') throw new Error(`${at}: must be true or false`);
        checks.push((f) => f.options.length > 0 === v);
        break;
      case 'chainOfThought':
      case 'answerIsOption':
      case 'isQuestion':
      case 'stemHasNumber':
        if (typeof v !== 'boolean') throw new Error(`${at}: must be true or false`);
        checks.push((f) => f[key] === v);
        break;
      case 'minAnswerWords':
      case 'maxAnswerWords':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${at}: must be a whole number`);
        checks.push(key === 'minAnswerWords' ? (f) => f.answerWords >= v : (f) => f.answerWords <= v);
        break;
    }
  }
  return { ...rule, test: (f) => checks.every((ch) => ch(f)) };
}

export type Classifier = {
  taxonomy: Taxonomy;
  rules: readonly Rule[];
  classify(pair: Pair): Classification;
  /** The classification with the features the rules saw. */
  explain(pair: Pair): Classification & { features: PairFeatures };
};

export function parseRules(json: unknown, source = 'rules'): RuleSet {
  const o = json as Partial<RuleSet> | null;
  if (!o || !Array.isArray(o.rules)) throw new Error(`${source}: expected {"rules": [...]}`);
  const ids = new Set<string>();
  for (const r of o.rules) {
    if (ids.has(r.id)) throw new Error(`${source}: rule id "${r.id}" is used twice`);
    ids.add(r.id);
  }
  return { version: o.version ?? 1, ...(o.description ? { description: o.description } : {}), rules: o.rules };
}

export function loadRules(path: string = defaultRulesPath()): RuleSet {
  return parseRules(readJson(path, { fix: 'restore data/tasks/rules.json from the kit' }), path);
}

/** A classifier over a taxonomy and an ordered rule list (defaults: the kit's data files). */
export function createClassifier(options: { taxonomy?: Taxonomy; rules?: RuleSet } = {}): Classifier {
  const taxonomy = options.taxonomy ?? loadTaxonomy();
  const ruleSet = options.rules ?? loadRules();
  const compiled = ruleSet.rules.map((r, i) => compileRule(r, taxonomy, `rules[${i}]`));
  const explain = (pair: Pair) => {
    const features = pairFeatures(pair);
    const hit = compiled.find((r) => r.test(features));
    const category = hit?.category ?? OTHER;
    return { category, family: familyOf(taxonomy, category), rule: hit?.id ?? 'no-rule', features };
  };
  return {
    taxonomy,
    rules: ruleSet.rules,
    explain,
    classify(pair) {
      const { category, family, rule } = explain(pair);
      return { category, family, rule };
    },
  };
}
