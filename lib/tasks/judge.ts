// LM-judge mode: ask any completion engine (an ONNX model, an OpenAI-compatible server, a scripted
// fake) to label pairs with the same taxonomy the rule classifier uses, so both can be compared on
// the labelled set. The prompt lists every category with its description; the label is read back
// leniently (any casing, spaces for hyphens, the category's name instead of its id, extra words).

import type { CompletionEngine } from '../engine/completion.js';
import type { Pair } from '../synth/format.js';
import { createProgress } from '../repro/progress.js';
import { OTHER, categories, familyOf, type Taxonomy } from './taxonomy.js';
import type { Classification } from './classify.js';

export const JUDGE_RULE = 'lm-judge';
export const JUDGE_UNPARSED_RULE = 'lm-judge-unparsed';

/** The judge prompt for one pair: instructions, the categories, the pair, and "Category:". */
export function judgePrompt(tax: Taxonomy, pair: Pair): string {
  const lines = [
    'Classify the task of the instruction-response pair below into exactly one category of this taxonomy.',
    'If several fit, choose the most specific one; if none fits, answer "other".',
    '',
    'Categories (id: description):',
    ...categories(tax).map((c) => `- ${c.id}: ${c.description}`),
    `- ${OTHER}: ${tax.other.description}`,
    '',
    'Instruction:',
    pair.question,
    '',
    'Response:',
    pair.answer,
    '',
    'Answer with the category id only.',
    'Category:',
  ];
  return lines.join('\n');
}

function norm(s: string): string {
  return s
    .toLowerCase()
    .replace(/[_\s/]+/g, '-')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-');
}

/** The category an engine's answer names, or undefined when it names none. The earliest mention wins. */
export function parseJudgeLabel(tax: Taxonomy, output: string): string | undefined {
  const text = `-${norm(output)}-`;
  const candidates: Array<{ id: string; key: string }> = [];
  for (const c of [...categories(tax), tax.other]) {
    candidates.push({ id: c.id, key: c.id });
    candidates.push({ id: c.id, key: norm(c.name) });
  }
  let best: { id: string; at: number; len: number } | undefined;
  for (const { id, key } of candidates) {
    const at = text.indexOf(`-${key}-`);
    if (at < 0) continue;
    if (!best || at < best.at || (at === best.at && key.length > best.len)) best = { id, at, len: key.length };
  }
  return best?.id;
}

export type JudgeOptions = {
  taxonomy: Taxonomy;
  /** Prompts per engine call. */
  batchSize?: number;
  maxNewTokens?: number;
  /** Progress label; silent when IPT_PROGRESS=silent. */
  label?: string;
};

export type JudgedPair = Classification & { raw: string };

/** Labels pairs with an engine (greedy). An answer that names no category becomes "other", marked unparsed. */
export async function judgePairs(
  engine: CompletionEngine,
  pairs: Pair[],
  options: JudgeOptions,
): Promise<JudgedPair[]> {
  const tax = options.taxonomy;
  const batch = Math.max(1, options.batchSize ?? 8);
  const out: JudgedPair[] = [];
  const progress = createProgress({
    label: options.label ?? `judge (${engine.name})`,
    total: pairs.length,
    unit: 'pairs',
  });
  try {
    for (let i = 0; i < pairs.length; i += batch) {
      const slice = pairs.slice(i, i + batch);
      const completions = await engine.complete(
        slice.map((p) => judgePrompt(tax, p)),
        { maxNewTokens: options.maxNewTokens ?? 12 },
      );
      if (completions.length !== slice.length) {
        throw new Error(`engine ${engine.name} returned ${completions.length} completions for ${slice.length} prompts`);
      }
      for (const c of completions) {
        const id = parseJudgeLabel(tax, c.text);
        const category = id ?? OTHER;
        out.push({
          category,
          family: familyOf(tax, category),
          rule: id ? JUDGE_RULE : JUDGE_UNPARSED_RULE,
          raw: c.text,
        });
      }
      progress.increment(slice.length);
    }
  } finally {
    progress.stop();
  }
  return out;
}
