// Evaluation tasks as plain JSON records, in the spirit of lm-evaluation-harness:
//
//   { "name": "animal-sounds", "type": "multiple_choice",
//     "examples": [{ "context": "The cat says", "choices": ["meow", "woof"], "gold": 0 }] }
//   { "name": "capitals", "type": "generation",
//     "examples": [{ "context": "Q: capital of France?\nA:", "answers": ["Paris"] }] }
//
// Optional task fields: "fewshot" (a pool of demonstration examples; without it, demonstrations
// are drawn from the other examples), "targetDelimiter" (between a context and its answer,
// default " "), "fewshotDelimiter" (between demonstrations, default "\n\n"), "stop" (strings
// that end a generated answer, default ["\n"]), "maxNewTokens" (default 32), "mutualInfo" (a multiple-
// choice task also reports lm-evaluation-harness's acc_mutual_info; lib/eval/harness.ts says how).
// Example aliases: "question" for "context"; "answer" for "gold" (a choice index) or for
// "answers" (a string or strings).

import { readJson } from '../repro/files.js';
import { createRng, deriveSeed, pick, shuffleInPlace } from '../repro/rng.js';
import { splitSentences } from '../corpus/sentences.js';

export type MultipleChoiceExample = { context: string; choices: string[]; gold: number };
export type GenerationExample = { context: string; answers: string[] };

type Common = {
  name: string;
  description?: string;
  targetDelimiter: string;
  fewshotDelimiter: string;
};
export type MultipleChoiceTask = Common & {
  type: 'multiple_choice';
  examples: MultipleChoiceExample[];
  fewshot?: MultipleChoiceExample[];
  /** Also score `acc_mutual_info`: each choice's log-likelihood minus its unconditional one (twice the requests). */
  mutualInfo?: boolean;
};
export type GenerationTask = Common & {
  type: 'generation';
  examples: GenerationExample[];
  fewshot?: GenerationExample[];
  stop: string[];
  maxNewTokens: number;
};
export type Task = MultipleChoiceTask | GenerationTask;

function fail(where: string, why: string): never {
  throw new Error(`${where}: ${why}`);
}

function parseExample(type: Task['type'], raw: unknown, where: string): MultipleChoiceExample | GenerationExample {
  if (!raw || typeof raw !== 'object') fail(where, 'not an object');
  const e = raw as Record<string, unknown>;
  const context = e.context ?? e.question;
  if (typeof context !== 'string') fail(where, 'needs a "context" (or "question") string');
  if (type === 'multiple_choice') {
    const choices = e.choices;
    if (!Array.isArray(choices) || choices.length < 2 || !choices.every((c) => typeof c === 'string'))
      fail(where, 'needs "choices": two or more strings');
    const gold = e.gold ?? e.answer;
    if (!Number.isInteger(gold) || (gold as number) < 0 || (gold as number) >= choices.length)
      fail(where, `"gold" must be the index of the right choice (0..${choices.length - 1})`);
    return { context, choices: choices as string[], gold: gold as number };
  }
  const answers = e.answers ?? e.answer;
  const list = typeof answers === 'string' ? [answers] : answers;
  if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string'))
    fail(where, 'needs "answers": a string or a list of strings');
  return { context, answers: list as string[] };
}

/** Validates a task record and fills in defaults. */
export function parseTask(raw: unknown, where = 'task'): Task {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(where, 'a task is a JSON object');
  const t = raw as Record<string, unknown>;
  if (typeof t.name !== 'string' || !t.name) fail(where, 'needs a "name"');
  const name = t.name;
  if (t.type !== 'multiple_choice' && t.type !== 'generation')
    fail(`${where} (${name})`, '"type" must be "multiple_choice" or "generation"');
  const type = t.type;
  if (!Array.isArray(t.examples) || t.examples.length === 0)
    fail(`${where} (${name})`, 'needs a non-empty "examples" list');
  const examples = t.examples.map((e, i) => parseExample(type, e, `${where} (${name}) example ${i}`));
  const fewshot = Array.isArray(t.fewshot)
    ? t.fewshot.map((e, i) => parseExample(type, e, `${where} (${name}) fewshot ${i}`))
    : undefined;
  const common = {
    name,
    ...(typeof t.description === 'string' ? { description: t.description } : {}),
    targetDelimiter: typeof t.targetDelimiter === 'string' ? t.targetDelimiter : ' ',
    fewshotDelimiter: typeof t.fewshotDelimiter === 'string' ? t.fewshotDelimiter : '\n\n',
  };
  if (type === 'multiple_choice') {
    if (t.mutualInfo !== undefined && typeof t.mutualInfo !== 'boolean')
      fail(`${where} (${name})`, '"mutualInfo" must be true or false');
    return {
      ...common,
      type,
      examples: examples as MultipleChoiceExample[],
      ...(fewshot ? { fewshot: fewshot as MultipleChoiceExample[] } : {}),
      ...(t.mutualInfo === true ? { mutualInfo: true } : {}),
    };
  }
  const stop = Array.isArray(t.stop) && t.stop.every((s) => typeof s === 'string') ? (t.stop as string[]) : ['\n'];
  const maxNewTokens =
    Number.isInteger(t.maxNewTokens) && (t.maxNewTokens as number) > 0 ? (t.maxNewTokens as number) : 32;
  return {
    ...common,
    type,
    examples: examples as GenerationExample[],
    ...(fewshot ? { fewshot: fewshot as GenerationExample[] } : {}),
    stop,
    maxNewTokens,
  };
}

/** A task file holds one task or a list of tasks. */
export function loadTasks(path: string): Task[] {
  const raw = readJson(path, { what: '--tasks', fix: 'a task file holds one task object or a list of them' });
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((t, i) => parseTask(t, list.length > 1 ? `${path} task ${i}` : path));
}

/**
 * A cloze task from raw text: the context is the start of a sentence, the right choice its last
 * word, the others last words of other sentences. The right word is more often short and common than
 * the others, so even an untrained model scores above 1 / choices by picking the fewest tokens;
 * `mutualInfo` adds acc_mutual_info, which scores what the sentence adds to each word and takes that out.
 */
export function makeClozeTask(
  texts: string[],
  options: {
    name?: string;
    examples?: number;
    choices?: number;
    seed?: number;
    minWords?: number;
    maxChars?: number;
    mutualInfo?: boolean;
  } = {},
): MultipleChoiceTask {
  const nChoices = options.choices ?? 4;
  const minWords = options.minWords ?? 6;
  const maxChars = options.maxChars ?? 200;
  const rng = createRng(deriveSeed(options.seed ?? 1, 'cloze'));
  const sentences: Array<{ context: string; word: string }> = [];
  for (const s of sentencesOf(texts, minWords, Number.MAX_SAFE_INTEGER)) {
    const m = /^(.*\S)\s+([A-Za-z]+)([.!?])$/.exec(s);
    if (!m || m[1].length > maxChars) continue;
    sentences.push({ context: m[1], word: m[2] });
  }
  const words = [...new Set(sentences.map((s) => s.word))];
  if (words.length < nChoices)
    throw new Error(`makeClozeTask: only ${words.length} distinct final words; need ${nChoices}`);
  shuffleInPlace(sentences, rng);
  const examples = sentences.slice(0, options.examples ?? 100).map((s) => {
    const choices = [s.word];
    while (choices.length < nChoices) {
      const w = pick(words, rng);
      if (!choices.includes(w)) choices.push(w);
    }
    shuffleInPlace(choices, rng);
    return { context: s.context, choices, gold: choices.indexOf(s.word) };
  });
  return {
    name: options.name ?? 'cloze',
    type: 'multiple_choice',
    description: 'last word of a sentence',
    targetDelimiter: ' ',
    fewshotDelimiter: '\n\n',
    examples,
    ...(options.mutualInfo ? { mutualInfo: true } : {}),
  };
}

/** Sentences of raw text with at least `minWords` words and at most `maxChars` characters. */
/** Sentences (the kit's splitter: never across paragraphs) with single spaces between words. */
function sentencesOf(texts: string[], minWords: number, maxChars: number): string[] {
  return texts
    .flatMap((t) => splitSentences(t).map((s) => s.text.replace(/\s+/g, ' ')))
    .filter((s) => s.length <= maxChars && s.split(' ').length >= minWords);
}

/**
 * A word-order task from raw text: a real sentence against the same words in a shuffled order,
 * with no context. A model that learned the language's word order picks the real sentence almost
 * always; an untrained one only by the accidents of tokenization.
 */
export function makeWordOrderTask(
  texts: string[],
  options: { name?: string; examples?: number; seed?: number; minWords?: number; maxChars?: number } = {},
): MultipleChoiceTask {
  const rng = createRng(deriveSeed(options.seed ?? 1, 'word-order'));
  const sentences = shuffleInPlace(sentencesOf(texts, options.minWords ?? 8, options.maxChars ?? 160), rng);
  const examples: MultipleChoiceExample[] = [];
  for (const s of sentences) {
    if (examples.length >= (options.examples ?? 100)) break;
    const words = s.split(/\s+/);
    const shuffled = shuffleInPlace([...words], rng).join(' ');
    if (shuffled === words.join(' ')) continue;
    const gold = rng.int(2);
    examples.push({ context: '', choices: gold === 0 ? [s, shuffled] : [shuffled, s], gold });
  }
  if (examples.length === 0) throw new Error('makeWordOrderTask: no sentence long enough in the texts');
  return {
    name: options.name ?? 'word-order',
    type: 'multiple_choice',
    description: 'a real sentence or its words shuffled',
    targetDelimiter: '',
    fewshotDelimiter: '\n\n',
    examples,
  };
}

/**
 * The score of a model that picks a choice at random: the mean over examples of 1 / choices for a
 * multiple-choice task; 0 for a generation task (an exact answer is not guessed).
 */
export function chanceLevel(task: Task): number {
  if (task.type !== 'multiple_choice') return 0;
  return task.examples.reduce((s, e) => s + 1 / e.choices.length, 0) / task.examples.length;
}
