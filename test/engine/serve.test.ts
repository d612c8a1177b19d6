// `ipt serve` against abusive requests: an empty prompt and an over-long one get HTTP 400 with a JSON error
// (never 500, never a stack trace on the console); a huge prompt is refused by its byte length before any
// tokenizing, so the server is not stalled by it (the engine's work is counted, not timed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveCompletions } from '../../lib/engine/serve.js';
import type { Completion, CompletionEngine, CompletionOptions } from '../../lib/engine/completion.js';

/** An engine that counts the characters it tokenizes; one token per 4 characters. */
class CountingEngine implements CompletionEngine {
  readonly name = 'counting';
  tokenizedChars = 0;
  completed = 0;
  failWith: Error | undefined;
  countTokens(text: string): number {
    this.tokenizedChars += text.length;
    return Math.ceil(text.length / 4);
  }
  async complete(prompts: string[], options: CompletionOptions): Promise<Completion[]> {
    if (this.failWith) throw this.failWith;
    this.completed += prompts.length;
    return prompts.map(() => ({
      text: 'x'.repeat(Math.min(options.maxNewTokens, 3)),
      promptTokens: 1,
      completionTokens: 3,
      finishReason: 'length' as const,
    }));
  }
}

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; json: { error?: { message: string; code: number } } }> {
  const res = await fetch(`${url}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { error?: { message: string; code: number } } };
}

test('empty, over-long and huge prompts get 400 with a JSON error; the huge one is never tokenized', async () => {
  const engine = new CountingEngine();
  const logged: string[] = [];
  const server = await serveCompletions(engine, {
    port: 0,
    modelName: 'm',
    maxModelLen: 256,
    log: (l) => logged.push(l),
  });
  try {
    const empty = await post(server.url, { prompt: '' });
    assert.equal(empty.status, 400);
    assert.equal(
      empty.json.error?.message,
      'prompt 0 is empty: a prompt needs at least one token (the synthesizer prompts an empty text as "<s>")',
    );

    // 256 tokens of context, 4 characters a token here: 1100 characters are 275 tokens
    const long = await post(server.url, { prompt: ['<s> fine', 'y'.repeat(1100)], max_tokens: 8 });
    assert.equal(long.status, 400);
    assert.equal(
      long.json.error?.message,
      "prompt 1 has 275 tokens; the model's context is 256, which leaves no room to generate: shorten it",
    );

    const before = engine.tokenizedChars;
    const huge = await post(server.url, { prompt: 'z'.repeat(30_000_000) });
    assert.equal(huge.status, 400);
    assert.equal(
      huge.json.error?.message,
      'prompt 0 has 30000000 bytes; this server takes at most 8192 bytes a prompt (32 bytes per token of its 256-token context): shorten it',
    );
    assert.equal(engine.tokenizedChars, before, 'the huge prompt was not tokenized');
    assert.equal(engine.completed, 0, 'no refused prompt reached the model');

    const ok = await post(server.url, { prompt: '<s> fine', max_tokens: 2 });
    assert.equal(ok.status, 200);
    assert.equal(engine.completed, 1);
    assert.ok(
      logged.every((l) => !/\n\s+at /.test(l)),
      'no stack trace was logged',
    );
  } finally {
    await server.close();
  }
});

test('a failing model is a 500 with one line in the log, the stack trace only when debugging', async () => {
  const engine = new CountingEngine();
  engine.failWith = new Error('session lost');
  for (const debug of [false, true]) {
    const logged: string[] = [];
    const server = await serveCompletions(engine, {
      port: 0,
      modelName: 'm',
      maxModelLen: 256,
      log: (l) => logged.push(l),
      debug,
    });
    try {
      const r = await post(server.url, { prompt: '<s> hi' });
      assert.equal(r.status, 500);
      assert.equal(r.json.error?.message, 'the model failed: session lost');
      assert.equal(logged.length, 1);
      assert.equal(/\n\s+at /.test(logged[0]), debug, logged[0]);
      assert.match(logged[0], /^error: session lost/);
    } finally {
      await server.close();
    }
  }
});
