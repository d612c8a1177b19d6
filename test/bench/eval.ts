// `npm run bench -- eval [--docs 200] [--threads N]`: benchmark-scoring throughput of a tiny model
// through the request runner `ipt eval` uses (lm-eval's encoding, longest-first order, batches), for
// batch 1 against batched. The model: the kit's GPT shape of the ablation (vocabulary of the byte
// tokenizer, context 256, width 128, 2 layers) exported to ONNX with seeded weights, run by ONNX
// Runtime on the CPU. The requests: MMLU-style prompts (a description line, a question from Brown
// text, four options, "Answer:") and 4 one-token continuations, and ARC-style prompts with 4
// multi-word continuations, in lm-eval's request shapes. Requests/s is reported per batch size.

import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { loadBrown } from '../../lib/corpus/brown.js';
import { splitSentences } from '../../lib/corpus/sentences.js';
import type { GPTConfig } from '../../lib/engine/gpt.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { seededGptWeights, writeGptModelFolder } from '../../lib/engine/onnx-gpt.js';
import { loadTokenizer, TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';
import { encodeRequest, scoreRequests } from '../../lib/eval/requests.js';
import { createProgress } from '../../lib/repro/progress.js';

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: { docs: { type: 'string', default: '200' }, threads: { type: 'string' } },
  });
  const docs = Number(values.docs);
  const threads = values.threads ? Number(values.threads) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ipt-bench-eval-'));
  try {
    const cfg: GPTConfig = {
      vocabSize: TINY_BASE_VOCAB,
      contextLength: 256,
      width: 128,
      heads: 4,
      layers: 2,
      mlpRatio: 4,
      layerNormEps: 1e-5,
    };
    writeGptModelFolder(dir, { cfg, weights: seededGptWeights(cfg, 1) }, { variants: ['kv-delta'] });
    const tok = loadTokenizer(dir);
    const sentences = loadBrown()
      .flatMap((d) => splitSentences(d.text).map((s) => s.text.replace(/\s+/g, ' ')))
      .filter((s) => s.length > 40 && s.length < 160);
    const requests = [];
    for (let i = 0; i < docs; i++) {
      const q = sentences[(i * 7919) % sentences.length];
      const opts = [1, 2, 3, 4].map((k) =>
        sentences[(i * 104729 + k * 31) % sentences.length].split(' ').slice(0, 4).join(' '),
      );
      if (i % 2 === 0) {
        const ctx = `The following are multiple choice questions (with answers) about history.\n\n${q}\nA. ${opts[0]}\nB. ${opts[1]}\nC. ${opts[2]}\nD. ${opts[3]}\nAnswer:`;
        for (const c of [' A', ' B', ' C', ' D']) requests.push(encodeRequest(tok, ctx, c, { bos: false }));
      } else {
        for (const c of opts) requests.push(encodeRequest(tok, `Question: ${q}\nAnswer:`, ` ${c}`, { bos: false }));
      }
    }
    const tokens = requests.reduce((a, r) => a + r.context.length + r.continuation.length, 0);
    const figures: Record<string, unknown> = {
      requests: requests.length,
      mean_tokens_per_request: +(tokens / requests.length).toFixed(1),
      threads: threads ?? cpus().length,
    };
    for (const batch of [1, 8, 32]) {
      const lm = await OnnxCausalLM.load(dir, { threads, batchSize: batch });
      // warm-up: the first runs compile kernels
      await scoreRequests(lm, requests.slice(0, 16), { batchSize: batch, modelKey: 'warm' });
      const bar = createProgress({ label: `eval: batch ${batch}`, total: requests.length, unit: 'requests' });
      const t0 = performance.now();
      await scoreRequests(lm, requests, { batchSize: batch, modelKey: `bench-${batch}`, progress: bar });
      const seconds = (performance.now() - t0) / 1000;
      bar.stop();
      await lm.close();
      figures[`batch_${batch}_requests_per_s`] = +(requests.length / seconds).toFixed(1);
      figures[`batch_${batch}_seconds`] = +seconds.toFixed(2);
      process.stdout.write(
        `batch ${batch}: ${(requests.length / seconds).toFixed(1)} requests/s (${seconds.toFixed(2)} s)\n`,
      );
    }
    figures.speedup_batch_8 = +(
      (figures.batch_8_requests_per_s as number) / (figures.batch_1_requests_per_s as number)
    ).toFixed(2);
    figures.speedup_batch_32 = +(
      (figures.batch_32_requests_per_s as number) / (figures.batch_1_requests_per_s as number)
    ).toFixed(2);
    figures.loadavg = loadavg().map((x) => +x.toFixed(2));
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
