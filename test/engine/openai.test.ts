// The OpenAI-compatible client against `ipt serve` on loopback (real HTTP, real model), and against
// a fault-injecting server: retries with backoff on 429/5xx/timeouts, clear errors otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OpenAICompatible, CompletionHttpError } from '../../lib/engine/openai.js';
import { serveCompletions, type RunningServer } from '../../lib/engine/serve.js';
import { OnnxCausalLM } from '../../lib/engine/onnx-lm.js';
import { writeGptModelFolder, scriptedGptWeights, seededGptWeights } from '../../lib/engine/onnx-gpt.js';
import type { GPTConfig } from '../../lib/engine/gpt.js';
import { tinyTokenizerFiles, tokenizerFromFiles, TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';
import { cookRead } from '../../lib/synth/format.js';
import { projectRoot } from '../../lib/repro/project.js';
import { deriveSeed } from '../../lib/repro/rng.js';

const tok = tokenizerFromFiles(tinyTokenizerFiles());
const cfg: GPTConfig = {
  vocabSize: TINY_BASE_VOCAB,
  contextLength: 256,
  width: 48,
  heads: 4,
  layers: 1,
  mlpRatio: 2,
  layerNormEps: 1e-5,
};
let root: string;
let scripted: string;
let seeded: string;
let lm: OnnxCausalLM;
let server: RunningServer;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'ipt-openai-'));
  scripted = join(root, 'scripted');
  seeded = join(root, 'seeded');
  writeGptModelFolder(
    scripted,
    { cfg, weights: scriptedGptWeights(cfg, [...tok.encode('\n<QUE> Why?<ANS>No.</END>'), 2]) },
    { variants: ['kv-delta'] },
  );
  writeGptModelFolder(seeded, { cfg, weights: seededGptWeights(cfg, 4) }, { variants: ['kv-delta'] });
  lm = await OnnxCausalLM.load(seeded, { batchSize: 4 });
  server = await serveCompletions(lm, { port: 0, modelName: 'tiny', maxModelLen: cfg.contextLength });
});
after(async () => {
  await server.close();
  await lm.close();
  rmSync(root, { recursive: true, force: true });
});

const texts = ['The cat sat on the mat.', 'Water boils at 100 degrees.', 'Paris is in France.', 'A', 'Rain falls.'].map(
  cookRead,
);

test('completions over HTTP equal the model run directly, one or several prompts per request', async () => {
  const direct = await lm.complete(texts, { maxNewTokens: 12 });
  for (const promptsPerRequest of [1, 2]) {
    const client = await OpenAICompatible.connect({
      baseUrl: server.url,
      concurrency: 2,
      promptsPerRequest,
      tokenizer: tok,
    });
    assert.equal(client.model, 'tiny', 'the model id comes from /v1/models');
    assert.equal(client.name, `openai:${server.url}#tiny`);
    const got = await client.complete(texts, { maxNewTokens: 12 });
    assert.deepEqual(
      got.map((c) => c.text),
      direct.map((c) => c.text),
    );
    assert.deepEqual(
      got.map((c) => c.finishReason),
      direct.map((c) => c.finishReason),
    );
    if (promptsPerRequest === 1)
      assert.deepEqual(
        got.map((c) => c.completionTokens),
        direct.map((c) => c.completionTokens),
      );
    assert.equal(client.countTokens?.(texts[0]), tok.encode(texts[0]).length);
  }
});

test('seeded sampling over HTTP is reproducible, equals the model sampling directly, and follows the seed', async () => {
  const client = await OpenAICompatible.connect({ baseUrl: server.url, concurrency: 3 });
  const sample = { maxNewTokens: 10, temperature: 1, seed: 5 };
  const a = await client.complete(texts, sample);
  const b = await client.complete(texts, sample);
  assert.deepEqual(a, b);
  // one prompt per request, each request with its own seed derived from the caller's: each text is
  // the model's own sample of that prompt alone with that seed
  const direct = [];
  for (const [k, t] of texts.entries())
    direct.push((await lm.complete([t], { ...sample, seed: deriveSeed(5, 'request', k) % 2 ** 31 }))[0].text);
  assert.deepEqual(
    a.map((c) => c.text),
    direct,
  );
  const greedy = await lm.complete(texts, { maxNewTokens: 10 });
  assert.notDeepEqual(
    a.map((c) => c.text),
    greedy.map((c) => c.text),
    'temperature reaches the server',
  );
  const other = await client.complete(texts, { ...sample, seed: 6 });
  assert.notDeepEqual(
    other.map((c) => c.text),
    a.map((c) => c.text),
    'the seed reaches the server',
  );
});

test('the server refuses what it does not support, with OpenAI-style errors', async () => {
  const post = async (body: unknown) => {
    const res = await fetch(`${server.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as { error?: { message: string } } };
  };
  assert.deepEqual(
    (await post({ prompt: 'x', stream: true })).json.error?.message,
    '"stream" is not supported by ipt serve',
  );
  assert.equal((await post({ prompt: 'x', model: 'other' })).status, 404);
  assert.match((await post({ prompt: 7 })).json.error?.message ?? '', /"prompt" must be a string/);
  assert.match(
    (await post({ prompt: 'x', max_tokens: -1 })).json.error?.message ?? '',
    /"max_tokens" must be a non-negative integer/,
  );
  const notJson = await fetch(`${server.url}/completions`, { method: 'POST', body: '{oops' });
  assert.equal(notJson.status, 400);
  assert.equal((await fetch(`${server.url}/nothing`)).status, 404);
  const models = (await (await fetch(`${server.url}/models`)).json()) as {
    data: Array<{ id: string; max_model_len: number }>;
  };
  assert.deepEqual(
    models.data.map((m) => [m.id, m.max_model_len]),
    [['tiny', 256]],
  );
  await assert.rejects(
    OpenAICompatible.connect({ baseUrl: server.url, model: 'other' }),
    /does not serve model "other"; it serves tiny/,
  );
  const client = await OpenAICompatible.connect({ baseUrl: server.url, extraBody: { echo: true }, retries: 3 });
  await assert.rejects(client.complete(['x'], { maxNewTokens: 1 }), (err: Error) => {
    assert.ok(err instanceof CompletionHttpError);
    assert.match(err.message, /failed: 400 Bad Request: "echo" is not supported by ipt serve/);
    return true;
  });
  assert.equal(client.retried, 0, 'a 400 is not retried');
});

/** A loopback server listing model "m"; its behaviour per completion request is scripted by the test. */
async function faultyServer(
  plan: (n: number, req: IncomingMessage, res: ServerResponse) => void,
  models = true,
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let n = 0;
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (models && req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ object: 'list', data: [{ id: 'm' }] }));
      }
      plan(n++, req, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    hits: () => n,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

const ok = (res: ServerResponse, text = 'fine') => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      choices: [{ index: 0, text, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    }),
  );
};

test('429 and 5xx are retried with backoff (Retry-After honoured) until the server answers', async () => {
  const statuses = [429, 503, 500];
  const srv = await faultyServer((n, _req, res) => {
    if (n < statuses.length) {
      res.writeHead(statuses[n], { 'content-type': 'application/json', ...(n === 0 ? { 'retry-after': '1' } : {}) });
      res.end(JSON.stringify({ error: { message: `busy ${n}` } }));
    } else ok(res);
  });
  try {
    const client = await OpenAICompatible.connect({ baseUrl: srv.url, model: 'm', backoffMs: 5, retries: 4 });
    const started = Date.now();
    const [c] = await client.complete(['p'], { maxNewTokens: 4 });
    assert.deepEqual(c, { text: 'fine', finishReason: 'stop', promptTokens: 3, completionTokens: 2 });
    assert.equal(client.retried, 3);
    // Retry-After: 1 made the first wait a second, not the 5 ms backoff
    const waited = Date.now() - started;
    assert.ok(waited >= 1000 && waited < 10_000, `waited ${waited} ms`);
  } finally {
    await srv.close();
  }
});

test('a server that keeps failing gives up after the retries, naming the last problem', async () => {
  const srv = await faultyServer((_n, _req, res) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway upstream');
  });
  try {
    const client = await OpenAICompatible.connect({ baseUrl: srv.url, model: 'm', backoffMs: 1, retries: 2 });
    await assert.rejects(
      client.complete(['p'], { maxNewTokens: 4 }),
      /failed after 3 attempts; last: 502 Bad Gateway: bad gateway upstream/,
    );
    assert.equal(srv.hits(), 3);
  } finally {
    await srv.close();
  }
});

test('a request that hangs times out and is retried', async () => {
  const srv = await faultyServer((n, _req, res) => {
    if (n === 0) return; // never answer the first request
    ok(res, 'late but fine');
  });
  try {
    const client = await OpenAICompatible.connect({
      baseUrl: srv.url,
      model: 'm',
      timeoutMs: 1000,
      backoffMs: 1,
      retries: 2,
    });
    const [c] = await client.complete(['p'], { maxNewTokens: 4 });
    assert.equal(c.text, 'late but fine');
    const stubborn = await faultyServer(() => {}); // lists models, never answers a completion
    try {
      const impatient = await OpenAICompatible.connect({
        baseUrl: stubborn.url,
        model: 'm',
        timeoutMs: 100,
        retries: 0,
      });
      await assert.rejects(
        impatient.complete(['p'], { maxNewTokens: 4 }),
        /failed after 1 attempts; last: no answer within 0\.1 s/,
      );
    } finally {
      await stubborn.close();
    }
  } finally {
    await srv.close();
  }
});

test('auth failures, refused connections and malformed answers get clear errors', async () => {
  const srv = await faultyServer((_n, _req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'invalid api key' } }));
  }, false);
  try {
    await assert.rejects(
      OpenAICompatible.connect({ baseUrl: srv.url }),
      /401 Unauthorized: invalid api key \(set OPENAI_API_KEY or IPT_API_KEY/,
    );
    const client = await OpenAICompatible.connect({ baseUrl: srv.url, model: 'm' }).catch(() => undefined);
    assert.equal(client, undefined, 'connect checks /v1/models even with a model named');
  } finally {
    await srv.close();
  }
  const empty = await faultyServer((_n, _req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ choices: [] }));
  });
  try {
    const client = await OpenAICompatible.connect({ baseUrl: empty.url });
    await assert.rejects(client.complete(['a'], { maxNewTokens: 1 }), /returned 0 choices for 1 prompts/);
  } finally {
    await empty.close();
  }
  const closed = await faultyServer(() => {}, false);
  const url = closed.url;
  await closed.close();
  await assert.rejects(
    OpenAICompatible.connect({ baseUrl: url, retries: 1, backoffMs: 1 }),
    /failed after 2 attempts; last: fetch failed \(ECONNREFUSED\)/,
  );
  await assert.rejects(OpenAICompatible.connect({ baseUrl: 'localhost:8000' }), /only http and https|is not a URL/);
});

test('`ipt serve` as a process: serves a model folder on loopback until stopped', async () => {
  const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');
  const child = spawn(process.execPath, [cli, 'serve', '--model', scripted, '--port', '0', '--name', 'toy'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => reject(new Error(`ipt serve exited with ${code}: ${err}`)));
    });
    const client = await OpenAICompatible.connect({ baseUrl: url });
    assert.equal(client.model, 'toy');
    const out = await client.complete([cookRead('Some text.'), cookRead('Other text.')], { maxNewTokens: 30 });
    assert.deepEqual(
      out.map((c) => c.text),
      ['<QUE> Why?<ANS>No.</END>', '<QUE> Why?<ANS>No.</END>'],
    );
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'SIGTERM stops the server cleanly');
});

test('synthesis over HTTP against `ipt serve` gives the chains of the same model run here', async () => {
  const { synthesize } = await import('../../lib/synth/driver.js');
  const docs = Array.from({ length: 10 }, (_, i) => `Paragraph ${i} about ${'things '.repeat(1 + (i % 4))}here.`);
  const local = await OnnxCausalLM.load(scripted, { batchSize: 3 });
  const served = await serveCompletions(local, { port: 0, modelName: 'toy' });
  try {
    const options = {
      texts: docs,
      rounds: 2,
      maxModelLen: 256,
      maxNewTokens: 24,
      batchSize: 3,
      progress: 'silent' as const,
    };
    const here = await synthesize({ ...options, engine: local, outDir: join(root, 'synth-local') });
    const client = await OpenAICompatible.connect({ baseUrl: served.url, tokenizer: tok, concurrency: 4 });
    const remote = await synthesize({
      ...options,
      engine: client,
      outDir: join(root, 'synth-http'),
      parallelBatches: 2,
    });
    assert.deepEqual(remote.chains, here.chains);
    assert.equal(remote.totals.pairs, 10);
    assert.ok(
      remote.chains.some((c) => c.some((e) => e.inheritFromPrev)),
      'round 2 used demonstrations',
    );
    assert.equal(remote.totals.completionTokens, here.totals.completionTokens);
  } finally {
    await served.close();
    await local.close();
  }
});
