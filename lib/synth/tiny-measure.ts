// Measuring the kit's tiny synthesizer (./tiny.ts) the way quality.ts measures any synthesizer, on
// held-out texts cut and mined exactly as its training collection: parse rate, pairs per text,
// answers found in the text, duplicates and lengths (`measureSynthesizer`), accuracy on the rules'
// pairs for those texts free and prompted (`referenceAccuracy`, `answerReferenceQuestions`), by rule
// kind, beside what answering by prior alone would score; plus a few example records for a report.
// With an outDir the synthesis goes through the multi-round driver (one round) and every part is
// kept, so a killed measurement resumes.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildSynthesizerCollection,
  splitSources,
  TINY_SYNTH_COLLECTION,
  type CollectionOptions,
  type SourceDocument,
} from './collection.js';
import { cookRead, parseComprehension, type Pair } from './format.js';
import {
  answerReferenceQuestions,
  finalOf,
  measureSynthesizer,
  normalise,
  referenceAccuracy,
  tokenF1,
  type QualityReport,
  type ReferenceScore,
} from './quality.js';
import { optionsOf, ruleKindOfQuestion } from './rules.js';
import { synthesize } from './driver.js';
import type { CompletionEngine } from '../engine/completion.js';
import { canonicalJson, hashJson } from '../repro/hash.js';
import { readJson, writeFileAtomic, writeJson } from '../repro/files.js';
import { writeManifest } from '../repro/manifest.js';
import type { ProgressMode } from '../repro/progress.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';

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
  const examples = buildSynthesizerCollection(docsOut, {
    ...TINY_SYNTH_COLLECTION,
    ...options.collection,
    seed: options.seed,
  });
  const chosen = shuffleInPlace(
    examples.map((_, i) => i),
    createRng(deriveSeed(options.seed, 'tiny-synth-held-out')),
  )
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

export type TinySynthesizerExample = {
  context: string;
  genre?: string;
  output: string;
  pairs: Pair[];
  references: Pair[];
  promptedAnswers: string[];
};

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
  /**
   * The best of answering by prior alone where options are given: a question with options gets its
   * kind's most common answer when that is one of the options, else a uniformly random option
   * (expected 1/k: two sentences to order score 0.5, not the 0 of a majority sentence); a question
   * without options gets its kind's most common answer. `exact` is the expected number right. Prompted
   * accuracy above this is evidence of reading the text, not of the answer distribution.
   */
  priorBaseline: { references: number; exact: number; exactOverall: number };
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
  if (references.length !== heldOut.length)
    throw new RangeError(`got ${references.length} reference lists for ${heldOut.length} held-out texts`);
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
    outputs = run.rounds[0].records.map((r) => ({
      text: r.output,
      finishReason: r.finishReason,
      completionTokens: r.completionTokens,
    }));
  } else {
    outputs = [];
    for (let i = 0; i < texts.length; i += batchSize) {
      const sampling = {
        temperature: options.temperature,
        topP: options.topP,
        seed: deriveSeed(options.seed ?? 0, 'batch', i / batchSize),
      };
      outputs.push(
        ...(await engine.complete(texts.slice(i, i + batchSize).map(cookRead), { maxNewTokens, ...sampling })),
      );
    }
  }
  const synthesisSeconds = (performance.now() - t0) / 1000;

  const items = heldOut.map((h, i) => ({ context: h.context, output: outputs[i].text, references: references[i] }));
  t0 = performance.now();
  const prompted = await promptedAnswers(engine, items, {
    maxNewTokens: answerMaxNewTokens,
    batchSize,
    outDir: options.outDir,
  });
  const promptedSeconds = (performance.now() - t0) / 1000;

  const finishReasons: Record<string, number> = {};
  for (const o of outputs)
    finishReasons[o.finishReason ?? 'unknown'] = (finishReasons[o.finishReason ?? 'unknown'] ?? 0) + 1;
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
    priorBaseline: priorBaseline(items),
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
    writeJson(join(options.outDir, 'quality.json'), report);
    await writeManifest(options.outDir, {
      command: ['measureTinySynthesizer'],
      config: {
        engine: engine.name,
        maxNewTokens,
        answerMaxNewTokens,
        batchSize,
        texts: heldOut.length,
        temperature: options.temperature ?? 0,
        topP: options.topP ?? 1,
      },
      seeds: { sampling: options.seed ?? 0 },
      inputs: [{ name: 'held-out', source: 'memory', sha256: hashJson({ heldOut, references }) }],
      outputs: ['quality.json', 'prompted.json', 'synthesis/chains.jsonl'],
      startedAt,
      timings: { synthesisSeconds: round3(synthesisSeconds), promptedSeconds: round3(promptedSeconds) },
      totals: {
        texts: heldOut.length,
        parsed: report.quality.parsed,
        pairs: report.quality.pairs,
        references: promptedScore.references,
      },
    });
  }
  return report;
}

/** Each kind's most common normalised final answer among the references (ties: the first met). */
function majorityAnswers(references: Pair[]): Map<string, { answer: string; count: number }> {
  const counts = new Map<string, Map<string, number>>();
  for (const r of references) {
    const kind = ruleKindOfQuestion(r.question) ?? 'other';
    const answers = counts.get(kind) ?? new Map<string, number>();
    const a = normalise(finalOf(r.answer));
    answers.set(a, (answers.get(a) ?? 0) + 1);
    counts.set(kind, answers);
  }
  const out = new Map<string, { answer: string; count: number }>();
  for (const [kind, answers] of counts) {
    let best = { answer: '', count: 0 };
    for (const [answer, count] of answers) if (count > best.count) best = { answer, count };
    out.set(kind, best);
  }
  return out;
}

function majorityBaseline(items: Array<{ references: Pair[] }>): TinySynthesizerQuality['majorityBaseline'] {
  const references = items.flatMap((it) => it.references);
  let exact = 0;
  for (const m of majorityAnswers(references).values()) exact += m.count;
  return {
    references: references.length,
    exact,
    exactOverall: references.length === 0 ? 0 : exact / references.length,
  };
}

function priorBaseline(items: Array<{ references: Pair[] }>): TinySynthesizerQuality['priorBaseline'] {
  const references = items.flatMap((it) => it.references);
  const majority = majorityAnswers(references);
  let exact = 0;
  for (const r of references) {
    const guess = majority.get(ruleKindOfQuestion(r.question) ?? 'other')!.answer;
    const right = normalise(finalOf(r.answer)) === guess ? 1 : 0;
    const options = optionsOf(r.question)?.map(normalise);
    exact += options && options.length > 0 && !options.includes(guess) ? 1 / options.length : right;
  }
  return {
    references: references.length,
    exact,
    exactOverall: references.length === 0 ? 0 : exact / references.length,
  };
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
      const saved = readJson(path) as { key: string; result: ReferenceScore & { answers: string[] } };
      if (saved.key === key) return saved.result;
    } catch {
      // a damaged file is redone
    }
  }
  const result = await answerReferenceQuestions(engine, items, {
    maxNewTokens: options.maxNewTokens,
    batchSize: options.batchSize,
  });
  if (path) writeFileAtomic(path, canonicalJson({ key, result }) + '\n');
  return result;
}
