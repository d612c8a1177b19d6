// A Hugging Face checkpoint folder read tensor by tensor: `model.safetensors`, or the shards a
// `model.safetensors.index.json` names. Only headers are read up front; a tensor's bytes are read
// when the converter asks for them (whole, or a range of rows), and F32, F16 and BF16 come back as
// float32. Before anything is converted, every weight the architecture needs is checked for
// presence, shape and dtype, so a broken checkpoint fails before a byte is written.

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../train/safetensors.js';
import { readJsonObject } from '../repro/files.js';
import { fromBfloat16, fromHalf } from '../engine/float16.js';
import { UnsupportedModelError, type ModelSpec, type WeightSpec } from './hf-config.js';

export type FloatDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<FloatDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** Where one tensor's bytes are: file, absolute offset, dtype and shape. */
export type CheckpointTensor = { name: string; file: string; offset: number; dtype: FloatDtype; shape: number[] };

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

/** The safetensors files of a checkpoint folder, in the order the index lists them. */
export function checkpointFiles(dir: string): string[] {
  const index = join(dir, INDEX_FILE);
  if (existsSync(index)) {
    const map = readJsonObject(index, 'download the checkpoint again').weight_map;
    if (!map || typeof map !== 'object' || Array.isArray(map))
      throw new Error(`${index}: no "weight_map" object; download the checkpoint again`);
    const files = [...new Set(Object.values(map as Record<string, unknown>).map(String))];
    if (files.length === 0) throw new Error(`${index}: the weight_map is empty`);
    return files;
  }
  if (existsSync(join(dir, SINGLE_FILE))) return [SINGLE_FILE];
  if (existsSync(join(dir, 'pytorch_model.bin')) || existsSync(join(dir, 'pytorch_model.bin.index.json'))) {
    throw new UnsupportedModelError(
      `${dir} has only PyTorch .bin weights; the converter reads safetensors (model.safetensors or ${INDEX_FILE} with its shards)`,
    );
  }
  throw new Error(`${dir} has no ${SINGLE_FILE} and no ${INDEX_FILE}: not a Hugging Face safetensors checkpoint`);
}

/** Tensor names as the graph writers use them: GPT-2 checkpoints saved by newer transformers prefix "transformer.". */
function canonicalName(spec: ModelSpec, name: string): string {
  return spec.kind === 'gpt2' && name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
}

export class Checkpoint {
  private readonly fds = new Map<string, number>();

  private constructor(
    readonly dir: string,
    readonly files: string[],
    private readonly tensors: Map<string, CheckpointTensor>,
  ) {}

  /** Opens a checkpoint and checks that it holds `weights` with their shapes, in F32, F16 or BF16. */
  static open(dir: string, spec: ModelSpec, weights: WeightSpec[]): Checkpoint {
    const files = checkpointFiles(dir);
    const tensors = new Map<string, CheckpointTensor>();
    for (const file of files) {
      const path = join(dir, file);
      if (!existsSync(path))
        throw new Error(`${path} is missing: ${INDEX_FILE} lists it; download the checkpoint again`);
      const header = readSafetensorsHeader(path);
      for (const e of header.entries) {
        tensors.set(canonicalName(spec, e.name), {
          name: e.name,
          file: path,
          offset: header.dataStart + e.begin,
          dtype: e.dtype as FloatDtype,
          shape: e.shape,
        });
      }
    }
    const problems: string[] = [];
    for (const w of weights) {
      const t = tensors.get(w.name);
      if (!t) problems.push(`${w.name} is missing`);
      else if (t.shape.join('x') !== w.shape.join('x'))
        problems.push(`${w.name} has shape [${t.shape}], config.json implies [${w.shape}]`);
      else if (!(t.dtype in BYTES)) problems.push(`${w.name} is ${t.dtype}; the converter reads F32, F16 and BF16`);
    }
    if (problems.length) {
      const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
      throw new Error(`${dir}: the weights do not match config.json: ${shown}`);
    }
    return new Checkpoint(dir, files, tensors);
  }

  tensor(name: string): CheckpointTensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.dir}: no tensor ${name}`);
    return t;
  }

  /** Bytes on disk of the given tensors. */
  bytesOf(names: string[]): number {
    return names.reduce((s, n) => {
      const t = this.tensor(n);
      return s + t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    }, 0);
  }

  /** Rows [start, end) of a tensor (the first dimension; all of a 1-D tensor), as float32. */
  rows(name: string, start = 0, end?: number): Float32Array {
    const t = this.tensor(name);
    const rowValues = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const stop = end ?? (t.shape.length === 0 ? 1 : t.shape[0]);
    const count = (stop - start) * rowValues;
    const bytes = Buffer.allocUnsafe(count * BYTES[t.dtype]);
    this.readAt(t.file, bytes, t.offset + start * rowValues * BYTES[t.dtype]);
    if (t.dtype === 'F32') return new Float32Array(bytes.buffer, bytes.byteOffset, count).slice();
    const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    return t.dtype === 'BF16' ? fromBfloat16(bits) : fromHalf(bits);
  }

  private readAt(file: string, into: Buffer, position: number): void {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      fd = openSync(file, 'r');
      this.fds.set(file, fd);
    }
    let done = 0;
    while (done < into.length) {
      const n = readSync(fd, into, done, into.length - done, position + done);
      if (n === 0) throw new Error(`${file} ends early (truncated download?)`);
      done += n;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
