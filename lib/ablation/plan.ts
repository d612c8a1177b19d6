// What a run will do and roughly how long it takes, said before it starts. The time is an estimate
// from the run's token counts and throughputs measured for the kit on a 2-core machine (see the
// constants); a run's manifest records what it actually took.

import type { AblationConfig } from './config.js';
import { describeControlledPlan } from './controlled-config.js';

/**
 * Throughputs of the kit measured on the project's 2-core x86 VM (Node 20) in `npm start` from a fresh clone
 * (2026-12-02, load average 1.2-1.5; the manifest's per-stage timings): training 10.5k tokens/s over the
 * Brown part's runs (width 128 at context 384 about 8.7k, the tiny synthesizer at width 64 about 17k);
 * evaluation through ONNX Runtime about 8.6 ms per example of ~300-byte passages; the tiny synthesizer
 * writing about 3.3k tokens/s at batch 16 (prompts of ~130-380 tokens).
 */
export const MEASURED = {
  trainTokensPerSecond: 10_500,
  /** Seconds per benchmark example (all its choices, or its generation), for passages of 300 bytes. */
  secondsPerExample: 0.0086,
  generateTokensPerSecond: 3_300,
  /** A Brown document is about 12 KB: this many contexts per document at a context budget of B bytes is 12000 / (0.8 B). */
  documentBytes: 12_000,
  /** Splits, tokenizer, benchmarks, corpora, report, process start (seconds). */
  overheadSeconds: 15,
};

export type Plan = {
  trainingRuns: number;
  trainingTokens: number;
  evaluations: number;
  estimatedSeconds: number;
  lines: string[];
};

function tokensOf(train: { steps?: number; batchSize?: number }, contextLength: number | undefined): number {
  return (train.steps ?? 0) * (train.batchSize ?? 0) * (contextLength ?? 0);
}

export function describePlan(config: AblationConfig): Plan {
  const T = config.pretrain.model.contextLength;
  const seeds = config.seeds.length;
  const arms = config.arms.length;
  const tuned = config.instructionTuning.arms.length;
  const tinyRuns =
    config.arms.filter((a) => a.synthesizer === 'tiny').length + (config.domain.synthesizer === 'tiny' ? 1 : 0);
  const pretrainTokens = arms * seeds * tokensOf(config.pretrain.train, T);
  const domainTokens = 2 * seeds * tokensOf(config.domain.train, T);
  const tuningTokens = tuned * seeds * tokensOf(config.instructionTuning.train, T);
  const tinyTokens =
    tinyRuns > 0 ? tokensOf(config.synthesis.tiny.train, config.synthesis.tiny.model.contextLength) : 0;
  const trainingTokens = pretrainTokens + domainTokens + tuningTokens + tinyTokens;
  // benchmark examples scored: pre-trained models on their groups (and every shot count for the
  // general group), vanilla also on the seen and domain groups; continual models on two groups at
  // 0-shot; tuning checkpoints on the general 0-shot tasks
  const perTask = config.eval.examplesPerTask;
  const kinds = config.eval.kinds.length;
  const checkpoints = Math.floor(
    (config.instructionTuning.train.steps ?? 0) / Math.max(1, config.instructionTuning.evalEvery),
  );
  const groupTasks = config.eval.groups.reduce((n, g) => n + (g === 'general' ? config.eval.shots.length : 1), 0);
  const vanillaExtra = ['seen', 'domain'].filter((g) => !config.eval.groups.includes(g as never)).length;
  const examples =
    perTask * kinds * (arms * seeds * groupTasks + seeds * vanillaExtra + 2 * seeds * 2 + tuned * seeds * checkpoints);
  const scale = config.corpus.contextBytes / 300;
  // the tiny synthesizer writes for the augmented share of the pre-training contexts, once per tiny run
  const docs = config.corpus.maxDocs.pretrain ?? 260;
  const augmented =
    config.synthesis.augmentShare * docs * (MEASURED.documentBytes / (0.8 * config.corpus.contextBytes));
  const generated = tinyRuns * augmented * 0.8 * config.synthesis.tiny.maxNewTokens;
  const seconds =
    trainingTokens / MEASURED.trainTokensPerSecond +
    examples * MEASURED.secondsPerExample * scale +
    generated / MEASURED.generateTokensPerSecond +
    MEASURED.overheadSeconds;
  const controlled = config.controlled.enabled ? describeControlledPlan(config.controlled) : undefined;
  const trainingRuns =
    arms * seeds +
    2 * seeds +
    config.instructionTuning.arms.length * seeds +
    (tinyTokens ? 1 : 0) +
    (controlled?.trainingRuns ?? 0);
  const totalSeconds = seconds + (controlled?.estimatedSeconds ?? 0);
  const minutes = Math.max(1, Math.round(totalSeconds / 60));
  return {
    trainingRuns,
    trainingTokens: trainingTokens + (controlled?.trainingTokens ?? 0),
    evaluations:
      arms * seeds +
      2 * seeds +
      config.instructionTuning.arms.length * seeds * (checkpoints + 1) +
      (controlled?.evaluations ?? 0),
    estimatedSeconds: totalSeconds,
    lines: [
      ...(controlled?.lines ?? []),
      `Profile "${config.profile}": ${arms} arms (${config.arms.map((a) => a.name).join(', ')}) x ${seeds} seeds, each pre-trained for ${tokensOf(config.pretrain.train, T).toLocaleString('en-US')} tokens;`,
      `then continual pre-training on ${config.corpus.domainGenres.join(', ')} (raw vs instruction-augmented)${config.instructionTuning.arms.length ? ` and instruction tuning of ${config.instructionTuning.arms.join(', ')}` : ''}.`,
      `${trainingRuns} training runs, ${((trainingTokens + (controlled?.trainingTokens ?? 0)) / 1e6).toFixed(1)} M training tokens in all: about ${minutes} minute${minutes === 1 ? '' : 's'} on a 2-core machine.`,
      'Every stage is cached in the run folder: stop it any time and run the same command again to resume.',
    ],
  };
}
