// `npm run bench -- training [--seconds S] [--threads 1,2]`: training throughput of the reference
// config (vocab 512, context 128, width 128, 4 heads, 2 layers, MLP 4x, batch 16, fp32, AdamW).
// Each thread count runs in its own process so peak RSS is its own. Figures are steady-state full
// optimizer steps (forward, backward, clipping, AdamW) after warm-up.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const seconds = option(args, 'seconds', '10');
  const threads = option(args, 'threads', '1,2').split(',').map(Number);
  const child = join(dirname(fileURLToPath(import.meta.url)), '_training-child.js');
  const runs = [];
  const cpu: number[] = [];
  const loadBefore = loadavg();
  for (const t of threads) {
    process.stderr.write(`training bench: ${t} thread(s), ${seconds} s\n`);
    const r = spawnSync(process.execPath, [child, '--threads', String(t), '--seconds', seconds], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`the ${t}-thread run failed (exit ${r.status})`);
    const { cpuMsPerStep, ...fig } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      threads: number;
      tokPerS: number;
      msPerStep: number;
      peakRssMB: number;
      cpuMsPerStep: number;
    };
    process.stderr.write(`  ${JSON.stringify(fig)}, CPU ${cpuMsPerStep} ms per step over all threads\n`);
    runs.push(fig);
    cpu.push(cpuMsPerStep);
  }
  // the machine's load and the CPU time per step say how much of the wall time was the engine's
  return { runs, cpuMsPerStep: cpu, loadAvg1m: [Number(loadBefore[0].toFixed(2)), Number(loadavg()[0].toFixed(2))] };
}
