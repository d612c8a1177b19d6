// Cutting long documents into synthesizer-sized texts: consecutive paragraphs grouped up to a
// character budget (a Brown document, ~12 KB, becomes 6–10 texts of 1–2 KB). A paragraph longer than
// the budget is cut at sentence ends. Each chunk is an exact slice of the document, so paragraph
// breaks and spacing survive.

import { splitParagraphs, splitSentences } from './sentences.js';

export type ChunkOptions = {
  /** A chunk is closed once it has at least this many characters (default 1200). */
  targetChars?: number;
  /** A chunk never grows past this by adding a paragraph (default 2000); one longer sentence stays whole. */
  maxChars?: number;
  /** A last chunk shorter than this joins the one before it (default targetChars / 3). */
  minChars?: number;
};

type Span = { start: number; end: number };

function pieces(text: string, maxChars: number): Span[] {
  const out: Span[] = [];
  for (const p of splitParagraphs(text)) {
    if (p.end - p.start <= maxChars) {
      out.push({ start: p.start, end: p.end });
      continue;
    }
    // An over-long paragraph: runs of its sentences, each run within the budget.
    let run: Span | undefined;
    for (const s of splitSentences(p.text)) {
      const span = { start: p.start + s.start, end: p.start + s.end };
      if (run && span.end - run.start <= maxChars) run.end = span.end;
      else {
        if (run) out.push(run);
        run = span;
      }
    }
    if (run) out.push(run);
  }
  return out;
}

/** Groups consecutive paragraphs into chunks of about `targetChars`; returns exact slices of `text`. */
export function chunkParagraphs(text: string, options: ChunkOptions = {}): string[] {
  const targetChars = options.targetChars ?? 1200;
  const maxChars = options.maxChars ?? 2000;
  const minChars = options.minChars ?? Math.floor(targetChars / 3);
  if (!(targetChars > 0 && maxChars >= targetChars)) {
    throw new RangeError(`chunkParagraphs needs 0 < targetChars <= maxChars, got ${targetChars} and ${maxChars}`);
  }
  const groups: Span[] = [];
  let current: Span | undefined;
  for (const piece of pieces(text, maxChars)) {
    if (current && current.end - current.start < targetChars && piece.end - current.start <= maxChars) {
      current.end = piece.end;
      continue;
    }
    if (current) groups.push(current);
    current = { ...piece };
  }
  if (current) {
    const prev = groups[groups.length - 1];
    if (prev && current.end - current.start < minChars) prev.end = current.end;
    else groups.push(current);
  }
  return groups.map((g) => text.slice(g.start, g.end));
}
