// A fork-join thread pool for the kernels: the main thread and (threads - 1) worker threads each
// hold an instance of the kernel module over the same shared memory. To run a kernel over work
// items [0, total), the main thread writes the kernel's index and arguments into a small shared
// control block, wakes the workers (Atomics.notify), does its own share, and waits until every
// worker has done its share. No messages are posted on the hot path.
//
// Shares are contiguous ranges, multiples of `align` items, the first thread first. Kernels
// compute each output the same way whatever range it falls in, so results do not depend on the
// number of threads.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { KERNEL_NAMES, instantiateKernels, type KernelExports, type KernelName } from './wasm.js';

const MAX_ARGS = 24;
// Control block (Int32Array) slots.
const SEQ = 0; // bumped once per job; workers wait on it
const DONE = 1; // workers that finished the current job
const KERNEL = 2; // index into KERNEL_NAMES, or -1 to exit
const TOTAL = 3;
const ALIGN = 4;
const NARGS = 5;
const FAILED = 6; // set by a worker whose share threw
const CONTROL_SLOTS = 8;

export type PoolShared = { control: SharedArrayBuffer; args: SharedArrayBuffer };

/** The range [start, end) of `total` items that thread `tid` of `n` runs. */
export function share(total: number, tid: number, n: number, align: number): [number, number] {
  const chunk = Math.ceil(total / n / align) * align;
  const start = Math.min(total, tid * chunk);
  return [start, Math.min(total, start + chunk)];
}

/** Runs thread `tid`'s share of the job described in the control block. */
export function runShare(kernels: KernelExports, control: Int32Array, args: Float64Array, tid: number, n: number): void {
  const name = KERNEL_NAMES[control[KERNEL]];
  const [start, end] = share(control[TOTAL], tid, n, control[ALIGN]);
  if (end <= start) return;
  const a = Array.from(args.subarray(0, control[NARGS]));
  kernels[name](...a, start, end, tid);
}

export interface KernelRunner {
  readonly threads: number;
  /** Runs `kernel(...args, start, end, tid)` over [0, total) split between the threads. */
  run(kernel: KernelName, total: number, align: number, args: number[]): void;
  close(): Promise<void>;
}

export function defaultThreads(): number {
  return availableParallelism();
}

/** A runner over `memory` with `threads` threads in all (the calling thread included). */
export async function createKernelRunner(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<KernelRunner> {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const kernels = instantiateKernels(module, memory);
  if (threads === 1) {
    return {
      threads: 1,
      run(kernel, total, _align, args) {
        if (total > 0) kernels[kernel](...args, 0, total, 0);
      },
      async close() {},
    };
  }
  return ThreadPool.start(kernels, module, memory, threads);
}

class ThreadPool implements KernelRunner {
  private closed = false;
  private workerError: Error | undefined;
  private constructor(
    readonly threads: number,
    private readonly kernels: KernelExports,
    private readonly control: Int32Array,
    private readonly args: Float64Array,
    private readonly workers: Worker[],
  ) {}

  static async start(kernels: KernelExports, module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<ThreadPool> {
    const shared: PoolShared = { control: new SharedArrayBuffer(4 * CONTROL_SLOTS), args: new SharedArrayBuffer(8 * MAX_ARGS) };
    const workers: Worker[] = [];
    const ready: Array<Promise<void>> = [];
    for (let tid = 1; tid < threads; tid++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { module, memory, shared, tid, threads } });
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', (m: unknown) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
          worker.once('error', reject);
        }),
      );
      workers.push(worker);
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw new Error(`starting the kernel worker threads failed: ${(err as Error).message}`);
    }
    const pool = new ThreadPool(threads, kernels, new Int32Array(shared.control), new Float64Array(shared.args), workers);
    for (const w of workers) {
      w.on('error', (err) => (pool.workerError = err));
      w.unref(); // an idle pool never keeps the process alive
    }
    return pool;
  }

  run(kernel: KernelName, total: number, align: number, args: number[]): void {
    if (this.closed) throw new Error('the kernel thread pool is closed');
    if (this.workerError) throw new Error(`a kernel worker thread died: ${this.workerError.message}`);
    if (args.length > MAX_ARGS) throw new RangeError(`${kernel}: too many arguments`);
    if (total <= 0) return;
    const c = this.control;
    this.args.set(args);
    c[KERNEL] = KERNEL_NAMES.indexOf(kernel);
    c[TOTAL] = total;
    c[ALIGN] = align;
    c[NARGS] = args.length;
    Atomics.store(c, DONE, 0);
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    let mine: unknown;
    try {
      runShare(this.kernels, c, this.args, 0, this.threads);
    } catch (err) {
      mine = err;
    }
    const others = this.threads - 1;
    for (let d = Atomics.load(c, DONE); d < others; d = Atomics.load(c, DONE)) Atomics.wait(c, DONE, d, 1000);
    if (mine) throw mine;
    if (Atomics.load(c, FAILED)) {
      Atomics.store(c, FAILED, 0);
      throw new Error(`kernel ${kernel} failed in a worker thread (see stderr)`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.control;
    c[KERNEL] = -1;
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    // ref() again: awaiting the exit of unref'd workers would leave nothing keeping the loop alive
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => (w.threadId < 0 ? resolve() : (w.ref(), w.once('exit', () => resolve()))))));
  }
}

export const CONTROL = { SEQ, DONE, KERNEL, FAILED } as const;
