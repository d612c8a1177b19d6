// The typed records the ablation's stages hand on: what each cached stage returns (its stage.json
// result) and what the pipeline gives the results and the report. Plain data, so a run folder's
// records read back exactly as they were written, and the report needs nothing from the pipeline.

import type { ControlledRecords } from './controlled.js';
import type { Chain } from '../synth/format.js';
import type { ManifestInput } from '../repro/manifest.js';
import type { QualityReport } from '../synth/quality.js';
import type { TinySynthesizerQuality } from '../synth/tiny-measure.js';
import type { Coverage } from '../tasks/coverage.js';
import type { StepRecord, ValRecord } from '../train/run.js';
import type { TinySynthesizerDataCounts } from '../train/tiny-synthesizer.js';
import type { AblationConfig } from './config.js';
import type { BenchmarkGroup, SkippedBenchmark } from './benchmarks.js';
import type { Part } from './splits.js';

export type SplitSummary = { documents: Record<Part, number>; contexts: Record<Part, number>; input: ManifestInput };

export type TokenizerSummary = { merges: number; vocabSize: number };

export type CollectionSummary = { examples: number; pairs: number; sources: number };

/** What a benchmark is, without its items (tasks.json in the benchmarks stage holds those). */
export type BenchmarkInfo = {
  name: string;
  group: BenchmarkGroup;
  kind: string;
  shots: number;
  type: 'multiple_choice' | 'generation';
  examples: number;
  chance: number;
  /** Share of items whose gold answer is the most frequent one. */
  majorityShare: number;
};

export type BenchmarksSummary = { tasks: number; examples: number; names: string[]; skipped: SkippedBenchmark[] };

export type SynthesisSummary = {
  texts: number;
  pairs: number;
  textsWithPairs: number;
  promptTokens: number;
  completionTokens: number;
  seconds: number;
  tokensPerSecond: number | null;
  textsPerSecond: number | null;
};

export type TinySynthesizerSummary = {
  modelDir: string;
  finalLoss: number | null;
  finalValLoss: number | null;
  tokensPerSecond: number | null;
  data: TinySynthesizerDataCounts;
};

/** Quality and task coverage of the pairs one synthesizer wrote for the pre-training texts (a cached stage). */
export type SynthesizerMeasure = { quality: QualityReport; coverage: Coverage };

export type CorpusResult = { documents: number; tokens: number; bytes: number; file: string };

export type TrainStageResult = {
  modelDir: string;
  steps: number;
  tokens: number;
  finalLoss: number | null;
  finalValLoss: number | null;
  tokensPerSecond: number | null;
  seconds: number;
};

/**
 * One evaluated model: per task its primary metric (accuracy or token F1), every metric's mean, and the
 * primary metric of every item in task order (what the intervals resample).
 */
export type ModelScores = {
  scores: Record<string, number>;
  metrics: Record<string, Record<string, number>>;
  items: Record<string, number[]>;
};

export type StageTiming = { name: string; cached: boolean; seconds: number; dir: string };

export type AblationRecords = {
  config: AblationConfig;
  split: SplitSummary;
  benchmarks: BenchmarkInfo[];
  skippedBenchmarks: SkippedBenchmark[];
  collection: CollectionSummary;
  synthesis: Record<string, SynthesisSummary>;
  /** Per synthesizer ("rules-m2", "tiny-m2"): quality and coverage of the pairs it wrote. */
  synthesizers: Record<string, SynthesizerMeasure>;
  tinyQuality: TinySynthesizerQuality | null;
  corpora: Record<string, CorpusResult & { dir: string; description: string }>;
  pretrain: Array<{
    arm: string;
    seed: number;
    train: TrainStageResult;
    scores: ModelScores;
    curve: { train: StepRecord[]; val: ValRecord[] };
  }>;
  domain: Array<{ variant: string; seed: number; train: TrainStageResult; scores: ModelScores }>;
  tuning: Array<{ arm: string; seed: number; points: Array<{ step: number } & ModelScores> }>;
  pairs: Record<string, Chain[]>;
  /** The tokenizer stage's folder, relative to the run folder (corpora.json names its tokenizer.json). */
  tokenizerDir: string;
  /** The split stage's folder, relative to the run folder (its contexts.<part>.jsonl files). */
  splitDir: string;
  /** The controlled experiment on synthetic biographies (lib/ablation/controlled.ts), or null/absent when the config skips it. */
  controlled?: ControlledRecords | null;
};
