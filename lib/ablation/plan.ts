// What a run will do and roughly how long it takes, said before it starts. The time is an estimate
// from the run's token counts and throughputs measured for the kit on a 2-core machine (see the
// constants); a run's manifest records what it actually took.

import type { AblationConfig } from './config.js';

/** Throughputs of the kit on a 2-core x86 VM (Node 20), measured with the default profile's sizes. */
export const MEASURED = {
  /** Training tokens per second, width 128, 2 layers, 2 threads (npm run bench -- training and pipeline runs). */
  trainTokensPerSecond: 15_000,
  /** Evaluation: forward tokens per second when scoring choices (no backward pass). */
  scoreTokensPerSecond: 45_000,
  /** Tiny-synthesizer generation, new tokens per second at batch 16 (ONNX Runtime, CPU). */
  generateTokensPerSecond: 2_500,
  /** Fixed costs per run: splits, tokenizer, benchmarks, corpora, report (seconds). */
  overheadSeconds: 40,
};

export type Plan = { trainingRuns: number; trainingTokens: number; evaluations: number; estimatedSeconds: number; lines: string[] };

function tokensOf(train: { steps?: number; batchSize?: number }, contextLength: number | undefined): number {
  return (train.steps ?? 0) * (train.batchSize ?? 0) * (contextLength ?? 0);
}

export function describePlan(config: AblationConfig): Plan {
  const T = config.pretrain.model.contextLength;
  const seeds = config.seeds.length;
  const arms = config.arms.length;
  const tinyArms = config.arms.filter((a) => a.synthesizer === 'tiny');
  const pretrainTokens = arms * seeds * tokensOf(config.pretrain.train, T);
  const domainTokens = 2 * seeds * tokensOf(config.domain.train, T);
  const tuningTokens = config.instructionTuning.arms.length * seeds * tokensOf(config.instructionTuning.train, T);
  const tinyTokens = tinyArms.length || config.domain.synthesizer === 'tiny' ? tokensOf(config.synthesis.tiny.train, config.synthesis.tiny.model.contextLength) : 0;
  const trainingTokens = pretrainTokens + domainTokens + tuningTokens + tinyTokens;
  // evaluation: every pre-trained model on every task; domain models on two groups; tuning checkpoints on one
  const examples = config.eval.examplesPerTask * config.eval.kinds.length;
  const promptTokens = 0.5 * config.corpus.contextBytes + 40;
  const scored = (groupsShots: number) => examples * groupsShots * 3 * promptTokens;
  const checkpoints = Math.floor((config.instructionTuning.train.steps ?? 0) / Math.max(1, config.instructionTuning.evalEvery));
  const evalTokens =
    arms * seeds * scored(config.eval.shots.length + 2) + 2 * seeds * scored(2) + config.instructionTuning.arms.length * seeds * checkpoints * scored(1);
  // the augmented share of pre-training contexts, once per tiny arm, plus the quality measurement
  const augmented = 0.55 * config.corpus.contextBytes; // contexts per 100 KB of pre-training text is not known before the split
  void augmented;
  const generated = (tinyArms.length + (config.domain.synthesizer === 'tiny' ? 1 : 0)) * 2600 * config.synthesis.augmentShare * config.synthesis.tiny.maxNewTokens * 0.6 + config.synthesis.tiny.measureTexts * config.synthesis.tiny.maxNewTokens;
  const seconds =
    trainingTokens / MEASURED.trainTokensPerSecond + evalTokens / MEASURED.scoreTokensPerSecond + generated / MEASURED.generateTokensPerSecond + MEASURED.overheadSeconds;
  const trainingRuns = arms * seeds + 2 * seeds + config.instructionTuning.arms.length * seeds + (tinyTokens ? 1 : 0);
  const minutes = Math.max(1, Math.round(seconds / 60));
  return {
    trainingRuns,
    trainingTokens,
    evaluations: arms * seeds + 2 * seeds + config.instructionTuning.arms.length * seeds * (checkpoints + 1),
    estimatedSeconds: seconds,
    lines: [
      `Profile "${config.profile}": ${arms} arms (${config.arms.map((a) => a.name).join(', ')}) x ${seeds} seeds, each pre-trained for ${tokensOf(config.pretrain.train, T).toLocaleString('en-US')} tokens;`,
      `then continual pre-training on ${config.corpus.domainGenres.join(', ')} (raw vs instruction-augmented) and instruction tuning of ${config.instructionTuning.arms.join(', ')}.`,
      `${trainingRuns} training runs, ${(trainingTokens / 1e6).toFixed(1)} M training tokens: about ${minutes} minute${minutes === 1 ? '' : 's'} on a 2-core machine.`,
      'Every stage is cached in the run folder: stop it any time and run the same command again to resume.',
    ],
  };
}
