// One block of shared WebAssembly memory holds everything the model touches: parameters,
// gradients, optimizer moments, activations, inputs and scratch. Tensors are byte addresses in it,
// so the main thread, the worker threads and the wasm kernels all see the same data without
// copying. The layout is planned first (a bump allocator), then the memory is created once at its
// final size; it never grows, so typed-array views over it stay valid.

import { KERNEL_DATA_END } from './wasm.js';

const ALIGN = 64; // bytes: a cache line, and more than SIMD needs

export class HeapPlan {
  private top = KERNEL_DATA_END;
  /** Reserves `count` elements of 4 bytes (f32 or i32); returns the byte address. */
  words(count: number): number {
    return this.bytes(4 * count);
  }
  /** Reserves `count` f64 values; returns the byte address. */
  doubles(count: number): number {
    return this.bytes(8 * count);
  }
  bytes(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`heap: cannot reserve ${n} bytes`);
    const at = this.top;
    this.top += Math.ceil(n / ALIGN) * ALIGN;
    return at;
  }
  get size(): number {
    return this.top;
  }
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly buffer: SharedArrayBuffer;
  constructor(plan: HeapPlan) {
    const pages = Math.ceil(plan.size / 65536);
    if (pages > 65536) throw new RangeError(`the model needs ${(plan.size / 2 ** 30).toFixed(1)} GiB of memory, more than wasm's 4 GiB: use a smaller batch or model`);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.buffer = this.memory.buffer as unknown as SharedArrayBuffer;
  }
  f32(ptr: number, count: number): Float32Array {
    return new Float32Array(this.buffer, ptr, count);
  }
  i32(ptr: number, count: number): Int32Array {
    return new Int32Array(this.buffer, ptr, count);
  }
  f64(ptr: number, count: number): Float64Array {
    return new Float64Array(this.buffer, ptr, count);
  }
  get bytes(): number {
    return this.buffer.byteLength;
  }
}
