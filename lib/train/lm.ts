// The in-process model as a `TokenLM` (lib/engine/gpt.ts): the contract lib/eval scores and the
// synthesizer generates with, also implemented by the ONNX Runtime model. Runs the training
// engine's forward pass (no KV cache: each new token recomputes the window, which is cheap at
// this size).
//
// Rows of a batch never see each other (causal attention, right padding, per-row kernels), and a
// position's logits do not depend on the padded length, so scores and generations do not depend
// on how requests are batched.

import type { GenerateOptions, GPTConfig, GPTWeights, ScoreRequest, ScoreResult, TokenLM } from '../engine/gpt.js';
import { argmax, logSoftmaxAt, nextToken, resolveSampling, rowRng, stopIds, wholeRow } from '../engine/sampling.js';
import { EOS_ID } from '../engine/tokenizer.js';
import { loadModelFolder } from './export.js';
import { GPTModel } from './model.js';

export type InProcessOptions = {
  threads?: number;
  /** sequences per forward pass (default 8) */
  maxBatch?: number;
  /** Where generation stops when a call names no stop ids (default: the kit tokenizer's EOS). */
  eosTokenIds?: number[];
};

export class GPTLanguageModel implements TokenLM {
  private constructor(
    readonly model: GPTModel,
    readonly eosTokenIds: number[],
  ) {}

  static async create(cfg: GPTConfig, weights: GPTWeights, options: InProcessOptions = {}): Promise<GPTLanguageModel> {
    const model = await GPTModel.create(cfg, weights, {
      maxBatch: options.maxBatch ?? 8,
      threads: options.threads,
      training: false,
    });
    return new GPTLanguageModel(model, options.eosTokenIds ?? [EOS_ID]);
  }

  /** Loads a model folder (config.json + model.safetensors). */
  static async fromFolder(dir: string, options: InProcessOptions = {}): Promise<GPTLanguageModel> {
    const { cfg, weights } = loadModelFolder(dir);
    return GPTLanguageModel.create(cfg, weights, options);
  }

  get vocabSize(): number {
    return this.model.cfg.vocabSize;
  }
  get contextLength(): number {
    return this.model.cfg.contextLength;
  }
  get config(): GPTConfig {
    return this.model.cfg;
  }

  /**
   * Logits for each row of ids (rows may differ in length, each 1..contextLength), at the
   * positions asked for: `positions[r]` lists indices into row r. Returns [row][k] -> Float32Array(V).
   */
  logitsAt(rows: number[][], positions: number[][]): Float32Array[][] {
    const V = this.vocabSize;
    const out: Float32Array[][] = [];
    for (let start = 0; start < rows.length; start += this.model.maxBatch) {
      const chunk = rows.slice(start, start + this.model.maxBatch);
      const T = Math.max(...chunk.map((r) => r.length));
      if (T > this.contextLength || chunk.some((r) => r.length === 0))
        throw new RangeError(`rows must have 1..${this.contextLength} tokens`);
      const inputs = new Int32Array(chunk.length * T); // right padding with id 0: later positions never affect earlier ones
      chunk.forEach((r, b) => inputs.set(r, b * T));
      this.model.forward({ B: chunk.length, T, inputs });
      const logits = this.model.logitsView();
      chunk.forEach((_, b) => {
        out.push(positions[start + b].map((p) => logits.slice((b * T + p) * V, (b * T + p + 1) * V)));
      });
    }
    return out;
  }

  async scoreContinuations(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    const rows: number[][] = [];
    const positions: number[][] = [];
    for (const [i, { context, continuation }] of requests.entries()) {
      if (context.length === 0) throw new RangeError(`request ${i}: empty context (start it with a BOS or EOS token)`);
      if (continuation.length === 0) throw new RangeError(`request ${i}: empty continuation`);
      if (continuation.length > this.contextLength)
        throw new RangeError(
          `request ${i}: a continuation of ${continuation.length} tokens does not fit the context of ${this.contextLength}`,
        );
      // left-truncate the context so context + continuation (minus the last token) fits
      const full = [...context, ...continuation].slice(-(this.contextLength + 1));
      const input = full.slice(0, -1);
      const first = input.length - continuation.length;
      rows.push(input);
      positions.push(continuation.map((_, k) => first + k));
    }
    // longest first, so each batch pads little; results are batch-invariant
    const order = rows.map((_, i) => i).sort((a, b) => rows[b].length - rows[a].length || a - b);
    const logits = this.logitsAt(
      order.map((i) => rows[i]),
      order.map((i) => positions[i]),
    );
    const results: ScoreResult[] = new Array(requests.length);
    order.forEach((i, k) => {
      const cont = requests[i].continuation;
      let logprob = 0;
      let greedy = true;
      logits[k].forEach((row, j) => {
        logprob += logSoftmaxAt(wholeRow(row), cont[j]);
        if (argmax(wholeRow(row)) !== cont[j]) greedy = false;
      });
      results[i] = { logprob, tokens: cont.length, greedy };
    });
    return results;
  }

  async generate(prompts: number[][], options: GenerateOptions): Promise<number[][]> {
    const { maxNewTokens } = options;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)
      throw new RangeError(`maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
    const stop = stopIds(options.stopTokenIds, this.eosTokenIds);
    const sampling = resolveSampling(options);
    // one generator per prompt: sampled tokens do not depend on batching
    const rngs = prompts.map((_, i) => rowRng(sampling, i));
    const seqs = prompts.map((p, i) => {
      if (p.length === 0) throw new RangeError(`prompt ${i} is empty (start it with a BOS token)`);
      return [...p];
    });
    const made: number[][] = prompts.map(() => []);
    let active = prompts.map((_, i) => i).filter(() => maxNewTokens > 0);
    while (active.length) {
      const windows = active.map((i) => seqs[i].slice(-this.contextLength));
      const logits = this.logitsAt(
        windows,
        windows.map((w) => [w.length - 1]),
      );
      const next: number[] = [];
      active.forEach((i, k) => {
        const row = logits[k][0];
        const id = nextToken(wholeRow(row), sampling, rngs[i]);
        seqs[i].push(id);
        made[i].push(id);
        if (!stop.has(id) && made[i].length < maxNewTokens) next.push(i);
      });
      active = next;
    }
    return made;
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
