// Weight-only int4 quantization in ONNX Runtime's MatMulNBits layout (com.microsoft, bits = 4):
// a weight [N, K] (N outputs, K inputs: a torch Linear's own layout) is cut along K into blocks
// of `blockSize`; each block keeps one float32 scale and 4-bit codes q, and is read back as
// (q - 8) x scale (8 is MatMulNBits' default zero point, so none is stored). Symmetric, as
// llama.cpp's Q4_0: the value of largest magnitude m maps to code 0 (scale = m / -8), so the 16
// codes span [-8, 7] x |scale| around zero: each weight is within half a step (|m| / 16) of its
// value, except values beyond 7.5 steps on the far side, which clamp to 7 (within one step). Codes are packed two per byte, low nibble first, in
// B [N, ceil(K / blockSize), blockSize / 2]; a short last block is padded with zeros.

export type Int4Weight = { packed: Uint8Array; scales: Float32Array; N: number; K: number; blockSize: number };

export const INT4_BLOCK_SIZES = [16, 32, 64, 128, 256] as const;

export function checkBlockSize(blockSize: number): void {
  if (!(INT4_BLOCK_SIZES as readonly number[]).includes(blockSize))
    throw new RangeError(`int4 block size must be one of ${INT4_BLOCK_SIZES.join(', ')}, got ${blockSize}`);
}

/** Quantizes `rows` ([N, K] row-major float32). */
export function quantizeInt4(rows: Float32Array, N: number, K: number, blockSize: number): Int4Weight {
  checkBlockSize(blockSize);
  if (rows.length !== N * K) throw new RangeError(`quantizeInt4: ${rows.length} values for [${N}, ${K}]`);
  const blocks = Math.ceil(K / blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(N * blocks * blob);
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      const from = n * K + b * blockSize;
      const len = Math.min(blockSize, K - b * blockSize);
      let m = 0;
      for (let i = 0; i < len; i++) if (Math.abs(rows[from + i]) > Math.abs(m)) m = rows[from + i];
      const scale = m === 0 ? 0 : Math.fround(m / -8);
      const inv = scale === 0 ? 0 : 1 / scale;
      scales[n * blocks + b] = scale;
      const out = (n * blocks + b) * blob;
      for (let i = 0; i < blockSize; i++) {
        const x = i < len ? rows[from + i] : 0;
        const q = Math.min(15, Math.max(0, Math.round(x * inv) + 8));
        packed[out + (i >> 1)] |= i & 1 ? q << 4 : q;
      }
    }
  }
  return { packed, scales, N, K, blockSize };
}

/** The float32 weight [N, K] that MatMulNBits computes with. */
export function dequantizeInt4(w: Int4Weight): Float32Array {
  const blocks = Math.ceil(w.K / w.blockSize);
  const blob = w.blockSize / 2;
  const out = new Float32Array(w.N * w.K);
  for (let n = 0; n < w.N; n++) {
    for (let k = 0; k < w.K; k++) {
      const b = Math.floor(k / w.blockSize);
      const i = k % w.blockSize;
      const byte = w.packed[(n * blocks + b) * blob + (i >> 1)];
      const q = i & 1 ? byte >> 4 : byte & 15;
      out[n * w.K + k] = (q - 8) * w.scales[n * blocks + b];
    }
  }
  return out;
}
