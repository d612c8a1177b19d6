// The method on one small example, step by step: the prompt the synthesizer sees, its output, the
// parse (with the reason for every dropped piece), two rounds of multi-round chaining, and the
// pre-training texts the templates make. Scripted outputs stand in for the model, so it runs offline
// and the same way every time. `ipt walkthrough` prints it; notebook 01 walks through the same steps.

import { dataPath } from '../repro/project.js';
import { ANS, END, EOS, QUE, collectRound, planRound, pyStrip, type Chain, type Pair } from '../synth/format.js';
import { FAMILIES, chainSeed, renderChain, type Family, type RenderedText } from './render.js';
import { readJson } from '../repro/files.js';

export type WalkthroughExample = {
  description?: string;
  seed: number;
  maxModelLen: number;
  maxNewTokens: number;
  /** Per round: the texts, and what the synthesizer wrote for each. */
  rounds: Array<{ texts: string[]; outputs: string[] }>;
};

/** One piece of an output (between `</END>` markers) and what the parser made of it. */
export type PieceVerdict = { piece: string; kept: boolean; reason: string; pair?: Pair };

export type WalkthroughItem = {
  text: string;
  prompt: string;
  /** Earlier texts (with their pairs) prepended to the prompt as demonstrations. */
  demonstrations: number;
  output: string;
  pieces: PieceVerdict[];
  pairs: Pair[];
  inheritFromPrev: boolean;
};

export type Walkthrough = {
  seed: number;
  rounds: Array<{ round: number; items: WalkthroughItem[] }>;
  chains: Chain[];
  /** Pre-training texts per chain, chain i rendered with chainSeed(seed, i). */
  texts: RenderedText[][];
  /** The first few-shot text of chain 0 in every family. */
  families: Array<{ family: Family; text: string }>;
};

export const WALKTHROUGH_FILE = ['examples', 'walkthrough.json'] as const;

export function loadWalkthroughExample(path: string = dataPath(...WALKTHROUGH_FILE)): WalkthroughExample {
  const value = readJson(path, { what: '--example' }) as WalkthroughExample;
  const bad = (why: string) => new Error(`${path}: ${why}`);
  if (!Number.isFinite(value.seed) || !Number.isFinite(value.maxModelLen) || !Number.isFinite(value.maxNewTokens))
    throw bad('needs numeric seed, maxModelLen and maxNewTokens');
  if (!Array.isArray(value.rounds) || value.rounds.length === 0) throw bad('needs a non-empty "rounds" array');
  value.rounds.forEach((r, i) => {
    const ok =
      Array.isArray(r.texts) &&
      Array.isArray(r.outputs) &&
      r.texts.length === r.outputs.length &&
      [...r.texts, ...r.outputs].every((s) => typeof s === 'string');
    if (!ok) throw bad(`round ${i + 1} needs "texts" and "outputs": string arrays of the same length`);
  });
  return value;
}

/**
 * The parse of `output` piece by piece, with the reason each piece is kept or dropped. Mirrors
 * `parseComprehension(output, { deduplicate: true })` (what `collectRound` uses): the kept pairs are
 * exactly its result. Whitespace-only pieces are left out.
 */
export function explainParse(output: string): PieceVerdict[] {
  const pieces = output.split(END);
  const complete = output.endsWith(END);
  const seen = new Set<string>();
  const verdicts: PieceVerdict[] = [];
  pieces.forEach((piece, k) => {
    if (pyStrip(piece) === '') return;
    const drop = (reason: string) => verdicts.push({ piece, kept: false, reason });
    if (!complete && k === pieces.length - 1) return drop(`cut off: the output does not end with ${END}`);
    const parts = piece.split(ANS);
    if (parts.length === 1) return drop(`no ${ANS} between question and answer`);
    if (parts.length > 2) return drop(`${parts.length - 1} ${ANS} markers; a pair has exactly one`);
    const q = pyStrip(parts[0]);
    const answer = pyStrip(parts[1]);
    if (!q.startsWith(QUE)) return drop(`does not start with ${QUE}`);
    if (answer === '') return drop('empty answer');
    const question = pyStrip(q.split(QUE).join(''));
    const key = question.toLowerCase();
    if (seen.has(key)) return drop('repeats an earlier question (ignoring case)');
    seen.add(key);
    verdicts.push({ piece, kept: true, reason: 'kept', pair: { question, answer } });
  });
  return verdicts;
}

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Runs the example's rounds through planRound/collectRound and renders the chains. */
export function runWalkthrough(example: WalkthroughExample = loadWalkthroughExample()): Walkthrough {
  let chains: Chain[] = [];
  const rounds: Walkthrough['rounds'] = [];
  example.rounds.forEach((r, k) => {
    const items = planRound(chains, r.texts, { maxModelLen: example.maxModelLen, maxNewTokens: example.maxNewTokens });
    chains = collectRound(items, r.outputs);
    rounds.push({
      round: k + 1,
      items: items.map((item, i) => {
        const entry = chains[i][chains[i].length - 1];
        return {
          text: item.text,
          prompt: item.prompt,
          demonstrations: countOf(item.prompt, EOS),
          output: r.outputs[i],
          pieces: explainParse(r.outputs[i]),
          pairs: entry.pairs,
          inheritFromPrev: entry.inheritFromPrev,
        };
      }),
    });
  });
  const texts = chains.map((c, i) => renderChain(c, chainSeed(example.seed, i)));
  const families = FAMILIES.map((family) => ({
    family,
    text: renderChain(chains[0], chainSeed(example.seed, 0), { family })[0].text,
  }));
  return { seed: example.seed, rounds, chains, texts, families };
}

// ------------------------------------------------------------------ terminal rendering

function gutter(text: string, mark = '│ '): string {
  return text
    .split('\n')
    .map((l) => mark + l)
    .join('\n');
}

function heading(title: string, ch = '-'): string {
  return `${title}\n${ch.repeat(Math.min(title.length, 100))}`;
}

/** The walkthrough as plain text for a terminal; prompts and outputs are shown byte for byte after "│ ". */
export function formatWalkthrough(w: Walkthrough): string {
  const out: string[] = [];
  out.push(heading('Instruction Pre-Training, step by step (Cheng et al., 2024)', '='), '');
  out.push('A context-based instruction synthesizer reads raw texts and writes question-answer pairs about them;');
  out.push('earlier texts with their pairs are chained in as demonstrations; templates turn the result into');
  out.push('pre-training text. Model outputs here are scripted (data/examples/walkthrough.json).', '');
  for (const r of w.rounds) {
    out.push(heading(`Round ${r.round}: ${r.items.length} texts`), '');
    r.items.forEach((item, i) => {
      const demo =
        item.demonstrations === 0
          ? 'no demonstrations'
          : `${item.demonstrations} demonstration${item.demonstrations > 1 ? 's' : ''}: earlier texts of its chain with their pairs, each ending in ${EOS}`;
      out.push(`Text ${i + 1}: the prompt the synthesizer sees (${demo}):`, gutter(item.prompt), '');
      out.push(`Text ${i + 1}: the model's output:`, gutter(item.output), '');
      const kept = item.pieces.filter((p) => p.kept).length;
      out.push(
        `Text ${i + 1}: parsed into ${kept} pair${kept === 1 ? '' : 's'} (${item.pieces.length - kept} piece${item.pieces.length - kept === 1 ? '' : 's'} dropped):`,
      );
      item.pieces.forEach((p, j) => {
        if (p.kept && p.pair)
          out.push(`  ${j + 1}. Q: ${JSON.stringify(p.pair.question)}\n     A: ${JSON.stringify(p.pair.answer)}`);
        else out.push(`  ${j + 1}. dropped (${p.reason}): ${JSON.stringify(p.piece.trim().slice(0, 80))}`);
      });
      const link =
        r.round === 1
          ? 'starts a chain'
          : item.inheritFromPrev
            ? 'inherits from the previous entry of its chain'
            : 'does not inherit (no pairs, or no demonstration)';
      out.push(`  -> this entry ${link}.`, '');
    });
  }
  out.push(heading(`Chains after ${w.rounds.length} rounds`), '');
  w.chains.forEach((c, i) => {
    out.push(
      `Chain ${i + 1}: ` +
        c
          .map(
            (e, k) =>
              `entry ${k + 1} (${e.pairs.length} pairs${k > 0 ? (e.inheritFromPrev ? ', inherits' : ', does not inherit') : ''})`,
          )
          .join(' -> '),
    );
  });
  out.push('', heading(`Pre-training texts (seed ${w.seed})`), '');
  w.texts.forEach((texts, i) => {
    texts.forEach((t, k) => {
      const what =
        t.family === 'raw'
          ? 'raw text: the entry has no pairs'
          : `${t.family} layout, entries ${t.entries.map((e) => e + 1).join(' + ')}`;
      out.push(`Chain ${i + 1}, text ${k + 1} (${what}):`, gutter(t.text), '');
    });
  });
  out.push(heading('Chain 1 in each layout family'), '');
  for (const f of w.families) out.push(`[${f.family}]`, gutter(f.text), '');
  return out.join('\n');
}
