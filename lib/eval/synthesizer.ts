// The instruction synthesizer's own evaluation: response accuracy. Given a text from the synthesizer's
// fine-tuning collection (instruction-pretrain/ft-instruction-synthesizer-collection) and one of its
// questions, does the synthesizer write the reference answer? Zero-shot: the text, the earlier
// pairs of the same text, then `<QUE> {question} <ANS>`; few-shot: k other finished examples of the
// same dataset first, as demonstrations in the synthesizer's own format. Answers are scored by exact
// match and token F1 (the kit's SQuAD-normalised measures).
//
// What the released files do not say, and the kit therefore chooses (README, "Benchmark suites"):
// the collection's records are read from a `text` field holding finished examples
// (`<s> <CON> ... </CON>\n\n<QUE> ... <ANS> ... </END>...</s>`); the card marks no held-out split,
// so the last `perDataset` examples of each dataset named are evaluated and the examples before
// them give the demonstrations.

import type { TokenLM } from '../engine/gpt.js';
import type { TextTokenizer } from '../engine/tokenizer.js';
import type { HubConfig } from '../hub/config.js';
import type { ManifestInput } from '../repro/manifest.js';
import {
  ANS,
  cookCompre,
  cookDemonstration,
  cookRead,
  END,
  EOS,
  PAIR_DELIMITER,
  parseComprehension,
  pyStrip,
  QUE,
  type Pair,
} from '../synth/format.js';
import { exactMatch, tokenF1 } from './metrics.js';
import { aggregateMean, type Aggregate } from './suites/lmeval.js';
import { loadHubSplit } from './suites/data.js';
import { generateRequests, type RequestCache } from './requests.js';

export const SYNTHESIZER_COLLECTION = 'instruction-pretrain/ft-instruction-synthesizer-collection';

export type CollectionExample = { dataset: string; context: string; pairs: Pair[] };

/** Finished examples in a collection record: `<s> <CON> {context} </CON>\n\n{pairs}</s>`, one or more. */
export function parseCollectionText(text: string): Array<{ context: string; pairs: Pair[] }> {
  const out: Array<{ context: string; pairs: Pair[] }> = [];
  for (const piece of text.split(EOS)) {
    const m = /^\s*<s>\s*<CON>\s?([\s\S]*?)\s?<\/CON>([\s\S]*)$/.exec(piece);
    if (!m) continue;
    const pairs = parseComprehension(pyStrip(m[2]));
    if (pairs.length > 0) out.push({ context: m[1], pairs });
  }
  return out;
}

/** The examples of the named datasets (configs of the collection), in file order, with the files read. */
export async function loadCollectionExamples(
  datasets: string[],
  options: { hub?: Partial<HubConfig>; repo?: string } = {},
): Promise<{ examples: CollectionExample[]; inputs: ManifestInput[] }> {
  const examples: CollectionExample[] = [];
  const inputs: ManifestInput[] = [];
  for (const dataset of datasets) {
    const split = await loadHubSplit(
      { path: options.repo ?? SYNTHESIZER_COLLECTION, name: dataset, revision: 'main' },
      'train',
      { hub: options.hub },
    );
    inputs.push(split.manifest);
    for (const doc of split.docs) {
      if (typeof doc.text !== 'string')
        throw new Error(
          `${SYNTHESIZER_COLLECTION} (${dataset}): a record has no "text" string field; its fields are ${Object.keys(doc).join(', ')}`,
        );
      for (const e of parseCollectionText(doc.text)) examples.push({ dataset, ...e });
    }
  }
  return { examples, inputs };
}

export type ResponseItem = {
  dataset: string;
  example: number;
  pair: number;
  question: string;
  reference: string;
  prediction: string;
  exact_match: number;
  f1: number;
};

export type ResponseAccuracy = {
  shots: number;
  /** Per dataset and overall: exact match and token F1 with standard errors over the questions. */
  scores: Record<string, { exact_match: Aggregate; f1: Aggregate }>;
  items: ResponseItem[];
};

/** The prompt for pair `p` of example `e`, after `shots` demonstrations. */
export function responsePrompt(e: CollectionExample, p: number, demos: CollectionExample[]): string {
  const earlier = e.pairs.slice(0, p);
  return (
    demos.map((d) => cookDemonstration(d)).join('') +
    cookRead(e.context) +
    (earlier.length ? cookCompre(earlier) + PAIR_DELIMITER : '') +
    `${QUE} ${e.pairs[p].question} ${ANS}`
  );
}

/**
 * Response accuracy of a synthesizer on the last `perDataset` examples of each dataset, with `shots`
 * demonstrations: the examples just before the evaluated ones (the same for every question), so a
 * zero-shot and a few-shot run score the same questions and differ only by the demonstrations.
 */
export async function synthesizerResponseAccuracy(
  model: TokenLM,
  tokenizer: TextTokenizer,
  examples: CollectionExample[],
  options: {
    shots: number;
    perDataset: number;
    maxNewTokens?: number;
    batchSize?: number;
    modelKey: string;
    cache?: RequestCache;
  },
): Promise<ResponseAccuracy> {
  const byDataset = new Map<string, CollectionExample[]>();
  for (const e of examples) byDataset.set(e.dataset, [...(byDataset.get(e.dataset) ?? []), e]);
  const jobs: Array<{
    dataset: string;
    example: number;
    pair: number;
    prompt: string;
    reference: string;
    question: string;
  }> = [];
  for (const [dataset, list] of byDataset) {
    const start = Math.max(0, list.length - options.perDataset);
    if (start < options.shots)
      throw new Error(
        `${dataset}: ${options.shots}-shot needs ${options.shots} examples before the ${Math.min(options.perDataset, list.length)} evaluated, the dataset has ${list.length}`,
      );
    const demos = list.slice(start - options.shots, start);
    for (let i = start; i < list.length; i++) {
      const ex = list[i];
      ex.pairs.forEach((pair, p) =>
        jobs.push({
          dataset,
          example: i,
          pair: p,
          prompt: responsePrompt(ex, p, demos),
          reference: pair.answer,
          question: pair.question,
        }),
      );
    }
  }
  const endIds = tokenizer.encode(END);
  const stop = [
    ...(endIds.length === 1 ? endIds : []),
    ...(tokenizer.eosTokenId !== undefined ? [tokenizer.eosTokenId] : []),
  ];
  const room = model.contextLength - (options.maxNewTokens ?? 48);
  const outputs = await generateRequests(
    model,
    jobs.map((j) => ({
      prompt: tokenizer.encode(j.prompt).slice(-room),
      maxNewTokens: options.maxNewTokens ?? 48,
      stopTokenIds: stop,
    })),
    { batchSize: options.batchSize ?? 8, modelKey: options.modelKey, cache: options.cache },
  );
  const items: ResponseItem[] = jobs.map((j, k) => {
    const text = tokenizer.decode(outputs[k], { skipSpecialTokens: false });
    const prediction = pyStrip(text.split(END)[0].split(EOS)[0]);
    return {
      dataset: j.dataset,
      example: j.example,
      pair: j.pair,
      question: j.question,
      reference: j.reference,
      prediction,
      exact_match: exactMatch(prediction, [j.reference]),
      f1: tokenF1(prediction, [j.reference]),
    };
  });
  const scores: ResponseAccuracy['scores'] = {};
  for (const d of [...byDataset.keys(), 'all']) {
    const its = items.filter((i) => d === 'all' || i.dataset === d);
    scores[d] = { exact_match: aggregateMean(its.map((i) => i.exact_match)), f1: aggregateMean(its.map((i) => i.f1)) };
  }
  return { shots: options.shots, scores, items };
}
