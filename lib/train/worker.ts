// A kernel worker thread of the pool (lib/train/pool.ts): it instantiates the kernels over the
// shared memory, then sleeps on the control block, runs its share of each job, and reports done.

import { parentPort, workerData } from 'node:worker_threads';
import { instantiateKernels } from './wasm.js';
import { CONTROL, runShare, type PoolShared } from './pool.js';

type Data = { module: WebAssembly.Module; memory: WebAssembly.Memory; shared: PoolShared; tid: number; threads: number };
const { module, memory, shared, tid, threads } = workerData as Data;
const control = new Int32Array(shared.control);
const args = new Float64Array(shared.args);
const kernels = instantiateKernels(module, memory);
let seen = Atomics.load(control, CONTROL.SEQ); // before 'ready': the first job may follow at once
parentPort!.postMessage('ready');

for (;;) {
  Atomics.wait(control, CONTROL.SEQ, seen);
  const seq = Atomics.load(control, CONTROL.SEQ);
  if (seq === seen) continue;
  seen = seq;
  if (control[CONTROL.KERNEL] < 0) break;
  try {
    runShare(kernels, control, args, tid, threads);
  } catch (err) {
    process.stderr.write(`kernel worker ${tid}: ${(err as Error).stack ?? err}\n`);
    Atomics.store(control, CONTROL.FAILED, 1);
  }
  Atomics.add(control, CONTROL.DONE, 1);
  Atomics.notify(control, CONTROL.DONE);
}
