// A training run in a folder: what `ipt train` and notebook 04 call. The folder holds everything
// needed to inspect, reproduce and continue the run:
//
//   OUT/config.json            the resolved model + training config (a re-run must match it)
//   OUT/data.json              data sources, token counts and the hash of the packed tokens
//   OUT/tokenizer/             tokenizer.json + tokenizer_config.json the data was encoded with
//   OUT/init.json              the model folder training started from, when not a seeded init
//   OUT/metrics.jsonl          one line per step {step, loss, lr, gradNorm, tokens, seconds},
//                              and {step, valLoss} after each validation
//   OUT/checkpoints/step-NNNNNNNN.safetensors   weights + AdamW moments + step + loader state
//   OUT/model/                 the final model folder (lib/train/export.ts)
//   OUT/manifest.json          how to reproduce the run (lib/repro/manifest.ts)
//
// Running the same command again continues from the newest readable checkpoint; steps after it
// are redone, bit-identically, and their metrics lines replaced. A finished run is not redone.

import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateGPTConfig, DEFAULT_GPT, type GPTConfig } from '../engine/gpt.js';
import {
  TINY_BASE_VOCAB,
  EOS_ID,
  readTokenizerFiles,
  tinyTokenizerFiles,
  tokenizerFromFiles,
  type TokenizerFiles,
} from '../engine/tokenizer.js';
import { readJson, writeFileAtomic, writeJson } from '../repro/files.js';
import { jsonLines } from '../repro/jsonl.js';
import { canonicalJson, sha256 } from '../repro/hash.js';
import { writeManifest, type ManifestInput } from '../repro/manifest.js';
import { createProgress, type ProgressMode } from '../repro/progress.js';
import { BPE_MAX_VOCAB, BpeEncoder, trainBpeMerges } from './bpe.js';
import {
  documentData,
  documentTexts,
  packDocuments,
  readJsonlDocuments,
  splitDocuments,
  tokenizeDocuments,
  type DataFile,
  type PackedData,
  type TrainingData,
  type TrainingDocument,
} from './data.js';
import { exportModel, loadModelFolder, MODEL_FILES } from './export.js';
import { readChecksummedSafetensors } from './checksum.js';
import { resolveTrainConfig, Trainer, type TrainConfig } from './trainer.js';

export type TokenizerChoice = 'bpe' | 'bytes';

export type RunConfig = { model: GPTConfig; train: TrainConfig; tokenizer: TokenizerChoice };
export type RunConfigInput = { model?: Partial<GPTConfig>; train?: Partial<TrainConfig>; tokenizer?: TokenizerChoice };

export function resolveRunConfig(input: RunConfigInput = {}): RunConfig {
  for (const k of Object.keys(input))
    if (!['model', 'train', 'tokenizer'].includes(k))
      throw new Error(`unknown config section "${k}": use model, train and tokenizer`);
  for (const k of Object.keys(input.model ?? {}))
    if (!(k in DEFAULT_GPT))
      throw new Error(`unknown model option "${k}"; known: ${Object.keys(DEFAULT_GPT).join(', ')}`);
  const model = validateGPTConfig({ ...DEFAULT_GPT, ...input.model });
  const tokenizer = input.tokenizer ?? 'bpe';
  if (tokenizer !== 'bpe' && tokenizer !== 'bytes')
    throw new Error(`tokenizer must be "bpe" or "bytes", got ${String(tokenizer)}`);
  if (model.vocabSize < TINY_BASE_VOCAB)
    throw new Error(
      `vocabSize ${model.vocabSize} is too small: the byte-level tokenizer has ${TINY_BASE_VOCAB} base tokens`,
    );
  checkTrainableSize(model);
  return { model, train: resolveTrainConfig(input.train), tokenizer };
}

/** The vocabulary the kit's own BPE can be trained to; `option` names the setting in the message. */
export function checkBpeVocab(
  vocabSize: number,
  option: string,
  orElse = 'or put a tokenizer.json in the data folder',
): void {
  if (vocabSize > BPE_MAX_VOCAB) {
    throw new RangeError(
      `${option} ${vocabSize} is too large for the kit's BPE tokenizer (at most ${BPE_MAX_VOCAB} tokens): choose ${option.split('.').pop()} <= ${BPE_MAX_VOCAB}${orElse ? `, ${orElse}` : ''}`,
    );
  }
}

/** Training keeps weights, gradients and AdamW's two moments (16 bytes a parameter) in one WebAssembly memory of 4 GiB at most. */
const MAX_TRAINING_BYTES = 4 * 2 ** 30;

/** Parameters of a GPT config, by arithmetic (a config with a billion layers must not build a billion tensor specs). */
export function gptParameterEstimate(cfg: GPTConfig): number {
  const C = cfg.width;
  const H = cfg.mlpRatio * C;
  const perLayer = 4 * C * C + 2 * C * H + 9 * C + H;
  return cfg.vocabSize * C + cfg.contextLength * C + cfg.layers * perLayer + 2 * C;
}

/** Refuses, before anything is allocated, a model the trainer cannot hold, with what to change. */
export function checkTrainableSize(cfg: GPTConfig): void {
  const params = gptParameterEstimate(cfg);
  if (params * 16 <= MAX_TRAINING_BYTES) return;
  throw new RangeError(
    `width ${cfg.width}, ${cfg.layers} layers, vocabSize ${cfg.vocabSize} and contextLength ${cfg.contextLength} make ${params.toPrecision(3)} parameters; ` +
      `training keeps 16 bytes per parameter in one WebAssembly memory of at most 4 GiB (about ${Math.floor(MAX_TRAINING_BYTES / 16 / 1e6)}M parameters): ` +
      'make width, layers, vocabSize or contextLength smaller',
  );
}

export type DataSource =
  /** A folder in the layout of DATA_LAYOUT_HELP (lib/train/data.ts). */
  | { dir: string }
  /** Documents in memory (a notebook, the Brown corpus); `name` identifies them in data.json. */
  | { name: string; documents: TrainingDocument[]; validation?: TrainingDocument[]; inputs?: ManifestInput[] };

export type TrainRunOptions = {
  outDir: string;
  config: RunConfigInput;
  data: DataSource;
  /** Kernel threads (default: the number of cores). Results do not depend on it. */
  threads?: number;
  /** Stop after this many steps in all, as if killed there (the next run continues). */
  stopAfter?: number;
  progress?: ProgressMode;
  /** Recorded in the manifest. */
  command?: string[];
  /** Warnings (a damaged checkpoint skipped), one line each without the newline (default: standard error). */
  log?: (line: string) => void;
  /** Called after every step (e.g. to plot live). */
  onStep?: (record: StepRecord) => void;
  /** Encode with this tokenizer (default: the data folder's tokenizer.json, else BPE merges trained on the data). */
  tokenizer?: TokenizerFiles;
  /**
   * Start from this model folder's weights instead of a seeded init (continual pre-training, instruction
   * tuning). Its config must equal the run's model config; its tokenizer is used unless `tokenizer` is given.
   */
  initFrom?: string;
};

export type StepRecord = { step: number; loss: number; lr: number; gradNorm: number; tokens: number; seconds: number };
export type ValRecord = { step: number; valLoss: number };

export type TrainRunResult = {
  outDir: string;
  modelDir: string | undefined;
  config: RunConfig;
  step: number;
  finished: boolean;
  resumedFrom: number | undefined;
  params: number;
  lastLoss: number | undefined;
  lastValLoss: number | undefined;
  /** Tokens per second over the steps this call ran. */
  tokensPerSecond: number | undefined;
};

function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}.safetensors`;
}

function listCheckpoints(dir: string): Array<{ step: number; path: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^step-(\d{8})\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => b.step - a.step);
}

/** The run's metrics: training and validation curves from metrics.jsonl. */
export function readMetrics(outDir: string): { train: StepRecord[]; val: ValRecord[] } {
  const path = join(outDir, 'metrics.jsonl');
  const train: StepRecord[] = [];
  const val: ValRecord[] = [];
  if (!existsSync(path)) return { train, val };
  // a line cut off by a kill is skipped: the resume rewrites the file
  for (const { value } of jsonLines(readFileSync(path, 'utf8'), path, { onError: 'skip' })) {
    const r = value as Record<string, number>;
    if (r === null || typeof r !== 'object') continue;
    if (typeof r.valLoss === 'number') val.push(r as unknown as ValRecord);
    else if (typeof r.loss === 'number') train.push(r as unknown as StepRecord);
  }
  return { train, val };
}

type LoadedData = {
  train: TrainingDocument[];
  val: TrainingDocument[];
  files: DataFile[];
  tokenizer?: TokenizerFiles;
  inputs: ManifestInput[];
  source: string;
};

function loadData(source: DataSource, config: RunConfig): LoadedData {
  if ('dir' in source) {
    const { documents, files } = readJsonlDocuments(source.dir);
    if (documents.length === 0) throw new Error(`no documents in ${source.dir}: put *.jsonl files there`);
    const valDir = join(source.dir, 'val');
    const split = existsSync(valDir)
      ? { train: documents, val: readJsonlDocuments(valDir).documents }
      : splitDocuments(documents, config.train.valFraction, config.train.seed);
    const valFiles = existsSync(valDir) ? readJsonlDocuments(valDir).files : [];
    const tokenizer = readTokenizerFiles(source.dir);
    const allFiles = [...files, ...valFiles];
    return {
      ...split,
      files: allFiles,
      tokenizer,
      source: source.dir,
      inputs: [
        {
          name: 'data',
          source: source.dir,
          files: allFiles.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
        },
      ],
    };
  }
  const split = source.validation
    ? { train: source.documents, val: source.validation }
    : splitDocuments(source.documents, config.train.valFraction, config.train.seed);
  return {
    ...split,
    files: [],
    source: source.name,
    inputs: source.inputs ?? [{ name: source.name, source: source.name }],
  };
}

/** An encoder for the run's tokenizer: the fast BPE path for the kit's own tokenizers, the library otherwise. */
export function encoderFor(files: TokenizerFiles): (text: string) => number[] {
  const model = files.tokenizerJson.model as { merges?: unknown } | undefined;
  const merges = Array.isArray(model?.merges) ? (model!.merges as unknown[]) : undefined;
  if (merges && merges.every((m) => Array.isArray(m) && m.length === 2)) {
    const pairs = merges as Array<[string, string]>;
    if (canonicalJson(tinyTokenizerFiles({ merges: pairs }).tokenizerJson) === canonicalJson(files.tokenizerJson)) {
      const enc = new BpeEncoder(pairs);
      return (t) => enc.encode(t);
    }
  }
  const tok = tokenizerFromFiles(files);
  return (t) => tok.encode(t);
}

/** The run's tokenizer, decided without writing anything: `write` is set when the run folder has none yet. */
function chooseTokenizer(
  outDir: string,
  data: LoadedData,
  config: RunConfig,
  given: TokenizerFiles | undefined,
): { files: TokenizerFiles; write: boolean } {
  const path = join(outDir, 'tokenizer', 'tokenizer.json');
  const existing = readTokenizerFiles(join(outDir, 'tokenizer'));
  if (existing) {
    if (given && canonicalJson(given.tokenizerJson) !== canonicalJson(existing.tokenizerJson)) {
      throw new Error(
        `${outDir} already holds a run with another tokenizer (${path}). Use another --out folder, or delete that one to start over.`,
      );
    }
    return { files: existing, write: false };
  }
  let files: TokenizerFiles;
  if (given) files = given;
  else if (data.tokenizer) files = data.tokenizer;
  else {
    if (config.tokenizer === 'bpe') checkBpeVocab(config.model.vocabSize, 'vocabSize');
    const count = config.tokenizer === 'bpe' ? config.model.vocabSize - TINY_BASE_VOCAB : 0;
    const merges = count > 0 ? trainBpeMerges(documentTexts(data.train), count) : [];
    files = tinyTokenizerFiles({ merges, modelMaxLength: config.model.contextLength });
  }
  const size = tokenizerFromFiles(files).vocabSize;
  if (size > config.model.vocabSize)
    throw new Error(`the tokenizer has ${size} tokens but the model's vocabSize is ${config.model.vocabSize}`);
  return { files, write: true };
}

function writeTokenizer(outDir: string, files: TokenizerFiles): void {
  const dir = join(outDir, 'tokenizer');
  writeJson(join(dir, 'tokenizer_config.json'), files.tokenizerConfig);
  writeJson(join(dir, 'tokenizer.json'), files.tokenizerJson, { compact: true });
}

/**
 * A record the run folder must agree with: refuses one that differs, and says whether it still has to be
 * written (absent, or unreadable). Writes nothing, so a run that fails its checks leaves no folder behind.
 */
function mustWrite(path: string, value: unknown, what: string, outDir: string): boolean {
  if (!existsSync(path)) return true;
  let old: unknown;
  try {
    old = readJson(path);
  } catch {
    return true;
  }
  if (canonicalJson(old) !== canonicalJson(value)) {
    throw new Error(
      `${outDir} already holds a run with a different ${what} (${path}). Use another --out folder, or delete that one to start over.`,
    );
  }
  return false;
}

export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const startedAt = new Date();
  const { outDir } = options;
  const log = options.log ?? ((line: string) => void process.stderr.write(line + '\n'));
  // Everything is checked (config, starting model, data, tokenizer, the folder's earlier run) before
  // anything is written: a command that fails on bad input leaves no folder that blocks the corrected one.
  const config = resolveRunConfig(options.config);
  const { model: gpt, train: tc } = config;
  const records: Array<{ path: string; value: unknown }> = [];
  const record = (name: string, value: unknown, what: string) => {
    const path = join(outDir, name);
    if (mustWrite(path, value, what, outDir)) records.push({ path, value });
  };
  record('config.json', config, 'config');

  // the starting point: a seeded init, or another model's weights
  const init = options.initFrom === undefined ? undefined : loadModelFolder(options.initFrom);
  if (init && canonicalJson(init.cfg) !== canonicalJson(gpt)) {
    throw new Error(
      `--init-from ${options.initFrom} is a ${JSON.stringify(init.cfg)} model; this run's model config is ${JSON.stringify(gpt)}`,
    );
  }
  if (options.initFrom !== undefined) {
    record(
      'init.json',
      { modelDir: options.initFrom, sha256: sha256(readFileSync(join(options.initFrom, 'model.safetensors'))) },
      'starting model',
    );
  }

  // data -> tokens -> packed rows
  const data = loadData(options.data, config);
  const chosen = chooseTokenizer(outDir, data, config, options.tokenizer ?? init?.tokenizer);
  const tokenizer = chosen.files;
  const tokenizerConfig = tokenizer.tokenizerConfig;
  const eosName = typeof tokenizerConfig.eos_token === 'string' ? tokenizerConfig.eos_token : '</s>';
  const eosId = tokenizerFromFiles(tokenizer).tokenToId(eosName) ?? EOS_ID;
  const encode = encoderFor(tokenizer);
  const pack = (docs: TrainingDocument[]): PackedData =>
    packDocuments(tokenizeDocuments(docs, encode, gpt.vocabSize), { contextLength: gpt.contextLength, eosId });
  // validation is always scored on one fixed packing; training rows follow the config's packing
  const trainData: TrainingData =
    tc.packing === 'documents'
      ? documentData(tokenizeDocuments(data.train, encode, gpt.vocabSize), { contextLength: gpt.contextLength, eosId })
      : pack(data.train);
  const trainTokens = 'packing' in trainData ? trainData.tokens : trainData.tokens.length;
  const valData = data.val.length ? pack(data.val) : undefined;
  record(
    'data.json',
    {
      source: data.source,
      files: data.files.map((f) => ({ path: f.path, documents: f.documents, bytes: f.bytes, sha256: f.sha256 })),
      documents: { train: data.train.length, val: data.val.length },
      tokens: { train: trainTokens, val: valData?.tokens.length ?? 0 },
      rows: { train: trainData.rows, val: valData?.rows ?? 0 },
      sha256: {
        train: trainData.sha256,
        val: valData?.sha256 ?? null,
        tokenizer: sha256(canonicalJson(tokenizer.tokenizerJson)),
      },
    },
    'data (the packed tokens differ)',
  );

  // checks the data holds at least one row, so it too comes before the folder is written
  const trainer = await Trainer.create({
    gpt,
    config: tc,
    train: trainData,
    val: valData,
    threads: options.threads,
    weights: init?.weights,
  });
  const ckptDir = join(outDir, 'checkpoints');
  const metricsPath = join(outDir, 'metrics.jsonl');
  let resumedFrom: number | undefined;
  try {
    mkdirSync(outDir, { recursive: true });
    for (const r of records) writeJson(r.path, r.value);
    if (chosen.write) writeTokenizer(outDir, tokenizer);

    // Checkpoints are written atomically (temp file + rename, lib/repro/files.ts), so a kill never leaves
    // a half-written one; a damaged file (a truncated copy, a full disk, bit rot) is skipped, out loud, for
    // the newest one before it that reads, and the steps after that are redone bit-identically.
    const unreadable: string[] = [];
    for (const c of listCheckpoints(ckptDir)) {
      try {
        trainer.restore(readChecksummedSafetensors(c.path));
        resumedFrom = c.step;
        break;
      } catch (err) {
        if (!/not a valid safetensors/.test((err as Error).message)) throw err;
        unreadable.push(c.path);
      }
    }
    for (const path of unreadable) {
      log(
        `warning: checkpoint ${path} is unreadable (truncated or corrupt): ` +
          (resumedFrom !== undefined
            ? `resuming from the previous good checkpoint, step ${resumedFrom}`
            : 'no readable checkpoint is left, training starts again from step 0'),
      );
    }
    // keep only the metrics of steps the checkpoint covers; later ones are redone
    const kept = readMetrics(outDir);
    const lines = [
      ...kept.train.filter((r) => r.step <= trainer.step),
      ...kept.val.filter((r) => r.step <= trainer.step),
    ]
      .sort((a, b) => a.step - b.step || ('valLoss' in a ? 1 : -1))
      .map((r) => JSON.stringify(r) + '\n');
    writeFileAtomic(metricsPath, lines.join(''));

    const modelDir = join(outDir, 'model');
    // the manifest is written last: with it, the run is complete
    const finishedBefore =
      trainer.step >= tc.steps &&
      existsSync(join(outDir, 'manifest.json')) &&
      MODEL_FILES.every((f) => existsSync(join(modelDir, f)));
    const stopAt = Math.min(tc.steps, options.stopAfter ?? Infinity);
    const progress = createProgress({
      label: 'train',
      total: tc.steps,
      unit: 'steps',
      mode: finishedBefore ? 'silent' : options.progress,
    });
    progress.update(trainer.step);
    const t0 = performance.now();
    const stepAtStart = trainer.step;
    let lastLoss = kept.train.filter((r) => r.step <= trainer.step).at(-1)?.loss;
    let lastValLoss = kept.val.filter((r) => r.step <= trainer.step).at(-1)?.valLoss;
    const saveCheckpoint = () => {
      trainer.saveCheckpoint(join(ckptDir, checkpointName(trainer.step)));
      for (const old of listCheckpoints(ckptDir).slice(tc.keepCheckpoints)) rmSync(old.path, { force: true });
    };
    while (trainer.step < stopAt) {
      const r = trainer.trainStep();
      const seconds = (performance.now() - t0) / 1000;
      const record: StepRecord = {
        step: r.step,
        loss: r.loss,
        lr: r.lr,
        gradNorm: r.gradNorm,
        tokens: r.step * trainer.tokensPerStep,
        seconds,
      };
      appendFileSync(metricsPath, JSON.stringify(record) + '\n');
      lastLoss = r.loss;
      if ((tc.evalEvery > 0 && r.step % tc.evalEvery === 0) || r.step === tc.steps) {
        const v = trainer.validationLoss();
        if (v !== undefined) {
          appendFileSync(metricsPath, JSON.stringify({ step: r.step, valLoss: v }) + '\n');
          lastValLoss = v;
        }
      }
      if ((tc.checkpointEvery > 0 && r.step % tc.checkpointEvery === 0) || r.step === tc.steps || r.step === stopAt)
        saveCheckpoint();
      const tokPerS = ((r.step - stepAtStart) * trainer.tokensPerStep) / Math.max(seconds, 1e-9);
      progress.update(r.step, {
        loss: r.loss,
        'tok/s': Math.round(tokPerS),
        ...(lastValLoss !== undefined ? { val: lastValLoss } : {}),
      });
      options.onStep?.(record);
    }
    progress.stop();
    const ranSeconds = (performance.now() - t0) / 1000;
    const ran = trainer.step - stepAtStart;
    const finished = trainer.step >= tc.steps;
    if (finished && !finishedBefore) {
      exportModel(modelDir, { cfg: gpt, weights: trainer.weights(), tokenizer });
      await writeManifest(outDir, {
        command: options.command ?? ['trainRun'],
        config,
        seeds: { seed: tc.seed },
        inputs: [
          ...data.inputs,
          ...(options.initFrom !== undefined
            ? [
                {
                  name: 'initFrom',
                  source: options.initFrom,
                  sha256: sha256(readFileSync(join(options.initFrom, 'model.safetensors'))),
                },
              ]
            : []),
        ],
        outputs: ['config.json', 'data.json', 'metrics.jsonl', ...MODEL_FILES.map((f) => `model/${f}`)],
        startedAt,
        timings: { trainSeconds: ranSeconds },
        totals: {
          steps: trainer.step,
          tokens: trainer.step * trainer.tokensPerStep,
          params: trainer.model.numParams,
          ...(resumedFrom !== undefined ? { resumedFromStep: resumedFrom } : {}),
        },
        notes: [`threads: ${trainer.model.threads} (results do not depend on it)`],
      });
    }
    return {
      outDir,
      modelDir: finished ? modelDir : undefined,
      config,
      step: trainer.step,
      finished,
      resumedFrom,
      params: trainer.model.numParams,
      lastLoss,
      lastValLoss,
      tokensPerSecond: ran > 0 ? (ran * trainer.tokensPerStep) / ranSeconds : undefined,
    };
  } finally {
    await trainer.close();
  }
}
