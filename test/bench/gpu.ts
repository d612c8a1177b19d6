// `npm run bench -- gpu [--shape 7b|1b|tiny] [--batches 1,8,32] [--threads N] [--keep DIR]`
//
// NOT YET RUN ON A GPU. Written for a later session on a machine with one; the figures it prints have
// never been measured. (Checked here only with --shape tiny on the CPU, to know the script runs.)
//
// Synthesis speed on the GPU paths that need no Python, for a Mistral-7B-shaped model (the
// instruction synthesizer's shape: 32 layers, width 4096, 32 heads, 8 key/value heads, vocabulary
// 32000) with random BF16 weights, converted by the kit to ONNX fp16 and int4 and to GGUF f16 and
// q8_0. For each engine, provider and batch (1, 8, 32; prompts of 512 tokens, 128 new tokens,
// greedy) it reports tokens/s, or why that path did not start:
//   ONNX Runtime: webgpu (fp16, int4), cuda (fp16, int4; needs `npm run setup:cuda`), cpu (int4)
//   llama.cpp:    cuda and vulkan (f16, q8_0; need `npm run setup:llama -- --gpu`), cpu (q8_0)
// Needs about 15 GB (checkpoint) + 15 GB (fp16) + 5 GB (int4) + 15 GB + 8 GB (GGUF) of disk under the
// temp folder, converted one after another and deleted at the end; each measurement runs in its own
// process with a time limit. Before running: `nvidia-smi` / `vulkaninfo --summary`, `ipt providers`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../lib/convert/convert.js';
import { convertToGguf } from '../../lib/convert/to-gguf.js';
import { SHAPE_1B, SHAPE_7B, writeBenchCheckpoint, type BenchShape } from './_checkpoint.js';

const TINY: BenchShape = {
  hidden: 128,
  intermediate: 256,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  vocab: 512,
  maxPositions: 1024,
};
const PROMPT_TOKENS = 512;
const NEW_TOKENS = 128;
const TIME_LIMIT_MS = 20 * 60 * 1000;

type Path = { engine: 'onnx' | 'gguf'; model: string; provider: string };

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const shapeName = option(args, 'shape') ?? '7b';
  const shape = shapeName === 'tiny' ? TINY : shapeName === '1b' ? SHAPE_1B : SHAPE_7B;
  const batches = (option(args, 'batches') ?? '1,8,32').split(',').map(Number);
  const keep = option(args, 'keep');
  const threads = Number(option(args, 'threads') ?? cpus().length);
  const root = keep ?? mkdtempSync(join(tmpdir(), 'ipt-bench-gpu-'));
  mkdirSync(root, { recursive: true });
  const worker = join(dirname(fileURLToPath(import.meta.url)), '_engines-worker.js');
  console.log(
    `gpu bench (NOT YET RUN ON A GPU before this run): shape ${shapeName}, batches ${batches.join('/')}, prompts ${PROMPT_TOKENS}, ${NEW_TOKENS} new tokens; load average ${loadavg()[0].toFixed(2)}`,
  );
  try {
    const src = join(root, 'checkpoint');
    if (!existsSync(join(src, 'config.json'))) writeBenchCheckpoint(src, shape);
    const models = {
      onnxFp16: join(root, 'onnx-fp16'),
      onnxInt4: join(root, 'onnx-int4'),
      ggufF16: join(root, 'model-f16.gguf'),
      ggufQ8: join(root, 'model-q8_0.gguf'),
    };
    if (!existsSync(models.onnxFp16))
      await convertCheckpoint({ source: src, out: models.onnxFp16, dtype: 'fp16', progress: 'lines' });
    if (!existsSync(models.onnxInt4))
      await convertCheckpoint({ source: src, out: models.onnxInt4, dtype: 'int4', progress: 'lines' });
    if (!existsSync(models.ggufF16)) await convertToGguf({ source: src, out: models.ggufF16, dtype: 'f16' });
    if (!existsSync(models.ggufQ8)) await convertToGguf({ source: src, out: models.ggufQ8, dtype: 'q8_0' });
    const paths: Array<Path & { label: string }> = [
      { label: 'ONNX fp16, webgpu', engine: 'onnx', model: models.onnxFp16, provider: 'webgpu' },
      { label: 'ONNX int4, webgpu', engine: 'onnx', model: models.onnxInt4, provider: 'webgpu' },
      { label: 'ONNX fp16, cuda', engine: 'onnx', model: models.onnxFp16, provider: 'cuda' },
      { label: 'ONNX int4, cuda', engine: 'onnx', model: models.onnxInt4, provider: 'cuda' },
      { label: 'ONNX int4, cpu', engine: 'onnx', model: models.onnxInt4, provider: 'cpu' },
      { label: 'GGUF f16, llama.cpp cuda', engine: 'gguf', model: models.ggufF16, provider: 'cuda' },
      { label: 'GGUF q8_0, llama.cpp cuda', engine: 'gguf', model: models.ggufQ8, provider: 'cuda' },
      { label: 'GGUF f16, llama.cpp vulkan', engine: 'gguf', model: models.ggufF16, provider: 'vulkan' },
      { label: 'GGUF q8_0, llama.cpp vulkan', engine: 'gguf', model: models.ggufQ8, provider: 'vulkan' },
      { label: 'GGUF q8_0, llama.cpp cpu', engine: 'gguf', model: models.ggufQ8, provider: 'cpu' },
    ];
    const rows: Array<{ path: string; batch: number; tokensPerSecond?: number; error?: string; provider?: string }> =
      [];
    for (const p of paths) {
      let failed: string | undefined;
      for (const batch of batches) {
        if (failed) {
          rows.push({ path: p.label, batch, error: failed });
          continue;
        }
        const proc = spawnSync(
          process.execPath,
          [
            worker,
            p.engine,
            p.model,
            String(batch),
            '2',
            String(threads),
            p.provider,
            String(PROMPT_TOKENS),
            String(NEW_TOKENS),
          ],
          {
            encoding: 'utf8',
            timeout: TIME_LIMIT_MS,
            maxBuffer: 256 * 2 ** 20,
          },
        );
        if (proc.status !== 0) {
          const said =
            proc.status === 3
              ? (JSON.parse(proc.stdout.trim().split('\n').pop()!) as { error: string }).error
              : undefined;
          failed =
            said ??
            `exit ${proc.status ?? proc.signal}: ${
              (proc.stderr ?? '')
                .trim()
                .split('\n')
                .find((l) => /Error/.test(l)) ?? 'see stderr'
            }`;
          rows.push({ path: p.label, batch, error: failed });
          console.log(`${p.label.padEnd(30)} batch ${batch}: ${failed}`);
          continue;
        }
        const out = JSON.parse(proc.stdout.trim().split('\n').pop()!) as { ms: number[]; provider: string };
        const ms = [...out.ms].sort((a, b) => a - b)[Math.floor(out.ms.length / 2)];
        const tokensPerSecond = Math.round((batch * NEW_TOKENS * 1000) / ms);
        rows.push({ path: p.label, batch, tokensPerSecond, provider: out.provider });
        console.log(
          `${p.label.padEnd(30)} batch ${String(batch).padStart(2)}: ${tokensPerSecond} tokens/s (ran on ${out.provider})`,
        );
      }
    }
    console.log(`\n| path | ${batches.map((b) => `batch ${b}`).join(' | ')} |`);
    console.log(`|---|${batches.map(() => '---').join('|')}|`);
    for (const p of paths) {
      const cells = batches.map((b) => {
        const r = rows.find((x) => x.path === p.label && x.batch === b)!;
        return r.tokensPerSecond !== undefined ? String(r.tokensPerSecond) : 'did not start';
      });
      console.log(`| ${p.label} | ${cells.join(' | ')} |`);
    }
    return { shape: shapeName, promptTokens: PROMPT_TOKENS, newTokens: NEW_TOKENS, rows, loadAverage: loadavg()[0] };
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}
