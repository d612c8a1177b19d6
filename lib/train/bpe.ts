// Byte-level BPE for the tiny models: train merges on a corpus to fill the model's vocabulary
// beyond the 264 base ids (specials, bytes, synthesizer markers), and encode text with them fast.
//
// Both follow Hugging Face's byte-level BPE exactly as @huggingface/tokenizers runs the kit's
// tokenizer.json (lib/engine/tokenizer.ts): added tokens (<s>, </s>, <pad>, the markers) are split
// out first, the rest is cut into words by GPT-2's regex, each word's UTF-8 bytes are symbols, and
// merges apply lowest rank first. The fast encoder is tested id for id against the library, which
// is too slow for bulk encoding of a whole corpus.

import {
  BYTE_OFFSET,
  MARKER_OFFSET,
  TINY_BASE_VOCAB,
  TINY_MARKERS,
  TINY_SPECIALS,
  bytesToUnicode,
} from '../engine/tokenizer.js';

/** GPT-2's pre-tokenizer pattern, as the ByteLevel pre-tokenizer uses it. */
const WORDS = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const ADDED = [
  ...TINY_SPECIALS.map((text, id) => ({ text, id })),
  ...TINY_MARKERS.map((text, i) => ({ text, id: MARKER_OFFSET + i })),
].sort((a, b) => b.text.length - a.text.length);

/** Splits text into plain pieces and added tokens (longest match first), in order. */
function splitAdded(text: string, onText: (s: string) => void, onAdded: (id: number) => void): void {
  let i = 0;
  let start = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    const hit = ADDED.find((t) => text.startsWith(t.text, lt));
    if (hit) {
      if (lt > start) onText(text.slice(start, lt));
      onAdded(hit.id);
      i = start = lt + hit.text.length;
    } else i = lt + 1;
  }
  if (start < text.length) onText(text.slice(start));
}

function words(text: string): string[] {
  return text.match(WORDS) ?? [];
}

/** Token ids are packed two to a number (pairKey), so the kit's BPE holds at most this many tokens. */
export const BPE_MAX_VOCAB = 65536;

const pairKey = (a: number, b: number) => a * BPE_MAX_VOCAB + b;

/**
 * Learns `count` merges (fewer if no pair occurs twice) from texts. Ties between equally frequent
 * pairs go to the pair of smaller ids, so the result depends only on the texts.
 * Merges are pairs of token strings in GPT-2's byte alphabet, as tokenizer.json stores them.
 */
export function trainBpeMerges(texts: Iterable<string>, count: number): Array<[string, string]> {
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`merge count must be a non-negative integer, got ${count}`);
  if (TINY_BASE_VOCAB + count > BPE_MAX_VOCAB)
    throw new RangeError(
      `the kit's BPE holds at most ${BPE_MAX_VOCAB} tokens; ${TINY_BASE_VOCAB + count} were asked for`,
    );
  // word -> frequency
  const freq = new Map<string, number>();
  for (const text of texts) {
    splitAdded(
      text,
      (piece) => {
        for (const w of words(piece)) freq.set(w, (freq.get(w) ?? 0) + 1);
      },
      () => {},
    );
  }
  // symbols are token ids; a word is its byte ids
  const wordSymbols: number[][] = [];
  const wordFreq: number[] = [];
  for (const [w, f] of freq) {
    wordSymbols.push(Array.from(Buffer.from(w, 'utf8'), (b) => BYTE_OFFSET + b));
    wordFreq.push(f);
  }
  const pairs = new Map<number, number>();
  const addPairs = (syms: number[], f: number) => {
    for (let i = 0; i + 1 < syms.length; i++) {
      const k = pairKey(syms[i], syms[i + 1]);
      pairs.set(k, (pairs.get(k) ?? 0) + f);
    }
  };
  wordSymbols.forEach((s, i) => addPairs(s, wordFreq[i]));

  const alphabet = bytesToUnicode();
  const tokenText: string[] = [];
  for (let b = 0; b < 256; b++) tokenText[BYTE_OFFSET + b] = alphabet[b];
  const merges: Array<[string, string]> = [];
  for (let m = 0; m < count; m++) {
    let best = -1;
    let bestCount = 1; // a merge must occur at least twice
    for (const [k, c] of pairs)
      if (c > bestCount || (c === bestCount && best >= 0 && k < best)) [best, bestCount] = [k, c];
    if (best < 0) break;
    const a = Math.floor(best / 65536),
      b = best % 65536;
    const id = TINY_BASE_VOCAB + m;
    tokenText[id] = tokenText[a] + tokenText[b];
    merges.push([tokenText[a], tokenText[b]]);
    wordSymbols.forEach((syms, w) => {
      let has = false;
      for (let i = 0; i + 1 < syms.length; i++)
        if (syms[i] === a && syms[i + 1] === b) {
          has = true;
          break;
        }
      if (!has) return;
      const f = wordFreq[w];
      addPairs(syms, -f);
      const merged: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          merged.push(id);
          i++;
        } else merged.push(syms[i]);
      }
      addPairs(merged, f);
      wordSymbols[w] = merged;
    });
    for (const [k, c] of pairs) if (c === 0) pairs.delete(k);
  }
  return merges;
}

/** Encodes with the tiny vocabulary plus `merges`; ids identical to @huggingface/tokenizers on the same tokenizer.json. */
export class BpeEncoder {
  private readonly ranks = new Map<number, number>();
  private readonly cache = new Map<string, number[]>();

  constructor(merges: ReadonlyArray<readonly [string, string]>) {
    const alphabet = bytesToUnicode();
    const idOf = new Map<string, number>();
    for (let b = 0; b < 256; b++) idOf.set(alphabet[b], BYTE_OFFSET + b);
    merges.forEach(([a, b], rank) => {
      const ia = idOf.get(a),
        ib = idOf.get(b);
      if (ia === undefined || ib === undefined)
        throw new Error(`merge ${rank} (${a} ${b}) uses a token no earlier merge made`);
      this.ranks.set(pairKey(ia, ib), rank);
      idOf.set(a + b, TINY_BASE_VOCAB + rank);
    });
  }

  get vocabSize(): number {
    return TINY_BASE_VOCAB + this.ranks.size;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    splitAdded(
      text,
      (piece) => {
        for (const w of words(piece)) for (const id of this.word(w)) out.push(id);
      },
      (id) => out.push(id),
    );
    return out;
  }

  private word(w: string): number[] {
    const hit = this.cache.get(w);
    if (hit) return hit;
    const syms = Array.from(Buffer.from(w, 'utf8'), (b) => BYTE_OFFSET + b);
    for (;;) {
      // the adjacent pair of lowest rank, leftmost on ties
      let bestRank = Infinity,
        at = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(pairKey(syms[i], syms[i + 1]));
        if (r !== undefined && r < bestRank) [bestRank, at] = [r, i];
      }
      if (at < 0) break;
      syms.splice(at, 2, TINY_BASE_VOCAB + bestRank);
    }
    if (this.cache.size > 200_000) this.cache.clear();
    this.cache.set(w, syms);
    return syms;
  }
}
