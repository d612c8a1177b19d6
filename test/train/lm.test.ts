// Model folders and the in-process TokenLM: export/load round trip in Hugging Face GPT-2 form,
// scores equal to the log-softmax of the forward pass and independent of batching, generation
// consistent with scoring, seeded sampling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gptTensorSpecs } from '../../lib/engine/gpt.js';
import { tinyTokenizerFiles, loadTokenizer } from '../../lib/engine/tokenizer.js';
import { exportModel, loadModelFolder } from '../../lib/train/export.js';
import { GPTLanguageModel } from '../../lib/train/lm.js';
import { logSoftmaxAt, wholeRow } from '../../lib/engine/sampling.js';
import { GPTModel, initGPTWeights } from '../../lib/train/model.js';
import { readSafetensors } from '../../lib/train/safetensors.js';
import { createRng } from '../../lib/repro/rng.js';
import { TINY } from './helpers.js';

const weights = initGPTWeights(TINY, 21);
// larger weights than the init, so the logits are far from uniform and greedy choices are clear
for (const s of gptTensorSpecs(TINY)) if (s.shape.length === 2) weights[s.name] = weights[s.name].map((v) => v * 20);

test('exportModel writes a GPT-2 folder that loadModelFolder reads back exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-model-'));
  try {
    exportModel(dir, { cfg: TINY, weights, tokenizer: tinyTokenizerFiles() });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'gpt2');
    assert.deepEqual(config.architectures, ['GPT2LMHeadModel']);
    assert.equal(config.n_embd, TINY.width);
    const file = readSafetensors(join(dir, 'model.safetensors'));
    assert.equal(file.metadata.format, 'pt', 'transformers needs format=pt');
    assert.deepEqual(
      file.tensors['h.0.mlp.c_fc.weight'].shape,
      [TINY.width, 4 * TINY.width],
      'Conv1D layout [in, out]',
    );
    const back = loadModelFolder(dir);
    assert.deepEqual(back.cfg, TINY);
    for (const s of gptTensorSpecs(TINY)) assert.deepEqual(back.weights[s.name], weights[s.name]);
    assert.equal(loadTokenizer(dir).eosTokenId, 2);
    assert.deepEqual(back.tokenizer, tinyTokenizerFiles(), 'the tokenizer files come back too');
    const gen = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8'));
    assert.equal(gen.eos_token_id, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scores are the log-softmax of the forward pass, and do not depend on batching', async () => {
  const lm = await GPTLanguageModel.create(TINY, weights, { maxBatch: 3, threads: 2 });
  const model = await GPTModel.create(TINY, weights, { maxBatch: 1, threads: 1 });
  try {
    const rng = createRng(4);
    const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(60));
    const requests = Array.from({ length: 7 }, (_, i) => ({ context: ids(1 + i * 2), continuation: ids(1 + (i % 3)) }));
    requests.push({ context: ids(30), continuation: ids(4) }); // longer than the context: left-truncated
    const batched = await lm.scoreContinuations(requests);
    const single = [];
    for (const r of requests) single.push(...(await lm.scoreContinuations([r])));
    assert.deepEqual(batched, single, 'bit-identical whatever the batch');
    // by hand for request 2 from the plain forward pass
    const { context, continuation } = requests[2];
    const full = [...context, ...continuation];
    model.forward({ B: 1, T: full.length - 1, inputs: full.slice(0, -1) });
    const logits = model.logitsView();
    let lp = 0;
    continuation.forEach((id, k) => {
      const p = context.length - 1 + k;
      lp += logSoftmaxAt(wholeRow(logits.slice(p * TINY.vocabSize, (p + 1) * TINY.vocabSize)), id);
    });
    assert.equal(batched[2].logprob, lp);
    assert.equal(batched[2].tokens, continuation.length);
  } finally {
    await lm.close();
    await model.close();
  }
});

test('greedy generation is what scoring calls greedy; sampling is seeded; stop ids end a row', async () => {
  const lm = await GPTLanguageModel.create(TINY, weights, { maxBatch: 2, threads: 1 });
  try {
    const prompts = [[3, 10, 11], [40], [5, 6, 7, 8, 9]];
    const greedy = await lm.generate(prompts, { maxNewTokens: 6, stopTokenIds: [] });
    assert.deepEqual(
      greedy.map((g) => g.length),
      [6, 6, 6],
    );
    const scores = await lm.scoreContinuations(prompts.map((p, i) => ({ context: p, continuation: greedy[i] })));
    assert.ok(
      scores.every((s) => s.greedy),
      'the greedy continuation scores as greedy',
    );
    const changed = greedy[0].map((id, k) => (k === 2 ? (id === 3 ? 4 : 3) : id));
    const [other] = await lm.scoreContinuations([{ context: prompts[0], continuation: changed }]);
    assert.equal(other.greedy, false);
    assert.deepEqual(
      await lm.generate([prompts[1]], { maxNewTokens: 6, stopTokenIds: [] }),
      [greedy[1]],
      'batching does not change generation',
    );
    const a = await lm.generate(prompts, { maxNewTokens: 8, temperature: 1, seed: 5 });
    const b = await lm.generate(prompts, { maxNewTokens: 8, temperature: 1, seed: 5 });
    const c = await lm.generate(prompts, { maxNewTokens: 8, temperature: 1, seed: 6 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const stopAt = greedy[0][1];
    const stopped = await lm.generate([prompts[0]], { maxNewTokens: 6, stopTokenIds: [stopAt] });
    assert.deepEqual(
      stopped[0],
      greedy[0].slice(0, greedy[0].indexOf(stopAt) + 1),
      'the stop id is included, nothing after it',
    );
  } finally {
    await lm.close();
  }
});
