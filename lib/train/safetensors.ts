// The safetensors format (huggingface/safetensors), for checkpoints and exported weights:
// 8 bytes little-endian header length N, N bytes of JSON header {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw little-endian
// tensor bytes. Reading checks everything a truncated or corrupt file could get wrong.

import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { writeFileAtomic } from '../repro/files.js';

export type SafetensorsDtype = 'F32' | 'I32' | 'F64';
type TypedArray = Float32Array | Int32Array | Float64Array;
export type SafeTensor = { dtype: SafetensorsDtype; shape: number[]; data: TypedArray };
export type SafetensorsFile = { tensors: Record<string, SafeTensor>; metadata: Record<string, string> };

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, I32: 4, F64: 8 };
const MAX_HEADER = 100 * 2 ** 20;

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: this reader and writer need a little-endian machine');
}

/** A tensor to write: typed values, or 16-bit floats as bit patterns with their dtype. */
export type TensorToWrite =
  | { shape: number[]; data: TypedArray }
  | { shape: number[]; data: Uint16Array; dtype: 'F16' | 'BF16' };

function dtypeOf(t: TensorToWrite): string {
  if ('dtype' in t) return t.dtype;
  if (t.data instanceof Float32Array) return 'F32';
  if (t.data instanceof Int32Array) return 'I32';
  return 'F64';
}

/** Tensors in the given order; each shape must match its data length. */
export function encodeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Uint8Array {
  assertLittleEndian();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" cannot name a tensor');
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const dtype = dtypeOf(t);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** A tensor's place in a file: its dtype as written, shape, and byte range within the data section. */
export type SafetensorsEntry = { name: string; dtype: string; shape: number[]; begin: number; end: number };
export type SafetensorsHeader = { entries: SafetensorsEntry[]; metadata: Record<string, string>; dataStart: number };

/** Bytes per value of the dtypes a header may name (huggingface/safetensors' list). */
export const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

function invalid(source: string, why: string): Error {
  return new Error(
    `${source} is not a valid safetensors file: ${why} (re-create it; a partial download or an interrupted write leaves such files)`,
  );
}

/**
 * Checks a header against the data it describes (`dataLength` bytes after it): every entry's shape,
 * dtype and byte range, no overlap or hole, nothing past the end. The one header reader of the kit:
 * checkpoints are decoded whole through it, converted models are streamed tensor by tensor.
 */
export function parseSafetensorsHeader(
  json: Uint8Array,
  dataStart: number,
  dataLength: number,
  source = 'safetensors data',
): SafetensorsHeader {
  const bad = (why: string) => invalid(source, why);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    throw bad('the header is not JSON');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad('the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(`metadata ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    if (!(dtype in DTYPE_BYTES)) throw bad(`${name} has unknown dtype ${dtype}`);
    const shape = e.shape as number[];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw bad(`${name} has no valid shape`);
    const offsets = e.data_offsets as number[];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0))
      throw bad(`${name} has no valid data_offsets`);
    const [begin, end] = offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * DTYPE_BYTES[dtype])
      throw bad(`${name}: ${end - begin} bytes for shape [${shape}] of ${dtype}`);
    if (end > dataLength) throw bad(`${name} ends at byte ${end} but the data has ${dataLength} bytes (truncated?)`);
    entries.push({ name, dtype, shape, begin, end });
  }
  const spans = [...entries].sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const { begin, end, name } of spans) {
    if (begin !== expected) throw bad(`${name} starts at ${begin}, expected ${expected} (overlap or hole)`);
    expected = end;
  }
  if (expected !== dataLength) throw bad(`the tensors cover ${expected} of ${dataLength} data bytes`);
  return { entries, metadata, dataStart };
}

function headerLength(head: Uint8Array, total: number, source: string): number {
  if (total < 8) throw invalid(source, 'shorter than its 8-byte header length');
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > total) throw invalid(source, `header length ${n} does not fit in ${total} bytes`);
  return n;
}

/** The header of a safetensors file, read without its data (for files larger than memory). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  assertLittleEndian();
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, Math.min(8, total), 0);
    const n = headerLength(head, total, path);
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    return parseSafetensorsHeader(json, 8 + n, total - 8 - n, path);
  } finally {
    closeSync(fd);
  }
}

export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  assertLittleEndian();
  const n = headerLength(bytes, bytes.length, source);
  const dataStart = 8 + n;
  const { entries, metadata } = parseSafetensorsHeader(
    bytes.subarray(8, dataStart),
    dataStart,
    bytes.length - dataStart,
    source,
  );
  const tensors: Record<string, SafeTensor> = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    if (!(dtype in BYTES)) throw invalid(source, `${name} has dtype ${dtype}; the kit reads F32, I32 and F64`);
    // a copy (not Buffer#slice, which shares memory): aligned, and independent of the file buffer
    const slice = new Uint8Array(end - begin);
    slice.set(bytes.subarray(dataStart + begin, dataStart + end));
    const data =
      dtype === 'F32'
        ? new Float32Array(slice.buffer)
        : dtype === 'I32'
          ? new Int32Array(slice.buffer)
          : new Float64Array(slice.buffer);
    tensors[name] = { dtype: dtype as SafetensorsDtype, shape, data };
  }
  return { tensors, metadata };
}

export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function readSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readFileSync(path), path);
}
