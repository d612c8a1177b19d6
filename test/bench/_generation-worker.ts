// One side of the generation benchmark in a process of its own (env/engines.md, "Facts the engine
// relies on": importing transformers.js into a process slows another engine's loop through its
// heap, so the sides never share a process). Usage: node _generation-worker.js <side> <modelDir> <batch> <reps> <threads>;
// prints one JSON line: {"side", "batch", "ms": [...], "tokens": [[...]]}.
import { basename, dirname, resolve } from 'node:path';
import { benchPrompts, NEW_TOKENS } from './_generation-shared.js';

type Result = { side: string; batch: number; ms: number[]; tokens: number[][] };

async function timeReps(reps: number, once: () => Promise<number[][]>): Promise<{ ms: number[]; tokens: number[][] }> {
  let tokens = await once(); // warm-up: allocations, first-run kernels
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    tokens = await once();
    ms.push(performance.now() - t0);
  }
  return { ms, tokens };
}

const sessionOptions = (threads: number) => ({
  graphOptimizationLevel: 'all' as const,
  executionMode: 'sequential' as const,
  intraOpNumThreads: threads,
  extra: { session: { 'intra_op.allow_spinning': '0' } },
});

async function ours(
  dir: string,
  load: { file?: string; layout?: 'optimum' | 'kv-delta' },
  batch: number,
  reps: number,
  threads: number,
) {
  const { OnnxCausalLM } = await import('../../lib/engine/onnx-lm.js');
  const lm = await OnnxCausalLM.load(dir, { ...load, batchSize: batch, threads });
  const prompts = benchPrompts(batch);
  return timeReps(reps, () => lm.generate(prompts, { maxNewTokens: NEW_TOKENS }));
}

async function transformersJs(dir: string, batch: number, reps: number, threads: number) {
  const { env, AutoModelForCausalLM, Tensor } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(resolve(dir)) + '/';
  const model = await AutoModelForCausalLM.from_pretrained(basename(resolve(dir)), {
    dtype: 'fp32',
    device: 'cpu',
    session_options: sessionOptions(threads),
  });
  const prompts = benchPrompts(batch);
  const L = prompts[0].length;
  const ids = new BigInt64Array(batch * L);
  prompts.forEach((p, b) => p.forEach((t, j) => (ids[b * L + j] = BigInt(t))));
  const input_ids = new Tensor('int64', ids, [batch, L]);
  const attention_mask = new Tensor('int64', new BigInt64Array(batch * L).fill(1n), [batch, L]);
  return timeReps(reps, async () => {
    const out = (await model.generate({
      input_ids,
      attention_mask,
      max_new_tokens: NEW_TOKENS,
      do_sample: false,
    } as never)) as { tolist(): Array<Array<number | bigint>> };
    return out.tolist().map((row) => row.slice(L).map(Number));
  });
}

const [side, dir, batchArg, repsArg, threadsArg] = process.argv.slice(2);
const batch = Number(batchArg);
const reps = Number(repsArg);
const threads = Number(threadsArg);
// ours: the engine's default on the file transformers.js loads; oursAsIs: the same file with the
// Optimum cache round trip; oursKvDeltaGraph: the kit's kv-delta file with the same weights.
const run =
  side === 'ours'
    ? ours(dir, { file: 'onnx/model.onnx' }, batch, reps, threads)
    : side === 'oursAsIs'
      ? ours(dir, { file: 'onnx/model.onnx', layout: 'optimum' }, batch, reps, threads)
      : side === 'oursKvDeltaGraph'
        ? ours(dir, { file: 'onnx/model_kv_delta.onnx', layout: 'kv-delta' }, batch, reps, threads)
        : side === 'transformersJs'
          ? transformersJs(dir, batch, reps, threads)
          : undefined;
if (!run) throw new Error(`unknown side ${side}`);
const { ms, tokens } = await run;
const result: Result = { side, batch, ms, tokens };
process.stdout.write(JSON.stringify(result) + '\n');
