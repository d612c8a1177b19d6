// The multi-round (M-shot) synthesis driver: `planRound` and `collectRound` (format.ts) over any
// CompletionEngine, with a run folder that survives being killed at any moment.
//
// Run folder:
//   run.json            what this run is (options, engine, hash of the texts); fixed at the first start
//   round-<r>.jsonl     one line per synthesized text; each finished batch is appended in one write
//   chains.jsonl        the final chains, one per line (written when every round is done)
//   manifest.json       how to reproduce the run, with totals and this session's throughput
//
// Resuming: a round's plan is a pure function of the previous round's chains and the options, so
// rerunning rebuilds the same items and batches, keeps every complete batch found on disk (after
// checking its prompts are the ones planned), drops a torn last line or a half-written batch, and
// synthesizes only what is missing. Each text is synthesized exactly once, and with greedy decoding
// the result equals an uninterrupted run's: batches have the same members, so the same padding.
// Each record carries a checksum of itself: a damaged line (not JSON, or a changed byte) is dropped,
// said out loud, and the batch it leaves incomplete is synthesized again, never the whole round.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CompletionEngine, Completion } from '../engine/completion.js';
import { planRound, collectRound, splitIntoRounds, cookRead, type Chain, type RoundItem } from './format.js';
import { canonicalJson, hashJson, sha256 } from '../repro/hash.js';
import { readJsonObject, writeFileAtomic, writeJson } from '../repro/files.js';
import { deriveSeed } from '../repro/rng.js';
import { writeManifest, type ManifestInput } from '../repro/manifest.js';
import { createProgress, type ProgressMode } from '../repro/progress.js';

/** The released setup: greedy decoding, 400 new tokens, a 4096-token context, two rounds. */
export const SYNTHESIS_DEFAULTS = {
  rounds: 2,
  maxModelLen: 4096,
  maxNewTokens: 400,
  batchSize: 8,
  temperature: 0,
  topP: 1,
  seed: 0,
} as const;

export type SynthesizeOptions = {
  texts: string[];
  engine: CompletionEngine;
  outDir: string;
  /** M: the texts are cut into M consecutive slices, one per round (default 2). */
  rounds?: number;
  /** Context budget of the synthesizer, in its tokens (default 4096). */
  maxModelLen?: number;
  maxNewTokens?: number;
  /** Prompts per engine call (default 8). */
  batchSize?: number;
  /** Batches in flight at once (default 1; more keeps a remote server busy). */
  parallelBatches?: number;
  /** 0 = greedy (default). */
  temperature?: number;
  topP?: number;
  /** Sampling seed; each batch gets its own seed derived from it. */
  seed?: number;
  /** Recorded in the manifest. */
  command?: string[];
  inputs?: ManifestInput[];
  progress?: ProgressMode;
  /** Start no more than this many batches in this session, then return unfinished (as if killed): for demonstrations of resuming. */
  stopAfterBatches?: number;
  /** Warnings (damaged lines dropped on resume), one line each without the newline (default: standard error). */
  log?: (line: string) => void;
};

export type RunOptions = {
  rounds: number;
  maxModelLen: number;
  maxNewTokens: number;
  batchSize: number;
  temperature: number;
  topP: number;
  seed: number;
};

export type RoundRecord = {
  round: number;
  batch: number;
  /** Members of the batch; the batch is complete when all are on disk. */
  size: number;
  /** Index of the item in its round. */
  item: number;
  /** Index of the text in the input. */
  text: number;
  promptSha: string;
  output: string;
  finishReason?: 'stop' | 'length';
  promptTokens?: number;
  completionTokens?: number;
  /** sha256 (16 hex) of the record without this field; records written before it existed have none. */
  check?: string;
};

export type RoundResult = { items: RoundItem[]; outputs: string[]; records: RoundRecord[] };

export type SynthesisResult = {
  outDir: string;
  chains: Chain[];
  rounds: RoundResult[];
  /** False when stopAfterBatches ended the session early. */
  complete: boolean;
  totals: { texts: number; pairs: number; textsWithPairs: number; promptTokens: number; completionTokens: number };
  session: {
    batches: number;
    texts: number;
    completionTokens: number;
    seconds: number;
    tokensPerSecond: number;
    textsPerSecond: number;
    resumedTexts: number;
  };
};

const RUN_FORMAT = 'ipt-synthesis-run/1';

export function resolveRunOptions(o: Partial<RunOptions>): RunOptions {
  const keys = Object.keys(SYNTHESIS_DEFAULTS) as Array<keyof RunOptions>;
  const r = { ...SYNTHESIS_DEFAULTS } as RunOptions;
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k] as number;
  const positiveInts: Array<keyof RunOptions> = ['rounds', 'maxModelLen', 'maxNewTokens', 'batchSize'];
  for (const k of positiveInts)
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new RangeError(`${k} must be a positive integer, got ${r[k]}`);
  if (r.maxNewTokens >= r.maxModelLen)
    throw new RangeError(`maxNewTokens (${r.maxNewTokens}) must be below maxModelLen (${r.maxModelLen})`);
  if (!(r.temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${r.temperature}`);
  if (!(r.topP > 0 && r.topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${r.topP}`);
  if (!Number.isInteger(r.seed)) throw new RangeError(`seed must be an integer, got ${r.seed}`);
  return r;
}

/** Batches of a round: items ordered by prompt length (longest first, so padding is small), then cut. */
export function planBatches(items: RoundItem[], batchSize: number): number[][] {
  const order = items.map((_, i) => i).sort((a, b) => items[b].prompt.length - items[a].prompt.length || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

const promptSha = (prompt: string) => sha256(prompt).slice(0, 16);

function recordCheck(record: RoundRecord): string {
  const { check: _c, ...rest } = record;
  void _c;
  return hashJson(rest).slice(0, 16);
}

/** Engines are the same for resuming when their names match; servers may move if they serve the same model. */
function sameEngine(a: string, b: string): boolean {
  if (a === b) return true;
  const model = (n: string) => (n.startsWith('openai:') && n.includes('#') ? n.slice(n.lastIndexOf('#')) : undefined);
  return model(a) !== undefined && model(a) === model(b);
}

/** Whether any round file holds a whole line: a finished batch, work a different run must not overwrite. */
function holdsFinishedBatch(outDir: string): boolean {
  return readdirSync(outDir).some(
    (f) => /^round-\d+\.jsonl$/.test(f) && readFileSync(join(outDir, f), 'utf8').includes('\n'),
  );
}

function checkRunFile(outDir: string, identity: Record<string, unknown>): boolean {
  const path = join(outDir, 'run.json');
  if (!existsSync(path)) {
    writeJson(path, identity);
    return false;
  }
  const saved = readJsonObject(path, 'delete the run folder to start over, or use another --out');
  if (saved.format !== RUN_FORMAT)
    throw new Error(`${path} is not a synthesis run (${String(saved.format)}): use another --out folder`);
  const differences: string[] = [];
  const a = saved.options as Record<string, unknown>;
  const b = identity.options as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (canonicalJson(a?.[k]) !== canonicalJson(b[k]))
      differences.push(`${k}: ${JSON.stringify(a?.[k])} then, ${JSON.stringify(b[k])} now`);
  if (canonicalJson(saved.texts) !== canonicalJson(identity.texts)) differences.push('the input texts differ');
  if (!sameEngine(String(saved.engine), String(identity.engine)))
    differences.push(`engine: ${String(saved.engine)} then, ${String(identity.engine)} now`);
  if (differences.length && !holdsFinishedBatch(outDir)) {
    // nothing synthesized yet (a run that failed before its first batch): start over with these inputs
    writeJson(path, identity);
    return false;
  }
  if (differences.length) {
    throw new Error(
      `${outDir} holds a different synthesis run (${differences.join('; ')}). Rerun with the same input and options to resume it, or use a new --out folder.`,
    );
  }
  return true;
}

export type RoundFile = {
  records: Map<number, RoundRecord>;
  /** Lines dropped: a torn tail, damaged lines, members of incomplete batches. */
  dropped: number;
  /** Damaged lines, as "line N is not JSON" (a torn last line is not damage: a kill leaves one). */
  damaged: string[];
  /** Texts of batches left incomplete (by a kill or by damaged lines), to be synthesized again. */
  redo: number;
};

/**
 * Reads a round file: complete batches whose prompts match the plan. A torn last line (a kill
 * mid-write), damaged lines (not JSON, or not matching their checksum) and batches with missing members
 * are dropped, and the file is rewritten without them.
 */
export function readRoundFile(path: string, round: number, items: RoundItem[], batches: number[][]): RoundFile {
  const records = new Map<number, RoundRecord>();
  const damaged: string[] = [];
  if (!existsSync(path)) return { records, dropped: 0, damaged, redo: 0 };
  const raw = readFileSync(path, 'utf8');
  const lines = raw.split('\n');
  const torn = lines.pop() ?? ''; // '' when the file ends with a newline
  let dropped = torn.length > 0 ? 1 : 0;
  const byBatch = new Map<number, Array<{ line: string; record: RoundRecord }>>();
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    let record: RoundRecord;
    try {
      record = JSON.parse(line) as RoundRecord;
    } catch {
      damaged.push(`line ${n + 1} is not JSON`);
      return;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      damaged.push(`line ${n + 1} is not a record`);
      return;
    }
    if (record.check !== undefined && record.check !== recordCheck(record)) {
      damaged.push(`line ${n + 1} does not match its checksum`);
      return;
    }
    const batch = batches[record.batch];
    if (record.round !== round || !batch || !batch.includes(record.item) || record.size !== batch.length) {
      throw new Error(
        `${path} line ${n + 1} does not belong to this run's round ${round} (item ${record.item}, batch ${record.batch}): the input or options changed; use a new --out folder`,
      );
    }
    if (record.promptSha !== promptSha(items[record.item].prompt)) {
      throw new Error(
        `${path} line ${n + 1}: item ${record.item} was synthesized from a different prompt than planned now; the input, options or tokenizer changed; use a new --out folder`,
      );
    }
    const list = byBatch.get(record.batch) ?? [];
    list.push({ line, record });
    byBatch.set(record.batch, list);
  });
  dropped += damaged.length;
  const kept: string[] = [];
  let redo = 0;
  for (const [b, list] of [...byBatch].sort((x, y) => x[0] - y[0])) {
    const members = new Set(list.map((x) => x.record.item));
    if (members.size !== batches[b].length) {
      dropped += list.length;
      redo += batches[b].length;
      continue;
    }
    const seen = new Set<number>();
    for (const { line, record } of list) {
      if (seen.has(record.item)) continue; // a batch written twice keeps its first copy
      seen.add(record.item);
      records.set(record.item, record);
      kept.push(line);
    }
  }
  if (dropped > 0 || kept.length !== lines.filter((l) => l.trim() !== '').length) {
    writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
  }
  return { records, dropped, damaged, redo };
}

/** Runs the M rounds, resuming whatever the run folder already holds. */
export async function synthesize(options: SynthesizeOptions): Promise<SynthesisResult> {
  const startedAt = new Date();
  const run = resolveRunOptions(options);
  const { engine, outDir, texts } = options;
  const log = options.log ?? ((line: string) => void process.stderr.write(line + '\n'));
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string'))
    throw new TypeError('texts must be an array of strings');
  if (texts.length === 0) throw new RangeError('there are no texts to synthesize from');
  const parallel = options.parallelBatches ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new RangeError(`parallelBatches must be a positive integer, got ${parallel}`);
  // A local model knows its context; a budget beyond it would fail on the first long prompt.
  const context = (engine as { contextLength?: unknown }).contextLength;
  if (typeof context === 'number' && context < run.maxModelLen) {
    throw new RangeError(
      `maxModelLen ${run.maxModelLen} is more than the model's context of ${context} tokens: pass --max-model-len ${context} or less`,
    );
  }
  // Every text must fit as a plain prompt in any round (demonstrations only add tokens): check
  // them all before the run folder is written, so a corrected rerun is not taken for another run.
  const countTokens = engine.countTokens?.bind(engine);
  const budget = run.maxModelLen - run.maxNewTokens;
  if (countTokens) {
    texts.forEach((text, i) => {
      const n = countTokens(cookRead(text));
      if (n > budget) {
        throw new RangeError(
          `text ${i} needs ${n} tokens as a prompt, over the budget of maxModelLen - maxNewTokens = ${budget}: ` +
            'split long texts into chunks (ipt synthesize --max-tokens) or raise --max-model-len',
        );
      }
    });
  }
  mkdirSync(outDir, { recursive: true });
  const identity = {
    format: RUN_FORMAT,
    options: run,
    engine: engine.name,
    texts: { count: texts.length, sha256: hashJson(texts) },
  };
  const resumed = checkRunFile(outDir, identity);
  const slices = splitIntoRounds(texts, run.rounds);
  const sliceStart = slices.map((_, r) => slices.slice(0, r).reduce((n, s) => n + s.length, 0));

  // Plan every round we can see, to count what is left; later rounds depend on earlier outputs.
  let previous: Chain[] = [];
  const results: RoundResult[] = [];
  const session = { batches: 0, texts: 0, completionTokens: 0, seconds: 0, resumedTexts: 0 };
  const started = performance.now();
  let stoppedEarly = false;
  let startedBatches = 0;
  const progress = createProgress({ label: 'synthesize', total: texts.length, unit: 'texts', mode: options.progress });
  let doneTexts = 0;

  try {
    for (let r = 0; r < slices.length; r++) {
      const round = r + 1;
      const items = planRound(previous, slices[r], {
        maxModelLen: run.maxModelLen,
        maxNewTokens: run.maxNewTokens,
        countTokens,
      });
      const batches = planBatches(items, run.batchSize);
      const path = join(outDir, `round-${round}.jsonl`);
      const { records, damaged, redo } = readRoundFile(path, round, items, batches);
      if (damaged.length) {
        const n = damaged.length;
        const what =
          redo > 0
            ? `the ${redo} texts of the batch${redo > run.batchSize ? 'es' : ''} ${n === 1 ? 'it' : 'they'} left incomplete`
            : `the text${n === 1 ? '' : 's'} ${n === 1 ? 'it' : 'they'} held`;
        log(
          `warning: ${path}: ${n} damaged line${n === 1 ? '' : 's'} dropped (${damaged.slice(0, 3).join('; ')}${n > 3 ? '; ...' : ''}); ${what} are synthesized again`,
        );
      }
      session.resumedTexts += records.size;
      doneTexts += records.size;
      progress.update(doneTexts, { round: `${round}/${slices.length}` });
      const todo = batches.map((_, b) => b).filter((b) => batches[b].some((i) => !records.has(i)));

      const fd = openSync(path, 'a');
      try {
        const runBatch = async (b: number) => {
          startedBatches++;
          const members = batches[b];
          const prompts = members.map((i) => items[i].prompt);
          const seed = deriveSeed(run.seed, 'round', round, 'batch', b);
          const completions: Completion[] = await engine.complete(prompts, {
            maxNewTokens: run.maxNewTokens,
            temperature: run.temperature,
            topP: run.topP,
            seed,
          });
          if (completions.length !== prompts.length)
            throw new Error(`the engine returned ${completions.length} completions for ${prompts.length} prompts`);
          const batchRecords: RoundRecord[] = members
            .map(
              (i, k): RoundRecord => ({
                round,
                batch: b,
                size: members.length,
                item: i,
                text: sliceStart[r] + i,
                promptSha: promptSha(items[i].prompt),
                output: completions[k].text,
                finishReason: completions[k].finishReason,
                promptTokens: completions[k].promptTokens,
                completionTokens: completions[k].completionTokens,
              }),
            )
            .map((x) => ({ ...x, check: recordCheck(x) }));
          // One write per batch, then fsync: a kill leaves whole batches and at most one torn tail.
          writeSync(fd, batchRecords.map((x) => JSON.stringify(x) + '\n').join(''));
          fsyncSync(fd);
          for (const x of batchRecords) records.set(x.item, x);
          session.batches++;
          session.texts += members.length;
          session.completionTokens += batchRecords.reduce((a, x) => a + (x.completionTokens ?? 0), 0);
          doneTexts += members.length;
          const seconds = (performance.now() - started) / 1000;
          progress.update(doneTexts, {
            round: `${round}/${slices.length}`,
            'tok/s': session.completionTokens / seconds,
          });
        };
        stoppedEarly = await runPool(
          todo,
          parallel,
          runBatch,
          () => options.stopAfterBatches !== undefined && startedBatches >= options.stopAfterBatches,
        );
      } finally {
        closeSync(fd);
      }
      if (stoppedEarly) break;
      const outputs = items.map((_, i) => records.get(i)!.output);
      previous = collectRound(items, outputs);
      results.push({ items, outputs, records: items.map((_, i) => records.get(i)!) });
    }
  } finally {
    progress.stop();
  }
  session.seconds = (performance.now() - started) / 1000;

  const records = results.flatMap((x) => x.records);
  const totals = {
    texts: records.length,
    pairs: stoppedEarly ? 0 : previous.reduce((n, chain) => n + chain.reduce((m, e) => m + e.pairs.length, 0), 0),
    textsWithPairs: stoppedEarly
      ? 0
      : previous.reduce((n, chain) => n + chain.filter((e) => e.pairs.length > 0).length, 0),
    promptTokens: records.reduce((a, x) => a + (x.promptTokens ?? 0), 0),
    completionTokens: records.reduce((a, x) => a + (x.completionTokens ?? 0), 0),
  };
  const sessionOut = {
    ...session,
    tokensPerSecond: session.seconds > 0 ? session.completionTokens / session.seconds : 0,
    textsPerSecond: session.seconds > 0 ? session.texts / session.seconds : 0,
  };
  if (stoppedEarly) return { outDir, chains: [], rounds: results, complete: false, totals, session: sessionOut };

  writeFileAtomic(join(outDir, 'chains.jsonl'), previous.map((c) => JSON.stringify(c) + '\n').join(''));
  await writeManifest(outDir, {
    command: options.command ?? ['synthesize'],
    config: { ...run, parallelBatches: parallel, engine: engine.name, resumed },
    seeds: { sampling: run.seed },
    inputs: [...(options.inputs ?? []), { name: 'texts', source: 'memory', sha256: identity.texts.sha256 }],
    outputs: ['run.json', ...slices.map((_, r) => `round-${r + 1}.jsonl`), 'chains.jsonl'],
    startedAt,
    totals: {
      ...totals,
      sessionBatches: sessionOut.batches,
      sessionTexts: sessionOut.texts,
      sessionCompletionTokens: sessionOut.completionTokens,
      sessionTokensPerSecond: round2(sessionOut.tokensPerSecond),
      sessionTextsPerSecond: round2(sessionOut.textsPerSecond),
      resumedTexts: sessionOut.resumedTexts,
    },
    timings: { synthesisSeconds: round2(sessionOut.seconds) },
    notes: [
      'round-<r>.jsonl: one record per text; chains.jsonl: the final chains (input of the templates stage)',
      'totals cover the whole run; session* figures cover this process only (a resumed run adds sessions)',
    ],
  });
  return { outDir, chains: previous, rounds: results, complete: true, totals, session: sessionOut };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Runs `work` over `ids` with at most `limit` in flight. On a failure it starts nothing new, lets
 * what is running finish (their results are saved), then throws the first error. Returns true when
 * `stop()` asked to end early.
 */
async function runPool(
  ids: number[],
  limit: number,
  work: (id: number) => Promise<void>,
  stop: () => boolean,
): Promise<boolean> {
  let next = 0;
  let failure: unknown;
  let stopped = false;
  const worker = async () => {
    while (failure === undefined && next < ids.length) {
      if (stop()) {
        stopped = true;
        return;
      }
      const id = ids[next++];
      try {
        await work(id);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, ids.length) }, worker));
  if (failure !== undefined) throw failure;
  return stopped;
}
