// The ablation's configuration: which arms, seeds, sizes and budgets. Two built-in profiles (the
// embedded default, which finishes within 15 minutes on a 2-core machine, and `ci`, the same code
// paths small enough for the test suite); a JSON file can override any field of a profile.
//
// Arms follow the paper's comparisons at one token budget: vanilla pre-training (raw texts only);
// instruction pre-training with each synthesizer (rules; the kit's tiny synthesizer with M = 1 and
// M = 2 rounds); and Mix PT (raw texts plus the synthesizer's fine-tuning collection).

import type { GPTConfig } from '../engine/gpt.js';
import { readJson } from '../repro/files.js';
import { nonFiniteMessage, nonFiniteNumberPath } from '../repro/hash.js';
import { brownGenres } from '../corpus/brown.js';
import { checkBpeVocab, resolveRunConfig } from '../train/run.js';
import { TINY_SYNTH_MODEL } from '../train/tiny-synthesizer.js';
import { resolveTrainConfig, type TrainConfig } from '../train/trainer.js';
import { RULE_KINDS, type RuleKind } from '../synth/rules.js';
import {
  CONTROLLED_CI,
  CONTROLLED_DEFAULT,
  validateControlledConfig,
  type ControlledConfig,
} from './controlled-config.js';
import { TINY_SYNTH_COLLECTION } from '../synth/collection.js';
import { BENCHMARK_GROUPS, type BenchmarkGroup } from './benchmarks.js';

export type ArmKind = 'vanilla' | 'instruct' | 'mix';
export type SynthesizerName = 'rules' | 'tiny';

export type Arm = {
  /** File-name safe: "vanilla", "instruct-rules", "instruct-tiny-m2". */
  name: string;
  kind: ArmKind;
  /** instruct arms: who wrote the pairs, and in how many rounds. */
  synthesizer?: SynthesizerName;
  rounds?: number;
  description: string;
};

export type AblationConfig = {
  profile: string;
  /** Seed of everything that is not a training run: splits, synthesis, rendering, benchmarks. */
  seed: number;
  /** One pre-training run per arm and seed; paired differences use runs with the same seed. */
  seeds: number[];
  corpus: {
    /** Held-out evaluation documents per genre: never seen by any arm or synthesizer. */
    evalDocsPerGenre: number;
    /** Genres no arm or synthesizer ever sees; their documents make the held-out-genre benchmarks. */
    heldOutGenres: string[];
    /** The domain of the continual pre-training: kept out of general pre-training. */
    domainGenres: string[];
    /** Held-out evaluation documents of each domain genre. */
    domainEvalDocsPerGenre: number;
    /** Share of the general training documents reserved for the synthesizer's fine-tuning collection. */
    synthesizerShare: number;
    /** Contexts are cut from documents at this many bytes (the tiny byte tokenizer's count). */
    contextBytes: number;
    /**
     * Documents kept per part (a seeded choice); a part not named keeps all. The training budget uses
     * only so much text: more pre-training documents would only cost synthesis time.
     */
    maxDocs: Partial<
      Record<'pretrain' | 'synthesizer' | 'eval' | 'heldOutGenre' | 'domainTrain' | 'domainEval', number>
    >;
  };
  tokenizer: { vocabSize: number };
  synthesis: {
    /** Share of pre-training contexts that instruction-augmented arms replace with augmented texts. */
    augmentShare: number;
    /** Rule-based miner: pairs per text (at most) and the longest sentence it quotes. */
    pairsPerText: number;
    maxSentenceChars: number;
    /**
     * The synthesizer's fine-tuning collection (also the mix arm's and instruction tuning's data):
     * rule pairs per text, whether genre questions are asked (a tiny greedy synthesizer trained
     * with them writes nothing else), the rule kinds mined and their weights in the mix.
     */
    collection: {
      pairsPerText: number;
      useGenre: boolean;
      kinds: RuleKind[];
      weights: Partial<Record<RuleKind, number>>;
    };
    /** The tiny synthesizer: its model, training, and generation budget. */
    tiny: {
      model: Partial<GPTConfig>;
      train: Partial<TrainConfig>;
      maxNewTokens: number;
      /** Sampling when it synthesizes (0: greedy) and its nucleus; seeded by the run's seed. */
      temperature: number;
      topP: number;
      /** Held-out texts its quality is measured on. */
      measureTexts: number;
      batchSize: number;
    };
  };
  pretrain: { model: Partial<GPTConfig>; train: Partial<TrainConfig> };
  arms: Arm[];
  /** Domain-adaptive continual pre-training from the vanilla model, raw vs instruction-augmented domain texts. */
  domain: {
    train: Partial<TrainConfig>;
    synthesizer: SynthesizerName;
    /** Share of general instructions in the continual pre-training mix, by tokens (the paper: 1:1). */
    instructionShare: number;
  };
  /** Instruction tuning after pre-training, evaluated at checkpoints along the way. */
  instructionTuning: { arms: string[]; train: Partial<TrainConfig>; evalEvery: number };
  /** The controlled experiment on synthetic biographies (lib/ablation/controlled.ts); `enabled: false` skips it. */
  controlled: ControlledConfig;
  eval: {
    /**
     * Items per task (at most: a part of the corpus may offer fewer). Detecting a 0.05 difference on one
     * task takes over a thousand (results.json's `power`); a group average pools its tasks' items.
     */
    examplesPerTask: number;
    /**
     * Benchmark groups every pre-trained arm is scored on. The vanilla arm is also scored on `seen`
     * (passages of its own pre-training documents: which tasks it can do above chance at all) and
     * `domain` (the baseline of continual pre-training).
     */
    groups: BenchmarkGroup[];
    /** Demonstrations in the prompt: 0 (zero-shot) and k-shot variants of every task. */
    shots: number[];
    kinds: RuleKind[];
    batchSize: number;
  };
};

/** Every arm the kit knows; the CI profile runs them all, so every code path stays tested. */
export const ALL_ARMS: Arm[] = [
  { name: 'vanilla', kind: 'vanilla', description: 'Vanilla PT: raw texts only' },
  {
    name: 'instruct-rules',
    kind: 'instruct',
    synthesizer: 'rules',
    rounds: 2,
    description: 'Instruct PT, rule-based synthesizer (M = 2)',
  },
  {
    name: 'instruct-tiny-m1',
    kind: 'instruct',
    synthesizer: 'tiny',
    rounds: 1,
    description: 'Instruct PT, tiny synthesizer, one round (M = 1)',
  },
  {
    name: 'instruct-tiny-m2',
    kind: 'instruct',
    synthesizer: 'tiny',
    rounds: 2,
    description: 'Instruct PT, tiny synthesizer, two rounds (M = 2)',
  },
  { name: 'mix', kind: 'mix', description: "Mix PT: raw texts plus the synthesizer's fine-tuning collection" },
];

/**
 * The default profile's Brown arms: vanilla against instruction pre-training with each kind of
 * synthesizer. M = 1 against M = 2 and Mix PT are compared in the controlled experiment, where an effect
 * is measurable at this size; on Brown every arm scored at chance (issue 11), so the Brown budget goes to
 * more items per task rather than more arms (add them back with a config file: `{"arms": [...]}`).
 */
export const DEFAULT_ARMS: Arm[] = ALL_ARMS.filter((a) =>
  ['vanilla', 'instruct-rules', 'instruct-tiny-m2'].includes(a.name),
);

const EVAL_KINDS: RuleKind[] = ['fill_blank', 'next_sentence', 'ordering', 'yes_no', 'number', 'genre'];

/**
 * The embedded default's Brown part: CPU, about 8 minutes on the 2-core VM (README: the measured run). Two seeds: on
 * these benchmarks the spread over seeds of a paired gain is a few times smaller than the spread over
 * items (results.json's variance parts), so items buy more certainty than seeds.
 */
export const DEFAULT_PROFILE: AblationConfig = {
  profile: 'default',
  seed: 1,
  seeds: [1, 2],
  corpus: {
    evalDocsPerGenre: 3,
    heldOutGenres: ['humor'],
    domainGenres: ['learned'],
    domainEvalDocsPerGenre: 8,
    synthesizerShare: 0.3,
    contextBytes: 300,
    maxDocs: { pretrain: 50, domainTrain: 30 },
  },
  tokenizer: { vocabSize: 512 },
  synthesis: {
    augmentShare: 0.5,
    pairsPerText: 3,
    maxSentenceChars: 120,
    // the tiny synthesizer's collection: span-answer kinds, no word counts (lib/synth/collection.ts)
    collection: {
      pairsPerText: 2,
      useGenre: false,
      kinds: [...TINY_SYNTH_COLLECTION.kinds!],
      weights: { ...TINY_SYNTH_COLLECTION.weights },
    },
    tiny: {
      // measured (README, lib/train/tiny-synthesizer.ts): ~2M tokens in the ~70 s that width 128 took for 1M; sampled (greedy loops)
      model: { contextLength: 512, width: 64, heads: 4, layers: 2, mlpRatio: 4 },
      // 600 steps (1.23M tokens) rather than `ipt tiny-synth train`'s 1000: the default run must stay within 15 minutes
      // with the controlled experiment, and at either length this model does not read the text (README, tiny synthesizer)
      train: {
        steps: 600,
        batchSize: 4,
        lr: 4e-3,
        minLr: 4e-4,
        warmupSteps: 40,
        evalEvery: 200,
        evalRows: 32,
        checkpointEvery: 200,
      },
      maxNewTokens: 128,
      temperature: 0.8,
      topP: 0.95,
      measureTexts: 64,
      batchSize: 16,
    },
  },
  pretrain: {
    model: { contextLength: 384, width: 128, heads: 4, layers: 2, mlpRatio: 4 },
    // warmup 30 and beta2 0.99: with 10 warmup steps and beta2 0.95 one seed in three spiked (loss 8.6 at
    // step 16) and ended 0.3 nats worse; these settings gave final validation losses 4.27 / 4.35 / 4.29
    train: {
      steps: 100,
      batchSize: 8,
      lr: 2e-3,
      minLr: 2e-4,
      warmupSteps: 30,
      beta2: 0.99,
      evalEvery: 25,
      evalRows: 32,
      checkpointEvery: 25,
    },
  },
  arms: DEFAULT_ARMS,
  domain: {
    // 24 steps (73,728 tokens; 40 before): the default run stays within 15 minutes with the controlled experiment
    train: {
      steps: 24,
      batchSize: 8,
      lr: 1e-3,
      minLr: 1e-4,
      warmupSteps: 4,
      evalEvery: 12,
      evalRows: 32,
      checkpointEvery: 12,
    },
    synthesizer: 'rules',
    instructionShare: 0.5,
  },
  // instruction tuning after pre-training is tested in the controlled experiment; on Brown its scores
  // stayed at chance (issue 11), so the default profile skips it (the CI profile keeps the code path)
  instructionTuning: {
    arms: [],
    train: {
      steps: 40,
      batchSize: 8,
      lr: 1e-3,
      minLr: 1e-4,
      warmupSteps: 4,
      evalEvery: 20,
      evalRows: 32,
      checkpointEvery: 20,
      keepCheckpoints: 10,
    },
    evalEvery: 20,
  },
  controlled: CONTROLLED_DEFAULT,
  // 0-shot only, held-out documents only: 1-shot and the held-out genre doubled the evaluation for tasks
  // at chance; 100 items a task (30 before): every Brown task is at chance at this size (README), and the
  // time goes to the controlled experiment, where an effect is measurable
  eval: { examplesPerTask: 100, groups: ['general'], shots: [0], kinds: EVAL_KINDS, batchSize: 16 },
};

/** The same code paths at CI size: under a minute on 2 cores (about 30 s measured). */
export const CI_PROFILE: AblationConfig = {
  ...DEFAULT_PROFILE,
  profile: 'ci',
  seeds: [1, 2, 3],
  arms: ALL_ARMS,
  corpus: {
    ...DEFAULT_PROFILE.corpus,
    evalDocsPerGenre: 1,
    domainEvalDocsPerGenre: 2,
    maxDocs: { pretrain: 6, synthesizer: 6, eval: 6, heldOutGenre: 3, domainTrain: 4, domainEval: 2 },
  },
  tokenizer: { vocabSize: 320 },
  synthesis: {
    ...DEFAULT_PROFILE.synthesis,
    tiny: {
      model: { contextLength: 512, width: 32, heads: 4, layers: 1, mlpRatio: 4 },
      train: { steps: 12, batchSize: 4, lr: 3e-3, minLr: 3e-4, warmupSteps: 2, evalEvery: 0, checkpointEvery: 6 },
      maxNewTokens: 24,
      temperature: 0.8,
      topP: 0.95,
      measureTexts: 6,
      batchSize: 8,
    },
  },
  pretrain: {
    model: { contextLength: 256, width: 32, heads: 4, layers: 1, mlpRatio: 4 },
    train: {
      steps: 10,
      batchSize: 4,
      lr: 3e-3,
      minLr: 3e-4,
      warmupSteps: 2,
      evalEvery: 5,
      evalRows: 8,
      checkpointEvery: 5,
    },
  },
  domain: {
    ...DEFAULT_PROFILE.domain,
    train: {
      steps: 4,
      batchSize: 4,
      lr: 1e-3,
      minLr: 1e-4,
      warmupSteps: 1,
      evalEvery: 2,
      evalRows: 8,
      checkpointEvery: 2,
    },
  },
  instructionTuning: {
    ...DEFAULT_PROFILE.instructionTuning,
    arms: ['vanilla', 'instruct-rules'],
    train: {
      steps: 4,
      batchSize: 4,
      lr: 1e-3,
      minLr: 1e-4,
      warmupSteps: 1,
      evalEvery: 2,
      evalRows: 8,
      checkpointEvery: 2,
      keepCheckpoints: 10,
    },
    evalEvery: 2,
  },
  controlled: CONTROLLED_CI,
  eval: { ...DEFAULT_PROFILE.eval, examplesPerTask: 12, groups: ['general', 'heldout-genre'], shots: [0, 1] },
};

export const PROFILES: Record<string, AblationConfig> = { default: DEFAULT_PROFILE, ci: CI_PROFILE };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
export function mergeConfig<T>(base: T, over: unknown, path = 'config'): T {
  if (over === undefined) return base;
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return over as T;
  if (over === null || typeof over !== 'object' || Array.isArray(over)) throw new Error(`${path} must be an object`);
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, Json>))
    out[k] = k in out ? mergeConfig(out[k], v, `${path}.${k}`) : v;
  return out as T;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/**
 * What would only fail deep inside a run (an unknown genre after the splits, a model too large for the
 * trainer after an hour of synthesis, counts that make empty benchmarks), refused before anything is written.
 */
function checkRunnable(c: AblationConfig): void {
  const fail = (why: string): never => {
    throw new Error(`ablation config: ${why}`);
  };
  const genres = brownGenres();
  for (const [where, list] of [
    ['corpus.heldOutGenres', c.corpus.heldOutGenres],
    ['corpus.domainGenres', c.corpus.domainGenres],
  ] as const) {
    if (!Array.isArray(list)) fail(`${where} must be a list of genre names`);
    for (const g of list)
      if (!genres.includes(g)) fail(`${where}: genre "${g}" is not a Brown genre; genres: ${genres.join(', ')}`);
  }
  // counts that only fail (or silently make an empty benchmark) deep inside the run
  const counts: Array<[string, unknown]> = [
    ['corpus.evalDocsPerGenre', c.corpus.evalDocsPerGenre],
    ['corpus.domainEvalDocsPerGenre', c.corpus.domainEvalDocsPerGenre],
    ['synthesis.pairsPerText', c.synthesis.pairsPerText],
    ['synthesis.maxSentenceChars', c.synthesis.maxSentenceChars],
    ['synthesis.collection.pairsPerText', c.synthesis.collection.pairsPerText],
    ['synthesis.tiny.maxNewTokens', c.synthesis.tiny.maxNewTokens],
    ['synthesis.tiny.measureTexts', c.synthesis.tiny.measureTexts],
    ['synthesis.tiny.batchSize', c.synthesis.tiny.batchSize],
    ['instructionTuning.evalEvery', c.instructionTuning.evalEvery],
    ['eval.examplesPerTask', c.eval.examplesPerTask],
    ['eval.batchSize', c.eval.batchSize],
    ...Object.entries(c.corpus.maxDocs ?? {}).map(([k, v]): [string, unknown] => [`corpus.maxDocs.${k}`, v]),
  ];
  for (const [where, v] of counts)
    if (!Number.isInteger(v) || (v as number) < 1)
      fail(`${where} must be a positive integer, got ${JSON.stringify(v)}`);
  if (!Number.isInteger(c.seed) || c.seed < 0)
    fail(`seed must be a non-negative integer, got ${JSON.stringify(c.seed)}`);
  try {
    checkBpeVocab(c.tokenizer.vocabSize, 'tokenizer.vocabSize', '');
  } catch (err) {
    fail((err as Error).message);
  }
  // the models as the run builds them, so a size the trainer cannot hold is refused now, not after an hour
  const models: Array<[string, Partial<GPTConfig>]> = [
    ['pretrain.model', c.pretrain.model],
    ['synthesis.tiny.model', { ...TINY_SYNTH_MODEL, ...c.synthesis.tiny.model }],
  ];
  for (const [where, model] of models) {
    try {
      resolveRunConfig({ model: { ...model, vocabSize: c.tokenizer.vocabSize } });
    } catch (err) {
      fail(`${where}: ${(err as Error).message}`);
    }
  }
}

export function validateConfig(c: AblationConfig): AblationConfig {
  const fail = (why: string): never => {
    throw new Error(`ablation config: ${why}`);
  };
  checkRunnable(c);
  if (!Array.isArray(c.seeds) || c.seeds.length === 0 || !c.seeds.every((s) => Number.isInteger(s) && s >= 0))
    fail('seeds must be a non-empty list of non-negative integers');
  if (new Set(c.seeds).size !== c.seeds.length) fail('seeds must be distinct');
  const share = (x: number, what: string) => (x >= 0 && x <= 1 ? x : fail(`${what} must be between 0 and 1, got ${x}`));
  share(c.corpus.synthesizerShare, 'corpus.synthesizerShare');
  share(c.synthesis.augmentShare, 'synthesis.augmentShare');
  share(c.domain.instructionShare, 'domain.instructionShare');
  if (!(c.corpus.contextBytes >= 64)) fail(`corpus.contextBytes must be at least 64, got ${c.corpus.contextBytes}`);
  const names = new Set<string>();
  for (const a of c.arms) {
    if (!NAME.test(a.name)) fail(`arm name "${a.name}" must be lower-case letters, digits and '-'`);
    if (names.has(a.name)) fail(`arm "${a.name}" appears twice`);
    names.add(a.name);
    if (!['vanilla', 'instruct', 'mix'].includes(a.kind))
      fail(`arm "${a.name}": kind must be vanilla, instruct or mix`);
    if (a.kind === 'instruct') {
      if (a.synthesizer !== 'rules' && a.synthesizer !== 'tiny')
        fail(`arm "${a.name}": an instruct arm needs synthesizer "rules" or "tiny"`);
      if (!Number.isInteger(a.rounds) || (a.rounds ?? 0) < 1)
        fail(`arm "${a.name}": rounds must be a positive integer`);
    }
  }
  if (!c.arms.some((a) => a.kind === 'vanilla')) fail('one arm must be vanilla: every gain is measured against it');
  for (const a of c.instructionTuning.arms)
    if (!names.has(a)) fail(`instructionTuning.arms names "${a}", which is not an arm`);
  for (const k of c.eval.kinds)
    if (!(RULE_KINDS as readonly string[]).includes(k)) fail(`eval.kinds: unknown rule kind "${k}"`);
  const collection = c.synthesis.collection;
  if (!Array.isArray(collection.kinds) || collection.kinds.length === 0)
    fail('synthesis.collection.kinds must be a non-empty list of rule kinds');
  for (const k of collection.kinds)
    if (!(RULE_KINDS as readonly string[]).includes(k)) fail(`synthesis.collection.kinds: unknown rule kind "${k}"`);
  for (const [k, w] of Object.entries(collection.weights ?? {})) {
    if (!(RULE_KINDS as readonly string[]).includes(k)) fail(`synthesis.collection.weights: unknown rule kind "${k}"`);
    if (!(typeof w === 'number' && w > 0 && Number.isFinite(w)))
      fail(`synthesis.collection.weights.${k} must be a positive number, got ${w}`);
  }
  if (!(c.synthesis.tiny.temperature >= 0))
    fail(`synthesis.tiny.temperature must be >= 0, got ${c.synthesis.tiny.temperature}`);
  if (!(c.synthesis.tiny.topP > 0 && c.synthesis.tiny.topP <= 1))
    fail(`synthesis.tiny.topP must be in (0, 1], got ${c.synthesis.tiny.topP}`);
  if (!c.eval.shots.every((k) => Number.isInteger(k) && k >= 0)) fail('eval.shots must be non-negative integers');
  if (!Array.isArray(c.eval.groups) || c.eval.groups.length === 0)
    fail('eval.groups must name at least one benchmark group');
  for (const g of c.eval.groups)
    if (!BENCHMARK_GROUPS.includes(g))
      fail(`eval.groups: unknown group "${g}"; groups: ${BENCHMARK_GROUPS.join(', ')}`);
  const overlap = c.corpus.heldOutGenres.filter((g) => c.corpus.domainGenres.includes(g));
  if (overlap.length) fail(`a genre cannot be both held out and the domain: ${overlap.join(', ')}`);
  // the training sections are checked here, so that --dry-run refuses what the run would refuse
  const trainSections: Array<[string, Partial<TrainConfig>]> = [
    ['synthesis.tiny.train', c.synthesis.tiny.train],
    ['pretrain.train', c.pretrain.train],
    ['domain.train', c.domain.train],
    ['instructionTuning.train', c.instructionTuning.train],
  ];
  for (const [where, train] of trainSections) {
    try {
      resolveTrainConfig(train);
    } catch (err) {
      fail(`${where}: ${(err as Error).message}`);
    }
  }
  validateControlledConfig(c.controlled);
  return c;
}

/** A profile by name, with a JSON file's fields merged over it. */
/** A misspelt section would otherwise be carried along unused, and the run would not be the one asked for. */
function checkTopLevelFields(base: AblationConfig, over: unknown, where: string): void {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return; // mergeConfig says what is wrong
  const known = Object.keys(base);
  for (const k of Object.keys(over)) {
    if (!known.includes(k))
      throw new Error(`${where}: unknown field "${k}"; the config's fields are ${known.join(', ')}`);
  }
}

export function loadAblationConfig(
  options: {
    profile?: string;
    file?: string;
    overrides?: unknown;
    /** How the user gave the file (default "--config"). */ what?: string;
  } = {},
): AblationConfig {
  const name = options.profile ?? 'default';
  const base = PROFILES[name];
  if (!base) throw new Error(`unknown profile "${name}"; profiles: ${Object.keys(PROFILES).join(', ')}`);
  let config = base;
  if (options.file) {
    const json = readJson(options.file, { what: options.what ?? '--config' });
    const infinite = nonFiniteNumberPath(json);
    if (infinite) throw new Error(`${options.file}: ${nonFiniteMessage(infinite)}`);
    checkTopLevelFields(base, json, options.file);
    config = mergeConfig(config, json, options.file);
  }
  checkTopLevelFields(base, options.overrides, 'overrides');
  config = mergeConfig(config, options.overrides);
  return validateConfig(config);
}
