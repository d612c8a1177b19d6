// `npm run build` step: compiles the AssemblyScript training kernels into dist/lib/train/kernels.wasm
// (skipped when the wasm is already built from the current source).
import { buildKernels } from './wasm.js';

const { path, rebuilt } = await buildKernels({ force: process.argv.includes('--force') });
if (rebuilt) process.stdout.write(`built ${path}\n`);
