// Tiny random checkpoints in the Hugging Face layout, for the converter's tests: config.json,
// safetensors weights (one file or shards with model.safetensors.index.json, each shard in its own
// dtype), generation_config.json and the kit's byte-level tokenizer. The weights are returned as
// the float32 values the files hold (BF16 and F16 shards rounded), keyed by checkpoint name, so an
// independent reference can compute with exactly what the converter reads.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../../lib/train/safetensors.js';
import { fromBfloat16, fromHalf, toBfloat16, toHalf } from '../../lib/engine/float16.js';
import { createRng, deriveSeed } from '../../lib/repro/rng.js';
import { tinyTokenizerFiles, writeTokenizerFiles, TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';
import {
  llamaWeightSpecs,
  gpt2WeightSpecs,
  readModelSpec,
  type LlamaSpec,
  type Gpt2Spec,
  type WeightSpec,
} from '../../lib/convert/hf-config.js';

export type Dtype = 'F32' | 'F16' | 'BF16';
export type Weights = Record<string, Float32Array>;

export type LlamaShape = {
  vocab?: number;
  hidden?: number;
  intermediate?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  tied?: boolean;
  ropeTheta?: number;
  maxPositions?: number;
  ropeScaling?: Record<string, unknown>;
  architecture?: 'LlamaForCausalLM' | 'MistralForCausalLM';
  slidingWindow?: number;
};

export function llamaConfig(s: LlamaShape = {}): Record<string, unknown> {
  const arch = s.architecture ?? 'MistralForCausalLM';
  return {
    architectures: [arch],
    model_type: arch === 'MistralForCausalLM' ? 'mistral' : 'llama',
    vocab_size: s.vocab ?? TINY_BASE_VOCAB,
    hidden_size: s.hidden ?? 32,
    intermediate_size: s.intermediate ?? 64,
    num_hidden_layers: s.layers ?? 2,
    num_attention_heads: s.heads ?? 4,
    num_key_value_heads: s.kvHeads ?? 2,
    ...(s.headDim ? { head_dim: s.headDim } : {}),
    max_position_embeddings: s.maxPositions ?? 128,
    rms_norm_eps: 1e-5,
    rope_theta: s.ropeTheta ?? 10000,
    hidden_act: 'silu',
    tie_word_embeddings: s.tied ?? false,
    rope_scaling: s.ropeScaling ?? null,
    sliding_window: s.slidingWindow ?? null,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'bfloat16',
  };
}

export function gpt2Config(
  s: { vocab?: number; width?: number; heads?: number; layers?: number; positions?: number } = {},
): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: s.vocab ?? TINY_BASE_VOCAB,
    n_embd: s.width ?? 32,
    n_head: s.heads ?? 4,
    n_layer: s.layers ?? 2,
    n_positions: s.positions ?? 64,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    bos_token_id: 1,
    eos_token_id: 2,
  };
}

/** Seeded weights with real gaps between logits: projections N(0, 16/fan_in), norms near 1, embeddings N(0, 1). */
function randomWeights(
  specs: WeightSpec[],
  seed: number,
  scaleOf: (w: WeightSpec) => { mean: number; std: number },
): Weights {
  const out: Weights = {};
  for (const w of specs) {
    const rng = createRng(deriveSeed(seed, w.name));
    const { mean, std } = scaleOf(w);
    const n = w.shape.reduce((a, b) => a * b, 1);
    out[w.name] = Float32Array.from({ length: n }, () => mean + std * rng.normal());
  }
  return out;
}

export function llamaWeights(config: Record<string, unknown>, seed: number): { spec: LlamaSpec; weights: Weights } {
  const spec = readModelSpec(config) as LlamaSpec;
  const weights = randomWeights(llamaWeightSpecs(spec), seed, (w) =>
    w.shape.length === 1
      ? { mean: 1, std: 0.1 }
      : w.name.includes('embed_tokens')
        ? { mean: 0, std: 1 }
        : { mean: 0, std: (w.name === 'lm_head.weight' ? 1 : 3) / Math.sqrt(w.shape[1]) },
  );
  return { spec, weights };
}

export function gpt2Weights(config: Record<string, unknown>, seed: number): { spec: Gpt2Spec; weights: Weights } {
  const spec = readModelSpec(config) as Gpt2Spec;
  const weights = randomWeights(gpt2WeightSpecs(spec), seed, (w) =>
    w.name.endsWith('.bias')
      ? { mean: 0, std: 0.1 }
      : w.shape.length === 1
        ? { mean: 1, std: 0.1 }
        : w.name.startsWith('w')
          ? { mean: 0, std: 1 }
          : { mean: 0, std: 4 / Math.sqrt(w.shape[0]) },
  );
  return { spec, weights };
}

function encode(values: Float32Array, dtype: Dtype): { tensor: TensorToWrite; stored: Float32Array } {
  if (dtype === 'F32') return { tensor: { shape: [], data: values }, stored: values };
  const bits = dtype === 'BF16' ? toBfloat16(values) : toHalf(values);
  return { tensor: { shape: [], data: bits, dtype }, stored: dtype === 'BF16' ? fromBfloat16(bits) : fromHalf(bits) };
}

export type CheckpointLayout = {
  /** One dtype per file; more than one writes shards and an index. */
  shards: Dtype[];
  /** Prefix every tensor name (GPT-2 checkpoints saved by newer transformers use "transformer."). */
  prefix?: string;
  /** Extra tensors a real checkpoint may carry (buffers), which the converter must ignore. */
  extra?: Record<string, Float32Array>;
};

/**
 * Writes the checkpoint; returns the weights as stored (after rounding to each shard's dtype). Tensors are
 * dealt to shards in turn, so every shard holds some of each kind.
 */
export function writeCheckpoint(
  dir: string,
  config: Record<string, unknown>,
  weights: Weights,
  layout: CheckpointLayout,
): Weights {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }));
  writeTokenizerFiles(dir, tinyTokenizerFiles());
  const n = layout.shards.length;
  const files = layout.shards.map((_, i) =>
    n === 1
      ? 'model.safetensors'
      : `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`,
  );
  const perShard: Array<Record<string, TensorToWrite>> = layout.shards.map(() => ({}));
  const weightMap: Record<string, string> = {};
  const stored: Weights = {};
  const specs = Object.entries(weights);
  specs.forEach(([name, values], i) => {
    const shard = i % n;
    const shape = shapeOf(config, name);
    const { tensor, stored: s } = encode(values, layout.shards[shard]);
    const full = (layout.prefix ?? '') + name;
    perShard[shard][full] = { ...tensor, shape } as TensorToWrite;
    weightMap[full] = files[shard];
    stored[name] = s;
  });
  for (const [name, values] of Object.entries(layout.extra ?? {})) {
    perShard[0][name] = { shape: [values.length], data: values };
    weightMap[name] = files[0];
  }
  files.forEach((f, i) => writeSafetensors(join(dir, f), perShard[i], { format: 'pt' }));
  if (n > 1)
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2),
    );
  return stored;
}

function shapeOf(config: Record<string, unknown>, name: string): number[] {
  const spec = readModelSpec(config);
  const specs = spec.kind === 'llama' ? llamaWeightSpecs(spec) : gpt2WeightSpecs(spec);
  const w = specs.find((s) => s.name === name);
  if (!w) throw new Error(`no weight ${name} in this architecture`);
  return w.shape;
}
