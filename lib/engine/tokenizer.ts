// Tokenizers: any Hugging Face `tokenizer.json` through @huggingface/tokenizers, and the kit's own
// byte-level tokenizer for tiny models. The synthesizer prompt already carries `<s>`, so text is
// always encoded without adding special tokens.
//
// The tiny vocabulary: <pad>=0, <s>=1, </s>=2, the 256 bytes at 3..258 (GPT-2's byte-to-unicode
// alphabet), then the synthesizer markers <CON> </CON> <QUE> <ANS> </END> as single tokens, then
// any BPE merges. The markers are added tokens that are not "special", so decoding keeps them.

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { readJsonObject, writeFileAtomic } from '../repro/files.js';

export const TINY_SPECIALS = ['<pad>', '<s>', '</s>'] as const;
export const TINY_MARKERS = ['<CON>', '</CON>', '<QUE>', '<ANS>', '</END>'] as const;
export const BYTE_OFFSET = TINY_SPECIALS.length;
export const MARKER_OFFSET = BYTE_OFFSET + 256;
export const TINY_BASE_VOCAB = MARKER_OFFSET + TINY_MARKERS.length;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;

export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  count(text: string): number;
  tokenToId(token: string): number | undefined;
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
}

/** GPT-2's reversible byte -> printable character map used by byte-level BPE. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i])));
  return table;
}

export type TokenizerFiles = { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> };

/**
 * The tiny model's tokenizer.json. `merges` are pairs of vocabulary strings in the byte alphabet
 * (as in any GPT-2 style tokenizer.json), each adding one token after the markers.
 */
export function tinyTokenizerFiles(
  options: { merges?: Array<[string, string]>; modelMaxLength?: number } = {},
): TokenizerFiles {
  const alphabet = bytesToUnicode();
  const vocab: Record<string, number> = {};
  TINY_SPECIALS.forEach((s, i) => (vocab[s] = i));
  for (let b = 0; b < 256; b++) vocab[alphabet[b]] = BYTE_OFFSET + b;
  TINY_MARKERS.forEach((m, i) => (vocab[m] = MARKER_OFFSET + i));
  const merges = options.merges ?? [];
  merges.forEach(([a, b], i) => {
    const merged = a + b;
    if (merged in vocab) throw new Error(`merge ${i} (${a} + ${b}) makes a token that already exists`);
    vocab[merged] = TINY_BASE_VOCAB + i;
  });
  const added = [
    ...TINY_SPECIALS.map((content, id) => ({ id, content, special: true })),
    ...TINY_MARKERS.map((content, i) => ({ id: MARKER_OFFSET + i, content, special: false })),
  ].map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: byteLevel,
      decoder: byteLevel,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: merges.map(([a, b]) => [a, b]),
      },
    },
    tokenizerConfig: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: '<s>',
      eos_token: '</s>',
      pad_token: '<pad>',
      unk_token: null,
      add_bos_token: false,
      add_eos_token: false,
      clean_up_tokenization_spaces: false,
      model_max_length: options.modelMaxLength ?? 2048,
      padding_side: 'left',
    },
  };
}

export function writeTokenizerFiles(dir: string, files: TokenizerFiles): void {
  writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
  writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
}

function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

export function tokenizerFromFiles(files: TokenizerFiles): TextTokenizer {
  const hf = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig);
  const vocabSize = hf.get_vocab(true).size;
  const idOf = (name: string | undefined) => (name === undefined ? undefined : hf.token_to_id(name));
  return {
    encode: (text) => hf.encode(text, { add_special_tokens: false }).ids,
    decode: (ids, options) =>
      ids.length === 0 ? '' : hf.decode([...ids], { skip_special_tokens: options?.skipSpecialTokens ?? false }),
    count: (text) => (text.length === 0 ? 0 : hf.encode(text, { add_special_tokens: false }).ids.length),
    tokenToId: (token) => hf.token_to_id(token),
    vocabSize,
    bosTokenId: idOf(tokenName(files.tokenizerConfig.bos_token)),
    eosTokenId: idOf(tokenName(files.tokenizerConfig.eos_token)),
    padTokenId: idOf(tokenName(files.tokenizerConfig.pad_token)),
  };
}

/** `tokenizer.json` (+ `tokenizer_config.json` when present) of a folder as plain JSON; undefined without tokenizer.json. */
export function readTokenizerFiles(dir: string): TokenizerFiles | undefined {
  const jsonPath = join(dir, 'tokenizer.json');
  if (!existsSync(jsonPath)) return undefined;
  const configPath = join(dir, 'tokenizer_config.json');
  const fix = "restore it from the model's export";
  return {
    tokenizerJson: readJsonObject(jsonPath, fix),
    tokenizerConfig: existsSync(configPath) ? readJsonObject(configPath, fix) : {},
  };
}

/** Loads `tokenizer.json` (+ `tokenizer_config.json` when present) from a model folder. */
export function loadTokenizer(dir: string): TextTokenizer {
  const files = readTokenizerFiles(dir);
  if (!files) throw new Error(`no tokenizer.json in ${dir}: a model folder needs the tokenizer it was trained with`);
  return tokenizerFromFiles(files);
}

/**
 * Encodes with the tiny vocabulary without merges, 10x faster than the general tokenizer for bulk
 * corpus work; identical ids to `tokenizerFromFiles(tinyTokenizerFiles())` (tested), including the
 * literal specials and markers, which become their single ids.
 */
export function encodeTinyBytes(text: string): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const stop = lt < 0 ? text.length : lt;
    if (stop > i) for (const b of Buffer.from(text.slice(i, stop), 'utf8')) out.push(BYTE_OFFSET + b);
    if (lt < 0) break;
    const marker = matchAddedToken(text, lt);
    if (marker) {
      out.push(marker.id);
      i = lt + marker.length;
    } else {
      out.push(BYTE_OFFSET + 0x3c);
      i = lt + 1;
    }
  }
  return out;
}

const ADDED: Array<{ text: string; id: number }> = [
  ...TINY_SPECIALS.map((text, id) => ({ text, id })),
  ...TINY_MARKERS.map((text, i) => ({ text, id: MARKER_OFFSET + i })),
].sort((a, b) => b.text.length - a.text.length);

function matchAddedToken(text: string, at: number): { id: number; length: number } | undefined {
  for (const t of ADDED) if (text.startsWith(t.text, at)) return { id: t.id, length: t.text.length };
  return undefined;
}

/** Inverse of encodeTinyBytes for ids below TINY_BASE_VOCAB (no merges). */
export function decodeTinyBytes(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
  const parts: string[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) parts.push(Buffer.from(bytes).toString('utf8'));
    bytes = [];
  };
  for (const id of ids) {
    if (id >= BYTE_OFFSET && id < MARKER_OFFSET) bytes.push(id - BYTE_OFFSET);
    else if (id >= 0 && id < BYTE_OFFSET) {
      flush();
      if (!options.skipSpecialTokens) parts.push(TINY_SPECIALS[id]);
    } else if (id >= MARKER_OFFSET && id < TINY_BASE_VOCAB) {
      flush();
      parts.push(TINY_MARKERS[id - MARKER_OFFSET]);
    } else throw new RangeError(`token id ${id} is outside the tiny byte vocabulary (0..${TINY_BASE_VOCAB - 1})`);
  }
  flush();
  return parts.join('');
}
