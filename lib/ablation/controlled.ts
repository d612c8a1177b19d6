// The controlled experiment: Instruction Pre-Training on synthetic biographies, tested on people no model
// ever saw. Because the generator (lib/corpus/people.ts) knows every fact, answers are scored exactly and
// what pre-training contained is checked: no pair about a held-out attribute, no held-out wording.
//
//   people -> synthesis (the configured synthesizer reads the biographies and writes pairs, M rounds)
//   -> corpus per arm (vanilla: biographies; instruct: biographies with their pairs, rendered by the
//      templates; mix: biographies plus as many instruction texts about other people)
//   -> tokenizer -> pre-training per arm and seed (equal tokens, whole documents per row)
//   -> tests on new people: (i) the questions the synthesizer writes, (ii) held-out wordings,
//      (iii) held-out attributes; and closed-book recall of pre-training biographies (memorised)
//   -> instruction tuning of some arms on some attributes, tested again (held-out attributes included)
//
// Every step is a cached stage of the ablation run (lib/repro/stages.ts), so a killed run resumes. The
// records keep each model's score on every test item, so intervals can cover items and seeds.

import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  askAbout,
  assignRoles,
  attributeByName,
  attributeOfAnswer,
  generatePeople,
  goldPairs,
  questionWordings,
  wordingPattern,
  type Person,
} from '../corpus/people.js';
import type { CompletionEngine } from '../engine/completion.js';
import { openEngine } from '../engine/open.js';
import {
  loadTokenizer,
  tinyTokenizerFiles,
  TINY_BASE_VOCAB,
  type TokenizerFiles,
  readTokenizerFiles,
} from '../engine/tokenizer.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import { evaluate } from '../eval/harness.js';
import type { GenerationTask, MultipleChoiceTask, Task } from '../eval/tasks.js';
import { writeFileAtomic } from '../repro/files.js';
import { readJsonl, readStageJson, writeJsonl } from './stage-files.js';
import { canonicalJson, sha256 } from '../repro/hash.js';
import type { ProgressMode } from '../repro/progress.js';
import { createRng, deriveSeed, pick, shuffleInPlace } from '../repro/rng.js';
import type { StageContext, StageOutcome } from '../repro/stages.js';
import { synthesize } from '../synth/driver.js';
import type { Chain, Pair } from '../synth/format.js';
import { ruleSynthesizer, RULES_VERSION } from '../synth/rules.js';
import { pairParts, renderChains } from '../templates/render.js';
import { BpeEncoder, trainBpeMerges } from '../train/bpe.js';
import type { TrainingDocument } from '../train/data.js';
import { readMetrics, trainRun, type StepRecord } from '../train/run.js';
import { openTinySynthesizer } from '../train/tiny-synthesizer.js';
import { armSeeds, type ControlledArm, type ControlledConfig } from './controlled-config.js';

/** Runs one cached stage of the ablation run (the pipeline's, so stages are counted and logged in one place). */
export type StageRunner = <T>(
  name: string,
  version: number,
  key: unknown,
  run: (s: StageContext) => Promise<T>,
) => Promise<StageOutcome<T>>;

export type ControlledOptions = {
  config: ControlledConfig;
  stage: StageRunner;
  /** The run folder, for paths in the records. */
  outDir: string;
  threads?: number;
  progress?: ProgressMode;
  /** The tiny synthesizer's model folder and the hash of its stage, when the engine is "tiny". */
  tinySynthesizer?: () => Promise<{ modelDir: string; keyHash: string }>;
};

export type Role = 'pretrain' | 'instruction' | 'tuning' | 'test';

/** The evaluation prompt: the biography, then the question in the templates' plainest layout. */
export function readingPrompt(biography: string, question: string): string {
  return `${biography}\n\nQuestion: ${question}\nAnswer:`;
}

// ------------------------------------------------------------------------------------------ files

// ------------------------------------------------------------------------------------------ people and pairs

export type RoledPerson = Person & { role: Role };

/** Everyone in the experiment, each with a role; the same config gives the same people. */
export function makePeople(c: ControlledConfig): RoledPerson[] {
  const p = c.people;
  const people = generatePeople({
    seed: c.seed,
    count: p.pretrain + p.instruction + p.tuning + p.test,
    attributes: c.attributes,
    sentenceTemplates: c.biography.sentenceTemplates,
    shuffleOrder: c.biography.shuffleOrder,
  });
  const roles = assignRoles(people, {
    pretrain: p.pretrain,
    instruction: p.instruction,
    tuning: p.tuning,
    test: p.test,
  });
  return (Object.keys(roles) as Role[]).flatMap((role) => roles[role].map((x) => ({ ...x, role })));
}

export type PairFilter = { kept: number; heldOutAttribute: number; heldOutWording: number };

/** Held-out wordings of every attribute, as patterns that recognise them in any text. */
export function heldOutPatterns(c: ControlledConfig): RegExp[] {
  return c.attributes.flatMap((a) => questionWordings(a, 'heldout', c.heldOutWordings)).map(wordingPattern);
}

/**
 * The pairs pre-training may keep: a pair that mentions (in question or answer) the person's value of a
 * held-out attribute is about that attribute and is dropped, and so is a pair worded like a held-out wording.
 */
export function filterPairs(
  person: Person,
  pairs: Pair[],
  c: ControlledConfig,
  patterns: RegExp[],
  tally: PairFilter,
): Pair[] {
  const held = c.heldOutAttributes.map((a) => person.values[a].toLowerCase());
  return pairs.filter((p) => {
    const text = `${p.question}\n${p.answer}`.toLowerCase();
    if (held.some((v) => new RegExp(`(^|[^a-z0-9])${v}($|[^a-z0-9])`).test(text))) {
      tally.heldOutAttribute++;
      return false;
    }
    if (patterns.some((r) => r.test(p.question))) {
      tally.heldOutWording++;
      return false;
    }
    tally.kept++;
    return true;
  });
}

/** Chains with every entry's pairs filtered (the entry's context is a biography, which names its person). */
function filterChains(
  chains: Chain[],
  byBiography: Map<string, Person>,
  c: ControlledConfig,
  tally: PairFilter,
): Chain[] {
  const patterns = heldOutPatterns(c);
  return chains.map((chain) =>
    chain.map((e) => {
      const person = byBiography.get(e.context);
      if (!person)
        throw new Error(
          `a synthesized chain holds a text that is no biography of the experiment: ${JSON.stringify(e.context.slice(0, 60))}`,
        );
      return { ...e, pairs: filterPairs(person, e.pairs, c, patterns, tally) };
    }),
  );
}

/** Pairs per attribute they state (an answer naming one attribute value), and pairs about none. */
function pairsByAttribute(chains: Chain[], byBiography: Map<string, Person>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const chain of chains) {
    for (const e of chain) {
      const person = byBiography.get(e.context)!;
      for (const p of e.pairs) {
        const a = attributeOfAnswer(person, pairParts(p).final) ?? 'none';
        out[a] = (out[a] ?? 0) + 1;
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ the experiment

type Ctx = ControlledOptions & { c: ControlledConfig };

type SynthesisResult = { texts: number; pairs: number; textsWithPairs: number; engine: string };
type CorpusResult = {
  documents: number;
  bytes: number;
  filter: PairFilter | null;
  pairsByAttribute: Record<string, number> | null;
  file: string;
};
type TrainResult = {
  modelDir: string;
  steps: number;
  tokens: number;
  finalLoss: number | null;
  seconds: number;
  tokensPerSecond: number | null;
};

export type TestName = 'seen' | 'heldout-wording' | 'heldout-attribute' | 'memorised';

export const TEST_DESCRIPTIONS: Record<TestName, string> = {
  seen: 'new people, questions as the synthesizer writes them in pre-training',
  'heldout-wording': 'new people, attributes asked in pre-training, wordings never seen',
  'heldout-attribute': 'new people, attributes never asked about in pre-training',
  memorised: 'pre-training people, closed-book: their biography continued to the value',
};

/** One scored item: which person and attribute, for breakdowns. */
export type ItemInfo = { person: number; attribute: string };

/**
 * How an item is answered: `fact`, choose among the person's values of the test's attributes (all in the
 * biography: which of its facts does the question ask for?); `value`, choose among values of the asked
 * kind, only the right one in the biography (read the value itself); `generated`, greedy generation must
 * equal the value.
 */
export type Measure = 'fact' | 'value' | 'generated';

export const MEASURE_DESCRIPTIONS: Record<Measure, string> = {
  fact: "multiple choice among the biography's own facts (which fact does the question ask for?)",
  value: 'multiple choice among values of the asked kind, only the right one in the biography (read the value)',
  generated: 'generated answer, exact match',
};

export type ControlledTask = Task & {
  test: TestName;
  measure: Measure;
  metric: 'acc' | 'exact_match';
  chance: number;
  items: ItemInfo[];
};

export type ModelScores = {
  /** task name -> the score of each item, in the task's order (acc or exact match: 0 or 1). */
  items: Record<string, number[]>;
  /** A few generated answers per generation task, to show what the model says. */
  samples: Record<string, Array<{ prompt: string; target: string; prediction: string }>>;
};

export type ControlledRun = {
  arm: string;
  seed: number;
  tuned: boolean;
  train: TrainResult;
  curve: StepRecord[];
  scores: ModelScores;
};

export type ControlledRecords = {
  config: ControlledConfig;
  people: Record<Role, number>;
  synthesis: Record<string, SynthesisResult>;
  corpora: Record<string, CorpusResult & { tokens: number; description: string; example: string; dir: string }>;
  tokenizer: { vocabSize: number; merges: number };
  tasks: Array<Pick<ControlledTask, 'name' | 'test' | 'measure' | 'type' | 'metric' | 'chance'> & { examples: number }>;
  /** Which person and attribute each item of a task asks about, in the order of the per-item scores. */
  taskItems: Record<string, ItemInfo[]>;
  runs: ControlledRun[];
  /** Rendered examples for the report and the notebook: one training text per arm, one test prompt per test. */
  examples: { prompts: Record<string, string> };
};

async function openSynthesizer(ctx: Ctx): Promise<{ engine: CompletionEngine; key: unknown }> {
  const s = ctx.c.synthesizer;
  if (s.engine === 'rules') {
    const engine = ruleSynthesizer({ seed: ctx.c.seed, maxPairs: s.maxPairs, minPairs: s.maxPairs, kinds: s.kinds });
    return { engine, key: { engine: 'rules', version: RULES_VERSION, maxPairs: s.maxPairs, kinds: s.kinds ?? null } };
  }
  if (s.engine === 'tiny') {
    if (!ctx.tinySynthesizer)
      throw new Error(
        'controlled.synthesizer.engine "tiny" needs the tiny synthesizer of the run, which this run does not train',
      );
    const tiny = await ctx.tinySynthesizer();
    return {
      engine: await openTinySynthesizer(tiny.modelDir, { threads: ctx.threads, batchSize: s.batchSize }),
      key: { engine: 'tiny', model: tiny.keyHash },
    };
  }
  return {
    engine: await openEngine(s.engine, { threads: ctx.threads, batchSize: s.batchSize }),
    key: { engine: s.engine },
  };
}

async function peopleStage(ctx: Ctx) {
  const c = ctx.c;
  const key = { seed: c.seed, people: c.people, attributes: c.attributes, biography: c.biography };
  return ctx.stage('controlled-people', 1, key, async ({ dir }) => {
    const people = makePeople(c);
    writeJsonl(join(dir, 'people.jsonl'), people);
    const counts = { pretrain: 0, instruction: 0, tuning: 0, test: 0 } as Record<Role, number>;
    for (const p of people) counts[p.role]++;
    return counts;
  });
}

function readPeople(stage: StageOutcome<unknown>): RoledPerson[] {
  return readJsonl<RoledPerson>(join(stage.dir, 'people.jsonl'));
}

/** The synthesizer over one group's biographies, M rounds: the chains as the driver writes them. */
async function synthesisStage(ctx: Ctx, people: StageOutcome<unknown>, role: Role, rounds: number) {
  const c = ctx.c;
  const s = c.synthesizer;
  // the engine's identity is part of the key; opening it is cheap for the rules, and needed anyway otherwise
  const opened = s.engine === 'rules' ? await openSynthesizer(ctx) : undefined;
  const engineKey = opened?.key ?? {
    engine: s.engine,
    ...(s.engine === 'tiny' && ctx.tinySynthesizer ? { model: (await ctx.tinySynthesizer()).keyHash } : {}),
  };
  const key = {
    people: people.record.keyHash,
    role,
    rounds,
    engine: engineKey,
    maxModelLen: s.maxModelLen,
    maxNewTokens: s.maxNewTokens,
    batchSize: s.batchSize,
  };
  return ctx.stage(`controlled-synth-${role}-m${rounds}`, 1, key, async ({ dir }) => {
    const { engine } = opened ?? (await openSynthesizer(ctx));
    try {
      const texts = readPeople(people)
        .filter((p) => p.role === role)
        .map((p) => p.biography);
      const r = await synthesize({
        texts,
        engine,
        outDir: join(dir, 'run'),
        rounds,
        maxModelLen: s.maxModelLen,
        maxNewTokens: s.maxNewTokens,
        batchSize: s.batchSize,
        progress: ctx.progress,
      });
      return {
        texts: r.totals.texts,
        pairs: r.totals.pairs,
        textsWithPairs: r.totals.textsWithPairs,
        engine: engine.name,
      } satisfies SynthesisResult;
    } finally {
      await engine.close?.();
    }
  });
}

function readChains(stage: StageOutcome<unknown>): Chain[] {
  return readJsonl<Chain>(join(stage.dir, 'run', 'chains.jsonl'));
}

async function corpusStage(
  ctx: Ctx,
  arm: ControlledArm,
  people: StageOutcome<unknown>,
  synth: { own?: StageOutcome<unknown>; other?: StageOutcome<unknown> },
) {
  const c = ctx.c;
  const key = {
    people: people.record.keyHash,
    kind: arm.kind,
    own: synth.own?.record.keyHash ?? null,
    other: synth.other?.record.keyHash ?? null,
    heldOut: c.heldOutAttributes,
    heldOutWordings: c.heldOutWordings,
    seed: c.seed,
  };
  return ctx.stage(`controlled-corpus-${arm.name}`, 1, key, async ({ dir }) => {
    const everyone = readPeople(people);
    const byBiography = new Map(everyone.map((p) => [p.biography, p as Person]));
    const biographies = everyone.filter((p) => p.role === 'pretrain').map((p) => p.biography);
    const tally: PairFilter = { kept: 0, heldOutAttribute: 0, heldOutWording: 0 };
    let texts: string[];
    let byAttribute: Record<string, number> | null = null;
    if (arm.kind === 'vanilla') {
      texts = biographies;
    } else {
      const chains = filterChains(
        readChains((arm.kind === 'instruct' ? synth.own : synth.other)!),
        byBiography,
        c,
        tally,
      );
      byAttribute = pairsByAttribute(chains, byBiography);
      const rendered = renderChains(chains, deriveSeed(c.seed, 'render', arm.name));
      texts = arm.kind === 'instruct' ? rendered : [...biographies, ...rendered];
    }
    // what reaches pre-training never uses a held-out wording (the templates add none; the filter removed the synthesizer's)
    const patterns = heldOutPatterns(c);
    const leaked = texts.filter((t) => patterns.some((r) => r.test(t)));
    if (leaked.length)
      throw new Error(
        `corpus ${arm.name}: ${leaked.length} texts use a held-out question wording, e.g. ${JSON.stringify(leaked[0].slice(0, 200))}`,
      );
    writeJsonl(
      join(dir, 'train.jsonl'),
      texts.map((text) => ({ text })),
    );
    return {
      documents: texts.length,
      bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0),
      filter: arm.kind === 'vanilla' ? null : tally,
      pairsByAttribute: byAttribute,
      file: 'train.jsonl',
    } satisfies CorpusResult;
  });
}

function corpusTexts(stage: StageOutcome<CorpusResult>): string[] {
  return readJsonl<{ text: string }>(join(stage.dir, stage.result.file)).map((r) => r.text);
}

/** Instruction tuning: questions about the tuning people's tuned attributes, in seen wordings; loss on the answer. */
export function tuningDocuments(people: Person[], c: ControlledConfig): TrainingDocument[] {
  return people.flatMap((p) =>
    goldPairs(p, c.tuning.attributes, 'pretrain', c.heldOutWordings, deriveSeed(c.seed, 'tuning')).map((pair) => ({
      segments: [
        { text: readingPrompt(p.biography, pair.question), train: false },
        { text: ` ${pair.answer}`, train: true },
      ],
    })),
  );
}

async function tokenizerStage(ctx: Ctx, corpora: Array<StageOutcome<CorpusResult>>, people: StageOutcome<unknown>) {
  const c = ctx.c;
  const key = {
    corpora: corpora.map((x) => x.record.keyHash),
    people: people.record.keyHash,
    vocabSize: c.tokenizer.vocabSize,
    contextLength: c.model.contextLength,
    tuning: c.tuning.attributes,
  };
  return ctx.stage('controlled-tokenizer', 1, key, async ({ dir }) => {
    // every text any model trains on (not the tests): the arms' corpora and the tuning questions
    const tuning = tuningDocuments(
      readPeople(people).filter((p) => p.role === 'tuning'),
      c,
    ).flatMap((d) => ('segments' in d ? [d.segments.map((s) => s.text).join('')] : []));
    const texts = [...corpora.flatMap(corpusTexts), ...tuning];
    const merges = trainBpeMerges(texts, c.tokenizer.vocabSize - TINY_BASE_VOCAB);
    const files = tinyTokenizerFiles({ merges, modelMaxLength: c.model.contextLength });
    writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
    writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
    const enc = new BpeEncoder(merges);
    const tokens = Object.fromEntries(
      corpora.map((x) => [x.record.name, corpusTexts(x).reduce((n, t) => n + enc.encode(t).length + 1, 0)]),
    );
    return { merges: merges.length, vocabSize: TINY_BASE_VOCAB + merges.length, tokens };
  });
}

function tokenizerFiles(stage: StageOutcome<unknown>): TokenizerFiles {
  const files = readTokenizerFiles(stage.dir);
  if (!files)
    throw new Error(`no tokenizer.json in ${stage.dir}: the stage folder is incomplete; delete it and run again`);
  return files;
}

// ------------------------------------------------------------------------------------------ tests

/** Multiple choice over the attribute's values: the right one and `choices - 1` others (none of them in the biography). */
function choicesFor(
  person: Person,
  attribute: string,
  count: number,
  rng: ReturnType<typeof createRng>,
): { choices: string[]; gold: number } {
  const value = person.values[attribute];
  const others = shuffleInPlace(
    attributeByName(attribute).values.filter((v) => v !== value),
    rng,
  ).slice(0, count - 1);
  const choices = shuffleInPlace([value, ...others], rng);
  return { choices, gold: choices.indexOf(value) };
}

type Question = { person: Person; attribute: string; question: string };

/** Test (i): the questions the synthesizer wrote about the test people, about attributes pre-training asks about. */
function seenQuestions(
  test: Person[],
  chains: Chain[],
  c: ControlledConfig,
  limit: number,
  rng: ReturnType<typeof createRng>,
): Question[] {
  const byBiography = new Map(test.map((p) => [p.biography, p]));
  const asked = c.attributes.filter((a) => !c.heldOutAttributes.includes(a));
  const found: Question[] = [];
  const seen = new Set<string>();
  for (const chain of chains) {
    for (const e of chain) {
      const person = byBiography.get(e.context);
      if (!person) continue;
      for (const pair of e.pairs) {
        const parts = pairParts(pair);
        const attribute = attributeOfAnswer(person, parts.final);
        if (!attribute || !asked.includes(attribute) || seen.has(`${person.id}/${attribute}`)) continue;
        // the stem only: the test gives its own choices, and asks for the answer without reasoning
        const question = parts.stem.trim();
        if (question.includes(person.values[attribute])) continue; // a question that holds its answer tests nothing
        seen.add(`${person.id}/${attribute}`);
        found.push({ person, attribute, question });
      }
    }
  }
  return shuffleInPlace(found, rng).slice(0, limit);
}

/** Questions in the generator's wordings of `set` about `attributes`, cycling through the people. */
function generatorQuestions(
  people: Person[],
  attributes: string[],
  wordings: (a: string) => string[],
  limit: number,
  rng: ReturnType<typeof createRng>,
): Question[] {
  const pairs: Array<[Person, string]> = [];
  for (const p of people) for (const a of attributes) pairs.push([p, a]);
  return shuffleInPlace(pairs, rng)
    .slice(0, limit)
    .map(([person, attribute]) => ({ person, attribute, question: askAbout(pick(wordings(attribute), rng), person) }));
}

/** Multiple choice among the person's values of `attributes` (all stated in the biography), in a seeded order. */
function factChoices(
  person: Person,
  attribute: string,
  attributes: string[],
  rng: ReturnType<typeof createRng>,
): { choices: string[]; gold: number } {
  const choices = shuffleInPlace(
    attributes.map((a) => person.values[a]),
    rng,
  );
  return { choices, gold: choices.indexOf(person.values[attribute]) };
}

function readingTasks(
  test: TestName,
  questions: Question[],
  attributes: string[],
  c: ControlledConfig,
  rng: ReturnType<typeof createRng>,
): ControlledTask[] {
  const items = questions.map((q) => ({ person: q.person.id, attribute: q.attribute }));
  const common = { targetDelimiter: ' ', fewshotDelimiter: '\n\n' };
  const fact: MultipleChoiceTask = {
    name: `${test}-fact`,
    type: 'multiple_choice',
    ...common,
    examples: questions.map((q) => ({
      context: readingPrompt(q.person.biography, q.question),
      ...factChoices(q.person, q.attribute, attributes, rng),
    })),
  };
  const value: MultipleChoiceTask = {
    name: `${test}-value`,
    type: 'multiple_choice',
    ...common,
    examples: questions.map((q) => ({
      context: readingPrompt(q.person.biography, q.question),
      ...choicesFor(q.person, q.attribute, c.eval.choices, rng),
    })),
  };
  const gen: GenerationTask = {
    name: `${test}-generated`,
    type: 'generation',
    ...common,
    stop: ['\n'],
    maxNewTokens: c.eval.maxNewTokens,
    examples: questions.map((q) => ({
      context: readingPrompt(q.person.biography, q.question),
      answers: [q.person.values[q.attribute]],
    })),
  };
  return [
    // a question-blind choice is right 1 time in |attributes| at best: the items are spread over the attributes
    { ...fact, test, measure: 'fact', metric: 'acc', chance: 1 / attributes.length, items },
    { ...value, test, measure: 'value', metric: 'acc', chance: 1 / c.eval.choices, items },
    // a guess of the right kind of value is right 1 time in the vocabulary's size; any other output never
    { ...gen, test, measure: 'generated', metric: 'exact_match', chance: 0, items },
  ];
}

/** Closed-book recall: a pre-training person's biography up to one of its values; choose the value. */
function memorisedTask(pretrain: Person[], c: ControlledConfig, rng: ReturnType<typeof createRng>): ControlledTask {
  const chosen = shuffleInPlace([...pretrain], rng).slice(0, c.eval.items);
  const examples = chosen.map((p, i) => {
    const k = i % p.sentences.length;
    const s = p.sentences[k];
    const value = p.values[s.attribute];
    const before = [
      ...p.sentences.slice(0, k).map((x) => x.text),
      s.text.slice(0, s.text.indexOf(value)).trimEnd(),
    ].join(' ');
    return {
      context: before,
      ...choicesFor(p, s.attribute, c.eval.choices, rng),
      attribute: s.attribute,
      person: p.id,
    };
  });
  return {
    name: 'memorised-value',
    type: 'multiple_choice',
    targetDelimiter: ' ',
    fewshotDelimiter: '\n\n',
    examples: examples.map(({ context, choices, gold }) => ({ context, choices, gold })),
    test: 'memorised',
    measure: 'value',
    metric: 'acc',
    chance: 1 / c.eval.choices,
    items: examples.map((e) => ({ person: e.person, attribute: e.attribute })),
  };
}

async function testsStage(ctx: Ctx, people: StageOutcome<unknown>, testSynth: StageOutcome<unknown>) {
  const c = ctx.c;
  const key = {
    people: people.record.keyHash,
    synth: testSynth.record.keyHash,
    eval: c.eval,
    heldOut: c.heldOutAttributes,
    heldOutWordings: c.heldOutWordings,
    seed: c.seed,
  };
  return ctx.stage('controlled-tests', 1, key, async ({ dir }) => {
    const everyone = readPeople(people);
    const test = everyone.filter((p) => p.role === 'test');
    const pretrain = everyone.filter((p) => p.role === 'pretrain');
    const asked = c.attributes.filter((a) => !c.heldOutAttributes.includes(a));
    const rng = createRng(deriveSeed(c.seed, 'controlled-tests'));
    const seen = seenQuestions(test, readChains(testSynth), c, c.eval.items, rng);
    const heldWording = generatorQuestions(
      test,
      asked,
      (a) => questionWordings(a, 'heldout', c.heldOutWordings),
      c.eval.items,
      rng,
    );
    const heldAttribute = generatorQuestions(
      test,
      c.heldOutAttributes,
      (a) => [...attributeByName(a).questions],
      c.eval.items,
      rng,
    );
    const tasks: ControlledTask[] = [
      ...(seen.length ? readingTasks('seen', seen, asked, c, rng) : []),
      ...readingTasks('heldout-wording', heldWording, asked, c, rng),
      ...readingTasks('heldout-attribute', heldAttribute, c.heldOutAttributes, c, rng),
      memorisedTask(pretrain, c, rng),
    ];
    writeFileAtomic(join(dir, 'tasks.json'), JSON.stringify(tasks) + '\n');
    return {
      tasks: tasks.map((t) => ({
        name: t.name,
        test: t.test,
        measure: t.measure,
        type: t.type,
        metric: t.metric,
        chance: t.chance,
        examples: t.examples.length,
      })),
    };
  });
}

function readTasks(stage: StageOutcome<unknown>): ControlledTask[] {
  return readStageJson<ControlledTask[]>(join(stage.dir, 'tasks.json'));
}

// ------------------------------------------------------------------------------------------ training and scoring

async function trainStage(
  ctx: Ctx,
  name: string,
  documents: () => TrainingDocument[],
  dataKey: string,
  tokenizer: StageOutcome<{ vocabSize: number }>,
  train: ControlledConfig['pretrain'],
  seed: number,
  init?: StageOutcome<TrainResult>,
) {
  const c = ctx.c;
  const model = { ...c.model, vocabSize: c.tokenizer.vocabSize };
  const t = { ...train, seed };
  const key = {
    data: dataKey,
    tokenizer: tokenizer.record.keyHash,
    model,
    train: t,
    init: init?.record.keyHash ?? null,
  };
  return ctx.stage(name, 1, key, async ({ dir }) => {
    const started = performance.now();
    const r = await trainRun({
      outDir: join(dir, 'run'),
      config: { model, train: t },
      data: { name, documents: documents() },
      tokenizer: tokenizerFiles(tokenizer),
      initFrom: init ? join(init.dir, init.result.modelDir) : undefined,
      threads: ctx.threads,
      progress: ctx.progress,
      command: ['ipt', 'ablate', `(${name})`],
    });
    if (!r.finished || !r.modelDir) throw new Error(`${name}: the training run did not finish`);
    return {
      modelDir: relative(dir, r.modelDir),
      steps: r.step,
      tokens: r.step * t.batchSize! * model.contextLength!,
      finalLoss: r.lastLoss ?? null,
      seconds: (performance.now() - started) / 1000,
      tokensPerSecond: r.tokensPerSecond ?? null,
    } satisfies TrainResult;
  });
}

const SAMPLES_KEPT = 5;

async function scoreStage(
  ctx: Ctx,
  name: string,
  model: StageOutcome<TrainResult>,
  tests: StageOutcome<unknown>,
  only?: TestName[],
) {
  const c = ctx.c;
  const key = { model: model.record.keyHash, tests: tests.record.keyHash, only: only ?? null, batch: c.eval.batchSize };
  return ctx.stage(name, 1, key, async ({ dir }) => {
    const tasks = readTasks(tests).filter((t) => !only || only.includes(t.test));
    const modelDir = join(model.dir, model.result.modelDir);
    const lm = await OnnxCausalLM.load(modelDir, { threads: ctx.threads });
    try {
      const r = await evaluate(lm, loadTokenizer(modelDir), tasks, {
        batchSize: c.eval.batchSize,
        samples: true,
        progress: ctx.progress,
      });
      const scores: ModelScores = { items: {}, samples: {} };
      for (const t of tasks) {
        const samples = r.results[t.name].samples ?? [];
        scores.items[t.name] = samples.map((s) => s.scores[t.metric]);
        if (t.type === 'generation')
          scores.samples[t.name] = samples
            .slice(0, SAMPLES_KEPT)
            .map((s) => ({ prompt: s.prompt, target: s.target, prediction: s.prediction }));
      }
      writeFileAtomic(join(dir, 'scores.json'), JSON.stringify(scores) + '\n');
      return scores;
    } finally {
      await lm.close();
    }
  });
}

// ------------------------------------------------------------------------------------------ the run

export async function runControlled(options: ControlledOptions): Promise<ControlledRecords> {
  const ctx: Ctx = { ...options, c: options.config };
  const c = ctx.c;
  const people = await peopleStage(ctx);

  // synthesis: the pre-training biographies once per number of rounds the instruct arms use; the
  // instruction people's (mix); the test people's (the questions of test (i))
  const synth = new Map<string, StageOutcome<unknown>>();
  const synthOf = async (role: Role, rounds: number) => {
    const k = `${role}-m${rounds}`;
    if (!synth.has(k)) synth.set(k, await synthesisStage(ctx, people, role, rounds));
    return synth.get(k)!;
  };
  const corpora = new Map<string, StageOutcome<CorpusResult>>();
  for (const arm of c.arms) {
    const own = arm.kind === 'instruct' ? await synthOf('pretrain', arm.rounds!) : undefined;
    const other = arm.kind === 'mix' ? await synthOf('instruction', 1) : undefined;
    corpora.set(arm.name, await corpusStage(ctx, arm, people, { own, other }));
  }
  const testSynth = await synthOf('test', 1);
  const tokenizer = await tokenizerStage(ctx, [...corpora.values()], people);
  const tests = await testsStage(ctx, people, testSynth);

  const runs: ControlledRun[] = [];
  const models = new Map<string, StageOutcome<TrainResult>>();
  for (const seed of c.seeds) {
    for (const arm of c.arms) {
      if (!armSeeds(c, arm).includes(seed)) continue;
      const corpus = corpora.get(arm.name)!;
      const run = await trainStage(
        ctx,
        `controlled-pretrain-${arm.name}-s${seed}`,
        () => corpusTexts(corpus).map((text) => ({ segments: [{ text, train: true }] })),
        corpus.record.keyHash,
        tokenizer,
        c.pretrain,
        seed,
      );
      models.set(`${arm.name}/${seed}`, run);
      const scores = await scoreStage(ctx, `controlled-eval-${arm.name}-s${seed}`, run, tests);
      runs.push({
        arm: arm.name,
        seed,
        tuned: false,
        train: run.result,
        curve: readMetrics(join(run.dir, 'run')).train,
        scores: scores.result,
      });
    }
  }

  // instruction tuning on some attributes, then the same tests: does an arm gain more from it?
  const tuningPeople = () => readPeople(people).filter((p) => p.role === 'tuning');
  const tuningKey = sha256(
    canonicalJson({
      people: people.record.keyHash,
      attributes: c.tuning.attributes,
      heldOutWordings: c.heldOutWordings,
      seed: c.seed,
    }),
  );
  for (const seed of c.seeds) {
    for (const armName of c.tuning.arms) {
      const base = models.get(`${armName}/${seed}`);
      if (!base) continue;
      const run = await trainStage(
        ctx,
        `controlled-tune-${armName}-s${seed}`,
        () => tuningDocuments(tuningPeople(), c),
        tuningKey,
        tokenizer,
        c.tuning.train,
        seed,
        base,
      );
      const scores = await scoreStage(ctx, `controlled-eval-tune-${armName}-s${seed}`, run, tests, [
        'seen',
        'heldout-wording',
        'heldout-attribute',
      ]);
      runs.push({
        arm: armName,
        seed,
        tuned: true,
        train: run.result,
        curve: readMetrics(join(run.dir, 'run')).train,
        scores: scores.result,
      });
    }
  }

  const taskList = readTasks(tests);
  const prompts: Record<string, string> = {};
  for (const t of taskList) if (!prompts[t.test]) prompts[t.test] = t.examples[0].context;
  return {
    config: c,
    people: people.result as Record<Role, number>,
    synthesis: Object.fromEntries([...synth].map(([k, s]) => [k, s.result as SynthesisResult])),
    corpora: Object.fromEntries(
      [...corpora].map(([name, s]) => [
        name,
        {
          ...s.result,
          tokens: (tokenizer.result as { tokens: Record<string, number> }).tokens[s.record.name] ?? 0,
          description: c.arms.find((a) => a.name === name)!.description,
          example: corpusTexts(s).find((t) => t.includes('\n')) ?? corpusTexts(s)[0] ?? '',
          dir: relative(ctx.outDir, s.dir),
        },
      ]),
    ),
    tokenizer: { vocabSize: tokenizer.result.vocabSize, merges: (tokenizer.result as { merges: number }).merges },
    tasks: taskList.map((t) => ({
      name: t.name,
      test: t.test,
      measure: t.measure,
      type: t.type,
      metric: t.metric,
      chance: t.chance,
      examples: t.examples.length,
    })),
    taskItems: Object.fromEntries(taskList.map((t) => [t.name, t.items])),
    runs,
    examples: { prompts },
  };
}
