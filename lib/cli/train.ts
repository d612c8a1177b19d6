// ipt commands for pre-training and evaluation: train a tiny GPT from a data folder, score a model on tasks.

import { readJson } from '../repro/files.js';
import { nonFiniteMessage, nonFiniteNumberPath } from '../repro/hash.js';
import { resolveRunConfig, trainRun, type RunConfigInput } from '../train/run.js';
import { DATA_LAYOUT_HELP, documentsFromTexts } from '../train/data.js';
import { brownManifestInput, loadBrown } from '../corpus/brown.js';
import { loadModelFolder } from '../train/export.js';
import { loadTokenizer } from '../engine/tokenizer.js';
import { evaluate, resultsTable, writeResults } from '../eval/harness.js';
import { openTokenLM, RUNTIMES, type Runtime } from '../eval/models.js';
import { providerOption } from './engine.js';
import { loadTasks } from '../eval/tasks.js';
import { intOption, prepareOutputFile, UsageError, type Command } from './command.js';

export const trainCommands: Command[] = [
  {
    name: 'train',
    summary: 'Pre-train a tiny GPT on CPU; re-running the same command resumes from the last checkpoint.',
    description: [
      'The config file is JSON: {"model": {vocabSize, contextLength, width, heads, layers, mlpRatio},',
      '"train": {steps, batchSize, microBatchSize, lr, minLr, warmupSteps, weightDecay, gradClip, seed,',
      'evalEvery, evalRows, checkpointEvery, keepCheckpoints, valFraction, ...}, "tokenizer": "bpe" | "bytes"};',
      'anything left out takes the reference default (vocab 512, context 128, width 128, 4 heads, 2 layers).',
      '',
      DATA_LAYOUT_HELP,
      '',
      'The output folder gets config.json, data.json, tokenizer/, metrics.jsonl (loss curves),',
      'checkpoints/, manifest.json and, when training finishes, model/ (a Hugging Face GPT-2 folder).',
    ].join('\n'),
    options: {
      'init-from': { type: 'string', value: 'DIR', description: 'start from this model folder (continual pre-training, instruction tuning); its tokenizer is used' },
      config: { type: 'string', description: 'training config JSON (model, train, tokenizer sections)', value: 'FILE' },
      data: { type: 'string', description: 'data folder (layout above), or "brown" for the embedded Brown corpus', value: 'DIR' },
      out: { type: 'string', description: 'run folder (created, or resumed when it exists)', value: 'DIR' },
      steps: { type: 'string', description: 'override train.steps', value: 'N' },
      threads: { type: 'string', description: 'kernel threads (default: the number of cores; results do not depend on it)', value: 'N' },
    },
    examples: ['ipt train --config train.json --data brown --out runs/tiny', 'ipt train --data my-corpus/ --out runs/mine --steps 500'],
    async run({ values }, io) {
      if (typeof values.data !== 'string' || typeof values.out !== 'string') throw new UsageError('--data and --out are required');
      const config = typeof values.config === 'string' ? readConfigFile(values.config) : {};
      const steps = intOption(values, 'steps');
      if (steps !== undefined) config.train = { ...config.train, steps };
      const initFrom = typeof values['init-from'] === 'string' ? values['init-from'] : undefined;
      // continuing a model: its shape is the run's shape unless the config says otherwise (and then it must agree)
      if (initFrom !== undefined && config.model === undefined) config.model = loadModelFolder(initFrom).cfg;
      if (typeof values.config === 'string') {
        try {
          resolveRunConfig(config); // its mistakes named by the file, before anything is read or written
        } catch (err) {
          throw new Error(`${values.config}: ${(err as Error).message}`);
        }
      }
      const data =
        values.data === 'brown'
          ? { name: 'brown', documents: documentsFromTexts(loadBrown().map((d) => d.text)), inputs: [brownManifestInput()] }
          : { dir: values.data };
      const r = await trainRun({
        outDir: values.out,
        config,
        data,
        threads: intOption(values, 'threads'),
        initFrom,
        log: (line) => io.stderr(line + '\n'),
        command: ['ipt', 'train', ...Object.entries(values).flatMap(([k, v]) => (typeof v === 'string' ? [`--${k}`, v] : []))],
      });
      const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4));
      io.stdout(
        `${r.finished ? 'finished' : 'stopped'} at step ${r.step}/${r.config.train.steps}` +
          `${r.resumedFrom !== undefined ? ` (resumed from step ${r.resumedFrom})` : ''}: loss ${fmt(r.lastLoss)}, validation loss ${fmt(r.lastValLoss)}` +
          `${r.tokensPerSecond ? `, ${Math.round(r.tokensPerSecond)} tokens/s` : ''}\n` +
          (r.modelDir ? `model: ${r.modelDir}\n` : ''),
      );
    },
  },
  {
    name: 'eval',
    summary: 'Score a model on evaluation tasks (multiple choice by log-likelihood, generation by exact match / F1).',
    description: [
      'A task file holds one task or a list: {"name", "type": "multiple_choice" | "generation",',
      '"examples": [{"context", "choices", "gold"} | {"context", "answers"}], optional "fewshot",',
      '"targetDelimiter" (default " "), "fewshotDelimiter" (default "\\n\\n"), "stop", "maxNewTokens"}.',
      'Results: per task and metric the mean, its standard error and n, as JSON.',
    ].join('\n'),
    options: {
      model: { type: 'string', description: 'model folder (config.json, tokenizer.json, and model.safetensors and/or onnx/model.onnx)', value: 'DIR' },
      runtime: { type: 'string', value: 'auto|in-process|onnx', default: 'auto', description: 'run the model in-process (safetensors) or with ONNX Runtime; auto prefers in-process when it can' },
      provider: { type: 'string', value: 'cpu|webgpu|cuda|auto', default: 'cpu', description: 'ONNX Runtime execution provider (with --runtime onnx)' },
      tasks: { type: 'string', multiple: true, description: 'task JSON file(s); commas separate several', value: 'FILE' },
      shots: { type: 'string', description: 'demonstrations per prompt', value: 'K', default: '0' },
      seed: { type: 'string', description: 'seed for drawing demonstrations', value: 'N', default: '1' },
      'batch-size': { type: 'string', description: 'requests per model call', value: 'N', default: '16' },
      limit: { type: 'string', description: 'only the first N examples of each task', value: 'N' },
      out: { type: 'string', description: 'write the results JSON here (default: print it)', value: 'FILE' },
      samples: { type: 'boolean', description: 'keep every prompt, prediction and score in the results' },
      threads: { type: 'string', description: 'threads for the model (kernel threads in-process, intra-op threads for ONNX)', value: 'N' },
    },
    examples: ['ipt eval --model runs/tiny/model --tasks data/eval/my-task.json --shots 2 --out results.json'],
    async run({ values }, io) {
      if (typeof values.model !== 'string' || !Array.isArray(values.tasks) || values.tasks.length === 0) throw new UsageError('--model and --tasks are required');
      const taskFiles = values.tasks.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
      if (taskFiles.length === 0) throw new UsageError('--tasks names no file: give one or more task JSON files');
      if (typeof values.out === 'string') prepareOutputFile(values.out, 'out');
      const provider = providerOption(values);
      const tasks = taskFiles.flatMap((f) => loadTasks(f));
      const runtime = String(values.runtime) as Runtime;
      if (!RUNTIMES.includes(runtime)) throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}, got "${runtime}"`);
      const { model } = await openTokenLM(values.model, { runtime, threads: intOption(values, 'threads'), provider });
      try {
        const results = await evaluate(model, loadTokenizer(values.model), tasks, {
          shots: intOption(values, 'shots', 0)!,
          seed: intOption(values, 'seed', 0)!,
          batchSize: intOption(values, 'batch-size')!,
          limit: intOption(values, 'limit'),
          samples: values.samples === true,
        });
        results.config.model = values.model;
        for (const r of resultsTable(results)) {
          io.stderr(`${r.task.padEnd(24)} ${r.metric.padEnd(12)} ${r.value.toFixed(4)}${r.stderr === null ? '' : ` ± ${r.stderr.toFixed(4)}`} (n=${r.n})\n`);
        }
        if (typeof values.out === 'string') writeResults(values.out, results);
        else io.stdout(JSON.stringify(results, null, 2) + '\n');
      } finally {
        await model.close();
      }
    },
  },
];

/** A training config file, its problems named by its path. */
function readConfigFile(path: string): RunConfigInput {
  const value = readJson(path, { what: '--config' });
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: not a JSON object; expected {"model": {...}, "train": {...}, "tokenizer": ...}`);
  const infinite = nonFiniteNumberPath(value);
  if (infinite) throw new Error(`${path}: ${nonFiniteMessage(infinite)}`);
  return value as RunConfigInput;
}
