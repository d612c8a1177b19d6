// The ONNX writer for the kit's GPT: both graph variants against an independent TypeScript forward
// pass, the KV cache against a full forward, left padding, the weights read back, the model folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import ort from 'onnxruntime-node';
import {
  buildGptOnnx,
  seededGptWeights,
  scriptedGptWeights,
  readGptOnnxWeights,
  writeGptModelFolder,
  KV_DELTA_NAMES,
  type GptOnnxVariant,
} from '../../lib/engine/onnx-gpt.js';
import { gptConfigFromHf, gptTensorSpecs, type GPTConfig } from '../../lib/engine/gpt.js';
import { loadTokenizer, tinyTokenizerFiles, tokenizerFromFiles, TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';
import { referenceLogits, referenceGreedy } from './gpt-reference.js';

const cfg: GPTConfig = {
  vocabSize: 300,
  contextLength: 64,
  width: 32,
  heads: 4,
  layers: 2,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};
const weights = seededGptWeights(cfg, 11);
const H = cfg.heads;
const D = cfg.width / cfg.heads;
const V = cfg.vocabSize;

type Feeds = Record<string, ort.Tensor>;
const i64 = (a: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), dims);
const f32 = (a: Float32Array, dims: number[]) => new ort.Tensor('float32', a, dims);

async function session(variant: GptOnnxVariant) {
  return ort.InferenceSession.create(buildGptOnnx({ cfg, weights }, { variant }), { logSeverityLevel: 3 });
}

function emptyCache(variant: GptOnnxVariant, B: number): Feeds {
  const feeds: Feeds = {};
  for (let l = 0; l < cfg.layers; l++) {
    for (const kv of ['key', 'value'] as const) {
      if (variant === 'optimum') feeds[`past_key_values.${l}.${kv}`] = f32(new Float32Array(0), [B, H, 0, D]);
      else feeds[KV_DELTA_NAMES.past(l, kv)] = f32(new Float32Array(0), [B, H, 0, D]);
    }
  }
  if (variant === 'kv-delta') feeds[KV_DELTA_NAMES.logitsToKeep] = i64([0], []);
  return feeds;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const ids = Array.from({ length: 24 }, (_, i) => 3 + ((i * 37 + 11) % 256));
const reference = referenceLogits(cfg, weights, ids);

for (const variant of ['optimum', 'kv-delta'] as const) {
  test(`${variant}: logits equal an independent TypeScript forward pass`, async () => {
    const s = await session(variant);
    const n = ids.length;
    const out = await s.run({
      input_ids: i64(ids, [1, n]),
      attention_mask: i64(
        ids.map(() => 1),
        [1, n],
      ),
      position_ids: i64(
        ids.map((_, i) => i),
        [1, n],
      ),
      ...emptyCache(variant, 1),
    });
    assert.deepEqual(out.logits.dims, [1, n, V]);
    const scale = Math.max(...Array.from(reference, Math.abs));
    assert.ok(scale > 1, 'logits are not degenerate');
    assert.ok(
      maxAbsDiff(out.logits.data as Float32Array, reference) < 1e-5 * scale,
      'ONNX and reference logits differ',
    );
  });

  test(`${variant}: one token at a time through the KV cache equals the full forward`, async () => {
    const s = await session(variant);
    const prefill = 9;
    let out = await s.run({
      input_ids: i64(ids.slice(0, prefill), [1, prefill]),
      attention_mask: i64(Array(prefill).fill(1), [1, prefill]),
      position_ids: i64([...Array(prefill).keys()], [1, prefill]),
      ...emptyCache(variant, 1),
    });
    let worst = maxAbsDiff(out.logits.data as Float32Array, reference, prefill * V);
    // kv-delta: the caller owns a cache buffer [1, H, capacity, D]; free slots hold garbage that
    // the mask must hide, and each step's new rows are written into the next slot.
    const capacity = 32;
    const buffers = new Map<string, Float32Array>();
    const store = (t0: number, added: number) => {
      for (const [name, buf] of buffers) {
        const delta = out[name.replace('cache.', 'cache_delta.')].data as Float32Array;
        assert.equal(delta.length, H * added * D);
        for (let h = 0; h < H; h++)
          buf.set(delta.subarray(h * added * D, (h + 1) * added * D), (h * capacity + t0) * D);
      }
    };
    if (variant === 'kv-delta') {
      for (let l = 0; l < cfg.layers; l++)
        for (const kv of ['key', 'value'] as const)
          buffers.set(KV_DELTA_NAMES.past(l, kv), new Float32Array(H * capacity * D).fill(1e3));
      store(0, prefill);
    }
    for (let t = prefill; t < ids.length; t++) {
      const feeds: Feeds = { input_ids: i64([ids[t]], [1, 1]), position_ids: i64([t], [1, 1]) };
      if (variant === 'optimum') {
        feeds.attention_mask = i64(Array(t + 1).fill(1), [1, t + 1]);
        for (let l = 0; l < cfg.layers; l++)
          for (const kv of ['key', 'value'] as const) feeds[`past_key_values.${l}.${kv}`] = out[`present.${l}.${kv}`];
      } else {
        feeds.attention_mask = i64([...Array(capacity).keys()].map((j) => (j < t ? 1 : 0)).concat([1]), [
          1,
          capacity + 1,
        ]);
        for (const [name, buf] of buffers) feeds[name] = f32(buf, [1, H, capacity, D]);
        feeds[KV_DELTA_NAMES.logitsToKeep] = i64([1], []);
      }
      out = await s.run(feeds);
      assert.deepEqual(out.logits.dims, [1, 1, V]);
      worst = Math.max(worst, maxAbsDiff(out.logits.data as Float32Array, reference.subarray(t * V, (t + 1) * V)));
      if (variant === 'kv-delta') store(t, 1);
      else assert.deepEqual(out['present.0.key'].dims, [1, H, t + 1, D]);
    }
    assert.ok(worst < 1e-4, `incremental logits differ by ${worst}`);
  });

  test(`${variant}: a left-padded row equals the same tokens unpadded`, async () => {
    const s = await session(variant);
    const n = ids.length;
    const pad = 7;
    const row0 = [...Array(pad).fill(0), ...ids.slice(0, n - pad)];
    const mask0 = [...Array(pad).fill(0), ...Array(n - pad).fill(1)];
    const pos0 = mask0.map((m, i) => (m ? i - pad : 1)); // Hugging Face: cumsum(mask) - 1, pads at 1
    const out = await s.run({
      input_ids: i64([...row0, ...ids], [2, n]),
      attention_mask: i64([...mask0, ...Array(n).fill(1)], [2, n]),
      position_ids: i64([...pos0, ...ids.map((_, i) => i)], [2, n]),
      ...emptyCache(variant, 2),
    });
    const logits = out.logits.data as Float32Array;
    for (const x of logits) assert.ok(Number.isFinite(x), 'padded rows stay finite');
    assert.ok(maxAbsDiff(logits.subarray(pad * V, n * V), reference) < 1e-4);
    assert.ok(maxAbsDiff(logits.subarray(n * V), reference) < 1e-4);
  });
}

test('kv-delta: num_logits_to_keep keeps the last positions', async () => {
  const s = await session('kv-delta');
  const n = ids.length;
  const feeds: Feeds = {
    input_ids: i64(ids, [1, n]),
    attention_mask: i64(
      ids.map(() => 1),
      [1, n],
    ),
    position_ids: i64(
      ids.map((_, i) => i),
      [1, n],
    ),
    ...emptyCache('kv-delta', 1),
  };
  feeds[KV_DELTA_NAMES.logitsToKeep] = i64([1], []);
  const out = await s.run(feeds);
  assert.deepEqual(out.logits.dims, [1, 1, V]);
  assert.ok(maxAbsDiff(out.logits.data as Float32Array, reference.subarray((n - 1) * V)) < 1e-4);
  assert.deepEqual(out[KV_DELTA_NAMES.delta(0, 'key')].dims, [1, H, n, D]);
});

test('the weights read back from the ONNX file are the weights written', () => {
  for (const variant of ['optimum', 'kv-delta'] as const) {
    const back = readGptOnnxWeights(buildGptOnnx({ cfg, weights }, { variant }), cfg);
    for (const spec of gptTensorSpecs(cfg)) assert.deepEqual(back[spec.name], weights[spec.name], spec.name);
  }
});

test('the writer rejects weights that do not match the config', () => {
  const broken = { ...weights, 'h.1.mlp.c_fc.bias': new Float32Array(3) };
  assert.throws(() => buildGptOnnx({ cfg, weights: broken }), /h\.1\.mlp\.c_fc\.bias has 3 values, expected 128/);
  const { ['ln_f.bias']: _dropped, ...missing } = weights;
  assert.throws(() => buildGptOnnx({ cfg, weights: missing }), /missing tensor ln_f\.bias/);
});

test('a model folder has config, generation config, tokenizer and both graphs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-gpt-folder-'));
  try {
    const files = writeGptModelFolder(dir, { cfg, weights });
    for (const f of [
      'onnx/model.onnx',
      'onnx/model_kv_delta.onnx',
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]) {
      assert.ok(files.includes(f) && existsSync(join(dir, f)), f);
    }
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(gptConfigFromHf(config), cfg);
    assert.equal(config.model_type, 'gpt2');
    const generation = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(generation.eos_token_id, 2);
    assert.equal(loadTokenizer(dir).encode('<s> hi')[0], 1);
    assert.throws(
      () =>
        writeGptModelFolder(dir, {
          cfg: { ...cfg, vocabSize: 2 },
          weights: seededGptWeights({ ...cfg, vocabSize: 2 }, 1),
        }),
      /eosTokenId 2 is outside/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('silent tokens are never the greedy choice', () => {
  const w = seededGptWeights(cfg, 5, { silentTokens: [0, 1, 2] });
  const out = referenceGreedy(cfg, w, ids.slice(0, 6), 20);
  assert.equal(out.length, 20);
  for (const t of out) assert.ok(t > 2);
});

test('a scripted model continues its script from the first token, whatever came before', () => {
  const tok = tokenizerFromFiles(tinyTokenizerFiles());
  const small: GPTConfig = {
    vocabSize: TINY_BASE_VOCAB,
    contextLength: 64,
    width: 32,
    heads: 2,
    layers: 1,
    mlpRatio: 2,
    layerNormEps: 1e-5,
  };
  const script = [...tok.encode('\n<QUE> Why?<ANS>No.</END>'), 2];
  const w = scriptedGptWeights(small, script);
  const prompt = tok.encode('<s> <CON> some text </CON>\n\n');
  const out = referenceGreedy(small, w, prompt, 30, [2]);
  assert.deepEqual(out, script.slice(1));
  assert.equal(tok.decode(out), '<QUE> Why?<ANS>No.</END></s>');
  assert.throws(() => scriptedGptWeights(small, [5, 6, 5]), /distinct/);
});
