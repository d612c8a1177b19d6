// AdaptLLM's domain metrics on hand-computed cases: scikit-learn's weighted F1, Headline's average
// over its 9 sub-questions, parse_ner + nereval's entity F1, ConvFinQA's numeric match (with Python's
// eval quirks), and the guessing baselines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convFinQACorrect,
  DOMAIN_TASKS,
  domainChance,
  headlineF1,
  nerevalF1,
  normalizedNumbers,
  parseNer,
  weightedF1,
} from '../../lib/eval/suites/domain.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test('weighted F1: per-label F1 weighted by support in the truth', () => {
  // label 0: P = R = 1/2, F1 0.5 (support 2); label 1: P 2/3, R 1, F1 0.8 (support 2); label 2: F1 0 (support 1)
  close(weightedF1([0, 0, 1, 1, 2], [0, 1, 1, 1, 0]), (2 * 0.5 + 2 * 0.8) / 5);
  close(weightedF1([1, 1], [1, 1]), 1);
  // a label only predicted has no support and no weight
  close(weightedF1([0, 0], [0, 1]), 2 / 3); // label 0: P 1, R 1/2
});

test('Headline: weighted F1 within each sub-question, summed and divided by 9', () => {
  // sub-question 0 perfect (1); sub-question 1: label 1 has P 1, R 1/2 -> F1 2/3 (support 2); the other 7 are empty (0)
  close(headlineF1([1, 0, 1, 1], [1, 0, 0, 1], [0, 0, 1, 1]), (1 + 2 / 3) / 9);
});

test('NER: only the word before each "(type)" is taken, duplicates dropped; nereval counts text and type matches', () => {
  assert.deepEqual(parseNer(' Ann Lee (person), Boston (location)'), [
    { text: 'Lee', type: 'person' },
    { text: 'Boston', type: 'location' },
  ]);
  assert.deepEqual(parseNer('X (a) X (a)'), [{ text: 'X', type: 'a' }]);
  // Lee/person: text + type (2); Boston: text only (1); 3 of 4 possible and of 4 predicted
  close(nerevalF1(parseNer(' Ann Lee (person), Boston (location)'), parseNer('Lee (person) and Boston (place)')), 0.75);
  assert.equal(nerevalF1([], []), 0);
  assert.equal(nerevalF1(parseNer('Ann (person)'), []), 0);
});

test('ConvFinQA: numbers on the first line, "%" divides by 100, Python-invalid literals are infinite, a match within 0.01', () => {
  assert.deepEqual(normalizedNumbers('The answer is 1,234.5 or 25% and 007 then -.5e2\n99'), [
    1234.5,
    0.25,
    Number.POSITIVE_INFINITY,
    -50,
  ]);
  assert.deepEqual(normalizedNumbers('0 and 00 and 01.5'), [0, 0, 1.5]);
  assert.equal(convFinQACorrect(' 30', 'It changed by 30.004 units'), 1);
  assert.equal(convFinQACorrect(' 25%', '0.25'), 1);
  assert.equal(convFinQACorrect(' 30', 'about 31'), 0);
  assert.equal(convFinQACorrect(' 30', 'no number'), 0);
  assert.equal(convFinQACorrect(' 30', 'first line\n30'), 0);
});

test('guessing baselines: 1/k for accuracy, the expected weighted F1 of a uniform guess, none for generation', () => {
  const task = (name: string) => DOMAIN_TASKS.find((t) => t.name === name)!;
  const docs = (golds: number[], k: number) =>
    golds.map((g) => ({ input: 'x', options: Array.from({ length: k }, (_, i) => `o${i}`), gold_index: g }));
  close(domainChance(task('USMLE'), docs([0, 1, 2], 4))!, 0.25);
  // shares 1/2, 1/4, 1/4 with k = 3: sum p * 2 p (1/3) / (p + 1/3) = 0.2 + 2 * 0.25 * (2 * 0.25 / 3) / (0.25 + 1 / 3)
  close(domainChance(task('FPB'), docs([0, 0, 1, 2], 3))!, 0.2 + (2 * 0.25 * ((2 * 0.25) / 3)) / (0.25 + 1 / 3));
  assert.equal(domainChance(task('NER'), docs([0], 2)), null);
});
