// Benchmark suites end to end on a tiny Llama-style ONNX model, with the datasets served by the
// loopback hub in their Hub layouts: log-likelihoods agree with an independent float64 forward pass,
// the results have lm-eval's shape and lm-eval's group weighting, the samples carry every request,
// the same scores come through `ipt serve` (echo + logprobs), BOS handling, and a killed
// `ipt eval` resumes from its request cache without scoring anything twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FakeHub } from '../hub/fake-hub.js';
import { benchmarkFixtures } from './fixtures.js';
import {
  llamaReferenceLogits,
  llamaWeights,
  TINY_LLAMA,
  writeLlamaFolder,
  type LlamaConfig,
} from '../engine/tiny-llama.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { loadTokenizer, tinyTokenizerFiles, tokenizerFromFiles } from '../../lib/engine/tokenizer.js';
import { serveCompletions } from '../../lib/engine/serve.js';
import { evaluateSuites, type SuiteResults } from '../../lib/eval/suites/evaluate.js';
import { encodeRequest, RequestCache } from '../../lib/eval/requests.js';
import { OpenAIScoringLM } from '../../lib/eval/openai-lm.js';
import { tokenizerAddsBos } from '../../lib/eval/models.js';
import { projectRoot } from '../../lib/repro/project.js';
import type { HubConfig } from '../../lib/hub/config.js';

const cfg: LlamaConfig = { ...TINY_LLAMA, maxPositions: 512 };
const weights = llamaWeights(cfg, 3);
let root: string;
let modelDir: string;
let hub: FakeHub;
let lm: OnnxCausalLM;
const hubCfg = (): Partial<HubConfig> => ({
  endpoint: hub.url,
  cacheDir: join(root, 'hf'),
  token: undefined,
  offline: false,
});

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ipt-suites-eval-'));
  modelDir = join(root, 'model');
  writeLlamaFolder(modelDir, cfg, weights);
  hub = await FakeHub.start(benchmarkFixtures({ mmluTestPerSubject: 3 }));
  lm = await OnnxCausalLM.load(modelDir, { batchSize: 8 });
});
after(async () => {
  await lm.close();
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

/** Sum of log-softmax over the continuation tokens, from the independent float64 forward pass. */
function referenceLogprob(context: number[], continuation: number[]): { logprob: number; greedy: boolean } {
  const ids = [...context, ...continuation];
  const logits = llamaReferenceLogits(cfg, weights, ids.slice(0, -1));
  const V = cfg.vocab;
  let logprob = 0;
  let greedy = true;
  continuation.forEach((tok, k) => {
    const row = logits.subarray((context.length - 1 + k) * V, (context.length + k) * V);
    const max = Math.max(...row);
    const z = row.reduce((a, x) => a + Math.exp(x - max), 0);
    logprob += row[tok] - max - Math.log(z);
    if (row.indexOf(max) !== tok) greedy = false;
  });
  return { logprob, greedy };
}

let first: SuiteResults;

test(
  "arc_easy, winogrande and the mmlu group: lm-eval's results shape, scores from log-likelihoods an independent forward pass agrees with",
  { timeout: 180_000 },
  async () => {
    const tok = loadTokenizer(modelDir);
    first = await evaluateSuites(lm, tok, ['arc_easy', 'winogrande', 'mmlu'], {
      hub: hubCfg(),
      batchSize: 8,
      logSamples: true,
      modelKey: lm.name,
      modelName: modelDir,
      progress: 'silent',
    });
    for (const key of [
      'results',
      'groups',
      'group_subtasks',
      'configs',
      'versions',
      'n-shot',
      'higher_is_better',
      'n-samples',
      'config',
    ])
      assert.ok(key in first, key);
    const arc = first.results.arc_easy;
    assert.equal(typeof arc['acc,none'], 'number');
    assert.equal(typeof arc['acc_stderr,none'], 'number');
    assert.equal(typeof arc['acc_norm,none'], 'number');
    assert.equal(first['n-samples'].arc_easy.effective, 8);
    assert.equal(first.configs.arc_easy.doc_to_text, 'Question: {{question}}\nAnswer:');
    assert.equal(first.versions.arc_easy, 1);
    assert.equal(first.versions.mmlu, 2);
    assert.deepEqual(first.group_subtasks.mmlu, ['mmlu_stem', 'mmlu_other', 'mmlu_social_sciences', 'mmlu_humanities']);
    assert.equal(first.group_subtasks.mmlu_stem.length, 19);

    // every logged request scored as the reference pass scores it; acc recomputed from those numbers
    let checked = 0;
    for (const task of ['arc_easy', 'winogrande', 'mmlu_anatomy']) {
      const samples = first.samples![task];
      for (const s of samples.slice(0, 3)) {
        const args = Object.values(s.arguments as Record<string, { arg_0: string; arg_1: string }>);
        const refs = args.map((a) => {
          const enc = encodeRequest(tok, a.arg_0, a.arg_1, { bos: false });
          return referenceLogprob(enc.context, enc.continuation);
        });
        (s.filtered_resps as Array<[string, string]>).forEach(([ll, greedy], i) => {
          assert.ok(
            Math.abs(Number(ll) - refs[i].logprob) < 2e-3,
            `${task} doc ${s.doc_id} choice ${i}: ${ll} vs ${refs[i].logprob}`,
          );
          assert.equal(greedy, refs[i].greedy ? 'True' : 'False');
          checked++;
        });
        const pred = refs.reduce((b, r, i) => (r.logprob > refs[b].logprob ? i : b), 0);
        const gold = task === 'winogrande' ? ((s.doc as { answer: string }).answer === '1' ? 0 : 1) : Number(s.target);
        assert.equal(s.acc, pred === gold ? 1 : 0);
      }
    }
    assert.ok(checked > 20);

    // the group: every subject's acc weighted by its documents; chance 1/4
    const subjects = Object.keys(first.results).filter((n) => n.startsWith('mmlu_') && !first.groups![n]);
    assert.equal(subjects.length, 57);
    const weighted =
      subjects.reduce((a, n) => a + (first.results[n]['acc,none'] as number) * first['n-samples'][n].effective, 0) /
      subjects.reduce((a, n) => a + first['n-samples'][n].effective, 0);
    assert.ok(Math.abs((first.results.mmlu['acc,none'] as number) - weighted) < 1e-12);
    assert.equal(first.ipt.chance.mmlu.acc, 0.25);
    assert.equal(first.ipt.chance.winogrande.acc, 0.5);
    assert.equal(first.ipt.items.arc_easy.scores.acc.length, 8);
    // the samples file carries lm-eval's fields; prompt_hash is the sha256 of the first context
    const s0 = first.samples!.arc_easy[0];
    for (const k of [
      'doc_id',
      'doc',
      'target',
      'arguments',
      'resps',
      'filtered_resps',
      'filter',
      'metrics',
      'doc_hash',
      'prompt_hash',
      'target_hash',
      'acc',
      'acc_norm',
    ])
      assert.ok(k in s0, k);
    assert.equal(first.ipt.datasets.arc_easy[0].commit, hub.commit('dataset', 'allenai/ai2_arc'));
  },
);

test(
  'domain suites (AdaptLLM): classification by mean log-likelihood per answer token, NER by generation, chance levels',
  { timeout: 120_000 },
  async () => {
    const tok = loadTokenizer(modelDir);
    const r = await evaluateSuites(lm, tok, ['FPB', 'MQP', 'NER'], {
      hub: hubCfg(),
      batchSize: 8,
      logSamples: true,
      modelKey: lm.name,
      modelName: modelDir,
      progress: 'silent',
    });
    assert.equal(typeof r.results.FPB['weighted_F1,none'], 'number');
    assert.equal(typeof r.results.MQP['acc,none'], 'number');
    assert.equal(typeof r.results.NER['entity_level_f1,none'], 'number');
    assert.equal(r.ipt.chance.MQP.acc, 0.5);
    assert.equal(r.ipt.chance.NER.entity_level_f1, null);
    // the prediction is the option with the best mean log-likelihood per token
    for (const s of r.samples!.FPB) {
      const perToken = s.mean_logprob as number[];
      assert.equal(s.pred, perToken.indexOf(Math.max(...perToken)));
    }
    assert.equal(r.samples!.NER.length, 4);
  },
);

test(
  "scores through ipt serve (token ids, echo, logprobs) equal the model's own, greedy flags included",
  { timeout: 120_000 },
  async () => {
    const tok = loadTokenizer(modelDir);
    const server = await serveCompletions(lm, {
      port: 0,
      modelName: 'tiny',
      maxModelLen: lm.contextLength,
      scorer: { model: lm, tokenizer: lm.tokenizer! },
    });
    try {
      const remote = await OpenAIScoringLM.connect({ baseUrl: server.url, tokenizer: tok, promptsPerRequest: 3 });
      const reqs = [
        encodeRequest(tok, 'Question: Which lamp is near the river?\nAnswer:', ' stone', { bos: false }),
        encodeRequest(tok, 'The sun is', ' hot', { bos: false }),
        encodeRequest(tok, 'A', ' b c d e', { bos: false }),
        encodeRequest(tok, '', 'starts empty', { bos: false }),
      ];
      const direct = await lm.scoreContinuations(reqs);
      const served = await remote.scoreContinuations(reqs);
      served.forEach((s, i) => {
        assert.ok(Math.abs(s.logprob - direct[i].logprob) < 1e-5, `request ${i}`);
        assert.equal(s.greedy, direct[i].greedy);
        assert.equal(s.tokens, reqs[i].continuation.length);
      });
      // a whole suite through the server: the same per-item scores as in-process
      const viaServer = await evaluateSuites(remote, tok, ['arc_easy'], {
        hub: hubCfg(),
        batchSize: 4,
        modelKey: remote.name,
        modelName: 'served',
        progress: 'silent',
      });
      assert.deepEqual(viaServer.ipt.items.arc_easy.scores, first.ipt.items.arc_easy.scores);
      // the response format lm-eval's local-completions parses
      const res = await fetch(`${server.url}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          prompt: [reqs[1].context.concat(reqs[1].continuation)],
          echo: true,
          logprobs: 1,
          max_tokens: 1,
          temperature: 0,
        }),
      });
      const body = (await res.json()) as {
        choices: Array<{
          text: string;
          logprobs: {
            tokens: string[];
            token_logprobs: Array<number | null>;
            top_logprobs: Array<Record<string, number> | null>;
          };
        }>;
      };
      const lp = body.choices[0].logprobs;
      const n = reqs[1].context.length + reqs[1].continuation.length + 1;
      assert.equal(lp.tokens.length, n);
      assert.equal(lp.token_logprobs[0], null);
      assert.ok(body.choices[0].text.startsWith('The sun is hot'));
    } finally {
      await server.close();
    }
  },
);

test('BOS: a tokenizer that adds one by default is detected, and the BOS goes before the context only', () => {
  const files = tinyTokenizerFiles();
  assert.equal(tokenizerAddsBos(files), false);
  assert.equal(
    tokenizerAddsBos({ ...files, tokenizerConfig: { ...files.tokenizerConfig, add_bos_token: true } }),
    true,
  );
  const llamaLike = {
    tokenizerJson: {
      ...files.tokenizerJson,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      },
    },
    tokenizerConfig: { bos_token: '<s>' },
  };
  assert.equal(tokenizerAddsBos(llamaLike), true);
  const tok = tokenizerFromFiles(files);
  const withBos = encodeRequest(tok, 'Question: x\nAnswer:', ' y', { bos: true });
  const without = encodeRequest(tok, 'Question: x\nAnswer:', ' y', { bos: false });
  assert.deepEqual(withBos.context, [tok.bosTokenId, ...without.context]);
  assert.deepEqual(withBos.continuation, without.continuation);
  // a context that already starts with the BOS text gets no second one
  assert.equal(
    encodeRequest(tok, '<s>Question', ' y', { bos: true }).context.filter((id) => id === tok.bosTokenId).length,
    1,
  );
  // trailing spaces of the context move to the continuation (lm-eval), or stay (AdaptLLM)
  const moved = encodeRequest(tok, 'Answer: ', 'yes', { bos: false });
  assert.deepEqual(moved.continuation, tok.encode(' yes'));
  assert.deepEqual(
    encodeRequest(tok, 'Answer: ', 'yes', { bos: false, keepTrailingSpace: true }).continuation,
    tok.encode('yes'),
  );
});

function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  onSpawn?: (pid: number) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'lib', 'cli.js'), ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    onSpawn?.(child.pid!);
    child.on('close', (code, signal) => resolve({ code, signal, err }));
  });
}

test(
  'a killed ipt eval resumes from its request cache: nothing scored twice, the same results as an uninterrupted run',
  { timeout: 240_000 },
  async () => {
    const env = {
      ...process.env,
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: join(root, 'hf-cli'),
      HF_TOKEN: '',
      IPT_PROGRESS: 'silent',
    };
    const out = join(root, 'cli', 'r.json');
    const args = [
      'eval',
      '--model',
      `onnx:${modelDir}`,
      '--tasks',
      'mmlu,arc_easy',
      '--batch-size',
      '1',
      '--threads',
      '1',
      '--out',
      out,
    ];
    const cachePath = `${out}.cache.jsonl`;
    let killedAt = 0;
    const killed = await cli(args, env, (pid) => {
      const poll = setInterval(() => {
        const lines = existsSync(cachePath) ? readFileSync(cachePath, 'utf8').split('\n').filter(Boolean).length : 0;
        if (lines >= 40) {
          killedAt = lines;
          process.kill(pid, 'SIGKILL');
          clearInterval(poll);
        }
      }, 5);
    });
    assert.equal(killed.signal, 'SIGKILL', `the run ended before it could be killed: ${killed.err}`);
    assert.ok(!existsSync(out), 'no results were written by the killed run');
    const resumed = await cli(args, env);
    assert.equal(resumed.code, 0, resumed.err);
    const m = /resuming: (\d+) requests already in/.exec(resumed.err);
    assert.ok(m && Number(m[1]) >= killedAt, resumed.err);
    const results = JSON.parse(readFileSync(out, 'utf8')) as SuiteResults;
    const total = results.ipt.requests.loglikelihood;
    assert.equal(results.ipt.requests.cached, Number(m![1]));
    // every request is in the cache exactly once (a cut-off last line would be the only extra)
    const keys = readFileSync(cachePath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [(JSON.parse(l) as { k: string }).k];
        } catch {
          return [];
        }
      });
    assert.equal(new Set(keys).size, keys.length, 'a request was scored twice');
    assert.equal(keys.length, new Set(keys).size);
    assert.ok(keys.length <= total);
    // the same numbers as a run without a cache
    const fresh = join(root, 'cli', 'fresh.json');
    const clean = await cli(
      [
        'eval',
        '--model',
        `onnx:${modelDir}`,
        '--tasks',
        'mmlu,arc_easy',
        '--batch-size',
        '8',
        '--threads',
        '1',
        '--out',
        fresh,
        '--cache',
        'none',
      ],
      env,
    );
    assert.equal(clean.code, 0, clean.err);
    const freshResults = JSON.parse(readFileSync(fresh, 'utf8')) as SuiteResults;
    assert.deepEqual(results.ipt.items, freshResults.ipt.items);
    assert.ok(
      Math.abs((results.results.mmlu['acc,none'] as number) - (freshResults.results.mmlu['acc,none'] as number)) <
        1e-12,
    );
    assert.match(resumed.err, /\| *mmlu *\|/);
  },
);

test('the request cache ignores a line cut off by a kill and starts the next write on a fresh line', () => {
  const path = join(root, 'partial.jsonl');
  writeFileSync(path, '{"k":"a","ll":-1.5,"g":true,"n":2}\n{"k":"b","ll":-2');
  const cache = RequestCache.open(path);
  assert.equal(cache.size, 1);
  assert.equal(cache.skippedLines, 1);
  assert.deepEqual(cache.score('a'), { logprob: -1.5, greedy: true, tokens: 2 });
  cache.add([{ k: 'b', ll: -2.25, g: false, n: 1 }]);
  const again = RequestCache.open(path);
  assert.deepEqual(again.score('b'), { logprob: -2.25, greedy: false, tokens: 1 });
  // a damaged line in the middle, and lines that are JSON but not entries, are skipped too: scored again
  const damaged = join(root, 'damaged.jsonl');
  writeFileSync(
    damaged,
    '{"k":"a","ll":-1.5,"g":true,"n":2}\n{"k":"b",\x00}\nnull\n[1]\n{"k":"c","ll":-3,"g":false,"n":1}\n',
  );
  const d = RequestCache.open(damaged);
  assert.equal(d.size, 2);
  assert.equal(d.skippedLines, 3);
  assert.deepEqual(d.score('c'), { logprob: -3, greedy: false, tokens: 1 });
});
