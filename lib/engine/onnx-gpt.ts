// The ONNX writer for the kit's GPT (lib/engine/gpt.ts): weights in, a runnable decoder out.
//
// Input is exactly `{ cfg: GPTConfig, weights }`, weights keyed by the tensor names of
// `gptTensorSpecs(cfg)` (Hugging Face GPT-2 names, Conv1D weights [in, out]); the trainer exports
// through here and tests build seeded models through here. The graph itself (GPT-2's architecture,
// the 'optimum' and 'kv-delta' I/O variants) is lib/engine/onnx-decoder.ts, shared with the
// checkpoint converter; here the weights are float32 initializers held in the file.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, readOnnxInitializers } from './onnx-graph.js';
import { buildGptGraph, type DecoderVariant, type GraphWeights } from './onnx-decoder.js';
import { checkGPTWeights, gptHfConfig, gptTensorSpecs, type GPTConfig, type GPTWeights } from './gpt.js';
import { tinyTokenizerFiles, writeTokenizerFiles, type TokenizerFiles, BOS_ID, EOS_ID, PAD_ID } from './tokenizer.js';
import { createRng, deriveSeed } from '../repro/rng.js';
import { writeFileAtomic } from '../repro/files.js';

export { KV_DELTA_NAMES } from './onnx-decoder.js';
export type GptOnnxVariant = DecoderVariant;

/** What a trainer hands over: the config and its weights by `gptTensorSpecs` name. */
export type GptModel = { cfg: GPTConfig; weights: GPTWeights };

/** File names inside a model folder (transformers.js looks for `onnx/model.onnx`). */
export const ONNX_FILES: Record<GptOnnxVariant, string> = {
  optimum: join('onnx', 'model.onnx'),
  'kv-delta': join('onnx', 'model_kv_delta.onnx'),
};

/** Float32 weights held in memory, each written once as an initializer under its own name. */
function inMemoryWeights(g: GraphBuilder, cfg: GPTConfig, weights: GPTWeights): GraphWeights {
  const shapes = new Map(gptTensorSpecs(cfg).map((t) => [t.name, t.shape]));
  const added = new Set<string>();
  const tensor = (name: string) => {
    if (!added.has(name)) {
      g.initializer(name, shapes.get(name)!, weights[name]);
      added.add(name);
    }
    return name;
  };
  return {
    cacheType: 'float32',
    gather: (name, ids) => g.op1('Gather', [tensor(name), ids], { axis: { i: 0 } }),
    vector: tensor,
    linear: (x, name) => g.op1('MatMul', [x, tensor(name)]),
    // ONNX Runtime folds the transpose of the initializer once, at load.
    tiedOutput: (x, name) => g.op1('MatMul', [x, g.op1('Transpose', [tensor(name)], { perm: { ints: [1, 0] } })]),
  };
}

/** The decoder as ONNX bytes (IR 8, opset 17). */
export function buildGptOnnx(model: GptModel, options: { variant?: GptOnnxVariant } = {}): Uint8Array {
  const { cfg, weights } = model;
  checkGPTWeights(cfg, weights);
  const variant = options.variant ?? 'optimum';
  const g = new GraphBuilder();
  buildGptGraph(g, cfg, inMemoryWeights(g, cfg, weights), variant);
  return g.toBytes({ graphName: `ipt_gpt_${variant}`, docString: `ipt-kit GPT (${variant} I/O)` });
}

export type ModelFolderOptions = {
  /** Graph files to write; default both (transformers.js and Optimum read `onnx/model.onnx`). */
  variants?: GptOnnxVariant[];
  /** Default: the tiny byte-level tokenizer. */
  tokenizer?: TokenizerFiles;
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
  /** Extra fields for config.json (e.g. provenance of trained weights). */
  configExtra?: Record<string, unknown>;
};

/**
 * Writes a complete model folder: config.json (Hugging Face GPT-2 form), generation_config.json,
 * tokenizer.json + tokenizer_config.json, and the ONNX graphs. Returns the written paths.
 */
export function writeGptModelFolder(dir: string, model: GptModel, options: ModelFolderOptions = {}): string[] {
  const variants = options.variants ?? ['optimum', 'kv-delta'];
  const tokenizer = options.tokenizer ?? tinyTokenizerFiles({ modelMaxLength: model.cfg.contextLength });
  const ids = {
    bosTokenId: options.bosTokenId ?? BOS_ID,
    eosTokenId: options.eosTokenId ?? EOS_ID,
    padTokenId: options.padTokenId ?? PAD_ID,
  };
  for (const [k, id] of Object.entries(ids)) {
    if (!Number.isInteger(id) || id < 0 || id >= model.cfg.vocabSize)
      throw new RangeError(`${k} ${id} is outside the model's vocabulary (${model.cfg.vocabSize})`);
  }
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const written: string[] = [];
  const put = (rel: string, data: string | Uint8Array) => {
    writeFileAtomic(join(dir, rel), data);
    written.push(rel);
  };
  for (const variant of variants) put(ONNX_FILES[variant], buildGptOnnx(model, { variant }));
  const config = {
    ...gptHfConfig(model.cfg, ids),
    'transformers.js_config': { dtype: 'fp32' },
    ...options.configExtra,
  };
  put('config.json', JSON.stringify(config, null, 2) + '\n');
  const generation = {
    bos_token_id: ids.bosTokenId,
    eos_token_id: ids.eosTokenId,
    pad_token_id: ids.padTokenId,
    do_sample: false,
  };
  put('generation_config.json', JSON.stringify(generation, null, 2) + '\n');
  writeTokenizerFiles(dir, tokenizer);
  written.push('tokenizer.json', 'tokenizer_config.json');
  return written;
}

/** Reads the GPT weights back out of a kit-written ONNX file (both variants store them under their spec names). */
export function readGptOnnxWeights(bytes: Uint8Array, cfg: GPTConfig): GPTWeights {
  const inits = readOnnxInitializers(bytes);
  const weights: GPTWeights = {};
  for (const spec of gptTensorSpecs(cfg)) {
    const t = inits[spec.name];
    if (!t) throw new Error(`the ONNX file has no initializer ${spec.name}: was it written by the kit's GPT writer?`);
    weights[spec.name] = t.data;
  }
  checkGPTWeights(cfg, weights);
  return weights;
}

/**
 * Seeded weights for test and benchmark models, not an initialisation for training: weights
 * N(0, 16/fan_in), embeddings N(0, 1), and biases and LayerNorm gains away from 0 and 1, so every
 * tensor matters, greedy decoding has real gaps between logits (no near ties), and the blocks
 * outweigh the tied embedding (with smaller weights a random model just repeats its last token). Token ids in
 * `silentTokens` get a zero embedding row, which makes their logit 0 while the others spread
 * widely, so greedy decoding never emits them (e.g. keep EOS out of a fixed-length benchmark).
 */
export function seededGptWeights(cfg: GPTConfig, seed: number, options: { silentTokens?: number[] } = {}): GPTWeights {
  const weights: GPTWeights = {};
  for (const spec of gptTensorSpecs(cfg)) {
    const rng = createRng(deriveSeed(seed, spec.name));
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    const isEmbedding = spec.name === 'wte.weight' || spec.name === 'wpe.weight';
    const isLnWeight = /ln_(1|2|f)\.weight$/.test(spec.name);
    const isBias = spec.name.endsWith('.bias');
    const std = isEmbedding ? 1 : isBias || isLnWeight ? 0.1 : 4 / Math.sqrt(spec.shape[0]);
    for (let i = 0; i < n; i++) w[i] = (isLnWeight ? 1 : 0) + std * rng.normal();
    weights[spec.name] = w;
  }
  for (const id of options.silentTokens ?? []) weights['wte.weight'].fill(0, id * cfg.width, (id + 1) * cfg.width);
  return weights;
}

/**
 * A hand-set "scripted" GPT for demonstrations and end-to-end tests: after token script[i] its
 * greedy continuation is script[i + 1], whatever came before (attention is switched off, and the
 * first block's MLP is a lookup table from each script token to the next). The script's tokens
 * must be distinct and fewer than width / 2. With the tiny tokenizer and a script that starts at
 * "\n" and spells `<QUE> ...<ANS>...</END></s>`, it answers every synthesizer prompt with one pair.
 */
export function scriptedGptWeights(cfg: GPTConfig, script: number[]): GPTWeights {
  const C = cfg.width;
  if (new Set(script).size !== script.length)
    throw new RangeError('scriptedGptWeights: the script tokens must be distinct');
  if (script.length * 2 > C)
    throw new RangeError(`scriptedGptWeights: a script of ${script.length} tokens needs width >= ${script.length * 2}`);
  if (cfg.mlpRatio * C < script.length)
    throw new RangeError('scriptedGptWeights: the MLP is too narrow for the script');
  for (const t of script)
    if (!Number.isInteger(t) || t < 0 || t >= cfg.vocabSize)
      throw new RangeError(`scriptedGptWeights: token ${t} is outside the vocabulary`);
  const weights: GPTWeights = {};
  for (const spec of gptTensorSpecs(cfg)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    weights[spec.name] = new Float32Array(n).fill(/ln_(1|2|f)\.weight$/.test(spec.name) ? 1 : 0);
  }
  // Token script[i] embeds as the unit vector e_i; every other token embeds as 0 (its logit stays 0).
  script.forEach((t, i) => (weights['wte.weight'][t * C + i] = 1));
  // After LayerNorm, e_i has about sqrt(C) at i and -1/sqrt(C) elsewhere: hidden unit i fires only
  // for token i, and writes a large multiple of e_{i+1} into the residual stream.
  const hiddenSize = cfg.mlpRatio * C;
  const fc = weights['h.0.mlp.c_fc.weight'];
  const fcBias = weights['h.0.mlp.c_fc.bias'];
  const proj = weights['h.0.mlp.c_proj.weight'];
  const threshold = Math.sqrt(C) / 2;
  for (let i = 0; i + 1 < script.length; i++) {
    fc[i * hiddenSize + i] = 1;
    fcBias[i] = -threshold;
    proj[i * C + (i + 1)] = 20 / threshold;
  }
  for (let i = script.length - 1; i < hiddenSize; i++) fcBias[i] = -threshold;
  return weights;
}
