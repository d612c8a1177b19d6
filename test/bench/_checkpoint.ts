// Large random checkpoints in the Hugging Face layout for the convert and GPU benchmarks: Llama-style
// config.json, BF16 safetensors shards of about 1 GB written as a stream (a 7B model never sits in
// memory), model.safetensors.index.json, and the kit's tiny tokenizer (vocabulary padded to the
// config's). Values are small uniform noise: conversion speed does not depend on them, and a random
// model's logits are not what these benchmarks measure.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { llamaWeightSpecs, readModelSpec, type LlamaSpec } from '../../lib/convert/hf-config.js';
import { tinyTokenizerFiles, writeTokenizerFiles } from '../../lib/engine/tokenizer.js';

export type BenchShape = {
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  maxPositions: number;
};

/** TinyLlama-1.1B's shape: 1.1B parameters. */
export const SHAPE_1B: BenchShape = {
  hidden: 2048,
  intermediate: 5632,
  layers: 22,
  heads: 32,
  kvHeads: 4,
  vocab: 32000,
  maxPositions: 2048,
};
/** Mistral-7B's shape (the instruction synthesizer): 7.2B parameters. */
export const SHAPE_7B: BenchShape = {
  hidden: 4096,
  intermediate: 14336,
  layers: 32,
  heads: 32,
  kvHeads: 8,
  vocab: 32000,
  maxPositions: 32768,
};

export function benchConfig(s: BenchShape): Record<string, unknown> {
  return {
    architectures: ['MistralForCausalLM'],
    model_type: 'mistral',
    vocab_size: s.vocab,
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    max_position_embeddings: s.maxPositions,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'bfloat16',
  };
}

/** xorshift32 filling BF16 bit patterns of values in about ±2^-4 (exponents 120..122, random mantissa and sign). */
function fillBf16(out: Uint16Array, state: { s: number }, norm: boolean): void {
  let s = state.s;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = norm ? 0x3f80 | (s & 0x7) : (s & 0x8000) | ((120 + ((s & 3) % 3)) << 7) | ((s >>> 8) & 0x7f);
  }
  state.s = s;
}

/** Writes the checkpoint; returns its parameter count and bytes. */
export function writeBenchCheckpoint(
  dir: string,
  shape: BenchShape,
  shardBytes = 2 ** 30,
): { parameters: number; bytes: number; spec: LlamaSpec } {
  mkdirSync(dir, { recursive: true });
  const config = benchConfig(shape);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeTokenizerFiles(dir, tinyTokenizerFiles());
  const spec = readModelSpec(config) as LlamaSpec;
  const weights = llamaWeightSpecs(spec);
  // deal tensors into shards of about shardBytes, in order
  const shards: Array<typeof weights> = [[]];
  let size = 0;
  for (const w of weights) {
    const bytes = 2 * w.shape.reduce((a, b) => a * b, 1);
    if (size > 0 && size + bytes > shardBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(w);
    size += bytes;
  }
  const names = shards.map(
    (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`,
  );
  const weightMap: Record<string, string> = {};
  const state = { s: 0x9e3779b9 };
  let total = 0;
  let parameters = 0;
  shards.forEach((list, i) => {
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const w of list) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      header[w.name] = { dtype: 'BF16', shape: w.shape, data_offsets: [offset, offset + 2 * n] };
      offset += 2 * n;
      weightMap[w.name] = names[i];
      parameters += n;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
    const fd = openSync(join(dir, names[i]), 'w');
    try {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
      writeSync(fd, len);
      writeSync(fd, Buffer.from(json));
      const chunk = new Uint16Array(8 * 2 ** 20);
      for (const w of list) {
        let left = w.shape.reduce((a, b) => a * b, 1);
        while (left > 0) {
          const part = chunk.subarray(0, Math.min(left, chunk.length));
          fillBf16(part, state, w.shape.length === 1);
          writeSync(fd, new Uint8Array(part.buffer, 0, part.byteLength));
          left -= part.length;
        }
      }
    } finally {
      closeSync(fd);
    }
    total += 8 + Buffer.byteLength(json) + offset;
  });
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
  return { parameters, bytes: total, spec };
}
