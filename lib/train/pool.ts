// A fork-join thread pool for the kernels: the main thread and (threads - 1) worker threads each
// hold an instance of the kernel module over the same shared memory. To run a kernel over work
// items [0, total), the main thread writes the kernel's index and arguments into a small shared
// control block and wakes the workers (Atomics.notify); then every thread, the main one included,
// claims chunks of items from a shared ticket counter until none are left, and the main thread
// waits until every chunk is done. No messages are posted on the hot path.
//
// Claiming chunks rather than splitting the work in fixed shares keeps all cores busy when the
// machine is shared: a thread the OS parks for a while simply does fewer chunks. Kernels compute
// each output the same way whatever range it falls in, so the results depend neither on the
// number of threads nor on which thread ran which chunk.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { KERNEL_NAMES, instantiateKernels, type KernelExports, type KernelName } from './wasm.js';

const MAX_ARGS = 24;
// Control block (Int32Array) slots.
const SEQ = 0; // bumped once per job; idle workers wait on it
const TICKET = 1; // (job tag << 16) | next chunk to claim
const COMPLETED = 2; // chunks of the current job done
const KERNEL = 3; // index into KERNEL_NAMES, or -1 to exit
const TOTAL = 4;
const CHUNK = 5; // items per chunk
const CHUNKS = 6;
const NARGS = 7;
const FAILED = 8; // set by a thread whose chunk threw
const CONTROL_SLOTS = 16;
const TAG_MASK = 0x7fff;
const MAX_CHUNKS = 0xffff;
/** Chunks per thread: enough to even out a busy machine, few enough to keep each chunk's overhead small. */
const CHUNKS_PER_THREAD = 4;

export type PoolShared = { control: SharedArrayBuffer; args: SharedArrayBuffer };

/** Items per chunk for a job: about CHUNKS_PER_THREAD chunks per thread, a multiple of `align`. */
export function chunkSize(total: number, threads: number, align: number): number {
  const wanted = Math.ceil(total / (threads * CHUNKS_PER_THREAD));
  return Math.max(align, Math.ceil(Math.max(wanted, total / MAX_CHUNKS) / align) * align);
}

/**
 * Claims and runs chunks of the job tagged `tag` until none are left (or a newer job has begun,
 * which means this one is finished). `args` must have been read after the job's SEQ was seen.
 */
export function runChunks(kernels: KernelExports, control: Int32Array, args: number[], tag: number, tid: number): void {
  const fn = kernels[KERNEL_NAMES[control[KERNEL]]];
  const total = control[TOTAL],
    chunk = control[CHUNK],
    chunks = control[CHUNKS];
  for (;;) {
    const ticket = Atomics.load(control, TICKET);
    if (ticket >>> 16 !== tag) return;
    const index = ticket & 0xffff;
    if (index >= chunks) return;
    if (Atomics.compareExchange(control, TICKET, ticket, ticket + 1) !== ticket) continue; // another thread took it
    try {
      const start = index * chunk;
      fn(...args, start, Math.min(total, start + chunk), tid);
    } catch (err) {
      Atomics.store(control, FAILED, 1);
      process.stderr.write(
        `kernel ${KERNEL_NAMES[control[KERNEL]]} failed on thread ${tid}: ${(err as Error).stack ?? err}\n`,
      );
    }
    if (Atomics.add(control, COMPLETED, 1) + 1 === chunks) Atomics.notify(control, COMPLETED);
  }
}

/** The job's tag, kernel and arguments, read by a worker that has just seen SEQ change. */
export function readJob(control: Int32Array, args: Float64Array): { tag: number; exit: boolean; args: number[] } {
  const seq = Atomics.load(control, SEQ);
  return { tag: seq & TAG_MASK, exit: control[KERNEL] < 0, args: Array.from(args.subarray(0, control[NARGS])) };
}

export interface KernelRunner {
  readonly threads: number;
  /** Runs `kernel(...args, start, end, tid)` over ranges covering [0, total), each a multiple of `align` long (but the last). */
  run(kernel: KernelName, total: number, align: number, args: number[]): void;
  close(): Promise<void>;
}

export function defaultThreads(): number {
  return availableParallelism();
}

/** A runner over `memory` with `threads` threads in all (the calling thread included). */
export async function createKernelRunner(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  threads: number,
): Promise<KernelRunner> {
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
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
  private seq = 0;
  private constructor(
    readonly threads: number,
    private readonly kernels: KernelExports,
    private readonly control: Int32Array,
    private readonly args: Float64Array,
    private readonly workers: Worker[],
  ) {}

  static async start(
    kernels: KernelExports,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    threads: number,
  ): Promise<ThreadPool> {
    const shared: PoolShared = {
      control: new SharedArrayBuffer(4 * CONTROL_SLOTS),
      args: new SharedArrayBuffer(8 * MAX_ARGS),
    };
    const workers: Worker[] = [];
    const ready: Array<Promise<void>> = [];
    for (let tid = 1; tid < threads; tid++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), {
        workerData: { module, memory, shared, tid },
      });
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
    const pool = new ThreadPool(
      threads,
      kernels,
      new Int32Array(shared.control),
      new Float64Array(shared.args),
      workers,
    );
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
    const chunk = chunkSize(total, this.threads, align);
    const chunks = Math.ceil(total / chunk);
    this.seq = (this.seq + 1) | 0;
    const tag = this.seq & TAG_MASK;
    // 1. a ticket of the new tag with nothing to claim: a worker still holding the previous job's
    //    tag can claim nothing from here on, while the job's description is being rewritten;
    // 2. the description; 3. the ticket opens; 4. SEQ publishes the job to idle workers.
    Atomics.store(c, TICKET, (tag << 16) | MAX_CHUNKS);
    this.args.set(args);
    c[KERNEL] = KERNEL_NAMES.indexOf(kernel);
    c[TOTAL] = total;
    c[CHUNK] = chunk;
    c[CHUNKS] = chunks;
    c[NARGS] = args.length;
    Atomics.store(c, COMPLETED, 0);
    Atomics.store(c, TICKET, tag << 16);
    Atomics.store(c, SEQ, this.seq);
    Atomics.notify(c, SEQ);
    runChunks(this.kernels, c, args, tag, 0);
    // the last chunks may still be running on other threads: spin briefly, then sleep
    let spins = 0;
    for (let done = Atomics.load(c, COMPLETED); done < chunks; done = Atomics.load(c, COMPLETED)) {
      if (++spins > 2000) Atomics.wait(c, COMPLETED, done, 1000);
    }
    if (Atomics.load(c, FAILED)) {
      Atomics.store(c, FAILED, 0);
      throw new Error(`kernel ${kernel} failed (see stderr)`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.control;
    c[KERNEL] = -1;
    this.seq = (this.seq + 1) | 0;
    Atomics.store(c, TICKET, ((this.seq & TAG_MASK) << 16) | MAX_CHUNKS);
    Atomics.store(c, SEQ, this.seq);
    Atomics.notify(c, SEQ);
    // ref() again: awaiting the exit of unref'd workers would leave nothing keeping the loop alive
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => (w.threadId < 0 ? resolve() : (w.ref(), w.once('exit', () => resolve())))),
      ),
    );
  }
}

export const CONTROL = { SEQ } as const;
