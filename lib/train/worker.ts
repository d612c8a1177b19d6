// A kernel worker thread of the pool (lib/train/pool.ts): it instantiates the kernels over the
// shared memory, then sleeps until a job is published, claims and runs chunks of it until none
// are left, and sleeps again.

import { parentPort, workerData } from 'node:worker_threads';
import { instantiateKernels } from './wasm.js';
import { CONTROL, readJob, runChunks, type PoolShared } from './pool.js';

type Data = { module: WebAssembly.Module; memory: WebAssembly.Memory; shared: PoolShared; tid: number };
const { module, memory, shared, tid } = workerData as Data;
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
  const job = readJob(control, args);
  if (job.exit) break;
  runChunks(kernels, control, job.args, job.tag, tid);
}
