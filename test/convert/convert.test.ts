// ipt convert's ONNX output against an independent forward pass: tiny random checkpoints in the
// Hugging Face layout (sharded with a BF16 shard, GQA, tied and untied heads, head_dim, Llama 3 rope
// scaling, GPT-2 with its "transformer." prefix), fp32 logits against the reference, KV-cached steps
// against the full pass, fp16 and int4 within stated tolerances, and the refusals.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import ort from 'onnxruntime-node';
import { convertCheckpoint } from '../../lib/convert/convert.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { gpt2Config, gpt2Weights, llamaConfig, llamaWeights, writeCheckpoint, type Weights } from './hf-checkpoint.js';
import { llamaGreedy, llamaLogits, refConfig } from './llama-reference.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-convert-'));
after(() => rmSync(root, { recursive: true, force: true }));

type Feeds = Record<string, ort.Tensor>;
const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);

/** One forward of the Optimum graph over `ids` after `past` (cache tensors by input name, or empty). */
async function forward(session: ort.InferenceSession, ids: number[], start: number, past: Feeds): Promise<{ logits: Float32Array; present: Feeds }> {
  const feeds: Feeds = {
    input_ids: i64(ids, [1, ids.length]),
    attention_mask: i64(new Array(start + ids.length).fill(1), [1, start + ids.length]),
    position_ids: i64(ids.map((_, i) => start + i), [1, ids.length]),
    ...past,
  };
  const out = await session.run(feeds);
  const present: Feeds = {};
  for (const name of session.outputNames) if (name.startsWith('present.')) present[name.replace('present.', 'past_key_values.')] = out[name] as ort.Tensor;
  const logits = out.logits as ort.Tensor;
  return { logits: logits.type === 'float32' ? (logits.data as Float32Array) : Float32Array.from(logits.data as Float32Array), present };
}

function emptyPast(session: ort.InferenceSession): Feeds {
  const past: Feeds = {};
  for (const m of session.inputMetadata) {
    if (!m.name.startsWith('past_key_values.') || !m.isTensor) continue;
    const [, heads, , dim] = m.shape as number[];
    past[m.name] = new ort.Tensor(m.type as 'float32', m.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, heads, 0, dim]);
  }
  return past;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const PROMPT = [1, 40, 41, 42, 100, 7, 9, 200, 33, 34];

test('Llama/Mistral, GQA, untied, two shards (BF16 and F32): logits and greedy tokens equal the reference; cached steps equal the full pass', { timeout: 120_000 }, async () => {
  const config = llamaConfig({ heads: 4, kvHeads: 2 });
  const { weights } = llamaWeights(config, 3);
  const src = join(root, 'mistral-src');
  const stored = writeCheckpoint(src, config, weights, { shards: ['BF16', 'F32'], extra: { 'model.layers.0.self_attn.rotary_emb.inv_freq': new Float32Array(4) } });
  const out = join(root, 'mistral-fp32');
  const result = await convertCheckpoint({ source: src, out, progress: 'silent' });
  assert.equal(result.external, false);
  for (const f of ['onnx/model.onnx', 'onnx/model_kv_delta.onnx', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'manifest.json']) assert.ok(existsSync(join(out, f)), f);
  const ref = refConfig(config);
  const expected = llamaLogits(ref, stored, PROMPT);

  const session = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
  const full = await forward(session, PROMPT, 0, emptyPast(session));
  const diff = maxAbsDiff(full.logits, expected);
  assert.ok(diff < 1e-3, `full pass: max |Δlogit| ${diff}`);
  // prefill 6 tokens, then one token per step through the cache: the same logits as the full pass
  let step = await forward(session, PROMPT.slice(0, 6), 0, emptyPast(session));
  const V = ref.vocab;
  for (let t = 6; t < PROMPT.length; t++) {
    step = await forward(session, [PROMPT[t]], t, step.present);
    const d = maxAbsDiff(step.logits, full.logits.subarray(t * V, (t + 1) * V));
    assert.ok(d < 1e-4, `cached step ${t}: max |Δlogit| ${d}`);
  }
  await session.release();

  for (const layout of ['kv-delta', 'optimum'] as const) {
    const lm = await OnnxCausalLM.load(out, { layout, threads: 1 });
    try {
      assert.deepEqual(await lm.generate([PROMPT], { maxNewTokens: 8, stopTokenIds: [] }), [llamaGreedy(ref, stored, PROMPT, 8)], layout);
    } finally {
      await lm.close();
    }
  }
});
