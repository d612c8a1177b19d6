// Evaluates a model on benchmark suites and reports in lm-evaluation-harness's results shape:
// `results` (per task and group: "acc,none", "acc_stderr,none", ...), `groups`, `group_subtasks`,
// `configs`, `versions`, `n-shot`, `higher_is_better`, `n-samples`, `config`; plus the kit's own
// `ipt` section: chance levels, per-item scores (for paired comparisons between models), the BOS
// setting, and the dataset commits read. `--log-samples` lines follow lm-eval's samples files.
//
// All requests of all tasks are built first, then run together (sorted and batched, one progress
// bar, cached), then scored per document, as the harness does.

import type { ScoreRequest, ScoreResult, TokenLM } from '../../engine/gpt.js';
import type { TextTokenizer } from '../../engine/tokenizer.js';
import type { HubConfig } from '../../hub/config.js';
import { sha256 } from '../../repro/hash.js';
import type { ManifestInput } from '../../repro/manifest.js';
import { createProgress, type ProgressMode } from '../../repro/progress.js';
import { encodeRequest, generateRequests, scoreRequests, type RequestCache } from '../requests.js';
import { loadHubSplit, type LoadedSplit } from './data.js';
import {
  DOMAIN_GROUPS,
  DOMAIN_TASKS,
  domainCompletionPrompt,
  domainChance,
  domainMetric,
  domainStopTokenIds,
  type DomainTaskDef,
} from './domain.js';
import { GENERAL_TASKS, MMLU_GROUPS } from './general.js';
import {
  aggregateGroup,
  aggregateMean,
  buildTaskRequests,
  DEFAULT_FEWSHOT_SEED,
  evalSplit,
  fewshotSplit,
  leafTasks,
  scoreDoc,
  type Aggregate,
  type DocRequests,
} from './lmeval.js';
import type { Doc, GroupDef, MultipleChoiceTaskDef } from './types.js';

export type SuiteTask = MultipleChoiceTaskDef | DomainTaskDef;

const TASKS = new Map<string, SuiteTask>([...GENERAL_TASKS, ...DOMAIN_TASKS].map((t) => [t.name, t]));
const GROUPS = new Map<string, GroupDef>([...MMLU_GROUPS, ...DOMAIN_GROUPS].map((g) => [g.name, g]));

/** Every task and group name `ipt eval --tasks` accepts. */
export function suiteNames(): { tasks: string[]; groups: string[] } {
  return { tasks: [...TASKS.keys()], groups: [...GROUPS.keys()] };
}

export function isSuiteName(name: string): boolean {
  return TASKS.has(name) || GROUPS.has(name);
}

export function suiteTask(name: string): SuiteTask {
  const t = TASKS.get(name);
  if (!t) throw new Error(`no benchmark task named "${name}"`);
  return t;
}

/** Task and group names -> the leaf tasks to run and the groups to report (groups within groups included). */
export function resolveSuites(names: string[]): { tasks: SuiteTask[]; groups: GroupDef[] } {
  const tasks = new Map<string, SuiteTask>();
  const groups = new Map<string, GroupDef>();
  const addGroup = (g: GroupDef) => {
    groups.set(g.name, g);
    for (const c of g.children) {
      const sub = GROUPS.get(c);
      if (sub) addGroup(sub);
      else tasks.set(c, suiteTask(c));
    }
  };
  for (const name of names) {
    const g = GROUPS.get(name);
    if (g) addGroup(g);
    else if (TASKS.has(name)) tasks.set(name, TASKS.get(name)!);
    else {
      const close = [...TASKS.keys(), ...GROUPS.keys()]
        .filter((n) => n.toLowerCase().includes(name.toLowerCase().slice(0, 4)))
        .slice(0, 6);
      throw new Error(
        `unknown benchmark "${name}"${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; benchmarks: ${['arc_easy', 'arc_challenge', 'boolq', 'piqa', 'hellaswag', 'winogrande', 'social_iqa', 'openbookqa', 'mmlu', 'mmlu_<subject>', 'finance', 'medicine', ...DOMAIN_TASKS.map((t) => t.name)].join(', ')}`,
      );
    }
  }
  return { tasks: [...tasks.values()], groups: [...groups.values()] };
}

export type SuiteEvalOptions = {
  /** Demonstrations per prompt (lm-eval's --num_fewshot; default 0). Domain tasks carry theirs in the prompts. */
  numFewshot?: number;
  /** Only the first N documents of each task. */
  limit?: number;
  batchSize?: number;
  /** lm-eval's fewshot_random_seed (default 1234). */
  fewshotSeed?: number;
  /** BOS before every context (default: false; `ipt eval` decides from the tokenizer, see models.ts). */
  bos?: boolean;
  cache?: RequestCache;
  hub?: Partial<HubConfig>;
  progress?: ProgressMode;
  /** Keep lm-eval-style sample records for every document. */
  logSamples?: boolean;
  /** Identifies the model in cache keys (spec + revision). */
  modelKey: string;
  /** Recorded in results.config.model. */
  modelName: string;
};

export type MetricKey = string;
export type TaskEntry = Record<string, string | number>;
export type LmEvalSample = Record<string, unknown>;

export type SuiteResults = {
  results: Record<string, TaskEntry>;
  groups?: Record<string, TaskEntry>;
  group_subtasks: Record<string, string[]>;
  configs: Record<string, Record<string, unknown>>;
  versions: Record<string, number | string>;
  'n-shot': Record<string, number>;
  higher_is_better: Record<string, Record<string, boolean>>;
  'n-samples': Record<string, { original: number; effective: number }>;
  config: Record<string, unknown>;
  ipt: {
    /** Per task and group, per metric: the score of guessing (uniform over the choices; see README). */
    chance: Record<string, Record<string, number | null>>;
    /** Per task: document ids and each metric's per-document score, for paired comparisons. */
    items: Record<string, { doc_id: number[]; scores: Record<string, number[]> }>;
    /** Per task and group, per metric: value, stderr (null where there is none) and n, as numbers. */
    scores: Record<string, Record<string, Aggregate>>;
    bos: boolean;
    datasets: Record<string, LoadedSplit['source'][]>;
    /** Requests made; `cached`: answered from the request cache (a resumed run). */
    requests: { loglikelihood: number; generate: number; cached: number };
    /** Every data file read: repo, revision, commit, path, sha256, bytes (run-manifest records). */
    inputs: ManifestInput[];
  };
  samples?: Record<string, LmEvalSample[]>;
};

/** Python's repr(float), which lm-eval's samples files use for log-likelihoods. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const a = Math.abs(x);
  if (a >= 1e16 || a < 1e-4) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** Python's json.dumps(doc, indent=2, ensure_ascii=False) for plain documents, hashed as lm-eval's doc_hash. */
function docHash(doc: Doc): string {
  return sha256(JSON.stringify(doc, null, 2));
}

type Loaded = { task: SuiteTask; evalDocs: Doc[]; fewshotDocs: Doc[]; sources: LoadedSplit['source'][] };

async function loadTask(
  task: SuiteTask,
  numFewshot: number,
  options: SuiteEvalOptions,
  manifests: ManifestInput[],
): Promise<Loaded> {
  const split = task.kind === 'multiple_choice' ? evalSplit(task) : task.split;
  const main = await loadHubSplit(task.dataset, split, { hub: options.hub });
  manifests.push(main.manifest);
  const sources = [main.source];
  let evalDocs = main.docs;
  let fewshotDocs: Doc[] = [];
  if (task.kind === 'multiple_choice') {
    if (task.processDocs) evalDocs = evalDocs.map(task.processDocs);
    if (numFewshot > 0) {
      const fs =
        fewshotSplit(task) === split
          ? main
          : await loadHubSplit(task.dataset, fewshotSplit(task), { hub: options.hub });
      if (fs !== main) {
        manifests.push(fs.manifest);
        sources.push(fs.source);
      }
      fewshotDocs = task.processDocs ? fs.docs.map(task.processDocs) : fs.docs;
    }
  }
  return { task, evalDocs, fewshotDocs, sources };
}

type Planned =
  | { loaded: Loaded; kind: 'multiple_choice'; docs: DocRequests[]; first: number }
  | {
      loaded: Loaded;
      kind: 'adaptllm_choice';
      docs: Array<{ docId: number; doc: Doc; context: string; continuations: string[] }>;
      first: number;
    }
  | {
      loaded: Loaded;
      kind: 'adaptllm_completion';
      docs: Array<{ docId: number; doc: Doc; prompt: string }>;
      first: number;
    };

function configOf(task: SuiteTask, numFewshot: number): Record<string, unknown> {
  if (task.kind !== 'multiple_choice') {
    return {
      task: task.name,
      dataset_path: task.dataset.path,
      dataset_name: task.dataset.name,
      test_split: task.split,
      output_type: task.kind,
      metric: task.metric,
      scoring:
        task.kind === 'adaptllm_choice'
          ? 'mean log-likelihood per answer token (AdaptLLM)'
          : 'greedy generation, stop at newline (AdaptLLM)',
      num_fewshot: 0,
      metadata: { source: 'AdaptLLM evaluation (microsoft/LMOps adaptllm)' },
    };
  }
  return {
    task: task.name,
    ...(task.tag ? { tag: task.tag } : {}),
    ...(task.alias ? { task_alias: task.alias } : {}),
    dataset_path: task.dataset.path,
    dataset_name: task.dataset.name,
    ...(task.splits.training ? { training_split: task.splits.training } : {}),
    ...(task.splits.validation ? { validation_split: task.splits.validation } : {}),
    ...(task.splits.test ? { test_split: task.splits.test } : {}),
    ...(task.splits.fewshot ? { fewshot_split: task.splits.fewshot } : {}),
    ...(task.yaml.process_docs ? { process_docs: task.yaml.process_docs } : {}),
    doc_to_text: task.yaml.doc_to_text,
    doc_to_target: task.yaml.doc_to_target,
    doc_to_choice: task.yaml.doc_to_choice,
    description: task.description,
    target_delimiter: task.targetDelimiter,
    fewshot_delimiter: task.fewshotDelimiter,
    fewshot_config: { sampler: task.sampler },
    num_fewshot: numFewshot,
    metric_list: task.metrics.map((metric) => ({ metric, aggregation: 'mean', higher_is_better: true })),
    output_type: 'multiple_choice',
    metadata: { version: task.version },
  };
}

function entryFor(alias: string, scores: Record<string, Aggregate>, sampleLen: number): TaskEntry {
  const e: TaskEntry = { alias, sample_len: sampleLen };
  for (const [m, a] of Object.entries(scores)) {
    e[`${m},none`] = a.value;
    e[`${m}_stderr,none`] = a.stderr === null ? 'N/A' : a.stderr;
  }
  return e;
}

/** Evaluates `names` (tasks and groups) and returns lm-eval-shaped results. */
export async function evaluateSuites(
  model: TokenLM,
  tokenizer: TextTokenizer,
  names: string[],
  options: SuiteEvalOptions,
): Promise<SuiteResults> {
  const numFewshot = options.numFewshot ?? 0;
  const batchSize = options.batchSize ?? 16;
  const bos = options.bos ?? false;
  const { tasks, groups } = resolveSuites(names);
  const manifests: ManifestInput[] = [];
  const loaded: Loaded[] = [];
  for (const t of tasks)
    loaded.push(await loadTask(t, t.kind === 'multiple_choice' ? numFewshot : 0, options, manifests));

  // 1. every request of every task
  const scoreReqs: ScoreRequest[] = [];
  const textReqs: Array<{ context: string; continuation: string }> = [];
  const genPrompts: string[] = [];
  const planned: Planned[] = [];
  for (const l of loaded) {
    const t = l.task;
    const count = Math.min(l.evalDocs.length, options.limit ?? Infinity);
    if (t.kind === 'multiple_choice') {
      const docs = buildTaskRequests(t, l.evalDocs, l.fewshotDocs, {
        numFewshot,
        seed: options.fewshotSeed ?? DEFAULT_FEWSHOT_SEED,
        limit: options.limit,
      });
      planned.push({ loaded: l, kind: 'multiple_choice', docs, first: scoreReqs.length });
      for (const d of docs) {
        for (const r of d.requests) {
          scoreReqs.push(encodeRequest(tokenizer, r.context, r.continuation, { bos }));
          textReqs.push(r);
        }
      }
    } else if (t.kind === 'adaptllm_choice') {
      const docs = l.evalDocs.slice(0, count).map((doc, docId) => ({
        docId,
        doc,
        context: t.input(doc),
        continuations: t.options(doc).map((o) => ` ${o}`),
      }));
      planned.push({ loaded: l, kind: 'adaptllm_choice', docs, first: scoreReqs.length });
      for (const d of docs) {
        for (const c of d.continuations) {
          scoreReqs.push(encodeRequest(tokenizer, d.context, c, { bos, keepTrailingSpace: true }));
          textReqs.push({ context: d.context, continuation: c });
        }
      }
    } else {
      const docs = l.evalDocs.slice(0, count).map((doc, docId) => ({ docId, doc, prompt: t.input(doc) }));
      planned.push({ loaded: l, kind: 'adaptllm_completion', docs, first: genPrompts.length });
      genPrompts.push(...docs.map((d) => d.prompt));
    }
  }

  // 2. run them: one progress bar over all requests
  const progress = createProgress({
    label: 'eval',
    total: scoreReqs.length + genPrompts.length,
    unit: 'requests',
    mode: options.progress,
  });
  const stats = { cached: 0, run: 0 };
  const run = { batchSize, modelKey: options.modelKey, cache: options.cache, stats };
  let offset = 0;
  const shifted = {
    update: (n: number, f?: Record<string, string | number>) => progress.update(offset + n, f),
    increment: progress.increment.bind(progress),
    setTotal: progress.setTotal.bind(progress),
    stop: () => {},
  };
  const scored: ScoreResult[] = await scoreRequests(model, scoreReqs, { ...run, progress: shifted });
  offset = scoreReqs.length;
  const stop = genPrompts.length ? domainStopTokenIds(tokenizer) : [];
  const generated = await generateRequests(
    model,
    genPrompts.map((p) => ({
      prompt: domainCompletionPrompt(tokenizer, p, { bos, contextLength: model.contextLength }),
      maxNewTokens: 100,
      stopTokenIds: stop,
    })),
    { ...run, progress: shifted },
  );
  progress.stop();

  // 3. score per document, aggregate per task and group
  const out: SuiteResults = {
    results: {},
    group_subtasks: {},
    configs: {},
    versions: {},
    'n-shot': {},
    higher_is_better: {},
    'n-samples': {},
    config: {
      model: options.modelName,
      batch_size: batchSize,
      limit: options.limit ?? null,
      num_fewshot: numFewshot,
      fewshot_seed: options.fewshotSeed ?? DEFAULT_FEWSHOT_SEED,
      bootstrap_iters: 0,
    },
    ipt: {
      chance: {},
      items: {},
      scores: {},
      bos,
      datasets: {},
      requests: { loglikelihood: scoreReqs.length, generate: genPrompts.length, cached: stats.cached },
      inputs: manifests,
    },
  };
  if (options.logSamples) out.samples = {};
  const taskScores = new Map<string, Record<string, Aggregate>>();
  const taskChance = new Map<string, Record<string, Aggregate>>();
  for (const p of planned) {
    const t = p.loaded.task;
    const perDoc: Record<string, number[]> = {};
    const chanceItems: Record<string, number[]> = {};
    const docIds: number[] = [];
    const samples: LmEvalSample[] = [];
    const push = (rec: Record<string, number | undefined>) => {
      for (const [k, v] of Object.entries(rec)) if (v !== undefined) (perDoc[k] ??= []).push(v);
    };
    let aggregates: Record<string, Aggregate>;
    let chance: Record<string, number | null>;
    if (p.kind === 'multiple_choice') {
      const mc = t as MultipleChoiceTaskDef;
      let k = p.first;
      for (const d of p.docs) {
        const results = d.requests.map(() => scored[k++]);
        const s = scoreDoc(mc, d.doc, results);
        docIds.push(d.docId);
        push({ acc: s.acc, acc_norm: s.acc_norm });
        for (const m of mc.metrics) (chanceItems[m] ??= []).push(1 / d.requests.length);
        if (out.samples)
          samples.push(
            sampleRecord(d.docId, d.doc, d.target, d.requests, results, {
              acc: s.acc,
              ...(s.acc_norm !== undefined ? { acc_norm: s.acc_norm } : {}),
            }),
          );
      }
      aggregates = Object.fromEntries(mc.metrics.map((m) => [m, aggregateMean(perDoc[m] ?? [])]));
      chance = Object.fromEntries(mc.metrics.map((m) => [m, mean(chanceItems[m] ?? [])]));
      taskChance.set(
        t.name,
        Object.fromEntries(
          mc.metrics.map((m) => [m, { value: mean(chanceItems[m] ?? []), stderr: null, n: docIds.length }]),
        ),
      );
    } else if (p.kind === 'adaptllm_choice') {
      const dt = t as DomainTaskDef;
      let k = p.first;
      const preds: number[] = [];
      const golds: number[] = [];
      for (const d of p.docs) {
        const results = d.continuations.map(() => scored[k++]);
        const perToken = results.map((r) => r.logprob / Math.max(1, r.tokens));
        const pred = perToken.reduce((best, v, i) => (v > perToken[best] ? i : best), 0);
        const gold = dt.gold(d.doc);
        preds.push(pred);
        golds.push(gold);
        docIds.push(d.docId);
        push({ correct: pred === gold ? 1 : 0 });
        if (out.samples) {
          samples.push(
            sampleRecord(
              d.docId,
              d.doc,
              gold,
              d.continuations.map((c) => ({ context: d.context, continuation: c })),
              results,
              { correct: pred === gold ? 1 : 0, pred, mean_logprob: perToken },
            ),
          );
        }
      }
      const m = domainMetric(dt, { preds, golds, docs: p.docs.map((d) => d.doc) });
      aggregates = { [m.name]: m.aggregate };
      perDoc[m.name] = m.perItem ?? perDoc.correct;
      delete perDoc.correct;
      chance = {
        [m.name]: domainChance(
          dt,
          p.docs.map((d) => d.doc),
        ),
      };
      taskChance.set(t.name, { [m.name]: { value: chance[m.name] ?? Number.NaN, stderr: null, n: docIds.length } });
    } else {
      const dt = t as DomainTaskDef;
      const predictions: string[] = [];
      p.docs.forEach((d, j) => {
        const ids = generated[p.first + j];
        const text = tokenizer.decode(ids, { skipSpecialTokens: true });
        predictions.push(text);
        docIds.push(d.docId);
        if (out.samples)
          samples.push({
            doc_id: d.docId,
            doc: d.doc,
            target: String(dt.reference(d.doc)),
            arguments: {
              gen_args_0: { arg_0: d.prompt, arg_1: { until: ['\n'], max_gen_toks: 100, do_sample: false } },
            },
            resps: [[text]],
            filtered_resps: [text],
            filter: 'none',
            doc_hash: docHash(d.doc),
            prompt_hash: sha256(d.prompt),
            target_hash: sha256(String(dt.reference(d.doc))),
          });
      });
      const m = domainMetric(dt, { predictions, docs: p.docs.map((d) => d.doc) });
      aggregates = { [m.name]: m.aggregate };
      perDoc[m.name] = m.perItem ?? [];
      chance = { [m.name]: null };
      taskChance.set(t.name, {});
      if (out.samples) samples.forEach((s, i) => (s[m.name] = perDoc[m.name][i]));
    }
    taskScores.set(t.name, aggregates);
    out.results[t.name] = entryFor(
      t.kind === 'multiple_choice' ? (t.alias ?? t.name) : t.name,
      aggregates,
      docIds.length,
    );
    out.configs[t.name] = {
      ...configOf(t, t.kind === 'multiple_choice' ? numFewshot : 0),
      dataset_commit: p.loaded.sources[0].commit,
    };
    out.versions[t.name] = t.kind === 'multiple_choice' ? t.version : 'adaptllm';
    out['n-shot'][t.name] = t.kind === 'multiple_choice' ? numFewshot : 0;
    out.higher_is_better[t.name] = Object.fromEntries(Object.keys(aggregates).map((m) => [m, true]));
    out['n-samples'][t.name] = { original: p.loaded.evalDocs.length, effective: docIds.length };
    out.ipt.chance[t.name] = chance;
    out.ipt.items[t.name] = { doc_id: docIds, scores: perDoc };
    out.ipt.scores[t.name] = aggregates;
    out.ipt.datasets[t.name] = p.loaded.sources;
    if (out.samples) out.samples[t.name] = samples;
  }
  const groupMap = new Map(groups.map((g) => [g.name, g]));
  for (const g of groups) {
    out.group_subtasks[g.name] = g.children;
    const leaves = leafTasks(g, GROUPS).filter((n) => taskScores.has(n));
    const scores: Record<string, Aggregate> = {};
    const chance: Record<string, number | null> = {};
    for (const m of g.metrics) {
      const parts = leaves.map((n) => taskScores.get(n)![m]).filter((a): a is Aggregate => a !== undefined);
      if (parts.length) scores[m] = aggregateGroup(parts, g.weightBySize);
      const cparts = leaves
        .map((n) => taskChance.get(n)![m])
        .filter((a): a is Aggregate => a !== undefined && Number.isFinite(a.value));
      chance[m] = cparts.length ? aggregateGroup(cparts, g.weightBySize).value : null;
    }
    if (g.average) {
      const firsts = leaves
        .map((n) => Object.values(taskScores.get(n)!)[0])
        .filter((a): a is Aggregate => a !== undefined);
      scores.average = {
        value: mean(firsts.map((a) => a.value)),
        stderr: firsts.every((a) => a.stderr !== null)
          ? Math.sqrt(firsts.reduce((s, a) => s + a.stderr! ** 2, 0)) / firsts.length
          : null,
        n: firsts.reduce((s, a) => s + a.n, 0),
      };
      const cf = leaves
        .map((n) => Object.values(out.ipt.chance[n])[0])
        .filter((v): v is number => typeof v === 'number');
      chance.average = cf.length === leaves.length ? mean(cf) : null;
    }
    out.results[g.name] = entryFor(
      g.alias ?? g.name,
      scores,
      leaves.reduce((s, n) => s + (out['n-samples'][n]?.effective ?? 0), 0),
    );
    (out.groups ??= {})[g.name] = out.results[g.name];
    out.versions[g.name] = g.version;
    out['n-shot'][g.name] = numFewshot;
    out.higher_is_better[g.name] = Object.fromEntries(Object.keys(scores).map((m) => [m, true]));
    out.ipt.chance[g.name] = chance;
    out.ipt.scores[g.name] = scores;
  }
  for (const t of tasks)
    if (![...groupMap.values()].some((g) => g.children.includes(t.name))) out.group_subtasks[t.name] = [];
  return out;
}

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
}

/** One line of lm-eval's samples file (after its sanitising: arguments as gen_args_i/arg_j, responses as strings). */
function sampleRecord(
  docId: number,
  doc: Doc,
  target: number | string,
  requests: Array<{ context: string; continuation: string }>,
  results: ScoreResult[],
  metrics: Record<string, unknown>,
): LmEvalSample {
  const args = Object.fromEntries(
    requests.map((r, i) => [`gen_args_${i}`, { arg_0: r.context, arg_1: r.continuation }]),
  );
  return {
    doc_id: docId,
    doc,
    target: String(target),
    arguments: args,
    resps: results.map((r) => [[pyFloat(r.logprob), pyBool(r.greedy)]]),
    filtered_resps: results.map((r) => [pyFloat(r.logprob), pyBool(r.greedy)]),
    filter: 'none',
    metrics: Object.keys(metrics).filter((k) => typeof metrics[k] === 'number'),
    doc_hash: docHash(doc),
    prompt_hash: sha256(requests[0]?.context ?? ''),
    target_hash: sha256(String(target)),
    ...metrics,
  };
}

/**
 * lm-eval's results table (Tasks, Version, n-shot, Metric, Value, Stderr) with the kit's columns:
 * the chance level, and a note where a score is within two standard errors of chance or rests on
 * fewer than 30 documents.
 */
export function suiteTable(results: SuiteResults): string {
  const rows: string[][] = [['Tasks', 'Version', 'n-shot', 'Metric', 'Value', '', 'Stderr', 'Chance', 'Note']];
  const names = [
    ...Object.keys(results.groups ?? {}),
    ...Object.keys(results.results).filter((n) => !(results.groups ?? {})[n]),
  ];
  for (const name of names) {
    const scores = results.ipt.scores[name] ?? {};
    for (const [metric, a] of Object.entries(scores)) {
      const chance = results.ipt.chance[name]?.[metric];
      const near = typeof chance === 'number' && a.stderr !== null && Math.abs(a.value - chance) <= 2 * a.stderr;
      const notes = [near ? 'within 2 SE of chance' : '', a.n < 30 ? `only ${a.n} documents` : '']
        .filter(Boolean)
        .join('; ');
      rows.push([
        name,
        String(results.versions[name] ?? ''),
        String(results['n-shot'][name] ?? ''),
        metric,
        a.value.toFixed(4),
        '±',
        a.stderr === null ? 'N/A' : a.stderr.toFixed(4),
        typeof chance === 'number' ? chance.toFixed(4) : 'n/a',
        notes,
      ]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    `|${r.map((x, c) => (c >= 4 && c <= 7 && c !== 5 ? x.padStart(widths[c]) : x.padEnd(widths[c]))).join('|')}|`;
  return [
    line(rows[0]),
    `|${widths.map((w, c) => (c >= 4 && c <= 7 && c !== 5 ? '-'.repeat(w - 1) + ':' : '-'.repeat(w))).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
