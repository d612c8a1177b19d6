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
async function forward(
  session: ort.InferenceSession,
  ids: number[],
  start: number,
  past: Feeds,
): Promise<{ logits: Float32Array; present: Feeds }> {
  const feeds: Feeds = {
    input_ids: i64(ids, [1, ids.length]),
    attention_mask: i64(new Array(start + ids.length).fill(1), [1, start + ids.length]),
    position_ids: i64(
      ids.map((_, i) => start + i),
      [1, ids.length],
    ),
    ...past,
  };
  const out = await session.run(feeds);
  const present: Feeds = {};
  for (const name of session.outputNames)
    if (name.startsWith('present.')) present[name.replace('present.', 'past_key_values.')] = out[name] as ort.Tensor;
  const logits = out.logits as ort.Tensor;
  return {
    logits: logits.type === 'float32' ? (logits.data as Float32Array) : Float32Array.from(logits.data as Float32Array),
    present,
  };
}

function emptyPast(session: ort.InferenceSession): Feeds {
  const past: Feeds = {};
  for (const m of session.inputMetadata) {
    if (!m.name.startsWith('past_key_values.') || !m.isTensor) continue;
    const [, heads, , dim] = m.shape as number[];
    past[m.name] = new ort.Tensor(
      m.type as 'float32',
      m.type === 'float16' ? new Uint16Array(0) : new Float32Array(0),
      [1, heads, 0, dim],
    );
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

test(
  'Llama/Mistral, GQA, untied, two shards (BF16 and F32): logits and greedy tokens equal the reference; cached steps equal the full pass',
  { timeout: 120_000 },
  async () => {
    const config = llamaConfig({ heads: 4, kvHeads: 2 });
    const { weights } = llamaWeights(config, 3);
    const src = join(root, 'mistral-src');
    const stored = writeCheckpoint(src, config, weights, {
      shards: ['BF16', 'F32'],
      extra: { 'model.layers.0.self_attn.rotary_emb.inv_freq': new Float32Array(4) },
    });
    const out = join(root, 'mistral-fp32');
    const result = await convertCheckpoint({ source: src, out, progress: 'silent' });
    assert.equal(result.external, false);
    for (const f of [
      'onnx/model.onnx',
      'onnx/model_kv_delta.onnx',
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'manifest.json',
    ])
      assert.ok(existsSync(join(out, f)), f);
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
        assert.deepEqual(
          await lm.generate([PROMPT], { maxNewTokens: 8, stopTokenIds: [] }),
          [llamaGreedy(ref, stored, PROMPT, 8)],
          layout,
        );
      } finally {
        await lm.close();
      }
    }
  },
);

test(
  'Llama, tied head, head_dim larger than hidden/heads, Llama 3 rope scaling, external data: matches the reference',
  { timeout: 120_000 },
  async () => {
    const config = llamaConfig({
      architecture: 'LlamaForCausalLM',
      hidden: 32,
      heads: 4,
      kvHeads: 1,
      headDim: 16,
      tied: true,
      ropeTheta: 500000,
      ropeScaling: {
        rope_type: 'llama3',
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8,
      },
    });
    const { weights } = llamaWeights(config, 5);
    const src = join(root, 'llama3-src');
    const stored = writeCheckpoint(src, config, weights, { shards: ['BF16'] });
    const out = join(root, 'llama3-fp32');
    const result = await convertCheckpoint({ source: src, out, externalData: 'always', progress: 'silent' });
    assert.equal(result.external, true);
    // the weights live once, beside both graphs, which stay small
    assert.ok(statSync(join(out, 'onnx/model.onnx_data')).size > 4 * 264 * 32);
    for (const f of ['onnx/model.onnx', 'onnx/model_kv_delta.onnx'])
      assert.ok(statSync(join(out, f)).size < 64 * 1024, f);
    const ref = refConfig(config);
    const session = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
    const diff = maxAbsDiff(
      (await forward(session, PROMPT, 0, emptyPast(session))).logits,
      llamaLogits(ref, stored, PROMPT),
    );
    await session.release();
    assert.ok(diff < 1e-3, `max |Δlogit| ${diff}`);
    const lm = await OnnxCausalLM.load(out, { threads: 1 });
    try {
      assert.equal(lm.layout.graph, 'kit-kv-delta');
      assert.deepEqual(await lm.generate([PROMPT], { maxNewTokens: 6, stopTokenIds: [] }), [
        llamaGreedy(ref, stored, PROMPT, 6),
      ]);
    } finally {
      await lm.close();
    }
  },
);

test(
  'GPT-2 with the "transformer." prefix, one F16 file: matches the GPT reference',
  { timeout: 120_000 },
  async () => {
    const { referenceLogits } = await import('../engine/gpt-reference.js');
    const config = gpt2Config();
    const { spec, weights } = gpt2Weights(config, 8);
    const src = join(root, 'gpt2-src');
    const stored = writeCheckpoint(src, config, weights, {
      shards: ['F16'],
      prefix: 'transformer.',
      extra: { 'transformer.h.0.attn.bias': new Float32Array(4) },
    });
    const out = join(root, 'gpt2-fp32');
    await convertCheckpoint({ source: src, out, progress: 'silent' });
    const session = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
    const diff = maxAbsDiff(
      (await forward(session, PROMPT, 0, emptyPast(session))).logits,
      referenceLogits(spec.cfg, stored, PROMPT),
    );
    await session.release();
    assert.ok(diff < 1e-3, `max |Δlogit| ${diff}`);
  },
);

function logitStd(x: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let sq = 0;
  for (let i = 0; i < x.length; i++) sq += (x[i] - mean) ** 2;
  return Math.sqrt(sq / x.length);
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

// Tolerances. fp16 rounds each weight and each matmul input to 11 significant bits (relative error
// <= 2^-11 = 4.9e-4 each); through two blocks whose logits spread with a standard deviation near 1,
// that moved no logit by more than 0.025 when measured, so 0.05 (5% of a standard deviation) leaves
// room without hiding a wrong cast, and greedy decoding must not change. int4 is judged in two
// parts: the graph must compute exactly what the dequantized weights give (1e-3, float32 rounding
// only), so packing, scales and the MatMulNBits wiring add nothing; the quantization error itself is
// bounded per weight by half a step (max |block| / 16; one step for values clamped at the far end of
// the code range; checked in int4.test.ts) and, on this
// random model, moved logits by a mean of 0.32 standard deviations when measured (bound here: 0.5).
test(
  'fp16: logits within 0.05 of the reference, same greedy tokens, float16 cache in both layouts',
  { timeout: 120_000 },
  async () => {
    const config = llamaConfig({ hidden: 64, intermediate: 128 });
    const { weights } = llamaWeights(config, 3);
    const src = join(root, 'fp16-src');
    const stored = writeCheckpoint(src, config, weights, { shards: ['BF16'] });
    const out = join(root, 'fp16');
    await convertCheckpoint({ source: src, out, dtype: 'fp16', progress: 'silent' });
    const ref = refConfig(config);
    const expected = llamaLogits(ref, stored, PROMPT);
    const session = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
    assert.equal(
      session.inputMetadata.find((m) => m.name === 'past_key_values.0.key')?.isTensor &&
        (session.inputMetadata.find((m) => m.name === 'past_key_values.0.key') as { type: string }).type,
      'float16',
    );
    const got = (await forward(session, PROMPT, 0, emptyPast(session))).logits;
    await session.release();
    const diff = maxAbsDiff(got, expected);
    assert.ok(logitStd(expected) > 0.5, 'the logits spread');
    assert.ok(diff < 0.05, `fp16: max |Δlogit| ${diff}`);
    for (const layout of ['kv-delta', 'optimum'] as const) {
      const lm = await OnnxCausalLM.load(out, { layout, threads: 1 });
      try {
        assert.equal(lm.layout.cacheType, 'float16');
        assert.deepEqual(
          await lm.generate([PROMPT], { maxNewTokens: 6, stopTokenIds: [] }),
          [llamaGreedy(ref, stored, PROMPT, 6)],
          layout,
        );
      } finally {
        await lm.close();
      }
    }
  },
);

test(
  'int4: MatMulNBits computes exactly the dequantized weights; the quantization error stays within its bound',
  { timeout: 120_000 },
  async () => {
    const { quantizeInt4, dequantizeInt4 } = await import('../../lib/convert/int4.js');
    const { llamaWeightSpecs, readModelSpec } = await import('../../lib/convert/hf-config.js');
    const config = llamaConfig({ hidden: 64, intermediate: 128, tied: false });
    const { weights } = llamaWeights(config, 3);
    const src = join(root, 'int4-src');
    const stored = writeCheckpoint(src, config, weights, { shards: ['BF16'] });
    const out = join(root, 'int4');
    await convertCheckpoint({ source: src, out, dtype: 'int4', progress: 'silent' });
    const ref = refConfig(config);
    // the reference on the weights MatMulNBits sees: every linear layer quantized, embeddings and norms as they are
    const dequantized: Weights = { ...stored };
    for (const w of llamaWeightSpecs(readModelSpec(config) as never)) {
      if (w.shape.length === 2 && w.name !== 'model.embed_tokens.weight')
        dequantized[w.name] = dequantizeInt4(quantizeInt4(stored[w.name], w.shape[0], w.shape[1], 32));
    }
    const session = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
    const got = (await forward(session, PROMPT, 0, emptyPast(session))).logits;
    await session.release();
    const exact = maxAbsDiff(got, llamaLogits(ref, dequantized, PROMPT));
    assert.ok(exact < 1e-3, `int4 against its dequantized weights: max |Δlogit| ${exact}`);
    const full = llamaLogits(ref, stored, PROMPT);
    const drift = meanAbsDiff(got, full) / logitStd(full);
    assert.ok(drift < 0.5, `int4 against fp32: mean |Δlogit| is ${drift.toFixed(3)} standard deviations`);
    const lm = await OnnxCausalLM.load(out, { threads: 1 });
    try {
      assert.equal(lm.layout.graph, 'kit-kv-delta');
      assert.deepEqual(await lm.generate([PROMPT], { maxNewTokens: 6, stopTokenIds: [] }), [
        llamaGreedy(ref, dequantized, PROMPT, 6),
      ]);
    } finally {
      await lm.close();
    }
  },
);
