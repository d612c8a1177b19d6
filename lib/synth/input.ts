// Raw texts for synthesis from a source name, through the corpus readers (lib/corpus): `brown`
// (the embedded corpus), a local shard file or folder (.jsonl, .jsonl.gz, .json, .txt, .parquet), or
// `hf:<dataset repo>`. Long documents are cut into contexts by a token budget (lib/corpus/chunk).

import type { ManifestInput } from '../repro/manifest.js';
import { openCorpus, type SourceOptions } from '../corpus/source.js';
import { chunkDocuments, type ChunkableDocument } from '../corpus/chunk.js';

export type TextSource = { texts: string[]; input: ManifestInput };

export type LoadTextsOptions = SourceOptions & {
  /** Keep the first N texts (after chunking). */
  limit?: number;
  /** Cut documents longer than this many tokens (the tiny byte tokenizer, ~ bytes) into contexts. */
  maxTokens?: number;
};

export const INPUT_HELP =
  'brown (the embedded Brown corpus), a shard file or folder (.jsonl, .jsonl.gz, .json, .txt one text per file, .parquet), or hf:<dataset repo>';

export async function loadTexts(source: string, options: LoadTextsOptions = {}): Promise<TextSource> {
  const { limit, maxTokens, ...sourceOptions } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1))
    throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  const corpus = openCorpus(source, sourceOptions);
  const docs: ChunkableDocument[] = [];
  for await (const doc of corpus.documents()) {
    docs.push(doc);
    // without chunking, one document is one text: stop reading (and downloading) once we have enough
    if (maxTokens === undefined && limit !== undefined && docs.length >= limit) break;
  }
  let texts =
    maxTokens === undefined ? docs.map((d) => d.text) : chunkDocuments(docs, { maxTokens }).map((c) => c.text);
  if (limit !== undefined) texts = texts.slice(0, limit);
  if (texts.length === 0) throw new Error(`${source} has no texts`);
  return { texts, input: corpus.manifestInput() };
}
