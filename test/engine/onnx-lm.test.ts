// OnnxCausalLM: generated tokens against an independent TypeScript forward pass, left-padded
// batches against single runs, per-row stops, seeded sampling, scoring, text completion, and the
// errors a user sees for a broken folder or an unavailable execution provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { projectRoot } from '../../lib/repro/project.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { readDecoderConfig } from '../../lib/engine/decoder-config.js';
import { writeGptModelFolder, seededGptWeights, scriptedGptWeights, buildGptOnnx } from '../../lib/engine/onnx-gpt.js';
import { exposeNewCacheRows } from '../../lib/engine/onnx-graph.js';
import { ProviderUnavailableError } from '../../lib/engine/providers.js';
import type { GPTConfig } from '../../lib/engine/gpt.js';
import { tinyTokenizerFiles, tokenizerFromFiles, TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';
import { createRng } from '../../lib/repro/rng.js';
import { cookRead } from '../../lib/synth/format.js';
import { openEngine } from '../../lib/engine/open.js';
import { referenceGreedy, referenceLogits } from './gpt-reference.js';

const cfg: GPTConfig = {
  vocabSize: TINY_BASE_VOCAB,
  contextLength: 48,
  width: 32,
  heads: 4,
  layers: 2,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};
const weights = seededGptWeights(cfg, 21);
let root: string;
let dir: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ipt-onnx-lm-'));
  dir = join(root, 'seeded');
  writeGptModelFolder(dir, { cfg, weights });
});
after(() => rmSync(root, { recursive: true, force: true }));

// Prompts of different lengths so batches are left-padded.
const prompts = [
  [1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50],
  [1, 7],
  [1, 100, 120, 130, 140],
  [1, 200, 3, 4, 5, 6, 7, 8],
  [1, 250],
  [1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9],
];

// The three ways the engine runs a graph: an Optimum file as is (whole cache out and in each step),
// the same file with its new cache rows exposed (engine-owned cache), and the kit's kv-delta file.
const modes = [
  { name: 'Optimum graph as is', options: { layout: 'optimum' as const }, graph: 'optimum' },
  { name: 'Optimum graph, new rows exposed', options: { file: 'onnx/model.onnx' }, graph: 'optimum-rows' },
  { name: 'kit kv-delta graph', options: { layout: 'kv-delta' as const }, graph: 'kit-kv-delta' },
];

for (const { name: layout, options: modeOptions, graph } of modes) {
  test(`${layout}: greedy tokens of a left-padded batch equal an independent TypeScript forward pass, row by row`, async () => {
    const lm = await OnnxCausalLM.load(dir, { ...modeOptions, batchSize: 6 });
    try {
      assert.equal(lm.layout.graph, graph);
      const got = await lm.generate(prompts, { maxNewTokens: 10, stopTokenIds: [] });
      const expected = prompts.map((p) => referenceGreedy(cfg, weights, p, 10));
      assert.deepEqual(got, expected);
      assert.ok(new Set(expected.flat()).size > 12, 'the test model does not just repeat one token');
      // the same prompts one at a time (no padding) give the same tokens
      for (const [i, p] of prompts.entries())
        assert.deepEqual(await lm.generate([p], { maxNewTokens: 10, stopTokenIds: [] }), [expected[i]]);
    } finally {
      await lm.close();
    }
  });

  test(`${layout}: each row stops at its own stop token while the others go on`, async () => {
    const lm = await OnnxCausalLM.load(dir, { ...modeOptions, batchSize: 6 });
    try {
      const free = prompts.map((p) => referenceGreedy(cfg, weights, p, 12));
      // stop ids taken from the middle of two rows' free runs: those rows end early (at different steps)
      const stopIds = [free[0][3], free[3][6]];
      const expected = prompts.map((p) => referenceGreedy(cfg, weights, p, 12, stopIds));
      assert.ok(
        expected.some((r) => r.length < 12) && expected.some((r) => r.length === 12),
        'some rows stop early, some do not',
      );
      const rows = await lm.generateRows(prompts, { maxNewTokens: 12, stopTokenIds: stopIds });
      assert.deepEqual(
        rows.map((r) => r.tokens),
        expected,
      );
      rows.forEach((r, i) =>
        assert.equal(r.finish, stopIds.includes(expected[i][expected[i].length - 1]) ? 'stop' : 'length'),
      );
      assert.equal(lm.lastStats.newTokens, expected.flat().length);
    } finally {
      await lm.close();
    }
  });
}

test('a row whose prompt nearly fills the context gets what room is left; a full one is refused', async () => {
  const lm = await OnnxCausalLM.load(dir);
  try {
    const long = [1, ...Array.from({ length: cfg.contextLength - 4 }, (_, i) => 3 + ((i * 7) % 200))];
    const rows = await lm.generateRows([long, prompts[1]], { maxNewTokens: 8, stopTokenIds: [] });
    assert.equal(rows[0].tokens.length, 3);
    assert.equal(rows[0].finish, 'length');
    assert.deepEqual(rows[0].tokens, referenceGreedy(cfg, weights, long, 3));
    assert.deepEqual(rows[1].tokens, referenceGreedy(cfg, weights, prompts[1], 8));
    const full = Array.from({ length: cfg.contextLength }, () => 5);
    await assert.rejects(lm.generate([full], { maxNewTokens: 1 }), /prompt 0 has 48 tokens; the model's context is 48/);
  } finally {
    await lm.close();
  }
});

test('seeded sampling is reproducible and depends on the seed', async () => {
  const lm = await OnnxCausalLM.load(dir);
  try {
    const opts = { maxNewTokens: 12, temperature: 1.5, topP: 0.95, seed: 7, stopTokenIds: [] };
    const a = await lm.generate(prompts, opts);
    const b = await lm.generate(prompts, opts);
    const c = await lm.generate(prompts, { ...opts, seed: 8 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const greedy = prompts.map((p) => referenceGreedy(cfg, weights, p, 12));
    assert.notDeepEqual(a, greedy, 'sampling at temperature 1.5 departs from greedy');
  } finally {
    await lm.close();
  }
});

test('scoreContinuations equals the reference log-probabilities and greedy flags', async () => {
  for (const { name: layout, options: modeOptions } of modes) {
    const lm = await OnnxCausalLM.load(dir, { ...modeOptions, batchSize: 2 });
    try {
      const greedyCont = referenceGreedy(cfg, weights, prompts[2], 3);
      const requests = [
        { context: prompts[0], continuation: [60, 61, 62] },
        { context: prompts[2], continuation: greedyCont },
        { context: [1], continuation: [5] },
      ];
      const got = await lm.scoreContinuations(requests);
      requests.forEach((r, i) => {
        const seq = [...r.context, ...r.continuation];
        const logits = referenceLogits(cfg, weights, seq);
        let lp = 0;
        let greedy = true;
        r.continuation.forEach((tokenId, k) => {
          const row = logits.subarray(
            (r.context.length - 1 + k) * cfg.vocabSize,
            (r.context.length + k) * cfg.vocabSize,
          );
          const max = Math.max(...row);
          const z = row.reduce((a, x) => a + Math.exp(x - max), 0);
          lp += row[tokenId] - max - Math.log(z);
          if (row.indexOf(max) !== tokenId) greedy = false;
        });
        assert.ok(Math.abs(got[i].logprob - lp) < 1e-3, `${layout} request ${i}: ${got[i].logprob} vs ${lp}`);
        assert.equal(got[i].greedy, greedy);
        assert.equal(got[i].tokens, r.continuation.length);
      });
      assert.equal(got[1].greedy, true);
      assert.equal(got[0].greedy, false);
    } finally {
      await lm.close();
    }
  }
});

test('text completion with a scripted model: exact strings, EOS left out, token counts', async () => {
  const tok = tokenizerFromFiles(tinyTokenizerFiles());
  const small: GPTConfig = { ...cfg, contextLength: 256, width: 48 };
  const script = [...tok.encode('\n<QUE> Why?<ANS>No.</END>'), 2];
  const scripted = join(root, 'scripted');
  writeGptModelFolder(scripted, { cfg: small, weights: scriptedGptWeights(small, script) }, { variants: ['kv-delta'] });
  const lm = await OnnxCausalLM.load(scripted);
  try {
    const inputs = [cookRead('The cat sat on the mat.'), cookRead('Short.')];
    const out = await lm.complete(inputs, { maxNewTokens: 40 });
    for (const [i, c] of out.entries()) {
      assert.equal(c.text, '<QUE> Why?<ANS>No.</END>');
      assert.equal(c.finishReason, 'stop');
      assert.equal(c.completionTokens, script.length - 1);
      assert.equal(c.promptTokens, tok.encode(inputs[i]).length);
    }
    const cut = await lm.complete(inputs.slice(0, 1), { maxNewTokens: 3 });
    assert.deepEqual(cut[0], {
      text: '<QUE> W',
      promptTokens: tok.encode(inputs[0]).length,
      completionTokens: 3,
      finishReason: 'length',
    });
    assert.equal(lm.countTokens(inputs[1]), tok.encode(inputs[1]).length);
    assert.match(lm.name, /^onnx:.*scripted@sha256:[0-9a-f]{16}$/);
  } finally {
    await lm.close();
  }
});

test('config.json in GPT-2 and Llama/Mistral form (grouped-query attention)', () => {
  const gpt2 = readDecoderConfig({
    model_type: 'gpt2',
    n_layer: 2,
    n_head: 4,
    n_embd: 32,
    n_positions: 48,
    vocab_size: 264,
    eos_token_id: 2,
  });
  assert.deepEqual(gpt2, {
    modelType: 'gpt2',
    layers: 2,
    heads: 4,
    kvHeads: 4,
    headDim: 8,
    vocabSize: 264,
    contextLength: 48,
    eosTokenIds: [2],
    bosTokenId: undefined,
    padTokenId: undefined,
  });
  const mistral = readDecoderConfig(
    {
      model_type: 'mistral',
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      hidden_size: 4096,
      max_position_embeddings: 32768,
      vocab_size: 32000,
      bos_token_id: 1,
      eos_token_id: 2,
    },
    { eos_token_id: [2, 32000] },
  );
  assert.equal(mistral.kvHeads, 8);
  assert.equal(mistral.headDim, 128);
  assert.equal(mistral.layers, 32);
  assert.deepEqual(mistral.eosTokenIds, [2, 32000]);
  assert.equal(mistral.contextLength, 32768);
  // Mistral-7B-v0.1's sliding window of 4096: an export attending to the whole context matches the model within it
  assert.equal(
    readDecoderConfig({ model_type: 'mistral', max_position_embeddings: 32768, sliding_window: 4096 }).contextLength,
    4096,
  );
  assert.equal(
    readDecoderConfig({ model_type: 'mistral', max_position_embeddings: 32768, sliding_window: null }).contextLength,
    32768,
  );
});

test('a broken model folder gets an error that says what is wrong', async () => {
  await assert.rejects(OnnxCausalLM.load(join(root, 'nowhere')), /no config\.json in .*nowhere/);
  const bad = join(root, 'bad');
  writeGptModelFolder(bad, { cfg, weights }, { variants: ['optimum'] });
  const config = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...config, n_layer: 3 }));
  await assert.rejects(OnnxCausalLM.load(bad), /config\.json says 3 layers but the ONNX graph has a cache for 2/);
  unlinkSync(join(bad, 'onnx', 'model.onnx'));
  await assert.rejects(OnnxCausalLM.load(bad), /no ONNX decoder in .*bad \(looked for/);
  writeFileSync(join(bad, 'onnx', 'model.onnx'), 'not a model');
  await assert.rejects(OnnxCausalLM.load(bad), /cannot load .*model\.onnx/);
  const damaged = join(root, 'damaged');
  writeGptModelFolder(damaged, { cfg, weights });
  const goodConfig = readFileSync(join(damaged, 'config.json'), 'utf8');
  writeFileSync(join(damaged, 'config.json'), '{ x');
  await assert.rejects(
    OnnxCausalLM.load(damaged),
    /damaged\/config\.json: not valid JSON \(.+\); restore it from the model's export$/,
  );
  writeFileSync(join(damaged, 'config.json'), '[1]');
  await assert.rejects(
    OnnxCausalLM.load(damaged),
    /damaged\/config\.json: expected a JSON object; restore it from the model's export$/,
  );
  writeFileSync(join(damaged, 'config.json'), goodConfig);
  writeFileSync(join(damaged, 'tokenizer.json'), '{"model": ');
  await assert.rejects(
    OnnxCausalLM.load(damaged),
    /damaged\/tokenizer\.json: not valid JSON \(.+\); restore it from the model's export$/,
  );
});

test("engine specs: onnx:DIR finds the folder's decoder; --file (options.file) names another, or fails clearly", async () => {
  const found = await openEngine(`onnx:${dir}`);
  const named = await openEngine(`onnx:${dir}`, { file: join('onnx', 'model.onnx') });
  try {
    assert.ok(found instanceof OnnxCausalLM && named instanceof OnnxCausalLM);
    assert.deepEqual([found.file, named.file], ['model_kv_delta.onnx', 'model.onnx']);
    assert.deepEqual([found.layout.graph, named.layout.graph], ['kit-kv-delta', 'optimum-rows']);
  } finally {
    await found.close?.();
    await named.close?.();
  }
  await assert.rejects(
    openEngine(`onnx:${dir}`, { file: 'onnx/model_q4.onnx' }),
    new RegExp(`no ONNX file at ${join(dir, 'onnx', 'model_q4.onnx')}`),
  );
  await assert.rejects(openEngine('onnx:'), /unknown engine "onnx:": use onnx:DIR/);
});

test('execution providers: cuda and webgpu say what to install; auto falls back to the CPU', async () => {
  const cudaInstalled = existsSync(
    join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'),
  );
  for (const provider of ['cuda', 'webgpu'] as const) {
    try {
      const lm = await OnnxCausalLM.load(dir, { provider });
      // a machine where the provider starts: it must give the CPU's tokens
      assert.equal(lm.provider, provider);
      assert.deepEqual(await lm.generate([prompts[0]], { maxNewTokens: 5, stopTokenIds: [] }), [
        referenceGreedy(cfg, weights, prompts[0], 5),
      ]);
      await lm.close();
    } catch (err) {
      assert.ok(err instanceof ProviderUnavailableError, String(err));
      if (provider === 'cuda') {
        assert.match(err.message, /cannot start the CUDA execution provider/);
        assert.match(err.message, /npm run setup:cuda/);
        if (!cudaInstalled) assert.match(err.message, /libonnxruntime_providers_cuda\.so/);
      } else {
        assert.match(err.message, /cannot start the WebGPU execution provider: .*Vulkan|adapter/);
        assert.match(err.message, /libvulkan1/);
      }
    }
  }
  const auto = await OnnxCausalLM.load(dir, { provider: 'auto' });
  try {
    assert.ok(['cuda', 'webgpu', 'cpu'].includes(auto.provider));
    if (auto.provider === 'cpu')
      assert.deepEqual(
        auto.skippedProviders.map((s) => s.provider),
        ['cuda', 'webgpu'],
      );
    assert.deepEqual(await auto.generate([prompts[1]], { maxNewTokens: 4, stopTokenIds: [] }), [
      referenceGreedy(cfg, weights, prompts[1], 4),
    ]);
  } finally {
    await auto.close();
  }
});

test("probing providers whose libraries are missing prints nothing of ONNX Runtime's or Dawn's own", () => {
  const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');
  const probe = spawnSync(process.execPath, [cli, 'providers'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, probe.stderr);
  assert.match(probe.stdout, /^ONNX Runtime \(--engine onnx:DIR\)\n {2}cpu {5}ok\n/);
  assert.match(probe.stdout, /^ {2}--provider auto picks (cuda|webgpu|cpu)$/m);
  assert.match(
    probe.stdout,
    /^llama\.cpp \(--engine gguf:FILE\)\n {2}(cpu {5}ok|not installed: node-llama-cpp is not installed .*npm run setup:llama)/m,
  );
  if (/cuda {4}unavailable: .*CUDA provider is not installed/.test(probe.stdout))
    assert.doesNotMatch(probe.stderr, /onnxruntime|provider_bridge/);
  if (/webgpu  unavailable: .*libvulkan\.so\.1 is not installed/.test(probe.stdout))
    assert.doesNotMatch(probe.stderr, /Vulkan|dawn/);
  assert.doesNotMatch(probe.stderr, /llama|ggml/i, 'llama.cpp prints nothing of its own');
  // the same for an explicit provider that cannot start: only the kit's message
  if (
    !existsSync(
      join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'),
    )
  ) {
    const run = spawnSync(process.execPath, [cli, 'serve', '--model', dir, '--provider', 'cuda'], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /^ipt serve: cannot start the CUDA execution provider: onnxruntime-node's CUDA provider is not installed .*\n$/,
    );
  }
  // and on any machine, whatever it has: each provider has its line, ok or the kit's reason, and nothing of
  // ONNX Runtime's or Dawn's own output reaches the terminal
  assert.match(probe.stdout, /^ *cuda {4}(ok|unavailable: cannot start the CUDA execution provider: .+)$/m);
  assert.match(probe.stdout, /^ *webgpu {2}(ok|unavailable: cannot start the WebGPU execution provider: .+)$/m);
  assert.doesNotMatch(probe.stderr, /onnxruntime|provider_bridge|Vulkan|dawn/i);
});

test('new cache rows are exposed only where present.* is a Concat of the past', () => {
  const edited = exposeNewCacheRows(buildGptOnnx({ cfg, weights }, { variant: 'optimum' }));
  assert.ok(edited);
  assert.deepEqual(Object.keys(edited.names).sort(), [
    'present.0.key',
    'present.0.value',
    'present.1.key',
    'present.1.value',
  ]);
  assert.equal(edited.names['present.1.value'], 'present_rows.1.value');
  assert.equal(
    exposeNewCacheRows(buildGptOnnx({ cfg, weights }, { variant: 'kv-delta' })),
    undefined,
    'the kit kv-delta graph has no present outputs',
  );
});

test('a Mistral-style Optimum export (grouped-query attention, RoPE, config.json in Llama form) runs in both cache modes', async () => {
  const { TINY_LLAMA, llamaWeights, writeLlamaFolder, llamaReferenceGreedy } = await import('./tiny-llama.js');
  const w = llamaWeights(TINY_LLAMA, 5);
  const folder = join(root, 'mistral-like');
  writeLlamaFolder(folder, TINY_LLAMA, w);
  const expected = prompts.slice(0, 4).map((p) => llamaReferenceGreedy(TINY_LLAMA, w, p, 8));
  assert.ok(new Set(expected.flat()).size > 8, 'the test model does not just repeat one token');
  for (const layout of ['optimum', 'auto'] as const) {
    const lm = await OnnxCausalLM.load(folder, { layout, batchSize: 4 });
    try {
      assert.equal(lm.layout.graph, layout === 'optimum' ? 'optimum' : 'optimum-rows');
      assert.equal(lm.layout.kvHeads, 2, 'key/value heads read from the graph (grouped-query attention)');
      assert.equal(lm.config.heads, 4);
      assert.equal(lm.contextLength, TINY_LLAMA.maxPositions);
      assert.deepEqual(await lm.generate(prompts.slice(0, 4), { maxNewTokens: 8, stopTokenIds: [] }), expected);
      const rows = await lm.generateRows(prompts.slice(0, 4), { maxNewTokens: 8, stopTokenIds: [expected[1][2]] });
      assert.deepEqual(rows[1].tokens, expected[1].slice(0, expected[1].indexOf(expected[1][2]) + 1));
    } finally {
      await lm.close();
    }
  }
});
