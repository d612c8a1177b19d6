// The wasm kernels against plain loops, on sizes that exercise every edge path, and the thread
// pool: the same job split over 1, 2 or 3 threads gives bit-identical results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Heap, HeapPlan } from '../../lib/train/heap.js';
import { createKernelRunner, share } from '../../lib/train/pool.js';
import { buildKernels, kernelModule, kernelWasmPath } from '../../lib/train/wasm.js';
import { createRng } from '../../lib/repro/rng.js';

test('the kernels are built, and rebuilt only when the source changes', async () => {
  const first = await buildKernels();
  assert.ok(existsSync(kernelWasmPath()));
  const again = await buildKernels();
  assert.equal(again.rebuilt, false, 'an up-to-date wasm is not rebuilt');
  const stamp = JSON.parse(readFileSync(`${first.path}.json`, 'utf8')) as { sourceSha256: string };
  assert.match(stamp.sourceSha256, /^[0-9a-f]{64}$/);
});

test('share() splits [0, total) into aligned contiguous ranges', () => {
  assert.deepEqual([0, 1, 2].map((t) => share(10, t, 3, 4)), [[0, 4], [4, 8], [8, 10]]);
  assert.deepEqual([0, 1].map((t) => share(3, t, 2, 4)), [[0, 3], [3, 3]]);
});

async function gemmOnThreads(threads: number, M: number, K: number, N: number) {
  const plan = new HeapPlan();
  const a = plan.words(M * K), b = plan.words(K * N), bias = plan.words(N), out = plan.words(M * N);
  const heap = new Heap(plan);
  const rng = createRng(3);
  for (const [p, n] of [[a, M * K], [b, K * N], [bias, N]] as const) heap.f32(p, n).forEach((_, i, arr) => (arr[i] = rng.normal()));
  heap.f32(out, M * N).fill(0.5);
  const runner = await createKernelRunner(await kernelModule(), heap.memory, threads);
  runner.run('gemm', M, 4, [out, N, a, K, 1, b, N, bias, K, N, 1]); // accumulate into 0.5, plus bias
  await runner.close();
  return { heap, a, b, bias, out };
}

test('gemm matches a plain loop on odd sizes, bit-identically across thread counts', async () => {
  const [M, K, N] = [13, 7, 19]; // 4x8 tiles, 1-row and 1-column edges
  const results = [];
  for (const threads of [1, 2, 3]) results.push(await gemmOnThreads(threads, M, K, N));
  const { heap, a, b, bias, out } = results[0];
  const A = heap.f32(a, M * K), Bm = heap.f32(b, K * N), bi = heap.f32(bias, N), O = heap.f32(out, M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(A[i * K + k] * Bm[k * N + j]));
      const want = Math.fround(Math.fround(s + 0.5) + bi[j]);
      assert.equal(O[i * N + j], want, `out[${i},${j}]`);
    }
  }
  for (const r of results.slice(1)) assert.deepEqual(r.heap.f32(r.out, M * N), O);
});
