// The ablation's benchmarks: reading-comprehension tasks built from documents no model or
// synthesizer trained on, in lm-evaluation-harness form (lib/eval). The rule-based miner writes a
// question about a passage (fill in a blank, which sentence comes next or first, is a statement
// supported, a number, the genre); multiple choice is scored by log-likelihood of each option, a
// blank without options by exact match of a short generation. A k-shot variant of a task puts k other
// questions about the same passage, answered, before the test question: the same examples, so the
// only difference between 0-shot and k-shot is the demonstrations.
//
// The prompt format (qaPrompt) is also the instruction-tuning format, so tuning and testing agree.

import type { Context } from '../corpus/chunk.js';
import type { MultipleChoiceExample, GenerationExample, Task } from '../eval/tasks.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';
import { mineTasks, optionsOf, type MinedPair, type RuleKind } from '../synth/rules.js';
import { COT_QUESTION_SUFFIX, OPTIONS_MARKER, type Pair } from '../synth/format.js';

export type BenchmarkGroup = 'general' | 'heldout-genre' | 'domain';

export type BenchmarkOptions = {
  seed: number;
  kinds: readonly RuleKind[];
  examplesPerTask: number;
  shots: readonly number[];
  maxSentenceChars?: number;
};

export type BenchmarkTask = Task & { group: BenchmarkGroup; kind: RuleKind; shots: number };

/** A question without its options and chain-of-thought line: what the model is asked. */
export function questionStem(question: string): string {
  let q = question;
  if (q.endsWith(COT_QUESTION_SUFFIX)) q = q.slice(0, -COT_QUESTION_SUFFIX.length);
  const at = q.indexOf(OPTIONS_MARKER);
  return (at >= 0 ? q.slice(0, at) : q).trim();
}

/** The final answer of a pair (after "Therefore, the answer is" for chain of thought). */
export function finalAnswer(answer: string): string {
  const marker = '\nTherefore, the answer is ';
  const at = answer.lastIndexOf(marker);
  return (at >= 0 ? answer.slice(at + marker.length) : answer).trim();
}

/** The prompt of a question about a passage, with answered demonstrations first. */
export function qaPrompt(passage: string, question: string, demonstrations: Pair[] = []): string {
  const demos = demonstrations.map((d) => `Question: ${questionStem(d.question)}\nAnswer: ${finalAnswer(d.answer)}\n\n`).join('');
  return `${passage}\n\n${demos}Question: ${questionStem(question)}\nAnswer:`;
}

type Item = { context: Context; test: MinedPair; others: MinedPair[] };

function choicesOf(pair: MinedPair): { choices: string[]; gold: number } | undefined {
  const answer = finalAnswer(pair.answer);
  const options = optionsOf(pair.question) ?? (answer === 'Yes' || answer === 'No' ? ['Yes', 'No'] : undefined);
  if (!options) return undefined;
  const gold = options.indexOf(answer);
  return gold >= 0 && new Set(options).size === options.length ? { choices: options, gold } : undefined;
}

/** One test pair of `kind` per context (when the text offers one), plus the context's other pairs as demonstrations. */
function itemsOf(contexts: Context[], kind: RuleKind, options: BenchmarkOptions): Item[] {
  const items: Item[] = [];
  for (const context of contexts) {
    const seed = deriveSeed(options.seed, 'benchmark', kind);
    const [test] = mineTasks(context.text, { seed, genre: context.genre, kinds: [kind], maxPairs: 1, minPairs: 1, maxSentenceChars: options.maxSentenceChars });
    if (!test) continue;
    const others = mineTasks(context.text, {
      seed: deriveSeed(options.seed, 'demonstrations'),
      genre: context.genre,
      kinds: options.kinds.filter((k) => k !== kind),
      maxPairs: Math.max(...options.shots, 0),
      minPairs: Math.max(...options.shots, 0),
      maxSentenceChars: options.maxSentenceChars,
    });
    items.push({ context, test, others });
  }
  return items;
}

/** Tasks of one group: every kind, every shot count, on the same examples. */
export function buildBenchmarks(contexts: Context[], group: BenchmarkGroup, options: BenchmarkOptions): BenchmarkTask[] {
  const tasks: BenchmarkTask[] = [];
  const maxShots = Math.max(...options.shots, 0);
  const minExamples = Math.min(10, options.examplesPerTask);
  for (const kind of options.kinds) {
    let items = itemsOf(contexts, kind, options).filter((i) => i.others.length >= maxShots);
    // a kind asked with options is scored as multiple choice (log-likelihood is a finer signal than an
    // exact-match generation) when enough of its questions have them
    const withChoices = items.filter((i) => choicesOf(i.test) !== undefined);
    const multipleChoice = withChoices.length >= Math.max(minExamples, Math.min(options.examplesPerTask, items.length) / 2);
    if (multipleChoice) items = withChoices;
    items = shuffleInPlace(items, createRng(deriveSeed(options.seed, 'benchmark-sample', group, kind))).slice(0, options.examplesPerTask);
    if (items.length < minExamples) continue;
    const mc = items.map((i) => choicesOf(i.test));
    for (const shots of options.shots) {
      const name = `${group}/${kind}/${shots}-shot`;
      const prompt = (i: Item) => qaPrompt(i.context.text, i.test.question, i.others.slice(0, shots));
      const common = { name, group, kind, shots, description: `${kind} questions about ${group} passages, ${shots} answered before`, targetDelimiter: ' ', fewshotDelimiter: '\n\n' };
      if (multipleChoice) {
        const examples: MultipleChoiceExample[] = items.map((i, k) => ({ context: prompt(i), choices: mc[k]!.choices, gold: mc[k]!.gold }));
        tasks.push({ ...common, type: 'multiple_choice', examples });
      } else {
        const examples: GenerationExample[] = items.map((i) => ({ context: prompt(i), answers: [finalAnswer(i.test.answer)] }));
        tasks.push({ ...common, type: 'generation', examples, stop: ['\n'], maxNewTokens: 12 });
      }
    }
  }
  return tasks;
}

/**
 * The metric a task is summarised by: accuracy for multiple choice; token F1 for generation (exact
 * match stays in the results, but at this model size it is 0 almost everywhere, and F1 still
 * separates a near miss from nonsense).
 */
export function primaryMetric(task: Pick<Task, 'type'>): 'acc' | 'f1' {
  return task.type === 'multiple_choice' ? 'acc' : 'f1';
}

/** Chance level of a task's primary metric (mean 1/choices for multiple choice; 0 for generation). */
export function chanceLevel(task: Task): number {
  if (task.type !== 'multiple_choice') return 0;
  return task.examples.reduce((s, e) => s + 1 / e.choices.length, 0) / task.examples.length;
}
