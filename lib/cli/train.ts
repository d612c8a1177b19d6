// ipt commands for pre-training: train a tiny GPT from a data folder (evaluation: cli/eval.ts).

import { readJson } from '../repro/files.js';
import { nonFiniteMessage, nonFiniteNumberPath } from '../repro/hash.js';
import { resolveRunConfig, trainRun, type RunConfigInput } from '../train/run.js';
import { DATA_LAYOUT_HELP, documentsFromTexts } from '../train/data.js';
import { brownManifestInput, loadBrown } from '../corpus/brown.js';
import { loadModelFolder } from '../train/export.js';
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
      'init-from': {
        type: 'string',
        value: 'DIR',
        description: 'start from this model folder (continual pre-training, instruction tuning); its tokenizer is used',
      },
      config: { type: 'string', description: 'training config JSON (model, train, tokenizer sections)', value: 'FILE' },
      data: {
        type: 'string',
        description: 'data folder (layout above), or "brown" for the embedded Brown corpus',
        value: 'DIR',
      },
      out: { type: 'string', description: 'run folder (created, or resumed when it exists)', value: 'DIR' },
      steps: { type: 'string', description: 'override train.steps', value: 'N' },
      threads: {
        type: 'string',
        description: 'kernel threads (default: the number of cores; results do not depend on it)',
        value: 'N',
      },
    },
    examples: [
      'ipt train --config train.json --data brown --out runs/tiny',
      'ipt train --data my-corpus/ --out runs/mine --steps 500',
    ],
    async run({ values }, io) {
      if (typeof values.data !== 'string' || typeof values.out !== 'string')
        throw new UsageError('--data and --out are required');
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
          ? {
              name: 'brown',
              documents: documentsFromTexts(loadBrown().map((d) => d.text)),
              inputs: [brownManifestInput()],
            }
          : { dir: values.data };
      const r = await trainRun({
        outDir: values.out,
        config,
        data,
        threads: intOption(values, 'threads'),
        initFrom,
        log: (line) => io.stderr(line + '\n'),
        command: [
          'ipt',
          'train',
          ...Object.entries(values).flatMap(([k, v]) => (typeof v === 'string' ? [`--${k}`, v] : [])),
        ],
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
];

/** A training config file, its problems named by its path. */
function readConfigFile(path: string): RunConfigInput {
  const value = readJson(path, { what: '--config' });
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${path}: not a JSON object; expected {"model": {...}, "train": {...}, "tokenizer": ...}`);
  const infinite = nonFiniteNumberPath(value);
  if (infinite) throw new Error(`${path}: ${nonFiniteMessage(infinite)}`);
  return value as RunConfigInput;
}
