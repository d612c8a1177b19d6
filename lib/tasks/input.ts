// Reading sets of instruction-response pairs for coverage: a pairs JSONL file, a file of chains, or
// a synthesis run folder. Every line of a JSONL file may be
//   {"question", "answer"}                 a pair (optional "text_id"/"textId"/"context" says which text)
//   [ChainEntry, ...]                      a Chain (lib/synth/format.ts): one text per entry
//   {"chain": [ChainEntry, ...]}           a Chain wrapped in a record (the synthesis driver's lines)
//   {"context", "pairs": [...]}            one text and its pairs (a ChainEntry, or `ipt rules` output)
// A text with no pairs still counts as a text (pairs-per-text statistics include the zeros).
// A last line cut off mid-write (a run killed while appending) is skipped with a warning; any other
// bad line is an error naming the file and line.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { readJsonLines } from '../repro/jsonl.js';
import { basename, join } from 'node:path';
import type { Chain, ChainEntry, Pair } from '../synth/format.js';
import { sha256 } from '../repro/hash.js';
import type { ManifestInput } from '../repro/manifest.js';
import type { ProgressMode } from '../repro/progress.js';
import type { HubConfig } from '../hub/config.js';
import { downloadRepo, manifestInputOf } from '../hub/download.js';

export type PairRecord = Pair & {
  /** Which text the pair is about; null when the input does not say. */ text: string | null;
};

export type PairSet = {
  name: string;
  /** Where the pairs came from (file, folder, or hf:dataset). */
  source: string;
  pairs: PairRecord[];
  /** Pairs per text, one number per text (texts without pairs included); null when texts are unknown. */
  pairsPerText: number[] | null;
  warnings: string[];
};

const LINE_SHAPES =
  'each line must be a {"question","answer"} pair, a Chain (array of {"context","pairs"}), {"chain": Chain}, or {"context","pairs"}';

function isPair(x: unknown): x is Pair {
  const o = x as Record<string, unknown> | null;
  return !!o && typeof o === 'object' && typeof o.question === 'string' && typeof o.answer === 'string';
}

function isEntry(x: unknown): x is ChainEntry {
  const o = x as Record<string, unknown> | null;
  return (
    !!o && typeof o === 'object' && typeof o.context === 'string' && Array.isArray(o.pairs) && o.pairs.every(isPair)
  );
}

function textKey(context: string): string {
  return sha256(context).slice(0, 16);
}

/** Accumulates pairs and per-text counts in input order. */
class Collector {
  readonly pairs: PairRecord[] = [];
  private readonly perText = new Map<string, number>();
  private unknownText = false;

  addEntry(entry: ChainEntry, key: string): void {
    this.perText.set(key, (this.perText.get(key) ?? 0) + entry.pairs.length);
    for (const p of entry.pairs) this.pairs.push({ question: p.question, answer: p.answer, text: key });
  }

  addPair(p: Pair, key: string | null): void {
    if (key === null) this.unknownText = true;
    else this.perText.set(key, (this.perText.get(key) ?? 0) + 1);
    this.pairs.push({ question: p.question, answer: p.answer, text: key });
  }

  pairsPerText(): number[] | null {
    return this.unknownText || this.perText.size === 0 ? null : [...this.perText.values()];
  }
}

function pairTextKey(o: Record<string, unknown>): string | null {
  for (const k of ['text_id', 'textId', 'doc_id', 'docId']) {
    if (typeof o[k] === 'string' || typeof o[k] === 'number') return `id:${o[k]}`;
  }
  if (typeof o.context === 'string') return textKey(o.context);
  return null;
}

function addLine(c: Collector, value: unknown, where: string, nextTextId: () => string): void {
  const chain: unknown = Array.isArray(value) ? value : (value as { chain?: unknown } | null)?.chain;
  if (Array.isArray(chain)) {
    chain.forEach((e, i) => {
      if (!isEntry(e))
        throw new Error(`${where}: chain entry ${i} is not {"context": string, "pairs": [{"question","answer"}...]}`);
      c.addEntry(e, nextTextId());
    });
    return;
  }
  if (isEntry(value)) {
    c.addEntry(value, nextTextId());
    return;
  }
  if (isPair(value)) {
    c.addPair(value, pairTextKey(value as unknown as Record<string, unknown>));
    return;
  }
  throw new Error(`${where}: unrecognised record; ${LINE_SHAPES}`);
}

function readJsonlInto(c: Collector, path: string, warnings: string[], nextTextId: () => string): void {
  const read = readJsonLines(path, { tornLastLine: 'skip', fix: LINE_SHAPES });
  warnings.push(...read.warnings);
  for (const { line, value } of read.rows) addLine(c, value, `${path}:${line}`, nextTextId);
}

function counter(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}#${n++}`;
}

/** Pairs from a JSONL file of pairs, chains, or entries. */
export function readPairsFile(path: string, name: string = basename(path).replace(/\.jsonl?$/, '')): PairSet {
  const c = new Collector();
  const warnings: string[] = [];
  readJsonlInto(c, path, warnings, counter(path));
  return { name, source: path, pairs: c.pairs, pairsPerText: c.pairsPerText(), warnings };
}

/**
 * The chain files of a synthesis run folder: chains*.jsonl when there are any (a run folder may hold
 * other JSONL files, such as rendered texts), otherwise every *.jsonl in it, in name order.
 */
export function synthesisRunFiles(dir: string): string[] {
  const jsonl = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort();
  const chains = jsonl.filter((f) => f.startsWith('chains'));
  const files = (chains.length ? chains : jsonl).map((f) => join(dir, f));
  if (files.length === 0)
    throw new Error(
      `${dir} has no .jsonl files: expected a synthesis run folder with its chains JSONL (one Chain per line)`,
    );
  return files;
}

export function readSynthesisRun(dir: string, name: string = basename(dir)): PairSet {
  const c = new Collector();
  const warnings: string[] = [];
  const next = counter(dir);
  for (const f of synthesisRunFiles(dir)) readJsonlInto(c, f, warnings, next);
  return { name, source: dir, pairs: c.pairs, pairsPerText: c.pairsPerText(), warnings };
}

/** Pairs from chains already in memory (e.g. straight from the multi-round driver). */
export function pairSetFromChains(name: string, chains: Chain[], source = 'memory'): PairSet {
  const c = new Collector();
  const next = counter(name);
  for (const chain of chains) for (const e of chain) c.addEntry(e, next());
  return { name, source, pairs: c.pairs, pairsPerText: c.pairsPerText(), warnings: [] };
}

/** One record per text, e.g. the rule-based synthesizer's records ({context, pairs}). */
export function pairSetFromTexts(
  name: string,
  texts: Array<{ context: string; pairs: Pair[] }>,
  source = 'memory',
): PairSet {
  return pairSetFromChains(
    name,
    texts.map((t) => [{ context: t.context, pairs: t.pairs, inheritFromPrev: false }]),
    source,
  );
}

/** Pairs with no text information (pairs-per-text unknown), e.g. the labelled set. */
export function pairSetFromPairs(name: string, pairs: Pair[], source = 'memory'): PairSet {
  return {
    name,
    source,
    pairs: pairs.map((p) => ({ question: p.question, answer: p.answer, text: null })),
    pairsPerText: null,
    warnings: [],
  };
}

export class InputError extends Error {}

/** A local pairs/chains JSONL file or synthesis run folder (for hf:<dataset> use loadPairsInput). */
export function readPairsInput(input: string, name?: string): PairSet {
  if (input.startsWith('hf:'))
    throw new InputError(
      `${input}: a Hugging Face dataset is downloaded first; use loadPairsInput (as ipt coverage does)`,
    );
  if (!existsSync(input))
    throw new InputError(
      `${input}: no such file or folder (expected a pairs/chains JSONL file or a synthesis run folder)`,
    );
  return statSync(input).isDirectory() ? readSynthesisRun(input, name) : readPairsFile(input, name);
}

export type LoadPairsOptions = {
  name?: string;
  /** hf: which files of the dataset repo hold the pairs or chains (default: every .jsonl file). */
  include?: string[];
  revision?: string;
  hub?: Partial<HubConfig>;
  progress?: ProgressMode;
};

/**
 * `ipt coverage --input`: a JSONL file, a synthesis run folder, or `hf:<dataset repo>`, whose .jsonl
 * files are downloaded into the Hugging Face cache (lib/hub) and read like a run folder.
 */
export async function loadPairsInput(
  input: string,
  options: LoadPairsOptions = {},
): Promise<{ set: PairSet; inputs: ManifestInput[] }> {
  if (!input.startsWith('hf:')) {
    const set = readPairsInput(input, options.name);
    return { set, inputs: [{ name: set.name, source: input }] };
  }
  const repo = input.slice(3);
  const result = await downloadRepo({
    repo,
    type: 'dataset',
    revision: options.revision,
    include: options.include ?? ['*.jsonl'],
    config: options.hub,
    progress: options.progress,
  });
  const files = result.files.map((f) => join(result.snapshotDir, f.path)).filter((f) => f.endsWith('.jsonl'));
  if (files.length === 0)
    throw new InputError(
      `${input}: the dataset has no .jsonl files matching ${JSON.stringify(options.include ?? ['*.jsonl'])}`,
    );
  const c = new Collector();
  const warnings: string[] = [];
  const next = counter(input);
  for (const f of files.sort()) readJsonlInto(c, f, warnings, next);
  const set: PairSet = {
    name: options.name ?? repo,
    source: input,
    pairs: c.pairs,
    pairsPerText: c.pairsPerText(),
    warnings,
  };
  return { set, inputs: [manifestInputOf(result, repo)] };
}
