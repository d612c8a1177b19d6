// `npm run bench -- engines [--rounds R] [--reps N] [--threads T]`: CPU generation speed of the two
// no-Python engines on one tiny Llama-style model (4 layers, width 128, grouped-query attention, 0.9M
// parameters, vocabulary 512), converted by the kit to ONNX fp32 (the kit's kv-delta graph, run by
// OnnxCausalLM) and to GGUF f32 and q8_0 (run by llama.cpp through node-llama-cpp). Prompts of 256
// tokens, 64 new tokens, greedy, batch 1, 8 and 32; each side in its own process, sides alternating
// every round, the figure the median over rounds of each process's median. The same threads for all
// sides (default 1: llama.cpp's spinning thread pool collapses on a machine shared with other work).
// Greedy tokens are compared where the precision is the same (ONNX fp32 and GGUF f32 with a float32
// KV cache): rows identical, else the mean number of leading tokens shared (llama.cpp groups the
// sequences' tokens into batches as they arrive, so summation order, and a near-tie, can vary from run
// to run); for q8_0 (and llama.cpp's float16 cache) the mean number of leading tokens shared with fp32.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../lib/convert/convert.js';
import { convertToGguf } from '../../lib/convert/to-gguf.js';
import { llamaConfig, llamaWeights, writeCheckpoint } from '../convert/hf-checkpoint.js';
import { llamaWeightSpecs } from '../../lib/convert/hf-config.js';

const BATCHES = [1, 8, 32];
const PROMPT_TOKENS = 256;
const NEW_TOKENS = 64;
type Side = 'onnx' | 'ggufF32' | 'ggufQ8';
const SIDES: Side[] = ['onnx', 'ggufF32', 'ggufQ8'];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(args[i + 1]);
}

/** Mean number of leading tokens two greedy runs share per row (after the first difference the texts go separate ways). */
function sharedPrefix(a: number[][], b: number[][]): number {
  const lengths = a.map((row, r) => {
    let k = 0;
    while (k < row.length && row[k] === b[r][k]) k++;
    return k;
  });
  return lengths.reduce((s, x) => s + x, 0) / lengths.length;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rounds = flag(args, 'rounds', 3);
  const reps = flag(args, 'reps', 3);
  const threads = flag(args, 'threads', 1);
  const root = mkdtempSync(join(tmpdir(), 'ipt-bench-engines-'));
  const worker = join(dirname(fileURLToPath(import.meta.url)), '_engines-worker.js');
  const load0 = loadavg();
  try {
    const config = llamaConfig({
      vocab: 512,
      hidden: 128,
      intermediate: 384,
      layers: 4,
      heads: 4,
      kvHeads: 2,
      maxPositions: 512,
    });
    const src = join(root, 'checkpoint');
    const { spec, weights } = llamaWeights(config, 1234);
    const parameters = llamaWeightSpecs(spec).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    writeCheckpoint(src, config, weights, { shards: ['F32'] });
    const models: Record<Side, { engine: string; path: string }> = {
      onnx: { engine: 'onnx', path: join(root, 'onnx') },
      ggufF32: { engine: 'gguf', path: join(root, 'model-f32.gguf') },
      ggufQ8: { engine: 'gguf', path: join(root, 'model-q8_0.gguf') },
    };
    await convertCheckpoint({ source: src, out: models.onnx.path, progress: 'silent' });
    await convertToGguf({ source: src, out: models.ggufF32.path, dtype: 'f32' });
    await convertToGguf({ source: src, out: models.ggufQ8.path, dtype: 'q8_0' });
    console.log(
      `engines bench: tiny Llama (${(parameters / 1e6).toFixed(2)}M parameters), prompts ${PROMPT_TOKENS}, ${NEW_TOKENS} new tokens, greedy, ${threads} thread(s), ${rounds} rounds x ${reps} reps; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
    );
    const ms: Record<number, Record<Side, number[]>> = {};
    const tokens: Record<number, Partial<Record<Side, number[][]>>> = {};
    const loads: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const batch of BATCHES) {
        ms[batch] ??= { onnx: [], ggufF32: [], ggufQ8: [] };
        tokens[batch] ??= {};
        for (const side of r % 2 === 0 ? SIDES : [...SIDES].reverse()) {
          const repsHere = Math.max(reps, Math.ceil((reps * 8) / batch));
          const { engine, path } = models[side];
          const proc = spawnSync(
            process.execPath,
            [
              worker,
              engine,
              path,
              String(batch),
              String(repsHere),
              String(threads),
              'cpu',
              String(PROMPT_TOKENS),
              String(NEW_TOKENS),
            ],
            { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
          );
          if (proc.status !== 0) throw new Error(`${side} batch ${batch} failed:\n${proc.stderr}`);
          const out = JSON.parse(proc.stdout.trim().split('\n').pop()!) as { ms: number[]; tokens: number[][] };
          const m = median(out.ms);
          ms[batch][side].push(m);
          tokens[batch][side] = out.tokens;
          loads.push(loadavg()[0]);
          console.log(
            `round ${r + 1} batch ${String(batch).padStart(2)} ${side.padEnd(8)} ${m.toFixed(1).padStart(8)} ms ${Math.round(
              (batch * NEW_TOKENS * 1000) / m,
            )
              .toString()
              .padStart(6)} tok/s  (load ${loadavg()[0].toFixed(2)})`,
          );
        }
      }
    }
    const tokPerS = (batch: number, side: Side) => Math.round((batch * NEW_TOKENS * 1000) / median(ms[batch][side]));
    const batches = BATCHES.map((batch) => ({
      batch,
      onnxFp32: tokPerS(batch, 'onnx'),
      ggufF32: tokPerS(batch, 'ggufF32'),
      ggufQ8_0: tokPerS(batch, 'ggufQ8'),
      f32TokensIdentical: JSON.stringify(tokens[batch].onnx) === JSON.stringify(tokens[batch].ggufF32),
      f32IdenticalRows: tokens[batch].onnx!.filter(
        (row, r) => JSON.stringify(row) === JSON.stringify(tokens[batch].ggufF32![r]),
      ).length,
      f32SharedPrefix: Math.round(sharedPrefix(tokens[batch].onnx!, tokens[batch].ggufF32!) * 10) / 10,
      q8_0SharedPrefix: Math.round(sharedPrefix(tokens[batch].onnx!, tokens[batch].ggufQ8!) * 10) / 10,
    }));
    console.log(
      '\n| batch | ONNX fp32 (kit) | llama.cpp GGUF f32 | llama.cpp GGUF q8_0 | f32: rows with identical greedy tokens | q8_0: leading tokens equal to fp32 (of 64) |',
    );
    console.log('|---|---|---|---|---|---|');
    for (const b of batches)
      console.log(
        `| ${b.batch} | ${b.onnxFp32} | ${b.ggufF32} | ${b.ggufQ8_0} | ${b.f32IdenticalRows} of ${b.batch}${b.f32TokensIdentical ? '' : ` (others share ${b.f32SharedPrefix} leading tokens on average)`} | ${b.q8_0SharedPrefix} |`,
      );
    console.log(
      `(tokens/s; load average ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)} during the runs)`,
    );
    return {
      batches,
      model: { parameters, promptTokens: PROMPT_TOKENS, newTokens: NEW_TOKENS },
      machine: {
        cpus: cpus().length,
        threads,
        loadAverageStart: Math.round(load0[0] * 100) / 100,
        loadAverageMin: Math.min(...loads),
        loadAverageMax: Math.max(...loads),
      },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
