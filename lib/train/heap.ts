// One block of shared WebAssembly memory holds everything the model touches: parameters,
// gradients, optimizer moments, activations, inputs and scratch. Tensors are byte addresses in it,
// so the main thread, the worker threads and the wasm kernels all see the same data without
// copying. The layout is planned first (a bump allocator, `planGPTHeap` for the model), then the
// memory is created once at its final size; it never grows, so typed-array views over it stay valid.

import { gptTensorSpecs, type GPTConfig } from '../engine/gpt.js';
import { attentionScratchBytes, gradientNormBlocks, AT_B_CHUNK, TILE_BLOCK_ROWS, type OpsScratch } from './ops.js';
import { KERNEL_DATA_END } from './wasm.js';

const ALIGN = 64; // bytes: a cache line, and more than SIMD needs

/** A bump allocator over the heap's addresses: reserves regions one after another, aligned. */
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
  /** Bytes the heap needs for everything reserved so far. */
  get size(): number {
    return this.top;
  }
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly buffer: SharedArrayBuffer;
  /** A heap of at least `size` bytes (whole 64 KiB wasm pages). */
  constructor(size: number) {
    const pages = Math.ceil(size / 65536);
    if (pages > 65536)
      throw new RangeError(
        `the model needs ${(size / 2 ** 30).toFixed(1)} GiB of memory, more than wasm's 4 GiB: use a smaller batch or model`,
      );
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

// ---------------------------------------------------------------------------------------------
// The model's plan. Every field is a byte address in the heap. Shapes use N = maxBatch * T rows
// (T = contextLength), C = width, F = mlpRatio * C, H = heads, V = vocabSize; a forward pass on a
// smaller batch uses the first rows of each array.

/** One parameter tensor (Hugging Face GPT-2 name and shape) and where its values and gradient live. */
export type Tensor = {
  name: string;
  shape: number[];
  size: number;
  /** byte address of the values */ ptr: number;
  /** of the gradient (0 when not training) */ grad: number;
};

/** One block's activations, written by forward and read again by backward. */
export type BlockActivations = {
  /** ln_1 output [N, C], with each row's mean and 1/std [N] */
  ln1: number;
  ln1Mean: number;
  ln1Rstd: number;
  /** c_attn output: queries, keys and values side by side [N, 3C] */
  qkv: number;
  /** attention probabilities [maxBatch, H, T, T] */
  att: number;
  /** attention output before c_proj [N, C] */
  atty: number;
  /** residual stream after the attention half [N, C] */
  res2: number;
  /** ln_2 output [N, C], row means and 1/std [N] */
  ln2: number;
  ln2Mean: number;
  ln2Rstd: number;
  /** c_fc output [N, F] and its GELU [N, F] */
  fc: number;
  fcGelu: number;
  /** residual stream after the MLP half: the block's output [N, C] */
  res3: number;
};

/** Activation gradients of backward, reused by every block in turn. */
export type BackwardBuffers = {
  /** d loss / d residual stream [N, C], built up from the top block down */
  dres: number;
  /** d loss / d a LayerNorm's output [N, C] */
  dln: number;
  /** d loss / d attention output [N, C] */
  datty: number;
  /** d loss / d qkv [N, 3C] */
  dqkv: number;
  /** d loss / d c_fc output, then d loss / d its input through GELU [N, F] */
  dfc: number;
};

export type GPTHeapLayout = {
  /** Bytes of heap the model needs. */
  size: number;
  /** The parameters in gptTensorSpecs order, and their number. */
  tensors: Tensor[];
  numParams: number;
  /** Flat regions of numParams floats, tensors at the same offsets in each (0 when not training, except params). */
  params: number;
  grads: number;
  moment1: number;
  moment2: number;
  /** The batch, [N]: token ids, next-token ids, per-position loss weights, per-position losses. */
  inputs: number;
  targets: number;
  lossWeights: number;
  losses: number;
  /** Activations: the embedding x0 [N, C], each block's, ln_f [N, C] with row means and 1/std [N]. */
  embedding: number;
  blocks: BlockActivations[];
  lnf: number;
  lnfMean: number;
  lnfRstd: number;
  /** Logits [N, V]; after a forward with targets, d loss / d logits. */
  logits: number;
  /** Backward's activation gradients (undefined when not training). */
  backward: BackwardBuffers | undefined;
  /** The kernels' working space (lib/train/ops.ts). */
  scratch: OpsScratch;
};

/** Lays out a model of `cfg` for batches of up to `maxBatch` sequences run on `threads` threads. */
export function planGPTHeap(
  cfg: GPTConfig,
  options: { maxBatch: number; training: boolean; threads: number },
): GPTHeapLayout {
  const { maxBatch: B, training, threads } = options;
  const { contextLength: T, width: C, heads: H, vocabSize: V, layers: L } = cfg;
  const F = cfg.mlpRatio * C;
  const N = B * T;
  const h = new HeapPlan();
  const specs = gptTensorSpecs(cfg);
  const numParams = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const params = h.words(numParams);
  const grads = training ? h.words(numParams) : 0;
  const moment1 = training ? h.words(numParams) : 0;
  const moment2 = training ? h.words(numParams) : 0;
  const tensors: Tensor[] = [];
  let offset = 0;
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    tensors.push({
      name: s.name,
      shape: s.shape,
      size,
      ptr: params + 4 * offset,
      grad: training ? grads + 4 * offset : 0,
    });
    offset += size;
  }
  const inputs = h.words(N),
    targets = h.words(N),
    lossWeights = h.words(N),
    losses = h.words(N);
  const embedding = h.words(N * C);
  const blocks: BlockActivations[] = [];
  for (let l = 0; l < L; l++) {
    blocks.push({
      ln1: h.words(N * C),
      ln1Mean: h.words(N),
      ln1Rstd: h.words(N),
      qkv: h.words(N * 3 * C),
      att: h.words(B * H * T * T),
      atty: h.words(N * C),
      res2: h.words(N * C),
      ln2: h.words(N * C),
      ln2Mean: h.words(N),
      ln2Rstd: h.words(N),
      fc: h.words(N * F),
      fcGelu: h.words(N * F),
      res3: h.words(N * C),
    });
  }
  const lnf = h.words(N * C),
    lnfMean = h.words(N),
    lnfRstd = h.words(N);
  const logits = h.words(N * V);
  const backward = training
    ? {
        dres: h.words(N * C),
        dln: h.words(N * C),
        datty: h.words(N * C),
        dqkv: h.words(N * 3 * C),
        dfc: h.words(N * F),
      }
    : undefined;
  const attentionStride = attentionScratchBytes(T, C / H);
  // packed B: every weight (as is or transposed) and, for weight gradients, an activation gradient [N, <= max(F, 3C)]
  const panelFloats = Math.max(V * C, 3 * C * C, F * C, training ? N * Math.max(C, F, 3 * C) : 0);
  const tilesStride = 4 * TILE_BLOCK_ROWS * Math.max(C, F, 3 * C, V, AT_B_CHUNK);
  const scratch: OpsScratch = {
    panels: h.words(panelFloats),
    tiles: h.bytes(threads * tilesStride),
    tilesStride,
    attention: h.bytes(threads * attentionStride),
    attentionStride,
    partials: h.doubles(gradientNormBlocks(numParams)),
  };
  return {
    size: h.size,
    tensors,
    numParams,
    params,
    grads,
    moment1,
    moment2,
    inputs,
    targets,
    lossWeights,
    losses,
    embedding,
    blocks,
    lnf,
    lnfMean,
    lnfRstd,
    logits,
    backward,
    scratch,
  };
}
