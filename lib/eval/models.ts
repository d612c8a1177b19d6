// Opens any model folder the kit can run as a TokenLM for evaluation: the in-process trainer's model
// (model.safetensors) or ONNX Runtime (onnx/model.onnx: kit exports, Optimum exports of other models).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenLM } from '../engine/gpt.js';
import { OnnxCausalLM } from '../engine/onnx-lm.js';
import { type ProviderChoice } from '../engine/providers.js';
import { GPTLanguageModel } from '../train/lm.js';

export type Runtime = 'auto' | 'in-process' | 'onnx';
export const RUNTIMES: readonly Runtime[] = ['auto', 'in-process', 'onnx'];

export type OpenedModel = { model: TokenLM & { close(): Promise<void> }; runtime: Exclude<Runtime, 'auto'> };

/** auto: the in-process model when the folder has model.safetensors in the kit's GPT layout, else ONNX. */
export async function openTokenLM(dir: string, options: { runtime?: Runtime; threads?: number; provider?: ProviderChoice } = {}): Promise<OpenedModel> {
  const runtime = options.runtime ?? 'auto';
  const hasSafetensors = existsSync(join(dir, 'model.safetensors'));
  const hasOnnx = existsSync(join(dir, 'onnx')) || existsSync(join(dir, 'model.onnx'));
  if (!hasSafetensors && !hasOnnx) throw new Error(`${dir} has neither model.safetensors nor an onnx/ folder: is it a model folder?`);
  if (runtime === 'in-process' || (runtime === 'auto' && hasSafetensors)) {
    return { model: await GPTLanguageModel.fromFolder(dir, { threads: options.threads }), runtime: 'in-process' };
  }
  return { model: await OnnxCausalLM.load(dir, { threads: options.threads, provider: options.provider }), runtime: 'onnx' };
}
