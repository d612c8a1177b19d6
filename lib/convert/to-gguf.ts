// A Hugging Face checkpoint (Llama/Mistral or GPT-2) as a GGUF file for llama.cpp, written by the kit:
// the metadata llama.cpp's loader reads for the `llama` and `gpt2` architectures, the tokenizer
// embedded (byte-level BPE tokenizer.json only: GPT-2 style, as the kit's own models have; public
// GGUF exports exist for the released SentencePiece models), and the tensors under llama.cpp's
// names, converted the way llama.cpp's own converter does: Llama's q/k rows reordered from Hugging
// Face's rotate-half layout to llama.cpp's interleaved pairs, GPT-2's Conv1D weights transposed to
// [out, in], Llama 3 rope scaling as the `rope_freqs` factors. f32, f16 or q8_0 for matrices; norms,
// biases and rotary factors stay f32. Streamed tensor by tensor into a hidden file renamed at the end.

import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readJsonObject, removeStaleStaging } from '../repro/files.js';
import { Checkpoint } from './checkpoint.js';
import { GgufWriter, GGUF_FILE_TYPE, canQ8, type GgmlType, type GgufTensorInfo, type GgufValue } from './gguf.js';
import { readModelSpec, ropeInverseFrequencies, type LlamaSpec, type Gpt2Spec, type ModelSpec } from './hf-config.js';
import { weightSpecs } from './convert.js';
import { resolveSource, type SourceOptions } from './source.js';

export type GgufDtype = 'f32' | 'f16' | 'q8_0';
export const GGUF_DTYPES: readonly GgufDtype[] = ['f32', 'f16', 'q8_0'];
const MATRIX_TYPE: Record<GgufDtype, GgmlType> = { f32: 'F32', f16: 'F16', q8_0: 'Q8_0' };

export type GgufOptions = SourceOptions & { source: string; out: string; dtype?: GgufDtype; force?: boolean };
export type GgufResult = { out: string; spec: ModelSpec; dtype: GgufDtype; outputBytes: number; seconds: number };

/** One GGUF tensor: its name, shape (PyTorch order), type, and how to get its float32 values from the checkpoint. */
type Planned = GgufTensorInfo & { values: () => Float32Array };

/** Hugging Face's rotate-half rows of q or k to llama.cpp's interleaved pairs, head by head. */
export function interleaveRotaryRows(w: Float32Array, heads: number, cols: number): Float32Array {
  const rows = w.length / cols;
  const D = rows / heads;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < D / 2; i++) {
      for (const half of [0, 1]) {
        const from = (h * D + half * (D / 2) + i) * cols;
        out.set(w.subarray(from, from + cols), (h * D + 2 * i + half) * cols);
      }
    }
  }
  return out;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

function matrixType(shape: number[], dtype: GgufDtype): GgmlType {
  const t = MATRIX_TYPE[dtype];
  return t === 'Q8_0' && !canQ8(shape) ? 'F16' : t;
}

function llamaPlan(spec: LlamaSpec, ckpt: Checkpoint, dtype: GgufDtype): Planned[] {
  const { hidden: C, intermediate: F, heads: H, kvHeads: K, headDim: D, vocabSize: V } = spec;
  const m = (name: string, shape: number[], values: () => Float32Array): Planned => ({
    name,
    shape,
    type: matrixType(shape, dtype),
    values,
  });
  const v = (name: string, source: string): Planned => ({
    name,
    shape: [C],
    type: 'F32',
    values: () => ckpt.rows(source),
  });
  const plan: Planned[] = [m('token_embd.weight', [V, C], () => ckpt.rows('model.embed_tokens.weight'))];
  if (spec.ropeScaling) {
    const base = ropeInverseFrequencies({ ...spec, ropeScaling: undefined });
    const scaled = ropeInverseFrequencies(spec);
    plan.push({
      name: 'rope_freqs.weight',
      shape: [D / 2],
      type: 'F32',
      values: () => Float32Array.from(base, (f, i) => f / scaled[i]),
    });
  }
  for (let l = 0; l < spec.layers; l++) {
    const p = `model.layers.${l}`;
    const b = `blk.${l}`;
    plan.push(
      v(`${b}.attn_norm.weight`, `${p}.input_layernorm.weight`),
      m(`${b}.attn_q.weight`, [H * D, C], () => interleaveRotaryRows(ckpt.rows(`${p}.self_attn.q_proj.weight`), H, C)),
      m(`${b}.attn_k.weight`, [K * D, C], () => interleaveRotaryRows(ckpt.rows(`${p}.self_attn.k_proj.weight`), K, C)),
      m(`${b}.attn_v.weight`, [K * D, C], () => ckpt.rows(`${p}.self_attn.v_proj.weight`)),
      m(`${b}.attn_output.weight`, [C, H * D], () => ckpt.rows(`${p}.self_attn.o_proj.weight`)),
      v(`${b}.ffn_norm.weight`, `${p}.post_attention_layernorm.weight`),
      m(`${b}.ffn_gate.weight`, [F, C], () => ckpt.rows(`${p}.mlp.gate_proj.weight`)),
      m(`${b}.ffn_up.weight`, [F, C], () => ckpt.rows(`${p}.mlp.up_proj.weight`)),
      m(`${b}.ffn_down.weight`, [C, F], () => ckpt.rows(`${p}.mlp.down_proj.weight`)),
    );
  }
  plan.push(v('output_norm.weight', 'model.norm.weight'));
  if (!spec.tieWordEmbeddings) plan.push(m('output.weight', [V, C], () => ckpt.rows('lm_head.weight')));
  return plan;
}

function llamaMetadata(spec: LlamaSpec): Record<string, GgufValue> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  return {
    'llama.context_length': u32(spec.maxPositions),
    'llama.embedding_length': u32(spec.hidden),
    'llama.block_count': u32(spec.layers),
    'llama.feed_forward_length': u32(spec.intermediate),
    'llama.rope.dimension_count': u32(spec.headDim),
    'llama.attention.head_count': u32(spec.heads),
    'llama.attention.head_count_kv': u32(spec.kvHeads),
    'llama.attention.key_length': u32(spec.headDim),
    'llama.attention.value_length': u32(spec.headDim),
    'llama.attention.layer_norm_rms_epsilon': f32(spec.rmsNormEps),
    'llama.rope.freq_base': f32(spec.ropeTheta),
    'llama.vocab_size': u32(spec.vocabSize),
  };
}

function gpt2Plan(spec: Gpt2Spec, ckpt: Checkpoint, dtype: GgufDtype): Planned[] {
  const { width: C, vocabSize: V, contextLength: P } = spec.cfg;
  const F = spec.cfg.mlpRatio * C;
  const vec = (name: string, source: string, n: number): Planned => ({
    name,
    shape: [n],
    type: 'F32',
    values: () => ckpt.rows(source),
  });
  // Conv1D stores [in, out]; llama.cpp wants [out, in] like a Linear.
  const conv = (name: string, source: string, fin: number, fout: number): Planned => ({
    name,
    shape: [fout, fin],
    type: matrixType([fout, fin], dtype),
    values: () => transpose(ckpt.rows(source), fin, fout),
  });
  const plan: Planned[] = [
    {
      name: 'token_embd.weight',
      shape: [V, C],
      type: matrixType([V, C], dtype),
      values: () => ckpt.rows('wte.weight'),
    },
    { name: 'position_embd.weight', shape: [P, C], type: 'F32', values: () => ckpt.rows('wpe.weight') },
  ];
  for (let l = 0; l < spec.cfg.layers; l++) {
    const p = `h.${l}`;
    const b = `blk.${l}`;
    plan.push(
      vec(`${b}.attn_norm.weight`, `${p}.ln_1.weight`, C),
      vec(`${b}.attn_norm.bias`, `${p}.ln_1.bias`, C),
      conv(`${b}.attn_qkv.weight`, `${p}.attn.c_attn.weight`, C, 3 * C),
      vec(`${b}.attn_qkv.bias`, `${p}.attn.c_attn.bias`, 3 * C),
      conv(`${b}.attn_output.weight`, `${p}.attn.c_proj.weight`, C, C),
      vec(`${b}.attn_output.bias`, `${p}.attn.c_proj.bias`, C),
      vec(`${b}.ffn_norm.weight`, `${p}.ln_2.weight`, C),
      vec(`${b}.ffn_norm.bias`, `${p}.ln_2.bias`, C),
      conv(`${b}.ffn_up.weight`, `${p}.mlp.c_fc.weight`, C, F),
      vec(`${b}.ffn_up.bias`, `${p}.mlp.c_fc.bias`, F),
      conv(`${b}.ffn_down.weight`, `${p}.mlp.c_proj.weight`, F, C),
      vec(`${b}.ffn_down.bias`, `${p}.mlp.c_proj.bias`, C),
    );
  }
  plan.push(vec('output_norm.weight', 'ln_f.weight', C), vec('output_norm.bias', 'ln_f.bias', C));
  // GPT-2 ties its output layer to the token embedding; llama.cpp's converter writes it out.
  plan.push({
    name: 'output.weight',
    shape: [V, C],
    type: matrixType([V, C], dtype),
    values: () => ckpt.rows('wte.weight'),
  });
  return plan;
}

function gpt2Metadata(spec: Gpt2Spec): Record<string, GgufValue> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  return {
    'gpt2.context_length': u32(spec.cfg.contextLength),
    'gpt2.embedding_length': u32(spec.cfg.width),
    'gpt2.feed_forward_length': u32(spec.cfg.mlpRatio * spec.cfg.width),
    'gpt2.block_count': u32(spec.cfg.layers),
    'gpt2.attention.head_count': u32(spec.cfg.heads),
    'gpt2.attention.layer_norm_epsilon': { type: 'f32', value: spec.cfg.layerNormEps },
  };
}

type TokenizerJson = {
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  pre_tokenizer?: { type?: string; use_regex?: boolean } | null;
};

/**
 * The tokenizer of a byte-level BPE tokenizer.json as llama.cpp's `gpt2` tokenizer model: tokens by id
 * (padded to the model's vocabulary with unused [PAD<id>] tokens), their types (control for special
 * added tokens, user-defined for other added tokens), merges, and the special ids.
 */
function ggufTokenizer(dir: string, vocabSize: number, config: Record<string, unknown>): Record<string, GgufValue> {
  const path = join(dir, 'tokenizer.json');
  if (!existsSync(path)) throw new Error(`${dir} has no tokenizer.json: a GGUF file embeds the tokenizer`);
  const json = readJsonObject(path, 'download the checkpoint again') as TokenizerJson;
  const pre = json.pre_tokenizer;
  if (json.model?.type !== 'BPE' || pre?.type !== 'ByteLevel' || pre.use_regex === false) {
    throw new Error(
      `${path}: GGUF export handles byte-level BPE tokenizers (GPT-2 style; the kit's own models); this one is ${json.model?.type ?? 'unknown'} with a ${pre?.type ?? 'missing'} pre-tokenizer. ` +
        'Use a public GGUF export of the model (see env/engines.md) or convert it to ONNX',
    );
  }
  const tokens = new Array<string | undefined>(vocabSize);
  const types = new Array<number>(vocabSize).fill(1);
  for (const [token, id] of Object.entries(json.model.vocab ?? {})) if (id < vocabSize) tokens[id] = token;
  for (const t of json.added_tokens ?? []) {
    if (t.id >= vocabSize) continue;
    tokens[t.id] = t.content;
    types[t.id] = t.special ? 3 : 4;
  }
  for (let id = 0; id < vocabSize; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = `[PAD${id}]`;
      types[id] = 5;
    }
  }
  const merges = (json.model.merges ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const id = (v: unknown): number | undefined =>
    typeof v === 'number' ? v : Array.isArray(v) && typeof v[0] === 'number' ? v[0] : undefined;
  const special: Record<string, GgufValue> = {};
  for (const [key, value] of [
    ['bos', config.bos_token_id],
    ['eos', config.eos_token_id],
    ['padding', config.pad_token_id],
  ] as const) {
    const n = id(value);
    if (n !== undefined) special[`tokenizer.ggml.${key}_token_id`] = { type: 'u32', value: n };
  }
  return {
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: 'gpt-2' },
    'tokenizer.ggml.tokens': { type: 'strings', value: tokens as string[] },
    'tokenizer.ggml.token_type': { type: 'i32s', value: types },
    'tokenizer.ggml.merges': { type: 'strings', value: merges },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
    ...special,
  };
}

/** Converts a checkpoint to one GGUF file. */
export async function convertToGguf(options: GgufOptions): Promise<GgufResult> {
  const started = Date.now();
  const dtype = options.dtype ?? 'f32';
  if (!GGUF_DTYPES.includes(dtype))
    throw new RangeError(`GGUF dtype must be one of ${GGUF_DTYPES.join(', ')}, got ${dtype}`);
  const out = resolve(options.out);
  if (existsSync(out) && !options.force)
    throw new Error(`${out} already exists: choose another --out, or pass --force to replace it`);
  if (existsSync(out) && statSync(out).isDirectory())
    throw new Error(`--out ${out} is a folder; name the .gguf file to write`);
  const source = await resolveSource(options.source, options);
  const configPath = join(source.dir, 'config.json');
  const config = readJsonObject(configPath, 'download the checkpoint again');
  const spec = readModelSpec(config, configPath);
  const ckpt = Checkpoint.open(source.dir, spec, weightSpecs(spec));
  const vocab = spec.kind === 'llama' ? spec.vocabSize : spec.cfg.vocabSize;
  const metadata: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: spec.kind === 'llama' ? 'llama' : 'gpt2' },
    'general.name': { type: 'string', value: basename(options.source.replace(/\/+$/, '')) },
    'general.file_type': { type: 'u32', value: GGUF_FILE_TYPE[MATRIX_TYPE[dtype]] },
    ...(dtype === 'q8_0' ? { 'general.quantization_version': { type: 'u32', value: 2 } as GgufValue } : {}),
    ...(spec.kind === 'llama' ? llamaMetadata(spec) : gpt2Metadata(spec)),
    ...ggufTokenizer(source.dir, vocab, config),
  };
  const plan = spec.kind === 'llama' ? llamaPlan(spec, ckpt, dtype) : gpt2Plan(spec, ckpt, dtype);
  removeStaleStaging(out);
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const writer = GgufWriter.open(tmp, metadata, plan);
  try {
    for (const t of plan) writer.write(t.name, t.values());
    writer.close();
    renameSync(tmp, out);
  } catch (err) {
    writer.abandon();
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    ckpt.close();
  }
  return { out, spec, dtype, outputBytes: statSync(out).size, seconds: (Date.now() - started) / 1000 };
}
