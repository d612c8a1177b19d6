// The ablation run: the paper's experiment at laptop size, as a chain of cached stages in one run
// folder. Stages (each in stages/<name>-<hash>/, reused when their inputs are unchanged, resumed when
// a run was killed inside them):
//
//   split -> tokenizer, benchmarks, collection
//   collection -> tiny-synthesizer (fine-tuned, exported to ONNX) -> synthesize (rules / tiny, M rounds)
//   -> measure-<synthesizer> (quality and task coverage of its pairs)
//   -> corpus-<arm> -> pretrain-<arm>-s<seed> -> eval -> (domain continual pre-training, instruction
//   tuning along the way) -> results, report (outputs.ts renders the records; it computes nothing slow)
//
// runStages is a list of steps over one typed record (AblationRecords, records.ts): a new experiment
// in the same run adds its stages with the same `stage` helper and its records beside these.
//
// Every arm trains for the same number of tokens (steps x batch x context). The run folder ends with
// results/ (JSON, CSV), report.html, corpora.json (for `ipt export`) and manifest.json.

import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Context } from '../corpus/chunk.js';
import { loadBrown } from '../corpus/brown.js';
import {
  readTokenizerFiles,
  tinyTokenizerFiles,
  tokenizerFromFiles,
  loadTokenizer,
  TINY_BASE_VOCAB,
  type TokenizerFiles,
} from '../engine/tokenizer.js';
import { gptTensorSpecs, type GPTWeights } from '../engine/gpt.js';
import { evaluate, type EvalResults } from '../eval/harness.js';
import { writeFileAtomic } from '../repro/files.js';
import { readJsonl, readStageJson, writeJsonl } from './stage-files.js';
import { writeManifest } from '../repro/manifest.js';
import { type ProgressMode } from '../repro/progress.js';
import { runStage, type StageOutcome, type StageContext } from '../repro/stages.js';
import { buildSynthesizerCollection, type SynthesizerExample } from '../synth/collection.js';
import { synthesize } from '../synth/driver.js';
import type { Chain } from '../synth/format.js';
import { minePairs, ruleSynthesizer, RULES_VERSION } from '../synth/rules.js';
import { BpeEncoder, trainBpeMerges } from '../train/bpe.js';
import type { TrainingDocument } from '../train/data.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import { exportModel, loadModelFolder } from '../train/export.js';
import { trainRun, readMetrics } from '../train/run.js';
import { readSafetensors } from '../train/safetensors.js';
import type { CompletionEngine } from '../engine/completion.js';
import { computeCoverage } from '../tasks/coverage.js';
import { createClassifier } from '../tasks/classify.js';
import { pairSetFromChains } from '../tasks/input.js';
import { measureSynthesizer } from '../synth/quality.js';
import {
  buildBenchmarks,
  majorityShare,
  primaryMetric,
  type BenchmarkGroup,
  type BenchmarkTask,
  type SkippedBenchmark,
} from './benchmarks.js';
import { writeOutputs } from './outputs.js';
import { chanceLevel } from '../eval/tasks.js';
import type {
  AblationRecords,
  BenchmarksSummary,
  CollectionSummary,
  CorpusResult,
  ModelScores,
  SplitSummary,
  StageTiming,
  SynthesisSummary,
  SynthesizerMeasure,
  TinySynthesizerSummary,
  TokenizerSummary,
  TrainStageResult,
} from './records.js';
import type { AblationConfig, Arm } from './config.js';
import {
  augmentSelection,
  instructTexts,
  instructionTexts,
  instructionTuningDocuments,
  mixByTokens,
  mixTexts,
  shuffledTexts,
  textDocuments,
} from './corpora.js';
import { makeSplits, PARTS, type Part } from './splits.js';
import { trainTinySynthesizer, openTinySynthesizer } from '../train/tiny-synthesizer.js';
import { measureTinySynthesizer } from '../synth/tiny-measure.js';
import { runControlled, type StageRunner } from './controlled.js';
import { computeControlledResults } from './controlled-results.js';
import { controlledReportSections } from './controlled-report.js';

export type AblationOptions = {
  config: AblationConfig;
  outDir: string;
  /** Kernel threads for training and evaluation (default: the number of cores). */
  threads?: number;
  progress?: ProgressMode;
  /** Where stage headings go (default: stderr). */
  log?: (line: string) => void;
  command?: string[];
  /** Stop after this many stages have run in this session (for resume demonstrations and tests). */
  stopAfterStages?: number;
};

export type { AblationRecords, ModelScores } from './records.js';

export type AblationOutcome = {
  outDir: string;
  complete: boolean;
  stages: StageTiming[];
};

type Ctx = {
  config: AblationConfig;
  outDir: string;
  cacheDir: string;
  threads?: number;
  progress?: ProgressMode;
  log: (line: string) => void;
  stages: AblationOutcome['stages'];
  ran: number;
  stopAfter: number;
};

class StopRequested extends Error {}

async function stage<T>(
  ctx: Ctx,
  name: string,
  version: number,
  key: unknown,
  run: (s: StageContext) => Promise<T>,
): Promise<StageOutcome<T>> {
  const n = ctx.stages.length + 1;
  const started = performance.now();
  const outcome = await runStage(ctx.cacheDir, {
    name,
    version,
    key,
    run: async (s) => {
      if (ctx.ran >= ctx.stopAfter) throw new StopRequested(name);
      ctx.log(`[${n}] ${name}${s.resuming ? ' (resuming)' : ''}`);
      const r = await run(s);
      ctx.ran++;
      return r;
    },
  });
  if (outcome.cached) ctx.log(`[${n}] ${name}: cached`);
  ctx.stages.push({
    name,
    cached: outcome.cached,
    seconds: (performance.now() - started) / 1000,
    dir: relative(ctx.outDir, outcome.dir),
  });
  return outcome;
}

// ------------------------------------------------------------------------------------------ files

function readTokenizerFolder(dir: string): TokenizerFiles {
  const files = readTokenizerFiles(dir);
  if (!files) throw new Error(`no tokenizer.json in ${dir}: the stage folder is incomplete; delete it and run again`);
  return files;
}

function bpeCounter(files: TokenizerFiles): (s: string) => number {
  const merges = (files.tokenizerJson.model as { merges: Array<[string, string]> }).merges;
  const enc = new BpeEncoder(merges);
  return (s) => enc.encode(s).length;
}

// ------------------------------------------------------------------------------------------ stages

async function splitStage(ctx: Ctx): Promise<StageOutcome<SplitSummary>> {
  const { config } = ctx;
  const brown = loadBrown();
  const key = { corpus: config.corpus, seed: config.seed, brown: brown.length };
  return stage(ctx, 'split', 1, key, async ({ dir }) => {
    const s = makeSplits(config, brown);
    for (const p of PARTS) writeJsonl(join(dir, `contexts.${p}.jsonl`), s.contexts[p]);
    writeFileAtomic(
      join(dir, 'splits.json'),
      JSON.stringify({ documents: s.documents, input: s.input }, null, 2) + '\n',
    );
    return {
      documents: Object.fromEntries(PARTS.map((p) => [p, s.documents[p].length])) as Record<Part, number>,
      contexts: Object.fromEntries(PARTS.map((p) => [p, s.contexts[p].length])) as Record<Part, number>,
      input: s.input,
    };
  });
}

function contextsOf(splitDir: string, part: Part): Context[] {
  return readJsonl<Context>(join(splitDir, `contexts.${part}.jsonl`));
}

async function tokenizerStage(ctx: Ctx, split: StageOutcome<SplitSummary>): Promise<StageOutcome<TokenizerSummary>> {
  const { vocabSize } = ctx.config.tokenizer;
  const contextLength = Math.max(
    ctx.config.pretrain.model.contextLength ?? 128,
    ctx.config.synthesis.tiny.model.contextLength ?? 128,
  );
  return stage(ctx, 'tokenizer', 1, { split: split.record.keyHash, vocabSize, contextLength }, async ({ dir }) => {
    const texts = contextsOf(split.dir, 'pretrain').map((c) => c.text);
    const merges = trainBpeMerges(texts, vocabSize - TINY_BASE_VOCAB);
    const files = tinyTokenizerFiles({ merges, modelMaxLength: contextLength });
    writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
    writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
    return { merges: merges.length, vocabSize: tokenizerFromFiles(files).vocabSize };
  });
}

/** Which groups a pre-trained arm is scored on: the configured ones, and for vanilla also the in-distribution check and the domain baseline. */
function groupsFor(config: AblationConfig, arm: Arm): BenchmarkGroup[] {
  const extra: BenchmarkGroup[] = arm.kind === 'vanilla' ? ['seen', 'domain'] : [];
  return [...new Set([...config.eval.groups, ...extra])];
}

async function benchmarksStage(ctx: Ctx, split: StageOutcome<SplitSummary>): Promise<StageOutcome<BenchmarksSummary>> {
  const { config } = ctx;
  const key = {
    split: split.record.keyHash,
    eval: { ...config.eval, batchSize: null },
    seed: config.seed,
    rules: RULES_VERSION,
    maxSentenceChars: config.synthesis.maxSentenceChars,
  };
  return stage(ctx, 'benchmarks', 2, key, async ({ dir }) => {
    const common = {
      seed: config.seed,
      kinds: config.eval.kinds,
      examplesPerTask: config.eval.examplesPerTask,
      maxSentenceChars: config.synthesis.maxSentenceChars,
    };
    const wanted = new Set<BenchmarkGroup>([...config.eval.groups, 'seen', 'domain']);
    const parts: Array<[BenchmarkGroup, Part, number[]]> = [
      ['general', 'eval', config.eval.shots],
      ['seen', 'pretrain', [0]],
      ['heldout-genre', 'heldOutGenre', [0]],
      ['domain', 'domainEval', [0]],
    ];
    const tasks: BenchmarkTask[] = [];
    const skipped: SkippedBenchmark[] = [];
    for (const [group, part, shots] of parts) {
      if (!wanted.has(group)) continue;
      const built = buildBenchmarks(contextsOf(split.dir, part), group, { ...common, shots });
      tasks.push(...built.tasks);
      skipped.push(...built.skipped);
    }
    writeFileAtomic(join(dir, 'tasks.json'), JSON.stringify(tasks) + '\n');
    return {
      tasks: tasks.length,
      examples: tasks.reduce((n, t) => n + t.examples.length, 0),
      names: tasks.map((t) => t.name),
      skipped,
    };
  });
}

async function collectionStage(ctx: Ctx, split: StageOutcome<SplitSummary>): Promise<StageOutcome<CollectionSummary>> {
  const { config } = ctx;
  const key = {
    split: split.record.keyHash,
    seed: config.seed,
    collection: config.synthesis.collection,
    chars: config.synthesis.maxSentenceChars,
    bytes: config.corpus.contextBytes,
    rules: RULES_VERSION,
  };
  return stage(ctx, 'collection', 1, key, async ({ dir }) => {
    const ids = new Set(
      readStageJson<{ documents: Record<Part, string[]> }>(join(split.dir, 'splits.json')).documents.synthesizer,
    );
    const docs = loadBrown().filter((d) => ids.has(d.id));
    const collection = buildSynthesizerCollection(docs, {
      seed: config.seed,
      pairsPerText: config.synthesis.collection.pairsPerText,
      minPairs: config.synthesis.collection.pairsPerText,
      useGenre: config.synthesis.collection.useGenre,
      kinds: config.synthesis.collection.kinds,
      weights: config.synthesis.collection.weights,
      maxSentenceChars: config.synthesis.maxSentenceChars,
      chunk: { maxTokens: config.corpus.contextBytes },
    });
    writeJsonl(join(dir, 'collection.jsonl'), collection);
    return {
      examples: collection.length,
      pairs: collection.reduce((n, e) => n + e.pairs.length, 0),
      sources: ids.size,
    };
  });
}

/** The texts instruct arms augment: a seeded share of the pre-training contexts, the same for every synthesizer. */
function augmentedTexts(splitDir: string, config: AblationConfig): { augmented: Context[]; raw: Context[] } {
  return augmentSelection(contextsOf(splitDir, 'pretrain'), config.synthesis.augmentShare, config.seed);
}

async function rulesSynthesisStage(
  ctx: Ctx,
  split: StageOutcome<SplitSummary>,
  texts: 'pretrain' | 'domain',
  rounds: number,
): Promise<StageOutcome<SynthesisSummary>> {
  const { config } = ctx;
  const key = {
    split: split.record.keyHash,
    texts,
    rounds,
    share: config.synthesis.augmentShare,
    seed: config.seed,
    pairs: config.synthesis.pairsPerText,
    chars: config.synthesis.maxSentenceChars,
    rules: RULES_VERSION,
  };
  return stage(ctx, `synth-rules-${texts}-m${rounds}`, 1, key, async ({ dir }) => {
    const contexts =
      texts === 'pretrain' ? augmentedTexts(split.dir, config).augmented : contextsOf(split.dir, 'domainTrain');
    const genre = new Map(contexts.map((c) => [c.text, c.genre]));
    const engine = ruleSynthesizer({
      seed: config.seed,
      maxPairs: config.synthesis.pairsPerText,
      maxSentenceChars: config.synthesis.maxSentenceChars,
      genreOf: (t) => genre.get(t),
    });
    return synthesisSummary(
      await synthesize({
        texts: contexts.map((c) => c.text),
        engine,
        outDir: dir,
        rounds,
        batchSize: 64,
        progress: ctx.progress,
      }),
    );
  });
}

function synthesisSummary(r: Awaited<ReturnType<typeof synthesize>>): SynthesisSummary {
  return {
    ...r.totals,
    seconds: r.session.seconds,
    tokensPerSecond: r.session.tokensPerSecond,
    textsPerSecond: r.session.textsPerSecond,
  };
}

function readChains(dir: string): Chain[] {
  return readJsonl<Chain | { chain: Chain }>(join(dir, 'chains.jsonl')).map((l) => (Array.isArray(l) ? l : l.chain));
}

async function tinySynthesizerStage(
  ctx: Ctx,
  collection: StageOutcome<CollectionSummary>,
  tokenizer: StageOutcome<TokenizerSummary>,
): Promise<StageOutcome<TinySynthesizerSummary>> {
  const { config } = ctx;
  const tiny = config.synthesis.tiny;
  const key = {
    collection: collection.record.keyHash,
    tokenizer: tokenizer.record.keyHash,
    model: tiny.model,
    train: tiny.train,
    seed: config.seed,
  };
  return stage(ctx, 'tiny-synthesizer', 1, key, async ({ dir }) => {
    const r = await trainTinySynthesizer({
      outDir: join(dir, 'run'),
      collection: readJsonl<SynthesizerExample>(join(collection.dir, 'collection.jsonl')),
      tokenizer: readTokenizerFolder(tokenizer.dir),
      model: { ...tiny.model, vocabSize: config.tokenizer.vocabSize },
      train: tiny.train,
      seed: config.seed,
      threads: ctx.threads,
      progress: ctx.progress,
    });
    return {
      modelDir: relative(dir, r.modelDir),
      finalLoss: r.result.lastLoss ?? null,
      finalValLoss: r.result.lastValLoss ?? null,
      tokensPerSecond: r.result.tokensPerSecond ?? null,
      data: r.data,
    };
  });
}

function tinyModelDir(stageOutcome: StageOutcome<{ modelDir: string }>): string {
  return join(stageOutcome.dir, stageOutcome.result.modelDir);
}

async function tinySynthesisStage(
  ctx: Ctx,
  split: StageOutcome<SplitSummary>,
  model: StageOutcome<TinySynthesizerSummary>,
  rounds: number,
): Promise<StageOutcome<SynthesisSummary>> {
  const { config } = ctx;
  const tiny = config.synthesis.tiny;
  const key = {
    split: split.record.keyHash,
    model: model.record.keyHash,
    rounds,
    share: config.synthesis.augmentShare,
    seed: config.seed,
    maxNewTokens: tiny.maxNewTokens,
    temperature: tiny.temperature,
    topP: tiny.topP,
  };
  return stage(ctx, `synth-tiny-pretrain-m${rounds}`, 1, key, async ({ dir }) => {
    const engine = await openTinySynthesizer(tinyModelDir(model), { threads: ctx.threads });
    try {
      const texts = augmentedTexts(split.dir, config).augmented.map((c) => c.text);
      const contextLength =
        (engine as CompletionEngine & { contextLength?: number }).contextLength ?? tiny.model.contextLength ?? 512;
      return synthesisSummary(
        await synthesize({
          texts,
          engine,
          outDir: dir,
          rounds,
          maxModelLen: contextLength,
          maxNewTokens: tiny.maxNewTokens,
          temperature: tiny.temperature,
          topP: tiny.topP,
          seed: config.seed,
          batchSize: tiny.batchSize,
          progress: ctx.progress,
        }),
      );
    } finally {
      await engine.close?.();
    }
  });
}

async function tinyQualityStage(
  ctx: Ctx,
  split: StageOutcome<SplitSummary>,
  model: StageOutcome<TinySynthesizerSummary>,
) {
  const { config } = ctx;
  const tiny = config.synthesis.tiny;
  const key = {
    split: split.record.keyHash,
    model: model.record.keyHash,
    n: tiny.measureTexts,
    maxNewTokens: tiny.maxNewTokens,
    temperature: tiny.temperature,
    topP: tiny.topP,
    seed: config.seed,
  };
  return stage(ctx, 'tiny-quality', 1, key, async ({ dir }) => {
    const heldOut = contextsOf(split.dir, 'eval')
      .slice(0, tiny.measureTexts)
      .map((c) => ({ context: c.text, genre: c.genre }));
    const engine = await openTinySynthesizer(tinyModelDir(model), { threads: ctx.threads });
    try {
      // references: what the rules mine from the same texts, as the collection the synthesizer learned from was mined
      const references = heldOut.map((h) =>
        minePairs(h.context, {
          seed: config.seed,
          genre: config.synthesis.collection.useGenre ? h.genre : undefined,
          maxPairs: config.synthesis.collection.pairsPerText,
          minPairs: config.synthesis.collection.pairsPerText,
          kinds: config.synthesis.collection.kinds,
          weights: config.synthesis.collection.weights,
          maxSentenceChars: config.synthesis.maxSentenceChars,
        }),
      );
      const quality = await measureTinySynthesizer({
        engine,
        heldOut,
        references,
        maxNewTokens: tiny.maxNewTokens,
        temperature: tiny.temperature,
        topP: tiny.topP,
        seed: config.seed,
        batchSize: tiny.batchSize,
        outDir: join(dir, 'measure'),
        progress: ctx.progress,
      });
      writeFileAtomic(join(dir, 'quality.json'), JSON.stringify(quality, null, 2) + '\n');
      return quality;
    } finally {
      await engine.close?.();
    }
  });
}

/** Quality and task coverage of the pairs a synthesizer wrote, computed once and cached beside its chains. */
async function measureStage(
  ctx: Ctx,
  name: string,
  synthesis: StageOutcome<SynthesisSummary>,
): Promise<StageOutcome<SynthesizerMeasure>> {
  return stage(ctx, `measure-${name}`, 1, { synthesis: synthesis.record.keyHash }, async () => {
    const chains = readChains(synthesis.dir);
    const quality = measureSynthesizer(chains.flat().map((e) => ({ context: e.context, pairs: e.pairs })));
    const { labels: _labels, ...coverage } = computeCoverage(pairSetFromChains(name, chains), {
      classifier: createClassifier(),
      examplesPerCategory: 1,
    });
    void _labels;
    return { quality, coverage };
  });
}

async function corpusStage(
  ctx: Ctx,
  name: string,
  key: unknown,
  tokenizer: StageOutcome<TokenizerSummary>,
  build: () => TrainingDocument[],
): Promise<StageOutcome<CorpusResult>> {
  return stage(ctx, `corpus-${name}`, 1, { key, tokenizer: tokenizer.record.keyHash }, async ({ dir }) => {
    const docs = build();
    const count = bpeCounter(readTokenizerFolder(tokenizer.dir));
    let tokens = 0;
    let bytes = 0;
    for (const d of docs) {
      if (!('segments' in d)) continue;
      for (const s of d.segments) {
        tokens += count(s.text);
        bytes += Buffer.byteLength(s.text);
      }
    }
    writeJsonl(
      join(dir, 'train.jsonl'),
      docs.map((d) =>
        'segments' in d && d.segments.length === 1 && d.segments[0].train ? { text: d.segments[0].text } : d,
      ),
    );
    return { documents: docs.length, tokens, bytes, file: 'train.jsonl' } satisfies CorpusResult;
  });
}

function readCorpus(outcome: StageOutcome<CorpusResult>): TrainingDocument[] {
  return readJsonl<{ text: string } | TrainingDocument>(join(outcome.dir, outcome.result.file)).map((r) =>
    'text' in r ? { segments: [{ text: r.text, train: true }] } : r,
  );
}

async function trainStage(
  ctx: Ctx,
  name: string,
  corpus: StageOutcome<CorpusResult>,
  tokenizer: StageOutcome<TokenizerSummary>,
  validation: TrainingDocument[],
  options: {
    model: AblationConfig['pretrain']['model'];
    train: AblationConfig['pretrain']['train'];
    seed: number;
    init?: StageOutcome<TrainStageResult>;
  },
) {
  const { config } = ctx;
  const model = { ...options.model, vocabSize: config.tokenizer.vocabSize };
  const train = { ...options.train, seed: options.seed };
  const key = {
    corpus: corpus.record.keyHash,
    tokenizer: tokenizer.record.keyHash,
    model,
    train,
    init: options.init?.record.keyHash ?? null,
  };
  return stage(ctx, name, 1, key, async ({ dir }) => {
    const started = performance.now();
    const r = await trainRun({
      outDir: join(dir, 'run'),
      config: { model, train },
      data: { name: corpus.record.name, documents: readCorpus(corpus), validation },
      tokenizer: readTokenizerFolder(tokenizer.dir),
      initFrom: options.init ? join(options.init.dir, options.init.result.modelDir) : undefined,
      threads: ctx.threads,
      progress: ctx.progress,
      log: (line) => ctx.log(`${name}: ${line}`),
      command: ['ipt', 'ablate', `(${name})`],
    });
    if (!r.finished || !r.modelDir) throw new Error(`${name}: the training run did not finish`);
    return {
      modelDir: relative(dir, r.modelDir),
      steps: r.step,
      tokens: r.step * train.batchSize! * model.contextLength!,
      finalLoss: r.lastLoss ?? null,
      finalValLoss: r.lastValLoss ?? null,
      tokensPerSecond: r.tokensPerSecond ?? null,
      seconds: (performance.now() - started) / 1000,
    } satisfies TrainStageResult;
  });
}

function scoresOf(results: EvalResults, tasks: BenchmarkTask[]): ModelScores {
  const scores: Record<string, number> = {};
  const metrics: Record<string, Record<string, number>> = {};
  const items: Record<string, number[]> = {};
  for (const t of tasks) {
    const r = results.results[t.name];
    if (!r) continue;
    metrics[t.name] = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, v.value]));
    scores[t.name] = r.metrics[primaryMetric(t)].value;
    items[t.name] = r.perItem[primaryMetric(t)];
  }
  return { scores, metrics, items };
}

/** Scores a model folder through ONNX Runtime: the same scores as in-process, and a KV cache for generation tasks. */
async function evaluateModel(ctx: Ctx, modelDir: string, tasks: BenchmarkTask[]): Promise<ModelScores> {
  const model = await OnnxCausalLM.load(modelDir, { threads: ctx.threads });
  try {
    const results = await evaluate(model, loadTokenizer(modelDir), tasks, {
      shots: 0,
      seed: ctx.config.seed,
      batchSize: ctx.config.eval.batchSize,
      progress: ctx.progress,
    });
    return scoresOf(results, tasks);
  } finally {
    await model.close();
  }
}

async function evalStage(
  ctx: Ctx,
  name: string,
  model: StageOutcome<TrainStageResult>,
  benchmarks: StageOutcome<BenchmarksSummary>,
  groups: BenchmarkGroup[],
  shots?: number[],
): Promise<StageOutcome<ModelScores>> {
  const key = {
    model: model.record.keyHash,
    benchmarks: benchmarks.record.keyHash,
    groups,
    shots: shots ?? null,
    batch: ctx.config.eval.batchSize,
  };
  return stage(ctx, name, 3, key, async ({ dir }) => {
    const tasks = selectTasks(benchmarks, groups, shots);
    const scores = await evaluateModel(ctx, join(model.dir, model.result.modelDir), tasks);
    writeFileAtomic(join(dir, 'scores.json'), JSON.stringify(scores, null, 2) + '\n');
    return scores;
  });
}

function selectTasks(
  benchmarks: StageOutcome<BenchmarksSummary>,
  groups: BenchmarkGroup[],
  shots?: number[],
): BenchmarkTask[] {
  const all = readStageJson<BenchmarkTask[]>(join(benchmarks.dir, 'tasks.json'));
  return all.filter((t) => groups.includes(t.group) && (!shots || shots.includes(t.shots)));
}

/** Scores of an instruction-tuning run at each kept checkpoint (the curve along the way). */
async function tuningCurveStage(
  ctx: Ctx,
  name: string,
  run: StageOutcome<TrainStageResult>,
  benchmarks: StageOutcome<BenchmarksSummary>,
): Promise<StageOutcome<{ points: Array<{ step: number } & ModelScores> }>> {
  const key = { run: run.record.keyHash, benchmarks: benchmarks.record.keyHash, batch: ctx.config.eval.batchSize };
  return stage(ctx, name, 3, key, async ({ dir }) => {
    const tasks = selectTasks(benchmarks, ['general'], [0]);
    const modelDir = join(run.dir, run.result.modelDir);
    const ckptDir = join(run.dir, 'run', 'checkpoints');
    const cfg = loadModelFolder(modelDir).cfg;
    const points: Array<{ step: number } & ModelScores> = [];
    const done = existsSync(join(dir, 'curve.jsonl'))
      ? readJsonl<{ step: number } & ModelScores>(join(dir, 'curve.jsonl'))
      : [];
    const files = readdirSync(ckptDir)
      .filter((f) => /^step-\d{8}\.safetensors$/.test(f))
      .sort();
    for (const f of files) {
      const step = Number(f.slice(5, 13));
      const cached = done.find((p) => p.step === step);
      if (cached) {
        points.push(cached);
        continue;
      }
      const ckpt = readSafetensors(join(ckptDir, f));
      const weights: GPTWeights = {};
      for (const s of gptTensorSpecs(cfg)) weights[s.name] = ckpt.tensors[s.name].data as Float32Array;
      const at = join(dir, `step-${String(step).padStart(8, '0')}`);
      exportModel(at, { cfg, weights, tokenizer: readTokenizerFolder(modelDir) });
      points.push({ step, ...(await evaluateModel(ctx, at, tasks)) });
      writeJsonl(join(dir, 'curve.jsonl'), points); // each point is kept as soon as it is measured
    }
    return { points };
  });
}

// ------------------------------------------------------------------------------------------ the run

export async function runAblation(
  options: AblationOptions,
): Promise<{ outcome: AblationOutcome; records?: AblationRecords }> {
  const { config, outDir } = options;
  const startedAt = new Date();
  const ctx: Ctx = {
    config,
    outDir,
    cacheDir: join(outDir, 'stages'),
    threads: options.threads,
    progress: options.progress,
    log: options.log ?? ((line) => process.stderr.write(line + '\n')),
    stages: [],
    ran: 0,
    stopAfter: options.stopAfterStages ?? Infinity,
  };
  mkdirSync(outDir, { recursive: true });
  // config.json says what the folder's results are from: a finished run's stays until another run finishes
  const writeConfig = () => writeFileAtomic(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  if (!existsSync(join(outDir, 'manifest.json'))) writeConfig();
  try {
    const records = await runStages(ctx);
    const controlled = records.controlled
      ? { results: computeControlledResults(records.controlled), records: records.controlled }
      : undefined;
    const files = await writeOutputs(outDir, records, ctx.stages, {
      headline: controlled ? controlledReportSections(controlled.results, controlled.records) : [],
    });
    writeConfig();
    await writeManifest(outDir, {
      command: options.command ?? ['ipt', 'ablate'],
      config,
      seeds: Object.fromEntries([['master', config.seed], ...config.seeds.map((s) => [`pretrain-${s}`, s])]),
      inputs: [records.split.input],
      outputs: files,
      startedAt,
      timings: Object.fromEntries(ctx.stages.map((s) => [s.name, Number(s.seconds.toFixed(2))])),
      totals: {
        stages: ctx.stages.length,
        stagesRun: ctx.stages.filter((s) => !s.cached).length,
        trainingRuns: records.pretrain.length + records.domain.length + records.tuning.length,
      },
    });
    return { outcome: { outDir, complete: true, stages: ctx.stages }, records };
  } catch (err) {
    if (err instanceof StopRequested) return { outcome: { outDir, complete: false, stages: ctx.stages } };
    throw err;
  }
}

async function runStages(ctx: Ctx): Promise<AblationRecords> {
  const { config } = ctx;
  const split = await splitStage(ctx);
  const tokenizer = await tokenizerStage(ctx, split);
  const benchmarks = await benchmarksStage(ctx, split);
  const collection = await collectionStage(ctx, split);
  const validation = textDocuments(contextsOf(split.dir, 'eval').map((c) => c.text));
  const collectionRows = () => readJsonl<SynthesizerExample>(join(collection.dir, 'collection.jsonl'));

  // synthesis: each (synthesizer, rounds) the arms need, over the same augmented texts
  const chainsBy = new Map<string, StageOutcome<SynthesisSummary>>();
  const needs = (a: Arm) => `${a.synthesizer}-m${a.rounds}`;
  const tinyNeeded =
    config.arms.some((a) => a.kind === 'instruct' && a.synthesizer === 'tiny') || config.domain.synthesizer === 'tiny';
  const tinyModel = tinyNeeded ? await tinySynthesizerStage(ctx, collection, tokenizer) : undefined;
  const tinyQuality = tinyModel ? await tinyQualityStage(ctx, split, tinyModel) : undefined;
  for (const arm of config.arms.filter((a) => a.kind === 'instruct')) {
    if (chainsBy.has(needs(arm))) continue;
    const s =
      arm.synthesizer === 'rules'
        ? await rulesSynthesisStage(ctx, split, 'pretrain', arm.rounds!)
        : await tinySynthesisStage(ctx, split, tinyModel!, arm.rounds!);
    chainsBy.set(needs(arm), s);
  }
  const synthesizers: AblationRecords['synthesizers'] = {};
  for (const [name, s] of chainsBy) synthesizers[name] = (await measureStage(ctx, name, s)).result;

  // the arms' corpora
  const pretrainContexts = () => contextsOf(split.dir, 'pretrain');
  const corpora: AblationRecords['corpora'] = {};
  const corpusOf = new Map<string, StageOutcome<CorpusResult>>();
  for (const arm of config.arms) {
    const synth = arm.kind === 'instruct' ? chainsBy.get(needs(arm))! : undefined;
    const key = {
      arm: { kind: arm.kind, synthesizer: arm.synthesizer ?? null, rounds: arm.rounds ?? null },
      split: split.record.keyHash,
      synth: synth?.record.keyHash ?? null,
      collection: arm.kind === 'mix' ? collection.record.keyHash : null,
      seed: config.seed,
      share: config.synthesis.augmentShare,
    };
    const c = await corpusStage(ctx, arm.name, key, tokenizer, () => {
      if (arm.kind === 'vanilla')
        return textDocuments(
          shuffledTexts(
            pretrainContexts().map((x) => x.text),
            config.seed,
            arm.name,
          ),
        );
      if (arm.kind === 'mix')
        return textDocuments(
          mixTexts(
            pretrainContexts(),
            collectionRows(),
            config.seed,
            augmentedTexts(split.dir, config).augmented.length,
          ),
        );
      const { raw } = augmentedTexts(split.dir, config);
      return textDocuments(instructTexts(raw, readChains(synth!.dir), config.seed, arm.name));
    });
    corpusOf.set(arm.name, c);
    corpora[arm.name] = { ...c.result, dir: relative(ctx.outDir, c.dir), description: arm.description };
  }

  // pre-training and evaluation: every arm, every seed, the same token budget
  const pretrain: AblationRecords['pretrain'] = [];
  const models = new Map<string, StageOutcome<TrainStageResult>>();
  for (const seed of config.seeds) {
    for (const arm of config.arms) {
      const run = await trainStage(
        ctx,
        `pretrain-${arm.name}-s${seed}`,
        corpusOf.get(arm.name)!,
        tokenizer,
        validation,
        { ...config.pretrain, seed },
      );
      models.set(`${arm.name}/${seed}`, run);
      const scores = await evalStage(ctx, `eval-${arm.name}-s${seed}`, run, benchmarks, groupsFor(config, arm));
      pretrain.push({
        arm: arm.name,
        seed,
        train: run.result,
        scores: scores.result,
        curve: readMetrics(join(run.dir, 'run')),
      });
    }
  }

  // domain-adaptive continual pre-training from the vanilla model: raw vs instruction-augmented domain texts,
  // each mixed with general instructions by tokens
  const domain: AblationRecords['domain'] = [];
  const vanilla = config.arms.find((a) => a.kind === 'vanilla')!;
  const domainChains = await rulesOrTinyDomainSynthesis(ctx, split, tinyModel);
  const countTokens = bpeCounter(readTokenizerFolder(tokenizer.dir));
  const instructions = () => instructionTexts(collectionRows(), config.seed);
  for (const variant of ['raw', 'instruct'] as const) {
    const key = {
      variant,
      split: split.record.keyHash,
      synth: variant === 'instruct' ? domainChains.record.keyHash : null,
      collection: collection.record.keyHash,
      share: config.domain.instructionShare,
      seed: config.seed,
    };
    const c = await corpusStage(ctx, `domain-${variant}`, key, tokenizer, () => {
      const domainTexts =
        variant === 'raw'
          ? contextsOf(split.dir, 'domainTrain').map((x) => x.text)
          : instructTexts([], readChains(domainChains.dir), config.seed, 'domain');
      return textDocuments(
        mixByTokens(
          domainTexts,
          instructions(),
          config.domain.instructionShare,
          countTokens,
          config.seed,
          `domain-${variant}`,
        ),
      );
    });
    corpora[`domain-${variant}`] = {
      ...c.result,
      dir: relative(ctx.outDir, c.dir),
      description: `Domain-adaptive continual pre-training on ${config.corpus.domainGenres.join(', ')}: ${variant === 'raw' ? 'raw' : 'instruction-augmented'} domain texts mixed with general instructions`,
    };
    for (const seed of config.seeds) {
      const base = models.get(`${vanilla.name}/${seed}`)!;
      const run = await trainStage(ctx, `domain-${variant}-s${seed}`, c, tokenizer, validation, {
        model: config.pretrain.model,
        train: config.domain.train,
        seed,
        init: base,
      });
      const scores = await evalStage(
        ctx,
        `eval-domain-${variant}-s${seed}`,
        run,
        benchmarks,
        ['domain', 'general'],
        [0],
      );
      domain.push({ variant, seed, train: run.result, scores: scores.result });
    }
  }

  // instruction tuning after pre-training, evaluated along the way
  const tuning: AblationRecords['tuning'] = [];
  const itCorpus = config.instructionTuning.arms.length
    ? await corpusStage(ctx, 'instruction-tuning', { collection: collection.record.keyHash }, tokenizer, () =>
        instructionTuningDocuments(collectionRows()),
      )
    : undefined;
  if (itCorpus)
    corpora['instruction-tuning'] = {
      ...itCorpus.result,
      dir: relative(ctx.outDir, itCorpus.dir),
      description: 'Instruction tuning: questions about passages, loss on the answers',
    };
  for (const seed of itCorpus ? config.seeds : []) {
    for (const armName of config.instructionTuning.arms) {
      const base = models.get(`${armName}/${seed}`)!;
      const train = { ...config.instructionTuning.train, checkpointEvery: config.instructionTuning.evalEvery };
      const run = await trainStage(ctx, `tune-${armName}-s${seed}`, itCorpus!, tokenizer, [], {
        model: config.pretrain.model,
        train,
        seed,
        init: base,
      });
      const curve = await tuningCurveStage(ctx, `eval-tune-${armName}-s${seed}`, run, benchmarks);
      const start = pretrain.find((p) => p.arm === armName && p.seed === seed)!.scores;
      tuning.push({ arm: armName, seed, points: [{ step: 0, ...start }, ...curve.result.points] });
    }
  }

  // the controlled experiment: its own people, corpora, models and tests, in the same stage cache
  const runner: StageRunner = (name, version, key, run) => stage(ctx, name, version, key, run);
  const tinyFor = async () => {
    const t = (tinyModel ?? (await tinySynthesizerStage(ctx, collection, tokenizer))) as StageOutcome<{
      modelDir: string;
    }>;
    return { modelDir: tinyModelDir(t), keyHash: t.record.keyHash };
  };
  const controlled = config.controlled.enabled
    ? await runControlled({
        config: config.controlled,
        stage: runner,
        outDir: ctx.outDir,
        threads: ctx.threads,
        progress: ctx.progress,
        tinySynthesizer: tinyFor,
      })
    : null;

  const pairs: Record<string, Chain[]> = {};
  for (const [name, s] of chainsBy) pairs[name] = readChains(s.dir);
  const tasks = readStageJson<BenchmarkTask[]>(join(benchmarks.dir, 'tasks.json'));
  return {
    config,
    split: split.result,
    benchmarks: tasks.map((t) => ({
      name: t.name,
      group: t.group,
      kind: t.kind,
      shots: t.shots,
      type: t.type,
      examples: t.examples.length,
      chance: chanceLevel(t),
      majorityShare: majorityShare(t),
    })),
    skippedBenchmarks: benchmarks.result.skipped,
    collection: collection.result,
    synthesis: Object.fromEntries([...chainsBy].map(([k, s]) => [k, s.result])),
    synthesizers,
    tinyQuality: tinyQuality?.result ?? null,
    tokenizerDir: relative(ctx.outDir, tokenizer.dir),
    splitDir: relative(ctx.outDir, split.dir),
    corpora,
    pretrain,
    domain,
    tuning,
    pairs,
    controlled,
  };
}

async function rulesOrTinyDomainSynthesis(
  ctx: Ctx,
  split: StageOutcome<SplitSummary>,
  tinyModel: StageOutcome<TinySynthesizerSummary> | undefined,
): Promise<StageOutcome<SynthesisSummary>> {
  if (ctx.config.domain.synthesizer === 'rules' || !tinyModel) return rulesSynthesisStage(ctx, split, 'domain', 2);
  const { config } = ctx;
  const tiny = config.synthesis.tiny;
  const key = {
    split: split.record.keyHash,
    model: tinyModel.record.keyHash,
    seed: config.seed,
    maxNewTokens: tiny.maxNewTokens,
    temperature: tiny.temperature,
    topP: tiny.topP,
  };
  return stage(ctx, 'synth-tiny-domain-m2', 1, key, async ({ dir }) => {
    const engine = await openTinySynthesizer(tinyModelDir(tinyModel), { threads: ctx.threads });
    try {
      const texts = contextsOf(split.dir, 'domainTrain').map((c) => c.text);
      const contextLength =
        (engine as CompletionEngine & { contextLength?: number }).contextLength ?? tiny.model.contextLength ?? 512;
      return synthesisSummary(
        await synthesize({
          texts,
          engine,
          outDir: dir,
          rounds: 2,
          maxModelLen: contextLength,
          maxNewTokens: tiny.maxNewTokens,
          temperature: tiny.temperature,
          topP: tiny.topP,
          seed: config.seed,
          batchSize: tiny.batchSize,
          progress: ctx.progress,
        }),
      );
    } finally {
      await engine.close?.();
    }
  });
}
