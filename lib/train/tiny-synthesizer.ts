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
//   measureTinySynthesizer  (./tiny-measure.ts) engine + held-out texts + rule references -> quality JSON
//
// Row alignment: the trainer packs documents end to end and cuts rows of contextLength tokens, so by
// default a sequence may start anywhere in a row and run into the next. With `align` each sequence
// is padded with <pad> (no loss) to contextLength - 1 tokens, so with the EOS the packer adds every
// row is exactly one sequence starting at position 0 with `<s>`, as the driver's prompts do (the
// last one gets one pad more so its row is complete). That wastes ~28% of the compute on pads and
// measured no better at equal steps (parse rate 45% aligned vs 96% packed at 200 steps), so it is
// off by default.

import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  fewShotSequences,
  splitSources,
  TINY_SYNTH_COLLECTION,
  type CollectionOptions,
  type SynthesizerExample,
  type TrainingSequence,
} from '../synth/collection.js';
import type { CompletionEngine } from '../engine/completion.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import type { ProviderChoice } from '../engine/providers.js';
import { tokenizerFromFiles, type TokenizerFiles } from '../engine/tokenizer.js';
import { DEFAULT_GPT, type GPTConfig } from '../engine/gpt.js';
import { encoderFor, trainRun, type TrainRunResult } from './run.js';
import type { TrainConfig } from './trainer.js';
import type { TrainingDocument } from './data.js';
import { hashJson } from '../repro/hash.js';
import { writeJson } from '../repro/files.js';
import type { ManifestInput } from '../repro/manifest.js';
import type { ProgressMode } from '../repro/progress.js';
import { deriveSeed } from '../repro/rng.js';

export const PAD = '<pad>';

export { TINY_SYNTH_COLLECTION };

/**
 * The default profile: about 2M training tokens in the time that 1M took at width 128 (about 70 s on
 * 2 idle cores). Width 64 trains 1.9x as many tokens per second as width 128 and reached a lower
 * validation loss in the same time (2.79 against 2.87); at equal tokens batch 1, 2 and 4 learned
 * alike; batch 4 beat batch 8 at equal tokens, lr 3e-3 to 6e-3 did about the same, 1e-2 worse (README).
 */
export const TINY_SYNTH_MODEL: Partial<GPTConfig> = { contextLength: 512, width: 64, heads: 4, layers: 2 };
export const TINY_SYNTH_TRAIN: Partial<TrainConfig> = {
  steps: 1000,
  batchSize: 4,
  lr: 4e-3,
  minLr: 4e-4,
  warmupSteps: 40,
  evalEvery: 200,
  evalRows: 32,
  checkpointEvery: 200,
};
/**
 * Driver settings for the default profile, M = 1 or 2: the whole context, 128 new tokens (a prompt
 * is ~130 tokens alone, ~250 more with a demonstration), seeded sampling at T = 0.8 within the top
 * 0.95 of the mass: greedy decoding of this model loops (6% of texts parsed, one question kind),
 * sampling parses 80-90% and writes the kinds in about their training shares.
 */
export const TINY_SYNTH_GENERATION = { maxModelLen: 512, maxNewTokens: 128, temperature: 0.8, topP: 0.95 } as const;

/** A profile for tests and CI notebooks: seconds of training (the quality is not the point). */
export const TINY_SYNTH_CI = {
  model: { contextLength: 384, width: 64, heads: 4, layers: 2 } as Partial<GPTConfig>,
  train: {
    steps: 60,
    batchSize: 4,
    lr: 4e-3,
    minLr: 4e-4,
    warmupSteps: 5,
    evalEvery: 0,
    evalRows: 8,
    checkpointEvery: 30,
  } as Partial<TrainConfig>,
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

export type TinySynthesizerData = TinySynthesizerDataCounts & {
  train: TrainingDocument[];
  validation: TrainingDocument[];
};

/** Packs the collection into few-shot training documents; validation is split by source, seeded. */
export function tinySynthesizerData(
  collection: SynthesizerExample[],
  options: TinySynthesizerDataOptions,
): TinySynthesizerData {
  const { maxTokens, countTokens, seed } = options;
  const align = options.align ?? false;
  if (!Number.isInteger(maxTokens) || maxTokens < 8)
    throw new RangeError(`maxTokens must be the model's context length, got ${maxTokens}`);
  if (collection.length === 0)
    throw new RangeError(
      'the collection is empty: build it with buildSynthesizerCollection from documents the rules find pairs in',
    );
  if (align && countTokens(PAD + PAD) !== 2)
    throw new Error(
      `the tokenizer does not read "${PAD}" as one token, so sequences cannot be padded to a row: pass align: false`,
    );
  const sources = [...new Set(collection.map((e) => e.source))];
  // its own seed: the collection's documents may already be one side of a splitSources split with `seed`
  const { heldOut } = splitSources(
    sources.map((id) => ({ id })),
    { seed: deriveSeed(seed, 'tiny-synth-validation'), heldOutShare: options.valShare ?? 0.05 },
  );
  const held = new Set(heldOut.map((s) => s.id));
  // a sequence and the EOS the packer adds after it fit one row
  const budget = maxTokens - 1;
  const pack = (examples: SynthesizerExample[]) =>
    fewShotSequences(examples, {
      maxTokens: budget,
      countTokens,
      maxExamplesPerSequence: options.maxExamplesPerSequence,
    });
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
  writeJson(join(options.outDir, SYNTH_RUN_FILE), {
    format: 'ipt-tiny-synthesizer/1',
    seed: options.seed,
    valShare: options.valShare ?? 0.05,
    align: options.align ?? false,
    collection: { examples: options.collection.length, sha256: collectionSha },
    data: counts,
  });
  const result = await trainRun({
    outDir: options.outDir,
    config: { model, train: { ...TINY_SYNTH_TRAIN, seed: options.seed, ...options.train }, tokenizer: 'bpe' },
    data: {
      name: 'tiny-synthesizer-collection',
      documents: train,
      validation,
      inputs: [...(options.inputs ?? []), { name: 'collection', source: 'memory', sha256: collectionSha }],
    },
    tokenizer: options.tokenizer,
    initFrom: options.initFrom,
    threads: options.threads,
    progress: options.progress,
    command: options.command ?? ['trainTinySynthesizer'],
  });
  if (!result.modelDir)
    throw new Error(
      `training in ${options.outDir} stopped at step ${result.step} without a model; run it again to continue`,
    );
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
export async function openTinySynthesizer(
  modelDir: string,
  options: { threads?: number; batchSize?: number; provider?: ProviderChoice } = {},
): Promise<TinySynthesizerEngine> {
  // a run folder has a config.json of its own (the run's): look for the model's onnx/ first
  const dir =
    !existsSync(join(modelDir, 'onnx')) && existsSync(join(modelDir, 'model', 'onnx'))
      ? join(modelDir, 'model')
      : modelDir;
  return OnnxCausalLM.load(dir, {
    threads: options.threads,
    batchSize: options.batchSize ?? 16,
    provider: options.provider,
  });
}
