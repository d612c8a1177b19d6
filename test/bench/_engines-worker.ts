// One side of the engines benchmark (and of the GPU benchmark) in a process of its own: load the
// model, warm up once, then time `reps` greedy generations of NEW_TOKENS tokens for `batch` prompts.
// Usage: node _engines-worker.js ENGINE MODEL BATCH REPS THREADS PROVIDER PROMPT_TOKENS NEW_TOKENS
//   ENGINE onnx (MODEL a folder) or gguf (MODEL a .gguf file; KV cache f32 for .f32 files, llama.cpp's f16 otherwise)
// Prints one JSON line: {"ms": [...], "tokens": [[...]], "provider"}, or {"error"} (exit 3) when the model does not load.
import { LlamaCppLM } from '../../lib/engine/llama.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import type { ProviderChoice } from '../../lib/engine/providers.js';
import type { LlamaBackend } from '../../lib/engine/llama.js';

const [engine, model, batchArg, repsArg, threadsArg, provider, promptArg, newArg] = process.argv.slice(2);
const batch = Number(batchArg);
const reps = Number(repsArg);
const threads = Number(threadsArg);
const promptTokens = Number(promptArg);
const newTokens = Number(newArg);

/** Deterministic prompts of exactly promptTokens ids (3..502), different per row. */
const prompts = Array.from({ length: batch }, (_, b) =>
  Array.from({ length: promptTokens }, (_, i) => 3 + ((b * 7919 + i * 104729 + ((i * i) % 97)) % 500)),
);

let lm: LlamaCppLM | OnnxCausalLM;
try {
  lm =
    engine === 'gguf'
      ? await LlamaCppLM.load(model, {
          batchSize: batch,
          threads,
          provider: provider as LlamaBackend | 'auto',
          contextLength: promptTokens + newTokens,
          cacheType: /f32\.gguf$/.test(model) ? 'f32' : 'f16',
        })
      : await OnnxCausalLM.load(model, { batchSize: batch, threads, provider: provider as ProviderChoice });
} catch (err) {
  // a provider that does not start here: say why, in one line the caller reports
  process.stdout.write(JSON.stringify({ error: (err as Error).message.split('\n')[0] }) + '\n');
  process.exit(3);
}
const generate = () => lm.generate(prompts, { maxNewTokens: newTokens, stopTokenIds: [] });
let tokens = await generate();
const ms: number[] = [];
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  tokens = await generate();
  ms.push(performance.now() - t0);
}
const used = lm instanceof LlamaCppLM ? lm.backend : lm.provider;
await lm.close();
process.stdout.write(JSON.stringify({ ms, tokens, provider: used }) + '\n');
