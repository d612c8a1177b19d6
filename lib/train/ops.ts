// The model's building blocks as calls to the kernels: each method says in matrix terms what it
// computes and how its work is split between threads. Arguments are byte addresses in the heap
// (lib/train/heap.ts) and sizes; nothing here allocates. lib/train/reference.ts computes the same
// layers in plain scalar code.

import type { Heap } from './heap.js';
import type { KernelRunner } from './pool.js';

/** Rows per chunk of the sum over the batch in weight gradients (see gemmAtBPacked). */
export const AT_B_CHUNK = 128;

export type OpsScratch = {
  /** The B operand of a product packed into 8-column panels (see packPanels in asm/kernels.ts). */
  panels: number;
  /** Per-thread A tiles of the packed products: base address and bytes per thread (64 rows x the largest K). */
  tiles: number;
  tilesStride: number;
  /** Per-thread attention scratch: base address and bytes per thread. */
  attention: number;
  attentionStride: number;
  /** f64 partial sums for the gradient norm (gradientNormBlocks of them). */
  partials: number;
};

/** Elements per block of the gradient-norm sum (fixed, so the sum's order never depends on threads). */
const GRAD_NORM_BLOCK = 8192;

/** f64 partial sums `sumOfSquares` needs for n elements. */
export function gradientNormBlocks(n: number): number {
  return Math.ceil(n / GRAD_NORM_BLOCK);
}

export class Ops {
  constructor(
    readonly runner: KernelRunner,
    private readonly heap: Heap,
    private readonly scratch: OpsScratch,
  ) {}

  /** out[M, N] (+)= inp[M, K] @ w[K, N] (+ bias[N]; bias 0 means none). Split over rows. */
  matmul(out: number, inp: number, w: number, bias: number, M: number, K: number, N: number, accumulate = false): void {
    const s = this.scratch;
    this.runner.run('packPanels', N >> 3, 1, [s.panels, w, N, 1, K, N]);
    this.runner.run('gemmPacked', M, 4, [
      out,
      N,
      inp,
      K,
      1,
      s.panels,
      w,
      N,
      1,
      bias,
      K,
      N,
      accumulate ? 1 : 0,
      s.tiles,
      s.tilesStride,
    ]);
  }

  /** out[M, N] (+)= inp[M, K] @ wt[N, K]^T: wt is read transposed while it is packed. */
  matmulTransposed(out: number, inp: number, wt: number, M: number, K: number, N: number, accumulate = false): void {
    const s = this.scratch;
    this.runner.run('packPanels', N >> 3, 1, [s.panels, wt, 1, K, K, N]);
    this.runner.run('gemmPacked', M, 4, [
      out,
      N,
      inp,
      K,
      1,
      s.panels,
      wt,
      1,
      K,
      0,
      K,
      N,
      accumulate ? 1 : 0,
      s.tiles,
      s.tilesStride,
    ]);
  }

  /** out[K, N] (+)= a[M, K]^T @ b[M, N] (weight gradients). Split over output rows. */
  matmulAtB(out: number, a: number, b: number, M: number, K: number, N: number, accumulate = true): void {
    const s = this.scratch;
    this.runner.run('packPanels', N >> 3, 1, [s.panels, b, N, 1, M, N]);
    this.runner.run('gemmAtBPacked', K, 4, [
      out,
      a,
      s.panels,
      b,
      M,
      K,
      N,
      accumulate ? 1 : 0,
      AT_B_CHUNK,
      s.tiles,
      s.tilesStride,
    ]);
  }

  /** Causal self-attention over qkv [B, T, 3C]; keeps the probabilities att [B, H, T, T]. Split over (batch, head). */
  attentionForward(out: number, att: number, qkv: number, B: number, T: number, C: number, H: number): void {
    const s = this.scratch;
    this.runner.run('attentionForward', B * H, 1, [out, att, qkv, T, C, H, s.attention, s.attentionStride]);
  }

  /** Writes dqkv [B, T, 3C] from dout [B, T, C]. */
  attentionBackward(
    dqkv: number,
    dout: number,
    qkv: number,
    att: number,
    B: number,
    T: number,
    C: number,
    H: number,
  ): void {
    const s = this.scratch;
    this.runner.run('attentionBackward', B * H, 1, [dqkv, dout, qkv, att, T, C, H, s.attention, s.attentionStride]);
  }

  geluForward(out: number, inp: number, n: number): void {
    this.runner.run('geluForward', n, 4, [out, inp]);
  }

  /** d *= gelu'(inp) */
  geluBackward(d: number, inp: number, n: number): void {
    this.runner.run('geluBackward', n, 4, [d, inp]);
  }

  /** out = a + b over n elements. */
  add(out: number, a: number, b: number, n: number): void {
    this.runner.run('add', n, 4, [out, a, b]);
  }

  layernormForward(
    out: number,
    mean: number,
    rstd: number,
    inp: number,
    w: number,
    b: number,
    N: number,
    C: number,
    eps: number,
  ): void {
    this.runner.run('layernormForward', N, 1, [out, mean, rstd, inp, w, b, C, eps]);
  }

  /** dinp += d LayerNorm / d inp; dw, db += parameter gradients (split over columns). */
  layernormBackward(
    dinp: number,
    dw: number,
    db: number,
    dout: number,
    inp: number,
    w: number,
    mean: number,
    rstd: number,
    N: number,
    C: number,
  ): void {
    this.runner.run('layernormBackwardInput', N, 1, [dinp, dout, inp, w, mean, rstd, C]);
    this.runner.run('layernormBackwardParams', C, 4, [dw, db, dout, inp, mean, rstd, N, C]);
  }

  /** db[OC] += column sums of dout [N, OC]. */
  biasBackward(db: number, dout: number, N: number, OC: number): void {
    this.runner.run('biasBackward', OC, 4, [db, dout, N, OC]);
  }

  /** Backward of y[M, N] = x[M, K] @ W[K, N] + b:  dx = dy @ W^T;  dW += x^T @ dy;  db += column sums of dy. */
  linearBackward(
    dx: number,
    dW: number,
    db: number,
    dy: number,
    x: number,
    W: number,
    M: number,
    K: number,
    N: number,
  ): void {
    this.matmulTransposed(dx, dy, W, M, N, K);
    this.matmulAtB(dW, x, dy, M, K, N);
    this.biasBackward(db, dy, M, N);
  }

  embeddingForward(out: number, ids: number, wte: number, wpe: number, N: number, T: number, C: number): void {
    this.runner.run('embeddingForward', N, 1, [out, ids, wte, wpe, T, C]);
  }

  embeddingBackward(dwte: number, dwpe: number, dout: number, ids: number, N: number, T: number, C: number): void {
    this.runner.run('embeddingBackward', C, 4, [dwte, dwpe, dout, ids, N, T, C]);
  }

  /** Per-row cross-entropy into losses; logits are replaced by their weighted gradient. */
  crossEntropy(logits: number, targets: number, weights: number, losses: number, N: number, V: number): void {
    this.runner.run('crossEntropy', N, 1, [logits, targets, weights, losses, V]);
  }

  adamw(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    h: { beta1: number; beta2: number; eps: number; decay: number; stepSize: number; sqrtBc2: number; gscale: number },
  ): void {
    this.runner.run('adamw', n, 4, [p, g, m, v, h.beta1, h.beta2, h.eps, h.decay, h.stepSize, h.sqrtBc2, h.gscale]);
  }

  /** sum of g[i]^2 over n floats: f64 sums over fixed blocks (split between threads), added in block order. */
  sumOfSquares(g: number, n: number): number {
    const blocks = gradientNormBlocks(n);
    this.runner.run('sumSquares', blocks, 1, [this.scratch.partials, g, n, GRAD_NORM_BLOCK]);
    const partials = this.heap.f64(this.scratch.partials, blocks);
    let sum = 0;
    for (let i = 0; i < blocks; i++) sum += partials[i];
    return sum;
  }
}

/** Rows of A each thread packs at a time in the packed products (the block size in asm/kernels.ts). */
export const TILE_BLOCK_ROWS = 64;

/** Bytes of attention scratch one thread needs: K^T or V^T [hs, T], and dS [T, T]. */
export function attentionScratchBytes(T: number, headSize: number): number {
  return Math.ceil((4 * (headSize * T + T * T)) / 64) * 64;
}
