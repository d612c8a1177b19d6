// The domain benchmarks the paper reports for its Llama3-8B continual pre-training (finance:
// ConvFinQA, FPB, FiQA_SA, Headline, NER; biomedicine: ChemProt, MQP, PubMedQA, RCT, USMLE), read
// from AdaptLLM's prompt datasets and scored as AdaptLLM's own evaluation code scores them (read for
// this: microsoft/LMOps `adaptllm`, its task list, dataset reader, inference loop and metrics):
// - the prompts already hold their demonstrations (`input`); no further few-shot is added;
// - classification: each option, after a space, scored by its mean log-likelihood per token; the
//   best option is the prediction;
// - completion (NER, ConvFinQA): greedy generation of at most 100 tokens, stopping at a newline;
// - metrics: weighted F1 (FPB, FiQA_SA), Headline's F1 averaged over its 9 sub-questions, entity-level
//   F1 (NER, nereval's definition on AdaptLLM's parse), numeric exact match (ConvFinQA), micro F1
//   (ChemProt, RCT: for one label per item this is accuracy), accuracy (MQP, PubMedQA, USMLE).
// Scores are reported in [0, 1] (AdaptLLM prints them x100). Instruction-pretrain models expect a
// BOS token first (AdaptLLM's evaluation README: add_bos_token=True for them, False for AdaptLLM's
// Llama-1 models).

import type { TextTokenizer } from '../../engine/tokenizer.js';
import { createRng } from '../../repro/rng.js';
import type { Aggregate } from './lmeval.js';
import { aggregateMean } from './lmeval.js';
import type { DatasetRef, Doc, GroupDef } from './types.js';

export type DomainMetricName =
  | 'weighted_F1'
  | 'multi_class_weighted_F1'
  | 'entity_level_f1'
  | 'ConvFinQA_em'
  | 'micro_F1'
  | 'acc';

export type DomainTaskDef = {
  kind: 'adaptllm_choice' | 'adaptllm_completion';
  name: string;
  domain: 'finance' | 'medicine';
  dataset: DatasetRef;
  split: 'test';
  metric: DomainMetricName;
  input: (doc: Doc) => string;
  options: (doc: Doc) => string[];
  gold: (doc: Doc) => number;
  /** Completion tasks: the reference answer (label[0], or label). */
  reference: (doc: Doc) => string;
};

function field<T>(doc: Doc, name: string, check: (v: unknown) => v is T, what: string): T {
  const v = doc[name];
  if (!check(v))
    throw new Error(
      `AdaptLLM document field "${name}" is ${v === undefined ? 'missing' : JSON.stringify(v).slice(0, 60)}, expected ${what}`,
    );
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function domainTask(
  name: string,
  domain: 'finance' | 'medicine',
  config: string,
  kind: DomainTaskDef['kind'],
  metric: DomainMetricName,
): DomainTaskDef {
  return {
    kind,
    name,
    domain,
    dataset: {
      path: domain === 'finance' ? 'AdaptLLM/finance-tasks' : 'AdaptLLM/medicine-tasks',
      name: config,
      revision: 'main',
    },
    split: 'test',
    metric,
    input: (doc) => field(doc, 'input', isString, 'a string'),
    options: (doc) => field(doc, 'options', isStrings, 'a list of strings'),
    gold: (doc) => field(doc, 'gold_index', isInt, 'an integer'),
    reference: (doc) => {
      const label = doc.label;
      if (typeof label === 'string') return label;
      if (isStrings(label) && label.length > 0) return label[0];
      throw new Error('AdaptLLM document field "label" is missing or empty');
    },
  };
}

export const DOMAIN_TASKS: DomainTaskDef[] = [
  domainTask('ConvFinQA', 'finance', 'ConvFinQA', 'adaptllm_completion', 'ConvFinQA_em'),
  domainTask('FPB', 'finance', 'FPB', 'adaptllm_choice', 'weighted_F1'),
  domainTask('FiQA_SA', 'finance', 'FiQA_SA', 'adaptllm_choice', 'weighted_F1'),
  domainTask('Headline', 'finance', 'Headline', 'adaptllm_choice', 'multi_class_weighted_F1'),
  domainTask('NER', 'finance', 'NER', 'adaptllm_completion', 'entity_level_f1'),
  domainTask('ChemProt', 'medicine', 'ChemProt', 'adaptllm_choice', 'micro_F1'),
  domainTask('MQP', 'medicine', 'MQP', 'adaptllm_choice', 'acc'),
  domainTask('PubMedQA', 'medicine', 'PubMedQA', 'adaptllm_choice', 'acc'),
  domainTask('RCT', 'medicine', 'RCT', 'adaptllm_choice', 'micro_F1'),
  domainTask('USMLE', 'medicine', 'USMLE', 'adaptllm_choice', 'acc'),
];

/** `finance` and `medicine`: every task of the domain, and the unweighted average of their metrics (as the paper's tables average them). */
export const DOMAIN_GROUPS: GroupDef[] = (['finance', 'medicine'] as const).map((d) => ({
  name: d,
  version: 'adaptllm',
  children: DOMAIN_TASKS.filter((t) => t.domain === d).map((t) => t.name),
  metrics: [],
  weightBySize: false,
  average: true,
}));

// ---- metrics ---------------------------------------------------------------------------------

/** scikit-learn's f1_score(average='weighted'): per-label F1 weighted by the label's support in y_true. */
export function weightedF1(golds: number[], preds: number[]): number {
  if (golds.length === 0) return 0;
  const labels = [...new Set([...golds, ...preds])];
  let total = 0;
  for (const l of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < golds.length; i++) {
      if (preds[i] === l && golds[i] === l) tp++;
      else if (preds[i] === l) fp++;
      else if (golds[i] === l) fn++;
    }
    const support = tp + fn;
    if (support === 0) continue;
    const p = tp + fp ? tp / (tp + fp) : 0;
    const r = tp / support;
    total += support * (p + r ? (2 * p * r) / (p + r) : 0);
  }
  return total / golds.length;
}

/** Headline: weighted F1 within each of the 9 sub-questions (class_id), averaged over 9 (an empty one counts 0). */
export function headlineF1(golds: number[], preds: number[], classIds: number[]): number {
  let sum = 0;
  for (let c = 0; c < 9; c++) {
    const idx = classIds.map((id, i) => (id === c ? i : -1)).filter((i) => i >= 0);
    sum += weightedF1(
      idx.map((i) => golds[i]),
      idx.map((i) => preds[i]),
    );
  }
  return sum / 9;
}

type Entity = { text: string; type: string };

/** AdaptLLM's parse_ner: "<word> (<type>)" pairs (only the word just before each bracket), deduplicated. */
export function parseNer(text: string): Entity[] {
  const out: Entity[] = [];
  for (const m of text.matchAll(/([^\s]+[\s]+)(\([^\s]+\))/gi)) {
    const e = { text: m[1].length > 1 ? m[1].slice(0, -1) : '', type: m[2].length > 2 ? m[2].slice(1, -1) : '' };
    if (!out.some((o) => o.text === e.text && o.type === e.type)) out.push(e);
  }
  return out;
}

/** nereval's F1 for one text: matches on exact text and on type (with overlapping text), both counted. */
export function nerevalF1(truth: Entity[], pred: Entity[]): number {
  let correct = 0;
  for (const x of truth) {
    for (const y of pred) {
      // every entity starts at 0 in AdaptLLM's parse, so texts overlap exactly when both are non-empty
      const textMatch = x.text === y.text;
      const typeMatch = x.type === y.type && x.text.length > 0 && y.text.length > 0;
      correct += (textMatch ? 1 : 0) + (typeMatch ? 1 : 0);
      if (textMatch || typeMatch) break;
    }
  }
  const possible = truth.length * 2;
  const actual = pred.length * 2;
  const p = actual ? correct / actual : 0;
  const r = possible ? correct / possible : 0;
  return p + r ? (2 * p * r) / (p + r) : 0;
}

/** AdaptLLM's normalized_num: the numbers on the first line; "%" divides by 100; what Python cannot evaluate is infinity. */
export function normalizedNumbers(text: string): number[] {
  const line = text.split('\n')[0].trim();
  const found = line.match(/[-+]?[.]?[\d]+(?:,\d\d\d)*[\.]?\d*(?:[eE][-+]?\d+)?[%]*/g) ?? [];
  return found.map((raw) => {
    const percents = raw.length - raw.replace(/%+$/, '').length;
    const num = raw.replace(/%+$/, '').replaceAll(',', '');
    // Python's eval refuses integer literals with leading zeros ("007"), though "0", "00" and "01.5" are fine
    const body = num.replace(/^[-+]/, '');
    if (/^0\d*$/.test(body) && /[1-9]/.test(body)) return Number.POSITIVE_INFINITY;
    const v = Number(num);
    return Number.isNaN(v) ? Number.POSITIVE_INFINITY : v / 100 ** percents;
  });
}

/** Python's math.isclose(a, b, abs_tol=1e-2). */
function isClose(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= Math.max(1e-9 * Math.max(Math.abs(a), Math.abs(b)), 1e-2);
}

/** ConvFinQA: right when any number the model wrote is within 0.01 of the reference's first number. */
export function convFinQACorrect(reference: string, prediction: string): number {
  const label = normalizedNumbers(reference);
  const pred = normalizedNumbers(prediction);
  if (label.length === 0 || pred.length === 0) return 0;
  return pred.some((p) => isClose(p, label[0])) ? 1 : 0;
}

/** Standard error of a corpus-level statistic by a seeded bootstrap over items (1000 resamples). */
function bootstrapStderr(n: number, statistic: (idx: number[]) => number, seed = 1, iters = 1000): number | null {
  if (n < 2) return null;
  const rng = createRng(seed);
  const values = Array.from({ length: iters }, () => statistic(Array.from({ length: n }, () => rng.int(n))));
  const m = values.reduce((a, v) => a + v, 0) / iters;
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (iters - 1));
}

export type DomainScore = { name: DomainMetricName; aggregate: Aggregate; perItem?: number[] };

/** The task's metric, its standard error (items' stderr, or a bootstrap for corpus-level F1) and per-item scores. */
export function domainMetric(
  task: DomainTaskDef,
  r: { preds?: number[]; golds?: number[]; predictions?: string[]; docs: Doc[] },
): DomainScore {
  const n = r.docs.length;
  if (task.kind === 'adaptllm_choice') {
    const preds = r.preds ?? [];
    const golds = r.golds ?? [];
    const correct = preds.map((p, i) => (p === golds[i] ? 1 : 0));
    if (task.metric === 'acc' || task.metric === 'micro_F1')
      return { name: task.metric, aggregate: aggregateMean(correct), perItem: correct };
    if (task.metric === 'weighted_F1') {
      const value = weightedF1(golds, preds);
      return {
        name: task.metric,
        aggregate: {
          value,
          stderr: bootstrapStderr(n, (idx) =>
            weightedF1(
              idx.map((i) => golds[i]),
              idx.map((i) => preds[i]),
            ),
          ),
          n,
        },
        perItem: correct,
      };
    }
    const classIds = r.docs.map((d) => field(d, 'class_id', isInt, 'an integer (Headline sub-question)'));
    const value = headlineF1(golds, preds, classIds);
    return {
      name: task.metric,
      aggregate: {
        value,
        stderr: bootstrapStderr(n, (idx) =>
          headlineF1(
            idx.map((i) => golds[i]),
            idx.map((i) => preds[i]),
            idx.map((i) => classIds[i]),
          ),
        ),
        n,
      },
      perItem: correct,
    };
  }
  const predictions = r.predictions ?? [];
  const refs = r.docs.map((d) => task.reference(d));
  const perItem =
    task.metric === 'entity_level_f1'
      ? refs.map((ref, i) => nerevalF1(parseNer(` ${ref}`), parseNer(predictions[i])))
      : refs.map((ref, i) => convFinQACorrect(` ${ref}`, predictions[i]));
  return { name: task.metric, aggregate: aggregateMean(perItem), perItem };
}

/**
 * The score of guessing uniformly among the options: 1/k for accuracy and micro F1; for weighted F1
 * sum_l p_l * 2 p_l (1/k) / (p_l + 1/k) with p_l the label shares (per sub-question for Headline);
 * null for generation tasks, which have no guessing baseline.
 */
export function domainChance(task: DomainTaskDef, docs: Doc[]): number | null {
  if (task.kind !== 'adaptllm_choice' || docs.length === 0) return null;
  const k = docs.map((d) => task.options(d).length);
  if (task.metric === 'acc' || task.metric === 'micro_F1') return k.reduce((a, x) => a + 1 / x, 0) / docs.length;
  const expected = (subset: Doc[]) => {
    if (subset.length === 0) return 0;
    const q = 1 / task.options(subset[0]).length;
    const counts = new Map<number, number>();
    for (const d of subset) counts.set(task.gold(d), (counts.get(task.gold(d)) ?? 0) + 1);
    let s = 0;
    for (const c of counts.values()) {
      const p = c / subset.length;
      s += (p * 2 * p * q) / (p + q);
    }
    return s;
  };
  if (task.metric === 'weighted_F1') return expected(docs);
  let sum = 0;
  for (let c = 0; c < 9; c++) sum += expected(docs.filter((d) => d.class_id === c));
  return sum / 9;
}

// ---- completion prompts ------------------------------------------------------------------------

const stopCache = new WeakMap<TextTokenizer, number[]>();

/** Ids whose text holds a newline, and EOS: generation stops at the first of them (AdaptLLM stops at "\n"). */
export function domainStopTokenIds(tok: TextTokenizer): number[] {
  const hit = stopCache.get(tok);
  if (hit) return hit;
  const ids: number[] = [];
  for (let id = 0; id < tok.vocabSize; id++) if (tok.decode([id]).includes('\n')) ids.push(id);
  if (tok.eosTokenId !== undefined && !ids.includes(tok.eosTokenId)) ids.push(tok.eosTokenId);
  stopCache.set(tok, ids);
  return ids;
}

/** A completion prompt, left-truncated to leave 100 new tokens (AdaptLLM: 2048 - 100), BOS kept. */
export function domainCompletionPrompt(
  tok: TextTokenizer,
  text: string,
  options: { bos: boolean; contextLength: number },
): number[] {
  const bos = options.bos && tok.bosTokenId !== undefined ? [tok.bosTokenId] : [];
  const room = Math.min(2048, options.contextLength) - 100 - bos.length;
  if (room < 1)
    throw new Error(
      `the model's context of ${options.contextLength} tokens leaves no room for a prompt and 100 new tokens`,
    );
  return [...bos, ...tok.encode(text).slice(-room)];
}
