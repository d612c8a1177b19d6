// The controlled experiment's configuration (the `controlled` section of the ablation config): which
// people, which attributes are asked about in pre-training and which are held out, who writes the pairs,
// the arms and seeds, the model and its budgets, instruction tuning, and the tests. Two profiles, the
// default (a few minutes on a 2-core machine) and ci (the same code paths in seconds), and the plan
// estimate said before a run starts.

import { ATTRIBUTES, NAME_COUNT } from '../corpus/people.js';
import type { GPTConfig } from '../engine/gpt.js';
import { RULE_KINDS, type RuleKind } from '../synth/rules.js';
import { resolveTrainConfig, type TrainConfig } from '../train/trainer.js';

export type ControlledArmKind = 'vanilla' | 'instruct' | 'mix';

export type ControlledArm = {
  /** File-name safe: "vanilla", "instruct", "instruct-m2", "mix". */
  name: string;
  kind: ControlledArmKind;
  /** instruct arms: synthesis rounds (M); mix uses one round for its instruction texts. */
  rounds?: number;
  /** Pre-training seeds of this arm (default: the section's seeds): a secondary comparison may use fewer. */
  seeds?: number[];
  description: string;
};

export type ControlledConfig = {
  /** false: `ipt ablate` skips the controlled experiment. */
  enabled: boolean;
  /** Seed of the people, the synthesis, the rendering and the test items. */
  seed: number;
  /** Pre-training seeds; gains pair runs of the same seed. */
  seeds: number[];
  /**
   * People per role, all distinct: pre-training biographies; instruction people (the mix arm's
   * instruction texts are about them); tuning people (instruction tuning); test people, whom no
   * training ever sees.
   */
  people: { pretrain: number; instruction: number; tuning: number; test: number };
  /** The attributes every biography states, in this order (the order of the sentences). */
  attributes: string[];
  /** Attributes never asked about in pre-training or tuning: synthesized pairs that mention their values are dropped. */
  heldOutAttributes: string[];
  /** Per attribute, the last this-many question wordings are held out: no training text may use them. */
  heldOutWordings: number;
  /** Biography sentence templates per attribute (default all) and whether sentences come in a seeded order. */
  biography: { sentenceTemplates?: number; shuffleOrder: boolean };
  /**
   * Who writes the pairs: "rules" (the kit's rule-based synthesizer), "tiny" (the tiny synthesizer the
   * Brown part of the run trains), or any engine spec (onnx:DIR, openai:URL).
   */
  synthesizer: {
    engine: string;
    maxPairs: number;
    kinds?: RuleKind[];
    maxModelLen: number;
    maxNewTokens: number;
    batchSize: number;
  };
  arms: ControlledArm[];
  tokenizer: { vocabSize: number };
  model: Partial<GPTConfig>;
  pretrain: Partial<TrainConfig>;
  /**
   * Instruction tuning after pre-training ("benefits more from further tuning"): questions about the
   * tuning people's `attributes` (in the seen wordings), loss on the answers; the tuned models are then
   * tested on the held-out attributes as well.
   */
  tuning: { arms: string[]; attributes: string[]; train: Partial<TrainConfig> };
  /** Items per test, choices per multiple-choice item (the right value and others of the attribute), generation budget. */
  eval: { items: number; choices: number; maxNewTokens: number; batchSize: number };
};

export const CONTROLLED_ARMS: ControlledArm[] = [
  { name: 'vanilla', kind: 'vanilla', description: 'Vanilla PT: the biographies only' },
  {
    name: 'instruct',
    kind: 'instruct',
    rounds: 1,
    description:
      'Instruct PT: each biography followed by the pairs the synthesizer wrote about it (M = 1), rendered by the templates',
  },
  {
    name: 'mix',
    kind: 'mix',
    description: 'Mix PT: the biographies, plus as many instruction texts (biography and pairs) about other people',
  },
  {
    name: 'instruct-m2',
    kind: 'instruct',
    rounds: 2,
    seeds: [1],
    description:
      'Instruct PT with two-round synthesis (M = 2): earlier biographies and their pairs as few-shot demonstrations',
  },
];

const TRAINED = ['birthYear', 'birthCity', 'university', 'major'];

export const CONTROLLED_DEFAULT: ControlledConfig = {
  enabled: true,
  seed: 1,
  seeds: [1, 2, 3],
  people: { pretrain: 300, instruction: 300, tuning: 200, test: 150 },
  attributes: ATTRIBUTES.map((a) => a.name),
  heldOutAttributes: ['employer', 'hobby'],
  heldOutWordings: 2,
  biography: { shuffleOrder: false },
  synthesizer: { engine: 'rules', maxPairs: 6, maxModelLen: 1024, maxNewTokens: 256, batchSize: 64 },
  arms: CONTROLLED_ARMS,
  tokenizer: { vocabSize: 1024 },
  model: { contextLength: 128, width: 64, heads: 4, layers: 2, mlpRatio: 4 },
  // 600 steps (307,200 tokens, about 8 passes over the vanilla corpus): measured, the instruct gain on new people was
  // +0.575 [+0.453, +0.697] at 800 steps and +0.529 [+0.424, +0.635] at 3000 (README), so the budget goes to the Brown part
  pretrain: {
    steps: 600,
    batchSize: 4,
    lr: 5e-3,
    minLr: 5e-4,
    warmupSteps: 30,
    beta2: 0.99,
    packing: 'documents',
    valFraction: 0,
    evalEvery: 0,
    checkpointEvery: 300,
  },
  tuning: {
    arms: ['vanilla', 'instruct'],
    attributes: TRAINED,
    train: {
      steps: 100,
      batchSize: 8,
      lr: 2e-3,
      minLr: 2e-4,
      warmupSteps: 10,
      packing: 'documents',
      valFraction: 0,
      evalEvery: 0,
      checkpointEvery: 50,
    },
  },
  eval: { items: 150, choices: 4, maxNewTokens: 4, batchSize: 32 },
};

/** The same code paths in seconds: a handful of people, a tiny model, a few steps. */
export const CONTROLLED_CI: ControlledConfig = {
  ...CONTROLLED_DEFAULT,
  seeds: [1, 2],
  people: { pretrain: 24, instruction: 24, tuning: 12, test: 12 },
  arms: CONTROLLED_ARMS,
  tokenizer: { vocabSize: 384 },
  model: { contextLength: 128, width: 32, heads: 4, layers: 1, mlpRatio: 4 },
  pretrain: { ...CONTROLLED_DEFAULT.pretrain, steps: 8, warmupSteps: 2, checkpointEvery: 4 },
  tuning: {
    ...CONTROLLED_DEFAULT.tuning,
    train: { ...CONTROLLED_DEFAULT.tuning.train, steps: 4, warmupSteps: 1, checkpointEvery: 2 },
  },
  eval: { items: 12, choices: 4, maxNewTokens: 4, batchSize: 32 },
};

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Throws a one-line error naming the field; `where` prefixes it (the config file or "ablation config"). */
export function validateControlledConfig(c: ControlledConfig, where = 'ablation config'): ControlledConfig {
  const fail = (why: string): never => {
    throw new Error(`${where}: controlled.${why}`);
  };
  const known = new Set(ATTRIBUTES.map((a) => a.name));
  if (typeof c.enabled !== 'boolean') fail('enabled must be true or false');
  if (!Number.isInteger(c.seed) || c.seed < 0) fail(`seed must be a non-negative integer, got ${c.seed}`);
  const seedList = (seeds: unknown, what: string) => {
    if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0))
      fail(`${what} must be a non-empty list of non-negative integers`);
    if (new Set(seeds as number[]).size !== (seeds as number[]).length) fail(`${what} must be distinct`);
  };
  seedList(c.seeds, 'seeds');
  for (const role of ['pretrain', 'instruction', 'tuning', 'test'] as const) {
    const n = c.people?.[role];
    if (!Number.isInteger(n) || n < 1) fail(`people.${role} must be a positive integer, got ${n}`);
  }
  const total = c.people.pretrain + c.people.instruction + c.people.tuning + c.people.test;
  if (total > NAME_COUNT) fail(`people: ${total} people in all, but the generator has ${NAME_COUNT} distinct names`);
  if (!Array.isArray(c.attributes) || c.attributes.length < 2) fail('attributes must name at least two attributes');
  for (const a of [...c.attributes, ...c.heldOutAttributes, ...c.tuning.attributes])
    if (!known.has(a)) fail(`unknown attribute "${a}"; attributes: ${[...known].join(', ')}`);
  if (new Set(c.attributes).size !== c.attributes.length) fail('attributes must be distinct');
  for (const a of c.heldOutAttributes)
    if (!c.attributes.includes(a)) fail(`heldOutAttributes: "${a}" is not in attributes`);
  if (c.heldOutAttributes.length < 2 || c.attributes.length - c.heldOutAttributes.length < 2)
    fail(
      'heldOutAttributes: hold out at least two attributes and ask about at least two (the "which fact" choices are their values)',
    );
  for (const a of c.tuning.attributes)
    if (c.heldOutAttributes.includes(a))
      fail(`tuning.attributes: "${a}" is held out; tuning may only ask about attributes pre-training asks about`);
  if (!Number.isInteger(c.heldOutWordings) || c.heldOutWordings < 1 || c.heldOutWordings > 3)
    fail(`heldOutWordings must be 1, 2 or 3, got ${c.heldOutWordings}`);
  if (typeof c.biography?.shuffleOrder !== 'boolean') fail('biography.shuffleOrder must be true or false');
  const s = c.synthesizer;
  if (
    typeof s?.engine !== 'string' ||
    !(s.engine === 'rules' || s.engine === 'tiny' || /^(onnx|openai):.+/.test(s.engine))
  ) {
    fail(`synthesizer.engine must be "rules", "tiny", onnx:DIR or openai:URL, got ${JSON.stringify(s?.engine)}`);
  }
  for (const k of ['maxPairs', 'maxModelLen', 'maxNewTokens', 'batchSize'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1) fail(`synthesizer.${k} must be a positive integer, got ${s[k]}`);
  if (s.maxNewTokens >= s.maxModelLen) fail('synthesizer.maxNewTokens must be below synthesizer.maxModelLen');
  for (const k of s.kinds ?? [])
    if (!(RULE_KINDS as readonly string[]).includes(k)) fail(`synthesizer.kinds: unknown rule kind "${k}"`);
  const names = new Set<string>();
  for (const a of c.arms) {
    if (!NAME.test(a.name)) fail(`arms: name "${a.name}" must be lower-case letters, digits and '-'`);
    if (names.has(a.name)) fail(`arms: "${a.name}" appears twice`);
    names.add(a.name);
    if (!['vanilla', 'instruct', 'mix'].includes(a.kind))
      fail(`arms: "${a.name}": kind must be vanilla, instruct or mix`);
    if (a.kind === 'instruct' && (!Number.isInteger(a.rounds) || (a.rounds ?? 0) < 1))
      fail(`arms: "${a.name}": rounds must be a positive integer`);
    if (a.seeds !== undefined) {
      seedList(a.seeds, `arms "${a.name}" seeds`);
      for (const x of a.seeds)
        if (!c.seeds.includes(x)) fail(`arms: "${a.name}" seed ${x} is not in seeds (gains pair runs with vanilla's)`);
    }
  }
  if (!c.arms.some((a) => a.kind === 'vanilla' && a.seeds === undefined))
    fail('arms: one vanilla arm with every seed is needed: gains are measured against it');
  for (const a of c.tuning.arms) if (!names.has(a)) fail(`tuning.arms names "${a}", which is not an arm`);
  if (!Number.isInteger(c.tokenizer?.vocabSize) || c.tokenizer.vocabSize < 300)
    fail(`tokenizer.vocabSize must be an integer of at least 300, got ${c.tokenizer?.vocabSize}`);
  for (const [k, train] of [
    ['pretrain', c.pretrain],
    ['tuning.train', c.tuning.train],
  ] as const) {
    try {
      resolveTrainConfig(train);
    } catch (err) {
      fail(`${k}: ${(err as Error).message}`);
    }
  }
  const e = c.eval;
  if (!Number.isInteger(e?.items) || e.items < 2) fail(`eval.items must be an integer of at least 2, got ${e?.items}`);
  const fewest = Math.min(...c.attributes.map((a) => ATTRIBUTES.find((x) => x.name === a)!.values.length));
  if (!Number.isInteger(e.choices) || e.choices < 2 || e.choices > fewest)
    fail(`eval.choices must be from 2 to ${fewest} (the smallest vocabulary), got ${e.choices}`);
  for (const k of ['maxNewTokens', 'batchSize'] as const)
    if (!Number.isInteger(e[k]) || e[k] < 1) fail(`eval.${k} must be a positive integer, got ${e[k]}`);
  return c;
}

/** Seeds an arm is pre-trained with. */
export function armSeeds(c: ControlledConfig, arm: ControlledArm): number[] {
  return arm.seeds ?? c.seeds;
}

function tokensOf(train: Partial<TrainConfig>, contextLength: number | undefined): number {
  return (train.steps ?? 0) * (train.batchSize ?? 0) * (contextLength ?? 0);
}

/**
 * Throughputs of the controlled experiment's parts on the project's 2-core VM (Node 20), for the plan's
 * estimate, measured in `npm start` from a fresh clone on 2026-12-02 (load average 1.2-1.5, the run alone):
 * training the default section's model (width 64, 2 layers, vocabulary 1024, context 128) 15.6k tokens/s
 * (4.1M pre-training and 0.6M tuning tokens in 301 s; another run that day gave 22.5k: the VM varies);
 * evaluation through ONNX Runtime 0.75 ms per scored choice or generated answer of these ~80-token prompts.
 */
export const CONTROLLED_MEASURED = { trainTokensPerSecond: 15_600, secondsPerRequest: 0.00075, overheadSeconds: 10 };

/** Scored choices and generated answers of one evaluation: three reading tests (and the memorised test before tuning). */
function requestsPerEvaluation(c: ControlledConfig, tuned: boolean): number {
  const asked = c.attributes.length - c.heldOutAttributes.length;
  const reading = (facts: number) => facts + c.eval.choices + c.eval.maxNewTokens;
  return c.eval.items * (2 * reading(asked) + reading(c.heldOutAttributes.length) + (tuned ? 0 : c.eval.choices));
}

export type ControlledPlan = {
  trainingRuns: number;
  trainingTokens: number;
  evaluations: number;
  estimatedSeconds: number;
  lines: string[];
};

export function describeControlledPlan(c: ControlledConfig): ControlledPlan {
  const T = c.model.contextLength;
  const runs = c.arms.reduce((n, a) => n + armSeeds(c, a).length, 0);
  const tuned = c.arms.filter((a) => c.tuning.arms.includes(a.name)).reduce((n, a) => n + armSeeds(c, a).length, 0);
  const pretrainTokens = runs * tokensOf(c.pretrain, T);
  const tuningTokens = tuned * tokensOf(c.tuning.train, T);
  const evaluations = runs + tuned;
  const requests = runs * requestsPerEvaluation(c, false) + tuned * requestsPerEvaluation(c, true);
  const seconds =
    (pretrainTokens + tuningTokens) / CONTROLLED_MEASURED.trainTokensPerSecond +
    requests * CONTROLLED_MEASURED.secondsPerRequest +
    CONTROLLED_MEASURED.overheadSeconds;
  const minutes = Math.max(1, Math.round(seconds / 60));
  return {
    trainingRuns: runs + tuned,
    trainingTokens: pretrainTokens + tuningTokens,
    evaluations,
    estimatedSeconds: seconds,
    lines: [
      `Controlled experiment: ${c.people.pretrain} synthetic people's biographies, arms ${c.arms.map((a) => `${a.name} (${armSeeds(c, a).length} seed${armSeeds(c, a).length === 1 ? '' : 's'})`).join(', ')}, ` +
        `each pre-trained for ${tokensOf(c.pretrain, T).toLocaleString('en-US')} tokens, pairs by ${c.synthesizer.engine}; tested on ${c.people.test} new people;`,
      `then instruction tuning of ${c.tuning.arms.join(', ')}: ${runs + tuned} training runs, ${((pretrainTokens + tuningTokens) / 1e6).toFixed(1)} M tokens, about ${minutes} minute${minutes === 1 ? '' : 's'} on a 2-core machine.`,
    ],
  };
}
