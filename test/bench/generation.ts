// `npm run bench -- generation [--rounds R] [--reps N]`: greedy generation speed of the kit's engine
// against transformers.js on the same ONNX file (onnx/model.onnx of a kit-built GPT of about 1M
// parameters, context 512, Optimum I/O), prompts of 256 tokens, 64 new tokens, batch 1, 8 and 32.
// Each side runs in its own process (one per batch size and round), sides alternate order every
// round, and the figure per side is the median over rounds of each process's median.
//   ours              the engine's default on that file: the graph's new cache rows are exposed as
//                     extra outputs, the engine keeps the cache, the whole cache is never fetched
//   oursAsIs          the same file with the plain Optimum round trip (whole cache out and in)
//   oursKvDeltaGraph  the kit's kv-delta file of the same weights (what a kit folder runs by default)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGptModelFolder, seededGptWeights } from '../../lib/engine/onnx-gpt.js';
import { gptParameterCount } from '../../lib/engine/gpt.js';
import { BENCH_GPT, BATCHES, NEW_TOKENS, PROMPT_TOKENS, SILENT_TOKENS } from './_generation-shared.js';

type Side = 'ours' | 'transformersJs' | 'oursAsIs' | 'oursKvDeltaGraph';
const SIDES: Side[] = ['ours', 'transformersJs', 'oursAsIs', 'oursKvDeltaGraph'];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rounds = flag(args, 'rounds', 4);
  const reps = flag(args, 'reps', 3);
  const threads = availableParallelism();
  const root = mkdtempSync(join(tmpdir(), 'ipt-bench-generation-'));
  const dir = join(root, 'gpt-1m');
  const worker = join(dirname(fileURLToPath(import.meta.url)), '_generation-worker.js');
  const load0 = loadavg();
  try {
    writeGptModelFolder(dir, {
      cfg: BENCH_GPT,
      weights: seededGptWeights(BENCH_GPT, 1234, { silentTokens: SILENT_TOKENS }),
    });
    console.log(
      `generation bench: kit GPT ${gptParameterCount(BENCH_GPT)} parameters (context ${BENCH_GPT.contextLength}), prompts ${PROMPT_TOKENS}, ` +
        `${NEW_TOKENS} new tokens, greedy, ${threads} threads, ${rounds} rounds x ${reps} reps (x8/batch for small batches); load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
    );
    const ms: Record<number, Record<Side, number[]>> = {};
    const tokens: Record<number, Partial<Record<Side, number[][]>>> = {};
    let stable = true;
    for (let r = 0; r < rounds; r++) {
      for (const batch of BATCHES) {
        ms[batch] ??= { ours: [], transformersJs: [], oursAsIs: [], oursKvDeltaGraph: [] };
        tokens[batch] ??= {};
        const order = r % 2 === 0 ? SIDES : [...SIDES].reverse();
        for (const side of order) {
          // small batches take milliseconds: more repetitions per process steady their median
          const repsHere = Math.max(reps, Math.ceil((reps * 8) / batch));
          const proc = spawnSync(
            process.execPath,
            [worker, side, dir, String(batch), String(repsHere), String(threads)],
            { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
          );
          if (proc.status !== 0) throw new Error(`${side} batch ${batch} failed:\n${proc.stderr}`);
          const out = JSON.parse(proc.stdout.trim().split('\n').pop()!) as { ms: number[]; tokens: number[][] };
          const m = median(out.ms);
          ms[batch][side].push(m);
          const seen = tokens[batch][side];
          if (seen && JSON.stringify(seen) !== JSON.stringify(out.tokens)) stable = false;
          tokens[batch][side] = out.tokens;
          console.log(
            `round ${r + 1} batch ${String(batch).padStart(2)} ${side.padEnd(14)} ${m.toFixed(1).padStart(7)} ms  ${Math.round(
              (batch * NEW_TOKENS * 1000) / m,
            )
              .toString()
              .padStart(6)} tok/s  (load ${loadavg()[0].toFixed(2)})`,
          );
        }
      }
    }
    const same = (a?: number[][], b?: number[][]) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);
    const tokensIdentical =
      stable && BATCHES.every((b) => SIDES.every((side) => same(tokens[b].ours, tokens[b][side])));
    const tokPerS = (batch: number, side: Side) => round((batch * NEW_TOKENS * 1000) / median(ms[batch][side]), 1);
    const batches = BATCHES.map((batch) => {
      const ours = tokPerS(batch, 'ours');
      const transformersJs = tokPerS(batch, 'transformersJs');
      const oursAsIs = tokPerS(batch, 'oursAsIs');
      const oursKvDeltaGraph = tokPerS(batch, 'oursKvDeltaGraph');
      return {
        batch,
        ours,
        transformersJs,
        ratio: round(ours / transformersJs),
        oursAsIs,
        ratioAsIs: round(oursAsIs / transformersJs),
        oursKvDeltaGraph,
        ratioKvDeltaGraph: round(oursKvDeltaGraph / transformersJs),
      };
    });
    console.log(
      '\n| batch | transformers.js | ours (same file, new rows exposed) | ratio | ours, same file as is | ratio | ours, kit kv-delta file | ratio |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const b of batches) {
      console.log(
        `| ${b.batch} | ${b.transformersJs} | ${b.ours} | ${b.ratio} | ${b.oursAsIs} | ${b.ratioAsIs} | ${b.oursKvDeltaGraph} | ${b.ratioKvDeltaGraph} |`,
      );
    }
    console.log(`(tokens/s; tokens identical across all four, every round: ${tokensIdentical})`);
    return {
      tokensIdentical,
      batches,
      model: {
        parameters: gptParameterCount(BENCH_GPT),
        contextLength: BENCH_GPT.contextLength,
        promptTokens: PROMPT_TOKENS,
        newTokens: NEW_TOKENS,
      },
      machine: { cpus: cpus().length, threads, loadAverageStart: round(load0[0]), loadAverageEnd: round(loadavg()[0]) },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
