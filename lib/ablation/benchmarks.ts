// The ablation's benchmarks: reading-comprehension tasks built from documents no model or
// synthesizer trained on, in lm-evaluation-harness form (lib/eval). The rule-based miner writes a
// multiple-choice question about a passage (fill in a blank, which sentence comes next or first, is a
// statement supported, a number, the genre), scored by the log-likelihood of each option. A k-shot
// variant of a task puts k other questions about the same passage, answered, before the test question:
// the same examples, so the only difference between 0-shot and k-shot is the demonstrations.
//
// What makes a task measure something is checked here and in results.ts: every task is multiple choice
// (a short generation scored 0 for every model at this size), its gold answers are balanced (a model
// that always says "No" must not score above chance), a task whose gold answer is the same for every
// item (the genre question about one genre) is not built, and each task states its chance level. The
// `seen` group asks the same kinds of questions about passages of the pre-training documents: a task
// the vanilla model cannot do above chance even there cannot show a difference between arms.
//
// The prompt format (qaPrompt) is also the instruction-tuning format, so tuning and testing agree.

import type { Context } from '../corpus/chunk.js';
import type { MultipleChoiceExample, MultipleChoiceTask, Task } from '../eval/tasks.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';
import { mineTasks, optionsOf, type MinedPair, type RuleKind } from '../synth/rules.js';
import { COT_QUESTION_SUFFIX, OPTIONS_MARKER, type Pair } from '../synth/format.js';

/**
 * general: held-out documents of the training genres; seen: passages of the pre-training documents
 * (in-distribution, for the vanilla model's above-chance check); heldout-genre: a genre no model saw;
 * domain: held-out documents of the continual pre-training's domain.
 */
export type BenchmarkGroup = 'general' | 'seen' | 'heldout-genre' | 'domain';
export const BENCHMARK_GROUPS: readonly BenchmarkGroup[] = ['general', 'seen', 'heldout-genre', 'domain'];

export type BenchmarkOptions = {
  seed: number;
  kinds: readonly RuleKind[];
  examplesPerTask: number;
  shots: readonly number[];
  maxSentenceChars?: number;
};

export type BenchmarkTask = MultipleChoiceTask & { group: BenchmarkGroup; kind: RuleKind; shots: number };

/** Why a kind got no task in a group (e.g. its gold answer would be the same for every item). */
export type SkippedBenchmark = { group: BenchmarkGroup; kind: RuleKind; items: number; reason: string };

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
  const demos = demonstrations
    .map((d) => `Question: ${questionStem(d.question)}\nAnswer: ${finalAnswer(d.answer)}\n\n`)
    .join('');
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

/** One multiple-choice test pair of `kind` per context (when the text offers one), plus the context's other pairs as demonstrations. */
function itemsOf(contexts: Context[], kind: RuleKind, options: BenchmarkOptions): Item[] {
  const items: Item[] = [];
  const maxShots = Math.max(...options.shots, 0);
  for (const context of contexts) {
    const seed = deriveSeed(options.seed, 'benchmark', kind);
    // the miner asks some questions with options and some without: of up to three, the first with options
    const mined = mineTasks(context.text, {
      seed,
      genre: context.genre,
      kinds: [kind],
      maxPairs: 3,
      minPairs: 3,
      maxSentenceChars: options.maxSentenceChars,
    });
    const test = mined.find((p) => choicesOf(p) !== undefined);
    if (!test) continue;
    const others = mineTasks(context.text, {
      seed: deriveSeed(options.seed, 'demonstrations'),
      genre: context.genre,
      kinds: options.kinds.filter((k) => k !== kind),
      maxPairs: maxShots,
      minPairs: maxShots,
      maxSentenceChars: options.maxSentenceChars,
    });
    if (others.length >= maxShots) items.push({ context, test, others });
  }
  return items;
}

/**
 * Up to `n` items with their gold answers as balanced as the items allow: items are grouped by gold
 * answer text and taken round-robin over the groups (each in a seeded order), so Yes/No questions are
 * half Yes, and no answer is more frequent than another unless it has run out.
 */
export function balanceAnswers<T>(items: T[], answerOf: (item: T) => string, n: number, seed: number): T[] {
  const groups = new Map<string, T[]>();
  for (const item of shuffleInPlace([...items], createRng(seed))) {
    const key = answerOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const queues = [...groups.values()];
  const out: T[] = [];
  for (let round = 0; out.length < n; round++) {
    let took = false;
    for (const q of queues) {
      if (round < q.length && out.length < n) {
        out.push(q[round]);
        took = true;
      }
    }
    if (!took) break;
  }
  return shuffleInPlace(out, createRng(deriveSeed(seed, 'order')));
}

/** Share of the items whose gold answer is the most frequent one (1 for a constant answer). */
export function majorityShare(task: Pick<MultipleChoiceTask, 'examples'>): number {
  const counts = new Map<string, number>();
  for (const e of task.examples) counts.set(e.choices[e.gold], (counts.get(e.choices[e.gold]) ?? 0) + 1);
  return Math.max(...counts.values()) / task.examples.length;
}

/** Tasks of one group: every kind, every shot count, on the same examples; kinds that cannot make a task are listed with the reason. */
export function buildBenchmarks(
  contexts: Context[],
  group: BenchmarkGroup,
  options: BenchmarkOptions,
): { tasks: BenchmarkTask[]; skipped: SkippedBenchmark[] } {
  const tasks: BenchmarkTask[] = [];
  const skipped: SkippedBenchmark[] = [];
  const minExamples = Math.min(10, options.examplesPerTask);
  for (const kind of options.kinds) {
    const all = itemsOf(contexts, kind, options);
    const items = balanceAnswers(
      all,
      (i) => finalAnswer(i.test.answer),
      options.examplesPerTask,
      deriveSeed(options.seed, 'benchmark-sample', group, kind),
    );
    if (items.length < minExamples) {
      skipped.push({
        group,
        kind,
        items: items.length,
        reason: `only ${items.length} passages offer a ${kind} question with options (at least ${minExamples} needed)`,
      });
      continue;
    }
    const mc = items.map((i) => choicesOf(i.test)!);
    const golds = new Set(mc.map((m) => m.choices[m.gold]));
    if (golds.size === 1) {
      skipped.push({
        group,
        kind,
        items: items.length,
        reason: `every item has the same gold answer ("${[...golds][0]}"): a model that always gives it would score 1`,
      });
      continue;
    }
    for (const shots of options.shots) {
      const name = `${group}/${kind}/${shots}-shot`;
      const prompt = (i: Item) => qaPrompt(i.context.text, i.test.question, i.others.slice(0, shots));
      const examples: MultipleChoiceExample[] = items.map((i, k) => ({
        context: prompt(i),
        choices: mc[k].choices,
        gold: mc[k].gold,
      }));
      tasks.push({
        name,
        group,
        kind,
        shots,
        type: 'multiple_choice',
        description: `${kind} questions about ${group} passages, ${shots} answered before`,
        targetDelimiter: ' ',
        fewshotDelimiter: '\n\n',
        examples,
      });
    }
  }
  return { tasks, skipped };
}

/**
 * The metric a task is summarised by: accuracy for multiple choice; token F1 for generation (exact
 * match stays in the results, but at this model size it is 0 almost everywhere, and F1 still
 * separates a near miss from nonsense).
 */
export function primaryMetric(task: Pick<Task, 'type'>): 'acc' | 'f1' {
  return task.type === 'multiple_choice' ? 'acc' : 'f1';
}

/** Chance level of a task's primary metric (mean 1/choices for multiple choice; 0 for generation, where any overlap counts). */
