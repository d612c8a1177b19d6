// Pre-training templates: a chain of synthesized entries -> pre-training texts.
// Consecutive inherited entries become one few-shot reading-comprehension text; an entry without pairs
// stays its raw text; order is kept. Per text a seeded draw picks a layout family (classic most of the
// time; dialog; numbered questions; inline few-shot; next-turn dialog; questions before the text) and
// the wording from the tables in tables.ts. Multiple-choice questions (`\nOptions:\n- ...`) are
// re-rendered with shuffled, labelled or bulleted options; chain-of-thought pairs as reasoning then
// answer. Every context, question and answer reaches the output (nothing is dropped, unlike the
// released renderer's question-generation patterns), and the same chain and seed give the same texts.

import { createRng, deriveSeed, pick, pickWeighted, type Rng } from '../repro/rng.js';
import {
  COT_ANSWER_MARKER,
  COT_QUESTION_SUFFIX,
  OPTIONS_MARKER,
  type Chain,
  type ChainEntry,
  type Pair,
} from '../synth/format.js';
import { compile, fill, requireSlots, S, SLOT_NAMES, TemplateError, type SlotName, type Template } from './compile.js';
import * as T from './tables.js';

export const FAMILIES = ['classic', 'dialog', 'numbered', 'inline', 'nextTurn', 'inverted'] as const;
export type Family = (typeof FAMILIES)[number];

export type RenderOptions = {
  /** Render every few-shot text in this family (for demonstrations and tests). */
  family?: Family;
  /** Relative weights of the families (default: the paper's mix); families needing two pairs get 0 when an entry has fewer. */
  weights?: Partial<Record<Family, number>>;
};

export type RenderedText = {
  text: string;
  /** The layout family, or 'raw' for an entry without pairs. */
  family: Family | 'raw';
  /** Indices in the chain of the entries this text holds. */
  entries: number[];
};

/** The default mix, after the released renderer: classic dominant, the rest a few percent each. */
export const DEFAULT_WEIGHTS: Readonly<Record<Family, number>> = {
  classic: 76,
  dialog: 5,
  numbered: 5,
  inline: 5,
  nextTurn: 5,
  inverted: 4,
};
/** Families that need at least two pairs per entry when drawn at random (examples + test, history + next turn). */
const NEEDS_TWO: ReadonlySet<Family> = new Set(['numbered', 'inline', 'nextTurn']);
/** Share of multiple-choice questions that get a "none of the above" style distractor. */
const NONE_DISTRACTOR_RATE = 0.1;
/** Share of classic texts whose context gets a read-start line, and that get a line before the questions. */
const CLASSIC_READ_START_RATE = 0.5;
const CLASSIC_COMPRE_START_RATE = 0.5;

// ------------------------------------------------------------------ compiled tables

type QaPattern = { qPrefix: string; q: Template; aPrefix: string; a: Template; between: string; sep: string };
type InlinePattern = {
  intro: Template;
  exIn: Template;
  exOut: Template;
  testIn: Template;
  testOut: Template;
  sep: string;
};

function qaTable(rows: readonly T.QaRow[], name: string, allowed: SlotName[], cot: boolean): QaPattern[] {
  return rows.map((r, i) => {
    const where = `${name}[${i}]`;
    const q = compile(r[1], allowed, where);
    const a = compile(r[3], allowed, where);
    for (const [label, s] of [
      ['qPrefix', r[0]],
      ['aPrefix', r[2]],
      ['between', r[4]],
      ['sep', r[5]],
    ] as const) {
      compile(s, [], `${where}.${label}`);
    }
    requireSlots([q, a], allowed, where);
    if (cot) {
      const slots = a.slots;
      if (!(slots.includes(S.reasoning) && slots.indexOf(S.reasoning) < slots.indexOf(S.answer))) {
        throw new TemplateError(
          `${where}: a chain-of-thought answer must give {reasoning} before {answer}: ${JSON.stringify(r[3])}`,
        );
      }
    }
    return { qPrefix: r[0], q, aPrefix: r[2], a, between: r[4], sep: r[5] };
  });
}

function table(rows: readonly string[], name: string, allowed: SlotName[], required: SlotName[] = allowed): Template[] {
  return rows.map((r, i) => {
    const t = compile(r, allowed, `${name}[${i}]`);
    requireSlots([t], required, `${name}[${i}]`);
    return t;
  });
}

function plain(rows: readonly string[], name: string): string[] {
  rows.forEach((r, i) => compile(r, [], `${name}[${i}]`));
  return [...rows];
}

const QA = qaTable(T.QA, 'QA', ['question', 'answer'], false);
const QA_OPTIONS = qaTable(T.QA_OPTIONS, 'QA_OPTIONS', ['question', 'options', 'answer'], false);
const QA_COT = qaTable(T.QA_COT, 'QA_COT', ['question', 'reasoning', 'answer'], true);
const QA_OPTIONS_COT = qaTable(
  T.QA_OPTIONS_COT,
  'QA_OPTIONS_COT',
  ['question', 'options', 'reasoning', 'answer'],
  true,
);

const OPTION_STARTS = plain(T.OPTION_STARTS, 'OPTION_STARTS');
const OPTION_ITEMS = table(T.OPTION_ITEMS, 'OPTION_ITEMS', ['n'], []);
OPTION_ITEMS.forEach((t, i) => {
  const c = t.source[0];
  if (c !== '\n' && c !== ' ')
    throw new TemplateError(`OPTION_ITEMS[${i}] must start with a newline or a space: ${JSON.stringify(t.source)}`);
});
const OPTION_ITEM_ENDS = plain(T.OPTION_ITEM_ENDS, 'OPTION_ITEM_ENDS');
// Each names the chosen option by its label, its text or both ("{label}" alone is recoverable from the list).
const OPTION_ANSWERS = table(T.OPTION_ANSWERS, 'OPTION_ANSWERS', ['label', 'text'], []);
OPTION_ANSWERS.forEach((t, i) => {
  if (t.slots.length === 0)
    throw new TemplateError(`OPTION_ANSWERS[${i}] names neither {label} nor {text}: ${JSON.stringify(t.source)}`);
});
const NONE_OPTIONS = plain(T.NONE_OPTIONS, 'NONE_OPTIONS');
const NONE_ANSWERS = new Set(T.NONE_ANSWERS.map((s) => s.toLowerCase()));

const READ_STARTS = table(T.CLASSIC_READ_STARTS, 'CLASSIC_READ_STARTS', ['context']);
const READ_ENDS = plain(T.CLASSIC_READ_ENDS, 'CLASSIC_READ_ENDS');
const COMPRE_STARTS = plain(T.CLASSIC_COMPRE_STARTS, 'CLASSIC_COMPRE_STARTS');

const DIALOG_SPEAKERS = T.DIALOG_SPEAKERS.map((p, i) => plain(p, `DIALOG_SPEAKERS[${i}]`) as [string, string]);
const DIALOG_CONNECTORS = plain(T.DIALOG_CONNECTORS, 'DIALOG_CONNECTORS');
const DIALOG_INTROS = plain(T.DIALOG_INTROS, 'DIALOG_INTROS');
const DIALOG_GAPS = plain(T.DIALOG_GAPS, 'DIALOG_GAPS');

const NUMBERED_ITEMS = T.NUMBERED_ITEMS.map(([counter, q, a], i) => ({
  counter,
  q: table([q], `NUMBERED_ITEMS[${i}].question`, ['n'])[0],
  a: table([a], `NUMBERED_ITEMS[${i}].answer`, ['n'])[0],
}));
const NUMBERED_LAYOUTS = table(T.NUMBERED_LAYOUTS, 'NUMBERED_LAYOUTS', ['context', 'questions', 'answers']);

const INLINE_LAYOUTS: InlinePattern[] = T.INLINE_LAYOUTS.map((r, i) => {
  const w = `INLINE_LAYOUTS[${i}]`;
  return {
    intro: table([r[0]], w, ['context'])[0],
    exIn: table([r[1]], w, ['input'])[0],
    exOut: table([r[2]], w, ['output'])[0],
    testIn: table([r[3]], w, ['input'])[0],
    testOut: table([r[4]], w, ['output'])[0],
    sep: plain([r[5]], w)[0],
  };
});

const NEXT_TURN_LAYOUTS = table(T.NEXT_TURN_LAYOUTS, 'NEXT_TURN_LAYOUTS', ['context', 'dialog', 'turn']);

const INVERTED_QA_STARTS = table(T.INVERTED_QA_STARTS, 'INVERTED_QA_STARTS', ['pairs']);
const INVERTED_QA_ENDS = plain(T.INVERTED_QA_ENDS, 'INVERTED_QA_ENDS');
const INVERTED_TEXT_STARTS = table(T.INVERTED_TEXT_STARTS, 'INVERTED_TEXT_STARTS', ['context']);

const ENTRY_DELIMITERS = plain(T.ENTRY_DELIMITERS, 'ENTRY_DELIMITERS');

// ------------------------------------------------------------------ labels

function letters(i: number, base: number): string {
  // bijective base 26: A..Z, AA, AB, ...
  let s = '';
  let n = i + 1;
  while (n > 0) {
    n--;
    s = String.fromCharCode(base + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

function roman(n: number): string {
  const table: [number, string][] = [
    [1000, 'M'],
    [900, 'CM'],
    [500, 'D'],
    [400, 'CD'],
    [100, 'C'],
    [90, 'XC'],
    [50, 'L'],
    [40, 'XL'],
    [10, 'X'],
    [9, 'IX'],
    [5, 'V'],
    [4, 'IV'],
    [1, 'I'],
  ];
  let s = '';
  for (const [v, r] of table)
    while (n >= v) {
      s += r;
      n -= v;
    }
  return s;
}

/** The label of item i (0-based) for a counter. */
export function itemLabel(counter: T.Counter, i: number): string {
  switch (counter) {
    case 'upper':
      return letters(i, 65);
    case 'lower':
      return letters(i, 97);
    case 'arabic':
      return String(i + 1);
    case 'romanUpper':
      return roman(i + 1);
    case 'romanLower':
      return roman(i + 1).toLowerCase();
  }
}

const LABEL_CACHE = 64;
const LABELS: Readonly<Record<T.Counter, readonly string[]>> = Object.fromEntries(
  T.COUNTERS.map((c) => [c, Array.from({ length: LABEL_CACHE }, (_, i) => itemLabel(c, i))]),
) as never;

function label(counter: T.Counter, i: number): string {
  return i < LABEL_CACHE ? LABELS[counter][i] : itemLabel(counter, i);
}

// ------------------------------------------------------------------ pairs

const KIND_PLAIN = 0;
const KIND_OPTIONS = 1;
const KIND_COT = 2;
const KIND_OPTIONS_COT = 3;

/** A pair as the templates see it: the question stem, the option list and the answer already rendered. */
type Prepared = { kind: number; question: string; options: string; reasoning: string; answer: string };

/** What a pair is made of once its multiple-choice and chain-of-thought markup is read. */
export type PairParts = {
  /** The question without the option list and without the chain-of-thought request. */
  stem: string;
  /** The options, in the synthesizer's order, when the question is multiple choice. */
  options?: string[];
  /** The reasoning (trailing full stop removed) and the final answer, for chain-of-thought pairs. */
  reasoning?: string;
  final: string;
};

/**
 * Reads a pair's markup (see lib/synth/format.ts): a question ending "\nLet's think step by step." with
 * an answer "{reasoning}\nTherefore, the answer is {final}" is chain of thought; a question with
 * "\nOptions:\n- a\n- b" is multiple choice. Anything malformed stays a plain pair, never dropped.
 */
export function pairParts(pair: Pair): PairParts {
  let stem = pair.question;
  let final = pair.answer;
  let reasoning: string | undefined;
  if (stem.endsWith(COT_QUESTION_SUFFIX)) {
    const at = final.indexOf(COT_ANSWER_MARKER);
    if (at !== -1 && final.indexOf(COT_ANSWER_MARKER, at + 1) === -1) {
      let r = final.slice(0, at).trim();
      if (r.endsWith('.')) r = r.slice(0, -1); // the templates add their own full stop
      const f = final.slice(at + COT_ANSWER_MARKER.length).trim();
      const s = stem.slice(0, stem.length - COT_QUESTION_SUFFIX.length).trim();
      if (r.length > 0 && f.length > 0 && s.length > 0) {
        reasoning = r;
        final = f;
        stem = s;
      }
    }
  }
  const at = stem.indexOf(OPTIONS_MARKER);
  if (at !== -1 && stem.indexOf(OPTIONS_MARKER, at + 1) === -1) {
    const s = stem.slice(0, at);
    if (s.trim().length > 0) {
      return { stem: s, options: stem.slice(at + OPTIONS_MARKER.length).split('\n- '), reasoning, final };
    }
  }
  return { stem, reasoning, final };
}

/** The option style of one text: all its multiple-choice questions look alike. */
type OptionStyle = {
  start: string;
  item: Template;
  labelled: boolean;
  counter: T.Counter;
  end: string;
  answer: Template;
  none: string;
};

function drawOptionStyle(rng: Rng): OptionStyle {
  const item = pick(OPTION_ITEMS, rng);
  const labelled = item.slots.length > 0;
  return {
    start: pick(OPTION_STARTS, rng),
    item,
    labelled,
    counter: pick(T.COUNTERS, rng),
    end: pick(OPTION_ITEM_ENDS, rng),
    answer: pick(OPTION_ANSWERS, rng),
    none: pick(NONE_OPTIONS, rng),
  };
}

/** Shuffles the options (position bias), maybe adds a "none" option, and renders list and answer. */
type MultipleChoice = { list: string; answer: string; chosen: number; label: string | undefined; options: string[] };

function renderOptions(options: string[], final: string, st: OptionStyle, rng: Rng, vals: string[]): MultipleChoice {
  const opts = options.slice();
  for (let i = opts.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = opts[i];
    opts[i] = opts[j];
    opts[j] = t;
  }
  const want = final.trim();
  let hit = -1;
  for (let i = 0; i < opts.length; i++) {
    if (opts[i] === final || opts[i].trim() === want) {
      hit = i;
      break;
    }
  }
  if (hit === -1) {
    if (NONE_ANSWERS.has(want.toLowerCase())) {
      opts.push(want); // "none of the above" answers become the last option, in the synthesizer's words
      hit = opts.length - 1;
    }
  } else if (rng.next() < NONE_DISTRACTOR_RATE) {
    opts.push(st.none);
  }
  let list = st.start;
  for (let i = 0; i < opts.length; i++) {
    if (st.labelled) {
      vals[S.n] = label(st.counter, i);
      list += fill(st.item, vals) + opts[i] + st.end;
    } else {
      list += st.item.lits[0] + opts[i] + st.end;
    }
  }
  if (st.start === '') list = list.slice(1); // items start with a newline or space; nothing precedes the first
  let answer = final;
  const hitLabel = hit !== -1 && st.labelled ? label(st.counter, hit) : undefined;
  if (hit !== -1) {
    if (hitLabel !== undefined) {
      vals[S.label] = hitLabel;
      vals[S.text] = opts[hit];
      answer = fill(st.answer, vals);
    } else {
      answer = opts[hit];
    }
  }
  return { list, answer, chosen: hit, label: hitLabel, options: opts };
}

/**
 * One multiple-choice question's option list and answer as a text would show them, with the option
 * style and shuffle drawn from `seed`. `chosen` is the index of the answer in the shown `options` (-1
 * when the answer is none of them and is kept verbatim), `label` its label when the style has labels.
 */
export function renderMultipleChoice(options: string[], answer: string, seed: number): MultipleChoice {
  const rng = createRng(deriveSeed(seed, 'options'));
  return renderOptions(options, answer, drawOptionStyle(rng), rng, new Array<string>(SLOT_NAMES.length).fill(''));
}

function prepare(pair: Pair, st: () => OptionStyle, rng: Rng, vals: string[]): Prepared {
  const parts = pairParts(pair);
  const cot = parts.reasoning !== undefined;
  if (parts.options) {
    const { list, answer } = renderOptions(parts.options, parts.final, st(), rng, vals);
    return {
      kind: cot ? KIND_OPTIONS_COT : KIND_OPTIONS,
      question: parts.stem,
      options: list,
      reasoning: parts.reasoning ?? '',
      answer,
    };
  }
  return {
    kind: cot ? KIND_COT : KIND_PLAIN,
    question: parts.stem,
    options: '',
    reasoning: parts.reasoning ?? '',
    answer: parts.final,
  };
}

// ------------------------------------------------------------------ one few-shot text

/** The question-answer patterns of one text (one per kind of pair). */
type QaStyle = readonly [QaPattern, QaPattern, QaPattern, QaPattern];

type Ctx = { vals: string[]; qa: QaStyle };

function setPair(p: Prepared, vals: string[]): void {
  vals[S.question] = p.question;
  vals[S.options] = p.options;
  vals[S.reasoning] = p.reasoning;
  vals[S.answer] = p.answer;
}

function qText(p: Prepared, c: Ctx): string {
  setPair(p, c.vals);
  return fill(c.qa[p.kind].q, c.vals);
}

function aText(p: Prepared, c: Ctx): string {
  setPair(p, c.vals);
  return fill(c.qa[p.kind].a, c.vals);
}

/** "Question: ...\nAnswer: ..." blocks joined by the plain pattern's separator. */
function qaBlock(pairs: Prepared[], c: Ctx): string {
  let out = '';
  const sep = c.qa[KIND_PLAIN].sep;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    const pat = c.qa[p.kind];
    setPair(p, c.vals);
    out += (i === 0 ? '' : sep) + pat.qPrefix + fill(pat.q, c.vals) + pat.between + pat.aPrefix + fill(pat.a, c.vals);
  }
  return out;
}

function turns(pairs: Prepared[], speakers: readonly [string, string], c: Ctx): string[] {
  return pairs.map((p) => speakers[0] + qText(p, c) + speakers[1] + aText(p, c));
}

type EntryRenderer = (context: string, pairs: Prepared[], c: Ctx) => string;

/** Draws a family's wording once per text, so all entries of a few-shot text share one layout. */
const FAMILY_RENDERERS: Record<Family, (rng: Rng) => EntryRenderer> = {
  classic(rng) {
    const readStart = rng.next() < CLASSIC_READ_START_RATE ? pick(READ_STARTS, rng) : undefined;
    const readEnd = pick(READ_ENDS, rng);
    const compreStart = rng.next() < CLASSIC_COMPRE_START_RATE ? pick(COMPRE_STARTS, rng) : '';
    return (context, pairs, c) => {
      c.vals[S.context] = context;
      const read = readStart ? fill(readStart, c.vals) : context;
      const sep = c.qa[KIND_PLAIN].sep;
      return (compreStart === '' ? read : read + readEnd + compreStart) + sep + qaBlock(pairs, c);
    };
  },
  dialog(rng) {
    const speakers = pick(DIALOG_SPEAKERS, rng);
    const connector = pick(DIALOG_CONNECTORS, rng);
    const intro = pick(DIALOG_INTROS, rng);
    const gap = pick(DIALOG_GAPS, rng);
    return (context, pairs, c) =>
      context + (intro === '' ? '' : connector + intro) + turns(pairs, speakers, c).join(gap);
  },
  numbered(rng) {
    const items = pick(NUMBERED_ITEMS, rng);
    const layout = pick(NUMBERED_LAYOUTS, rng);
    return (context, pairs, c) => {
      let questions = '';
      let answers = '';
      for (let i = 0; i < pairs.length; i++) {
        const q = qText(pairs[i], c);
        const a = aText(pairs[i], c);
        c.vals[S.n] = label(items.counter, i);
        questions += fill(items.q, c.vals) + q;
        answers += fill(items.a, c.vals) + a;
      }
      c.vals[S.context] = context;
      c.vals[S.questions] = questions;
      c.vals[S.answers] = answers;
      return fill(layout, c.vals);
    };
  },
  inline(rng) {
    const l = pick(INLINE_LAYOUTS, rng);
    return (context, pairs, c) => {
      const v = c.vals;
      v[S.context] = context;
      let out = fill(l.intro, v);
      for (let i = 0; i < pairs.length; i++) {
        const last = i === pairs.length - 1;
        const q = qText(pairs[i], c);
        const a = aText(pairs[i], c);
        v[S.input] = q;
        v[S.output] = a;
        out +=
          (i === 0 ? '' : l.sep) + (last ? fill(l.testIn, v) + fill(l.testOut, v) : fill(l.exIn, v) + fill(l.exOut, v));
      }
      return out;
    };
  },
  nextTurn(rng) {
    const speakers = pick(DIALOG_SPEAKERS, rng);
    const gap = pick(DIALOG_GAPS, rng);
    const layout = pick(NEXT_TURN_LAYOUTS, rng);
    return (context, pairs, c) => {
      const t = turns(pairs, speakers, c);
      c.vals[S.context] = context;
      c.vals[S.dialog] = t.slice(0, -1).join(gap);
      c.vals[S.turn] = t[t.length - 1];
      return fill(layout, c.vals);
    };
  },
  inverted(rng) {
    const qaStart = pick(INVERTED_QA_STARTS, rng);
    const qaEnd = pick(INVERTED_QA_ENDS, rng);
    const textStart = pick(INVERTED_TEXT_STARTS, rng);
    return (context, pairs, c) => {
      c.vals[S.pairs] = qaBlock(pairs, c);
      const head = fill(qaStart, c.vals);
      c.vals[S.context] = context;
      return head + qaEnd + fill(textStart, c.vals);
    };
  },
};

function drawFamily(minPairs: number, options: RenderOptions, rng: Rng): Family {
  if (options.family) return options.family;
  const weights = FAMILIES.map((f) =>
    minPairs < 2 && NEEDS_TWO.has(f) ? 0 : (options.weights?.[f] ?? DEFAULT_WEIGHTS[f]),
  );
  if (!weights.some((w) => w > 0)) return 'classic';
  return pickWeighted(FAMILIES, weights, rng);
}

function renderGroup(
  entries: readonly ChainEntry[],
  options: RenderOptions,
  rng: Rng,
  vals: string[],
): { text: string; family: Family } {
  let minPairs = Infinity;
  for (const e of entries) minPairs = Math.min(minPairs, e.pairs.length);
  const family = drawFamily(minPairs, options, rng);
  const c: Ctx = { vals, qa: [pick(QA, rng), pick(QA_OPTIONS, rng), pick(QA_COT, rng), pick(QA_OPTIONS_COT, rng)] };
  const renderEntry = FAMILY_RENDERERS[family](rng);
  const delimiter = entries.length > 1 ? pick(ENTRY_DELIMITERS, rng) : '';
  let optionStyle: OptionStyle | undefined;
  const style = () => (optionStyle ??= drawOptionStyle(rng));
  let text = '';
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k];
    const prepared = e.pairs.map((p) => prepare(p, style, rng, vals));
    text += (k === 0 ? '' : delimiter) + renderEntry(e.context, prepared, c);
  }
  return { text, family };
}

// ------------------------------------------------------------------ public API

/** Renders a chain with details: each text's family and the chain entries it holds. */
export function renderChain(chain: Chain, seed: number, options: RenderOptions = {}): RenderedText[] {
  if (options.family !== undefined && !FAMILIES.includes(options.family)) {
    throw new RangeError(`unknown template family "${options.family}"; families: ${FAMILIES.join(', ')}`);
  }
  const rng = createRng(deriveSeed(seed, 'templates'));
  const vals: string[] = new Array<string>(SLOT_NAMES.length).fill('');
  const out: RenderedText[] = [];
  let i = 0;
  while (i < chain.length) {
    const e = chain[i];
    if (e.pairs.length === 0) {
      out.push({ text: e.context, family: 'raw', entries: [i] });
      i++;
      continue;
    }
    let j = i + 1;
    while (j < chain.length && chain[j].inheritFromPrev && chain[j].pairs.length > 0) j++;
    const { text, family } = renderGroup(chain.slice(i, j), options, rng, vals);
    const entries: number[] = [];
    for (let k = i; k < j; k++) entries.push(k);
    out.push({ text, family, entries });
    i = j;
  }
  return out;
}

/**
 * The pre-training texts of one chain: consecutive inherited entries as one few-shot
 * reading-comprehension text, entries without pairs as their raw text, in chain order.
 */
export function toPretrainTexts(chain: Chain, seed: number, options: RenderOptions = {}): string[] {
  return renderChain(chain, seed, options).map((r) => r.text);
}

/** The seed chain `index` of a corpus gets, so chains of one corpus draw independent layouts. */
export function chainSeed(seed: number, index: number): number {
  return deriveSeed(seed, 'chain', index);
}

/** All texts of a corpus of chains, chain i rendered with `chainSeed(seed, i)`. */
export function renderChains(chains: readonly Chain[], seed: number, options: RenderOptions = {}): string[] {
  const out: string[] = [];
  chains.forEach((chain, i) => {
    for (const t of toPretrainTexts(chain, chainSeed(seed, i), options)) out.push(t);
  });
  return out;
}

export type TemplateInventory = {
  /** Layout templates of each family (its own tables added up). */
  families: Record<Family, number>;
  /** Entries of every table, family-specific and shared. */
  tables: Record<string, number>;
};

/** How many templates the kit has, per family and per table. */
export function templateInventory(): TemplateInventory {
  const tables: Record<string, number> = {
    'classic.readStart': READ_STARTS.length,
    'classic.compreStart': COMPRE_STARTS.length,
    'dialog.speakers': DIALOG_SPEAKERS.length,
    'dialog.intro': DIALOG_INTROS.length,
    'numbered.layout': NUMBERED_LAYOUTS.length,
    'numbered.items': NUMBERED_ITEMS.length,
    'inline.layout': INLINE_LAYOUTS.length,
    'nextTurn.layout': NEXT_TURN_LAYOUTS.length,
    'inverted.qaStart': INVERTED_QA_STARTS.length,
    'inverted.textStart': INVERTED_TEXT_STARTS.length,
    'pairs.plain': QA.length,
    'pairs.options': QA_OPTIONS.length,
    'pairs.cot': QA_COT.length,
    'pairs.optionsCot': QA_OPTIONS_COT.length,
    'options.start': OPTION_STARTS.length,
    'options.item': OPTION_ITEMS.length,
    'options.counter': T.COUNTERS.length,
    'options.answer': OPTION_ANSWERS.length,
    'options.none': NONE_OPTIONS.length,
    'text.entryDelimiter': new Set(ENTRY_DELIMITERS).size,
  };
  const families: Record<Family, number> = {
    classic: tables['classic.readStart'] + tables['classic.compreStart'],
    dialog: tables['dialog.speakers'] + tables['dialog.intro'],
    numbered: tables['numbered.layout'] + tables['numbered.items'],
    inline: tables['inline.layout'],
    nextTurn: tables['nextTurn.layout'],
    inverted: tables['inverted.qaStart'] + tables['inverted.textStart'],
  };
  return { families, tables };
}
