// Model folders: what a training run leaves for everyone else. A folder is a valid Hugging Face
// `GPT2LMHeadModel` (config.json, model.safetensors with GPT-2 tensor names and Conv1D [in, out]
// layouts, tokenizer.json + tokenizer_config.json, generation_config.json), so Python can load it,
// and it carries the same weights as ONNX (onnx/model.onnx in the Optimum convention, plus the kit's
// kv-delta variant) written by lib/engine's writer, so lib/engine's OnnxCausalLM, transformers.js and
// `ipt serve` run it; the kit's in-process model runs the safetensors.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkGPTWeights, gptConfigFromHf, gptTensorSpecs, type GPTConfig, type GPTWeights } from '../engine/gpt.js';
import { readTokenizerFiles, type TokenizerFiles } from '../engine/tokenizer.js';
import { readJsonObject } from '../repro/files.js';
import { ONNX_FILES, writeGptModelFolder } from '../engine/onnx-gpt.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

export type ExportOptions = {
  cfg: GPTConfig;
  weights: GPTWeights;
  tokenizer: TokenizerFiles;
  /** Special ids for config.json and generation_config.json (default: the tiny tokenizer's 1, 2, 0). */
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
};

export const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
  'generation_config.json',
  ONNX_FILES.optimum,
  ONNX_FILES['kv-delta'],
] as const;

/** Writes a model folder: safetensors first, then (through the ONNX writer) the ONNX graphs, config and tokenizer, each atomically. */
export function exportModel(dir: string, options: ExportOptions): void {
  const { cfg, weights } = options;
  checkGPTWeights(cfg, weights);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const s of gptTensorSpecs(cfg)) tensors[s.name] = { shape: s.shape, data: weights[s.name] };
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeGptModelFolder(
    dir,
    { cfg, weights },
    {
      tokenizer: options.tokenizer,
      bosTokenId: options.bosTokenId ?? 1,
      eosTokenId: options.eosTokenId ?? 2,
      padTokenId: options.padTokenId ?? 0,
    },
  );
}

/**
 * Reads a model folder's config and weights: `{cfg, weights}` keyed by the gptTensorSpecs names
 * (what lib/engine's ONNX writer takes), and its tokenizer files when the folder has them.
 * Accepts GPT-2 checkpoints whose names carry the `transformer.` prefix; ignores `lm_head.weight`
 * (tied) and the attention-mask buffers of older exports.
 */
export function loadModelFolder(dir: string): { cfg: GPTConfig; weights: GPTWeights; tokenizer?: TokenizerFiles } {
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  if (!existsSync(configPath)) throw new Error(`${dir} is not a model folder: no config.json`);
  if (!existsSync(weightsPath)) throw new Error(`${dir} has no model.safetensors (an export that did not finish?)`);
  const cfg = gptConfigFromHf(readJsonObject(configPath, 'a truncated copy? Copy or export the model folder again'));
  const file = readSafetensors(weightsPath);
  const weights: GPTWeights = {};
  for (const s of gptTensorSpecs(cfg)) {
    const t = file.tensors[s.name] ?? file.tensors[`transformer.${s.name}`];
    if (!t) throw new Error(`${weightsPath} has no tensor ${s.name}`);
    if (t.dtype !== 'F32') throw new Error(`${weightsPath}: ${s.name} is ${t.dtype}; the kit runs F32 weights`);
    if (t.shape.join('x') !== s.shape.join('x'))
      throw new Error(`${weightsPath}: ${s.name} has shape [${t.shape}], config.json says [${s.shape}]`);
    weights[s.name] = t.data as Float32Array;
  }
  const tokenizer = readTokenizerFiles(dir);
  return { cfg, weights, ...(tokenizer ? { tokenizer } : {}) };
}
