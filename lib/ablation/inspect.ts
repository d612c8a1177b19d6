// Looking inside a finished run's corpora, for notebooks and tests: which documents of a continual
// pre-training corpus are domain texts and which are the general instructions mixed in. Both domain
// corpora are shuffled mixes (domain texts 1:1 by tokens with general instructions), so their first
// document may be either: it says nothing about the corpus by itself.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../corpus/chunk.js';
import type { AblationRecords } from './records.js';

export type CorpusComposition = {
  corpus: string;
  documents: number;
  /** Documents holding a domain text (raw, or rendered with its synthesized pairs). */
  domainDocuments: number;
  /** The general instructions mixed in (the synthesizer's collection, rendered). */
  instructionDocuments: number;
  firstDomain: string | null;
  firstInstruction: string | null;
};

function jsonLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Splits a domain corpus (`domain-raw`, `domain-instruct`) into its domain texts and its general instructions. */
export function domainCorpusComposition(outDir: string, records: AblationRecords, corpus: string): CorpusComposition {
  const c = records.corpora[corpus];
  if (!c) throw new Error(`no corpus "${corpus}" in this run; corpora: ${Object.keys(records.corpora).join(', ')}`);
  const domain = jsonLines<Context>(join(outDir, records.splitDir, 'contexts.domainTrain.jsonl')).map((x) => x.text);
  const texts = jsonLines<{ text?: string; segments?: Array<{ text: string }> }>(join(outDir, c.dir, c.file)).map(
    (d) => d.text ?? (d.segments ?? []).map((s) => s.text).join(''),
  );
  // a rendered domain text contains its passage verbatim; the general instructions are about other genres
  const isDomain = (t: string) => domain.some((d) => t.includes(d));
  const flags = texts.map(isDomain);
  return {
    corpus,
    documents: texts.length,
    domainDocuments: flags.filter(Boolean).length,
    instructionDocuments: flags.filter((f) => !f).length,
    firstDomain: texts.find((_, i) => flags[i]) ?? null,
    firstInstruction: texts.find((_, i) => !flags[i]) ?? null,
  };
}
