// Who sees which text. The Brown documents are split once, by document and per genre, into parts no
// two of which share a document: evaluation documents no model or synthesizer ever trains on, whole
// genres held out from everything, the domain's documents (kept out of general pre-training), the
// synthesizer's fine-tuning documents, and the general pre-training documents. Each part is cut into
// contexts (exact slices of paragraphs) by a byte budget.

import { loadBrown, brownManifestInput, type BrownDocument } from '../corpus/brown.js';
import { chunkDocuments, type Context } from '../corpus/chunk.js';
import { createRng, deriveSeed, shuffleInPlace } from '../repro/rng.js';
import type { ManifestInput } from '../repro/manifest.js';
import type { AblationConfig } from './config.js';

export const PARTS = ['pretrain', 'synthesizer', 'eval', 'heldOutGenre', 'domainTrain', 'domainEval'] as const;
export type Part = (typeof PARTS)[number];

export type Splits = {
  /** Document ids per part. */
  documents: Record<Part, string[]>;
  /** Contexts per part, in document order. */
  contexts: Record<Part, Context[]>;
  input: ManifestInput;
};

function byGenre(docs: BrownDocument[]): Map<string, BrownDocument[]> {
  const m = new Map<string, BrownDocument[]>();
  for (const d of docs) m.set(d.genre, [...(m.get(d.genre) ?? []), d]);
  return m;
}

/** Takes `n` documents of every genre (seeded), returning [taken, rest] in corpus order. */
function takePerGenre(
  docs: BrownDocument[],
  n: number,
  seed: number,
  label: string,
): [BrownDocument[], BrownDocument[]] {
  const taken = new Set<string>();
  for (const [genre, list] of byGenre(docs)) {
    const shuffled = shuffleInPlace([...list], createRng(deriveSeed(seed, label, genre)));
    for (const d of shuffled.slice(0, Math.min(n, list.length - 1))) taken.add(d.id);
  }
  return [docs.filter((d) => taken.has(d.id)), docs.filter((d) => !taken.has(d.id))];
}

function takeShare(
  docs: BrownDocument[],
  share: number,
  seed: number,
  label: string,
): [BrownDocument[], BrownDocument[]] {
  const order = shuffleInPlace(
    docs.map((d) => d.id),
    createRng(deriveSeed(seed, label)),
  );
  const taken = new Set(order.slice(0, Math.round(share * docs.length)));
  return [docs.filter((d) => taken.has(d.id)), docs.filter((d) => !taken.has(d.id))];
}

function cap(docs: BrownDocument[], max: number | undefined, seed: number, label: string): BrownDocument[] {
  if (max === undefined || docs.length <= max) return docs;
  const keep = new Set(
    shuffleInPlace(
      docs.map((d) => d.id),
      createRng(deriveSeed(seed, label, 'cap')),
    ).slice(0, max),
  );
  return docs.filter((d) => keep.has(d.id));
}

export function splitDocuments(docs: BrownDocument[], config: AblationConfig): Record<Part, BrownDocument[]> {
  const { corpus, seed } = config;
  const known = new Set(docs.map((d) => d.genre));
  for (const g of [...corpus.heldOutGenres, ...corpus.domainGenres]) {
    if (!known.has(g)) throw new Error(`genre "${g}" is not in the corpus; genres: ${[...known].sort().join(', ')}`);
  }
  const heldOutGenre = docs.filter((d) => corpus.heldOutGenres.includes(d.genre));
  const domain = docs.filter((d) => corpus.domainGenres.includes(d.genre));
  const general = docs.filter((d) => !corpus.heldOutGenres.includes(d.genre) && !corpus.domainGenres.includes(d.genre));
  const [domainEval, domainTrain] = takePerGenre(domain, corpus.domainEvalDocsPerGenre, seed, 'domain-eval');
  const [evalDocs, rest] = takePerGenre(general, corpus.evalDocsPerGenre, seed, 'eval');
  const [synthesizer, pretrain] = takeShare(rest, corpus.synthesizerShare, seed, 'synthesizer');
  const parts: Record<Part, BrownDocument[]> = {
    pretrain,
    synthesizer,
    eval: evalDocs,
    heldOutGenre,
    domainTrain,
    domainEval,
  };
  for (const p of PARTS) parts[p] = cap(parts[p], corpus.maxDocs[p], seed, p);
  return parts;
}

export function makeSplits(config: AblationConfig, docs: BrownDocument[] = loadBrown()): Splits {
  const parts = splitDocuments(docs, config);
  const documents = {} as Record<Part, string[]>;
  const contexts = {} as Record<Part, Context[]>;
  for (const p of PARTS) {
    documents[p] = parts[p].map((d) => d.id);
    // a heading or a last line alone is not a context worth synthesizing for
    contexts[p] = chunkDocuments(parts[p], {
      maxTokens: config.corpus.contextBytes,
      minTokens: Math.floor(config.corpus.contextBytes / 4),
    });
  }
  return { documents, contexts, input: brownManifestInput() };
}
