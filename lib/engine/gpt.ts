// The kit's GPT architecture as data: its config and the names, shapes and layout of its weights.
// One spec shared by the trainer (lib/train), its checkpoints, the ONNX writer (lib/engine) and
// the exported model folders. Names and layouts follow Hugging Face GPT-2 (Conv1D weights stored
// [in, out], tanh GELU = "gelu_new", tied output embedding), so a kit-trained folder
// (config.json + model.safetensors) is also a valid `GPT2LMHeadModel` for Python users.

export type GPTConfig = {
  vocabSize: number;
  /** Maximum sequence length (learned positions). */
  contextLength: number;
  /** Model width d_model. */
  width: number;
  heads: number;
  layers: number;
  /** MLP hidden size is mlpRatio * width. */
  mlpRatio: number;
  layerNormEps: number;
};

export const DEFAULT_GPT: GPTConfig = {
  vocabSize: 512,
  contextLength: 128,
  width: 128,
  heads: 4,
  layers: 2,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};

export type TensorSpec = { name: string; shape: number[] };

export function validateGPTConfig(cfg: GPTConfig): GPTConfig {
  const ints: Array<keyof GPTConfig> = ['vocabSize', 'contextLength', 'width', 'heads', 'layers', 'mlpRatio'];
  for (const k of ints) {
    const v = cfg[k];
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`GPT config: ${k} must be a positive integer, got ${v}`);
  }
  if (cfg.width % cfg.heads !== 0)
    throw new RangeError(`GPT config: width ${cfg.width} is not divisible by heads ${cfg.heads}`);
  if (!(cfg.layerNormEps > 0)) throw new RangeError(`GPT config: layerNormEps must be > 0, got ${cfg.layerNormEps}`);
  return cfg;
}

/** Every weight tensor in a fixed order (the order of the flat parameter buffer and of checkpoints). */
export function gptTensorSpecs(cfg: GPTConfig): TensorSpec[] {
  validateGPTConfig(cfg);
  const C = cfg.width;
  const H = cfg.mlpRatio * C;
  const specs: TensorSpec[] = [
    { name: 'wte.weight', shape: [cfg.vocabSize, C] },
    { name: 'wpe.weight', shape: [cfg.contextLength, C] },
  ];
  for (let l = 0; l < cfg.layers; l++) {
    const p = `h.${l}`;
    specs.push(
      { name: `${p}.ln_1.weight`, shape: [C] },
      { name: `${p}.ln_1.bias`, shape: [C] },
      { name: `${p}.attn.c_attn.weight`, shape: [C, 3 * C] },
      { name: `${p}.attn.c_attn.bias`, shape: [3 * C] },
      { name: `${p}.attn.c_proj.weight`, shape: [C, C] },
      { name: `${p}.attn.c_proj.bias`, shape: [C] },
      { name: `${p}.ln_2.weight`, shape: [C] },
      { name: `${p}.ln_2.bias`, shape: [C] },
      { name: `${p}.mlp.c_fc.weight`, shape: [C, H] },
      { name: `${p}.mlp.c_fc.bias`, shape: [H] },
      { name: `${p}.mlp.c_proj.weight`, shape: [H, C] },
      { name: `${p}.mlp.c_proj.bias`, shape: [C] },
    );
  }
  specs.push({ name: 'ln_f.weight', shape: [C] }, { name: 'ln_f.bias', shape: [C] });
  return specs;
}

export function gptParameterCount(cfg: GPTConfig): number {
  return gptTensorSpecs(cfg).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** Weights by tensor name; each array is row-major with the spec's shape. */
export type GPTWeights = Record<string, Float32Array>;

export function checkGPTWeights(cfg: GPTConfig, weights: GPTWeights): void {
  for (const spec of gptTensorSpecs(cfg)) {
    const w = weights[spec.name];
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!w) throw new Error(`GPT weights: missing tensor ${spec.name}`);
    if (w.length !== size)
      throw new Error(`GPT weights: ${spec.name} has ${w.length} values, expected ${size} (${spec.shape.join('x')})`);
  }
}

/** config.json in Hugging Face GPT-2 form, plus the kit's own fields. */
export function gptHfConfig(
  cfg: GPTConfig,
  extra: { bosTokenId?: number; eosTokenId?: number; padTokenId?: number } = {},
): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: cfg.vocabSize,
    n_positions: cfg.contextLength,
    n_ctx: cfg.contextLength,
    n_embd: cfg.width,
    n_head: cfg.heads,
    n_layer: cfg.layers,
    n_inner: cfg.mlpRatio * cfg.width,
    activation_function: 'gelu_new',
    layer_norm_epsilon: cfg.layerNormEps,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    tie_word_embeddings: true,
    bos_token_id: extra.bosTokenId ?? 1,
    eos_token_id: extra.eosTokenId ?? 2,
    pad_token_id: extra.padTokenId ?? 0,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

export function gptConfigFromHf(json: Record<string, unknown>): GPTConfig {
  const num = (k: string, fallback?: number): number => {
    const v = json[k];
    if (typeof v === 'number') return v;
    if (fallback !== undefined) return fallback;
    throw new Error(`config.json has no numeric "${k}"`);
  };
  const width = num('n_embd');
  const inner = typeof json.n_inner === 'number' ? json.n_inner : 4 * width;
  return validateGPTConfig({
    vocabSize: num('vocab_size'),
    contextLength: num('n_positions'),
    width,
    heads: num('n_head'),
    layers: num('n_layer'),
    mlpRatio: inner / width,
    layerNormEps: num('layer_norm_epsilon', 1e-5),
  });
}

/** The contract every model the kit can run offers to evaluation and synthesis. */
export type ScoreRequest = { context: number[]; continuation: number[] };
export type ScoreResult = {
  logprob: number;
  tokens: number;
  greedy: boolean;
  /** Per continuation token, when the engine gives them: its log-probability and the most likely token with its log-probability. */
  perToken?: Array<{ logprob: number; top: number; topLogprob: number }>;
};
export type GenerateOptions = {
  maxNewTokens: number;
  /** 0 (default) is greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Generation stops for a row when it emits one of these ids. */
  stopTokenIds?: number[];
};

export interface TokenLM {
  readonly vocabSize: number;
  readonly contextLength: number;
  /** Sum of log-probabilities of each continuation given its context, and whether greedy decoding gives it. */
  scoreContinuations(requests: ScoreRequest[]): Promise<ScoreResult[]>;
  /** New tokens for each prompt (the prompt excluded), stopping at a stop id (included) or maxNewTokens. */
  generate(prompts: number[][], options: GenerateOptions): Promise<number[][]>;
}
