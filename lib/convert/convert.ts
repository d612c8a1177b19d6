// `ipt convert`: a Hugging Face checkpoint (a local folder, or a Hub repo fetched through lib/hub
// into the standard cache, only the files needed) into a model folder the ONNX engines run, with no
// Python: the Optimum layout (onnx/model.onnx, + onnx/model.onnx_data when large, config.json,
// generation_config.json, the tokenizer files) that transformers.js, Optimum and OnnxCausalLM load,
// plus the kit's kv-delta graph (onnx/model_kv_delta.onnx) over the same weights, which
// OnnxCausalLM prefers. Tensors are read, converted and written one at a time, so memory stays near
// the largest tensor whatever the model's size. The folder is built in a hidden staging folder and
// renamed into place at the end: a killed conversion never leaves a folder that looks complete.

import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GraphBuilder } from '../engine/onnx-graph.js';
import { buildGptGraph, buildLlamaGraph, type DecoderVariant } from '../engine/onnx-decoder.js';
import { ONNX_FILES } from '../engine/onnx-gpt.js';
import { commitStagingDir, createStagingDir, readJsonObject, writeFileAtomic, writeJson } from '../repro/files.js';
import { createProgress, type ProgressMode } from '../repro/progress.js';
import { writeManifest, type ManifestInput } from '../repro/manifest.js';
import { Checkpoint } from './checkpoint.js';
import {
  contextLimit,
  gpt2WeightSpecs,
  llamaWeightSpecs,
  readModelSpec,
  ropeInverseFrequencies,
  type ModelSpec,
  type WeightSpec,
} from './hf-config.js';
import { convertedWeights, WeightStore, ONNX_DTYPES, type OnnxDtype } from './onnx-weights.js';
import { checkBlockSize } from './int4.js';
import { resolveSource, type SourceOptions } from './source.js';

export type ConvertOptions = SourceOptions & {
  /** A local checkpoint folder or a Hub model repo id ("org/name"). */
  source: string;
  /** The model folder to write. */
  out: string;
  dtype?: OnnxDtype;
  /** int4 block size along the input dimension (default 32). */
  blockSize?: number;
  /** Weights in onnx/model.onnx_data beside the graphs: 'auto' (default) when they exceed 1 GiB. */
  externalData?: 'auto' | 'always' | 'never';
  /** Graphs to write (default both: Optimum's for every tool, the kit's kv-delta for OnnxCausalLM). */
  variants?: DecoderVariant[];
  /** Replace an existing folder at `out`. */
  force?: boolean;
  progress?: ProgressMode;
  /** Recorded in the manifest. */
  command?: string[];
};

export type ConvertResult = {
  out: string;
  spec: ModelSpec;
  dtype: OnnxDtype;
  external: boolean;
  files: string[];
  sourceBytes: number;
  outputBytes: number;
  seconds: number;
  source: ManifestInput;
};

/** Tokenizer and generation files copied as they are, when the checkpoint has them. */
const COPIED = [
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.model',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
];

const EXTERNAL_AUTO_BYTES = 2 ** 30;
const VARIANT_LABEL: Record<DecoderVariant, string> = { optimum: 'Optimum I/O', 'kv-delta': "the kit's kv-delta I/O" };

export function weightSpecs(spec: ModelSpec): WeightSpec[] {
  return spec.kind === 'llama' ? llamaWeightSpecs(spec) : gpt2WeightSpecs(spec);
}

/** Bytes of the converted weights, for the external-data decision (the output layer of a tied int4 model counted once more). */
function convertedBytes(spec: ModelSpec, dtype: OnnxDtype): number {
  const values = weightSpecs(spec).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return values * (dtype === 'fp32' ? 4 : dtype === 'fp16' ? 2 : 1);
}

function checkOut(out: string, force: boolean | undefined): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`--out ${out} is a file; name a folder to write the model into`);
  if (readdirSync(out).length > 0 && !force)
    throw new Error(`${out} already exists and is not empty: choose another --out, or pass --force to replace it`);
}

/** The Hugging Face config.json of the converted folder: the source's, with what transformers.js needs to load it. */
function convertedConfig(
  config: Record<string, unknown>,
  dtype: OnnxDtype,
  external: boolean,
  source: string,
): Record<string, unknown> {
  return {
    ...config,
    use_cache: true,
    'transformers.js_config': {
      dtype: 'fp32', // the graph is onnx/model.onnx whatever its precision
      ...(dtype === 'fp16' ? { kv_cache_dtype: 'float16' } : {}),
      ...(external ? { use_external_data_format: true } : {}),
    },
    ipt_convert: { source, dtype },
  };
}

function generationConfig(config: Record<string, unknown>): Record<string, unknown> {
  const keys = ['bos_token_id', 'eos_token_id', 'pad_token_id'];
  return Object.fromEntries(
    keys.filter((k) => config[k] !== undefined && config[k] !== null).map((k) => [k, config[k]]),
  );
}

export async function convertCheckpoint(options: ConvertOptions): Promise<ConvertResult> {
  const started = new Date();
  const dtype = options.dtype ?? 'fp32';
  if (!ONNX_DTYPES.includes(dtype))
    throw new RangeError(`dtype must be one of ${ONNX_DTYPES.join(', ')}, got ${dtype}`);
  const blockSize = options.blockSize ?? 32;
  checkBlockSize(blockSize);
  const variants = options.variants ?? ['optimum', 'kv-delta'];
  const out = resolve(options.out);
  checkOut(out, options.force);

  const source = await resolveSource(options.source, options);
  const configPath = join(source.dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${source.dir} has no config.json: not a Hugging Face model folder`);
  const config = readJsonObject(configPath, 'download the checkpoint again');
  const spec = readModelSpec(config, configPath);
  const weights = weightSpecs(spec);
  const checkpoint = Checkpoint.open(source.dir, spec, weights);
  const sourceBytes = checkpoint.bytesOf(weights.map((w) => w.name));
  const external =
    options.externalData === 'always' ||
    (options.externalData !== 'never' && convertedBytes(spec, dtype) > EXTERNAL_AUTO_BYTES);

  const staging = createStagingDir(out);
  mkdirSync(join(staging, 'onnx'));
  const progress = createProgress({
    label: `convert ${dtype}`,
    total: sourceBytes,
    bytes: true,
    mode: options.progress ?? 'auto',
  });
  let done = 0;
  const store = new WeightStore(
    checkpoint,
    dtype,
    blockSize,
    external ? { path: join(staging, 'onnx', 'model.onnx_data'), location: 'model.onnx_data' } : undefined,
    (bytes) => progress.update((done += bytes)),
  );
  try {
    const files: string[] = [];
    for (const variant of variants) {
      const g = new GraphBuilder();
      const w = convertedWeights(g, store, checkpoint);
      if (spec.kind === 'llama') {
        buildLlamaGraph(g, { ...spec, invFreq: ropeInverseFrequencies(spec) }, w, variant);
      } else {
        buildGptGraph(g, spec.cfg, w, variant);
      }
      const bytes = g.toBytes({
        graphName: `${spec.modelType}_${variant}`,
        docString: `${spec.architecture} converted by ipt-kit from ${options.source} (${dtype}, ${VARIANT_LABEL[variant]})`,
      });
      writeFileAtomic(join(staging, ONNX_FILES[variant]), bytes);
      files.push(ONNX_FILES[variant]);
    }
    store.close();
    if (external) files.push(join('onnx', 'model.onnx_data'));
    progress.stop();

    for (const name of COPIED) {
      if (!existsSync(join(source.dir, name))) continue;
      copyFileSync(join(source.dir, name), join(staging, name));
      files.push(name);
    }
    if (!files.includes('generation_config.json')) {
      writeJson(join(staging, 'generation_config.json'), generationConfig(config));
      files.push('generation_config.json');
    }
    writeJson(join(staging, 'config.json'), convertedConfig(config, dtype, external, source.input.name));
    files.push('config.json');
    const outputBytes = files.reduce((s, f) => s + statSync(join(staging, f)).size, 0);
    const seconds = (Date.now() - started.getTime()) / 1000;
    await writeManifest(staging, {
      command: options.command ?? ['ipt', 'convert', options.source, '--out', options.out, '--dtype', dtype],
      config: {
        dtype,
        blockSize: dtype === 'int4' ? blockSize : undefined,
        external,
        variants,
        architecture: spec.architecture,
        contextLimit: contextLimit(spec),
      },
      seeds: {},
      inputs: [source.input],
      outputs: files,
      startedAt: started,
      totals: { sourceBytes, outputBytes, tensors: weights.length },
      notes:
        spec.kind === 'llama' && spec.slidingWindow
          ? [
              `sliding_window ${spec.slidingWindow}: the converted graph attends to the whole context, so it matches the original model for sequences up to ${spec.slidingWindow} tokens, the limit the kit's engine applies`,
            ]
          : [],
    });
    checkpoint.close();
    commitStagingDir(staging, out);
    return { out, spec, dtype, external, files, sourceBytes, outputBytes, seconds, source: source.input };
  } catch (err) {
    progress.stop();
    store.close();
    checkpoint.close();
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
