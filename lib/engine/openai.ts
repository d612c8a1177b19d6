// OpenAICompatible: a CompletionEngine over the `/v1/completions` HTTP API that vLLM, TGI,
// llama.cpp's server and `ipt serve` speak, for when one machine is not enough.
//
// Prompts go out one per request by default: servers such as vLLM batch concurrent requests
// themselves (continuous batching), and per-request usage then gives exact token counts. A
// concurrency limit bounds the requests in flight; each has a timeout; 429, 5xx, timeouts and
// dropped connections are retried with exponential backoff (honouring Retry-After); any other
// failure stops with the server's own message.

import type { Completion, CompletionEngine, CompletionOptions } from './completion.js';
import type { TextTokenizer } from './tokenizer.js';
import { createRng, deriveSeed } from '../repro/rng.js';

export type OpenAICompatibleOptions = {
  /** Base URL including /v1, e.g. http://gpu-box:8000/v1. */
  baseUrl: string;
  /** Model id on the server; default: the first one `/v1/models` lists. */
  model?: string;
  /** Sent as a Bearer token; default $OPENAI_API_KEY or $IPT_API_KEY. Never recorded. */
  apiKey?: string;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Prompts per request (default 1). */
  promptsPerRequest?: number;
  /** Per-request timeout in ms (default 600000: a long completion on a busy server takes minutes). */
  timeoutMs?: number;
  /** Retries after the first attempt for 429, 5xx, timeouts and dropped connections (default 6). */
  retries?: number;
  /** First backoff in ms, doubled each retry up to maxBackoffMs (defaults 500 and 30000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The synthesizer prompt carries `<s>` already; vLLM would add another unless told not to (default false). */
  addSpecialTokens?: boolean;
  /** More fields for every request body (server-specific sampling options). */
  extraBody?: Record<string, unknown>;
  /** For countTokens (planRound's budget) and per-prompt counts; the server's tokenizer folder. */
  tokenizer?: TextTokenizer;
};

/** An HTTP failure that retrying will not fix (or that kept failing). */
export class CompletionHttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CompletionHttpError';
  }
}

type Choice = { index?: number; text?: string; finish_reason?: string | null };
type CompletionResponse = { choices?: Choice[]; usage?: { prompt_tokens?: number; completion_tokens?: number } };

const RETRY_STATUS = (s: number) => s === 429 || s === 408 || s >= 500;

/** Runs `tasks` with at most `limit` in flight; results in order; the first failure rejects. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class OpenAICompatible implements CompletionEngine {
  readonly name: string;
  readonly baseUrl: string;
  readonly model: string;
  private readonly opts: Required<Omit<OpenAICompatibleOptions, 'model' | 'apiKey' | 'tokenizer' | 'extraBody'>> &
    Pick<OpenAICompatibleOptions, 'apiKey' | 'tokenizer' | 'extraBody'>;
  private readonly jitter = createRng(deriveSeed(0, 'openai-backoff'));
  /** Requests retried so far (for logs and tests). */
  retried = 0;

  private constructor(options: OpenAICompatibleOptions, model: string) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.model = model;
    this.opts = {
      baseUrl: this.baseUrl,
      apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? process.env.IPT_API_KEY,
      concurrency: options.concurrency ?? 8,
      promptsPerRequest: options.promptsPerRequest ?? 1,
      timeoutMs: options.timeoutMs ?? 600_000,
      retries: options.retries ?? 6,
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      addSpecialTokens: options.addSpecialTokens ?? false,
      extraBody: options.extraBody,
      tokenizer: options.tokenizer,
    };
    for (const k of ['concurrency', 'promptsPerRequest', 'timeoutMs'] as const) {
      if (!(Number.isInteger(this.opts[k]) && this.opts[k] > 0))
        throw new RangeError(`${k} must be a positive integer, got ${this.opts[k]}`);
    }
    this.name = `openai:${this.baseUrl}#${model}`;
    const tok = options.tokenizer;
    if (tok) this.countTokens = (text: string) => tok.count(text);
  }

  /** Present when a tokenizer was given. */
  readonly countTokens?: (text: string) => number;

  /** Connects to a server: checks the URL and resolves the model id through `/v1/models` when not given. */
  static async connect(options: OpenAICompatibleOptions): Promise<OpenAICompatible> {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`"${options.baseUrl}" is not a URL: give the server's base URL, e.g. http://localhost:8000/v1`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`${options.baseUrl}: only http and https servers are supported`);
    const probe = new OpenAICompatible(options, options.model ?? '?');
    const models = (await probe.request('GET', '/models')) as { data?: Array<{ id?: string }> };
    const ids = (models.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
    if (options.model) {
      if (ids.length && !ids.includes(options.model))
        throw new Error(`${probe.baseUrl} does not serve model "${options.model}"; it serves ${ids.join(', ')}`);
      return new OpenAICompatible(options, options.model);
    }
    if (ids.length === 0) throw new Error(`${probe.baseUrl}/models lists no model: name one with --model`);
    return new OpenAICompatible(options, ids[0]);
  }

  async complete(prompts: string[], options: CompletionOptions): Promise<Completion[]> {
    const groups: number[][] = [];
    for (let i = 0; i < prompts.length; i += this.opts.promptsPerRequest) {
      groups.push(Array.from({ length: Math.min(this.opts.promptsPerRequest, prompts.length - i) }, (_, k) => i + k));
    }
    const answers = await mapLimit(groups, this.opts.concurrency, (group, g) =>
      this.completeGroup(
        group.map((i) => prompts[i]),
        options,
        g,
      ),
    );
    return answers.flat();
  }

  private async completeGroup(prompts: string[], options: CompletionOptions, group: number): Promise<Completion[]> {
    const body: Record<string, unknown> = {
      model: this.model,
      prompt: prompts.length === 1 ? prompts[0] : prompts,
      max_tokens: options.maxNewTokens,
      temperature: options.temperature ?? 0,
      top_p: options.topP ?? 1,
      add_special_tokens: this.opts.addSpecialTokens,
      ...this.opts.extraBody,
    };
    // One seed per request, so a request gives the same answer whichever worker sends it.
    if (options.seed !== undefined) body.seed = deriveSeed(options.seed, 'request', group) % 2 ** 31;
    const res = (await this.request('POST', '/completions', body)) as CompletionResponse;
    const choices = res.choices;
    if (!Array.isArray(choices) || choices.length !== prompts.length) {
      throw new CompletionHttpError(
        `${this.baseUrl}/completions returned ${Array.isArray(choices) ? choices.length : 'no'} choices for ${prompts.length} prompts`,
      );
    }
    const ordered = new Array<Choice>(prompts.length);
    choices.forEach((c, k) => (ordered[typeof c.index === 'number' ? c.index : k] = c));
    const tok = this.opts.tokenizer;
    return ordered.map((c, k) => {
      if (!c || typeof c.text !== 'string')
        throw new CompletionHttpError(`${this.baseUrl}/completions returned a choice without text for prompt ${k}`);
      const completion: Completion = { text: c.text };
      if (c.finish_reason === 'stop' || c.finish_reason === 'length') completion.finishReason = c.finish_reason;
      if (prompts.length === 1 && res.usage) {
        completion.promptTokens = res.usage.prompt_tokens;
        completion.completionTokens = res.usage.completion_tokens;
      } else if (tok) {
        completion.promptTokens = tok.count(prompts[k]);
        completion.completionTokens = tok.count(c.text);
      }
      return completion;
    });
  }

  /** One HTTP exchange with retries; returns the parsed JSON body. */
  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let lastProblem = '';
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      let wait: number | undefined;
      try {
        const res = await fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        const text = await res.text();
        if (res.ok) {
          try {
            return JSON.parse(text);
          } catch {
            throw new CompletionHttpError(
              `${method} ${url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`,
              res.status,
            );
          }
        }
        const detail = serverMessage(text);
        if (!RETRY_STATUS(res.status)) {
          const hint =
            res.status === 401 || res.status === 403
              ? ' (set OPENAI_API_KEY or IPT_API_KEY for a server that needs a key)'
              : '';
          throw new CompletionHttpError(
            `${method} ${url} failed: ${res.status} ${res.statusText}: ${detail}${hint}`,
            res.status,
          );
        }
        lastProblem = `${res.status} ${res.statusText}: ${detail}`;
        wait = retryAfterMs(res.headers.get('retry-after'));
      } catch (err) {
        if (err instanceof CompletionHttpError) throw err;
        const e = err as Error & { cause?: { code?: string; message?: string } };
        lastProblem =
          e.name === 'TimeoutError' || e.name === 'AbortError'
            ? `no answer within ${this.opts.timeoutMs / 1000} s`
            : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : e.cause?.message ? ` (${e.cause.message})` : ''}`;
      }
      if (attempt === this.opts.retries) break;
      this.retried++;
      const backoff = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** attempt) * (0.5 + this.jitter.next());
      await sleep(Math.min(this.opts.maxBackoffMs, wait ?? backoff));
    }
    throw new CompletionHttpError(
      `${method} ${url} failed after ${this.opts.retries + 1} attempts; last: ${lastProblem}. Is the server up and reachable?`,
    );
  }
}

function serverMessage(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: string } | string; message?: string; detail?: unknown };
    if (typeof json.error === 'string') return json.error;
    if (json.error?.message) return json.error.message;
    if (json.message) return json.message;
    if (json.detail) return typeof json.detail === 'string' ? json.detail : JSON.stringify(json.detail);
  } catch {
    // not JSON: show the start of the body
  }
  return body.slice(0, 300) || '(empty body)';
}
