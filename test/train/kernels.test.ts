// The wasm kernels against plain loops, on sizes that exercise every edge path; the thread
// pool: the same job split over 1, 2 or 3 threads gives bit-identical results; and the model's
// heap plan: no two regions overlap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Heap, HeapPlan } from '../../lib/train/heap.js';
import { chunkSize, createKernelRunner } from '../../lib/train/pool.js';
import { buildKernels, kernelModule, kernelWasmPath } from '../../lib/train/wasm.js';
import { createRng } from '../../lib/repro/rng.js';

test('the kernels are compiled when missing or stale, and not rebuilt when current', async () => {
  await buildKernels();
  assert.ok(existsSync(kernelWasmPath()));
  assert.equal((await buildKernels()).rebuilt, false, 'the build output is current');
  const dir = mkdtempSync(join(tmpdir(), 'ipt-wasm-'));
  try {
    const wasmPath = join(dir, 'kernels.wasm');
    const fresh = await buildKernels({ wasmPath });
    assert.equal(fresh.rebuilt, true, 'a missing wasm is compiled');
    assert.deepEqual(readFileSync(wasmPath), readFileSync(kernelWasmPath()), 'the same bytes as the build');
    assert.equal((await buildKernels({ wasmPath })).rebuilt, false);
    const stamp = JSON.parse(readFileSync(`${wasmPath}.json`, 'utf8')) as { sourceSha256: string };
    assert.match(stamp.sourceSha256, /^[0-9a-f]{64}$/);
    writeFileSync(`${wasmPath}.json`, JSON.stringify({ ...stamp, sourceSha256: '0'.repeat(64) }));
    assert.equal((await buildKernels({ wasmPath })).rebuilt, true, 'a wasm built from another source is rebuilt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jobs are cut into aligned chunks, about four per thread, at most 65535', () => {
  assert.equal(chunkSize(2048, 2, 4), 256);
  assert.equal(chunkSize(64, 2, 1), 8);
  assert.equal(chunkSize(10, 3, 4), 4);
  assert.equal(chunkSize(3, 2, 4), 4);
  assert.ok(Math.ceil(1e6 / chunkSize(1e6, 64, 1)) <= 65535);
});

test('many small jobs on 3 threads: every chunk runs exactly once', async () => {
  const plan = new HeapPlan();
  const a = plan.words(1000),
    out = plan.words(1000);
  const heap = new Heap(plan.size);
  const runner = await createKernelRunner(await kernelModule(), heap.memory, 3);
  const A = heap.f32(a, 1000),
    O = heap.f32(out, 1000);
  for (let job = 1; job <= 300; job++) {
    A.fill(job);
    O.fill(0);
    const n = 1 + ((job * 37) % 1000);
    runner.run('add', n, 4, [out, a, a]);
    for (let i = 0; i < 1000; i++) if (O[i] !== (i < n ? 2 * job : 0)) assert.fail(`job ${job}: out[${i}] = ${O[i]}`);
  }
  await runner.close();
});

async function gemmOnThreads(threads: number, M: number, K: number, N: number) {
  const plan = new HeapPlan();
  const a = plan.words(M * K),
    b = plan.words(K * N),
    bias = plan.words(N),
    out = plan.words(M * N);
  const heap = new Heap(plan.size);
  const rng = createRng(3);
  for (const [p, n] of [
    [a, M * K],
    [b, K * N],
    [bias, N],
  ] as const)
    heap.f32(p, n).forEach((_, i, arr) => (arr[i] = rng.normal()));
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
  const A = heap.f32(a, M * K),
    Bm = heap.f32(b, K * N),
    bi = heap.f32(bias, N),
    O = heap.f32(out, M * N);
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

// Reference products in float32 with the kernels' order of operations: each dot product summed
// in k order, then the previous output added, then the bias.
function refProduct(
  get: (i: number, k: number) => number,
  b: (k: number, j: number) => number,
  M: number,
  K: number,
  N: number,
  chunk = Infinity,
) {
  return (prev: (i: number, j: number) => number | undefined, bias?: (j: number) => number) =>
    (i: number, j: number) => {
      let out = prev(i, j);
      for (let k0 = 0; k0 < K; k0 += chunk) {
        let s = 0;
        for (let k = k0; k < Math.min(K, k0 + chunk); k++) s = Math.fround(s + Math.fround(get(i, k) * b(k, j)));
        out = out === undefined ? s : Math.fround(s + out);
      }
      return bias ? Math.fround(out! + bias(j)) : out!;
    };
}

test('packed products (A @ B + bias, A @ W^T, a^T @ b in chunks) match plain loops, bit-identically on 1, 2, 3 threads', async () => {
  const { Ops, AT_B_CHUNK } = await import('../../lib/train/ops.js');
  const [M, K, N] = [301, 9, 19]; // row edges, 8-column panels plus a 3-column tail, AtB over 3 chunks of M
  const results: Float32Array[][] = [];
  for (const threads of [1, 2, 3]) {
    const plan = new HeapPlan();
    const a = plan.words(M * K),
      w = plan.words(K * N),
      wt = plan.words(N * K),
      bias = plan.words(N),
      g = plan.words(M * N);
    const out1 = plan.words(M * N),
      out2 = plan.words(M * N),
      out3 = plan.words(K * N);
    const scratch = {
      panels: plan.words(M * N + K * N),
      tiles: plan.bytes(threads * 4 * 64 * Math.max(K, AT_B_CHUNK)),
      tilesStride: 4 * 64 * Math.max(K, AT_B_CHUNK),
      attention: 0,
      attentionStride: 0,
      partials: 0,
    };
    const heap = new Heap(plan.size);
    const rng = createRng(8);
    for (const [p, n] of [
      [a, M * K],
      [w, K * N],
      [wt, N * K],
      [bias, N],
      [g, M * N],
      [out3, K * N],
    ] as const)
      heap.f32(p, n).forEach((_, i, arr) => (arr[i] = rng.normal()));
    const runner = await createKernelRunner(await kernelModule(), heap.memory, threads);
    const ops = new Ops(runner, heap, scratch);
    ops.matmul(out1, a, w, bias, M, K, N);
    ops.matmulTransposed(out2, a, wt, M, K, N);
    ops.matmulAtB(out3, a, g, M, K, N, true);
    await runner.close();
    const A = heap.f32(a, M * K),
      W = heap.f32(w, K * N),
      WT = heap.f32(wt, N * K),
      BI = heap.f32(bias, N),
      G = heap.f32(g, M * N);
    if (threads === 1) {
      const mm = refProduct(
        (i, k) => A[i * K + k],
        (k, j) => W[k * N + j],
        M,
        K,
        N,
      )(
        () => undefined,
        (j) => BI[j],
      );
      const mt = refProduct(
        (i, k) => A[i * K + k],
        (k, j) => WT[j * K + k],
        M,
        K,
        N,
      )(() => undefined);
      const O1 = heap.f32(out1, M * N),
        O2 = heap.f32(out2, M * N);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          assert.equal(O1[i * N + j], mm(i, j), `A @ W + b [${i},${j}]`);
          assert.equal(O2[i * N + j], mt(i, j), `A @ W^T [${i},${j}]`);
        }
    }
    results.push([heap.f32(out1, M * N).slice(), heap.f32(out2, M * N).slice(), heap.f32(out3, K * N).slice()]);
    if (threads === 1) {
      // a^T @ g accumulated onto the random initial values: recompute them from the same seed
      const rng2 = createRng(8);
      const initial: Record<string, Float32Array> = {};
      for (const [name, n] of [
        ['a', M * K],
        ['w', K * N],
        ['wt', N * K],
        ['bias', N],
        ['g', M * N],
        ['out3', K * N],
      ] as const)
        initial[name] = Float32Array.from({ length: n }, () => rng2.normal());
      const atb = refProduct(
        (i, m) => A[m * K + i],
        (m, j) => G[m * N + j],
        K,
        M,
        N,
        AT_B_CHUNK,
      )((i, j) => initial.out3[i * N + j]);
      const O3 = heap.f32(out3, K * N);
      for (let i = 0; i < K; i++)
        for (let j = 0; j < N; j++) assert.equal(O3[i * N + j], atb(i, j), `a^T @ g [${i},${j}]`);
    }
  }
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
});

test("the model's heap plan: every region is 64-byte aligned, inside the heap and overlaps no other", async () => {
  const { planGPTHeap } = await import('../../lib/train/heap.js');
  const { gptParameterCount } = await import('../../lib/engine/gpt.js');
  const cfg = { vocabSize: 61, contextLength: 13, width: 30, heads: 3, layers: 2, mlpRatio: 3, layerNormEps: 1e-5 };
  for (const training of [false, true]) {
    const [B, threads] = [3, 3];
    const p = planGPTHeap(cfg, { maxBatch: B, training, threads });
    const { contextLength: T, width: C, heads: H, vocabSize: V } = cfg;
    const N = B * T,
      F = cfg.mlpRatio * C,
      P = gptParameterCount(cfg);
    assert.equal(p.numParams, P);
    // [address, bytes] of every region, sized from the shapes the plan documents
    const regions: Array<[string, number, number]> = [['params', p.params, 4 * P]];
    if (training) regions.push(['grads', p.grads, 4 * P], ['moment1', p.moment1, 4 * P], ['moment2', p.moment2, 4 * P]);
    else assert.deepEqual([p.grads, p.moment1, p.moment2, p.backward], [0, 0, 0, undefined]);
    for (const k of ['inputs', 'targets', 'lossWeights', 'losses', 'lnfMean', 'lnfRstd'] as const)
      regions.push([k, p[k], 4 * N]);
    regions.push(['embedding', p.embedding, 4 * N * C], ['lnf', p.lnf, 4 * N * C], ['logits', p.logits, 4 * N * V]);
    p.blocks.forEach((a, l) => {
      const sizes = {
        ln1: N * C,
        ln1Mean: N,
        ln1Rstd: N,
        qkv: N * 3 * C,
        att: B * H * T * T,
        atty: N * C,
        res2: N * C,
        ln2: N * C,
        ln2Mean: N,
        ln2Rstd: N,
        fc: N * F,
        fcGelu: N * F,
        res3: N * C,
      };
      for (const [k, n] of Object.entries(sizes))
        regions.push([`blocks[${l}].${k}`, a[k as keyof typeof sizes], 4 * n]);
    });
    if (p.backward) {
      const sizes = { dres: N * C, dln: N * C, datty: N * C, dqkv: N * 3 * C, dfc: N * F };
      for (const [k, n] of Object.entries(sizes))
        regions.push([`backward.${k}`, p.backward[k as keyof typeof sizes], 4 * n]);
    }
    const s = p.scratch;
    regions.push(
      ['panels', s.panels, 4 * Math.max(V * C, 3 * C * C, F * C, training ? N * Math.max(C, F, 3 * C) : 0)],
      ['tiles', s.tiles, threads * s.tilesStride],
      ['attention', s.attention, threads * s.attentionStride],
      ['partials', s.partials, 8],
    );
    assert.ok(s.attentionStride >= 4 * ((C / H) * T + T * T), 'attention scratch holds K^T or V^T and dS per thread');
    let offset = 0;
    for (const t of p.tensors) {
      assert.equal(t.ptr, p.params + 4 * offset, `${t.name} sits at its offset in the parameter region`);
      if (training) assert.equal(t.grad, p.grads + 4 * offset, `${t.name}'s gradient at the same offset`);
      offset += t.size;
    }
    const sorted = regions.sort((a, b) => a[1] - b[1]);
    for (const [name, at, bytes] of sorted) {
      assert.equal(at % 64, 0, `${name} is aligned`);
      assert.ok(at >= 65536 && at + bytes <= p.size, `${name} lies inside the heap`);
    }
    for (let i = 1; i < sorted.length; i++)
      assert.ok(sorted[i - 1][1] + sorted[i - 1][2] <= sorted[i][1], `${sorted[i - 1][0]} overlaps ${sorted[i][0]}`);
  }
});
