// The text-completion contract shared by every synthesizer backend: an ONNX model on this machine,
// an OpenAI-compatible server (vLLM, TGI, llama.cpp, `ipt serve`), or the rule-based miner.
// The multi-round driver (lib/synth) only sees this interface.

export type CompletionOptions = {
  maxNewTokens: number;
  /** 0 or absent: greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
};

export type Completion = {
  text: string;
  promptTokens?: number;
  completionTokens?: number;
  /** 'stop': the model ended (EOS); 'length': maxNewTokens was reached. */
  finishReason?: 'stop' | 'length';
};

export interface CompletionEngine {
  /** Recorded in manifests, e.g. "onnx:models/tiny-synth@<sha>", "openai:http://host:8000/v1", "rules@v1". */
  readonly name: string;
  /** One completion per prompt, in order. Prompts are exact strings (they already start with `<s>`). */
  complete(prompts: string[], options: CompletionOptions): Promise<Completion[]>;
  /** Token count with the engine's real tokenizer (for planRound's budget), when it has one. */
  countTokens?(text: string): number;
  close?(): Promise<void>;
}
