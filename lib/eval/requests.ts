// Running evaluation requests through any TokenLM the way lm-evaluation-harness does:
// - (context, continuation) strings become token ids as lm-eval's `_encode_pair` makes them: trailing
//   whitespace of the context moves to the continuation, the pair is encoded whole and the context's
//   tokens cut off; an empty context becomes the prefix token (BOS, else EOS);
// - an optional BOS token at the start (what a Hugging Face tokenizer adds by default for Llama-family
//   models; AdaptLLM's evaluation asks for it with instruction-pretrain models);
// - requests sorted longest first (ties by their tokens), batched, each scored once;
// - a request cache (JSON lines keyed by a hash of the model and the token ids), written after every
//   batch, so an evaluation that is killed resumes where it stopped.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ScoreRequest, ScoreResult, TokenLM } from '../engine/gpt.js';
import type { TextTokenizer } from '../engine/tokenizer.js';
import { sha256 } from '../repro/hash.js';
import { jsonLines, newJsonLinesReport } from '../repro/jsonl.js';
import type { Progress } from '../repro/progress.js';

export type EncodeOptions = {
  /** Put the BOS token before every context (a context already starting with the BOS text gets none). */
  bos: boolean;
  /** Leave trailing whitespace on the context (AdaptLLM's encoding) instead of moving it to the continuation (lm-eval's). */
  keepTrailingSpace?: boolean;
};

/** Python's str.rstrip() whitespace (str.isspace()). */
const TRAILING_SPACE = /[\t\n\v\f\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/** The BOS-or-not encoding lm-eval's HF model applies to each string (`tok_encode`). */
function encodeText(tok: TextTokenizer, text: string, options: EncodeOptions, bosText: string | undefined): number[] {
  const ids = tok.encode(text);
  if (!options.bos || tok.bosTokenId === undefined || (bosText !== undefined && text.startsWith(bosText))) return ids;
  return [tok.bosTokenId, ...ids];
}

/** lm-eval's loglikelihood request encoding (TemplateLM.loglikelihood and _encode_pair). */
export function encodeRequest(
  tok: TextTokenizer,
  context: string,
  continuation: string,
  options: EncodeOptions,
): ScoreRequest {
  const bosText = tok.bosTokenId === undefined ? undefined : tok.decode([tok.bosTokenId]);
  if (context === '') {
    const cont = tok.encode(continuation);
    const prefix = tok.bosTokenId ?? tok.eosTokenId;
    if (prefix === undefined)
      throw new Error('an empty context needs a BOS or EOS token to stand for it, and the tokenizer has neither');
    return prefix !== cont[0]
      ? { context: [prefix], continuation: cont }
      : { context: cont.slice(0, 1), continuation: cont.slice(1) };
  }
  const spaces = options.keepTrailingSpace ? '' : (TRAILING_SPACE.exec(context)?.[0] ?? '');
  const ctx = context.slice(0, context.length - spaces.length);
  const cont = spaces + continuation;
  const whole = encodeText(tok, ctx + cont, options, bosText);
  const ctxIds = encodeText(tok, ctx, options, bosText);
  const contIds = whole.slice(ctxIds.length);
  if (contIds.length === 0)
    throw new Error(`the continuation ${JSON.stringify(continuation)} encodes to no tokens after its context`);
  if (ctxIds.length === 0) throw new Error(`the context ${JSON.stringify(context)} encodes to no tokens`);
  return { context: ctxIds, continuation: contIds };
}

type CacheEntry = { k: string; ll?: number; g?: boolean; n?: number; out?: number[] };

function isCacheEntry(v: unknown): v is CacheEntry {
  return v !== null && typeof v === 'object' && typeof (v as { k?: unknown }).k === 'string';
}

/**
 * Results of requests already scored, on disk as JSON lines. A line cut off by a kill is ignored
 * (that request is scored again, once); entries are keyed by a hash of the model and the request.
 */
export class RequestCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Lines that could not be read (a cut-off last line after a kill). */
  readonly skippedLines: number = 0;
  /** The file ends inside a line cut off by a kill: the next write starts a fresh line. */
  private cutOff = false;

  private constructor(readonly path: string) {
    if (!existsSync(path)) return;
    const text = readFileSync(path, 'utf8');
    this.cutOff = text.length > 0 && !text.endsWith('\n');
    // a damaged line is only a request to score again: skipped, never an error
    const report = newJsonLinesReport();
    let notEntries = 0;
    for (const { value } of jsonLines(text, path, { onError: 'skip', tornLastLine: 'skip' }, report)) {
      if (isCacheEntry(value)) this.entries.set(value.k, value);
      else notEntries++;
    }
    this.skippedLines = report.skipped.length + report.warnings.length + notEntries;
  }

  static open(path: string): RequestCache {
    mkdirSync(dirname(path), { recursive: true });
    return new RequestCache(path);
  }

  get size(): number {
    return this.entries.size;
  }

  score(key: string): ScoreResult | undefined {
    const e = this.entries.get(key);
    return e && typeof e.ll === 'number' && typeof e.g === 'boolean'
      ? { logprob: e.ll, greedy: e.g, tokens: e.n ?? 0 }
      : undefined;
  }

  generated(key: string): number[] | undefined {
    return this.entries.get(key)?.out;
  }

  add(entries: CacheEntry[]): void {
    if (entries.length === 0) return;
    const text = entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
    appendFileSync(this.path, this.cutOff ? '\n' + text : text);
    this.cutOff = false;
    for (const e of entries) this.entries.set(e.k, e);
  }
}

export type RunOptions = {
  /** Requests per model call. */
  batchSize: number;
  /** Names the model in cache keys (its spec and revision): results of another model are never reused. */
  modelKey: string;
  cache?: RequestCache;
  progress?: Progress;
  /** Counts requests answered from the cache and sent to the model. */
  stats?: { cached: number; run: number };
};

function requestKey(modelKey: string, kind: string, ...parts: unknown[]): string {
  return sha256(JSON.stringify([modelKey, kind, ...parts]));
}

function compareTokens(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Log-likelihood (and greedy flag) of every request, in the given order. Identical requests are
 * scored once; the rest go to the model longest first (lm-eval's order), in batches.
 */
export async function scoreRequests(
  model: TokenLM,
  requests: ScoreRequest[],
  options: RunOptions,
): Promise<ScoreResult[]> {
  const keys = requests.map((r) => requestKey(options.modelKey, 'loglikelihood', r.context, r.continuation));
  const results = new Array<ScoreResult | undefined>(requests.length);
  const todo = new Map<string, number>();
  let done = 0;
  keys.forEach((k, i) => {
    const hit = options.cache?.score(k);
    if (hit) {
      results[i] = hit;
      done++;
    } else if (!todo.has(k)) todo.set(k, i);
  });
  options.progress?.update(done, { cached: done });
  if (options.stats) options.stats.cached += done;
  const order = [...todo.values()].sort((a, b) => {
    const ta = [...requests[a].context, ...requests[a].continuation];
    const tb = [...requests[b].context, ...requests[b].continuation];
    return tb.length - ta.length || compareTokens(ta, tb);
  });
  const fresh = new Map<string, ScoreResult>();
  for (let start = 0; start < order.length; start += options.batchSize) {
    const batch = order.slice(start, start + options.batchSize);
    const scored = await model.scoreContinuations(batch.map((i) => requests[i]));
    batch.forEach((i, j) => fresh.set(keys[i], scored[j]));
    options.cache?.add(
      batch.map((i, j) => ({ k: keys[i], ll: scored[j].logprob, g: scored[j].greedy, n: scored[j].tokens })),
    );
    if (options.stats) options.stats.run += batch.length;
    done += batch.length;
    options.progress?.update(done);
  }
  return keys.map((k, i) => {
    const r = results[i] ?? fresh.get(k);
    if (!r) throw new Error(`request ${i} was not scored`);
    return r;
  });
}

export type GenerationRequest = { prompt: number[]; maxNewTokens: number; stopTokenIds: number[] };

/** Greedy continuations of every prompt (stop token included), in the given order, cached like scores. */
export async function generateRequests(
  model: TokenLM,
  requests: GenerationRequest[],
  options: RunOptions,
): Promise<number[][]> {
  const keys = requests.map((r) =>
    requestKey(
      options.modelKey,
      'generate',
      r.prompt,
      r.maxNewTokens,
      [...r.stopTokenIds].sort((a, b) => a - b),
    ),
  );
  const out = new Array<number[] | undefined>(requests.length);
  let done = 0;
  const todo: number[] = [];
  keys.forEach((k, i) => {
    const hit = options.cache?.generated(k);
    if (hit) {
      out[i] = hit;
      done++;
    } else todo.push(i);
  });
  options.progress?.update(done);
  if (options.stats) options.stats.cached += done;
  todo.sort((a, b) => requests[b].prompt.length - requests[a].prompt.length || a - b);
  for (let start = 0; start < todo.length; start += options.batchSize) {
    const batch = todo.slice(start, start + options.batchSize);
    // one call per (maxNewTokens, stop ids): the TokenLM takes one setting per call
    const groups = new Map<string, number[]>();
    for (const i of batch) {
      const g = `${requests[i].maxNewTokens}|${[...requests[i].stopTokenIds].sort((a, b) => a - b).join(',')}`;
      groups.set(g, [...(groups.get(g) ?? []), i]);
    }
    for (const members of groups.values()) {
      const first = requests[members[0]];
      const generated = await model.generate(
        members.map((i) => requests[i].prompt),
        { maxNewTokens: first.maxNewTokens, stopTokenIds: first.stopTokenIds },
      );
      members.forEach((i, j) => (out[i] = generated[j]));
      options.cache?.add(members.map((i, j) => ({ k: keys[i], out: generated[j] })));
    }
    if (options.stats) options.stats.run += batch.length;
    done += batch.length;
    options.progress?.update(done);
  }
  return out.map((o, i) => {
    if (!o) throw new Error(`generation request ${i} was not run`);
    return o;
  });
}
