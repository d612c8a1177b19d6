// Synthesizer quality metrics on literal outputs, worked out by hand, and on the rules themselves.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerInContext,
  answerOfCompletion,
  answerReferenceQuestions,
  finalOf,
  measureSynthesizer,
  normalise,
  referencePrompts,
  scoreReferenceAnswers,
  stats,
  tokenF1,
  type QualityItem,
} from '../../lib/synth/quality.js';
import { minePairs, ruleSynthesizer, synthesizerOutput } from '../../lib/synth/rules.js';
import { loadBrown } from '../../lib/corpus/brown.js';
import { contextsOf } from '../../lib/corpus/chunk.js';

const ITEMS: QualityItem[] = [
  {
    context: 'The cat sat on the mat. The dog barked loudly at the cat.',
    output:
      '<QUE> Where did the cat sit? <ANS> on the mat </END>\n\n<QUE> Is the dog quiet? <ANS> No </END>\n\n' +
      '<QUE> WHERE did the cat sit? <ANS> On the mat. </END>\n\n<QUE> Which animal barked?\nOptions:\n- cat\n- dog <ANS> dog </END>\n\n' +
      '<QUE> Which animal sat?\nOptions:\n- bird\n- fish <ANS> cat </END>',
    references: [
      { question: 'Where did the cat sit?', answer: 'On the mat.' },
      { question: 'What barked?', answer: 'the dog' },
    ],
  },
  { context: 'Ten people came.', output: 'no pairs here <ANS> at all' },
  {
    context: 'Birds fly south in winter because it is cold.',
    output:
      "<QUE> Why do birds fly south?\nLet's think step by step. <ANS> The text says why.\nTherefore, the answer is it is cold </END>\n\n" +
      '<QUE> where did the cat sit? <ANS> on the mat </END>',
    references: [
      {
        question: "Why do birds fly south?\nLet's think step by step.",
        answer: 'Because.\nTherefore, the answer is it is very cold',
      },
    ],
  },
  {
    context: 'Paris is in France.',
    pairs: [
      { question: 'Where is Paris?', answer: 'France' },
      { question: 'Which prefix?', answer: 'Par' },
      { question: 'How many times is the word "Paris" used in the text?', answer: '1' },
    ],
  },
];

describe('building blocks', () => {
  test('normalise drops case, punctuation and extra spaces', () => {
    assert.equal(normalise('  On the  MAT.\n'), 'on the mat');
    assert.equal(normalise('"Well," she said -- fine!'), 'well she said fine');
  });
  test('the final answer follows the last chain-of-thought marker', () => {
    assert.equal(finalOf('a\nTherefore, the answer is b '), 'b');
    assert.equal(finalOf(' plain '), 'plain');
  });
  test('answers are found on word boundaries only', () => {
    assert.equal(answerInContext('France', 'Paris is in France.'), true);
    assert.equal(answerInContext('Par', 'Paris is in France.'), false);
    assert.equal(answerInContext('IS IN france', 'Paris is in France.'), true);
    assert.equal(answerInContext('...', 'Paris'), false);
  });
  test('token F1 is SQuAD-style', () => {
    assert.equal(tokenF1('it is cold', 'it is very cold'), (2 * 1 * 0.75) / 1.75);
    assert.equal(tokenF1('a dog', 'the dog'), 1, 'articles do not count');
    assert.equal(tokenF1('a big dog', 'the dog'), 2 / 3);
    assert.equal(tokenF1('cat', ['dog', 'cat']), 1, 'the best of several answers');
    assert.equal(tokenF1('dog dog', 'dog'), 2 / 3);
    assert.equal(tokenF1('', ''), 1);
    assert.equal(tokenF1('x', ''), 0);
  });
  test('stats use nearest-rank quantiles', () => {
    assert.deepEqual(stats([4, 0, 2, 2]), { n: 4, mean: 2, min: 0, p10: 0, median: 2, p90: 4, max: 4 });
    assert.deepEqual(stats([]), { n: 0, mean: 0, min: 0, p10: 0, median: 0, p90: 0, max: 0 });
  });
});

describe('measureSynthesizer', () => {
  const report = measureSynthesizer(ITEMS);
  test('parse rate and pairs per text', () => {
    assert.equal(report.texts, 4);
    assert.equal(report.parsed, 3);
    assert.equal(report.parseRate, 0.75);
    assert.equal(report.pairs, 4 + 0 + 2 + 3);
    assert.deepEqual(report.pairsPerText, {
      n: 4,
      mean: 9 / 4,
      min: 0,
      p10: 0,
      median: 2,
      p90: 4,
      max: 4,
      histogram: { '0': 1, '2': 1, '3': 1, '4': 1 },
    });
  });
  test('answers in context leave out yes/no labels', () => {
    // found: on the mat, dog, cat | it is cold | France; not: on the mat (text 3), Par, 1
    assert.deepEqual(report.answerInContext, { eligible: 8, found: 5, labelAnswers: 1, rate: 5 / 8 });
  });
  test('forms, valid multiple choice, kinds and duplicates', () => {
    assert.deepEqual(report.forms, { multipleChoice: 2, chainOfThought: 1, free: 6 });
    assert.deepEqual(report.multipleChoiceValid, { total: 2, valid: 1, rate: 0.5 });
    assert.deepEqual(report.kinds, { other: 6, where: 2, counting: 1 });
    // kinds are rule kinds ("where did..." in lower case follows no rule wording); "other" is not a kind
    assert.equal(report.questionKinds, 2);
    assert.deepEqual(report.topKind, { kind: 'other', share: 6 / 9 });
    // where: on the mat, France; other: dog, cat, it is cold found, on the mat (text 3) and Par not; counting: 1 not
    assert.deepEqual(report.answerInContextByKind, {
      where: { eligible: 2, found: 2 },
      other: { eligible: 5, found: 3 },
      counting: { eligible: 1, found: 0 },
    });
    assert.deepEqual(report.duplicates, { withinText: 1, acrossTexts: 1 });
    assert.deepEqual(
      report.answerChars,
      stats([10, 2, 3, 3, 'The text says why.\nTherefore, the answer is it is cold'.length, 10, 6, 3, 1]),
    );
  });
  test('free-mode accuracy on references', () => {
    const r = report.reference!;
    assert.equal(r.references, 3);
    assert.equal(r.asked, 2);
    assert.equal(r.askedRate, 2 / 3);
    assert.equal(r.exact, 1);
    assert.equal(r.exactOnAsked, 0.5);
    assert.equal(r.exactOverall, 1 / 3);
    assert.ok(Math.abs(r.f1OnAsked - (1 + 6 / 7) / 2) < 1e-12);
    assert.ok(Math.abs(r.f1Overall - (1 + 6 / 7) / 3) < 1e-12);
  });
  test('no references, no reference block; no items, zeros', () => {
    assert.equal(measureSynthesizer([{ context: 'x', output: '' }]).reference, undefined);
    const empty = measureSynthesizer([]);
    assert.equal(empty.parseRate, 0);
    assert.equal(empty.pairs, 0);
    assert.equal(empty.questionKinds, 0);
    assert.equal(empty.topKind, undefined);
  });
  test('the report is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });
});

describe('prompted mode', () => {
  test('prompts force each reference question after the text', () => {
    const prompts = referencePrompts(ITEMS);
    assert.deepEqual(
      prompts.map((p) => [p.item, p.reference]),
      [
        [0, 0],
        [0, 1],
        [2, 0],
      ],
    );
    assert.equal(
      prompts[1].prompt,
      '<s> <CON> The cat sat on the mat. The dog barked loudly at the cat. </CON>\n\n<QUE> What barked? <ANS>',
    );
  });
  test('completions are read up to the first </END> and scored', () => {
    assert.equal(answerOfCompletion(' a dog </END>\n\n<QUE> more'), 'a dog');
    assert.equal(answerOfCompletion(' cut off'), 'cut off');
    // an answer never holds a marker: one that runs on into another <ANS> ended there
    assert.equal(answerOfCompletion(' No <ANS> Yes <ANS> Yes </END>'), 'No');
    assert.equal(answerOfCompletion(' Paris\n\n<QUE> Where? <ANS> x </END>'), 'Paris');
    assert.equal(answerOfCompletion(' done </s>'), 'done');
    const r = scoreReferenceAnswers(ITEMS, [
      ' On the mat </END>',
      ' a dog </END>\n\n<QUE> x',
      ' so.\nTherefore, the answer is it is very cold',
    ]);
    assert.equal(r.asked, 3);
    assert.equal(r.exact, 2);
    assert.ok(Math.abs(r.f1Overall - 1) < 1e-12, 'the near miss "a dog" matches "The dog" once articles are dropped');
    assert.throws(() => scoreReferenceAnswers(ITEMS, ['x']), /1 completions for 3 reference prompts/);
  });
  test('the rules answer their own questions exactly, and miss those of another seed', async () => {
    const texts = loadBrown({ genres: ['news'] })
      .slice(0, 3)
      .flatMap((d) => contextsOf(d.text).slice(0, 2));
    const items = texts.map((context) => ({ context, references: minePairs(context, { seed: 5 }) }));
    const same = await answerReferenceQuestions(ruleSynthesizer({ seed: 5 }), items, {
      maxNewTokens: 512,
      batchSize: 4,
    });
    assert.equal(same.exactOverall, 1);
    assert.equal(
      same.references,
      items.reduce((s, i) => s + i.references.length, 0),
    );
    const other = await answerReferenceQuestions(ruleSynthesizer({ seed: 6 }), items, { maxNewTokens: 512 });
    assert.ok(other.exactOverall < 0.5, `${other.exactOverall}`);
  });
});

test('the rules measured as a synthesizer on Brown texts', () => {
  const docs = loadBrown().filter((_, i) => i % 25 === 0);
  const items = docs.flatMap((d) =>
    contextsOf(d.text).map((context) => ({
      context,
      output: synthesizerOutput(minePairs(context, { seed: 2, genre: d.genre })),
    })),
  );
  const r = measureSynthesizer(items);
  assert.equal(r.parseRate, 1);
  assert.equal(r.multipleChoiceValid.rate, 1);
  assert.equal(r.duplicates.withinText, 0);
  assert.equal(r.kinds.other, undefined);
  assert.ok(r.answerInContext.rate > 0.6, JSON.stringify(r.answerInContext));
});
