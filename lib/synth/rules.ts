// The rule-based instruction synthesizer: mines instruction-response pairs from raw text with
// patterns, in the spirit of the paper's rule-based baseline (AdaptLLM's reading comprehension,
// Cheng et al., 2023: topic, word-to-text, inference from connectives, cause and effect,
// paraphrase, completion) plus fill-in-the-blank, next sentence, sentence ordering, yes/no about
// true and corrupted statements, numbers, counting and genre, and questions about the facts the text
// states (who, where, when, what: ./facts.ts). Multiple choice and chain of thought are
// written in the synthesizer contract's form, and `ruleSynthesizer` answers synthesizer prompts as a
// `CompletionEngine`, so the multi-round driver cannot tell rules from a model.
//
// Every answer is supported by the text: it is an exact span of it, a label derived from an
// explicit cue in it (a connective, a count, the stated genre), or Yes/No about a sentence of it or
// a copy of one with a single word swapped. Each mined pair carries its `evidence` (exact spans).
// Mining is deterministic per (text, seed): nothing depends on batch position or on other texts, and
// each kind draws its candidates from its own stream derived from both, so switching other kinds on
// or off never changes the candidates a kind offers (only which of them the mix keeps).

import { splitSentences } from '../corpus/sentences.js';
import { extractFacts, type FactKind, type TextFacts } from './facts.js';
import { createRng, deriveSeed, pick, shuffleInPlace, type Rng } from '../repro/rng.js';
import type { Completion, CompletionEngine, CompletionOptions } from '../engine/completion.js';
import {
  ANS,
  BOS,
  CON_END,
  CON_START,
  COT_ANSWER_MARKER,
  COT_QUESTION_SUFFIX,
  END,
  EOS,
  OPTIONS_MARKER,
  QUE,
  cookCompre,
  estimateTokens,
  parsePrompt,
  pyStrip,
  type Pair,
} from './format.js';

/** Bumped whenever mining changes what it outputs for a (text, seed); caches key on it. */
export const RULES_VERSION = 2;

/**
 * Salt of the per-text random streams. Fixed since version 1, so that a kind's candidates for a
 * (text, seed) stay what they were when other kinds are added (only the default mix changes).
 */
const STREAM_SALT = 'rules-v1';

export const RULE_KINDS = [
  'fill_blank',
  'next_sentence',
  'completion',
  'word_to_text',
  'ordering',
  'yes_no',
  'nli',
  'cause_effect',
  'paraphrase',
  'number',
  'counting',
  'topic',
  'genre',
  'who',
  'where',
  'when',
  'what',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export type MinedPair = Pair & {
  kind: RuleKind;
  /** Exact spans of the context that support the answer. */
  evidence: string[];
  multipleChoice: boolean;
  chainOfThought: boolean;
};

export type MineOptions = {
  seed: number;
  /** The text's genre, when known (e.g. a Brown genre): enables the genre question. */
  genre?: string;
  /** At most this many pairs per text (default 6). */
  maxPairs?: number;
  /** At least this many when the text offers them (default min(3, maxPairs)); the count is drawn in between. */
  minPairs?: number;
  /** Only these kinds (default all). */
  kinds?: readonly RuleKind[];
  /**
   * How strongly the mix prefers each kind when a text offers several (positive numbers; default
   * KIND_WEIGHTS, the rarer pattern-based kinds first). Only the choice among offered kinds changes.
   */
  weights?: Partial<Record<RuleKind, number>>;
  /** Genre names to draw multiple-choice distractors from (default the 15 Brown genres). */
  genreLabels?: readonly string[];
  /**
   * Longest sentence (in characters) a question may quote or an answer may be (default 320). Lower it
   * for a tiny synthesizer with a short context: quoted sentences and options dominate output length.
   */
  maxSentenceChars?: number;
};

/** Readable names of the Brown genres, used in genre questions. */
export const BROWN_GENRE_NAMES: Readonly<Record<string, string>> = {
  news: 'news reportage',
  editorial: 'editorial',
  reviews: 'review',
  religion: 'religion',
  hobbies: 'hobbies and skills',
  lore: 'popular lore',
  belles_lettres: 'belles lettres',
  government: 'government document',
  learned: 'learned writing',
  fiction: 'general fiction',
  mystery: 'mystery fiction',
  science_fiction: 'science fiction',
  adventure: 'adventure fiction',
  romance: 'romance fiction',
  humor: 'humor',
};

export function genreName(genre: string): string {
  return BROWN_GENRE_NAMES[genre] ?? genre.replace(/_/g, ' ');
}

// ---------------------------------------------------------------------------------------------
// Text analysis, once per text

const STOPWORDS = new Set(
  (
    'a about above after again against all almost also although always am among an and another any are around as at ' +
    'back be became because become been before being below between both but by came can cannot could did do does doing done down during ' +
    'each either else enough even ever every few first for from further get gets got had has have having he her here hers herself him himself his how however ' +
    'i if in into is it its itself just last less let like made make many may me might more most much must my myself ' +
    'never new no nor not now of off often on once one only or other others our ours ourselves out over own per perhaps quite rather ' +
    'said same say says see seem seemed seems shall she should since so some something still such take than that the their theirs them themselves then there ' +
    'therefore these they thing things this those though through thus to too toward towards two under until up upon us very was way we well were what when ' +
    'where whether which while who whom whose why will with within without would yet you your yours yourself yourselves ' +
    'mr mrs ms dr jr st mt gen sen rep gov prof rev co inc ltd'
  ).split(/\s+/),
);

/** Titles and abbreviations that look like names but are not worth asking about. */
const NOT_ENTITIES = new Set([
  ...[
    'Mr',
    'Mrs',
    'Ms',
    'Dr',
    'Jr',
    'Sr',
    'St',
    'Mt',
    'Gen',
    'Sen',
    'Rep',
    'Gov',
    'Prof',
    'Rev',
    'Co',
    'Corp',
    'Inc',
    'Ltd',
    'No',
    'Fig',
    'Vol',
  ],
  ...['Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sep', 'Sept', 'Oct', 'Nov', 'Dec', 'I', 'O', 'A', 'An', 'The'],
]);

const MARKERS = [QUE, ANS, END, CON_START, CON_END, BOS, EOS];

type Token = { text: string; lower: string; start: number; end: number; capital: boolean };
type Span = { text: string; start: number; end: number };

type Sentence = {
  index: number;
  text: string;
  paragraph: number;
  tokens: Token[];
  /** Long enough, a real sentence (not a headline or fragment), safe to quote. */
  good: boolean;
  /** Good, and has no double quotes (dialogue fragments make poor statements). */
  plain: boolean;
  /** Proper-name runs not at the sentence start, e.g. "Fulton County" (offsets in the sentence). */
  entities: Span[];
  /** Numbers like 1908, 20,000, $12,500, 3.5 (offsets in the sentence). */
  numbers: Span[];
};

type Analysis = {
  text: string;
  /** Longest sentence a question may quote. */
  maxChars: number;
  sentences: Sentence[];
  good: Sentence[];
  /** Lower-cased content word -> occurrences in the whole text (word tokens, any case). */
  counts: Map<string, number>;
  /** Content words in order of first occurrence. */
  contentOrder: string[];
  /** How to write a content word: lower case unless it is capitalised everywhere (a name). */
  display: Map<string, string>;
};

const WORD_RE = /[A-Za-z]+(?:['’-][A-Za-z]+)*/g;
const NUMBER_RE =
  /(?<![\w.,$-])\$?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?(?![\w,]*\d)|(?<![\w.,$-])\$?\d+(?:\.\d+)?%?(?![\w]|[.,]\d)/g;
/** A capitalised word that, glued to a lower-case word before it, shows a headline ran into the sentence. */
const HEADLINE_JOIN = /[a-z] (?:However|The|It|He|She|They|We|This|But|In|An?|There|His|Her|Its|Our|When|If)\b/;

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  for (const m of s.matchAll(WORD_RE)) {
    out.push({
      text: m[0],
      lower: m[0].toLowerCase(),
      start: m.index!,
      end: m.index! + m[0].length,
      capital: /^[A-Z]/.test(m[0]),
    });
  }
  return out;
}

function hasMarker(s: string): boolean {
  return MARKERS.some((m) => s.includes(m));
}

function isContent(lower: string): boolean {
  return lower.length >= 4 && !STOPWORDS.has(lower) && !/['’]/.test(lower);
}

function findEntities(s: string, tokens: Token[]): Span[] {
  const out: Span[] = [];
  let run: Token[] = [];
  const flush = () => {
    while (run.length && NOT_ENTITIES.has(run[0].text)) run.shift();
    if (run.length) {
      let end = run[run.length - 1].end;
      if (/['’]s$/.test(s.slice(run[0].start, end))) end -= 2; // "Georgia's" -> "Georgia"
      const text = s.slice(run[0].start, end);
      if (text.length >= 3 && !NOT_ENTITIES.has(text)) out.push({ text, start: run[0].start, end });
    }
    run = [];
  };
  tokens.forEach((t, k) => {
    const name = k > 0 && t.capital && /[a-z]/.test(t.text) && !NOT_ENTITIES.has(t.text) && !STOPWORDS.has(t.lower);
    const joined = run.length > 0 && s.slice(run[run.length - 1].end, t.start) === ' ' && run.length < 4;
    if (name && (run.length === 0 || joined)) run.push(t);
    else {
      flush();
      if (name) run.push(t);
    }
  });
  flush();
  return out;
}

function findNumbers(s: string): Span[] {
  return [...s.matchAll(NUMBER_RE)].map((m) => ({ text: m[0], start: m.index!, end: m.index! + m[0].length }));
}

function isGood(text: string, tokens: Token[], maxChars: number): boolean {
  if (tokens.length < 6 || tokens.length > 45 || text.length < 30 || text.length > maxChars) return false;
  if (!/^["'(]?[A-Z0-9]/.test(text) || !/[.!?]["')]?$/.test(text)) return false;
  if (hasMarker(text) || /\s\s|\n/.test(text) || HEADLINE_JOIN.test(text)) return false;
  // an odd number of double quotes: a piece of dialogue cut inside a quotation
  if ((text.match(/"/g) ?? []).length % 2 === 1) return false;
  const lower = tokens.filter((t) => !t.capital).length;
  return lower >= tokens.length * 0.5;
}

export function analyze(text: string, options: { maxSentenceChars?: number } = {}): Analysis {
  const maxChars = options.maxSentenceChars ?? 320;
  const sentences: Sentence[] = splitSentences(text).map((s, index) => {
    const tokens = tokenize(s.text);
    const good = isGood(s.text, tokens, maxChars);
    return {
      index,
      text: s.text,
      paragraph: s.paragraph,
      tokens,
      good,
      plain: good && !/["“”]/.test(s.text),
      entities: findEntities(s.text, tokens),
      numbers: findNumbers(s.text),
    };
  });
  const counts = new Map<string, number>();
  const contentOrder: string[] = [];
  const display = new Map<string, string>();
  for (const s of sentences) {
    s.tokens.forEach((t, k) => {
      if (!isContent(t.lower)) return;
      const c = counts.get(t.lower);
      if (c === undefined) contentOrder.push(t.lower);
      counts.set(t.lower, (c ?? 0) + 1);
      // a capital at the start of a sentence says nothing about the word
      if (!t.capital) display.set(t.lower, t.lower);
      else if (k > 0 && !display.has(t.lower)) display.set(t.lower, t.text);
    });
  }
  for (const w of contentOrder) if (!display.has(w)) display.set(w, w);
  return { text, maxChars, sentences, good: sentences.filter((s) => s.good), counts, contentOrder, display };
}

// ---------------------------------------------------------------------------------------------
// Shared helpers for writing questions

type Candidate = MinedPair & { focus: number[] };

const q = (s: string) => `"${s}"`;

function withOptions(question: string, options: string[]): string {
  return question + OPTIONS_MARKER + options.join('\n- ');
}

function cot(reasoning: string, final: string): string {
  return reasoning + COT_ANSWER_MARKER + final;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function stripEndPunctuation(s: string): string {
  return s.replace(/[\s.!?;:,]+$/, '');
}

function blankOut(s: string, span: { start: number; end: number }): string {
  return `${s.slice(0, span.start)}____${s.slice(span.end)}`;
}

/** `n` distinct items from `pool`, in random order, none equal (ignoring case) to anything in `exclude`. */
function distractors(pool: readonly string[], exclude: readonly string[], n: number, rng: Rng): string[] {
  const banned = new Set(exclude.map((x) => x.toLowerCase()));
  const out: string[] = [];
  for (const x of shuffleInPlace([...pool], rng)) {
    const key = x.toLowerCase();
    if (banned.has(key)) continue;
    banned.add(key);
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}

function mc(question: string, answer: string, others: string[], rng: Rng): string {
  return withOptions(question, shuffleInPlace([answer, ...others], rng));
}

function candidate(
  kind: RuleKind,
  question: string,
  answer: string,
  evidence: string[],
  focus: number[],
  flags: { mc?: boolean; cot?: boolean } = {},
): Candidate {
  return {
    kind,
    question,
    answer,
    evidence,
    focus,
    multipleChoice: flags.mc === true,
    chainOfThought: flags.cot === true,
  };
}

/** The options of a multiple-choice question, or undefined. */
export function optionsOf(question: string): string[] | undefined {
  const at = question.indexOf(OPTIONS_MARKER);
  if (at < 0) return undefined;
  // A multiple-choice question may also ask for chain of thought: the suffix follows the options.
  const end = question.endsWith(COT_QUESTION_SUFFIX) ? question.length - COT_QUESTION_SUFFIX.length : question.length;
  return question.slice(at + OPTIONS_MARKER.length, end).split('\n- ');
}

/** "a", "a and b", "a, b and c". */
function listing(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function shortStart(s: string, words = 5): string {
  const tokens = s.replace(/^["'(]+/, '').split(' ');
  return tokens.length <= words ? s : `${tokens.slice(0, words).join(' ')}...`;
}

// ---------------------------------------------------------------------------------------------
// The rules. Each returns up to `limit` candidates, best first, using only its own random stream.

type RuleContext = { a: Analysis; rng: Rng; limit: number; genre?: string; genreLabels: readonly string[] };
type Rule = (ctx: RuleContext) => Candidate[];

function sample<T>(items: readonly T[], rng: Rng, limit: number): T[] {
  return shuffleInPlace([...items], rng).slice(0, limit);
}

const fillBlank: Rule = ({ a, rng, limit }) => {
  const allEntities = [...new Set(a.sentences.flatMap((s) => s.entities.map((e) => e.text)))];
  const allWords = a.contentOrder.filter((w) => w.length >= 5);
  const out: Candidate[] = [];
  for (const s of sample(a.good, rng, limit * 2)) {
    const words = s.tokens.filter((t, k) => k > 0 && !t.capital && isContent(t.lower) && t.text.length >= 5);
    const useEntity = s.entities.length > 0 && (words.length === 0 || rng.next() < 0.6);
    if (!useEntity && words.length === 0) continue;
    const target: Span = useEntity ? pick(s.entities, rng) : pick(words, rng);
    const blanked = blankOut(s.text, target);
    const pool = useEntity ? allEntities : allWords;
    const others = distractors(
      pool,
      [target.text, ...s.tokens.map((t) => t.text), ...s.entities.map((e) => e.text)],
      3,
      rng,
    );
    const asMc = others.length >= 2 && rng.next() < 0.4;
    const stem = pick(
      [
        `Fill in the blank in this sentence from the text: ${q(blanked)}`,
        `Which word or name is missing from the sentence ${q(blanked)}?`,
      ],
      rng,
    );
    const question = asMc ? mc(stem, target.text, others, rng) : stem;
    out.push(candidate('fill_blank', question, target.text, [s.text], [s.index], { mc: asMc }));
    if (out.length === limit) break;
  }
  return out;
};

const nextSentence: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  const short = a.good.filter((s) => s.tokens.length <= 35);
  const pairs = a.good.filter((s) => {
    const next = a.sentences[s.index + 1];
    return next !== undefined && next.good && next.tokens.length <= 40;
  });
  for (const s of sample(pairs, rng, limit)) {
    const next = a.sentences[s.index + 1];
    const backwards = rng.next() < 0.3;
    const [given, answer] = backwards ? [next, s] : [s, next];
    const others = distractors(
      short.filter((x) => x.index !== s.index && x.index !== next.index).map((x) => x.text),
      [answer.text, given.text],
      2,
      rng,
    );
    const asMc = others.length === 2 && rng.next() < 0.6;
    const stem = backwards
      ? pick(
          [
            `Which sentence comes just before ${q(given.text)} in the text?`,
            `What does the text say right before ${q(given.text)}?`,
          ],
          rng,
        )
      : pick(
          [
            `Which sentence comes right after ${q(given.text)} in the text?`,
            `What does the text say next, after ${q(given.text)}?`,
          ],
          rng,
        );
    const question = asMc ? mc(stem, answer.text, others, rng) : stem;
    out.push(
      candidate('next_sentence', question, answer.text, [s.text, next.text], [s.index, next.index], { mc: asMc }),
    );
  }
  return out;
};

const completion: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  for (const s of sample(
    a.good.filter((x) => x.tokens.length >= 10),
    rng,
    limit,
  )) {
    const k = Math.floor(s.tokens.length * (0.4 + 0.2 * rng.next()));
    const cut = s.tokens[k].start;
    const prefix = s.text.slice(0, cut).trimEnd();
    const rest = s.text.slice(cut);
    const stem = pick(
      [
        `Complete this sentence from the text: ${q(`${prefix} ...`)}`,
        `How does this sentence from the text go on? ${q(`${prefix} ...`)}`,
      ],
      rng,
    );
    out.push(candidate('completion', stem, rest, [s.text], [s.index]));
  }
  return out;
};

const wordToText: Rule = ({ a, rng, limit, genre }) => {
  const out: Candidate[] = [];
  for (const s of sample(a.good, rng, limit * 2)) {
    const words = [...new Set(s.tokens.filter((t) => !t.capital && isContent(t.lower)).map((t) => t.text))];
    if (words.length < 3) continue;
    const chosen = sample(words, rng, 3);
    const list = `${chosen[0]}, ${chosen[1]} and ${chosen[2]}`;
    const about = genre ? ` in the style of ${genreName(genre)}` : '';
    const question = pick(
      [
        `Write a sentence${about} that uses the words ${list}.`,
        `Compose a sentence${about} containing these words: ${list}.`,
      ],
      rng,
    );
    out.push(candidate('word_to_text', question, s.text, [s.text], [s.index]));
    if (out.length === limit) break;
  }
  return out;
};

const ordering: Rule = ({ a, rng, limit }) => {
  const pool = a.good.filter((s) => s.tokens.length <= 30);
  const out: Candidate[] = [];
  if (pool.length < 2) return out;
  for (let tries = 0; tries < limit * 3 && out.length < limit; tries++) {
    const [x, y] = sample(pool, rng, 2);
    if (x.text === y.text) continue;
    const [first, second] = x.index < y.index ? [x, y] : [y, x];
    const askFirst = rng.next() < 0.6;
    const answer = askFirst ? first : second;
    const stem = askFirst
      ? 'Which of these two sentences comes first in the text?'
      : 'Which of these two sentences comes later in the text?';
    const question = withOptions(stem, rng.next() < 0.5 ? [first.text, second.text] : [second.text, first.text]);
    const asCot = rng.next() < 0.3;
    const reasoning = `The sentence starting ${q(shortStart(first.text))} is sentence ${first.index + 1} of the text, and the one starting ${q(shortStart(second.text))} is sentence ${second.index + 1}.`;
    const cand = candidate(
      'ordering',
      asCot ? question + COT_QUESTION_SUFFIX : question,
      asCot ? cot(reasoning, answer.text) : answer.text,
      [first.text, second.text],
      [first.index, second.index],
      { mc: true, cot: asCot },
    );
    if (!out.some((c) => c.question === cand.question)) out.push(cand);
  }
  return out;
};

const AUXILIARIES =
  /\b(is|was|are|were|has|had|have|will|would|can|could|should|must|may|might|did|does|do)( not)?\b(?= \w)/;

/** A copy of the sentence with one word changed so that the text no longer supports it. */
function corrupt(s: Sentence, a: Analysis, rng: Rng): { statement: string; from: string; to: string } | undefined {
  const ways = shuffleInPlace(['entity', 'number', 'negation'], rng);
  for (const way of ways) {
    if (way === 'entity' && s.entities.length > 0) {
      const e = pick(s.entities, rng);
      const others = distractors(
        [...new Set(a.sentences.flatMap((x) => x.entities.map((y) => y.text)))],
        s.entities.map((y) => y.text),
        1,
        rng,
      );
      if (others.length)
        return {
          statement: `${s.text.slice(0, e.start)}${others[0]}${s.text.slice(e.end)}`,
          from: e.text,
          to: others[0],
        };
    }
    if (way === 'number' && s.numbers.length > 0) {
      const n = pick(s.numbers, rng);
      const others = distractors(
        [...new Set(a.sentences.flatMap((x) => x.numbers.map((y) => y.text)))],
        s.numbers.map((y) => y.text),
        1,
        rng,
      );
      if (others.length)
        return {
          statement: `${s.text.slice(0, n.start)}${others[0]}${s.text.slice(n.end)}`,
          from: n.text,
          to: others[0],
        };
    }
    if (way === 'negation') {
      const m = AUXILIARIES.exec(s.text);
      if (!m) continue;
      const from = m[0];
      const to = m[2] ? m[1] : `${m[1]} not`;
      return { statement: `${s.text.slice(0, m.index!)}${to}${s.text.slice(m.index! + from.length)}`, from, to };
    }
  }
  return undefined;
}

const yesNo: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  for (const s of sample(
    a.good.filter((x) => x.plain && x.tokens.length <= 35),
    rng,
    limit,
  )) {
    const truthful = rng.next() < 0.5;
    const changed = truthful ? undefined : corrupt(s, a, rng);
    if (!truthful && (!changed || a.text.includes(changed.statement))) continue;
    const statement = changed ? changed.statement : s.text;
    const stem = pick(
      [
        `Is this statement true according to the text? ${q(statement)}`,
        `Does the text support the following statement? ${q(statement)}`,
      ],
      rng,
    );
    const label = truthful ? 'Yes' : 'No';
    const style = rng.next();
    if (style < 0.3) {
      const reasoning = changed
        ? `The text says ${q(s.text)} The statement has ${q(changed.to)} where the text has ${q(changed.from)}.`
        : `The text says exactly this: ${q(s.text)}`;
      out.push(
        candidate('yes_no', stem + COT_QUESTION_SUFFIX, cot(reasoning, label), [s.text], [s.index], { cot: true }),
      );
    } else if (style < 0.6) {
      out.push(candidate('yes_no', withOptions(stem, ['Yes', 'No']), label, [s.text], [s.index], { mc: true }));
    } else {
      out.push(candidate('yes_no', stem, label, [s.text], [s.index]));
    }
  }
  return out;
};

type Relation = 'conclusion' | 'contrast' | 'addition' | 'example' | 'restatement';

const RELATION_LABELS: Record<Relation, string> = {
  conclusion: 'The second is a conclusion drawn from the first.',
  contrast: 'The second contrasts with the first.',
  addition: 'The second adds a further point to the first.',
  example: 'The second gives an example of the first.',
  restatement: 'The second says the first in other words.',
};

const CONNECTIVES: Array<[RegExp, Relation]> = [
  [/^(Therefore|Thus|Hence|Consequently|Accordingly|As a result),\s+/, 'conclusion'],
  [/^(However|Nevertheless|Nonetheless|On the other hand|In contrast|Instead),\s+/, 'contrast'],
  [/^(But|Yet)\s+(?=[a-z]|I\b|[A-Z][a-z]+\b)/, 'contrast'],
  [/^(Moreover|Furthermore|In addition|Besides|Likewise|Similarly),\s+/, 'addition'],
  [/^(For example|For instance),\s+/, 'example'],
  [/^(In other words|That is),\s+/, 'restatement'],
];

/** A clause that starts with its subject ("he ...", "the jury ...", "Daniel ..."), not a fragment. */
const SUBJECT_START = /^(he|she|it|they|we|I|you|the|a|an|this|that|there|his|her|their|our|its|[A-Z][a-z]+)\b/;

type Link = {
  first: string;
  second: string;
  connective: string;
  relation: Relation;
  evidence: string[];
  focus: number[];
};

/** Sentence pairs joined by a connective: "A. However, B." across sentences, and "A, but B." inside one. */
function links(a: Analysis): Link[] {
  const out: Link[] = [];
  for (const s of a.sentences) {
    const prev = a.sentences[s.index - 1];
    if (s.plain && prev?.plain && prev.paragraph === s.paragraph) {
      for (const [re, relation] of CONNECTIVES) {
        const m = re.exec(s.text);
        if (!m) continue;
        const rest = s.text.slice(m[0].length);
        if (rest.split(' ').length >= 4)
          out.push({
            first: prev.text,
            second: rest,
            connective: m[1],
            relation,
            evidence: [prev.text, s.text],
            focus: [prev.index, s.index],
          });
        break;
      }
    }
    if (s.plain) {
      const m = /^(.{25,}?), but (.{20,})$/.exec(s.text);
      if (m && !/\bbut\b/.test(m[2]) && SUBJECT_START.test(m[2]) && m[2].split(' ').length >= 5)
        out.push({
          first: m[1],
          second: m[2],
          connective: 'but',
          relation: 'contrast',
          evidence: [s.text],
          focus: [s.index],
        });
    }
  }
  return out;
}

const nli: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  // Contrast ("But", "However", ", but") is by far the most common cue; the other relations go first
  // so that the relation labels stay balanced, then contrast across sentences, then ", but" within one.
  const all = shuffleInPlace(links(a), rng);
  const rank = (l: Link) => (l.relation !== 'contrast' ? 0 : l.evidence.length === 2 ? 1 : 2);
  const ordered = all
    .map((l, k) => ({ l, k }))
    .sort((x, y) => rank(x.l) - rank(y.l) || x.k - y.k)
    .map((x) => x.l);
  // ... and only some contrasts are used at all, or nearly every relation question would be about one.
  const kept = ordered.filter((l) => l.relation !== 'contrast' || rng.next() < 0.4);
  for (const l of kept.slice(0, limit)) {
    const pairText = `Sentence 1: ${q(capitalize(stripEndPunctuation(l.first)))}\nSentence 2: ${q(capitalize(stripEndPunctuation(l.second)))}`;
    if (rng.next() < 0.6) {
      const labels = Object.values(RELATION_LABELS);
      const question = withOptions(
        `${pairText}\nIn the text, how is sentence 2 related to sentence 1?`,
        shuffleInPlace([...labels], rng),
      );
      out.push(candidate('nli', question, RELATION_LABELS[l.relation], l.evidence, l.focus, { mc: true }));
    } else {
      out.push(
        candidate(
          'nli',
          `${pairText}\nWhich word or phrase links sentence 2 to sentence 1 in the text?`,
          l.connective,
          l.evidence,
          l.focus,
        ),
      );
    }
  }
  return out;
};

const paraphrase: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  for (const l of sample(
    links(a).filter((x) => x.relation === 'restatement'),
    rng,
    limit,
  )) {
    const question = pick(
      [
        `How does the text say this in other words? ${q(l.first)}`,
        `Rephrase the following as the text itself does: ${q(l.first)}`,
      ],
      rng,
    );
    out.push(candidate('paraphrase', question, l.second, l.evidence, l.focus));
  }
  return out;
};

type Cause = { cause: string; effect: string; connective: string; evidence: string[]; focus: number[] };

/** Reported-speech tags at a clause end ("..., Daniel declared") are not part of the cause or the effect. */
const ATTRIBUTION =
  /,? (?:he|she|they|we|I|[A-Z][a-z]+(?: [A-Z][a-z]+)?) (?:said|says|declared|explained|added|noted|stated|reported|recalled|argued|insisted)$/;

function clause(s: string): string {
  return s.replace(ATTRIBUTION, '');
}

function causes(a: Analysis): Cause[] {
  const out: Cause[] = [];
  const words = (s: string) => s.split(' ').length;
  for (const s of a.sentences) {
    if (!s.plain) continue;
    const body = stripEndPunctuation(s.text);
    if ((body.match(/\bbecause\b/gi) ?? []).length > 1) continue; // which cause goes with which effect is unclear
    // "Because A, B": B starts after the last comma that opens a clause with its subject.
    let m =
      /^Because (?!of\b)(.+), ((?:he|she|it|they|we|I|you|the|a|an|this|that|there|his|her|their|our|its)\b.+)$/.exec(
        body,
      );
    if (m && words(m[1]) >= 3 && words(m[2]) >= 3) {
      out.push({ cause: m[1], effect: clause(m[2]), connective: 'Because', evidence: [s.text], focus: [s.index] });
      continue;
    }
    m = /^(.+?),? because (?!of\b)(.+)$/.exec(body);
    if (m && words(m[1]) >= 4 && words(m[2]) >= 3 && !/\bbecause\b/i.test(m[2])) {
      out.push({
        cause: clause(m[2]),
        effect: clause(m[1]),
        connective: 'because',
        evidence: [s.text],
        focus: [s.index],
      });
      continue;
    }
    m = /^(.+?), so (.+)$/.exec(body);
    if (
      m &&
      SUBJECT_START.test(m[2]) &&
      words(m[1]) >= 4 &&
      words(m[2]) >= 3 &&
      !/^(that|much|many|far|long|as|well|to|called)\b/.test(m[2])
    ) {
      out.push({ cause: clause(m[1]), effect: clause(m[2]), connective: 'so', evidence: [s.text], focus: [s.index] });
      continue;
    }
    const prev = a.sentences[s.index - 1];
    m = /^(As a result|Consequently|Therefore|Because of this|For this reason),\s+(.+)$/.exec(body);
    if (m && prev?.plain && prev.paragraph === s.paragraph && words(m[2]) >= 3) {
      out.push({
        cause: clause(stripEndPunctuation(prev.text)),
        effect: clause(m[2]),
        connective: m[1],
        evidence: [prev.text, s.text],
        focus: [prev.index, s.index],
      });
    }
  }
  return out;
}

const causeEffect: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  for (const c of sample(causes(a), rng, limit)) {
    const askCause = rng.next() < 0.6;
    const [given, answer] = askCause ? [c.effect, c.cause] : [c.cause, c.effect];
    const stem = askCause
      ? pick(
          [
            `What reason does the text give for the following? ${q(capitalize(given))}`,
            `According to the text, what is the cause of this: ${q(capitalize(given))}?`,
          ],
          rng,
        )
      : pick(
          [
            `According to the text, what follows from this: ${q(capitalize(given))}?`,
            `What result of the following does the text describe? ${q(capitalize(given))}`,
          ],
          rng,
        );
    if (rng.next() < 0.4) {
      const cue = c.evidence.length === 2 ? 'the phrase' : 'the word';
      const reasoning = `The text says: ${c.evidence.map(q).join(' ')} Here ${cue} ${q(c.connective)} marks ${q(c.cause)} as the cause and ${q(c.effect)} as its result.`;
      out.push(
        candidate('cause_effect', stem + COT_QUESTION_SUFFIX, cot(reasoning, answer), c.evidence, c.focus, {
          cot: true,
        }),
      );
    } else {
      out.push(candidate('cause_effect', stem, answer, c.evidence, c.focus));
    }
  }
  return out;
};

const numberRule: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  const allNumbers = [...new Set(a.sentences.flatMap((s) => s.numbers.map((n) => n.text)))];
  for (const s of sample(
    a.good.filter((x) => x.numbers.length > 0),
    rng,
    limit,
  )) {
    const n = pick(s.numbers, rng);
    const blanked = blankOut(s.text, n);
    const others = distractors(
      allNumbers,
      s.numbers.map((x) => x.text),
      3,
      rng,
    );
    const stem = pick(
      [
        `What number is missing from this sentence of the text? ${q(blanked)}`,
        `Which number goes in the blank, according to the text? ${q(blanked)}`,
      ],
      rng,
    );
    const asMc = others.length >= 2 && rng.next() < 0.5;
    out.push(
      candidate('number', asMc ? mc(stem, n.text, others, rng) : stem, n.text, [s.text], [s.index], { mc: asMc }),
    );
  }
  return out;
};

/** Occurrences of a word as a whole word token (any case), as [start, end) offsets in the text. */
export function wordOccurrences(text: string, word: string): Array<[number, number]> {
  return wordOccurrencesOf(text, [word]).get(word.toLowerCase())!;
}

/** wordOccurrences of several words in one pass over the text (lower-cased word -> occurrences). */
function wordOccurrencesOf(text: string, words: readonly string[]): Map<string, Array<[number, number]>> {
  const found = new Map<string, Array<[number, number]>>(words.map((w) => [w.toLowerCase(), []]));
  for (const m of text.matchAll(WORD_RE)) found.get(m[0].toLowerCase())?.push([m.index!, m.index! + m[0].length]);
  return found;
}

/** A few words around an occurrence, within its line, as an exact span of the text. */
function snippet(text: string, [start, end]: [number, number]): string {
  const before = text
    .slice(Math.max(0, start - 40), start)
    .split('\n')
    .pop()!;
  const after = text.slice(end, end + 40).split('\n')[0];
  const left = before.split(' ').slice(-3).join(' ');
  const right = after.split(' ').slice(0, 3).join(' ');
  return `${left}${text.slice(start, end)}${right}`.trim();
}

const counting: Rule = ({ a, rng, limit }) => {
  const out: Candidate[] = [];
  const words = a.contentOrder.filter((w) => {
    const c = a.counts.get(w)!;
    return c >= 2 && c <= 6 && w.length >= 4;
  });
  const chosen = sample(words, rng, limit);
  // one scan of the text for all chosen words: a scan per word made a long text cost `limit` scans
  const found = wordOccurrencesOf(a.text, chosen);
  for (const w of chosen) {
    const occurrences = found.get(w.toLowerCase())!;
    if (occurrences.length !== a.counts.get(w)) continue; // only words whose count is unambiguous
    const snippets = occurrences.map((o) => snippet(a.text, o));
    if (snippets.some((x) => x.includes('"'))) continue;
    const word = a.display.get(w)!;
    const count = String(occurrences.length);
    if (rng.next() < 0.7) {
      const reasoning = `The word ${q(word)} appears in ${listing(snippets.map(q))}: that is ${occurrences.length} times.`;
      out.push(
        candidate(
          'counting',
          `How many times does the word ${q(word)} appear in the text?${COT_QUESTION_SUFFIX}`,
          cot(reasoning, count),
          snippets,
          [],
          { cot: true },
        ),
      );
    } else {
      out.push(candidate('counting', `How many times is the word ${q(word)} used in the text?`, count, snippets, []));
    }
  }
  return out;
};

const topic: Rule = ({ a, rng, limit }) => {
  const ranked = [...a.contentOrder].sort((x, y) => a.counts.get(y)! - a.counts.get(x)!);
  const top = ranked[0];
  if (!top || limit === 0) return [];
  const topCount = a.counts.get(top)!;
  if (topCount < 3 || (ranked[1] && a.counts.get(ranked[1]) === topCount)) return [];
  const rare = a.contentOrder.filter((w) => a.counts.get(w) === 1 && w.length >= 5);
  const others = distractors(rare, [top], 3, rng).map((w) => a.display.get(w)!);
  if (others.length < 3) return [];
  const answer = a.display.get(top)!;
  const uses = wordOccurrences(a.text, top).map((o) => snippet(a.text, o));
  const stem = 'Which of these words does the text use most often?';
  const question = mc(stem, answer, others, rng);
  if (rng.next() < 0.3) {
    const reasoning = `${q(answer)} appears ${topCount} times, while ${listing(others.map(q))} appear once each.`;
    return [
      candidate('topic', question + COT_QUESTION_SUFFIX, cot(reasoning, answer), uses, [], { mc: true, cot: true }),
    ];
  }
  return [candidate('topic', question, answer, uses, [], { mc: true })];
};

const genreRule: Rule = ({ rng, limit, genre, genreLabels }) => {
  if (!genre || limit === 0) return [];
  const answer = genreName(genre);
  const others = distractors(genreLabels.map(genreName), [answer], 3, rng);
  const stem = pick(['What kind of text is this?', 'Which genre does this text belong to?'], rng);
  return [candidate('genre', mc(stem, answer, others, rng), answer, [], [], { mc: true })];
};

const FACTS = new WeakMap<Analysis, TextFacts>();

/** The text's facts (./facts.ts), read once per analysis and shared by the four kinds. */
function factsOf(a: Analysis): TextFacts {
  let found = FACTS.get(a);
  if (!found) {
    const sentences = a.sentences.map((s) => ({
      index: s.index,
      text: s.text,
      paragraph: s.paragraph,
      usable: s.text.length <= a.maxChars && !hasMarker(s.text) && !/\n|\s\s/.test(s.text),
    }));
    found = extractFacts(sentences, a.text);
    FACTS.set(a, found);
  }
  return found;
}

/**
 * Questions about the facts a text states: who did something, where and when, what someone is or
 * studied. The answer is the span the sentence states; multiple-choice distractors are spans of the
 * same type from elsewhere in the text (never from the fact's own sentences, which may hold a second
 * right answer, nor words of the question).
 */
function factRule(kind: FactKind): Rule {
  return ({ a, rng, limit }) => {
    const { facts, pools } = factsOf(a);
    const out: Candidate[] = [];
    for (const f of sample(
      facts.filter((x) => x.kind === kind),
      rng,
      limit,
    )) {
      const stem = pick(f.questions, rng);
      const pool = pools[f.type].filter((x) => !f.evidence.some((e) => e.includes(x)) && !stem.includes(x));
      const others = distractors(pool, [f.answer], 3, rng);
      const asMc = others.length >= 2 && rng.next() < 0.4;
      out.push(
        candidate(kind, asMc ? mc(stem, f.answer, others, rng) : stem, f.answer, f.evidence, f.focus, { mc: asMc }),
      );
    }
    return out;
  };
}

const RULES: Record<RuleKind, Rule> = {
  fill_blank: fillBlank,
  next_sentence: nextSentence,
  completion,
  word_to_text: wordToText,
  ordering,
  yes_no: yesNo,
  nli,
  cause_effect: causeEffect,
  paraphrase,
  number: numberRule,
  counting,
  topic,
  genre: genreRule,
  who: factRule('who'),
  where: factRule('where'),
  when: factRule('when'),
  what: factRule('what'),
};

/** How strongly the mix prefers a kind when the text offers it: the rarer pattern-based kinds come first. */
export const KIND_WEIGHTS: Readonly<Record<RuleKind, number>> = {
  fill_blank: 1,
  next_sentence: 1,
  completion: 0.8,
  word_to_text: 0.8,
  ordering: 0.8,
  yes_no: 1.2,
  nli: 2,
  cause_effect: 3,
  paraphrase: 3,
  number: 1.5,
  counting: 0.7,
  topic: 0.7,
  genre: 0.5,
  // facts are rare in running prose (about one Brown text in a hundred): asked first when there
  who: 2.5,
  where: 2.5,
  when: 2.5,
  what: 2.5,
};

/** How each kind's questions begin; a question written by any synthesizer can be sorted by these. */
const QUESTION_PATTERNS: Array<[RuleKind, RegExp]> = [
  [
    'fill_blank',
    /^(Fill in the blank in this sentence from the text|Which word or name is missing from the sentence)\b/,
  ],
  ['next_sentence', /^(Which sentence comes (right after|just before)|What does the text say (next|right before))\b/],
  ['completion', /^(Complete this sentence from the text|How does this sentence from the text go on)\b/],
  ['word_to_text', /^(Write a sentence|Compose a sentence)\b/],
  ['ordering', /^Which of these two sentences comes (first|later) in the text\?/],
  ['yes_no', /^(Is this statement true according to the text|Does the text support the following statement)\?/],
  [
    'nli',
    /^Sentence 1: .*\nSentence 2: .*\n(In the text, how is sentence 2 related|Which word or phrase links sentence 2)/s,
  ],
  [
    'cause_effect',
    /^(What reason does the text give|According to the text, what (is the cause|follows from)|What result of the following)\b/,
  ],
  ['paraphrase', /^(How does the text say this in other words|Rephrase the following as the text itself does)\b/],
  ['number', /^(What number is missing from this sentence|Which number goes in the blank)\b/],
  ['counting', /^How many times (does|is) the word "/],
  ['topic', /^Which of these words does the text use most often\?/],
  ['genre', /^(What kind of text is this|Which genre does this text belong to)\?/],
  ['who', /^(According to the text, w|W)ho [^\n]*\?(\n|$)/],
  ['where', /^(According to the text, (w|W)here|Where|(According to the text, w|W)hich organization) [^\n]*\?(\n|$)/],
  ['when', /^(According to the text, )?(When|In what year|On what date|Since when|Since what year) [^\n]*\?(\n|$)/],
  ['what', /^((According to the text, w|W)hat (is|was|did|does) [^\n]*|What role does the text give [^\n]*)\?(\n|$)/],
];

/** The rule kind whose wording a question uses, or undefined for any other question. */
export function ruleKindOfQuestion(question: string): RuleKind | undefined {
  for (const [kind, re] of QUESTION_PATTERNS) if (re.test(question)) return kind;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Mining: candidates per kind, then a seeded round-robin over kinds

function wellFormed(p: Pair): boolean {
  return (
    p.question.length > 0 &&
    p.answer.length > 0 &&
    pyStrip(p.question) === p.question &&
    pyStrip(p.answer) === p.answer &&
    !hasMarker(p.question) &&
    !hasMarker(p.answer)
  );
}

/** Mined pairs with their kind and evidence; deterministic per (text, seed, options). */
export function mineTasks(text: string, options: MineOptions): MinedPair[] {
  const maxPairs = options.maxPairs ?? 6;
  const minPairs = Math.min(options.minPairs ?? 3, maxPairs);
  if (!Number.isInteger(maxPairs) || maxPairs < 0)
    throw new RangeError(`maxPairs must be a non-negative integer, got ${maxPairs}`);
  if (!Number.isInteger(minPairs) || minPairs < 0)
    throw new RangeError(`minPairs must be a non-negative integer, got ${options.minPairs}`);
  const kinds = options.kinds ?? RULE_KINDS;
  for (const k of kinds)
    if (!(k in RULES)) throw new RangeError(`unknown rule kind "${k}"; known kinds: ${RULE_KINDS.join(', ')}`);
  for (const [k, w] of Object.entries(options.weights ?? {})) {
    if (!(k in RULES)) throw new RangeError(`weights: unknown rule kind "${k}"; known kinds: ${RULE_KINDS.join(', ')}`);
    if (!(typeof w === 'number' && w > 0 && Number.isFinite(w)))
      throw new RangeError(`weights: the weight of "${k}" must be a positive number, got ${w}`);
  }
  if (maxPairs === 0 || text.trim().length === 0) return [];
  const base = deriveSeed(options.seed, STREAM_SALT, text);
  const a = analyze(text, { maxSentenceChars: options.maxSentenceChars });
  const byKind = new Map<RuleKind, Candidate[]>();
  for (const kind of kinds) {
    // twice the pairs needed, so that candidates dropped for reusing a sentence can be replaced
    const found = RULES[kind]({
      a,
      rng: createRng(deriveSeed(base, kind)),
      limit: 2 * maxPairs,
      genre: options.genre,
      genreLabels: options.genreLabels ?? Object.keys(BROWN_GENRE_NAMES),
    });
    byKind.set(kind, found.filter(wellFormed));
  }
  const mix = createRng(deriveSeed(base, 'mix'));
  // Weighted random order of kinds (Efraimidis-Spirakis keys), then as many pairs as drawn.
  const order = [...new Set(kinds)]
    .map((kind) => ({ kind, key: -Math.log(1 - mix.next()) / (options.weights?.[kind] ?? KIND_WEIGHTS[kind]) }))
    .sort((x, y) => x.key - y.key)
    .map((x) => x.kind);
  const target = minPairs + mix.int(maxPairs - minPairs + 1);
  const chosen: Candidate[] = [];
  const usedFocus = new Set<number>();
  const usedQuestions = new Set<string>();
  for (let round = 0; chosen.length < target; round++) {
    let offered = false;
    for (const kind of order) {
      if (chosen.length === target) break;
      const list = byKind.get(kind)!;
      // A kind's next candidate whose sentences no earlier pair was about.
      while (list.length > 0) {
        const c = list.shift()!;
        const key = c.question.toLowerCase();
        if (usedQuestions.has(key) || c.focus.some((f) => usedFocus.has(f))) continue;
        chosen.push(c);
        usedQuestions.add(key);
        c.focus.forEach((f) => usedFocus.add(f));
        offered = true;
        break;
      }
    }
    if (!offered) break;
  }
  return chosen.map(({ focus: _focus, ...pair }) => pair);
}

/** Mined instruction-response pairs for one text, deterministic per (text, seed, options). */
export function minePairs(text: string, options: MineOptions): Pair[] {
  return mineTasks(text, options).map((p) => ({ question: p.question, answer: p.answer }));
}

/** What a synthesizer would output for these pairs; no pairs -> an empty output (parses to none). */
export function synthesizerOutput(pairs: Pair[]): string {
  return pairs.length === 0 ? '' : cookCompre(pairs);
}

// ---------------------------------------------------------------------------------------------
// The rules as a CompletionEngine

export type RuleSynthesizerOptions = Omit<MineOptions, 'genre'> & {
  /** The genre of a text, when the caller knows it (e.g. from the Brown document it was cut from). */
  genreOf?: (text: string) => string | undefined;
  /** Token counter used to respect `maxNewTokens` (default: the released code's estimate). */
  countTokens?: (s: string) => number;
};

/**
 * The rule-based miner behind the CompletionEngine interface. For each prompt it mines the current
 * text (the last in the prompt, whatever demonstrations come before) with a seed that depends only
 * on (seed, text), and returns the pairs as a synthesizer would write them, cut to whole pairs that
 * fit `maxNewTokens`. A prompt ending `<QUE> q <ANS>` gets the mined answer to q, or nothing.
 */
export function ruleSynthesizer(options: RuleSynthesizerOptions): CompletionEngine {
  const { genreOf, countTokens = estimateTokens, ...mine } = options;
  const complete = async (prompts: string[], completionOptions: CompletionOptions): Promise<Completion[]> =>
    prompts.map((prompt, i) => {
      const parts = parsePrompt(prompt);
      if (!parts) {
        throw new Error(
          `rules engine: prompt ${i} is not a synthesizer prompt (it must end "<s> <CON> {text} </CON>\\n\\n", or be "<s>"): ${JSON.stringify(prompt.slice(-80))}`,
        );
      }
      const pairs = minePairs(parts.context, { ...mine, genre: genreOf?.(parts.context) });
      if (parts.question !== undefined) {
        const hit = pairs.find((p) => p.question === parts.question);
        const text = hit ? ` ${hit.answer} ${END}` : ` ${END}`;
        return { text, finishReason: 'stop' as const, completionTokens: countTokens(text) };
      }
      let kept = pairs.length;
      while (kept > 0 && countTokens(cookCompre(pairs.slice(0, kept))) > completionOptions.maxNewTokens) kept--;
      const text = synthesizerOutput(pairs.slice(0, kept));
      return {
        text,
        finishReason: kept < pairs.length ? ('length' as const) : ('stop' as const),
        completionTokens: text ? countTokens(text) : 0,
      };
    });
  return { name: `rules@v${RULES_VERSION}`, complete };
}
