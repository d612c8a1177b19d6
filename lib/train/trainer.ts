// The training loop for one model: batches from the loader, forward/backward over micro-batches
// (gradient accumulation), global-norm clipping, the learning-rate schedule, AdamW; validation
// loss; and checkpoints holding everything needed to continue bit-identically (weights, AdamW
// moments, step, the loader's position and RNG state).

import { gptTensorSpecs, type GPTConfig, type GPTWeights } from '../engine/gpt.js';
import { canonicalJson } from '../repro/hash.js';
import {
  BatchLoader,
  gatherRows,
  isDocumentData,
  PACKINGS,
  type LoaderState,
  type PackedData,
  type Packing,
  type TrainingData,
} from './data.js';
import { GPTModel, initGPTWeights } from './model.js';
import { adamwUpdate, clipScale, gradientNorm, learningRate, type OptimizerConfig } from './optim.js';
import { readSafetensors, type SafetensorsFile } from './safetensors.js';
import { writeChecksummedSafetensors } from './checksum.js';

export type TrainConfig = OptimizerConfig & {
  seed: number;
  /** Sequences per optimizer step. */
  batchSize: number;
  /** Sequences per forward/backward pass (default batchSize); batchSize must be a multiple (gradient accumulation). */
  microBatchSize: number;
  /** Validation loss every this many steps (0: only at the end). */
  evalEvery: number;
  /** Validation rows used (the first ones, in order). */
  evalRows: number;
  /** Checkpoint every this many steps (0: only at the end). */
  checkpointEvery: number;
  /** Checkpoints kept in a run folder (older ones are deleted). */
  keepCheckpoints: number;
  /** Share of documents held out for validation when no validation set is given. */
  valFraction: number;
  /**
   * How documents become rows (lib/train/data.ts): 'stream' (absent: the default) or 'documents' (whole
   * documents, packed afresh in a new order every epoch). Left out of a resolved config when 'stream',
   * so configs and checkpoints of runs that never set it are unchanged.
   */
  packing?: Packing;
};

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  seed: 1,
  steps: 200,
  batchSize: 16,
  microBatchSize: 16,
  lr: 1e-3,
  minLr: 1e-4,
  warmupSteps: 20,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  gradClip: 1,
  evalEvery: 50,
  evalRows: 64,
  checkpointEvery: 50,
  keepCheckpoints: 2,
  valFraction: 0.05,
};

const OPTIONAL_TRAIN_OPTIONS = ['packing'] as const;

export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const known = [...Object.keys(DEFAULT_TRAIN_CONFIG), ...OPTIONAL_TRAIN_OPTIONS];
  for (const k of Object.keys(partial))
    if (!known.includes(k)) throw new Error(`unknown training option "${k}"; known: ${known.join(', ')}`);
  const c = { ...DEFAULT_TRAIN_CONFIG, ...partial };
  if (c.packing !== undefined && !PACKINGS.includes(c.packing))
    throw new RangeError(`training option packing must be ${PACKINGS.join(' or ')}, got ${String(c.packing)}`);
  if (c.packing === 'stream') delete c.packing;
  if (partial.microBatchSize === undefined) c.microBatchSize = c.batchSize; // no accumulation unless asked
  // a value from a JSON file may be anything: a string "NaN" passes `x >= 0` checks once coerced, so the type is checked first
  const bad = (k: keyof TrainConfig, what: string) =>
    new RangeError(
      `training option ${k} must be ${what}, got ${typeof c[k] === 'string' ? JSON.stringify(c[k]) : String(c[k])}`,
    );
  const num = (k: keyof TrainConfig) => typeof c[k] === 'number' && Number.isFinite(c[k]);
  const positiveInt = ['steps', 'batchSize', 'microBatchSize', 'evalRows', 'keepCheckpoints'] as const;
  for (const k of positiveInt) if (!Number.isInteger(c[k]) || c[k] < 1) throw bad(k, 'a positive integer');
  for (const k of ['warmupSteps', 'evalEvery', 'checkpointEvery', 'seed'] as const)
    if (!Number.isInteger(c[k]) || c[k] < 0) throw bad(k, 'a non-negative integer');
  if (c.batchSize % c.microBatchSize !== 0)
    throw new RangeError(`batchSize ${c.batchSize} must be a multiple of microBatchSize ${c.microBatchSize}`);
  if (!num('lr') || !(c.lr > 0)) throw bad('lr', 'a finite number > 0');
  if (!num('minLr') || !(c.minLr >= 0)) throw bad('minLr', 'a finite number >= 0');
  if (c.minLr > c.lr) throw new RangeError(`training option minLr (${c.minLr}) must not exceed lr (${c.lr})`);
  for (const k of ['beta1', 'beta2', 'valFraction'] as const)
    if (!num(k) || !(c[k] >= 0 && c[k] < 1)) throw bad(k, 'a number in [0, 1)');
  if (!num('eps') || !(c.eps > 0)) throw bad('eps', 'a finite number > 0');
  if (!num('weightDecay') || !(c.weightDecay >= 0)) throw bad('weightDecay', 'a finite number >= 0');
  if (!num('gradClip') || !(c.gradClip >= 0)) throw bad('gradClip', 'a finite number >= 0 (0 turns clipping off)');
  return c;
}

export type StepResult = {
  /** Steps completed (1 after the first update). */
  step: number;
  /** Mean loss over the counted (mask = 1) target tokens of the batch. */
  loss: number;
  lr: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  /** Target tokens the loss counted. */
  counted: number;
};

export class Trainer {
  /** Completed optimizer steps. */
  step = 0;
  private loader: BatchLoader;

  private constructor(
    readonly model: GPTModel,
    readonly gpt: GPTConfig,
    readonly config: TrainConfig,
    private readonly train: TrainingData,
    private readonly val: PackedData | undefined,
  ) {
    this.loader = new BatchLoader(train, config.seed);
  }

  static async create(options: {
    gpt: GPTConfig;
    config: TrainConfig;
    train: TrainingData;
    val?: PackedData;
    threads?: number;
    weights?: GPTWeights;
  }): Promise<Trainer> {
    const { gpt, config } = options;
    if (isDocumentData(options.train) !== (config.packing === 'documents')) {
      throw new Error(
        `the training data is packed as ${isDocumentData(options.train) ? 'documents' : 'a stream'} but the config asks for packing ${config.packing ?? 'stream'}`,
      );
    }
    for (const d of [options.train, options.val]) {
      if (d && d.contextLength !== gpt.contextLength)
        throw new Error(`data packed for context ${d.contextLength}, model context is ${gpt.contextLength}`);
    }
    const weights = options.weights ?? initGPTWeights(gpt, config.seed);
    const model = await GPTModel.create(gpt, weights, {
      maxBatch: config.microBatchSize,
      threads: options.threads,
      training: true,
    });
    try {
      return new Trainer(model, gpt, config, options.train, options.val);
    } catch (err) {
      await model.close(); // e.g. too little data for one row: no kernel threads left behind
      throw err;
    }
  }

  get tokensPerStep(): number {
    return this.config.batchSize * this.gpt.contextLength;
  }

  get epochs(): number {
    return this.loader.epochs;
  }

  /** One optimizer step over batchSize rows. */
  trainStep(): StepResult {
    const c = this.config;
    const T = this.gpt.contextLength;
    const { inputs, targets, mask } = this.loader.nextBatch(c.batchSize);
    let counted = 0;
    for (const m of mask) counted += m;
    const weights = new Float32Array(mask.length);
    if (counted > 0) for (let i = 0; i < mask.length; i++) weights[i] = mask[i] / counted;
    this.model.zeroGradients();
    let loss = 0;
    const mb = c.microBatchSize;
    for (let b = 0; b < c.batchSize; b += mb) {
      const span = [b * T, (b + mb) * T] as const;
      loss += this.model.forward({
        B: mb,
        T,
        inputs: inputs.subarray(...span),
        targets: targets.subarray(...span),
        weights: weights.subarray(...span),
      })!;
      this.model.backward();
    }
    const gradNorm = gradientNorm(this.model);
    const lr = learningRate(this.step, c);
    adamwUpdate(this.model, this.step + 1, lr, c, clipScale(gradNorm, c.gradClip));
    this.step++;
    return { step: this.step, loss, lr, gradNorm, counted };
  }

  /** Mean loss over the counted target tokens of the first evalRows validation rows (no update). */
  validationLoss(): number | undefined {
    const val = this.val;
    if (!val || val.rows === 0) return undefined;
    const T = this.gpt.contextLength;
    const rows = Array.from({ length: Math.min(this.config.evalRows, val.rows) }, (_, i) => i);
    const { inputs, targets, mask } = gatherRows(val, rows);
    let counted = 0;
    for (const m of mask) counted += m;
    if (counted === 0) return undefined;
    const weights = new Float32Array(mask.length).map((_, i) => mask[i] / counted);
    let loss = 0;
    for (let b = 0; b < rows.length; b += this.config.microBatchSize) {
      const B = Math.min(this.config.microBatchSize, rows.length - b);
      const span = [b * T, (b + B) * T] as const;
      loss += this.model.forward({
        B,
        T,
        inputs: inputs.subarray(...span),
        targets: targets.subarray(...span),
        weights: weights.subarray(...span),
      })!;
    }
    return loss;
  }

  weights(): GPTWeights {
    return this.model.getWeights();
  }

  // -------------------------------------------------------------------------------------------
  // Checkpoints: weights under their GPT-2 names, AdamW moments as optimizer.m.* / optimizer.v.*,
  // and step, loader state and both configs as metadata.

  saveCheckpoint(path: string, extra: Record<string, string> = {}): void {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    const m1 = this.model.flat('moment1'),
      m2 = this.model.flat('moment2');
    for (const t of this.model.tensors) tensors[t.name] = { shape: t.shape, data: this.model.heap.f32(t.ptr, t.size) };
    for (const t of this.model.tensors) {
      const o = (t.ptr - this.model.params) / 4;
      tensors[`optimizer.m.${t.name}`] = { shape: t.shape, data: m1.subarray(o, o + t.size) };
      tensors[`optimizer.v.${t.name}`] = { shape: t.shape, data: m2.subarray(o, o + t.size) };
    }
    writeChecksummedSafetensors(path, tensors, {
      format: 'pt',
      step: String(this.step),
      loader: JSON.stringify(this.loader.state()),
      gpt: canonicalJson(this.gpt),
      train: canonicalJson(this.config),
      trainData: this.train.sha256,
      ...extra,
    });
  }

  /** Continues from a checkpoint written by saveCheckpoint with the same configs and data. */
  restore(file: SafetensorsFile | string): void {
    const ckpt = typeof file === 'string' ? readSafetensors(file) : file;
    const meta = ckpt.metadata;
    const where = typeof file === 'string' ? file : 'the checkpoint';
    if (meta.gpt !== canonicalJson(this.gpt)) throw new Error(`${where} is for another model config: ${meta.gpt}`);
    const { steps: _s, evalEvery: _e, checkpointEvery: _c, keepCheckpoints: _k, ...mine } = this.config;
    const {
      steps: _s2,
      evalEvery: _e2,
      checkpointEvery: _c2,
      keepCheckpoints: _k2,
      ...theirs
    } = JSON.parse(meta.train ?? '{}') as TrainConfig;
    void [_s, _e, _c, _k, _s2, _e2, _c2, _k2];
    if (canonicalJson(mine) !== canonicalJson(theirs))
      throw new Error(`${where} was trained with other training options: ${meta.train}`);
    if (meta.trainData !== this.train.sha256)
      throw new Error(`${where} was trained on other data (the packed tokens differ)`);
    const weights: GPTWeights = {};
    for (const s of gptTensorSpecs(this.gpt)) {
      for (const key of [s.name, `optimizer.m.${s.name}`, `optimizer.v.${s.name}`]) {
        if (!ckpt.tensors[key] || ckpt.tensors[key].dtype !== 'F32')
          throw new Error(`${where} has no F32 tensor ${key}`);
      }
      weights[s.name] = ckpt.tensors[s.name].data as Float32Array;
    }
    this.model.setWeights(weights);
    const m1 = this.model.flat('moment1'),
      m2 = this.model.flat('moment2');
    for (const t of this.model.tensors) {
      const o = (t.ptr - this.model.params) / 4;
      m1.set(ckpt.tensors[`optimizer.m.${t.name}`].data as Float32Array, o);
      m2.set(ckpt.tensors[`optimizer.v.${t.name}`].data as Float32Array, o);
    }
    this.step = Number(meta.step);
    if (!Number.isInteger(this.step) || this.step < 0) throw new Error(`${where} has no valid step`);
    let loader: LoaderState;
    try {
      loader = JSON.parse(meta.loader) as LoaderState;
    } catch {
      throw new Error(`${where} has no data loader state (not a checkpoint written by the kit's trainer?)`);
    }
    this.loader = new BatchLoader(this.train, this.config.seed, loader);
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
