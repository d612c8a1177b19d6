// The pre-training corpus of each arm, from the same raw contexts. Vanilla: the raw contexts. Instruct:
// a fixed share of the contexts (the same share for every synthesizer) is replaced by the
// instruction-augmented texts the templates render from that synthesizer's chains; the rest stays
// raw. Mix: the raw contexts plus the synthesizer's fine-tuning collection, rendered. Domain-adaptive
// continual pre-training mixes domain texts with general instructions by tokens; instruction tuning
// trains on the answers only, in the benchmarks' question format.

import type { Context } from '../corpus/chunk.js';
import type { TrainingDocument } from '../train/data.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';
import { renderChains, toPretrainTexts } from '../templates/render.js';
import type { Chain } from '../synth/format.js';
import type { SynthesizerExample } from '../synth/collection.js';
import { finalAnswer, qaPrompt } from './benchmarks.js';

/** Splits contexts into the share that instruct arms augment and the rest, both in corpus order. */
export function augmentSelection<T>(contexts: T[], share: number, seed: number): { augmented: T[]; raw: T[] } {
  const order = shuffleInPlace(
    contexts.map((_, i) => i),
    createRng(deriveSeed(seed, 'augment-selection')),
  );
  const chosen = new Set(order.slice(0, Math.round(share * contexts.length)));
  return { augmented: contexts.filter((_, i) => chosen.has(i)), raw: contexts.filter((_, i) => !chosen.has(i)) };
}

/** Texts in a seeded order, so no arm's corpus is sorted by kind (rendered first, raw last). */
export function shuffledTexts(texts: string[], seed: number, label: string): string[] {
  return shuffleInPlace([...texts], createRng(deriveSeed(seed, 'corpus-order', label)));
}

export function textDocuments(texts: string[]): TrainingDocument[] {
  return texts.map((text) => ({ segments: [{ text, train: true }] }));
}

/** Instruct PT: the augmented share rendered from the synthesizer's chains, plus the raw rest. */
export function instructTexts(raw: Context[], chains: Chain[], seed: number, label: string): string[] {
  return shuffledTexts(
    [...renderChains(chains, deriveSeed(seed, 'render', label)), ...raw.map((c) => c.text)],
    seed,
    label,
  );
}

/** The fine-tuning collection rendered as pre-training text, one example per text (general instructions). */
export function instructionTexts(collection: SynthesizerExample[], seed: number): string[] {
  return collection.map((e, i) =>
    toPretrainTexts(
      [{ context: e.context, pairs: e.pairs, inheritFromPrev: false }],
      deriveSeed(seed, 'collection', i),
    ).join('\n\n'),
  );
}

/**
 * Mix PT: every raw context plus `count` examples of the rendered collection (a seeded choice), as many
 * instruction texts as the instruct arms' augmented share, so the arms differ in where the pairs come
 * from, not in how much instruction data they hold.
 */
export function mixTexts(contexts: Context[], collection: SynthesizerExample[], seed: number, count: number): string[] {
  const chosen = shuffleInPlace([...collection], createRng(deriveSeed(seed, 'mix-collection'))).slice(0, count);
  return shuffledTexts([...contexts.map((c) => c.text), ...instructionTexts(chosen, seed)], seed, 'mix');
}

/**
 * `primary` texts plus `secondary` texts (cycled if there are too few) until the secondary ones make up
 * `share` of the tokens, e.g. domain texts and general instructions 1:1 (share 0.5).
 */
export function mixByTokens(
  primary: string[],
  secondary: string[],
  share: number,
  countTokens: (s: string) => number,
  seed: number,
  label: string,
): string[] {
  if (share < 0 || share >= 1) throw new RangeError(`share must be in [0, 1), got ${share}`);
  const primaryTokens = primary.reduce((n, t) => n + countTokens(t), 0);
  const want = (share / (1 - share)) * primaryTokens;
  const pool = shuffledTexts(secondary, seed, `${label}-pool`);
  const added: string[] = [];
  let tokens = 0;
  for (let i = 0; tokens < want && pool.length > 0; i++) {
    const t = pool[i % pool.length];
    added.push(t);
    tokens += countTokens(t);
  }
  return shuffledTexts([...primary, ...added], seed, label);
}

/** Instruction tuning: the collection's pairs as questions about their passage, loss on the answer only. */
export function instructionTuningDocuments(collection: SynthesizerExample[]): TrainingDocument[] {
  return collection.flatMap((e) =>
    e.pairs.map((p) => ({
      segments: [
        { text: qaPrompt(e.context, p.question), train: false },
        { text: ` ${finalAnswer(p.answer)}`, train: true },
      ],
    })),
  );
}
