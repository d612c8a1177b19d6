// lm-evaluation-harness-style scoring of any model that implements `TokenLM` (lib/engine/gpt.ts):
// the in-process GPT and the ONNX Runtime model alike.
//
// - multiple choice: the log-likelihood of each choice as a continuation of the prompt; `acc` picks
//   the highest, `acc_norm` the highest per character of the choice (as lm-eval's acc_norm); a task
//   with `mutualInfo` adds lm-eval's `acc_mutual_info`: the highest log P(choice | prompt) minus
//   log P(choice | nothing), where "nothing" is lm-eval's unconditional request ("", delimiter + choice),
//   which its models encode as the prefix token alone (BOS, else EOS; here the same prefix every prompt
//   gets) followed by the choice's tokens. A choice the model finds likely anywhere then no longer wins
//   just for that (short, frequent words): what counts is what the prompt adds to it;
// - generation: greedy decoding until EOS or a stop string, scored by exact match and token F1;
// - zero- or k-shot prompts with demonstrations drawn by a seed, one draw per example;
// - requests go to the model in batches; results per task with the standard error of each metric, and
//   every example's scores (`perItem`, in example order) so that intervals can resample items.

import type { ScoreRequest, TokenLM } from '../engine/gpt.js';
import type { TextTokenizer } from '../engine/tokenizer.js';
import { writeJson } from '../repro/files.js';
import { createProgress, type ProgressMode } from '../repro/progress.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';
import { exactMatch, tokenF1 } from './metrics.js';
import { meanWithStderr } from './stats.js';
import { chanceLevel, type GenerationExample, type MultipleChoiceExample, type Task } from './tasks.js';

export type EvalOptions = {
  /** Demonstrations per prompt (default 0). */
  shots?: number;
  /** Seed for drawing demonstrations (default 1). */
  seed?: number;
  /** Requests (continuations or prompts) per model call (default 16). */
  batchSize?: number;
  /** Only the first `limit` examples of each task. */
  limit?: number;
  /** Ids put before every prompt (default: the tokenizer's EOS, which precedes every document in training; else BOS). */
  prefixIds?: number[];
  /** Keep each example's prompt, prediction and scores in the results. */
  samples?: boolean;
  progress?: ProgressMode;
};

export type MetricValue = { value: number; stderr: number | null };
export type Sample = {
  index: number;
  prompt: string;
  target: string;
  prediction: string;
  scores: Record<string, number>;
  /** Multiple choice: each choice's log-likelihood after the prompt. */
  logprobs?: number[];
  /** Multiple choice with `mutualInfo`: each choice's log-likelihood after the prefix token alone. */
  unconditionalLogprobs?: number[];
};
export type TaskResult = {
  task: string;
  type: Task['type'];
  n: number;
  shots: number;
  metrics: Record<string, MetricValue>;
  /** What picking a choice at random scores on the examples evaluated (0 for generation): read every metric against it. */
  chance: number;
  /** Each metric's score of every example, in example order (what a bootstrap over items resamples). */
  perItem: Record<string, number[]>;
  samples?: Sample[];
};
export type EvalResults = {
  results: Record<string, TaskResult>;
  config: { shots: number; seed: number; batchSize: number; limit: number | null; model?: string };
};

type Example = MultipleChoiceExample | GenerationExample;

function target(task: Task, e: Example): string {
  return task.type === 'multiple_choice'
    ? (e as MultipleChoiceExample).choices[(e as MultipleChoiceExample).gold]
    : (e as GenerationExample).answers[0];
}

/** The prompt for example `index`: `shots` demonstrations (context + delimiter + answer), then its context. */
export function buildPrompt(task: Task, index: number, shots: number, seed: number): string {
  const example = task.examples[index];
  if (shots <= 0) return example.context;
  const pool: Example[] = task.fewshot ?? (task.examples as Example[]).filter((_, i) => i !== index);
  if (pool.length < shots)
    throw new Error(
      `task ${task.name}: ${shots}-shot needs ${shots} demonstrations but only ${pool.length} are available`,
    );
  const order = shuffleInPlace(
    pool.map((_, i) => i),
    createRng(deriveSeed(seed, 'fewshot', task.name, index)),
  ).slice(0, shots);
  const demos = order.map((i) => pool[i].context + task.targetDelimiter + target(task, pool[i]));
  return [...demos, example.context].join(task.fewshotDelimiter);
}

/** Context and continuation ids, split as in the joint encoding when it keeps the context's ids. */
function encodePair(
  tok: TextTokenizer,
  context: string,
  continuation: string,
): { context: number[]; continuation: number[] } {
  const ctx = tok.encode(context);
  const whole = tok.encode(context + continuation);
  if (whole.length > ctx.length && ctx.every((id, i) => whole[i] === id))
    return { context: ctx, continuation: whole.slice(ctx.length) };
  return { context: ctx, continuation: tok.encode(continuation) };
}

/**
 * lm-eval's unconditional request for a choice, ("", delimiter + choice): the prefix alone as context and
 * the continuation encoded on its own; when the continuation's first token is the prefix token itself,
 * that token is the context instead (as lm-eval's loglikelihood does).
 */
export function unconditionalRequest(tok: TextTokenizer, prefix: number[], continuation: string): ScoreRequest {
  const ids = tok.encode(continuation);
  if (prefix.length === 1 && ids.length > 1 && ids[0] === prefix[0])
    return { context: ids.slice(0, 1), continuation: ids.slice(1) };
  return { context: prefix, continuation: ids };
}

/**
 * acc_mutual_info of one item: 1 when the choice with the highest log P(choice | prompt) - log P(choice |
 * prefix alone) is the gold one (the first such choice on a tie, as numpy's argmax).
 */
export function accMutualInfo(conditional: readonly number[], unconditional: readonly number[], gold: number): number {
  if (conditional.length !== unconditional.length)
    throw new RangeError(`${conditional.length} conditional but ${unconditional.length} unconditional log-likelihoods`);
  return argmax(conditional.map((ll, c) => ll - unconditional[c])) === gold ? 1 : 0;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

async function inBatches<T, R>(
  items: T[],
  size: number,
  run: (batch: T[]) => Promise<R[]>,
  onDone: (n: number) => void,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    const batch = items.slice(i, i + size);
    out.push(...(await run(batch)));
    onDone(batch.length);
  }
  return out;
}

export async function evaluate(
  model: TokenLM,
  tokenizer: TextTokenizer,
  tasks: Task[],
  options: EvalOptions = {},
): Promise<EvalResults> {
  const shots = options.shots ?? 0;
  const seed = options.seed ?? 1;
  const batchSize = options.batchSize ?? 16;
  const prefix =
    options.prefixIds ?? [tokenizer.eosTokenId ?? tokenizer.bosTokenId].filter((x): x is number => x !== undefined);
  const results: Record<string, TaskResult> = {};
  for (const task of tasks) {
    if (results[task.name]) throw new Error(`two tasks are named ${task.name}`);
    const count = Math.min(task.examples.length, options.limit ?? Infinity);
    const prompts = Array.from({ length: count }, (_, i) => buildPrompt(task, i, shots, seed));
    const mutualInfo = task.type === 'multiple_choice' && task.mutualInfo === true;
    if (mutualInfo && prefix.length === 0)
      throw new Error(
        `task ${task.name}: acc_mutual_info needs a prefix token for its unconditional requests (the tokenizer has no EOS or BOS; pass prefixIds)`,
      );
    const choiceCount =
      task.type === 'multiple_choice' ? task.examples.slice(0, count).reduce((n, e) => n + e.choices.length, 0) : count;
    const requests = mutualInfo ? 2 * choiceCount : choiceCount;
    const progress = createProgress({
      label: `eval ${task.name}`,
      total: requests,
      unit: 'requests',
      mode: options.progress,
    });
    let done = 0;
    const tick = (n: number) => progress.update((done += n));
    const samples: Sample[] = [];
    const perMetric: Record<string, number[]> = {};
    const record = (scores: Record<string, number>) => {
      for (const [k, v] of Object.entries(scores)) (perMetric[k] ??= []).push(v);
    };

    if (task.type === 'multiple_choice') {
      const reqs: ScoreRequest[] = [];
      const owner: Array<{ example: number; choice: number }> = [];
      prompts.forEach((prompt, i) => {
        task.examples[i].choices.forEach((choice, c) => {
          const pair = encodePair(tokenizer, prompt, task.targetDelimiter + choice);
          const room = model.contextLength + 1 - pair.continuation.length;
          if (room < 1)
            throw new Error(
              `task ${task.name} example ${i}: choice ${c} has ${pair.continuation.length} tokens, more than the model's context`,
            );
          reqs.push({ context: [...prefix, ...pair.context].slice(-room), continuation: pair.continuation });
          owner.push({ example: i, choice: c });
        });
      });
      const conditionalCount = reqs.length;
      if (mutualInfo) {
        prompts.forEach((_, i) => {
          task.examples[i].choices.forEach((choice, c) => {
            const req = unconditionalRequest(tokenizer, prefix, task.targetDelimiter + choice);
            if (req.context.length + req.continuation.length > model.contextLength + 1)
              throw new Error(
                `task ${task.name} example ${i}: choice ${c} has ${req.continuation.length} tokens, more than the model's context`,
              );
            reqs.push(req);
            owner.push({ example: i, choice: c });
          });
        });
      }
      const scored = await inBatches(reqs, batchSize, (b) => model.scoreContinuations(b), tick);
      const lls: number[][] = prompts.map(() => []);
      const unconditional: number[][] = prompts.map(() => []);
      scored.forEach(
        (s, k) => ((k < conditionalCount ? lls : unconditional)[owner[k].example][owner[k].choice] = s.logprob),
      );
      prompts.forEach((prompt, i) => {
        const e = task.examples[i];
        const pickRaw = argmax(lls[i]);
        const pickNorm = argmax(lls[i].map((ll, c) => ll / Math.max(1, e.choices[c].length)));
        const scores: Record<string, number> = {
          acc: pickRaw === e.gold ? 1 : 0,
          acc_norm: pickNorm === e.gold ? 1 : 0,
        };
        if (mutualInfo) scores.acc_mutual_info = accMutualInfo(lls[i], unconditional[i], e.gold);
        record(scores);
        if (options.samples) {
          samples.push({
            index: i,
            prompt,
            target: e.choices[e.gold],
            prediction: e.choices[pickRaw],
            scores,
            logprobs: lls[i],
            ...(mutualInfo ? { unconditionalLogprobs: unconditional[i] } : {}),
          });
        }
      });
    } else {
      const room = model.contextLength - task.maxNewTokens;
      if (room < 1)
        throw new Error(
          `task ${task.name}: maxNewTokens ${task.maxNewTokens} leaves no room in the model's context of ${model.contextLength}`,
        );
      const inputs = prompts.map((p) => [...prefix, ...tokenizer.encode(p)].slice(-room));
      const stopIds = [tokenizer.eosTokenId].filter((x): x is number => x !== undefined);
      const outputs = await inBatches(
        inputs,
        batchSize,
        (b) => model.generate(b, { maxNewTokens: task.maxNewTokens, stopTokenIds: stopIds }),
        tick,
      );
      outputs.forEach((ids, i) => {
        let text = tokenizer.decode(ids, { skipSpecialTokens: true });
        for (const s of task.stop) {
          const at = s ? text.indexOf(s) : -1;
          if (at >= 0) text = text.slice(0, at);
        }
        const prediction = text.trim();
        const e = task.examples[i];
        const scores = { exact_match: exactMatch(prediction, e.answers), f1: tokenF1(prediction, e.answers) };
        record(scores);
        if (options.samples) samples.push({ index: i, prompt: prompts[i], target: e.answers[0], prediction, scores });
      });
    }
    progress.stop();
    const metrics: Record<string, MetricValue> = {};
    for (const [k, v] of Object.entries(perMetric)) {
      const m = meanWithStderr(v);
      metrics[k] = { value: m.mean, stderr: m.se };
    }
    results[task.name] = {
      task: task.name,
      type: task.type,
      n: count,
      shots,
      metrics,
      chance: chanceLevel(
        task.type === 'multiple_choice' ? { ...task, examples: task.examples.slice(0, count) } : task,
      ),
      perItem: perMetric,
      ...(options.samples ? { samples } : {}),
    };
  }
  return { results, config: { shots, seed, batchSize, limit: options.limit ?? null } };
}

export function writeResults(path: string, results: EvalResults): void {
  writeJson(path, results);
}

/** One row per task and metric: what a table (danfojs DataFrame) or a bar chart needs. */
export function resultsTable(results: EvalResults): Array<{
  task: string;
  metric: string;
  value: number;
  stderr: number | null;
  chance: number;
  n: number;
  shots: number;
}> {
  return Object.values(results.results).flatMap((r) =>
    Object.entries(r.metrics).map(([metric, m]) => ({
      task: r.task,
      metric,
      value: m.value,
      stderr: m.stderr,
      chance: r.chance,
      n: r.n,
      shots: r.shots,
    })),
  );
}
