// `ipt eval`: score a model on the paper's benchmark suites (lm-evaluation-harness-compatible, from the
// Hub) or on the kit's own task files.

import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadTokenizer } from '../engine/tokenizer.js';
import { evaluate, resultsTable, writeResults } from '../eval/harness.js';
import { MODEL_SPEC_HELP, openEvalModel, openTokenLM, parseModelSpec, RUNTIMES, type Runtime } from '../eval/models.js';
import { RequestCache } from '../eval/requests.js';
import { evaluateSuites, resolveSuites, suiteTable, type SuiteResults } from '../eval/suites/evaluate.js';
import { loadTasks } from '../eval/tasks.js';
import { writeFileAtomic, writeJson } from '../repro/files.js';
import {
  intOption,
  numberOption,
  prepareOutputFile,
  UsageError,
  type Command,
  type CommandArgs,
  type Io,
} from './command.js';
import { engineProviderOption, providerOption } from './engine.js';

const isTaskFile = (item: string) => item.endsWith('.json') || (existsSync(item) && statSync(item).isFile());

export const evalCommands: Command[] = [
  {
    name: 'eval',
    summary:
      'Score a model on benchmark suites (arc_easy, mmlu, ... as lm-evaluation-harness defines them) or on task files.',
    description: [
      'Benchmarks (--tasks NAME,...): arc_easy, arc_challenge, boolq, piqa, hellaswag, winogrande, social_iqa,',
      'openbookqa, mmlu (and mmlu_stem, mmlu_humanities, mmlu_social_sciences, mmlu_other, mmlu_<subject>);',
      "AdaptLLM's domain tasks ConvFinQA, FPB, FiQA_SA, Headline, NER (group: finance) and ChemProt, MQP,",
      'PubMedQA, RCT, USMLE (group: medicine). Documents come from the Hub datasets the harness uses, into the',
      "Hugging Face cache (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE apply). Results JSON has lm-eval's shape",
      '(results, versions, n-shot, configs, ...) plus "ipt": chance levels and per-item scores.',
      'With --out, requests are cached in OUT.cache.jsonl: run the same command again after a kill and it resumes.',
      'Task files (--tasks FILE.json): {"name", "type": "multiple_choice" | "generation", "examples": [...]}, as before.',
    ].join('\n'),
    options: {
      model: { type: 'string', value: 'SPEC', description: MODEL_SPEC_HELP },
      tasks: {
        type: 'string',
        multiple: true,
        value: 'NAMES|FILE',
        description: 'benchmark names or task JSON files; commas separate several',
      },
      'num-fewshot': {
        type: 'string',
        value: 'N',
        description: "demonstrations per prompt (benchmarks: lm-eval's --num_fewshot, default 0)",
      },
      limit: { type: 'string', value: 'N', description: 'only the first N documents of each task' },
      'batch-size': { type: 'string', value: 'N', default: '16', description: 'requests per model call' },
      'log-samples': {
        type: 'boolean',
        description:
          'benchmarks: write samples_<task>.jsonl (every request, log-likelihoods, greedy flags) next to --out',
      },
      out: { type: 'string', value: 'FILE', description: 'write the results JSON here (default: print it)' },
      cache: { type: 'string', value: 'FILE|none', description: 'request cache (default with --out: OUT.cache.jsonl)' },
      bos: {
        type: 'string',
        value: 'auto|yes|no',
        default: 'auto',
        description:
          'benchmarks: BOS token before every context; auto = what the tokenizer adds by default (Llama-family: yes)',
      },
      'fewshot-seed': {
        type: 'string',
        value: 'N',
        default: '1234',
        description: "benchmarks: seed of the few-shot sampler (lm-eval's default 1234)",
      },
      shots: { type: 'string', value: 'K', default: '0', description: 'task files: demonstrations per prompt' },
      seed: { type: 'string', value: 'N', default: '1', description: 'task files: seed for drawing demonstrations' },
      samples: { type: 'boolean', description: 'task files: keep every prompt, prediction and score in the results' },
      runtime: {
        type: 'string',
        value: 'auto|in-process|onnx',
        default: 'auto',
        description: 'a model folder: in-process (safetensors) or ONNX Runtime',
      },
      provider: {
        type: 'string',
        value: 'cpu|webgpu|cuda|vulkan|metal|auto',
        default: 'cpu',
        description: "ONNX Runtime execution provider; for gguf: llama.cpp's backend (cpu, cuda, vulkan, metal, auto)",
      },
      threads: { type: 'string', value: 'N', description: 'threads for the model' },
      tokenizer: {
        type: 'string',
        value: 'DIR',
        description: "openai: the served model's tokenizer folder (needed to send token ids)",
      },
      'served-model': {
        type: 'string',
        value: 'ID',
        description: 'openai: model id on the server (default: the first it lists)',
      },
      concurrency: { type: 'string', value: 'N', default: '4', description: 'openai: requests in flight' },
      'timeout-s': {
        type: 'string',
        value: 'S',
        default: '600',
        description: 'openai: seconds before a request is retried',
      },
    },
    examples: [
      'ipt eval --model runs/tiny/model --tasks arc_easy,hellaswag --limit 100 --out runs/eval/tiny.json',
      'ipt eval --model onnx:models/instructlm-500m --tasks mmlu --num-fewshot 5 --out runs/eval/mmlu.json --log-samples',
      'ipt eval --model openai:http://gpu-box:8000/v1 --tokenizer models/instructlm-500m --tasks piqa,winogrande',
      'ipt eval --model runs/tiny/model --tasks data/eval/my-task.json --shots 2 --out results.json',
    ],
    async run(args, io) {
      const { values } = args;
      if (typeof values.model !== 'string' || !Array.isArray(values.tasks) || values.tasks.length === 0)
        throw new UsageError('--model and --tasks are required');
      const items = values.tasks
        .flatMap((t) => t.split(','))
        .map((t) => t.trim())
        .filter(Boolean);
      if (items.length === 0)
        throw new UsageError('--tasks names nothing: give benchmark names (arc_easy,mmlu) or task JSON files');
      const files = items.filter(isTaskFile);
      if (files.length === items.length) return runTaskFiles(args, io, files);
      if (files.length > 0)
        throw new UsageError(`--tasks mixes task files (${files.join(', ')}) and benchmark names; run them separately`);
      try {
        resolveSuites(items);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return runSuites(args, io, items);
    },
  },
];

async function runSuites({ values }: CommandArgs, io: Io, names: string[]): Promise<void> {
  const spec = values.model as string;
  try {
    parseModelSpec(spec);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const bosOption = String(values.bos ?? 'auto');
  if (!['auto', 'yes', 'no'].includes(bosOption))
    throw new UsageError(`--bos must be auto, yes or no, got "${bosOption}"`);
  const out = values.out as string | undefined;
  if (out) prepareOutputFile(out, 'out');
  if (values['log-samples'] && !out)
    throw new UsageError('--log-samples writes its files next to --out: give --out FILE');
  const cacheOption = values.cache as string | undefined;
  const cachePath = cacheOption === 'none' ? undefined : (cacheOption ?? (out ? `${out}.cache.jsonl` : undefined));
  const runtime = String(values.runtime ?? 'auto') as Runtime;
  if (!RUNTIMES.includes(runtime))
    throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}, got "${runtime}"`);
  const batchSize = intOption(values, 'batch-size') ?? 16;
  const timeout = numberOption(values, 'timeout-s');
  const opened = await openEvalModel(spec, {
    runtime,
    provider: spec.startsWith('gguf:') ? engineProviderOption(values) : providerOption(values),
    threads: intOption(values, 'threads'),
    batchSize,
    tokenizerDir: values.tokenizer as string | undefined,
    model: values['served-model'] as string | undefined,
    concurrency: intOption(values, 'concurrency'),
    timeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
  });
  try {
    const bos = bosOption === 'auto' ? opened.addsBos : bosOption === 'yes';
    const cache = cachePath ? RequestCache.open(cachePath) : undefined;
    if (cache && cache.size > 0) io.stderr(`resuming: ${cache.size} requests already in ${cachePath}\n`);
    const results = await evaluateSuites(opened.model, opened.tokenizer, names, {
      numFewshot: intOption(values, 'num-fewshot', 0) ?? 0,
      limit: intOption(values, 'limit'),
      batchSize,
      fewshotSeed: intOption(values, 'fewshot-seed', 0) ?? 1234,
      bos,
      cache,
      logSamples: values['log-samples'] === true,
      modelKey: opened.key,
      modelName: spec,
    });
    io.stderr(`${suiteTable(results)}\n`);
    const { samples, ...rest } = results;
    if (out) {
      writeJson(out, rest);
      if (samples)
        for (const [task, lines] of Object.entries(samples))
          writeFileAtomic(
            join(dirname(out), `samples_${task}.jsonl`),
            lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
          );
      io.stderr(`wrote ${out}${samples ? ` and ${Object.keys(samples).length} samples_<task>.jsonl files` : ''}\n`);
    } else io.stdout(JSON.stringify(rest, null, 2) + '\n');
  } finally {
    await opened.close();
  }
}

export type { SuiteResults };

async function runTaskFiles({ values }: CommandArgs, io: Io, files: string[]): Promise<void> {
  if (parseModelSpec(values.model as string).kind !== 'folder')
    throw new UsageError('task files are scored with a model folder (--model DIR)');
  if (typeof values.out === 'string') prepareOutputFile(values.out, 'out');
  const provider = providerOption(values);
  const tasks = files.flatMap((f) => loadTasks(f));
  const runtime = String(values.runtime) as Runtime;
  if (!RUNTIMES.includes(runtime))
    throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}, got "${runtime}"`);
  const dir = values.model as string;
  const { model } = await openTokenLM(dir, { runtime, threads: intOption(values, 'threads'), provider });
  try {
    const results = await evaluate(model, loadTokenizer(dir), tasks, {
      shots: intOption(values, 'num-fewshot', 0) ?? intOption(values, 'shots', 0)!,
      seed: intOption(values, 'seed', 0)!,
      batchSize: intOption(values, 'batch-size')!,
      limit: intOption(values, 'limit'),
      samples: values.samples === true,
    });
    results.config.model = dir;
    for (const r of resultsTable(results)) {
      io.stderr(
        `${r.task.padEnd(24)} ${r.metric.padEnd(12)} ${r.value.toFixed(4)}${r.stderr === null ? '' : ` ± ${r.stderr.toFixed(4)}`} (n=${r.n}, chance ${r.chance.toFixed(4)})\n`,
      );
    }
    if (typeof values.out === 'string') writeResults(values.out, results);
    else io.stdout(JSON.stringify(results, null, 2) + '\n');
  } finally {
    await model.close();
  }
}
