// The gguf engine (llama.cpp through node-llama-cpp) on GGUF files the kit writes from tiny random
// Hugging Face checkpoints: the same greedy tokens as ONNX Runtime on the same weights and as the
// independent reference, text completion with the synthesizer's markers, per-row seeded sampling,
// log-likelihood scores, the multi-round driver with resume, and GGUF files from a (loopback) Hub.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { convertCheckpoint } from '../../lib/convert/convert.js';
import { convertToGguf } from '../../lib/convert/to-gguf.js';
import { LlamaCppLM, openGgufTokenLM, resolveGguf } from '../../lib/engine/llama.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { openEngine } from '../../lib/engine/open.js';
import { scriptedGptWeights } from '../../lib/engine/onnx-gpt.js';
import { tokenizerFromFiles, tinyTokenizerFiles, EOS_ID } from '../../lib/engine/tokenizer.js';
import { cookRead } from '../../lib/synth/format.js';
import { synthesize } from '../../lib/synth/driver.js';
import { gpt2Config, gpt2Weights, llamaConfig, llamaWeights, writeCheckpoint } from '../convert/hf-checkpoint.js';
import { llamaGreedy, llamaLogits, refConfig } from '../convert/llama-reference.js';
import { referenceGreedy } from './gpt-reference.js';
import { LLAMA_SKIP } from './llama-setup.js';
import { FakeHub } from '../hub/fake-hub.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-llama-'));
after(() => rmSync(root, { recursive: true, force: true }));

const PROMPTS = [
  [1, 40, 41, 42, 100, 7, 9, 200, 33, 34],
  [1, 7],
  [1, 100, 120, 130, 140, 150],
];

async function llamaModel(name: string) {
  const config = llamaConfig({ heads: 4, kvHeads: 2 });
  const { weights } = llamaWeights(config, 3);
  const src = join(root, `${name}-src`);
  const stored = writeCheckpoint(src, config, weights, { shards: ['BF16', 'F32'] });
  return { config, stored, src };
}

test(
  'Llama GGUF f32: llama.cpp, ONNX Runtime and the reference give the same greedy tokens, batched or alone',
  { skip: LLAMA_SKIP, timeout: 180_000 },
  async () => {
    const { config, stored, src } = await llamaModel('greedy');
    const gguf = join(root, 'greedy.gguf');
    await convertToGguf({ source: src, out: gguf, dtype: 'f32' });
    const onnxDir = join(root, 'greedy-onnx');
    await convertCheckpoint({ source: src, out: onnxDir, progress: 'silent' });
    const expected = PROMPTS.map((p) => llamaGreedy(refConfig(config), stored, p, 10));
    const onnx = await OnnxCausalLM.load(onnxDir, { threads: 1 });
    const lm = await LlamaCppLM.load(gguf, { cacheType: 'f32', batchSize: 2, threads: 1 });
    try {
      assert.deepEqual(await onnx.generate(PROMPTS, { maxNewTokens: 10, stopTokenIds: [] }), expected);
      assert.deepEqual(
        await lm.generate(PROMPTS, { maxNewTokens: 10, stopTokenIds: [] }),
        expected,
        'three prompts over two sequences',
      );
      assert.deepEqual(await lm.generate([PROMPTS[2]], { maxNewTokens: 10, stopTokenIds: [] }), [expected[2]], 'alone');
      assert.equal(lm.vocabSize, 264);
      // stop ids end a row, the stop id included
      const stopAt = expected[0][3];
      const rows = await lm.generateRows([PROMPTS[0]], { maxNewTokens: 10, stopTokenIds: [stopAt] });
      assert.deepEqual(rows[0], { tokens: expected[0].slice(0, expected[0].indexOf(stopAt) + 1), finish: 'stop' });
    } finally {
      await lm.close();
      await onnx.close();
    }
  },
);

test(
  'GPT-2 GGUF f32: llama.cpp gives the reference greedy tokens',
  { skip: LLAMA_SKIP, timeout: 120_000 },
  async () => {
    const config = gpt2Config();
    const { spec, weights } = gpt2Weights(config, 8);
    const src = join(root, 'gpt2-src');
    const stored = writeCheckpoint(src, config, weights, { shards: ['F32'], prefix: 'transformer.' });
    const gguf = join(root, 'gpt2.gguf');
    await convertToGguf({ source: src, out: gguf, dtype: 'f32' });
    const lm = await LlamaCppLM.load(gguf, { cacheType: 'f32', threads: 1 });
    try {
      assert.deepEqual(
        await lm.generate(PROMPTS, { maxNewTokens: 8, stopTokenIds: [] }),
        PROMPTS.map((p) => referenceGreedy(spec.cfg, stored, p, 8)),
      );
    } finally {
      await lm.close();
    }
  },
);

test(
  'scores: log-probabilities within 1e-4 of the reference, greedy flags right; f16 and q8_0 files close to f32',
  { skip: LLAMA_SKIP, timeout: 180_000 },
  async () => {
    const { config, stored, src } = await llamaModel('score');
    const ref = refConfig(config);
    const context = PROMPTS[0].slice(0, 6);
    const greedy = llamaGreedy(ref, stored, context, 4);
    const other = [PROMPTS[0][6], PROMPTS[0][7], PROMPTS[0][8]];
    const expected = [greedy, other].map((continuation) => {
      const seq = [...context, ...continuation];
      const logits = llamaLogits(ref, stored, seq);
      let lp = 0;
      continuation.forEach((t, k) => {
        const row = logits.subarray((context.length - 1 + k) * ref.vocab, (context.length + k) * ref.vocab);
        const max = Math.max(...row);
        lp += row[t] - max - Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      });
      return lp;
    });
    const results: Record<string, number[]> = {};
    for (const dtype of ['f32', 'f16', 'q8_0'] as const) {
      const gguf = join(root, `score-${dtype}.gguf`);
      await convertToGguf({ source: src, out: gguf, dtype });
      const lm = await LlamaCppLM.load(gguf, { cacheType: 'f32', threads: 1 });
      try {
        const scored = await lm.scoreContinuations([
          { context, continuation: greedy },
          { context, continuation: other },
        ]);
        results[dtype] = scored.map((s) => s.logprob);
        if (dtype === 'f32') {
          assert.deepEqual(
            scored.map((s) => [s.tokens, s.greedy]),
            [
              [4, true],
              [3, false],
            ],
          );
          // per token: the continuation's log-probabilities (summing to the total) and the most likely token
          assert.deepEqual(
            scored[0].perToken!.map((t) => t.top),
            greedy,
          );
          assert.ok(Math.abs(scored[1].perToken!.reduce((a, t) => a + t.logprob, 0) - scored[1].logprob) < 1e-9);
          assert.ok(scored[1].perToken!.every((t) => t.topLogprob >= t.logprob));
          scored.forEach((s, i) =>
            assert.ok(Math.abs(s.logprob - expected[i]) < 1e-4, `f32 logprob ${s.logprob} vs reference ${expected[i]}`),
          );
        }
      } finally {
        await lm.close();
      }
    }
    // Tolerances: f16 weights carry 11 significant bits, q8_0 about 8 (blocks of 32 with one scale); on
    // these continuations of 3-4 tokens (log-probabilities near -10) that moved sums by < 0.05 and < 0.2.
    results.f16.forEach((lp, i) => assert.ok(Math.abs(lp - expected[i]) < 0.1, `f16 ${lp} vs ${expected[i]}`));
    results.q8_0.forEach((lp, i) => assert.ok(Math.abs(lp - expected[i]) < 0.4, `q8_0 ${lp} vs ${expected[i]}`));
  },
);

test(
  "ipt eval's model spec gguf:FILE opens llama.cpp with the file's tokenizer; its scores agree with ONNX Runtime's on the same weights",
  { skip: LLAMA_SKIP, timeout: 180_000 },
  async () => {
    const { openEvalModel } = await import('../../lib/eval/models.js');
    const { src } = await llamaModel('eval');
    const gguf = join(root, 'eval.gguf');
    await convertToGguf({ source: src, out: gguf, dtype: 'f32' });
    const onnxDir = join(root, 'eval-onnx');
    await convertCheckpoint({ source: src, out: onnxDir, progress: 'silent' });
    await assert.rejects(openEvalModel(`gguf:${gguf}`, { provider: 'webgpu' }), /--provider webgpu is ONNX Runtime's/);
    await assert.rejects(
      openEvalModel(`onnx:${onnxDir}`, { provider: 'vulkan' }),
      /--provider vulkan is a llama\.cpp backend/,
    );
    const viaGguf = await openEvalModel(`gguf:${gguf}`, { threads: 1 });
    const viaOnnx = await openEvalModel(`onnx:${onnxDir}`, { threads: 1 });
    try {
      assert.match(viaGguf.name, /^gguf:.*eval\.gguf@.* \(llama\.cpp cpu\)$/);
      const requests = [
        { context: PROMPTS[0].slice(0, 6), continuation: PROMPTS[0].slice(6) },
        { context: PROMPTS[2].slice(0, 3), continuation: PROMPTS[2].slice(3) },
      ];
      const [a, b] = [
        await viaGguf.model.scoreContinuations(requests),
        await viaOnnx.model.scoreContinuations(requests),
      ];
      // llama.cpp's default f16 cache and flash attention: log-probabilities within 5e-3 of float32's
      a.forEach((r, i) =>
        assert.ok(Math.abs(r.logprob - b[i].logprob) < 5e-3, `gguf ${r.logprob} vs onnx ${b[i].logprob}`),
      );
      assert.deepEqual(
        a.map((r) => r.greedy),
        b.map((r) => r.greedy),
      );
    } finally {
      await viaGguf.close();
      await viaOnnx.close();
    }
  },
);

test(
  'text completion: a scripted model answers a synthesizer prompt with one pair, as ONNX Runtime does, and stops at EOS',
  { skip: LLAMA_SKIP, timeout: 120_000 },
  async () => {
    // The kit's scripted GPT: after token script[i] its greedy continuation is script[i + 1].
    const tok = tokenizerFromFiles(tinyTokenizerFiles());
    const script = [...tok.encode('\n<QUE> Why?<ANS>No.</END>'), EOS_ID];
    const config = gpt2Config({ width: 64, positions: 128 });
    const src = join(root, 'scripted-src');
    const { spec } = gpt2Weights(config, 1);
    writeCheckpoint(src, config, scriptedGptWeights(spec.cfg, script), { shards: ['F32'] });
    const gguf = join(root, 'scripted.gguf');
    await convertToGguf({ source: src, out: gguf });
    const onnxDir = join(root, 'scripted-onnx');
    await convertCheckpoint({ source: src, out: onnxDir, progress: 'silent' });
    const prompts = [cookRead('The cat sat.') + '\n', cookRead('Another text, a little longer than the first.') + '\n'];
    // one thread: llama.cpp's spinning thread pool stalls on a machine shared with other work
    const lm = await openEngine(`gguf:${gguf}`, { batchSize: 2, threads: 1 });
    const onnx = await openEngine(`onnx:${onnxDir}`, { threads: 1 });
    try {
      assert.match(lm.name, /^gguf:.*scripted\.gguf@size-\d+-head-[0-9a-f]{16}$/);
      const got = await lm.complete(prompts, { maxNewTokens: 40 });
      assert.deepEqual(
        got.map((c) => [c.text, c.finishReason]),
        prompts.map(() => ['<QUE> Why?<ANS>No.</END>', 'stop']),
      );
      assert.deepEqual(got, await onnx.complete(prompts, { maxNewTokens: 40 }));
      assert.equal(
        lm.countTokens!(prompts[0]),
        tok.count(prompts[0]),
        'llama.cpp reads the prompt as the kit tokenizer does',
      );
      const cut = await lm.complete([prompts[0]], { maxNewTokens: 3 });
      assert.deepEqual([cut[0].finishReason, cut[0].completionTokens], ['length', 3]);
    } finally {
      await lm.close?.();
      await onnx.close?.();
    }
  },
);

test(
  'seeded sampling: reproducible, seed-dependent, the same for a row alone or in a batch',
  { skip: LLAMA_SKIP, timeout: 120_000 },
  async () => {
    const { src } = await llamaModel('sample');
    const gguf = join(root, 'sample.gguf');
    await convertToGguf({ source: src, out: gguf });
    const lm = await LlamaCppLM.load(gguf, { batchSize: 3, threads: 1 });
    try {
      const options = { maxNewTokens: 12, temperature: 1, topP: 0.95, seed: 7, stopTokenIds: [] };
      const a = await lm.generate(PROMPTS, options);
      assert.deepEqual(await lm.generate(PROMPTS, options), a);
      assert.notDeepEqual(await lm.generate(PROMPTS, { ...options, seed: 8 }), a);
      assert.notDeepEqual(
        a,
        await lm.generate(PROMPTS, { maxNewTokens: 12, stopTokenIds: [] }),
        'sampling departs from greedy',
      );
      assert.deepEqual(await lm.generate([PROMPTS[0]], options), [a[0]], 'row 0 alone');
    } finally {
      await lm.close();
    }
  },
);

test(
  "the multi-round driver on a gguf engine: chains equal ONNX Runtime's, and a run cut short resumes to the same result",
  { skip: LLAMA_SKIP, timeout: 180_000 },
  async () => {
    const tok = tokenizerFromFiles(tinyTokenizerFiles());
    const script = [...tok.encode('\n<QUE> Who?<ANS>Me.</END>'), EOS_ID];
    const config = gpt2Config({ width: 64, positions: 256 });
    const { spec } = gpt2Weights(config, 1);
    const src = join(root, 'driver-src');
    writeCheckpoint(src, config, scriptedGptWeights(spec.cfg, script), { shards: ['F32'] });
    const gguf = join(root, 'driver.gguf');
    await convertToGguf({ source: src, out: gguf });
    const onnxDir = join(root, 'driver-onnx');
    await convertCheckpoint({ source: src, out: onnxDir, progress: 'silent' });
    const texts = ['One short text.', 'Two short texts.', 'Three.', 'Four is here.', 'Five, the fifth.', 'Six.'];
    const run = async (spec: string, outDir: string) => {
      const engine = await openEngine(spec, { batchSize: 2, threads: 1 });
      try {
        return await synthesize({
          texts,
          engine,
          outDir,
          rounds: 2,
          maxModelLen: 256,
          maxNewTokens: 32,
          batchSize: 2,
          progress: 'silent',
        });
      } finally {
        await engine.close?.();
      }
    };
    const out = join(root, 'driver-gguf');
    const first = await run(`gguf:${gguf}`, out);
    const onnxRun = await run(`onnx:${onnxDir}`, join(root, 'driver-onnx-run'));
    const chains = readFileSync(join(out, 'chains.jsonl'), 'utf8');
    assert.equal(chains, readFileSync(join(root, 'driver-onnx-run', 'chains.jsonl'), 'utf8'));
    assert.equal(first.totals.pairs, 6);
    assert.equal(onnxRun.totals.pairs, 6);
    // cut the last round after its first batch of two (as a kill would), then run again: only the last text is synthesized
    const round = join(out, 'round-2.jsonl');
    const lines = readFileSync(round, 'utf8').trimEnd().split('\n');
    writeFileSync(round, lines.slice(0, 2).join('\n') + '\n');
    rmSync(join(out, 'chains.jsonl'));
    const resumed = await run(`gguf:${gguf}`, out);
    assert.equal(resumed.session.resumedTexts, 5);
    assert.equal(readFileSync(join(out, 'chains.jsonl'), 'utf8'), chains);
  },
);

test(
  'GGUF from the Hub: REPO:FILE downloads that file only; a repo with several files must name one',
  { skip: LLAMA_SKIP, timeout: 120_000 },
  async () => {
    const { src } = await llamaModel('hub');
    const gguf = join(root, 'hub.gguf');
    await convertToGguf({ source: src, out: gguf, dtype: 'q8_0' });
    const bytes = readFileSync(gguf);
    const hub = await FakeHub.start([
      {
        type: 'model',
        id: 'org/tiny-GGUF',
        commits: [
          [
            { path: 'README.md', content: '# tiny' },
            { path: 'tiny.Q8_0.gguf', content: bytes, lfs: true },
            { path: 'tiny.F32.gguf', content: Buffer.alloc(4096), lfs: true },
          ],
        ],
      },
    ]);
    try {
      const config = { endpoint: hub.url, cacheDir: join(root, 'hf-cache'), token: undefined, offline: false };
      await assert.rejects(
        resolveGguf('org/tiny-GGUF', { config, progress: 'silent' }),
        /has 2 \.gguf files; name one as gguf:org\/tiny-GGUF:FILE, e\.g\. tiny\.F32\.gguf, tiny\.Q8_0\.gguf/,
      );
      const { model, tokenizer, source, addsBos } = await openGgufTokenLM('org/tiny-GGUF:tiny.Q8_0.gguf', {
        hub: { config, progress: 'silent' },
        threads: 1,
      });
      try {
        assert.equal(addsBos, false, 'the kit writes add_bos_token false: its prompts carry their own <s>');
        assert.equal(source.name, `gguf:org/tiny-GGUF:tiny.Q8_0.gguf@${hub.commit('model', 'org/tiny-GGUF')}`);
        assert.equal(hub.count('cdn', /F32\.gguf/), 0, 'the other file is never fetched');
        assert.deepEqual(tokenizer.encode('<s> hi'), [1, 35, 107, 108]);
        assert.equal(tokenizer.decode([1, 107, 108], { skipSpecialTokens: true }), 'hi');
        assert.equal((await model.generate([PROMPTS[0]], { maxNewTokens: 3, stopTokenIds: [] }))[0].length, 3);
      } finally {
        await model.close();
      }
    } finally {
      await hub.close();
    }
  },
);

test(
  'ipt serve --model gguf:FILE answers /v1/completions as the engine does; provider names are checked per engine',
  { skip: LLAMA_SKIP, timeout: 120_000 },
  async () => {
    const { spawn } = await import('node:child_process');
    const { main } = await import('../../lib/cli.js');
    const { projectRoot } = await import('../../lib/repro/project.js');
    const { OpenAICompatible } = await import('../../lib/engine/openai.js');
    const { src } = await llamaModel('serve');
    const gguf = join(root, 'serve.gguf');
    await convertToGguf({ source: src, out: gguf });
    const child = spawn(
      process.execPath,
      [
        join(projectRoot(), 'dist/lib/cli.js'),
        'serve',
        '--model',
        `gguf:${gguf}`,
        '--port',
        '0',
        '--threads',
        '1',
        '--quiet',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /at (http:\/\/\S+)/.exec(out);
          if (m) ok(m[1]);
        });
        child.once('exit', (code) => fail(new Error(`ipt serve exited with ${code}`)));
      });
      const client = await OpenAICompatible.connect({ baseUrl: url });
      const prompt = '<s> <CON> Some text. </CON>\n\n';
      const served = await client.complete([prompt], { maxNewTokens: 6 });
      const lm = await LlamaCppLM.load(gguf, { threads: 1 });
      try {
        assert.deepEqual(
          served.map((c) => c.text),
          (await lm.complete([prompt], { maxNewTokens: 6 })).map((c) => c.text),
        );
      } finally {
        await lm.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
    const io = {
      out: '',
      err: '',
      stdout: (s: string) => void (io.out += s),
      stderr: (s: string) => void (io.err += s),
      readStdin: () => '',
    };
    assert.equal(
      await main(
        ['synthesize', '--input', gguf, '--engine', `gguf:${gguf}`, '--provider', 'webgpu', '--out', join(root, 'x')],
        io,
      ),
      2,
    );
    assert.match(io.err, /--provider webgpu is ONNX Runtime's; llama\.cpp offers cpu, cuda, vulkan, metal, auto/);
    io.err = '';
    assert.equal(
      await main(
        ['synthesize', '--input', gguf, '--engine', `onnx:${root}`, '--provider', 'vulkan', '--out', join(root, 'x')],
        io,
      ),
      2,
    );
    assert.match(io.err, /--provider vulkan is a llama\.cpp backend; ONNX Runtime offers cpu, webgpu, cuda, auto/);
  },
);

test(
  '32 prompts at once give each the tokens it gets alone (each runs in its own llama.cpp context)',
  { skip: LLAMA_SKIP, timeout: 180_000 },
  async () => {
    const config = llamaConfig({
      vocab: 512,
      hidden: 64,
      intermediate: 128,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      maxPositions: 512,
    });
    const src = join(root, 'many-src');
    writeCheckpoint(src, config, llamaWeights(config, 12).weights, { shards: ['F32'] });
    const gguf = join(root, 'many.gguf');
    await convertToGguf({ source: src, out: gguf });
    const prompts = Array.from({ length: 32 }, (_, b) =>
      Array.from({ length: 256 }, (_, i) => 3 + ((b * 7919 + i * 104729 + ((i * i) % 97)) % 500)),
    );
    const alone = await LlamaCppLM.load(gguf, { batchSize: 1, threads: 1, contextLength: 320, cacheType: 'f32' });
    const expected: number[][] = [];
    try {
      for (const p of prompts) expected.push((await alone.generate([p], { maxNewTokens: 64, stopTokenIds: [] }))[0]);
    } finally {
      await alone.close();
    }
    const lm = await LlamaCppLM.load(gguf, { batchSize: 32, threads: 1, contextLength: 320, cacheType: 'f32' });
    try {
      assert.equal(lm.batchSize, 32);
      assert.equal(lm.contextLength, 320);
      assert.deepEqual(await lm.generate(prompts, { maxNewTokens: 64, stopTokenIds: [] }), expected);
    } finally {
      await lm.close();
    }
  },
);
