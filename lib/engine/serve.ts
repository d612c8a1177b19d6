// `ipt serve`: any CompletionEngine (usually an OnnxCausalLM) behind the OpenAI-compatible
// `/v1/completions` and `/v1/models` endpoints, so a workshop can share one model and the HTTP
// client is tested against a real server. Requests run one at a time, in arrival order: the model
// session is one compute resource, and a fixed order keeps answers independent of timing.
// With a scorer (a TokenLM and its tokenizer), prompts may also be token ids, and `echo` with
// `logprobs` (0 or 1) returns each token's log-probability and the top token, which is how
// lm-evaluation-harness and `ipt eval --model openai:URL` score a served model.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CompletionEngine, CompletionOptions } from './completion.js';
import type { TokenLM } from './gpt.js';
import type { TextTokenizer } from './tokenizer.js';

export type ServeOptions = {
  /** The id clients use (`model` field); default: the engine's name. */
  modelName?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest accepted request body in bytes (default 32 MiB). */
  maxBodyBytes?: number;
  /** Most prompts in one request (default 256). */
  maxPrompts?: number;
  /** Context length to advertise in /v1/models; prompts longer than it are refused (400) before they reach the model. */
  maxModelLen?: number;
  /**
   * Longest prompt in bytes, checked before tokenizing (which runs on the event loop at some MB/s): default
   * 32 bytes per token of maxModelLen (real text averages 3-5), else 1 MiB.
   */
  maxPromptBytes?: number;
  /** One line per request (default: silent). */
  log?: (line: string) => void;
  /** Log the stack trace of a model failure (default: its message only). */
  debug?: boolean;
  /** Enables token-id prompts and echo + logprobs: the engine as a TokenLM, and its tokenizer. */
  scorer?: { model: TokenLM; tokenizer: TextTokenizer };
};

export type RunningServer = { url: string; port: number; close(): Promise<void> };

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpProblem(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

type CompletionRequest = {
  prompts: Array<string | number[]>;
  options: CompletionOptions;
  echo: boolean;
  logprobs: number | null;
};

const isTokenIds = (p: unknown): p is number[] =>
  Array.isArray(p) && p.length > 0 && p.every((x) => Number.isInteger(x) && x >= 0);

/**
 * Validates a /v1/completions body; unsupported OpenAI features are refused, not ignored. Token-id
 * prompts, echo and logprobs are accepted only when `scoring` is true (the server has a scorer).
 */
export function parseCompletionRequest(
  json: unknown,
  modelName: string,
  maxPrompts: number,
  scoring = false,
): CompletionRequest {
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new HttpProblem(400, 'the body must be a JSON object');
  const b = json as Record<string, unknown>;
  if (b.model !== undefined && b.model !== modelName)
    throw new HttpProblem(
      404,
      `model "${String(b.model)}" does not exist; this server has "${modelName}"`,
      'not_found_error',
    );
  let prompts: Array<string | number[]> | undefined;
  if (typeof b.prompt === 'string') prompts = [b.prompt];
  else if (isTokenIds(b.prompt)) prompts = [b.prompt];
  else if (
    Array.isArray(b.prompt) &&
    b.prompt.length > 0 &&
    b.prompt.every((p) => typeof p === 'string' || isTokenIds(p))
  )
    prompts = b.prompt as Array<string | number[]>;
  if (!prompts)
    throw new HttpProblem(400, '"prompt" must be a string, a list of token ids, or a non-empty array of either');
  if (prompts.length > maxPrompts)
    throw new HttpProblem(400, `at most ${maxPrompts} prompts per request, got ${prompts.length}`);
  const echo = b.echo === true;
  const logprobs = b.logprobs === undefined || b.logprobs === null ? null : b.logprobs;
  if (!scoring) {
    if (prompts.some((p) => typeof p !== 'string'))
      throw new HttpProblem(400, 'token-id prompts need a model with a tokenizer');
  }
  for (const [key, bad] of [
    ['stream', b.stream === true],
    ['echo', echo && !scoring],
    ['logprobs', logprobs !== null && !scoring],
    ['n', b.n !== undefined && b.n !== 1],
    ['best_of', b.best_of !== undefined && b.best_of !== 1],
    ['suffix', b.suffix !== undefined && b.suffix !== null],
    ['stop', b.stop !== undefined && b.stop !== null && !(Array.isArray(b.stop) && b.stop.length === 0)],
  ] as const) {
    if (bad) throw new HttpProblem(400, `"${key}" is not supported by ipt serve`);
  }
  if (logprobs !== null && !(logprobs === 0 || logprobs === 1))
    throw new HttpProblem(
      400,
      `"logprobs" must be 0 or 1 (ipt serve returns the top token only), got ${JSON.stringify(logprobs)}`,
    );
  const numberField = (key: string, fallback: number, ok: (v: number) => boolean, rule: string): number => {
    const v = b[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !ok(v))
      throw new HttpProblem(400, `"${key}" must be ${rule}, got ${JSON.stringify(v)}`);
    return v;
  };
  const options: CompletionOptions = {
    maxNewTokens: numberField('max_tokens', 16, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
    temperature: numberField('temperature', 1, (v) => v >= 0, '>= 0'),
    topP: numberField('top_p', 1, (v) => v > 0 && v <= 1, 'in (0, 1]'),
  };
  if (b.seed !== undefined && b.seed !== null) options.seed = numberField('seed', 0, Number.isInteger, 'an integer');
  return { prompts, options, echo, logprobs: logprobs as number | null };
}

type Choice = { index: number; text: string; logprobs: Record<string, unknown> | null; finish_reason: string };

/** One prompt through the scorer: generation, then (for echo / logprobs) every token's log-probability in one pass. */
async function scoredChoice(
  scorer: NonNullable<ServeOptions['scorer']>,
  prompt: string | number[],
  request: CompletionRequest,
  index: number,
  eos: number[],
): Promise<{ choice: Choice; promptTokens: number; completionTokens: number }> {
  const { model, tokenizer } = scorer;
  const ids = typeof prompt === 'string' ? tokenizer.encode(prompt) : prompt;
  if (ids.length === 0) throw new HttpProblem(400, `prompt ${index} is empty`);
  if (ids.some((id) => id >= model.vocabSize))
    throw new HttpProblem(400, `prompt ${index} has a token id outside the vocabulary of ${model.vocabSize}`);
  const o = request.options;
  const generated =
    o.maxNewTokens > 0
      ? (
          await model.generate([ids], {
            maxNewTokens: o.maxNewTokens,
            temperature: o.temperature,
            topP: o.topP,
            seed: o.seed,
            stopTokenIds: eos,
          })
        )[0]
      : [];
  const stopped = generated.length > 0 && eos.includes(generated[generated.length - 1]);
  const shown = stopped ? generated.slice(0, -1) : generated;
  const genText = tokenizer.decode(shown, { skipSpecialTokens: true });
  const promptText = typeof prompt === 'string' ? prompt : tokenizer.decode(ids);
  let logprobs: Choice['logprobs'] = null;
  if (request.logprobs !== null) {
    const seq = [...ids, ...generated];
    if (seq.length > model.contextLength + 1)
      throw new HttpProblem(
        400,
        `prompt ${index} and its completion (${seq.length} tokens) are longer than the model's context of ${model.contextLength}`,
      );
    const per =
      seq.length > 1
        ? ((await model.scoreContinuations([{ context: seq.slice(0, 1), continuation: seq.slice(1) }]))[0].perToken ??
          [])
        : [];
    if (per.length !== seq.length - 1)
      throw new HttpProblem(500, 'the model gives no per-token log-probabilities', 'server_error');
    const text = (id: number) => tokenizer.decode([id]);
    const tokens = seq.map(text);
    const tokenLogprobs: Array<number | null> = [null, ...per.map((p) => p.logprob)];
    const top: Array<Record<string, number> | null> = [
      null,
      ...per.map((p, k) => (request.logprobs === 0 ? {} : { [text(p.top)]: p.topLogprob, [tokens[k + 1]]: p.logprob })),
    ];
    const offsets: number[] = [];
    let at = 0;
    for (const t of tokens) {
      offsets.push(at);
      at += t.length;
    }
    const from = request.echo ? 0 : ids.length;
    logprobs = {
      tokens: tokens.slice(from),
      token_logprobs: tokenLogprobs.slice(from),
      top_logprobs: top.slice(from),
      text_offset: offsets.slice(from),
    };
  }
  return {
    choice: {
      index,
      text: request.echo ? promptText + genText : genText,
      logprobs,
      finish_reason: stopped ? 'stop' : 'length',
    },
    promptTokens: ids.length,
    completionTokens: generated.length,
  };
}

const BYTES_PER_TOKEN_BOUND = 32;

/**
 * Refuses prompts the model cannot take, cheapest check first: empty, more bytes than the bound (no
 * tokenizing: a 30 MB prompt would stall the server for minutes), then more tokens than the context
 * (a scoring request without new tokens may fill the context and one more, as lm-eval's do).
 */
function checkPrompts(
  engine: CompletionEngine,
  request: CompletionRequest,
  maxModelLen: number | undefined,
  maxPromptBytes: number,
): void {
  request.prompts.forEach((p, i) => {
    if (typeof p !== 'string') return; // token ids: counted below
    if (p === '')
      throw new HttpProblem(
        400,
        `prompt ${i} is empty: a prompt needs at least one token (the synthesizer prompts an empty text as "<s>")`,
      );
    const bytes = Buffer.byteLength(p, 'utf8');
    if (bytes > maxPromptBytes) {
      const why = maxModelLen ? ` (${BYTES_PER_TOKEN_BOUND} bytes per token of its ${maxModelLen}-token context)` : '';
      throw new HttpProblem(
        400,
        `prompt ${i} has ${bytes} bytes; this server takes at most ${maxPromptBytes} bytes a prompt${why}: shorten it`,
      );
    }
  });
  if (!maxModelLen) return;
  const generating = request.options.maxNewTokens > 0;
  const scoring = request.echo || request.logprobs !== null;
  const most = generating ? maxModelLen - 1 : scoring ? maxModelLen + 1 : maxModelLen;
  request.prompts.forEach((p, i) => {
    const n = typeof p === 'string' ? engine.countTokens?.(p) : p.length;
    if (n !== undefined && n > most) {
      throw new HttpProblem(
        400,
        `prompt ${i} has ${n} tokens; the model's context is ${maxModelLen}${generating ? ', which leaves no room to generate' : ''}: shorten it`,
      );
    }
  });
}

export async function serveCompletions(engine: CompletionEngine, options: ServeOptions = {}): Promise<RunningServer> {
  const modelName = options.modelName ?? engine.name;
  const maxPromptBytes =
    options.maxPromptBytes ?? (options.maxModelLen ? options.maxModelLen * BYTES_PER_TOKEN_BOUND : 2 ** 20);
  const maxBody = options.maxBodyBytes ?? 32 * 2 ** 20;
  const maxPrompts = options.maxPrompts ?? 256;
  const log = options.log ?? (() => {});
  let queue: Promise<unknown> = Promise.resolve();
  let counter = 0;
  const created = Math.floor(Date.now() / 1000);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    if (path === '/health' || path === '/v1/health') return send(res, 200, { status: 'ok' });
    if (path === '/v1/models') {
      if (req.method !== 'GET') throw new HttpProblem(405, 'use GET for /v1/models');
      return send(res, 200, {
        object: 'list',
        data: [
          {
            id: modelName,
            object: 'model',
            created,
            owned_by: 'ipt-kit',
            ...(options.maxModelLen ? { max_model_len: options.maxModelLen } : {}),
          },
        ],
      });
    }
    if (path !== '/v1/completions')
      throw new HttpProblem(
        404,
        `no route ${req.method} ${path}; this server has GET /v1/models and POST /v1/completions`,
        'not_found_error',
      );
    if (req.method !== 'POST') throw new HttpProblem(405, 'use POST for /v1/completions');
    let json: unknown;
    try {
      json = JSON.parse(await readBody(req, maxBody));
    } catch (err) {
      if (err instanceof HttpProblem) throw err;
      throw new HttpProblem(400, `the body is not valid JSON: ${(err as Error).message}`);
    }
    const scorer = options.scorer;
    const request = parseCompletionRequest(json, modelName, maxPrompts, scorer !== undefined);
    checkPrompts(engine, request, options.maxModelLen, maxPromptBytes);
    const id = `cmpl-${++counter}`;
    const started = performance.now();
    const viaScorer =
      scorer !== undefined &&
      (request.echo || request.logprobs !== null || request.prompts.some((p) => typeof p !== 'string'));
    const eos = scorer?.tokenizer.eosTokenId !== undefined ? [scorer.tokenizer.eosTokenId] : [];
    const run = queue.then(async () => {
      if (viaScorer) {
        const out = [];
        for (const [i, p] of request.prompts.entries()) out.push(await scoredChoice(scorer!, p, request, i, eos));
        return out;
      }
      const completions = await engine.complete(request.prompts as string[], request.options);
      return completions.map((c, index) => ({
        choice: { index, text: c.text, logprobs: null, finish_reason: c.finishReason ?? 'length' },
        promptTokens: c.promptTokens ?? 0,
        completionTokens: c.completionTokens ?? 0,
      }));
    });
    queue = run.catch(() => undefined);
    const answered = await run;
    const promptTokens = answered.reduce((a, c) => a + c.promptTokens, 0);
    const completionTokens = answered.reduce((a, c) => a + c.completionTokens, 0);
    log(
      `${id}: ${request.prompts.length} prompt(s), ${completionTokens} new tokens in ${((performance.now() - started) / 1000).toFixed(2)} s`,
    );
    send(res, 200, {
      id,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      choices: answered.map((a) => a.choice),
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const problem =
        err instanceof HttpProblem
          ? err
          : new HttpProblem(500, `the model failed: ${(err as Error).message}`, 'server_error');
      if (!(err instanceof HttpProblem))
        log(
          `error: ${(err as Error).message ?? String(err)}${options.debug && (err as Error).stack ? `\n${(err as Error).stack}` : ''}`,
        );
      if (res.headersSent) return res.destroy();
      send(res, problem.status, { error: { message: problem.message, type: problem.type, code: problem.status } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
