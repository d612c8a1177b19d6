// Building and loading the AssemblyScript kernels (lib/train/asm/kernels.ts).
// `npm run build` compiles them into dist/lib/train/kernels.wasm (a build output, never committed),
// and `kernelModule()` compiles them again on first use when the wasm is missing or was built from
// another version of the source, so tests and notebooks never run stale kernels.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { readJson, writeFileAtomic, writeJson } from '../repro/files.js';
import { sha256 } from '../repro/hash.js';
import { projectRoot } from '../repro/project.js';

/** The kernels every thread can run. Order matters: the pool passes kernels by index. */
export const KERNEL_NAMES = [
  'gemm',
  'packPanels',
  'gemmPacked',
  'gemmAtBPacked',
  'transpose',
  'attentionForward',
  'attentionBackward',
  'geluForward',
  'geluBackward',
  'add',
  'layernormForward',
  'layernormBackwardInput',
  'layernormBackwardParams',
  'biasBackward',
  'embeddingForward',
  'embeddingBackward',
  'crossEntropy',
  'adamw',
  'sumSquares',
] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];
export type KernelExports = Record<KernelName, (...args: number[]) => void>;

/** Shared memory (threads), SIMD, no runtime: the module only reads and writes memory it is given. */
export const ASC_FLAGS = [
  '--enable',
  'simd,threads',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '65536',
  '--runtime',
  'stub',
  '-O3',
  '--noAssert',
];

/** The kernels' own static data lives below this byte address; the heap starts here. */
export const KERNEL_DATA_END = 65536;

const here = dirname(fileURLToPath(import.meta.url));

export function kernelWasmPath(): string {
  return join(here, 'kernels.wasm');
}

export function kernelSourcePath(): string {
  return join(projectRoot(), 'lib', 'train', 'asm', 'kernels.ts');
}

type Stamp = { sourceSha256: string; flags: string[]; asc: string };

function ascVersion(): string {
  const require = createRequire(import.meta.url);
  return (readJson(require.resolve('assemblyscript/package.json')) as { version: string }).version;
}

function wantedStamp(): Stamp | undefined {
  const src = kernelSourcePath();
  if (!existsSync(src)) return undefined; // an installed copy without sources: trust the shipped wasm
  return { sourceSha256: sha256(readFileSync(src)), flags: ASC_FLAGS, asc: ascVersion() };
}

function isCurrent(wasmPath: string, want: Stamp | undefined): boolean {
  if (!existsSync(wasmPath)) return false;
  if (!want) return true;
  const stampPath = `${wasmPath}.json`;
  if (!existsSync(stampPath)) return false;
  try {
    const have = readJson(stampPath) as Stamp;
    return (
      have.sourceSha256 === want.sourceSha256 && have.asc === want.asc && have.flags.join(' ') === want.flags.join(' ')
    );
  } catch {
    return false;
  }
}

/** Compiles the kernels with the AssemblyScript compiler unless the wasm is current. */
export async function buildKernels(
  options: { force?: boolean; /** default: next to this module in dist/ */ wasmPath?: string } = {},
): Promise<{ path: string; rebuilt: boolean }> {
  const wasmPath = options.wasmPath ?? kernelWasmPath();
  const want = wantedStamp();
  if (!options.force && isCurrent(wasmPath, want)) return { path: wasmPath, rebuilt: false };
  if (!want)
    throw new Error(
      `the training kernels are missing: ${wasmPath} does not exist and ${kernelSourcePath()} is not there to compile`,
    );
  const asc = (await import('assemblyscript/asc')).default;
  let binary: Uint8Array | undefined;
  let log = '';
  const { error } = await asc.main([kernelSourcePath(), '--outFile', 'kernels.wasm', ...ASC_FLAGS], {
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (s: Uint8Array | string) => void (log += String(s)) },
    stderr: { write: (s: Uint8Array | string) => void (log += String(s)) },
  });
  if (error || !binary)
    throw new Error(`compiling the training kernels failed: ${error?.message ?? 'no output'}\n${log}`);
  writeFileAtomic(wasmPath, binary);
  writeJson(`${wasmPath}.json`, want);
  return { path: wasmPath, rebuilt: true };
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** The compiled kernel module, built first if needed. Compiled once per process. */
export function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= buildKernels().then(({ path }) => WebAssembly.compile(readFileSync(path)));
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

/** One instance of the kernels over `memory` (each thread makes its own over the same memory). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('kernel abort');
      },
    },
  });
  const exports = instance.exports as Record<string, unknown>;
  for (const name of KERNEL_NAMES) {
    if (typeof exports[name] !== 'function')
      throw new Error(`the kernel module has no ${name}: rebuild with npm run build`);
  }
  return exports as unknown as KernelExports;
}
