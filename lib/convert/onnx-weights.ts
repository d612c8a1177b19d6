// Checkpoint weights into ONNX initializers, one tensor at a time, in the precision asked for:
// - fp32: matrices float32, stored [in, out] for MatMul (torch Linear weights transposed here);
// - fp16: matrices and embedding tables float16 (half the size), multiplied in float16 between
//   casts; norms, biases, rotary positions, softmax and the residual stream stay float32, and the KV
//   cache is float16;
// - int4: every linear layer (the output layer included) as MatMulNBits with blocks of `blockSize`
//   (lib/convert/int4.ts), activations float32; embedding tables float32.
// Initializers live in the .onnx file for small models, or in one external data file beside the
// graphs (4096-byte aligned), which both graph variants share. A store remembers what it wrote, so
// the second graph reuses the first one's weights without reading the checkpoint again.

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { DataType, type ElemType, type ExternalData, type GraphBuilder } from '../engine/onnx-graph.js';
import type { CacheType, GraphWeights } from '../engine/onnx-decoder.js';
import { toHalf } from '../engine/float16.js';
import { quantizeInt4 } from './int4.js';
import type { Checkpoint } from './checkpoint.js';

export type OnnxDtype = 'fp32' | 'fp16' | 'int4';
export const ONNX_DTYPES: readonly OnnxDtype[] = ['fp32', 'fp16', 'int4'];

type Values = Float32Array | Uint16Array | Uint8Array;
type Stored = { dataType: ElemType; dims: number[]; external?: ExternalData; inline?: Values };

const ALIGN = 4096;
/** Rows per read when a table or matrix is streamed (keeps reads around tens of MB). */
const ROW_BYTES_PER_CHUNK = 32 * 2 ** 20;

function elemType(v: Values): ElemType {
  return v instanceof Float32Array ? DataType.FLOAT : v instanceof Uint16Array ? DataType.FLOAT16 : DataType.UINT8;
}

function asBytes(v: Values): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Where initializer bytes go: kept in memory for the graph file, or appended to an external data file. */
export class WeightStore {
  private readonly stored = new Map<string, Stored>();
  private readonly touched = new Set<string>();
  private readonly registered = new WeakMap<GraphBuilder, Set<string>>();
  private fd: number | undefined;
  private size = 0;

  constructor(
    private readonly checkpoint: Checkpoint,
    readonly dtype: OnnxDtype,
    readonly blockSize: number,
    /** External data file (its name is what graphs record) or undefined for inline initializers. */
    private readonly external: { path: string; location: string } | undefined,
    /** Called with the bytes of each checkpoint tensor the first time it is read. */
    private readonly onSourceTensor: (bytes: number) => void = () => {},
  ) {
    if (external) this.fd = openSync(external.path, 'w');
  }

  private source(name: string): void {
    if (this.touched.has(name)) return;
    this.touched.add(name);
    this.onSourceTensor(this.checkpoint.bytesOf([name]));
  }

  /** The initializer `key`, produced once (as chunks of one dtype), registered in `g` every time. */
  put(g: GraphBuilder, key: string, dims: number[], produce: () => Iterable<Values>): string {
    let s = this.stored.get(key);
    if (!s) {
      s = this.fd === undefined ? this.keep(dims, produce) : this.append(dims, produce);
      this.stored.set(key, s);
    }
    const inGraph = this.registered.get(g) ?? new Set<string>();
    this.registered.set(g, inGraph);
    if (inGraph.has(key)) return key;
    inGraph.add(key);
    if (s.external) g.externalInitializer(key, s.dataType, s.dims, s.external);
    else g.initializer(key, s.dims, s.inline! as Float32Array);
    return key;
  }

  private keep(dims: number[], produce: () => Iterable<Values>): Stored {
    const chunks = [...produce()];
    if (chunks.length === 1) return { dataType: elemType(chunks[0]), dims, inline: chunks[0] };
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const C = chunks[0].constructor as new (n: number) => Values;
    const all = new C(total);
    let at = 0;
    for (const c of chunks) {
      all.set(c as never, at);
      at += c.length;
    }
    return { dataType: elemType(all), dims, inline: all };
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd!, bytes, done, bytes.length - done);
    this.size += bytes.length;
  }

  private append(dims: number[], produce: () => Iterable<Values>): Stored {
    const pad = (ALIGN - (this.size % ALIGN)) % ALIGN;
    if (pad) this.write(new Uint8Array(pad));
    const offset = this.size;
    let dataType: ElemType = DataType.FLOAT;
    for (const chunk of produce()) {
      dataType = elemType(chunk);
      this.write(asBytes(chunk));
    }
    return { dataType, dims, external: { location: this.external!.location, offset, length: this.size - offset } };
  }

  /** Rows of a tensor in chunks of about ROW_BYTES_PER_CHUNK, as float32. */
  *rowChunks(name: string): Generator<Float32Array> {
    const t = this.checkpoint.tensor(name);
    const rows = t.shape.length ? t.shape[0] : 1;
    const rowValues = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const step = Math.max(1, Math.floor(ROW_BYTES_PER_CHUNK / (4 * rowValues)));
    this.source(name);
    for (let r = 0; r < rows; r += step) yield this.checkpoint.rows(name, r, Math.min(rows, r + step));
  }

  /** A 2-D tensor [rows, cols] transposed to [cols, rows], produced a band of output rows at a time. */
  *transposedChunks(name: string): Generator<Float32Array> {
    const [rows, cols] = this.checkpoint.tensor(name).shape;
    this.source(name);
    const src = this.checkpoint.rows(name);
    const step = Math.max(1, Math.floor(ROW_BYTES_PER_CHUNK / (4 * rows)));
    for (let c0 = 0; c0 < cols; c0 += step) {
      const c1 = Math.min(cols, c0 + step);
      const out = new Float32Array((c1 - c0) * rows);
      for (let r = 0; r < rows; r++) for (let c = c0; c < c1; c++) out[(c - c0) * rows + r] = src[r * cols + c];
      yield out;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The graph-facing side of a WeightStore: what each weight becomes in `g`. */
export function convertedWeights(g: GraphBuilder, store: WeightStore, checkpoint: Checkpoint): GraphWeights {
  const { dtype, blockSize } = store;
  const half = dtype === 'fp16';
  const shapeOf = (name: string) => checkpoint.tensor(name).shape;
  const inPrecision = (chunks: Iterable<Float32Array>) => (half ? map(chunks, toHalf) : chunks);
  const cast = (x: string, to: number) => g.op1('Cast', [x], { to: { i: to } });
  const table = (name: string) => store.put(g, name, shapeOf(name), () => inPrecision(store.rowChunks(name)));
  const matmul = (x: string, w: string) =>
    half ? cast(g.op1('MatMul', [cast(x, DataType.FLOAT16), w]), DataType.FLOAT) : g.op1('MatMul', [x, w]);

  /** MatMulNBits over a weight given as [N, K] rows (`rows` yields them in order). */
  const nbits = (x: string, key: string, N: number, K: number, rows: () => Iterable<Float32Array>) => {
    const blocks = Math.ceil(K / blockSize);
    let scales: Float32Array | undefined;
    const q = store.put(g, `${key}.q4`, [N, blocks, blockSize / 2], function* () {
      const parts: Float32Array[] = [];
      for (const chunk of rows()) {
        const n = chunk.length / K;
        const w = quantizeInt4(chunk, n, K, blockSize);
        parts.push(w.scales);
        yield w.packed;
      }
      scales = concat(parts);
    });
    const s = store.put(g, `${key}.scales`, [N * blocks], () => [scales ?? new Float32Array(0)]);
    return g.op1('com.microsoft:MatMulNBits', [x, q, s], {
      K: { i: K },
      N: { i: N },
      bits: { i: 4 },
      block_size: { i: blockSize },
    });
  };

  return {
    cacheType: (half ? 'float16' : 'float32') as CacheType,
    gather(name, ids) {
      const rows = g.op1('Gather', [table(name), ids], { axis: { i: 0 } });
      return half ? cast(rows, DataType.FLOAT) : rows;
    },
    vector: (name) => store.put(g, name, shapeOf(name), () => store.rowChunks(name)),
    linear(x, name, stored) {
      const [a, b] = shapeOf(name);
      const [N, K] = stored === 'out-in' ? [a, b] : [b, a];
      if (dtype === 'int4')
        return nbits(x, name, N, K, () => (stored === 'out-in' ? store.rowChunks(name) : store.transposedChunks(name)));
      const w = store.put(g, name, [K, N], () =>
        inPrecision(stored === 'out-in' ? store.transposedChunks(name) : store.rowChunks(name)),
      );
      return matmul(x, w);
    },
    tiedOutput(x, name) {
      const [V, C] = shapeOf(name);
      if (dtype === 'int4') return nbits(x, `${name}.output`, V, C, () => store.rowChunks(name));
      // ONNX Runtime folds the transpose of the table once, at load.
      return matmul(x, g.op1('Transpose', [table(name)], { perm: { ints: [1, 0] } }));
    },
  };
}

function* map<A, B>(items: Iterable<A>, f: (a: A) => B): Generator<B> {
  for (const a of items) yield f(a);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
