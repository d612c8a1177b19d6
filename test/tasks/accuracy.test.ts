// The rule classifier against the kit's hand-labelled pairs (data/tasks/labelled-pairs.jsonl).
// Splits, in the order they were written (git history shows it):
//   dev      219 pairs written before any rule; rules v1 were tuned on them.
//   dev2     127 pairs written after v1 was frozen (v1 scored 90/127 = 70.9% on them blind);
//            then used to tune rules v2.
//   heldout  108 pairs in FLAN/synthesizer-style wording, written after v2 was frozen and never
//            used for tuning: v2 scored 75/108 = 69.4% blind. Rules v3 were then tuned on the
//            rule-based synthesizer's templates (test/tasks/rules-synth.test.ts) and scored 74/108;
//            one bug that this exposed was fixed (v3.1, 75/108), so the current figure is no
//            longer blind, though no rule was written for a held-out pair.
// The floors below sit a little under those measurements so that a rule edit that breaks previously
// handled phrasings fails here; a majority-class labeller would score under 5% on every split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTaxonomy, categories } from '../../lib/tasks/taxonomy.js';
import { createClassifier } from '../../lib/tasks/classify.js';
import { confusionMatrix, confusionPairs, evaluateLabels, loadLabelledPairs } from '../../lib/tasks/evaluate.js';

const tax = loadTaxonomy();
const classifier = createClassifier({ taxonomy: tax });
const labelled = loadLabelledPairs(undefined, tax);
const FLOORS: Record<string, number> = { dev: 0.97, dev2: 0.95, heldout: 0.65, all: 0.88 };

test('the labelled set has at least 300 pairs and covers every category, in the tuning and held-out splits alike', () => {
  assert.ok(labelled.length >= 300, `${labelled.length} pairs`);
  const ids = categories(tax).map((c) => c.id);
  for (const split of ['dev', 'heldout', 'all']) {
    const present = new Set(labelled.filter((p) => split === 'all' || p.split === split).map((p) => p.category));
    const missing = ids.filter((id) => !present.has(id));
    assert.deepEqual(missing, [], `${split} lacks ${missing.join(', ')}`);
  }
  assert.ok(labelled.some((p) => p.category === 'other'));
});

for (const split of ['dev', 'dev2', 'heldout', 'all']) {
  test(`classifier accuracy on the ${split} split is above its floor`, (t) => {
    const gold = labelled.filter((p) => split === 'all' || p.split === split);
    const ev = evaluateLabels(
      gold,
      gold.map((p) => classifier.classify(p)),
    );
    t.diagnostic(`${split}: ${ev.correct}/${ev.n} = ${(100 * ev.accuracy).toFixed(1)}%`);
    for (const c of confusionPairs(ev).slice(0, 8)) t.diagnostic(`  ${c.gold} -> ${c.predicted}: ${c.count}`);
    assert.equal(ev.n, gold.length);
    assert.ok(ev.accuracy >= FLOORS[split], `${split} accuracy ${ev.accuracy.toFixed(3)} < ${FLOORS[split]}`);
  });
}

test('evaluation arithmetic: accuracy, recall, precision and the confusion table', () => {
  const gold = [
    { id: '1', split: 's', category: 'a', question: '', answer: '' },
    { id: '2', split: 's', category: 'a', question: '', answer: '' },
    { id: '3', split: 's', category: 'b', question: '', answer: '' },
    { id: '4', split: 's', category: 'c', question: '', answer: '' },
  ];
  const ev = evaluateLabels(gold, [
    { category: 'a' },
    { category: 'b', rule: 'r' },
    { category: 'b' },
    { category: 'a' },
  ]);
  assert.equal(ev.correct, 2);
  assert.equal(ev.accuracy, 0.5);
  assert.deepEqual(ev.confusion, { a: { a: 1, b: 1 }, b: { b: 1 }, c: { a: 1 } });
  assert.deepEqual(
    ev.perCategory.map((c) => [c.category, c.support, c.predicted, c.correct, c.recall, c.precision]),
    [
      ['a', 2, 2, 1, 0.5, 0.5],
      ['b', 1, 2, 1, 1, 0.5],
      ['c', 1, 0, 0, 0, 0],
    ],
  );
  assert.deepEqual(confusionPairs(ev), [
    { gold: 'a', predicted: 'b', count: 1 },
    { gold: 'c', predicted: 'a', count: 1 },
  ]);
  assert.deepEqual(confusionMatrix(ev, ['a', 'b', 'c']), [
    [1, 1, 0],
    [0, 1, 0],
    [1, 0, 0],
  ]);
  assert.equal(ev.errors[0].rule, 'r');
  assert.throws(() => evaluateLabels(gold, []), /4 labelled pairs but 0 predictions/);
});
