// LM-judge mode with a scripted engine: the prompt carries the taxonomy and the pair, answers are
// parsed leniently, unparseable answers become "other" and say so, and engine misbehaviour is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompletionEngine, CompletionOptions } from '../../lib/engine/completion.js';
import { categories, loadTaxonomy } from '../../lib/tasks/taxonomy.js';
import { judgePairs, judgePrompt, parseJudgeLabel } from '../../lib/tasks/judge.js';
import { evaluateLabels, loadLabelledPairs } from '../../lib/tasks/evaluate.js';

const tax = loadTaxonomy();

/** Answers each prompt with a function of the prompt; records the calls. */
function scripted(
  answer: (prompt: string) => string,
): CompletionEngine & { calls: Array<{ n: number; options: CompletionOptions }> } {
  const calls: Array<{ n: number; options: CompletionOptions }> = [];
  return {
    name: 'scripted',
    calls,
    async complete(prompts, options) {
      calls.push({ n: prompts.length, options });
      return prompts.map((p) => ({ text: answer(p), finishReason: 'stop' as const }));
    },
  };
}

test('the judge prompt lists every category and ends with the pair and "Category:"', () => {
  const p = judgePrompt(tax, { question: 'Who wrote it?', answer: 'Ann' });
  for (const c of categories(tax)) assert.ok(p.includes(`- ${c.id}: ${c.description}`), c.id);
  assert.ok(p.includes('- other: '));
  assert.ok(
    p.endsWith('Instruction:\nWho wrote it?\n\nResponse:\nAnn\n\nAnswer with the category id only.\nCategory:'),
  );
});

test('labels are parsed from ids, names, odd casing and surrounding words; the earliest mention wins', () => {
  const cases: Array<[string, string | undefined]> = [
    [' extractive-qa', 'extractive-qa'],
    ['Extractive QA\n', 'extractive-qa'],
    ['The category is: Yes/no QA.', 'yes-no-qa'],
    ['multiple_choice_qa', 'multiple-choice-qa'],
    ['Summarisation', 'summarization'],
    ['sentiment (or maybe emotion)', 'sentiment'],
    ['CHAIN OF THOUGHT', 'chain-of-thought'],
    ['other', 'other'],
    ['I am not sure.', undefined],
    ['', undefined],
  ];
  for (const [out, want] of cases) assert.equal(parseJudgeLabel(tax, out), want, JSON.stringify(out));
});

test('judgePairs labels in batches with greedy decoding; unparsed answers are "other" with their own rule', async () => {
  const engine = scripted((p) =>
    p.includes('Instruction:\nWho wrote it?')
      ? 'extractive-qa'
      : p.includes('Instruction:\nTranslate')
        ? 'Translation'
        : 'no idea',
  );
  const pairs = [
    { question: 'Who wrote it?', answer: 'Ann' },
    { question: 'Translate "yes" to French.', answer: 'oui' },
    { question: 'Hmm?', answer: 'Hmm.' },
  ];
  const got = await judgePairs(engine, pairs, { taxonomy: tax, batchSize: 2 });
  assert.deepEqual(got, [
    { category: 'extractive-qa', family: 'question-answering', rule: 'lm-judge', raw: 'extractive-qa' },
    { category: 'translation', family: 'rewriting', rule: 'lm-judge', raw: 'Translation' },
    { category: 'other', family: 'other', rule: 'lm-judge-unparsed', raw: 'no idea' },
  ]);
  assert.deepEqual(
    engine.calls.map((c) => c.n),
    [2, 1],
  );
  assert.equal(engine.calls[0].options.temperature, undefined);
});

test('a judge that knows the answers scores 100% on the labelled set through the same evaluation', async () => {
  const labelled = loadLabelledPairs(undefined, tax).slice(0, 60);
  const byQuestion = new Map(
    labelled.map((p) => [`Instruction:\n${p.question}\n\nResponse:\n${p.answer}\n`, p.category]),
  );
  const engine = scripted((prompt) => {
    for (const [k, v] of byQuestion) if (prompt.includes(k)) return `${v}\n`;
    return '?';
  });
  const judged = await judgePairs(engine, labelled, { taxonomy: tax, batchSize: 16 });
  assert.equal(evaluateLabels(labelled, judged).accuracy, 1);
});

test('an engine returning the wrong number of completions is an error', async () => {
  const engine: CompletionEngine = {
    name: 'short',
    async complete() {
      return [];
    },
  };
  await assert.rejects(
    judgePairs(engine, [{ question: 'q', answer: 'a' }], { taxonomy: tax }),
    /returned 0 completions for 1 prompts/,
  );
});
