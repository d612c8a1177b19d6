// The kit's tiny instruction synthesizer: a small GPT fine-tuned (lib/train) on the rule-mined
// collection (./collection.ts) in the exact synthesizer format, loss on the pairs only, few-shot
// style (several examples of one source per training sequence), exported to ONNX and run through
// lib/engine and the multi-round driver like any other synthesizer. Its quality is measured, not
// assumed: `measureTinySynthesizer` reports parse rate, pairs per text, answers found in the
// context and accuracy on held-out rule pairs, with quality.ts's definitions.
//
// Stages with plain-data inputs and outputs, each call in a run folder that resumes when killed:
//   tinySynthesizerData     collection -> few-shot training documents (segments with a loss flag)
//   trainTinySynthesizer    -> trainRun in outDir (resumes from its checkpoints) -> outDir/model (+ onnx/)
//   openTinySynthesizer     model folder -> CompletionEngine (ONNX Runtime, greedy unless asked)
//   measureTinySynthesizer  engine + held-out texts + rule references -> quality JSON (outDir resumes)
//
// Row alignment: the trainer packs documents end to end and cuts rows of contextLength tokens, so by
// default a sequence may start anywhere in a row and run into the next. With `align` each sequence
// is padded with <pad> (no loss) to contextLength - 1 tokens, so with the EOS the packer adds every
// row is exactly one sequence starting at position 0 with `<s>`, as the driver's prompts do (the
// last one gets one pad more so its row is complete). That wastes ~28% of the compute on pads and
// measured no better at equal steps (parse rate 45% aligned vs 96% packed at 200 steps), so it is
// off by default.

import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSynthesizerCollection, fewShotSequences, splitSources, type CollectionOptions, type SourceDocument, type SynthesizerExample, type TrainingSequence } from './collection.js';
import { cookRead, parseComprehension, type Pair } from './format.js';
import { answerReferenceQuestions, finalOf, measureSynthesizer, normalise, referenceAccuracy, tokenF1, type QualityReport, type ReferenceScore } from './quality.js';
import { ruleKindOfQuestion } from './rules.js';
import { synthesize } from './driver.js';
import type { CompletionEngine } from '../engine/completion.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import type { ProviderChoice } from '../engine/providers.js';
import { tokenizerFromFiles, type TokenizerFiles } from '../engine/tokenizer.js';
import { DEFAULT_GPT, type GPTConfig } from '../engine/gpt.js';
import { encoderFor, trainRun, type TrainRunResult } from '../train/run.js';
import type { TrainConfig } from '../train/trainer.js';
import type { TrainingDocument } from '../train/data.js';
import { canonicalJson, hashJson } from '../repro/hash.js';
import { writeFileAtomic } from '../repro/files.js';
import { writeManifest, type ManifestInput } from '../repro/manifest.js';
import type { ProgressMode } from '../repro/progress.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';

export const PAD = '<pad>';

/**
 * How the collection is cut and mined for the tiny synthesizer: short texts (about 300 bytes, ~130
 * tokens with a 512-token BPE vocabulary), at most two pairs quoting sentences of at most 120
 * characters, so a demonstration, a new text and the new pairs fit a 512-token context. No genre
 * questions: three texts in four would get one, and a greedy tiny model then writes nothing else.
 */
export const TINY_SYNTH_COLLECTION: Omit<CollectionOptions, 'seed'> = {
  chunk: { maxTokens: 300 },
  pairsPerText: 2,
  minPairs: 2,
  maxSentenceChars: 120,
  useGenre: false,
};

/**
 * The default profile: about 1M training tokens, 60-90 s on 2 idle cores (~15k tokens/s). Batch 4
 * beat batch 8 at equal tokens, lr 3e-3 to 6e-3 did about the same, 1e-2 worse (README figures).
 */
export const TINY_SYNTH_MODEL: Partial<GPTConfig> = { contextLength: 512, width: 128, heads: 4, layers: 2 };
export const TINY_SYNTH_TRAIN: Partial<TrainConfig> = { steps: 500, batchSize: 4, lr: 4e-3, minLr: 4e-4, warmupSteps: 20, evalEvery: 100, evalRows: 32, checkpointEvery: 100 };
/**
 * Driver settings for the default profile, M = 1 or 2: the whole context, 128 new tokens (a prompt
 * is ~130 tokens alone, ~250 more with a demonstration).
 */
export const TINY_SYNTH_GENERATION = { maxModelLen: 512, maxNewTokens: 128 } as const;

/** A profile for tests and CI notebooks: seconds of training (the quality is not the point). */
export const TINY_SYNTH_CI = {
  model: { contextLength: 384, width: 64, heads: 4, layers: 2 } as Partial<GPTConfig>,
  train: { steps: 60, batchSize: 4, lr: 4e-3, minLr: 4e-4, warmupSteps: 5, evalEvery: 0, evalRows: 8, checkpointEvery: 30 } as Partial<TrainConfig>,
  generation: { maxModelLen: 384, maxNewTokens: 128 },
} as const;

// ---------------------------------------------------------------------------------------------
// Data

export type TinySynthesizerDataOptions = {
  /** The model's contextLength, in the tokens of `countTokens`. */
  maxTokens: number;
  /** The real tokenizer of the run. */
  countTokens: (s: string) => number;
  seed: number;
  /** Share of sources held out for the validation loss (default 0.05; 0: none). */
  valShare?: number;
  /** Pad each sequence to one training row (default false; see the module header). */
  align?: boolean;
  maxExamplesPerSequence?: number;
};

export type SplitCounts = { sources: number; sequences: number; examples: number; tokens: number };

export type TinySynthesizerDataCounts = {
  /** Sequences (training documents), train + validation. */
  sequences: number;
  /** Examples packed into them: every example of the collection lands in exactly one sequence, unless it alone is longer than a row (`skipped`). */
  examples: number;
  skipped: number;
  split: { train: SplitCounts; validation: SplitCounts };
  /** Tokens of the sequences over the tokens of the rows they take (with alignment; 1 without). */
  fill: number;
};

export type TinySynthesizerData = TinySynthesizerDataCounts & { train: TrainingDocument[]; validation: TrainingDocument[] };

/** Packs the collection into few-shot training documents; validation is split by source, seeded. */
export function tinySynthesizerData(collection: SynthesizerExample[], options: TinySynthesizerDataOptions): TinySynthesizerData {
  const { maxTokens, countTokens, seed } = options;
  const align = options.align ?? false;
  if (!Number.isInteger(maxTokens) || maxTokens < 8) throw new RangeError(`maxTokens must be the model's context length, got ${maxTokens}`);
  if (collection.length === 0) throw new RangeError('the collection is empty: build it with buildSynthesizerCollection from documents the rules find pairs in');
  if (align && countTokens(PAD + PAD) !== 2) throw new Error(`the tokenizer does not read "${PAD}" as one token, so sequences cannot be padded to a row: pass align: false`);
  const sources = [...new Set(collection.map((e) => e.source))];
  // its own seed: the collection's documents may already be one side of a splitSources split with `seed`
  const { heldOut } = splitSources(sources.map((id) => ({ id })), { seed: deriveSeed(seed, 'tiny-synth-validation'), heldOutShare: options.valShare ?? 0.05 });
  const held = new Set(heldOut.map((s) => s.id));
  // a sequence and the EOS the packer adds after it fit one row
  const budget = maxTokens - 1;
  const pack = (examples: SynthesizerExample[]) => fewShotSequences(examples, { maxTokens: budget, countTokens, maxExamplesPerSequence: options.maxExamplesPerSequence });
  const train = pack(collection.filter((e) => !held.has(e.source)));
  const validation = pack(collection.filter((e) => held.has(e.source)));
  if (train.sequences.length === 0) {
    throw new Error(
      `no training sequences: ${held.size} of ${sources.length} sources are held out for validation and ${train.skipped} examples are longer than a row ` +
        `(${budget} tokens); lower valShare, add documents, or cut shorter contexts`,
    );
  }
  const toDocuments = (sequences: TrainingSequence[]): TrainingDocument[] =>
    sequences.map((s, i) => {
      const segments = s.segments.map((g) => ({ text: g.text, train: g.loss }));
      const pad = align ? budget - s.tokens + (i === sequences.length - 1 ? 1 : 0) : 0;
      if (pad > 0) segments.push({ text: PAD.repeat(pad), train: false });
      return { segments };
    });
  const counts = (p: ReturnType<typeof pack>, n: number): SplitCounts => ({
    sources: n,
    sequences: p.sequences.length,
    examples: p.sequences.reduce((a, s) => a + s.examples, 0),
    tokens: p.sequences.reduce((a, s) => a + s.tokens, 0),
  });
  const split = { train: counts(train, sources.length - held.size), validation: counts(validation, held.size) };
  const sequences = split.train.sequences + split.validation.sequences;
  return {
    train: toDocuments(train.sequences),
    validation: toDocuments(validation.sequences),
    sequences,
    examples: split.train.examples + split.validation.examples,
    skipped: train.skipped + validation.skipped,
    split,
    fill: align ? (split.train.tokens + split.validation.tokens) / (sequences * maxTokens) : 1,
  };
}

// ---------------------------------------------------------------------------------------------
// Training

export type TrainTinySynthesizerOptions = {
  /** The run folder (trainRun's layout; `model/` holds the result). Rerunning resumes a killed run. */
  outDir: string;
  collection: SynthesizerExample[];
  /** The tokenizer the run encodes with (the pipeline's shared BPE tokenizer). */
  tokenizer: TokenizerFiles;
  /** Over TINY_SYNTH_MODEL; vocabSize defaults to the tokenizer's. */
  model?: Partial<GPTConfig>;
  /** Over TINY_SYNTH_TRAIN; train.seed defaults to `seed`. */
  train?: Partial<TrainConfig>;
  /** Seeds the validation split (and training unless train.seed is given). */
  seed: number;
  valShare?: number;
  align?: boolean;
  /** Start from this model folder (e.g. a pre-trained tiny LM with the same config and tokenizer). */
  initFrom?: string;
  threads?: number;
  progress?: ProgressMode;
  /** Recorded in the manifest. */
  command?: string[];
  /** Where the collection came from, recorded in the manifest beside its hash. */
  inputs?: ManifestInput[];
};

export type TinySynthesizerTraining = {
  /** The model folder: config.json, model.safetensors, tokenizer, onnx/. */
  modelDir: string;
  result: TrainRunResult;
  data: TinySynthesizerDataCounts;
};

const SYNTH_RUN_FILE = 'tiny-synthesizer.json';

/** Fine-tunes the tiny synthesizer with trainRun (loss on the pairs only) and leaves an ONNX-ready model folder. */
export async function trainTinySynthesizer(options: TrainTinySynthesizerOptions): Promise<TinySynthesizerTraining> {
  const tokenizerVocab = tokenizerFromFiles(options.tokenizer).vocabSize;
  const model = { ...TINY_SYNTH_MODEL, vocabSize: tokenizerVocab, ...options.model };
  const encode = encoderFor(options.tokenizer);
  const data = tinySynthesizerData(options.collection, {
    maxTokens: model.contextLength ?? DEFAULT_GPT.contextLength,
    countTokens: (s) => encode(s).length,
    seed: options.seed,
    valShare: options.valShare,
    align: options.align,
  });
  const { train, validation, ...counts } = data;
  mkdirSync(options.outDir, { recursive: true });
  const collectionSha = hashJson(options.collection);
  writeFileAtomic(
    join(options.outDir, SYNTH_RUN_FILE),
    JSON.stringify({ format: 'ipt-tiny-synthesizer/1', seed: options.seed, valShare: options.valShare ?? 0.05, align: options.align ?? false, collection: { examples: options.collection.length, sha256: collectionSha }, data: counts }, null, 2) + '\n',
  );
  const result = await trainRun({
    outDir: options.outDir,
    config: { model, train: { ...TINY_SYNTH_TRAIN, seed: options.seed, ...options.train }, tokenizer: 'bpe' },
    data: { name: 'tiny-synthesizer-collection', documents: train, validation, inputs: [...(options.inputs ?? []), { name: 'collection', source: 'memory', sha256: collectionSha }] },
    tokenizer: options.tokenizer,
    initFrom: options.initFrom,
    threads: options.threads,
    progress: options.progress,
    command: options.command ?? ['trainTinySynthesizer'],
  });
  if (!result.modelDir) throw new Error(`training in ${options.outDir} stopped at step ${result.step} without a model; run it again to continue`);
  return { modelDir: result.modelDir, result, data: counts };
}

// ---------------------------------------------------------------------------------------------
// Generation

export type TinySynthesizerEngine = CompletionEngine & {
  readonly contextLength: number;
  countTokens(text: string): number;
  close(): Promise<void>;
};

/**
 * The trained model as a CompletionEngine through ONNX Runtime. Prompts are encoded as given (they
 * start with `<s>`; nothing is added), generation stops at `</s>` (dropped from the text) or after
 * maxNewTokens (capped to the room left in the context), greedy unless a temperature is asked.
 * Accepts a model folder or a training run folder (its model/).
 */
export async function openTinySynthesizer(modelDir: string, options: { threads?: number; batchSize?: number; provider?: ProviderChoice } = {}): Promise<TinySynthesizerEngine> {
  // a run folder has a config.json of its own (the run's): look for the model's onnx/ first
  const dir = !existsSync(join(modelDir, 'onnx')) && existsSync(join(modelDir, 'model', 'onnx')) ? join(modelDir, 'model') : modelDir;
  return OnnxCausalLM.load(dir, { threads: options.threads, batchSize: options.batchSize ?? 16, provider: options.provider });
}

// ---------------------------------------------------------------------------------------------
// Measurement

export type HeldOutText = { context: string; genre?: string };

/**
 * Held-out texts with their rule references, cut and mined exactly as the training collection:
 * the collection of the documents `splitSources` holds out, `n` of its examples drawn with the seed.
 */
export function tinySynthesizerHeldOut(
  docs: SourceDocument[],
  options: { seed: number; heldOutShare: number; n: number; collection?: Omit<CollectionOptions, 'seed'> },
): { heldOut: HeldOutText[]; references: Pair[][] } {
  const { heldOut: docsOut } = splitSources(docs, { seed: options.seed, heldOutShare: options.heldOutShare });
  const examples = buildSynthesizerCollection(docsOut, { ...TINY_SYNTH_COLLECTION, ...options.collection, seed: options.seed });
  const chosen = shuffleInPlace(examples.map((_, i) => i), createRng(deriveSeed(options.seed, 'tiny-synth-held-out')))
    .slice(0, options.n)
    .sort((a, b) => a - b)
    .map((i) => examples[i]);
  return {
    heldOut: chosen.map((e) => ({ context: e.context, ...(e.genre !== undefined ? { genre: e.genre } : {}) })),
    references: chosen.map((e) => e.pairs),
  };
}

export type MeasureTinySynthesizerOptions = {
  engine: CompletionEngine;
  heldOut: HeldOutText[];
  /** Reference pairs for each held-out text (e.g. the rules' pairs), same order. */
  references: Pair[][];
  /** New tokens per synthesized text. */
  maxNewTokens: number;
  /** New tokens per prompted answer (default maxNewTokens: a chain-of-thought answer of the rules takes up to ~120 tokens). */
  answerMaxNewTokens?: number;
  /** Prompts per engine call (default 16). */
  batchSize?: number;
  /** Sampling for the synthesis (default 0: greedy, the released setup); prompted answers are always greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Context budget for the driver (default: the engine's contextLength, else 4096). */
  maxModelLen?: number;
  /** Run folder: synthesis through the driver (resumable), prompted answers and quality.json. */
  outDir?: string;
  /** Example records kept for the report (default 5). */
  examples?: number;
  progress?: ProgressMode;
};

export type TinySynthesizerExample = { context: string; genre?: string; output: string; pairs: Pair[]; references: Pair[]; promptedAnswers: string[] };

export type TinySynthesizerQuality = {
  engine: string;
  texts: number;
  maxNewTokens: number;
  answerMaxNewTokens: number;
  temperature: number;
  /** measureSynthesizer over the outputs: parse rate, pairs per text, answer in context, duplicates, lengths, kinds. */
  quality: QualityReport;
  /** Accuracy on the reference pairs, free mode (the synthesizer's own questions; quality.ts). */
  free: ReferenceScore;
  /** Accuracy on the reference pairs, prompted mode (each reference question forced; quality.ts). */
  prompted: ReferenceScore;
  /** Prompted mode by the rule kind of the reference question ("other" when it follows no rule wording). */
  promptedByKind: Record<string, { references: number; exact: number; f1: number }>;
  /**
   * What answering by prior alone scores in prompted mode: every reference question answered with the
   * most common final answer among the references of its rule kind (e.g. "2" for word counts, "Yes").
   * Slightly optimistic (the majority is taken on these references); a synthesizer that reads the
   * text should beat it.
   */
  majorityBaseline: { references: number; exact: number; exactOverall: number };
  finishReasons: Record<string, number>;
  completionTokens: number;
  seconds: { synthesis: number; prompted: number };
  examples: TinySynthesizerExample[];
};

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Runs the synthesizer on held-out texts (one round, greedy) and measures what it writes. */
export async function measureTinySynthesizer(options: MeasureTinySynthesizerOptions): Promise<TinySynthesizerQuality> {
  const { engine, heldOut, references, maxNewTokens } = options;
  if (heldOut.length === 0) throw new RangeError('no held-out texts to measure on');
  if (references.length !== heldOut.length) throw new RangeError(`got ${references.length} reference lists for ${heldOut.length} held-out texts`);
  const batchSize = options.batchSize ?? 16;
  const answerMaxNewTokens = options.answerMaxNewTokens ?? maxNewTokens;
  const startedAt = new Date();
  const texts = heldOut.map((h) => h.context);

  let t0 = performance.now();
  let outputs: Array<{ text: string; finishReason?: string; completionTokens?: number }>;
  if (options.outDir !== undefined) {
    const context = (engine as { contextLength?: unknown }).contextLength;
    const run = await synthesize({
      texts,
      engine,
      outDir: join(options.outDir, 'synthesis'),
      rounds: 1,
      maxModelLen: options.maxModelLen ?? (typeof context === 'number' ? context : undefined),
      maxNewTokens,
      batchSize,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      progress: options.progress,
      command: ['measureTinySynthesizer'],
    });
    outputs = run.rounds[0].records.map((r) => ({ text: r.output, finishReason: r.finishReason, completionTokens: r.completionTokens }));
  } else {
    outputs = [];
    for (let i = 0; i < texts.length; i += batchSize) {
      const sampling = { temperature: options.temperature, topP: options.topP, seed: deriveSeed(options.seed ?? 0, 'batch', i / batchSize) };
      outputs.push(...(await engine.complete(texts.slice(i, i + batchSize).map(cookRead), { maxNewTokens, ...sampling })));
    }
  }
  const synthesisSeconds = (performance.now() - t0) / 1000;

  const items = heldOut.map((h, i) => ({ context: h.context, output: outputs[i].text, references: references[i] }));
  t0 = performance.now();
  const prompted = await promptedAnswers(engine, items, { maxNewTokens: answerMaxNewTokens, batchSize, outDir: options.outDir });
  const promptedSeconds = (performance.now() - t0) / 1000;

  const finishReasons: Record<string, number> = {};
  for (const o of outputs) finishReasons[o.finishReason ?? 'unknown'] = (finishReasons[o.finishReason ?? 'unknown'] ?? 0) + 1;
  const { answers, ...promptedScore } = prompted;
  let k = 0;
  const answersOf = items.map((it) => answers.slice(k, (k += it.references.length)));
  const report: TinySynthesizerQuality = {
    engine: engine.name,
    texts: heldOut.length,
    maxNewTokens,
    answerMaxNewTokens,
    temperature: options.temperature ?? 0,
    quality: measureSynthesizer(items),
    free: referenceAccuracy(items),
    prompted: promptedScore,
    promptedByKind: byKind(items, answers),
    majorityBaseline: majorityBaseline(items),
    finishReasons,
    completionTokens: outputs.reduce((a, o) => a + (o.completionTokens ?? 0), 0),
    seconds: { synthesis: round3(synthesisSeconds), prompted: round3(promptedSeconds) },
    examples: items.slice(0, options.examples ?? 5).map((it, i) => ({
      context: it.context,
      ...(heldOut[i].genre !== undefined ? { genre: heldOut[i].genre } : {}),
      output: it.output,
      pairs: parseComprehension(it.output, { deduplicate: true }),
      references: it.references,
      promptedAnswers: answersOf[i],
    })),
  };
  if (options.outDir !== undefined) {
    writeFileAtomic(join(options.outDir, 'quality.json'), JSON.stringify(report, null, 2) + '\n');
    await writeManifest(options.outDir, {
      command: ['measureTinySynthesizer'],
      config: { engine: engine.name, maxNewTokens, answerMaxNewTokens, batchSize, texts: heldOut.length, temperature: options.temperature ?? 0, topP: options.topP ?? 1 },
      seeds: { sampling: options.seed ?? 0 },
      inputs: [{ name: 'held-out', source: 'memory', sha256: hashJson({ heldOut, references }) }],
      outputs: ['quality.json', 'prompted.json', 'synthesis/chains.jsonl'],
      startedAt,
      timings: { synthesisSeconds: round3(synthesisSeconds), promptedSeconds: round3(promptedSeconds) },
      totals: { texts: heldOut.length, parsed: report.quality.parsed, pairs: report.quality.pairs, references: promptedScore.references },
    });
  }
  return report;
}

function majorityBaseline(items: Array<{ references: Pair[] }>): TinySynthesizerQuality['majorityBaseline'] {
  const counts = new Map<string, Map<string, number>>();
  const references = items.flatMap((it) => it.references);
  for (const r of references) {
    const kind = ruleKindOfQuestion(r.question) ?? 'other';
    const answers = counts.get(kind) ?? new Map<string, number>();
    const a = normalise(finalOf(r.answer));
    answers.set(a, (answers.get(a) ?? 0) + 1);
    counts.set(kind, answers);
  }
  let exact = 0;
  for (const answers of counts.values()) exact += Math.max(...answers.values());
  return { references: references.length, exact, exactOverall: references.length === 0 ? 0 : exact / references.length };
}

function byKind(items: Array<{ references: Pair[] }>, answers: string[]): TinySynthesizerQuality['promptedByKind'] {
  const out: TinySynthesizerQuality['promptedByKind'] = {};
  const references = items.flatMap((it) => it.references);
  references.forEach((r, k) => {
    const kind = ruleKindOfQuestion(r.question) ?? 'other';
    const entry = (out[kind] ??= { references: 0, exact: 0, f1: 0 });
    const got = finalOf(answers[k]);
    const want = finalOf(r.answer);
    entry.references++;
    if (normalise(got) === normalise(want)) entry.exact++;
    entry.f1 += tokenF1(got, want);
  });
  for (const e of Object.values(out)) e.f1 = round3(e.f1 / e.references);
  return out;
}

/** Prompted-mode answers, kept in outDir/prompted.json so a rerun of a finished measurement skips them. */
async function promptedAnswers(
  engine: CompletionEngine,
  items: Array<{ context: string; references: Pair[] }>,
  options: { maxNewTokens: number; batchSize: number; outDir?: string },
): Promise<ReferenceScore & { answers: string[] }> {
  const path = options.outDir === undefined ? undefined : join(options.outDir, 'prompted.json');
  const key = hashJson({ engine: engine.name, items, maxNewTokens: options.maxNewTokens });
  if (path && existsSync(path)) {
    try {
      const saved = JSON.parse(readFileSync(path, 'utf8')) as { key: string; result: ReferenceScore & { answers: string[] } };
      if (saved.key === key) return saved.result;
    } catch {
      // a damaged file is redone
    }
  }
  const result = await answerReferenceQuestions(engine, items, { maxNewTokens: options.maxNewTokens, batchSize: options.batchSize });
  if (path) writeFileAtomic(path, canonicalJson({ key, result }) + '\n');
  return result;
}
