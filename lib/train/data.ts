// Training data: documents -> token ids with a loss mask -> packed rows -> seeded, resumable batches.
//
// A document is plain text, text in segments that are trained on or not (an instruction stage
// trains on responses only), or pre-tokenized ids with an optional mask. Two packings:
// - 'stream' (the default): documents are packed end to end with an EOS after each, and the stream
//   is cut once into rows of contextLength + 1 tokens that overlap by one token (row r =
//   stream[r*T .. r*T + T]), so every token is a target once; each epoch visits the same rows in a
//   fresh order.
// - 'documents': every epoch draws a fresh order of the documents and packs whole documents into
//   rows (EOS, doc, EOS, doc, ..., padding), so no document is cut by a row boundary and a document's
//   neighbours and position change every epoch. Small corpora of short documents (biographies) need
//   it: with one fixed stream a tiny model memorises rows (each document's neighbours and position)
//   instead of documents. A document longer than a row is cut into rows of its own.
// Each target position carries the mask of the token it predicts; the EOS after a document takes
// the mask of the document's last token, so a response-only stage learns to stop.
//
// Input folder layout for `ipt train --data DIR` (see DATA_LAYOUT_HELP).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { jsonLines } from '../repro/jsonl.js';
import { basename, join } from 'node:path';
import { createHash } from 'node:crypto';
import { createRng, deriveSeed, rngFromState, shuffleInPlace, type RngState } from '../repro/rng.js';

export type Packing = 'stream' | 'documents';
export const PACKINGS: readonly Packing[] = ['stream', 'documents'];

export type TextSegment = { text: string; train: boolean };
export type TrainingDocument = { segments: TextSegment[] } | { ids: number[]; mask?: number[] };
export type TokenizedDocument = { ids: Int32Array; mask: Uint8Array };

export const DATA_LAYOUT_HELP = `Data folder layout: DIR/*.jsonl (read in name order), one JSON object per line, one of
  {"text": "..."}                                  train on every token
  {"prompt": "...", "response": "..."}             train on the response (and the EOS after it) only
  {"segments": [{"text": "...", "train": false}, {"text": "...", "train": true}, ...]}
  {"ids": [1, 2, ...], "mask": [0, 1, ...]}         pre-tokenized; mask optional (default all 1)
Optional DIR/val/*.jsonl holds the validation documents; without it a seeded share of the
documents (valFraction in the config) is held out. Optional DIR/tokenizer.json (with
tokenizer_config.json) is used as is; otherwise byte-level BPE merges are trained on the data to
fill the model's vocabulary.`;

/** Parses one JSONL row into a document; `where` names it in errors. */
export function parseDocument(value: unknown, where: string): TrainingDocument {
  const bad = (why: string) =>
    new Error(`${where}: ${why}. ${'Expected {"text"}, {"prompt","response"}, {"segments"} or {"ids","mask"}'}`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('not a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.text === 'string') return { segments: [{ text: v.text, train: true }] };
  if (typeof v.prompt === 'string' && typeof v.response === 'string') {
    return {
      segments: [
        { text: v.prompt, train: false },
        { text: v.response, train: true },
      ],
    };
  }
  if (Array.isArray(v.segments)) {
    const segments = v.segments.map((s, i) => {
      const seg = s as Record<string, unknown>;
      if (!seg || typeof seg.text !== 'string') throw bad(`segment ${i} has no "text"`);
      if (seg.train !== undefined && typeof seg.train !== 'boolean')
        throw bad(`segment ${i}: "train" must be true or false`);
      return { text: seg.text, train: seg.train !== false };
    });
    return { segments };
  }
  if (Array.isArray(v.ids)) {
    if (!v.ids.every((x) => Number.isInteger(x) && (x as number) >= 0))
      throw bad('"ids" must be non-negative integers');
    const ids = v.ids as number[];
    if (v.mask === undefined) return { ids };
    if (!Array.isArray(v.mask) || v.mask.length !== ids.length || !v.mask.every((m) => m === 0 || m === 1)) {
      throw bad(`"mask" must be ${ids.length} zeros and ones, one per id`);
    }
    return { ids, mask: v.mask as number[] };
  }
  throw bad('unrecognised row');
}

export type DataFile = { path: string; documents: number; bytes: number; sha256: string };

/** Reads every *.jsonl file directly in `dir` (name order). */
export function readJsonlDocuments(dir: string): { documents: TrainingDocument[]; files: DataFile[] } {
  if (!existsSync(dir)) throw new Error(`data folder ${dir} does not exist.\n${DATA_LAYOUT_HELP}`);
  if (!statSync(dir).isDirectory()) {
    throw new Error(
      `${dir} is a file, not a folder: the data must be a folder of *.jsonl files (put ${basename(dir)} in a folder of its own and pass that).\n${DATA_LAYOUT_HELP}`,
    );
  }
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort();
  const documents: TrainingDocument[] = [];
  const files: DataFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const raw = readFileSync(path);
    const before = documents.length;
    for (const { line, value } of jsonLines(raw.toString('utf8'), path, { fix: 'a truncated file?' }))
      documents.push(parseDocument(value, `${path}:${line}`));
    files.push({
      path,
      documents: documents.length - before,
      bytes: raw.length,
      sha256: createHash('sha256').update(raw).digest('hex'),
    });
  }
  return { documents, files };
}

export function documentsFromTexts(texts: string[]): TrainingDocument[] {
  return texts.map((text) => ({ segments: [{ text, train: true }] }));
}

/** All the text of the documents' segments (for training a tokenizer). */
export function documentTexts(docs: TrainingDocument[]): string[] {
  return docs.flatMap((d) => ('segments' in d ? d.segments.map((s) => s.text) : []));
}

export function tokenizeDocuments(
  docs: TrainingDocument[],
  encode: (text: string) => number[],
  vocabSize: number,
): TokenizedDocument[] {
  return docs.map((d, n) => {
    let ids: number[];
    let mask: number[];
    if ('segments' in d) {
      ids = [];
      mask = [];
      for (const s of d.segments) {
        const seg = encode(s.text);
        for (const id of seg) {
          ids.push(id);
          mask.push(s.train ? 1 : 0);
        }
      }
    } else {
      ids = d.ids;
      mask = d.mask ?? ids.map(() => 1);
    }
    for (const id of ids)
      if (id >= vocabSize)
        throw new RangeError(`document ${n}: token id ${id} is outside the model's vocabulary (${vocabSize})`);
    return { ids: Int32Array.from(ids), mask: Uint8Array.from(mask) };
  });
}

export type PackedData = {
  /** The packed token stream and the loss mask of each token (as a prediction target). */
  tokens: Int32Array;
  mask: Uint8Array;
  contextLength: number;
  /** Number of rows of contextLength + 1 tokens. */
  rows: number;
  /** sha256 over tokens, mask and contextLength: what a resumed run checks. */
  sha256: string;
  /** Tokens from one row's start to the next (default contextLength: stream rows overlap by one token). */
  rowStride?: number;
};

export function packDocuments(
  docs: TokenizedDocument[],
  options: { contextLength: number; eosId: number },
): PackedData {
  const T = options.contextLength;
  let length = 0;
  for (const d of docs) length += d.ids.length + 1;
  const tokens = new Int32Array(length);
  const mask = new Uint8Array(length);
  let at = 0;
  for (const d of docs) {
    tokens.set(d.ids, at);
    mask.set(d.mask, at);
    at += d.ids.length;
    tokens[at] = options.eosId;
    mask[at] = d.ids.length ? d.mask[d.ids.length - 1] : 0;
    at++;
  }
  const rows = Math.max(0, Math.floor((length - 1) / T));
  const sha256 = createHash('sha256')
    .update(new Uint8Array(tokens.buffer))
    .update(mask)
    .update(String(T))
    .digest('hex');
  return { tokens, mask, contextLength: T, rows, sha256 };
}

/** Documents kept whole for packing afresh every epoch (packing 'documents'). */
export type DocumentData = {
  packing: 'documents';
  docs: TokenizedDocument[];
  contextLength: number;
  eosId: number;
  /** Rows of the first epoch (documents in their given order); later epochs differ by a few at most. */
  rows: number;
  /** Documents with their EOS: the tokens of one epoch without padding. */
  tokens: number;
  /** sha256 over the documents, masks, contextLength, eosId and the packing: what a resumed run checks. */
  sha256: string;
};

export type TrainingData = PackedData | DocumentData;

export function isDocumentData(data: TrainingData): data is DocumentData {
  return 'packing' in data && data.packing === 'documents';
}

export function documentData(
  docs: TokenizedDocument[],
  options: { contextLength: number; eosId: number },
): DocumentData {
  const h = createHash('sha256').update(`documents/${options.contextLength}/${options.eosId}`);
  let tokens = 0;
  for (const d of docs) {
    h.update(String(d.ids.length))
      .update(new Uint8Array(d.ids.buffer, d.ids.byteOffset, d.ids.byteLength))
      .update(d.mask);
    tokens += d.ids.length + 1;
  }
  const data: DocumentData = {
    packing: 'documents',
    docs,
    contextLength: options.contextLength,
    eosId: options.eosId,
    rows: 0,
    tokens,
    sha256: h.digest('hex'),
  };
  data.rows = packRows(
    data,
    docs.map((_, i) => i),
  ).rows;
  return data;
}

/**
 * Whole documents in `order` packed into rows of contextLength + 1 tokens: each row starts with an EOS
 * and holds documents each followed by an EOS, then EOS padding with mask 0. A document that does not
 * fit an empty row is cut into rows of its own (each starting with the token before its piece).
 */
export function packRows(data: DocumentData, order: number[]): PackedData {
  const T = data.contextLength;
  const eos = data.eosId;
  const rows: Array<{ tokens: Int32Array; mask: Uint8Array; used: number }> = [];
  const newRow = () => {
    const r = { tokens: new Int32Array(T + 1).fill(eos), mask: new Uint8Array(T + 1), used: 1 };
    rows.push(r);
    return r;
  };
  let row: { tokens: Int32Array; mask: Uint8Array; used: number } | undefined;
  for (const k of order) {
    const d = data.docs[k];
    const n = d.ids.length + 1; // the document and its EOS
    const last = d.ids.length ? d.mask[d.ids.length - 1] : 0;
    if (n <= T) {
      if (!row || row.used + n > T + 1) row = newRow();
      row.tokens.set(d.ids, row.used);
      row.mask.set(d.mask, row.used);
      row.mask[row.used + d.ids.length] = last; // its EOS (already in place)
      row.used += n;
      continue;
    }
    // longer than a row: its own rows, overlapping by one token as in the stream packing
    const ids = new Int32Array(n);
    const mask = new Uint8Array(n);
    ids.set(d.ids);
    mask.set(d.mask);
    ids[n - 1] = eos;
    mask[n - 1] = last;
    for (let at = 0; at < n; at += T) {
      const r = newRow();
      if (at > 0) {
        r.tokens[0] = ids[at - 1];
        r.mask[0] = mask[at - 1];
      }
      const piece = Math.min(T, n - at);
      r.tokens.set(ids.subarray(at, at + piece), 1);
      r.mask.set(mask.subarray(at, at + piece), 1);
      r.used = T + 1; // nothing else goes after a piece
    }
    row = undefined;
  }
  const tokens = new Int32Array(rows.length * (T + 1));
  const mask = new Uint8Array(rows.length * (T + 1));
  rows.forEach((r, i) => {
    tokens.set(r.tokens, i * (T + 1));
    mask.set(r.mask, i * (T + 1));
  });
  return { tokens, mask, contextLength: T, rows: rows.length, sha256: '', rowStride: T + 1 };
}

/** Holds out about `fraction` of the documents (a seeded choice, at least one when there are two or more). */
export function splitDocuments<D>(docs: D[], fraction: number, seed: number): { train: D[]; val: D[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`valFraction must be in [0, 1), got ${fraction}`);
  const count = fraction > 0 && docs.length > 1 ? Math.max(1, Math.round(docs.length * fraction)) : 0;
  const order = shuffleInPlace(
    docs.map((_, i) => i),
    createRng(deriveSeed(seed, 'val-split')),
  );
  const held = new Set(order.slice(0, count));
  return { train: docs.filter((_, i) => !held.has(i)), val: docs.filter((_, i) => held.has(i)) };
}

/** Inputs, targets and loss mask of `rows` (each T positions), in row order. */
export function gatherRows(data: PackedData, rows: number[]): Batch {
  const T = data.contextLength;
  const stride = data.rowStride ?? T;
  const inputs = new Int32Array(rows.length * T);
  const targets = new Int32Array(rows.length * T);
  const mask = new Uint8Array(rows.length * T);
  rows.forEach((r, b) => {
    const s = r * stride;
    inputs.set(data.tokens.subarray(s, s + T), b * T);
    targets.set(data.tokens.subarray(s + 1, s + T + 1), b * T);
    mask.set(data.mask.subarray(s + 1, s + T + 1), b * T);
  });
  return { inputs, targets, mask };
}

export type Batch = { inputs: Int32Array; targets: Int32Array; mask: Uint8Array };

/** Where a loader is: the epoch, the next row within it, and the RNG state that drew its order. */
export type LoaderState = { epoch: number; cursor: number; rng: RngState };

/**
 * Rows in a fresh seeded order every epoch; its state resumes the same sequence exactly. With the
 * stream packing an epoch is the fixed rows in a new order; with the documents packing it is the
 * documents in a new order, packed into rows afresh.
 */
export class BatchLoader {
  private order: number[] = [];
  /** The rows of the current epoch (documents packing; the fixed rows otherwise). */
  private rows: PackedData;
  private epochStart: RngState;
  private epoch: number;
  private cursor: number;
  private readonly rng;

  constructor(
    private readonly data: TrainingData,
    seed: number,
    state?: LoaderState,
  ) {
    if (data.rows < 1)
      throw new Error(
        `the training data has fewer than contextLength + 1 = ${data.contextLength + 1} tokens: add data or shorten the context`,
      );
    this.rows = isDocumentData(data) ? packRows(data, []) : data;
    this.rng = rngFromState(state?.rng ?? createRng(deriveSeed(seed, 'batches')).state());
    this.epoch = state?.epoch ?? 0;
    this.cursor = state?.cursor ?? 0;
    this.epochStart = this.rng.state();
    this.drawOrder();
    if (this.cursor > this.order.length)
      throw new Error(`loader state cursor ${this.cursor} is past the ${this.order.length} rows of the data`);
  }

  private drawOrder(): void {
    this.epochStart = this.rng.state();
    if (isDocumentData(this.data)) {
      const docs = shuffleInPlace(
        Array.from({ length: this.data.docs.length }, (_, i) => i),
        this.rng,
      );
      this.rows = packRows(this.data, docs);
      this.order = Array.from({ length: this.rows.rows }, (_, i) => i);
    } else {
      this.order = shuffleInPlace(
        Array.from({ length: this.data.rows }, (_, i) => i),
        this.rng,
      );
    }
  }

  private advance(): void {
    if (this.cursor === this.order.length) {
      this.epoch++;
      this.cursor = 0;
      this.drawOrder();
    }
  }

  /** The next `count` row indices (stream packing only: its rows are fixed). */
  nextRows(count: number): number[] {
    if (isDocumentData(this.data)) throw new Error('nextRows: the documents packing has no fixed rows; use nextBatch');
    const out: number[] = [];
    while (out.length < count) {
      this.advance();
      out.push(this.order[this.cursor++]);
    }
    return out;
  }

  /** Inputs, targets and mask of the next `count` rows (an epoch's end may fall inside a batch). */
  nextBatch(count: number): Batch {
    if (!isDocumentData(this.data)) return gatherRows(this.data, this.nextRows(count));
    const T = this.data.contextLength;
    const out: Batch = {
      inputs: new Int32Array(count * T),
      targets: new Int32Array(count * T),
      mask: new Uint8Array(count * T),
    };
    for (let b = 0; b < count; b++) {
      this.advance();
      const one = gatherRows(this.rows, [this.order[this.cursor++]]);
      out.inputs.set(one.inputs, b * T);
      out.targets.set(one.targets, b * T);
      out.mask.set(one.mask, b * T);
    }
    return out;
  }

  state(): LoaderState {
    return { epoch: this.epoch, cursor: this.cursor, rng: this.epochStart };
  }

  get epochs(): number {
    return this.epoch + this.cursor / this.order.length;
  }
}
