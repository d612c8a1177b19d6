// GGUF, the file format llama.cpp runs (llama.cpp's docs/gguf.md, version 3): the magic "GGUF",
// version, tensor and key-value counts, typed key-value metadata, tensor infos (name, dimensions
// fastest-first, ggml type, offset), padding to `general.alignment` (32), then each tensor's data,
// itself aligned. Little-endian throughout.
//
// Written streaming: the caller declares every tensor (name, shape, type) first, since the header
// holds their offsets, then hands over the data in the same order, one tensor at a time. Types
// written: F32, F16 and Q8_0 (blocks of 32 values: a float16 scale d = max|x| / 127 and 32 int8
// q = round(x / d), rounded half away from zero, as ggml's reference quantizer does).

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { floatToHalf, toHalf } from '../engine/float16.js';

const GGML_TYPE = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlType = keyof typeof GGML_TYPE;

/** general.file_type for a file whose matrices are of this type. */
export const GGUF_FILE_TYPE: Record<GgmlType, number> = { F32: 0, F16: 1, Q8_0: 7 };

const ALIGNMENT = 32;
const Q8_BLOCK = 32;
const Q8_BYTES = 2 + Q8_BLOCK;

export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'f32s'; value: number[] | Float32Array }
  | { type: 'i32s'; value: number[] | Int32Array };

/** A tensor as the header declares it: `shape` in PyTorch order (slowest first), as in safetensors. */
export type GgufTensorInfo = { name: string; shape: number[]; type: GgmlType };

const VALUE_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

/** Bytes a tensor's data takes in a type (Q8_0 needs rows that are a multiple of 32 values). */
export function ggmlBytes(shape: number[], type: GgmlType): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (type === 'F32') return 4 * n;
  if (type === 'F16') return 2 * n;
  const row = shape[shape.length - 1];
  if (row % Q8_BLOCK !== 0) throw new RangeError(`Q8_0 needs rows of a multiple of ${Q8_BLOCK} values; got ${row}`);
  return (n / Q8_BLOCK) * Q8_BYTES;
}

/** Whether a tensor of this shape can be stored as Q8_0 (its rows split into whole blocks). */
export function canQ8(shape: number[]): boolean {
  return shape.length >= 2 && shape[shape.length - 1] % Q8_BLOCK === 0;
}

/** Rounding half away from zero, as ggml's reference Q8_0 quantizer. */
function roundAway(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/** float32 values in ggml's Q8_0 layout. */
export function quantizeQ8(values: Float32Array): Uint8Array {
  if (values.length % Q8_BLOCK !== 0)
    throw new RangeError(`Q8_0 needs a multiple of ${Q8_BLOCK} values; got ${values.length}`);
  const blocks = values.length / Q8_BLOCK;
  const out = new Uint8Array(blocks * Q8_BYTES);
  const scales = new Uint16Array(out.buffer); // a block is 34 bytes: its scale is the 17th uint16 of it
  const codes = new Int8Array(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const from = b * Q8_BLOCK;
    let amax = 0;
    for (let i = 0; i < Q8_BLOCK; i++) amax = Math.max(amax, Math.abs(values[from + i]));
    const d = amax / 127;
    const id = d === 0 ? 0 : 1 / d;
    scales[b * (Q8_BYTES / 2)] = floatToHalf(d);
    const to = b * Q8_BYTES + 2;
    for (let i = 0; i < Q8_BLOCK; i++) codes[to + i] = roundAway(values[from + i] * id);
  }
  return out;
}

/** float32 values encoded as a ggml type. */
function encodeGgml(values: Float32Array, type: GgmlType): Uint8Array {
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (type === 'Q8_0') return quantizeQ8(values);
  return new Uint8Array(toHalf(values).buffer);
}

class Bytes {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeValue(out: Bytes, v: GgufValue): void {
  switch (v.type) {
    case 'u32':
      out.u32(VALUE_TYPE.u32);
      return out.u32(v.value);
    case 'i32':
      out.u32(VALUE_TYPE.i32);
      return out.i32(v.value);
    case 'f32':
      out.u32(VALUE_TYPE.f32);
      return out.f32(v.value);
    case 'bool':
      out.u32(VALUE_TYPE.bool);
      return out.push(Buffer.from([v.value ? 1 : 0]));
    case 'string':
      out.u32(VALUE_TYPE.string);
      return out.string(v.value);
    case 'strings':
      out.u32(VALUE_TYPE.array);
      out.u32(VALUE_TYPE.string);
      out.u64(v.value.length);
      for (const s of v.value) out.string(s);
      return;
    case 'f32s':
      out.u32(VALUE_TYPE.array);
      out.u32(VALUE_TYPE.f32);
      out.u64(v.value.length);
      for (const x of v.value) out.f32(x);
      return;
    case 'i32s':
      out.u32(VALUE_TYPE.array);
      out.u32(VALUE_TYPE.i32);
      out.u64(v.value.length);
      for (const x of v.value) out.i32(x);
      return;
  }
}

const pad = (n: number) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;

/**
 * Writes a GGUF file: `open` with the metadata and tensor list writes the header; `write` takes each
 * tensor's float32 values in the declared order (encoded to its type here); `close` checks that every
 * tensor came and syncs the file. The caller renames a finished file into place.
 */
export class GgufWriter {
  private fd: number;
  private open = true;
  private next = 0;
  private written = 0;

  private constructor(
    private readonly path: string,
    private readonly tensors: GgufTensorInfo[],
  ) {
    this.fd = openSync(path, 'w');
  }

  static open(path: string, metadata: Record<string, GgufValue>, tensors: GgufTensorInfo[]): GgufWriter {
    const w = new GgufWriter(path, tensors);
    const head = new Bytes();
    head.push(Buffer.from('GGUF', 'latin1'));
    head.u32(3);
    head.u64(tensors.length);
    const kv = { ...metadata, 'general.alignment': { type: 'u32', value: ALIGNMENT } as GgufValue };
    head.u64(Object.keys(kv).length);
    for (const [key, value] of Object.entries(kv)) {
      head.string(key);
      writeValue(head, value);
    }
    let offset = 0;
    for (const t of tensors) {
      if (Buffer.byteLength(t.name) > 64) throw new RangeError(`GGUF tensor names have at most 64 bytes: ${t.name}`);
      head.string(t.name);
      head.u32(t.shape.length);
      for (const d of [...t.shape].reverse()) head.u64(d); // ggml counts dimensions fastest first
      head.u32(GGML_TYPE[t.type]);
      head.u64(offset);
      const bytes = ggmlBytes(t.shape, t.type);
      offset += bytes + pad(bytes);
    }
    head.push(Buffer.alloc(pad(head.length)));
    w.put(head.concat());
    return w;
  }

  private put(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    this.written += bytes.length;
  }

  /** The next declared tensor's values (float32, PyTorch order). */
  write(name: string, values: Float32Array): void {
    const t = this.tensors[this.next];
    if (!t || t.name !== name) throw new Error(`GGUF writer: expected tensor ${t?.name ?? '(none)'}, got ${name}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (values.length !== count)
      throw new Error(`GGUF writer: ${name} has ${values.length} values for shape [${t.shape}]`);
    const bytes = encodeGgml(values, t.type);
    this.put(bytes);
    this.put(Buffer.alloc(pad(bytes.length)));
    this.next++;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.written;
  }

  close(): void {
    if (this.next !== this.tensors.length)
      throw new Error(`GGUF writer: ${this.tensors.length - this.next} tensors of ${this.path} were never written`);
    fsyncSync(this.fd);
    this.abandon();
  }

  /** Closes without the checks (after an error; the caller removes the file). */
  abandon(): void {
    if (this.open) closeSync(this.fd);
    this.open = false;
  }
}
