// lm-evaluation-harness's request construction and scoring for multiple-choice tasks, as pure
// functions of the documents: which split is evaluated and which gives the demonstrations, the
// few-shot sampler (Random(seed).sample with the generator carried from one document to the next,
// or the first n), the context text (description, demonstrations joined by the few-shot delimiter,
// the question), one (context, continuation) request per choice, multiple-input tasks (winogrande),
// and acc / acc_norm / group aggregation computed as the harness computes them.

import { isDeepStrictEqual } from 'node:util';
import { meanWithStderr } from '../stats.js';
import { PythonRandom } from './python-random.js';
import type { Doc, GroupDef, MultipleChoiceTaskDef } from './types.js';

/** lm-eval's default fewshot_random_seed. */
export const DEFAULT_FEWSHOT_SEED = 1234;

export type LoglikelihoodRequest = { context: string; continuation: string };
export type LoglikelihoodResult = { logprob: number; greedy: boolean };

/** The requests of one document, in lm-eval's order (one per choice). */
export type DocRequests = { docId: number; doc: Doc; requests: LoglikelihoodRequest[]; target: number | string };

/** The split lm-eval evaluates: the test split when the task has one, else the validation split. */
export function evalSplit(task: MultipleChoiceTaskDef): string {
  const s = task.splits.test ?? task.splits.validation;
  if (!s) throw new Error(`task ${task.name} has neither a test nor a validation split`);
  return s;
}

/** The split demonstrations come from: fewshot_split, else training, else validation, else test. */
export function fewshotSplit(task: MultipleChoiceTaskDef): string {
  const s = task.splits.fewshot ?? task.splits.training ?? task.splits.validation ?? task.splits.test;
  if (!s) throw new Error(`task ${task.name} has no split to draw demonstrations from`);
  return s;
}

/** lm-eval leaves the evaluated document out of its demonstrations only when fewshot_split equals test_split (both unset counts). */
function excludesEvalDoc(task: MultipleChoiceTaskDef): boolean {
  return (task.splits.fewshot ?? null) === (task.splits.test ?? null);
}

export function isMultipleInput(task: MultipleChoiceTaskDef, doc: Doc): boolean {
  return typeof task.docToText(doc) === 'number';
}

/** The few-shot sampler of one task; its generator state runs on from one document to the next. */
export class FewshotSampler {
  private readonly rnd: PythonRandom;

  constructor(
    private readonly task: MultipleChoiceTaskDef,
    private readonly docs: Doc[],
    seed: number = DEFAULT_FEWSHOT_SEED,
  ) {
    this.rnd = new PythonRandom(seed);
  }

  sample(n: number, evalDoc: Doc): Doc[] {
    if (n === 0) return [];
    const exclude = excludesEvalDoc(this.task);
    if (this.task.sampler === 'first_n') {
      const pool = exclude ? this.docs.filter((d) => !isDeepStrictEqual(d, evalDoc)) : this.docs;
      if (n > pool.length)
        throw new Error(
          `task ${this.task.name}: ${n}-shot needs ${n} demonstrations, the ${fewshotSplit(this.task)} split has ${pool.length}`,
        );
      return pool.slice(0, n);
    }
    const want = exclude ? n + 1 : n;
    if (want > this.docs.length)
      throw new Error(
        `task ${this.task.name}: ${n}-shot draws ${want} documents from the ${fewshotSplit(this.task)} split, which has ${this.docs.length}`,
      );
    const drawn = this.rnd.sample(this.docs, want);
    return exclude ? drawn.filter((d) => !isDeepStrictEqual(d, evalDoc)).slice(0, n) : drawn;
  }
}

function answerText(task: MultipleChoiceTaskDef, doc: Doc): string {
  const target = task.docToTarget(doc);
  if (isMultipleInput(task, doc)) {
    if (typeof target !== 'string')
      throw new Error(`task ${task.name}: a multiple-input document needs a string target`);
    return target;
  }
  if (typeof target === 'string') return target;
  const choices = task.docToChoice(doc);
  if (!(target >= 0 && target < choices.length))
    throw new Error(
      `task ${task.name}: target ${target} is not one of the ${choices.length} choices of a demonstration`,
    );
  return choices[target];
}

function questionText(task: MultipleChoiceTaskDef, doc: Doc): string {
  const q = task.docToText(doc);
  return typeof q === 'number' ? task.docToChoice(doc)[q] : q;
}

/**
 * The context before the evaluated document's answer: the description, each demonstration as
 * question + target delimiter + answer + few-shot delimiter, then the question. Multiple-input
 * tasks get one context per choice.
 */
export function fewshotContext(task: MultipleChoiceTaskDef, doc: Doc, demos: Doc[]): string | string[] {
  let prefix = task.description;
  for (const d of demos) {
    const q = questionText(task, d);
    const a = answerText(task, d);
    // lm-eval adds the delimiters only around a non-empty answer
    prefix += a === '' ? q : q + task.targetDelimiter + a + task.fewshotDelimiter;
  }
  const q = task.docToText(doc);
  if (typeof q === 'number') return task.docToChoice(doc).map((ctx) => prefix + ctx);
  return prefix + q;
}

/** One request per choice: (context, delimiter + choice), or for multiple inputs (context_i, delimiter + target). */
export function docRequests(task: MultipleChoiceTaskDef, doc: Doc, context: string | string[]): LoglikelihoodRequest[] {
  if (Array.isArray(context)) {
    const target = task.docToTarget(doc);
    if (typeof target !== 'string')
      throw new Error(`task ${task.name}: a multiple-input document needs a string target`);
    return context.map((c) => ({ context: c, continuation: task.targetDelimiter + target }));
  }
  return task.docToChoice(doc).map((choice) => ({ context, continuation: task.targetDelimiter + choice }));
}

/** Every document's requests, documents in split order (the first `limit`), demonstrations drawn in that order. */
export function buildTaskRequests(
  task: MultipleChoiceTaskDef,
  evalDocs: Doc[],
  fewshotDocs: Doc[],
  options: { numFewshot: number; seed?: number; limit?: number },
): DocRequests[] {
  const sampler = new FewshotSampler(task, fewshotDocs, options.seed ?? DEFAULT_FEWSHOT_SEED);
  const count = Math.min(evalDocs.length, options.limit ?? Infinity);
  const out: DocRequests[] = [];
  for (let docId = 0; docId < count; docId++) {
    const doc = evalDocs[docId];
    const demos = sampler.sample(options.numFewshot, doc);
    out.push({
      docId,
      doc,
      requests: docRequests(task, doc, fewshotContext(task, doc, demos)),
      target: task.docToTarget(doc),
    });
  }
  return out;
}

/** Characters as Python counts them (code points), for acc_norm. */
function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** numpy.argmax: the first index of the largest value. */
function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export type DocScores = { acc: number; acc_norm?: number; pred: number; predNorm: number; gold: number };

/**
 * process_results for multiple choice: acc picks the largest log-likelihood, acc_norm the largest
 * log-likelihood divided by the choice's length in characters (the choice text, without the target
 * delimiter; for multiple-input tasks the choices are the contexts). A gold label outside the
 * choices scores 0, as in lm-eval.
 */
export function scoreDoc(task: MultipleChoiceTaskDef, doc: Doc, results: LoglikelihoodResult[]): DocScores {
  const choices = task.docToChoice(doc);
  if (results.length !== choices.length)
    throw new Error(`task ${task.name}: ${results.length} results for ${choices.length} choices`);
  const lls = results.map((r) => r.logprob);
  const pred = argmax(lls);
  const predNorm = argmax(lls.map((ll, i) => ll / pyLen(choices[i])));
  const raw = isMultipleInput(task, doc) ? task.docToText(doc) : task.docToTarget(doc);
  let gold = typeof raw === 'number' ? (raw < choices.length ? raw : -100) : choices.indexOf(raw);
  if (gold === -1 && typeof raw === 'string') gold = -100;
  const scores: DocScores = { acc: pred === gold ? 1 : 0, pred, predNorm, gold };
  if (task.metrics.includes('acc_norm')) scores.acc_norm = predNorm === gold ? 1 : 0;
  return scores;
}

/** A metric over a task's documents: lm-eval's mean and mean_stderr (sample standard deviation / sqrt(n)). */
export type Aggregate = { value: number; stderr: number | null; n: number };

export function aggregateMean(values: number[]): Aggregate {
  if (values.length === 0) return { value: Number.NaN, stderr: null, n: 0 };
  const m = meanWithStderr(values);
  return { value: m.mean, stderr: m.se, n: m.n };
}

/**
 * A group's metric from its leaf tasks, as lm-eval's Group.aggregate: the mean weighted by each
 * task's number of documents (weight_by_size; unweighted otherwise) and the pooled standard error
 * sqrt(sum((n_i - 1) * se_i^2 * n_i) / (N - k) / N); N/A (null) when any task's stderr is.
 */
export function aggregateGroup(parts: Aggregate[], weightBySize: boolean): Aggregate {
  if (parts.length === 0) throw new Error('a group needs at least one evaluated task');
  const sizes = parts.map((p) => p.n);
  const weights = weightBySize ? sizes : sizes.map(() => 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const value = parts.reduce((a, p, i) => a + p.value * weights[i], 0) / total;
  const N = sizes.reduce((a, b) => a + b, 0);
  let stderr: number | null = null;
  if (parts.every((p) => p.stderr !== null) && N > parts.length) {
    const pooledVar = parts.reduce((a, p, i) => a + (sizes[i] - 1) * p.stderr! ** 2 * sizes[i], 0) / (N - parts.length);
    stderr = Math.sqrt(pooledVar / N);
  }
  return { value, stderr, n: N };
}

/** The leaf tasks under a group (recursively), in definition order. */
export function leafTasks(group: GroupDef, groups: Map<string, GroupDef>): string[] {
  return group.children.flatMap((c) => {
    const sub = groups.get(c);
    return sub ? leafTasks(sub, groups) : [c];
  });
}
