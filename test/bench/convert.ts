// `npm run bench -- convert [--shape 1b|7b] [--keep]`: ipt convert on a generated checkpoint of at least
// 1B parameters in BF16 shards (TinyLlama-1.1B's shape by default), written under the system temp
// folder and deleted afterwards. For ONNX fp32, fp16 and int4 (and GGUF f16 and q8_0) it measures
// the time, checkpoint MB/s and the peak RSS of the converting process (each in its own process).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHAPE_1B, SHAPE_7B, writeBenchCheckpoint } from './_checkpoint.js';

const JOBS: Array<{ format: 'onnx' | 'gguf'; dtype: string }> = [
  { format: 'onnx', dtype: 'fp32' },
  { format: 'onnx', dtype: 'fp16' },
  { format: 'onnx', dtype: 'int4' },
  { format: 'gguf', dtype: 'f16' },
  { format: 'gguf', dtype: 'q8_0' },
];

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const shape = args.includes('--shape') && args[args.indexOf('--shape') + 1] === '7b' ? SHAPE_7B : SHAPE_1B;
  const root = mkdtempSync(join(tmpdir(), 'ipt-bench-convert-'));
  const child = join(dirname(fileURLToPath(import.meta.url)), '_convert-child.js');
  try {
    const src = join(root, 'checkpoint');
    const t0 = performance.now();
    const ckpt = writeBenchCheckpoint(src, shape);
    console.log(
      `convert bench: ${(ckpt.parameters / 1e9).toFixed(2)}B parameters, ${(ckpt.bytes / 2 ** 30).toFixed(2)} GiB of BF16 shards written in ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const results = [];
    for (const job of JOBS) {
      const out = join(root, job.format === 'gguf' ? `model-${job.dtype}.gguf` : `onnx-${job.dtype}`);
      const load = loadavg()[0];
      const proc = spawnSync(process.execPath, [child, src, out, job.format, job.dtype], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (proc.status !== 0) throw new Error(`${job.format} ${job.dtype} failed`);
      const r = JSON.parse(proc.stdout.trim().split('\n').pop()!) as {
        seconds: number;
        maxRssMB: number;
        outputBytes: number;
      };
      const row = {
        ...job,
        seconds: Math.round(r.seconds * 10) / 10,
        mbPerSecond: Math.round(ckpt.bytes / 2 ** 20 / r.seconds),
        peakRssMB: Math.round(r.maxRssMB),
        outputGiB: Math.round((r.outputBytes / 2 ** 30) * 100) / 100,
        loadAverage: Math.round(load * 100) / 100,
      };
      console.log(
        `${job.format} ${job.dtype.padEnd(5)} ${String(row.seconds).padStart(6)} s  ${String(row.mbPerSecond).padStart(4)} MB/s  peak RSS ${row.peakRssMB} MB  output ${row.outputGiB} GiB  (load ${row.loadAverage})`,
      );
      results.push(row);
      rmSync(out, { recursive: true, force: true });
    }
    console.log('\n| output | time (s) | checkpoint MB/s | peak RSS (MB) | output (GiB) | load average |');
    console.log('|---|---|---|---|---|---|');
    for (const r of results)
      console.log(
        `| ${r.format} ${r.dtype} | ${r.seconds} | ${r.mbPerSecond} | ${r.peakRssMB} | ${r.outputGiB} | ${r.loadAverage} |`,
      );
    return { parameters: ckpt.parameters, checkpointBytes: ckpt.bytes, shape, results };
  } finally {
    if (!args.includes('--keep')) rmSync(root, { recursive: true, force: true });
  }
}
