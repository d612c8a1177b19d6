// Coverage statistics on a hand-made set whose numbers are worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTaxonomy, categories } from '../../lib/tasks/taxonomy.js';
import { createClassifier } from '../../lib/tasks/classify.js';
import { computeCoverage, coverageSummary, intHistogram, stats, categoryRows } from '../../lib/tasks/coverage.js';
import { pairSetFromChains, pairSetFromPairs } from '../../lib/tasks/input.js';

const tax = loadTaxonomy();
const classifier = createClassifier({ taxonomy: tax });

test('stats and histograms', () => {
  assert.deepEqual(stats([4, 1, 3, 2]), { n: 4, mean: 2.5, median: 2.5, p10: 1.3, p90: 3.7, min: 1, max: 4 });
  assert.deepEqual(stats([7]), { n: 1, mean: 7, median: 7, p10: 7, p90: 7, min: 7, max: 7 });
  assert.equal(stats([]), null);
  assert.deepEqual(intHistogram([0, 2, 2, 5, 9, 12], 5), { values: [0, 2, 5], counts: [1, 2, 3], cap: 5 });
});

test('coverage of a small chain set: counts, shares, formats, lengths, pairs per text', () => {
  const set = pairSetFromChains('tiny', [
    [
      {
        context: 'one',
        inheritFromPrev: false,
        pairs: [
          { question: 'Who built the mill?', answer: 'Josiah Reed' },
          { question: 'Who owned the bakery?', answer: 'Anna' },
          { question: 'Which river?\nOptions:\n- the Severn\n- the Thames', answer: 'the Severn' },
        ],
      },
      { context: 'two', inheritFromPrev: false, pairs: [] },
    ],
    [
      {
        context: 'three',
        inheritFromPrev: false,
        pairs: [
          {
            question: "Is 3 more than 2?\nLet's think step by step.",
            answer: '3 - 2 = 1 > 0.\nTherefore, the answer is yes',
          },
          { question: 'Greetings.', answer: 'Hello to you too, friend.' },
        ],
      },
    ],
  ]);
  const cov = computeCoverage(set, { classifier, examplesPerCategory: 1 });
  assert.equal(cov.pairs, 5);
  assert.equal(cov.texts, 3);
  assert.deepEqual(cov.pairsPerText, { n: 3, mean: 5 / 3, median: 2, p10: 0.4, p90: 2.8, min: 0, max: 3 });
  assert.deepEqual(
    cov.categories.filter((c) => c.count > 0).map((c) => [c.id, c.count]),
    [
      ['extractive-qa', 2],
      ['multiple-choice-qa', 1],
      ['chain-of-thought', 1],
      ['other', 1],
    ],
  );
  assert.equal(cov.categoriesCovered, 3);
  assert.equal(cov.categoriesInTaxonomy, categories(tax).length);
  assert.equal(cov.familiesCovered, 2);
  assert.equal(cov.otherShare, 0.2);
  assert.deepEqual(cov.formats, { multipleChoice: 1, chainOfThought: 1 });
  // final answers: "Josiah Reed" 2, "Anna" 1, "the Severn" 2, "yes" 1, "Hello to you too, friend." 5
  assert.deepEqual(cov.answerWords, { n: 5, mean: 2.2, median: 2, p10: 1, p90: 2 + 3 * (4 * 0.9 - 3), min: 1, max: 5 }); // linear interpolation at position (n - 1) * 0.9
  assert.deepEqual(cov.answerWordsHistogram, { values: [1, 2, 5], counts: [2, 2, 1], cap: 100 });
  assert.deepEqual(cov.categories[0].examples, [{ question: 'Who built the mill?', answer: 'Josiah Reed' }]);
  assert.deepEqual(cov.categories[0].rules, { 'short-answer': 2 });
  assert.equal(cov.families.find((f) => f.id === 'question-answering')?.count, 3);
  assert.equal(cov.families.at(-1)?.id, 'other');
  assert.deepEqual(
    cov.labels.map((l) => l.category),
    ['extractive-qa', 'extractive-qa', 'multiple-choice-qa', 'chain-of-thought', 'other'],
  );
  assert.equal(coverageSummary(cov), 'tiny: 5 pairs from 3 texts, 3 of 48 categories in 2 families, "other" 20.0%');
  assert.deepEqual(categoryRows(cov, 2), [
    { category: 'extractive-qa', family: 'Question answering', pairs: 2, share: '40.0%' },
    { category: 'multiple-choice-qa', family: 'Question answering', pairs: 1, share: '20.0%' },
  ]);
});

test('labels from elsewhere (an LM judge) are used as given and checked against the taxonomy', () => {
  const set = pairSetFromPairs('p', [{ question: 'a', answer: 'b' }]);
  const cov = computeCoverage(set, {
    taxonomy: tax,
    labels: [{ category: 'sentiment', family: 'classification', rule: 'lm-judge' }],
    labeller: 'lm-judge:x',
  });
  assert.equal(cov.categories[0].id, 'sentiment');
  assert.equal(cov.labeller, 'lm-judge:x');
  assert.equal(cov.texts, null);
  assert.throws(
    () => computeCoverage(set, { taxonomy: tax, labels: [{ category: 'bogus', family: 'x', rule: 'y' }] }),
    /unknown task category "bogus"/,
  );
  assert.throws(() => computeCoverage(set, { taxonomy: tax, labels: [] }), /0 labels for 1 pairs/);
});
