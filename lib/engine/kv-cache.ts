// The growing KV cache of one generation batch, in the two layouts OnnxCausalLM runs (see
// decoder-config.ts): the Optimum round trip, where the graph returns the whole cache each step,
// and kv-delta, where the engine owns the buffers and writes in the new rows the graph returns.

import ort from 'onnxruntime-node';
import type { DecoderLayout } from './decoder-config.js';

export type CacheArray = Float32Array | Uint16Array;

/**
 * The growing cache of one batch. `rows` is the current batch size, `length` the tokens it holds;
 * `columns(length)` is how many attention-mask columns the cache input takes (its slots).
 */
export interface KvCache {
  columns(length: number): number;
  feed(feeds: Record<string, ort.Tensor>, rows: number, length: number): void;
  absorb(outputs: ort.InferenceSession.OnnxValueMapType, rows: number, length: number, added: number): void;
  compact(keep: number[], rows: number, length: number): void;
}

function cacheArray(type: DecoderLayout['cacheType'], n: number): CacheArray {
  return type === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

/** Optimum layout: the graph returns the whole cache [B, H, T, D] each step; feed it straight back. */
export class FullCache implements KvCache {
  private values: Array<ort.Tensor | undefined>;
  constructor(private readonly l: DecoderLayout) {
    this.values = l.pastNames.map(() => undefined);
  }
  columns(length: number): number {
    return length;
  }
  feed(feeds: Record<string, ort.Tensor>, rows: number, length: number): void {
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    this.l.pastNames.forEach((name, i) => {
      feeds[name] = this.values[i] ?? new ort.Tensor(cacheType, cacheArray(cacheType, 0), [rows, H, length, D]);
    });
  }
  absorb(outputs: ort.InferenceSession.OnnxValueMapType): void {
    this.values = this.l.returnNames.map((name) => outputs[name] as ort.Tensor);
  }
  compact(keep: number[], _rows: number, length: number): void {
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    const block = H * length * D;
    this.values = this.values.map((t) => {
      if (!t) return t;
      const src = t.data as CacheArray;
      const dst = cacheArray(cacheType, keep.length * block);
      keep.forEach((b, j) => dst.set(src.subarray(b * block, (b + 1) * block), j * block));
      return new ort.Tensor(cacheType, dst, [keep.length, H, length, D]);
    });
  }
}

/**
 * kv-delta layout: the engine owns one buffer [B, H, capacity, D] per cache input and passes it
 * whole (zero copy); free slots are masked. The graph returns only the new rows, written here into
 * their slots. Capacity grows in chunks so attention over empty slots stays small.
 */
export class DeltaCache implements KvCache {
  static readonly CHUNK = 64;
  private buffers: CacheArray[];
  private capacity = 0;
  constructor(
    private readonly l: DecoderLayout,
    private readonly maxLength: number,
  ) {
    this.buffers = l.pastNames.map(() => cacheArray(l.cacheType, 0));
  }
  columns(length: number): number {
    return length === 0 ? 0 : this.capacity;
  }
  feed(feeds: Record<string, ort.Tensor>, rows: number, length: number): void {
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    const slots = this.columns(length);
    this.l.pastNames.forEach((name, i) => {
      feeds[name] = new ort.Tensor(cacheType, slots === 0 ? cacheArray(cacheType, 0) : this.buffers[i], [
        rows,
        H,
        slots,
        D,
      ]);
    });
  }
  private grow(rows: number, length: number, needed: number): void {
    if (needed <= this.capacity) return;
    const capacity = Math.min(this.maxLength, Math.ceil(needed / DeltaCache.CHUNK) * DeltaCache.CHUNK);
    const { kvHeads: H, headDim: D, cacheType } = this.l;
    this.buffers = this.buffers.map((old) => {
      const fresh = cacheArray(cacheType, rows * H * capacity * D);
      for (let bh = 0; bh < rows * H; bh++)
        fresh.set(old.subarray(bh * this.capacity * D, (bh * this.capacity + length) * D), bh * capacity * D);
      return fresh;
    });
    this.capacity = capacity;
  }
  absorb(outputs: ort.InferenceSession.OnnxValueMapType, rows: number, length: number, added: number): void {
    this.grow(rows, length, length + added);
    const { kvHeads: H, headDim: D } = this.l;
    const cap = this.capacity;
    this.l.returnNames.forEach((name, i) => {
      const delta = (outputs[name] as ort.Tensor).data as CacheArray;
      if (delta.length !== rows * H * added * D)
        throw new Error(`cache output ${name} has ${delta.length} values, expected ${rows * H * added * D}`);
      const buffer = this.buffers[i];
      const run = added * D;
      for (let bh = 0; bh < rows * H; bh++) {
        const from = bh * run;
        const to = (bh * cap + length) * D;
        if (run <= 64) for (let e = 0; e < run; e++) buffer[to + e] = delta[from + e];
        else buffer.set(delta.subarray(from, from + run), to);
      }
    });
  }
  compact(keep: number[], _rows: number, _length: number): void {
    // In place, front to back: a row only ever moves to a lower offset. The buffer keeps its size.
    const block = this.l.kvHeads * this.capacity * this.l.headDim;
    this.buffers = this.buffers.map((buffer) => {
      keep.forEach((b, j) => {
        if (b !== j) buffer.copyWithin(j * block, b * block, (b + 1) * block);
      });
      return buffer.subarray(0, keep.length * block);
    });
  }
}
