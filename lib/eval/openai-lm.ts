// A TokenLM over an OpenAI-compatible completions server (vLLM, `ipt serve`), so benchmarks score a
// model served elsewhere. Log-likelihoods come the way lm-eval's `local-completions` model gets them:
// the prompt is sent as token ids with `echo: true, logprobs: 1, max_tokens: 1, temperature: 0`; the
// server returns every prompt token's log-probability and the top one at each position; the
// continuation's are summed (the one generated token is dropped) and it is greedy when each of its
// tokens was the top one. Token ids come from a local copy of the served model's tokenizer.

import type { GenerateOptions, ScoreRequest, ScoreResult, TokenLM } from '../engine/gpt.js';
import { mapLimit, OpenAICompatible, type OpenAICompatibleOptions } from '../engine/openai.js';
import type { TextTokenizer } from '../engine/tokenizer.js';

type Logprobs = {
  tokens?: string[];
  token_logprobs?: Array<number | null>;
  top_logprobs?: Array<Record<string, number> | null>;
};
type Choice = { index?: number; text?: string; logprobs?: Logprobs | null };
type Response = { choices?: Choice[] };

export type OpenAIScoringOptions = Omit<OpenAICompatibleOptions, 'tokenizer'> & {
  /** The served model's tokenizer: requests go out as its token ids. */
  tokenizer: TextTokenizer;
  /** Requests per HTTP call (default 8). */
  promptsPerRequest?: number;
  /** The model's context length when the server does not say (default: none, no truncation). */
  contextLength?: number;
};

export class OpenAIScoringLM implements TokenLM {
  readonly vocabSize: number;
  readonly name: string;

  private constructor(
    private readonly client: OpenAICompatible,
    readonly tokenizer: TextTokenizer,
    readonly contextLength: number,
    private readonly perRequest: number,
    private readonly concurrency: number,
  ) {
    this.vocabSize = tokenizer.vocabSize;
    this.name = client.name;
  }

  static async connect(options: OpenAIScoringOptions): Promise<OpenAIScoringLM> {
    const client = await OpenAICompatible.connect({ ...options, tokenizer: options.tokenizer });
    const listed = (await client.request('GET', '/models')) as {
      data?: Array<{ id?: string; max_model_len?: unknown }>;
    };
    const entry = (listed.data ?? []).find((m) => m.id === client.model);
    const served = typeof entry?.max_model_len === 'number' ? entry.max_model_len : undefined;
    const perRequest = options.promptsPerRequest ?? 8;
    if (!(Number.isInteger(perRequest) && perRequest > 0))
      throw new RangeError(`promptsPerRequest must be a positive integer, got ${perRequest}`);
    return new OpenAIScoringLM(
      client,
      options.tokenizer,
      served ?? options.contextLength ?? Number.MAX_SAFE_INTEGER,
      perRequest,
      options.concurrency ?? 8,
    );
  }

  async close(): Promise<void> {}

  async scoreContinuations(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    const prepared = requests.map((r, i) => {
      if (r.context.length === 0 || r.continuation.length === 0)
        throw new RangeError(`request ${i} needs a non-empty context and continuation`);
      // left-truncate so that context + continuation + the one generated token fit
      const all = [...r.context, ...r.continuation].slice(-Math.max(r.continuation.length + 1, this.contextLength - 1));
      return { ids: all, contextLength: all.length - r.continuation.length };
    });
    const groups: number[][] = [];
    for (let i = 0; i < prepared.length; i += this.perRequest)
      groups.push(Array.from({ length: Math.min(this.perRequest, prepared.length - i) }, (_, k) => i + k));
    const answered = await mapLimit(groups, this.concurrency, async (group) => {
      const body = {
        model: this.client.model,
        prompt: group.map((i) => prepared[i].ids),
        max_tokens: 1,
        temperature: 0,
        logprobs: 1,
        echo: true,
        seed: 1234,
      };
      const res = (await this.client.request('POST', '/completions', body)) as Response;
      const choices = [...(res.choices ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      if (choices.length !== group.length)
        throw new Error(
          `${this.client.baseUrl}/completions returned ${choices.length} choices for ${group.length} prompts`,
        );
      return choices.map((c, k) => this.parse(c, prepared[group[k]].ids.length, prepared[group[k]].contextLength));
    });
    return answered.flat();
  }

  private parse(choice: Choice, promptTokens: number, contextLength: number): ScoreResult {
    const lp = choice.logprobs;
    const tokenLps = lp?.token_logprobs;
    const tops = lp?.top_logprobs;
    if (!Array.isArray(tokenLps) || !Array.isArray(tops)) {
      throw new Error(
        `${this.client.baseUrl} returned no logprobs with echo: the server must support "echo": true with "logprobs" on /v1/completions (vLLM and ipt serve do)`,
      );
    }
    if (tokenLps.length < promptTokens)
      throw new Error(
        `${this.client.baseUrl} echoed ${tokenLps.length} token log-probabilities for a prompt of ${promptTokens} tokens`,
      );
    let logprob = 0;
    let greedy = true;
    for (let i = contextLength; i < promptTokens; i++) {
      const v = tokenLps[i];
      if (typeof v !== 'number')
        throw new Error(`${this.client.baseUrl} returned no log-probability for prompt token ${i}`);
      logprob += v;
      const top = tops[i];
      if (top && Object.keys(top).length && v !== Math.max(...Object.values(top))) greedy = false;
    }
    return { logprob, tokens: promptTokens - contextLength, greedy };
  }

  /** Greedy (or sampled) continuations; the returned text is turned back into ids with the local tokenizer. */
  async generate(prompts: number[][], options: GenerateOptions): Promise<number[][]> {
    const stopTexts = (options.stopTokenIds ?? []).map((id) => this.tokenizer.decode([id])).filter((s) => s.length > 0);
    return mapLimit(prompts, this.concurrency, async (prompt) => {
      const body: Record<string, unknown> = {
        model: this.client.model,
        prompt,
        max_tokens: options.maxNewTokens,
        temperature: options.temperature ?? 0,
        top_p: options.topP ?? 1,
      };
      if (options.seed !== undefined) body.seed = options.seed;
      const res = (await this.client.request('POST', '/completions', body)) as Response;
      const text = res.choices?.[0]?.text;
      if (typeof text !== 'string') throw new Error(`${this.client.baseUrl}/completions returned no text`);
      // the server stops at EOS itself; a stop token's text ends the continuation here
      let cut = text;
      for (const s of stopTexts) {
        const at = cut.indexOf(s);
        if (at >= 0) cut = cut.slice(0, at + s.length);
      }
      return this.tokenizer.encode(cut);
    });
  }
}
