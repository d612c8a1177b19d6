// The training engine's hot loops, in AssemblyScript compiled to WebAssembly with 128-bit SIMD.
// (This file is AssemblyScript, not TypeScript: `asc` compiles it, `tsc` skips it.)
//
// Every pointer is a byte address in one linear memory that the JavaScript side creates, shares
// with the worker threads and lays out itself (lib/train/heap.ts); the kernels allocate nothing.
// Every exported kernel ends with a work range [start, end) and optionally the thread id: the
// pool (lib/train/pool.ts) splits [0, total) between threads, and each thread runs the kernel on
// its part. Kernels are written so that the value of every output element is computed the same
// way whatever the range, which is what makes training bit-identical across thread counts:
// - work is split over output rows, (batch, head) pairs or output columns, never over a sum;
// - each sum runs in a fixed order (SIMD lanes hold different outputs, not parts of one sum);
// - no fused multiply-add (relaxed SIMD would make results hardware-dependent).

// ---------------------------------------------------------------------------------------------
// Small helpers

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline function f(p: usize): f32 {
  return load<f32>(p);
}

// exp(x) for 4 lanes, Cephes expf: x = n*ln2 + r, |r| <= ln2/2, a degree-6 polynomial for e^r,
// and 2^n built in the exponent bits. Relative error about 1e-7 over the clamped range.
// @ts-ignore: decorator
@inline function exp4(x0: v128): v128 {
  const x1 = f32x4.min(f32x4.max(x0, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x1, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  let x = f32x4.sub(x1, f32x4.mul(n, f32x4.splat(0.693359375)));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(x, x);
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), x), f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

// The same function for one value (tails of rows), so a row never mixes two approximations.
// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

// tanh for 4 lanes: Eigen's rational approximation (ptanh_float), error about 1e-7.
// @ts-ignore: decorator
@inline function tanh4(x0: v128): v128 {
  const clamp = f32x4.splat(7.90531110763549805);
  const x = f32x4.min(f32x4.max(x0, f32x4.neg(clamp)), clamp);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(1.19825839466702e-6);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.18534705686654e-4));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-3));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-3));
  return f32x4.div(p, q);
}

// ---------------------------------------------------------------------------------------------
// Matrix multiply
//
// out[i, j] = (accumulate ? out[i, j] : 0) + sum_k A[i, k] * B[k, j] (+ bias[j] when bias != 0)
// for rows i in [r0, r1) and all columns j < N. A is addressed with any strides (sAi, sAk), so a
// transposed A costs nothing; B's rows are contiguous (stride ldb). The core is a 4x8 register
// tile: 8 SIMD accumulators, 4 broadcasts of A and 2 loads of B per k. Edge rows and columns use
// 1x8 and scalar loops that do the same operations in the same order as a tile lane does.

// The 4x8 tile's epilogue, shared by both tiles: row r's accumulators (cr0, cr1) plus the previous
// output when accumulating, then the bias, stored to out + r*so. Inlined, so the accumulators stay
// in registers.
// @ts-ignore: decorator
@inline function storeTile4x8(out: usize, so: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128,
                              c30: v128, c31: v128, pbias: usize, accumulate: i32): void {
  const o0 = out, o1 = out + so, o2 = out + 2 * so, o3 = out + 3 * so;
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(o0)); c01 = f32x4.add(c01, v128.load(o0, 16));
    c10 = f32x4.add(c10, v128.load(o1)); c11 = f32x4.add(c11, v128.load(o1, 16));
    c20 = f32x4.add(c20, v128.load(o2)); c21 = f32x4.add(c21, v128.load(o2, 16));
    c30 = f32x4.add(c30, v128.load(o3)); c31 = f32x4.add(c31, v128.load(o3, 16));
  }
  if (pbias) {
    const bb0 = v128.load(pbias), bb1 = v128.load(pbias, 16);
    c00 = f32x4.add(c00, bb0); c01 = f32x4.add(c01, bb1); c10 = f32x4.add(c10, bb0); c11 = f32x4.add(c11, bb1);
    c20 = f32x4.add(c20, bb0); c21 = f32x4.add(c21, bb1); c30 = f32x4.add(c30, bb0); c31 = f32x4.add(c31, bb1);
  }
  v128.store(o0, c00); v128.store(o0, c01, 16);
  v128.store(o1, c10); v128.store(o1, c11, 16);
  v128.store(o2, c20); v128.store(o2, c21, 16);
  v128.store(o3, c30); v128.store(o3, c31, 16);
}

// @ts-ignore: decorator
@inline function tile4x8(out: usize, so: usize, pa: usize, sr: usize, sa: usize, pb: usize, sb: usize, K: i32, pbias: usize, accumulate: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa0 = pa, pa1 = pa + sr, pa2 = pa + 2 * sr, pa3 = pa + 3 * sr;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = f32x4.splat(f(pa0)), a1 = f32x4.splat(f(pa1)), a2 = f32x4.splat(f(pa2)), a3 = f32x4.splat(f(pa3));
    c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa0 += sa; pa1 += sa; pa2 += sa; pa3 += sa; pb += sb;
  }
  storeTile4x8(out, so, c00, c01, c10, c11, c20, c21, c30, c31, pbias, accumulate);
}

// @ts-ignore: decorator
@inline function tile1x8(out: usize, pa: usize, sa: usize, pb: usize, sb: usize, K: i32, pbias: usize, accumulate: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const a = f32x4.splat(f(pa));
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(pb))); c1 = f32x4.add(c1, f32x4.mul(a, v128.load(pb, 16)));
    pa += sa; pb += sb;
  }
  if (accumulate) { c0 = f32x4.add(c0, v128.load(out)); c1 = f32x4.add(c1, v128.load(out, 16)); }
  if (pbias) { c0 = f32x4.add(c0, v128.load(pbias)); c1 = f32x4.add(c1, v128.load(pbias, 16)); }
  v128.store(out, c0); v128.store(out, c1, 16);
}

// @ts-ignore: decorator
@inline function dot1x1(out: usize, pa: usize, sa: usize, pb: usize, sb: usize, K: i32, pbias: usize, accumulate: i32): void {
  let c: f32 = 0;
  for (let k = 0; k < K; k++) { c += f(pa) * f(pb); pa += sa; pb += sb; }
  if (accumulate) c += f(out);
  if (pbias) c += f(pbias);
  store<f32>(out, c);
}

/** out[M, N] (+)= A[M, K] @ B[K, N] (+ bias), rows [r0, r1). Attention's products, unpacked. */
export function gemm(out: usize, ldc: i32, A: usize, sAi: i32, sAk: i32, B: usize, ldb: i32,
                     bias: usize, K: i32, N: i32, accumulate: i32, r0: i32, r1: i32): void {
  const sr = <usize>sAi << 2, sa = <usize>sAk << 2, sb = <usize>ldb << 2, so = <usize>ldc << 2;
  const N8 = N & ~7;
  // Blocks of 64 rows keep a K x 8 strip of B in the L1 cache while it is reused.
  for (let ib = r0; ib < r1; ib += 64) {
    const ie = min(ib + 64, r1);
    for (let j = 0; j < N8; j += 8) {
      const pb = B + (<usize>j << 2), pbias = bias ? bias + (<usize>j << 2) : 0;
      let i = ib;
      for (; i + 4 <= ie; i += 4) tile4x8(out + <usize>i * so + (<usize>j << 2), so, A + <usize>i * sr, sr, sa, pb, sb, K, pbias, accumulate);
      for (; i < ie; i++) tile1x8(out + <usize>i * so + (<usize>j << 2), A + <usize>i * sr, sa, pb, sb, K, pbias, accumulate);
    }
    for (let j = N8; j < N; j++) {
      const pb = B + (<usize>j << 2), pbias = bias ? bias + (<usize>j << 2) : 0;
      for (let i = ib; i < ie; i++) dot1x1(out + <usize>i * so + (<usize>j << 2), A + <usize>i * sr, sa, pb, sb, K, pbias, accumulate);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Packed matrix multiply: the model's big products. Both operands are first copied into the order
// the 4x8 tile reads them (GotoBLAS-style packing), so every load in the inner loop is sequential:
// - B (a weight, or an activation gradient for weight gradients) into panels of 8 columns,
//   [panel][k][8], by `packPanels`, split over panels, before the product;
// - A, by each thread for its own block of 64 rows, into tiles of 4 rows, [tile][k][4], in a
//   scratch area of its own.
// The arithmetic per output element is exactly gemm's: the results are bit-identical to it.

/** Packs full 8-column panels [p0, p1) of B (element (k, j) at B + 4*(k*sBk + j*sBj)) into P. */
export function packPanels(P: usize, B: usize, sBk: i32, sBj: i32, K: i32, N: i32, p0: i32, p1: i32): void {
  const bk = <usize>sBk << 2, bj = <usize>sBj << 2;
  for (let p = p0; p < p1; p++) {
    const dst = P + (<usize>p * <usize>K << 5);
    const src = B + <usize>(p << 3) * bj;
    if (sBj == 1) {
      for (let k = 0; k < K; k++) {
        const s = src + <usize>k * bk, d = dst + (<usize>k << 5);
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
      }
    } else {
      for (let jj = 0; jj < 8; jj++) {
        const sj = src + <usize>jj * bj, dj = dst + (<usize>jj << 2);
        for (let k = 0; k < K; k++) store<f32>(dj + (<usize>k << 5), f(sj + <usize>k * bk));
      }
    }
  }
}

// Packs rows [i, i + 4*tiles) of A, columns [k0, k0 + K), into Q as [tile][k][4].
// @ts-ignore: decorator
@inline function packTiles(Q: usize, A: usize, sAi: i32, sAk: i32, i: i32, tiles: i32, k0: i32, K: i32): void {
  const sr = <usize>sAi << 2, sa = <usize>sAk << 2;
  for (let t = 0; t < tiles; t++) {
    const q = Q + (<usize>t * <usize>K << 4);
    const a = A + <usize>(i + 4 * t) * sr + <usize>k0 * sa;
    if (sAi == 1) {
      // the 4 rows of a tile are adjacent: one load per k (transposed A, weight gradients)
      for (let k = 0; k < K; k++) v128.store(q + (<usize>k << 4), v128.load(a + <usize>k * sa));
    } else if (sAk == 1) {
      // rows are contiguous along k: 4x4 blocks transposed with shuffles
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const o = <usize>k << 2;
        const r0 = v128.load(a + o), r1 = v128.load(a + sr + o), r2 = v128.load(a + 2 * sr + o), r3 = v128.load(a + 3 * sr + o);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const d = q + (<usize>k << 4);
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
      }
      for (; k < K; k++) for (let r = 0; r < 4; r++) store<f32>(q + (<usize>(4 * k + r) << 2), f(a + <usize>r * sr + (<usize>k << 2)));
    } else {
      for (let k = 0; k < K; k++) for (let r = 0; r < 4; r++) store<f32>(q + (<usize>(4 * k + r) << 2), f(a + <usize>r * sr + <usize>k * sa));
    }
  }
}

// The 4x8 tile over packed operands: pa walks [k][4], pb walks [k][8].
// @ts-ignore: decorator
@inline function tilePacked(out: usize, so: usize, pa: usize, pb: usize, K: i32, pbias: usize, accumulate: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa), a1 = v128.load32_splat(pa, 4), a2 = v128.load32_splat(pa, 8), a3 = v128.load32_splat(pa, 12);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa += 16; pb += 32;
  }
  storeTile4x8(out, so, c00, c01, c10, c11, c20, c21, c30, c31, pbias, accumulate);
}

// One block of rows [ib, ie) against columns [0, N), over the k range [k0, k0 + K) of A and B
// (P holds B's panels for those k, with `pstride` k-rows per panel). Q is the thread's A scratch.
function packedBlock(out: usize, ldc: i32, A: usize, sAi: i32, sAk: i32, P: usize, pstride: i32, B: usize, sBk: i32, sBj: i32,
                     bias: usize, k0: i32, K: i32, N: i32, accumulate: i32, Q: usize, ib: i32, ie: i32): void {
  const so = <usize>ldc << 2, sr = <usize>sAi << 2, sa = <usize>sAk << 2;
  const tiles = (ie - ib) >> 2, N8 = N & ~7;
  packTiles(Q, A, sAi, sAk, ib, tiles, k0, K);
  const aRest = A + <usize>k0 * sa;
  for (let j = 0; j < N8; j += 8) {
    const pb = P + ((<usize>(j >> 3) * <usize>pstride + <usize>k0) << 5);
    const pbias = bias ? bias + (<usize>j << 2) : 0;
    for (let t = 0; t < tiles; t++) {
      tilePacked(out + <usize>(ib + 4 * t) * so + (<usize>j << 2), so, Q + (<usize>t * <usize>K << 4), pb, K, pbias, accumulate);
    }
    for (let i = ib + 4 * tiles; i < ie; i++) tile1x8(out + <usize>i * so + (<usize>j << 2), aRest + <usize>i * sr, sa, pb, 32, K, pbias, accumulate);
  }
  const bk = <usize>sBk << 2, bj = <usize>sBj << 2;
  for (let j = N8; j < N; j++) {
    const pb = B + <usize>j * bj + <usize>k0 * bk, pbias = bias ? bias + (<usize>j << 2) : 0;
    for (let i = ib; i < ie; i++) dot1x1(out + <usize>i * so + (<usize>j << 2), aRest + <usize>i * sr, sa, pb, bk, K, pbias, accumulate);
  }
}

/**
 * out[M, N] (+)= A[M, K] @ B[K, N] (+ bias), rows [r0, r1), with B's full panels packed in P
 * (packPanels) and B itself (element (k, j) at B + 4*(k*sBk + j*sBj)) for the last N % 8 columns.
 * Q scratch per thread: 64 * K floats at scratch + tid * scratchStride.
 */
export function gemmPacked(out: usize, ldc: i32, A: usize, sAi: i32, sAk: i32, P: usize, B: usize, sBk: i32, sBj: i32,
                           bias: usize, K: i32, N: i32, accumulate: i32, scratch: usize, scratchStride: i32, r0: i32, r1: i32, tid: i32): void {
  const Q = scratch + <usize>tid * <usize>scratchStride;
  for (let ib = r0; ib < r1; ib += 64) packedBlock(out, ldc, A, sAi, sAk, P, K, B, sBk, sBj, bias, 0, K, N, accumulate, Q, ib, min(ib + 64, r1));
}

/**
 * Weight gradient out[K, N] (+)= a[M, K]^T @ b[M, N], output rows [r0, r1), with b's panels packed
 * in P (packPanels over b, M k-rows per panel). The sum over M runs in chunks of `chunk` rows,
 * each added to the output in turn (fixed by `chunk`, not by the thread count).
 */
export function gemmAtBPacked(out: usize, a: usize, P: usize, b: usize, M: i32, K: i32, N: i32, accumulate: i32, chunk: i32,
                              scratch: usize, scratchStride: i32, r0: i32, r1: i32, tid: i32): void {
  const Q = scratch + <usize>tid * <usize>scratchStride;
  for (let ib = r0; ib < r1; ib += 64) {
    const ie = min(ib + 64, r1);
    for (let m = 0; m < M; m += chunk) {
      packedBlock(out, N, a, 1, K, P, M, b, N, 1, 0, m, min(chunk, M - m), N, accumulate != 0 || m > 0 ? 1 : 0, Q, ib, ie);
    }
  }
}

/** out[c, r] = inp[r, c] for input rows r in [r0, r1): out has row stride ldo, inp ldi. */
export function transpose(out: usize, ldo: i32, inp: usize, ldi: i32, cols: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const pi = inp + (<usize>r * <usize>ldi << 2);
    for (let c = 0; c < cols; c++) store<f32>(out + ((<usize>c * <usize>ldo + <usize>r) << 2), f(pi + (<usize>c << 2)));
  }
}

// ---------------------------------------------------------------------------------------------
// Causal self-attention, one (batch, head) pair at a time.
//
// qkv is [B, T, 3C] (q, k, v side by side, head h at columns h*hs), att is [B, H, T, T] (the
// softmax probabilities, kept for backward), out is [B, T, C]. Rows are processed in bands of 4
// and each band only touches the keys it can see (columns <= its last row), which halves the work.
// `scratch` is this thread's own area: scratch + tid * scratchStride bytes.

// @ts-ignore: decorator
@inline function softmaxCausalRow(r: usize, t: i32, T: i32, scale: f32): void {
  // r: row t of the scores; entries t2 <= t are live, the rest become 0.
  const n = t + 1, n4 = n & ~3;
  const vs = f32x4.splat(scale);
  let vmax = f32x4.splat(-Infinity);
  let i = 0;
  for (; i < n4; i += 4) {
    const p = r + (<usize>i << 2);
    const s = f32x4.mul(v128.load(p), vs);
    v128.store(p, s);
    vmax = f32x4.max(vmax, s);
  }
  let mx = hmax(vmax);
  for (; i < n; i++) { const p = r + (<usize>i << 2); const s = f(p) * scale; store<f32>(p, s); mx = max(mx, s); }
  const vm = f32x4.splat(mx);
  let vsum = f32x4.splat(0);
  for (i = 0; i < n4; i += 4) {
    const p = r + (<usize>i << 2);
    const e = exp4(f32x4.sub(v128.load(p), vm));
    v128.store(p, e);
    vsum = f32x4.add(vsum, e);
  }
  let sum = hsum(vsum);
  for (; i < n; i++) { const p = r + (<usize>i << 2); const e = exp1(f(p) - mx); store<f32>(p, e); sum += e; }
  const inv = f32x4.splat(<f32>1 / sum);
  for (i = 0; i < n4; i += 4) { const p = r + (<usize>i << 2); v128.store(p, f32x4.mul(v128.load(p), inv)); }
  const invs = <f32>1 / sum;
  for (; i < n; i++) { const p = r + (<usize>i << 2); store<f32>(p, f(p) * invs); }
  memory.fill(r + (<usize>n << 2), 0, <usize>(T - n) << 2);
}

export function attentionForward(out: usize, att: usize, qkv: usize, T: i32, C: i32, H: i32,
                                 scratch: usize, scratchStride: i32, bh0: i32, bh1: i32, tid: i32): void {
  const hs = C / H, C3 = 3 * C;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hs));
  const KT = scratch + <usize>tid * <usize>scratchStride; // [hs, T]
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / H, h = bh % H;
    const q = qkv + ((<usize>b * <usize>T * <usize>C3 + <usize>(h * hs)) << 2);
    const k = q + (<usize>C << 2), v = q + (<usize>(2 * C) << 2);
    const S = att + (<usize>bh * <usize>T * <usize>T << 2);
    const y = out + ((<usize>b * <usize>T * <usize>C + <usize>(h * hs)) << 2);
    transpose(KT, T, k, C3, hs, 0, T);
    for (let i0 = 0; i0 < T; i0 += 4) {
      const i1 = min(i0 + 4, T);
      gemm(S, T, q, C3, 1, KT, T, 0, hs, i1, 0, i0, i1); // S = Q K^T, visible columns only
      for (let t = i0; t < i1; t++) softmaxCausalRow(S + (<usize>t * <usize>T << 2), t, T, scale);
      gemm(y, C, S, T, 1, v, C3, 0, i1, hs, 0, i0, i1); // Y = P V
    }
  }
}

export function attentionBackward(dqkv: usize, dout: usize, qkv: usize, att: usize, T: i32, C: i32, H: i32,
                                  scratch: usize, scratchStride: i32, bh0: i32, bh1: i32, tid: i32): void {
  const hs = C / H, C3 = 3 * C;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hs));
  const VT = scratch + <usize>tid * <usize>scratchStride; // [hs, T]
  const dS = VT + (<usize>hs * <usize>T << 2); // [T, T]
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / H, h = bh % H;
    const off = (<usize>b * <usize>T * <usize>C3 + <usize>(h * hs)) << 2;
    const q = qkv + off, k = q + (<usize>C << 2), v = q + (<usize>(2 * C) << 2);
    const dq = dqkv + off, dk = dq + (<usize>C << 2), dv = dq + (<usize>(2 * C) << 2);
    const P = att + (<usize>bh * <usize>T * <usize>T << 2);
    const dY = dout + ((<usize>b * <usize>T * <usize>C + <usize>(h * hs)) << 2);
    transpose(VT, T, v, C3, hs, 0, T);
    for (let i0 = 0; i0 < T; i0 += 4) {
      const i1 = min(i0 + 4, T);
      gemm(dS, T, dY, C, 1, VT, T, 0, hs, i1, 0, i0, i1); // dP = dY V^T
      // softmax backward: dS = P * (dP - sum(P * dP)) * scale, zero above the diagonal
      for (let t = i0; t < i1; t++) {
        const pr = P + (<usize>t * <usize>T << 2), dr = dS + (<usize>t * <usize>T << 2);
        let dot: f32 = 0;
        for (let t2 = 0; t2 <= t; t2++) dot += f(pr + (<usize>t2 << 2)) * f(dr + (<usize>t2 << 2));
        for (let t2 = 0; t2 <= t; t2++) {
          const pd = dr + (<usize>t2 << 2);
          store<f32>(pd, f(pr + (<usize>t2 << 2)) * (f(pd) - dot) * scale);
        }
        memory.fill(dr + (<usize>(t + 1) << 2), 0, <usize>(T - t - 1) << 2);
      }
      gemm(dq, C3, dS, T, 1, k, C3, 0, i1, hs, 0, i0, i1); // dQ = dS K
    }
    // dK[j] = sum_{t >= j} dS[t, j] Q[t] and dV[j] = sum_{t >= j} P[t, j] dY[t]: for the band of
    // rows j in [j0, j1) the sum starts at t = j0 (the offset pointers below).
    for (let j0 = 0; j0 < T; j0 += 4) {
      const j1 = min(j0 + 4, T), rows = <usize>j0 * <usize>T << 2;
      gemm(dk, C3, dS + rows, 1, T, q + (<usize>j0 * <usize>C3 << 2), C3, 0, T - j0, hs, 0, j0, j1);
      gemm(dv, C3, P + rows, 1, T, dY + (<usize>j0 * <usize>C << 2), C, 0, T - j0, hs, 0, j0, j1);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Element-wise and row-wise layers

/** GELU, tanh approximation: out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Elements [e0, e1). */
export function geluForward(out: usize, inp: usize, e0: i32, e1: i32): void {
  const s = f32x4.splat(0.7978845608028654), k = f32x4.splat(0.044715), half = f32x4.splat(0.5), one = f32x4.splat(1);
  let i = e0;
  for (; i + 4 <= e1; i += 4) {
    const x = v128.load(inp + (<usize>i << 2));
    const u = f32x4.mul(s, f32x4.add(x, f32x4.mul(k, f32x4.mul(x, f32x4.mul(x, x)))));
    v128.store(out + (<usize>i << 2), f32x4.mul(f32x4.mul(half, x), f32x4.add(one, tanh4(u))));
  }
  for (; i < e1; i++) {
    const x = f32x4.splat(f(inp + (<usize>i << 2)));
    const u = f32x4.mul(s, f32x4.add(x, f32x4.mul(k, f32x4.mul(x, f32x4.mul(x, x)))));
    store<f32>(out + (<usize>i << 2), f32x4.extract_lane(f32x4.mul(f32x4.mul(half, x), f32x4.add(one, tanh4(u))), 0));
  }
}

// @ts-ignore: decorator
@inline function geluGrad4(x: v128): v128 {
  const s = f32x4.splat(0.7978845608028654), k = f32x4.splat(0.044715), k3 = f32x4.splat(3 * 0.044715);
  const half = f32x4.splat(0.5), one = f32x4.splat(1);
  const x2 = f32x4.mul(x, x);
  const th = tanh4(f32x4.mul(s, f32x4.add(x, f32x4.mul(k, f32x4.mul(x, x2)))));
  const sech2 = f32x4.sub(one, f32x4.mul(th, th));
  return f32x4.add(f32x4.mul(half, f32x4.add(one, th)),
    f32x4.mul(f32x4.mul(f32x4.mul(half, x), sech2), f32x4.mul(s, f32x4.add(one, f32x4.mul(k3, x2)))));
}

/** d *= gelu'(x), elements [e0, e1). */
export function geluBackward(d: usize, inp: usize, e0: i32, e1: i32): void {
  let i = e0;
  for (; i + 4 <= e1; i += 4) {
    const pd = d + (<usize>i << 2);
    v128.store(pd, f32x4.mul(v128.load(pd), geluGrad4(v128.load(inp + (<usize>i << 2)))));
  }
  for (; i < e1; i++) {
    const pd = d + (<usize>i << 2);
    store<f32>(pd, f(pd) * f32x4.extract_lane(geluGrad4(f32x4.splat(f(inp + (<usize>i << 2)))), 0));
  }
}

/** out = a + b, elements [e0, e1) (the residual connections). */
export function add(out: usize, a: usize, b: usize, e0: i32, e1: i32): void {
  let i = e0;
  for (; i + 4 <= e1; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < e1; i++) { const o = <usize>i << 2; store<f32>(out + o, f(a + o) + f(b + o)); }
}

/** LayerNorm over rows [r0, r1) of width C; saves each row's mean and 1/std for backward. */
export function layernormForward(out: usize, mean: usize, rstd: usize, inp: usize, w: usize, b: usize, C: i32, eps: f32, r0: i32, r1: i32): void {
  const C4 = C & ~3;
  for (let r = r0; r < r1; r++) {
    const x = inp + (<usize>r * <usize>C << 2), o = out + (<usize>r * <usize>C << 2);
    let vs = f32x4.splat(0);
    let c = 0;
    for (; c < C4; c += 4) vs = f32x4.add(vs, v128.load(x + (<usize>c << 2)));
    let s = hsum(vs);
    for (; c < C; c++) s += f(x + (<usize>c << 2));
    const mu = s / <f32>C;
    const vmu = f32x4.splat(mu);
    let vv = f32x4.splat(0);
    for (c = 0; c < C4; c += 4) { const d = f32x4.sub(v128.load(x + (<usize>c << 2)), vmu); vv = f32x4.add(vv, f32x4.mul(d, d)); }
    let v = hsum(vv);
    for (; c < C; c++) { const d = f(x + (<usize>c << 2)) - mu; v += d * d; }
    const rs = <f32>1 / <f32>Math.sqrt(<f64>(v / <f32>C + eps));
    const vrs = f32x4.splat(rs);
    for (c = 0; c < C4; c += 4) {
      const p = <usize>c << 2;
      const n = f32x4.mul(f32x4.sub(v128.load(x + p), vmu), vrs);
      v128.store(o + p, f32x4.add(f32x4.mul(n, v128.load(w + p)), v128.load(b + p)));
    }
    for (; c < C; c++) { const p = <usize>c << 2; store<f32>(o + p, (f(x + p) - mu) * rs * f(w + p) + f(b + p)); }
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
  }
}

/** LayerNorm backward into the input: dinp += (w*dout - mean(w*dout) - norm * mean(w*dout*norm)) * rstd. Rows [r0, r1). */
export function layernormBackwardInput(dinp: usize, dout: usize, inp: usize, w: usize, mean: usize, rstd: usize, C: i32, r0: i32, r1: i32): void {
  const C4 = C & ~3;
  for (let r = r0; r < r1; r++) {
    const row = <usize>r * <usize>C << 2;
    const x = inp + row, d = dout + row, di = dinp + row;
    const mu = f(mean + (<usize>r << 2)), rs = f(rstd + (<usize>r << 2));
    const vmu = f32x4.splat(mu), vrs = f32x4.splat(rs);
    let va = f32x4.splat(0), vb = f32x4.splat(0);
    let c = 0;
    for (; c < C4; c += 4) {
      const p = <usize>c << 2;
      const n = f32x4.mul(f32x4.sub(v128.load(x + p), vmu), vrs);
      const dn = f32x4.mul(v128.load(w + p), v128.load(d + p));
      va = f32x4.add(va, dn); vb = f32x4.add(vb, f32x4.mul(dn, n));
    }
    let sa = hsum(va), sb = hsum(vb);
    for (; c < C; c++) {
      const p = <usize>c << 2;
      const n = (f(x + p) - mu) * rs, dn = f(w + p) * f(d + p);
      sa += dn; sb += dn * n;
    }
    const ma = sa / <f32>C, mb = sb / <f32>C;
    const vma = f32x4.splat(ma), vmb = f32x4.splat(mb);
    for (c = 0; c < C4; c += 4) {
      const p = <usize>c << 2;
      const n = f32x4.mul(f32x4.sub(v128.load(x + p), vmu), vrs);
      const dn = f32x4.mul(v128.load(w + p), v128.load(d + p));
      const g = f32x4.mul(f32x4.sub(f32x4.sub(dn, vma), f32x4.mul(n, vmb)), vrs);
      v128.store(di + p, f32x4.add(v128.load(di + p), g));
    }
    for (; c < C; c++) {
      const p = <usize>c << 2;
      const n = (f(x + p) - mu) * rs, dn = f(w + p) * f(d + p);
      store<f32>(di + p, f(di + p) + (dn - ma - n * mb) * rs);
    }
  }
}

/** LayerNorm weight and bias gradients, columns [c0, c1): dw += sum_rows norm*dout, db += sum_rows dout. */
export function layernormBackwardParams(dw: usize, db: usize, dout: usize, inp: usize, mean: usize, rstd: usize, N: i32, C: i32, c0: i32, c1: i32): void {
  for (let r = 0; r < N; r++) {
    const row = <usize>r * <usize>C << 2;
    const x = inp + row, d = dout + row;
    const mu = f(mean + (<usize>r << 2)), rs = f(rstd + (<usize>r << 2));
    const vmu = f32x4.splat(mu), vrs = f32x4.splat(rs);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const p = <usize>c << 2;
      const g = v128.load(d + p);
      const n = f32x4.mul(f32x4.sub(v128.load(x + p), vmu), vrs);
      v128.store(dw + p, f32x4.add(v128.load(dw + p), f32x4.mul(n, g)));
      v128.store(db + p, f32x4.add(v128.load(db + p), g));
    }
    for (; c < c1; c++) {
      const p = <usize>c << 2;
      const g = f(d + p);
      store<f32>(dw + p, f(dw + p) + (f(x + p) - mu) * rs * g);
      store<f32>(db + p, f(db + p) + g);
    }
  }
}

/** Bias gradient, columns [c0, c1): db[c] += sum over the N rows of dout[r, c]. */
export function biasBackward(db: usize, dout: usize, N: i32, OC: i32, c0: i32, c1: i32): void {
  for (let r = 0; r < N; r++) {
    const d = dout + (<usize>r * <usize>OC << 2);
    let c = c0;
    for (; c + 4 <= c1; c += 4) { const p = <usize>c << 2; v128.store(db + p, f32x4.add(v128.load(db + p), v128.load(d + p))); }
    for (; c < c1; c++) { const p = <usize>c << 2; store<f32>(db + p, f(db + p) + f(d + p)); }
  }
}

/** Token + position embedding for rows [r0, r1) of a [B, T] batch: out[r] = wte[ids[r]] + wpe[r % T]. */
export function embeddingForward(out: usize, ids: usize, wte: usize, wpe: usize, T: i32, C: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const tok = load<i32>(ids + (<usize>r << 2));
    add(out + (<usize>r * <usize>C << 2), wte + (<usize>tok * <usize>C << 2), wpe + (<usize>(r % T) * <usize>C << 2), 0, C);
  }
}

/** Embedding backward, columns [c0, c1): scatter-add each row's gradient into its token and position rows. */
export function embeddingBackward(dwte: usize, dwpe: usize, dout: usize, ids: usize, N: i32, T: i32, C: i32, c0: i32, c1: i32): void {
  for (let r = 0; r < N; r++) {
    const d = dout + (<usize>r * <usize>C << 2);
    const tok = load<i32>(ids + (<usize>r << 2));
    const dt = dwte + (<usize>tok * <usize>C << 2), dp = dwpe + (<usize>(r % T) * <usize>C << 2);
    add(dt, dt, d, c0, c1);
    add(dp, dp, d, c0, c1);
  }
}

/**
 * Softmax cross-entropy, forward and backward in one pass, rows [r0, r1) of logits [N, V].
 * losses[r] = -log softmax(logits[r])[targets[r]]; then the row is overwritten with its gradient
 * weights[r] * (softmax - onehot(target)). The weights carry the loss mask and the 1/count mean.
 */
export function crossEntropy(logits: usize, targets: usize, weights: usize, losses: usize, V: i32, r0: i32, r1: i32): void {
  const V4 = V & ~3;
  for (let r = r0; r < r1; r++) {
    const row = logits + (<usize>r * <usize>V << 2);
    const y = load<i32>(targets + (<usize>r << 2));
    const w = f(weights + (<usize>r << 2));
    const target = f(row + (<usize>y << 2));
    let vmax = f32x4.splat(-Infinity);
    let i = 0;
    for (; i < V4; i += 4) vmax = f32x4.max(vmax, v128.load(row + (<usize>i << 2)));
    let mx = hmax(vmax);
    for (; i < V; i++) mx = max(mx, f(row + (<usize>i << 2)));
    const vm = f32x4.splat(mx);
    let vsum = f32x4.splat(0);
    for (i = 0; i < V4; i += 4) {
      const p = row + (<usize>i << 2);
      const e = exp4(f32x4.sub(v128.load(p), vm));
      v128.store(p, e);
      vsum = f32x4.add(vsum, e);
    }
    let sum = hsum(vsum);
    for (; i < V; i++) { const p = row + (<usize>i << 2); const e = exp1(f(p) - mx); store<f32>(p, e); sum += e; }
    store<f32>(losses + (<usize>r << 2), <f32>(Math.log(<f64>sum) + <f64>mx - <f64>target));
    const sc = w / sum, vsc = f32x4.splat(sc);
    for (i = 0; i < V4; i += 4) { const p = row + (<usize>i << 2); v128.store(p, f32x4.mul(v128.load(p), vsc)); }
    for (; i < V; i++) { const p = row + (<usize>i << 2); store<f32>(p, f(p) * sc); }
    const py = row + (<usize>y << 2);
    store<f32>(py, f(py) - w);
  }
}

// ---------------------------------------------------------------------------------------------
// Optimizer

/**
 * AdamW step on elements [e0, e1), as torch.optim.AdamW: p *= decay (decoupled weight decay,
 * decay = 1 - lr*wd); m, v moving averages of g*gscale; p -= stepSize * m / (sqrt(v)/sqrtBc2 + eps)
 * with stepSize = lr / (1 - beta1^t) and sqrtBc2 = sqrt(1 - beta2^t). gscale applies clipping.
 */
export function adamw(p: usize, g: usize, m: usize, v: usize, beta1: f32, beta2: f32, eps: f32,
                      decay: f32, stepSize: f32, sqrtBc2: f32, gscale: f32, e0: i32, e1: i32): void {
  const vb1 = f32x4.splat(beta1), vb2 = f32x4.splat(beta2), vc1 = f32x4.splat(1 - beta1), vc2 = f32x4.splat(1 - beta2);
  const veps = f32x4.splat(eps), vdecay = f32x4.splat(decay), vstep = f32x4.splat(stepSize), vbc2 = f32x4.splat(sqrtBc2);
  const vgs = f32x4.splat(gscale);
  let i = e0;
  for (; i + 4 <= e1; i += 4) {
    const o = <usize>i << 2;
    const gi = f32x4.mul(v128.load(g + o), vgs);
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vc1, gi));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vc2, f32x4.mul(gi, gi)));
    v128.store(m + o, mi); v128.store(v + o, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), vbc2), veps);
    v128.store(p + o, f32x4.sub(f32x4.mul(v128.load(p + o), vdecay), f32x4.mul(vstep, f32x4.div(mi, denom))));
  }
  for (; i < e1; i++) {
    const o = <usize>i << 2;
    const gi = f(g + o) * gscale;
    const mi = beta1 * f(m + o) + (1 - beta1) * gi;
    const vi = beta2 * f(v + o) + (1 - beta2) * (gi * gi);
    store<f32>(m + o, mi); store<f32>(v + o, vi);
    const denom = <f32>Math.sqrt(<f64>vi) / sqrtBc2 + eps;
    store<f32>(p + o, f(p + o) * decay - stepSize * (mi / denom));
  }
}

/** Sum of squares of g in fixed blocks of `block` elements, blocks [b0, b1), into f64 partials. */
export function sumSquares(partials: usize, g: usize, n: i32, block: i32, b0: i32, b1: i32): void {
  for (let k = b0; k < b1; k++) {
    const s = k * block, e = min(s + block, n);
    let acc: f64 = 0;
    for (let i = s; i < e; i++) { const x = <f64>f(g + (<usize>i << 2)); acc += x * x; }
    store<f64>(partials + (<usize>k << 3), acc);
  }
}
