// Synthetic chains for the template tests and the templates benchmark: real-looking contexts (given
// texts, e.g. Brown corpus chunks) with pairs of every kind the synthesizer writes (plain, multiple
// choice, chain of thought, both), some entries without pairs, and inherited runs, all from a seed.

import { createRng, pick, type Rng } from '../../lib/repro/rng.js';
import {
  COT_ANSWER_MARKER,
  COT_QUESTION_SUFFIX,
  OPTIONS_MARKER,
  type Chain,
  type ChainEntry,
  type Pair,
} from '../../lib/synth/format.js';

function sentencesOf(text: string): string[] {
  const out = text
    .split('. ')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return out.length > 0 ? out : [text.trim() || 'empty'];
}

function snippet(sentence: string, rng: Rng, words = 3 + rng.int(5)): string {
  return sentence.split(' ').slice(0, words).join(' ');
}

function makePair(context: string, rng: Rng): Pair {
  const sentences = sentencesOf(context);
  const s = pick(sentences, rng);
  const word = pick(s.split(' '), rng) || 'it';
  const r = rng.next();
  if (r < 0.6) return { question: `What does the text say about "${word}"?`, answer: s };
  if (r < 0.8 || r >= 0.92) {
    const n = 2 + rng.int(4);
    const options = Array.from({ length: n }, (_, i) => `${snippet(pick(sentences, rng), rng)} (${i})`);
    const noneAnswer = rng.next() < 0.05;
    const answer = noneAnswer ? 'None of the above' : pick(options, rng);
    const question = `Which phrase comes from the text?${OPTIONS_MARKER}${options.join('\n- ')}`;
    if (r < 0.8) return { question, answer };
    return {
      question: question + COT_QUESTION_SUFFIX,
      answer: `${s}. ${pick(sentences, rng)}.${COT_ANSWER_MARKER}${answer}`,
    };
  }
  return {
    question: `How is "${word}" used here?${COT_QUESTION_SUFFIX}`,
    answer: `${s}. ${pick(sentences, rng)}.${COT_ANSWER_MARKER}${word}`,
  };
}

export type ChainShape = {
  /** Longest chain (entries); lengths are uniform in 1..maxEntries. */
  maxEntries?: number;
  /** Most pairs per entry. */
  maxPairs?: number;
  /** Share of entries with no pairs. */
  emptyRate?: number;
  /** Chance that an entry with pairs inherits from a previous entry with pairs. */
  inheritRate?: number;
};

/** Chains over `texts` (cycled), one context per entry, until `count` chains are made. */
export function makeChains(texts: readonly string[], count: number, seed: number, shape: ChainShape = {}): Chain[] {
  const rng = createRng(seed);
  const { maxEntries = 4, maxPairs = 6, emptyRate = 0.1, inheritRate = 0.7 } = shape;
  const chains: Chain[] = [];
  let t = 0;
  for (let c = 0; c < count; c++) {
    const length = 1 + rng.int(maxEntries);
    const chain: ChainEntry[] = [];
    for (let e = 0; e < length; e++) {
      const context = texts[t++ % texts.length];
      const nPairs = rng.next() < emptyRate ? 0 : 1 + rng.int(maxPairs);
      const pairs = Array.from({ length: nPairs }, () => makePair(context, rng));
      const prev = chain[chain.length - 1];
      const inheritFromPrev = prev !== undefined && prev.pairs.length > 0 && nPairs > 0 && rng.next() < inheritRate;
      chain.push({ context, pairs, inheritFromPrev });
    }
    chains.push(chain);
  }
  return chains;
}

/** UTF-8 bytes of the text in a chain: contexts, questions and answers. */
export function chainTextBytes(chain: Chain): number {
  let n = 0;
  for (const e of chain) {
    n += Buffer.byteLength(e.context);
    for (const p of e.pairs) n += Buffer.byteLength(p.question) + Buffer.byteLength(p.answer);
  }
  return n;
}
