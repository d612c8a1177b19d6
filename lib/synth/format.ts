// The synthesizer contract: the exact prompt and output format of the released
// `instruction-pretrain/instruction-synthesizer`, and the multi-round (M-shot) chaining of texts.
// These strings are an interface: the released model only works with them byte for byte.
//
// Semantics follow the released Python code, with two deliberate differences:
//  - inputs are never mutated (the Python code edits previous rounds in place);
//  - chains left over when a round has fewer texts than the previous round had chains are spread
//    over all items (the Python code indexes past the end and crashes), so every text is kept once.

export type Pair = { question: string; answer: string };

export type ChainEntry = {
  context: string;
  pairs: Pair[];
  /** This entry was synthesized with the previous entry of its chain as a demonstration, and produced pairs. */
  inheritFromPrev: boolean;
  /** The next round prepended this entry (and what it inherits) to its prompt. */
  followedByNext?: boolean;
};

/** Texts synthesized one after another, each earlier one a demonstration for the next. */
export type Chain = ChainEntry[];

export type RoundItem = { text: string; prompt: string; chain: Chain };

export type PlanOptions = {
  maxModelLen: number;
  maxNewTokens: number;
  /** Token count of a prompt; the engine passes its real tokenizer. */
  countTokens?: (s: string) => number;
};

export const BOS = '<s>';
export const EOS = '</s>';
export const CON_START = '<CON>';
export const CON_END = '</CON>';
export const QUE = '<QUE>';
export const ANS = '<ANS>';
export const END = '</END>';
export const PAIR_DELIMITER = '\n\n';
/** Multiple choice lives inside the question after this marker, one option per `\n- ` line. */
export const OPTIONS_MARKER = '\nOptions:\n- ';
/** A chain-of-thought question ends with this line ... */
export const COT_QUESTION_SUFFIX = "\nLet's think step by step.";
/** ... and its answer is `{reasoning}` + this + `{final}`. */
export const COT_ANSWER_MARKER = '\nTherefore, the answer is ';

/** The prompt for one text: `<s> <CON> {text} </CON>\n\n` (note the space after `<s>`), or `<s>` alone for an empty text. */
export function cookRead(context: string): string {
  return context.length > 0 ? `${BOS} ${CON_START} ${context} ${CON_END}${PAIR_DELIMITER}` : BOS;
}

/** Pairs as the synthesizer writes them: `<QUE> {q} <ANS> {a} </END>` joined by blank lines. */
export function cookCompre(pairs: Pair[]): string {
  if (pairs.length === 0)
    throw new RangeError('cookCompre needs at least one pair (the released format has no empty comprehension)');
  return pairs.map((p) => `${QUE} ${p.question} ${ANS} ${p.answer} ${END}`).join(PAIR_DELIMITER);
}

/** A finished example used as a demonstration in a later prompt. */
export function cookDemonstration(entry: Pick<ChainEntry, 'context' | 'pairs'>): string {
  return cookRead(entry.context) + cookCompre(entry.pairs) + EOS;
}

// Python's str.strip() whitespace (str.isspace), which differs from String.prototype.trim():
// Python strips \x1c-\x1f and \x85 but keeps U+FEFF; JavaScript does the opposite.
const PY_SPACE = new Set(
  [
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
    0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
  ].map((c) => String.fromCharCode(c)),
);

/** Python's `str.strip()` with no arguments. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && PY_SPACE.has(s[start])) start++;
  while (end > start && PY_SPACE.has(s[end - 1])) end--;
  return s.slice(start, end);
}

const READ_START = `${BOS} ${CON_START} `;
const READ_END = ` ${CON_END}\n\n`;

export type PromptParts = {
  /** The current text: the last `<CON> ... </CON>` of the prompt. */
  context: string;
  /** Set when the prompt ends `<QUE> {question} <ANS>`: a request to answer that question. */
  question?: string;
};

/**
 * The current text of a synthesizer prompt: demonstrations (each ending `</s>`) may come first, then
 * `<s> <CON> {text} </CON>\n\n`. Also accepts that prompt followed by `<QUE> {question} <ANS>` (see
 * lib/synth/quality's reference prompts). Returns undefined for anything else.
 */
export function parsePrompt(prompt: string): PromptParts | undefined {
  if (prompt === BOS) return { context: '' };
  let head = prompt;
  let question: string | undefined;
  if (prompt.endsWith(ANS)) {
    const at = prompt.lastIndexOf(READ_END + QUE);
    if (at < 0) return undefined;
    question = pyStrip(prompt.slice(at + READ_END.length + QUE.length, prompt.length - ANS.length));
    head = prompt.slice(0, at + READ_END.length);
  }
  if (!head.endsWith(READ_END)) return undefined;
  const afterDemos = head.lastIndexOf(EOS + READ_START);
  const start = afterDemos >= 0 ? afterDemos + EOS.length : head.startsWith(READ_START) ? 0 : -1;
  if (start < 0) return undefined;
  const context = head.slice(start + READ_START.length, head.length - READ_END.length);
  return question === undefined ? { context } : { context, question };
}

/**
 * The pairs in a synthesizer output. Never throws: malformed pieces are dropped.
 * A piece (between `</END>`s) is kept when it splits on `<ANS>` into exactly two parts, the
 * stripped question starts with `<QUE>`, and the stripped answer is non-empty. The last piece is
 * dropped unless the output ends with `</END>` (generation stopped mid-pair).
 */
export function parseComprehension(output: string, options: { deduplicate?: boolean } = {}): Pair[] {
  if (typeof output !== 'string') return [];
  const pieces = output.split(END);
  if (!output.endsWith(END)) pieces.pop();
  const pairs: Pair[] = [];
  for (const piece of pieces) {
    const parts = piece.split(ANS);
    if (parts.length !== 2) continue;
    const q = pyStrip(parts[0]);
    const answer = pyStrip(parts[1]);
    if (!q.startsWith(QUE) || answer.length === 0) continue;
    pairs.push({ question: pyStrip(q.split(QUE).join('')), answer });
  }
  return options.deduplicate ? deduplicateQuestions(pairs) : pairs;
}

/** Keeps the first pair of each question, comparing questions ignoring case. */
export function deduplicateQuestions(pairs: Pair[]): Pair[] {
  const seen = new Set<string>();
  const out: Pair[] = [];
  for (const p of pairs) {
    const key = p.question.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

/** The released code's length estimate: pieces when split on single spaces, times 1.5. */
export function estimateTokens(s: string): number {
  return s.split(' ').length * 1.5;
}

/** Cuts N texts into M consecutive slices of ceil(N/M); empty trailing slices are dropped. */
export function splitIntoRounds<T>(texts: readonly T[], rounds: number): T[][] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  const size = Math.ceil(texts.length / rounds);
  const slices: T[][] = [];
  for (let r = 0; r < rounds; r++) {
    const slice = texts.slice(r * size, (r + 1) * size);
    if (slice.length > 0) slices.push(slice);
  }
  return slices;
}

/** The demonstrations a chain hands to its next text: its last entry, then earlier ones while inherited. */
export function inheritedDemonstrations(chain: Chain): string {
  const last = chain[chain.length - 1];
  if (!last || last.pairs.length === 0) return '';
  let prompt = cookDemonstration(last);
  for (let i = chain.length - 1; i - 1 >= 0 && chain[i].inheritFromPrev; i--) {
    prompt = cookDemonstration(chain[i - 1]) + prompt;
  }
  return prompt;
}

function copyChain(chain: Chain): Chain {
  return chain.map((e) => ({ ...e, pairs: e.pairs.map((p) => ({ ...p })) }));
}

/**
 * Plans one round: text i continues chain i of the previous round when that chain's last entry has
 * pairs and the whole prompt fits in `maxModelLen - maxNewTokens` tokens.
 */
export function planRound(previous: Chain[], texts: string[], options: PlanOptions): RoundItem[] {
  const countTokens = options.countTokens ?? estimateTokens;
  const budget = options.maxModelLen - options.maxNewTokens;
  if (texts.length === 0 && previous.length > 0) {
    throw new RangeError(
      `planRound got no texts but ${previous.length} chains to continue; every chain needs an item to ride on`,
    );
  }
  const items: RoundItem[] = texts.map((text, i) => {
    if (i >= previous.length) return { text, prompt: cookRead(text), chain: [] };
    const chain = copyChain(previous[i]);
    const last = chain[chain.length - 1];
    const demonstrations = inheritedDemonstrations(chain);
    if (demonstrations.length > 0) {
      const prompt = demonstrations + cookRead(text);
      if (countTokens(prompt) <= budget) {
        last.followedByNext = true;
        return { text, prompt, chain };
      }
    }
    if (last) last.followedByNext = false;
    return { text, prompt: cookRead(text), chain };
  });
  // Chains with no text to continue them: keep them, not followed, in front of the first items' chains.
  const leftovers = previous.slice(texts.length).map(copyChain);
  const prepend: Chain[][] = items.map(() => []);
  leftovers.forEach((chain, j) => {
    if (chain.length > 0) chain[chain.length - 1].followedByNext = false;
    prepend[j % items.length].push(chain);
  });
  return items.map((item, k) =>
    prepend[k].length === 0 ? item : { ...item, chain: [...prepend[k].flat(), ...item.chain] },
  );
}

/** Parses each output (with deduplication) and appends it to its item's chain. */
export function collectRound(items: RoundItem[], outputs: string[]): Chain[] {
  if (items.length !== outputs.length) {
    throw new RangeError(`collectRound got ${outputs.length} outputs for ${items.length} items`);
  }
  return items.map((item, i) => {
    const pairs = parseComprehension(outputs[i], { deduplicate: true });
    const chain = copyChain(item.chain);
    const prev = chain[chain.length - 1];
    const inheritFromPrev = prev !== undefined && prev.followedByNext === true && pairs.length > 0;
    chain.push({ context: item.text, pairs, inheritFromPrev });
    return chain;
  });
}
