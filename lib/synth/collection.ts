// The fine-tuning collection for the kit's tiny synthesizer: (context, pairs) examples mined by the
// rules from training documents, grouped by source document, and packed few-shot style (several
// examples of one source per training sequence, loss on the pairs only), as the paper trained its
// synthesizer. The packed sequences use the exact strings of the synthesizer contract, so a model
// trained on them reads the prompts the multi-round driver writes.

import { contextsOf, type TokenBudget } from '../corpus/chunk.js';
import { deriveSeed } from '../repro/rng.js';
import { cookCompre, cookRead, EOS, estimateTokens, type Pair } from './format.js';
import { mineTasks, type RuleKind } from './rules.js';

export type SourceDocument = { id: string; genre?: string; text: string };

export type SynthesizerExample = {
  context: string;
  pairs: Pair[];
  /** The id of the document the context was cut from. */
  source: string;
  genre?: string;
  /** The rule kind of each pair, in order. */
  kinds: RuleKind[];
};

export type CollectionOptions = {
  seed: number;
  /** At most this many pairs per text (default 6). */
  pairsPerText?: number;
  /** At least this many when the text offers them (default 3). */
  minPairs?: number;
  kinds?: readonly RuleKind[];
  /** Preference among the kinds a text offers (see MineOptions.weights). */
  weights?: Partial<Record<RuleKind, number>>;
  /** How documents are cut into texts (default: contextsOf's 1600 tokens, about 1.2–1.6 KB of prose). */
  chunk?: TokenBudget;
  /** Keep only the first N texts of each document. */
  maxTextsPerSource?: number;
  /** Ask genre questions when a document has a genre (default true). */
  useGenre?: boolean;
  /** Longest sentence a pair may quote (default 320 characters; see MineOptions). */
  maxSentenceChars?: number;
};

/** Examples for every text cut from the documents, in document order; texts with no pairs are left out. */
export function buildSynthesizerCollection(docs: SourceDocument[], options: CollectionOptions): SynthesizerExample[] {
  const ids = new Set<string>();
  const out: SynthesizerExample[] = [];
  for (const doc of docs) {
    if (ids.has(doc.id))
      throw new Error(
        `buildSynthesizerCollection: document id "${doc.id}" appears twice; ids name sources and must be unique`,
      );
    ids.add(doc.id);
    let texts = contextsOf(doc.text, options.chunk);
    if (options.maxTextsPerSource !== undefined) texts = texts.slice(0, options.maxTextsPerSource);
    for (const context of texts) {
      const mined = mineTasks(context, {
        seed: options.seed,
        genre: options.useGenre === false ? undefined : doc.genre,
        maxPairs: options.pairsPerText,
        minPairs: options.minPairs,
        kinds: options.kinds,
        weights: options.weights,
        maxSentenceChars: options.maxSentenceChars,
      });
      if (mined.length === 0) continue;
      out.push({
        context,
        pairs: mined.map((p) => ({ question: p.question, answer: p.answer })),
        source: doc.id,
        ...(doc.genre !== undefined ? { genre: doc.genre } : {}),
        kinds: mined.map((p) => p.kind),
      });
    }
  }
  return out;
}

/**
 * A deterministic split by document id: a document is held out when a hash of (seed, id) falls
 * under `heldOutShare`, so adding or removing other documents never moves it.
 */
export function splitSources<T extends { id: string }>(
  docs: T[],
  options: { seed: number; heldOutShare: number },
): { train: T[]; heldOut: T[] } {
  if (!(options.heldOutShare >= 0 && options.heldOutShare <= 1))
    throw new RangeError(`heldOutShare must be in [0, 1], got ${options.heldOutShare}`);
  const train: T[] = [];
  const heldOut: T[] = [];
  for (const d of docs)
    (deriveSeed(options.seed, 'split', d.id) / 4294967296 < options.heldOutShare ? heldOut : train).push(d);
  return { train, heldOut };
}

export type TrainingSegment = { text: string; loss: boolean };
export type TrainingSequence = { source: string; examples: number; tokens: number; segments: TrainingSegment[] };

/**
 * Packs consecutive examples of one source into sequences of at most `maxTokens`: each example is
 * `cookRead(context)` (no loss) then `cookCompre(pairs) + "</s>"` (loss), so the first example of a
 * sequence is zero-shot and each later one has the earlier ones as demonstrations, exactly the
 * prompts of multi-round synthesis. Segments split at special tokens, so tokenizing them one by one
 * gives the same ids as tokenizing the whole. An example longer than `maxTokens` alone is skipped.
 */
export function fewShotSequences(
  examples: SynthesizerExample[],
  options: { maxTokens: number; countTokens?: (s: string) => number; maxExamplesPerSequence?: number },
): { sequences: TrainingSequence[]; skipped: number } {
  const countTokens = options.countTokens ?? estimateTokens;
  const maxExamples = options.maxExamplesPerSequence ?? Infinity;
  const sequences: TrainingSequence[] = [];
  let skipped = 0;
  let current: TrainingSequence | undefined;
  for (const ex of examples) {
    const read = cookRead(ex.context);
    const pairs = cookCompre(ex.pairs) + EOS;
    const tokens = countTokens(read) + countTokens(pairs);
    if (tokens > options.maxTokens) {
      skipped++;
      continue;
    }
    const fits =
      current !== undefined &&
      current.source === ex.source &&
      current.tokens + tokens <= options.maxTokens &&
      current.examples < maxExamples;
    if (!fits) {
      if (current) sequences.push(current);
      current = { source: ex.source, examples: 0, tokens: 0, segments: [] };
    }
    current!.segments.push({ text: read, loss: false }, { text: pairs, loss: true });
    current!.examples++;
    current!.tokens += tokens;
  }
  if (current) sequences.push(current);
  return { sequences, skipped };
}

/**
 * How the collection is cut and mined for the tiny synthesizer: short texts (about 300 bytes, ~130
 * tokens with a 512-token BPE vocabulary), at most two pairs quoting sentences of at most 120
 * characters, so a demonstration, a new text and the new pairs fit a 512-token context. No genre
 * questions: three texts in four would get one, and a greedy tiny model then writes nothing else.
 * No word counts either (with them, three pairs in ten were "How many times does the word ...", whose
 * answer is not in the text, and the greedy model asked nothing else), nor sentences from given
 * words (long answers it cannot copy); short span answers are preferred in the mix: the missing word,
 * number or name, and the entity questions (who, where, when, what) where a text states facts.
 */
export const TINY_SYNTH_COLLECTION: Omit<CollectionOptions, 'seed'> = {
  chunk: { maxTokens: 300 },
  pairsPerText: 2,
  minPairs: 2,
  maxSentenceChars: 120,
  useGenre: false,
  kinds: [
    'fill_blank',
    'number',
    'completion',
    'next_sentence',
    'ordering',
    'yes_no',
    'topic',
    'nli',
    'cause_effect',
    'paraphrase',
    'who',
    'where',
    'when',
    'what',
  ],
  weights: {
    fill_blank: 2,
    number: 3,
    completion: 1,
    next_sentence: 0.7,
    ordering: 0.8,
    yes_no: 0.7,
    topic: 0.7,
    nli: 2,
    cause_effect: 3,
    paraphrase: 3,
    who: 3,
    where: 3,
    when: 3,
    what: 3,
  },
};
