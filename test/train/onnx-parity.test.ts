// A trained model exported to ONNX (through lib/engine's writer) runs in ONNX Runtime with the
// logits of the in-process forward pass, and greedy generation gives identical tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as ort from 'onnxruntime-node';
import { trainRun } from '../../lib/train/run.js';
import { GPTLanguageModel } from '../../lib/train/lm.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { loadModelFolder } from '../../lib/train/export.js';
import { readGptOnnxWeights, ONNX_FILES } from '../../lib/engine/onnx-gpt.js';
import { readFileSync } from 'node:fs';

const root = mkdtempSync(join(tmpdir(), 'ipt-onnx-parity-'));

async function trainedModel(): Promise<string> {
  const data = join(root, 'data');
  mkdirSync(data, { recursive: true });
  const lines = Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({ text: `Row ${i}: the quick brown fox jumps over the lazy dog ${i % 7} times.` }),
  );
  writeFileSync(join(data, 'rows.jsonl'), lines.join('\n') + '\n');
  const out = join(root, 'run');
  const r = await trainRun({
    outDir: out,
    config: {
      model: { vocabSize: 300, contextLength: 48, width: 32, heads: 4, layers: 2 },
      train: {
        steps: 40,
        batchSize: 8,
        microBatchSize: 8,
        warmupSteps: 4,
        lr: 3e-3,
        checkpointEvery: 1000,
        evalEvery: 1000,
        seed: 5,
      },
      tokenizer: 'bpe',
    },
    data: { dir: data },
    threads: 1,
    progress: 'silent',
  });
  assert.equal(r.finished, true);
  return join(out, 'model');
}

test(
  'trained weights exported to ONNX: same logits as the in-process forward, same greedy tokens',
  { timeout: 120_000 },
  async () => {
    const dir = await trainedModel();
    for (const f of Object.values(ONNX_FILES)) assert.ok(existsSync(join(dir, f)), `${f} exported`);
    const folder = loadModelFolder(dir);
    // the ONNX file holds exactly the trained weights
    const inOnnx = readGptOnnxWeights(readFileSync(join(dir, ONNX_FILES.optimum)), folder.cfg);
    for (const [name, w] of Object.entries(folder.weights)) assert.deepEqual(inOnnx[name], w, name);

    const inProcess = await GPTLanguageModel.fromFolder(dir, { threads: 1 });
    const tokenizer = (await import('../../lib/engine/tokenizer.js')).loadTokenizer(dir);
    const ids = tokenizer.encode('Row 3: the quick brown fox');
    // ONNX Runtime directly on the Optimum graph: one forward over the whole prompt, empty cache
    const session = await ort.InferenceSession.create(join(dir, ONNX_FILES.optimum));
    const T = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, T]),
    };
    const { heads, width, layers, vocabSize } = folder.cfg;
    for (let l = 0; l < layers; l++) {
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
          1,
          heads,
          0,
          width / heads,
        ]);
    }
    const out = await session.run(feeds);
    const onnxLogits = out.logits.data as Float32Array;
    const positions = ids.map((_, i) => i);
    const ours = inProcess.logitsAt([ids], [positions])[0];
    let worst = 0;
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < vocabSize; v++) worst = Math.max(worst, Math.abs(onnxLogits[t * vocabSize + v] - ours[t][v]));
    }
    assert.ok(worst < 1e-4, `max |logit difference| ${worst}`);

    const onnx = await OnnxCausalLM.load(dir, { threads: 1 });
    const prompts = [ids, tokenizer.encode('Row 11: the'), tokenizer.encode('the lazy')];
    const a = await inProcess.generate(prompts, { maxNewTokens: 20 });
    const b = await onnx.generate(prompts, { maxNewTokens: 20 });
    assert.deepEqual(b, a);
    assert.ok(a.every((row) => row.length > 0));
    await onnx.close();
    await inProcess.close();
  },
);
