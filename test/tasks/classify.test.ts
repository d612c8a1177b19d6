// The task taxonomy and the rule classifier: the data files load and validate, features are read off
// pairs in the synthesizer's format, specific rules fire with their ids, and bad rules are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { categories, category, familyOf, loadTaxonomy, parseTaxonomy } from '../../lib/tasks/taxonomy.js';
import { answerShape, createClassifier, loadRules, pairFeatures, parseRules } from '../../lib/tasks/classify.js';

const tax = loadTaxonomy();
const classifier = createClassifier({ taxonomy: tax });

test('the taxonomy has at least 40 categories in families, each described', () => {
  const cats = categories(tax);
  assert.ok(cats.length >= 40, `${cats.length} categories`);
  assert.ok(tax.families.length >= 8);
  for (const c of cats) assert.ok(c.description.length > 20, `${c.id} needs a description`);
  assert.equal(new Set(cats.map((c) => c.id)).size, cats.length);
  assert.equal(familyOf(tax, 'chain-of-thought'), 'reasoning');
  assert.equal(category(tax, 'other').family, 'other');
  assert.throws(() => category(tax, 'no-such-task'), /unknown task category "no-such-task"/);
});

test('the taxonomy parser refuses duplicate and malformed ids', () => {
  const fam = (id: string, cats: string[]) => ({
    id,
    name: id,
    description: 'd',
    categories: cats.map((c) => ({ id: c, name: c, description: 'd' })),
  });
  assert.throws(
    () => parseTaxonomy({ families: [fam('a', ['x']), fam('b', ['x'])] }),
    /id "x" is not kebab-case or is used twice/,
  );
  assert.throws(() => parseTaxonomy({ families: [fam('a', ['Bad Id'])] }), /"Bad Id" is not kebab-case/);
  assert.throws(() => parseTaxonomy({ families: [fam('a', [])] }), /"categories" must be a non-empty array/);
  assert.throws(() => parseTaxonomy({}), /"families" must be a non-empty array/);
});

test('features: options, chain of thought and the final answer are read off the synthesizer format', () => {
  const f = pairFeatures({
    question: "Which is heavier?\nOptions:\n- a feather\n- a brick\nLet's think step by step.",
    answer: 'A brick is made of clay and weighs kilograms.\nTherefore, the answer is a brick',
  });
  assert.equal(f.stem, 'Which is heavier?');
  assert.deepEqual(f.options, ['a feather', 'a brick']);
  assert.equal(f.chainOfThought, true);
  assert.equal(f.reasoning, 'A brick is made of clay and weighs kilograms.');
  assert.equal(f.finalAnswer, 'a brick');
  assert.equal(f.answerIsOption, true);
  assert.equal(f.isQuestion, true);
  const g = pairFeatures({ question: 'Tell me about it', answer: 'Fine.' });
  assert.deepEqual([g.options, g.chainOfThought, g.isQuestion, g.answerIsOption], [[], false, false, false]);
});

test('answer shapes', () => {
  const cases: Array<[string, string]> = [
    ['Yes, it is.', 'yes-no'],
    ['no', 'yes-no'],
    ['42', 'number'],
    ['$2.3 million', 'number'],
    ['about 50,000', 'number'],
    ['62%', 'number'],
    ['three', 'number'],
    ['def f(x):\n    return x', 'code'],
    ['SELECT * FROM t;', 'code'],
    ['wheat, barley and potatoes', 'list'],
    ['- one\n- two', 'list'],
    ['Nairobi', 'word'],
    ['Dr. Miriam Osei', 'phrase'],
    ['The council voted to close the old library and open a new one.', 'sentence'],
    ['It rained. The river rose.', 'paragraph'],
    ['', 'empty'],
  ];
  for (const [a, shape] of cases) assert.equal(answerShape(a), shape, JSON.stringify(a));
});

test('rules fire in order and report their ids', () => {
  const cases: Array<[string, string, string, string]> = [
    [
      "Tom has 2 apples and buys 3 more. How many now?\nLet's think step by step.",
      '2 + 3 = 5.\nTherefore, the answer is 5',
      'chain-of-thought',
      'cot-format',
    ],
    ['Translate "good night" into German.', 'Gute Nacht', 'translation', 'translate'],
    ['The capital of Peru is ___.', 'Lima', 'fill-in-the-blank', 'blank'],
    ['What is the sentiment of the review?\nOptions:\n- positive\n- negative', 'negative', 'sentiment', 'sentiment'],
    [
      'Where did the expedition camp?\nOptions:\n- on the glacier\n- in the valley',
      'in the valley',
      'multiple-choice-qa',
      'options',
    ],
    ['Did the ship reach the harbour?', 'Yes', 'yes-no-qa', 'yes-no'],
    ['A farmer has 12 cows and sells 5. How many are left?', '7', 'arithmetic', 'arithmetic'],
    ['How many moons does Mars have?', 'two', 'counting', 'how-many'],
    ['Who wrote the letter?', 'the mayor', 'extractive-qa', 'short-answer'],
    [
      'What did the report recommend?',
      'It recommended closing two schools and building a larger one near the station.',
      'open-qa',
      'free-answer',
    ],
    ['Hello there.', 'Hi!', 'other', 'no-rule'],
  ];
  for (const [question, answer, cat, rule] of cases) {
    const got = classifier.classify({ question, answer });
    assert.deepEqual(got, { category: cat, family: familyOf(tax, cat), rule }, question);
  }
});

test('every rule names a known category and has a reason; the rule file loads', () => {
  const rules = loadRules();
  assert.ok(rules.rules.length >= 40);
  for (const r of rules.rules) {
    assert.ok(r.why && r.why.length > 10, `${r.id} needs a "why"`);
    category(tax, r.category);
  }
});

test('bad rules are refused with the rule named', () => {
  const mk = (rule: Record<string, unknown>) => () =>
    createClassifier({ taxonomy: tax, rules: parseRules({ rules: [rule] }) });
  assert.throws(mk({ id: 'x', category: 'nope', if: {} }), /\(x\): unknown category "nope"/);
  assert.throws(mk({ id: 'x', category: 'other', if: { stemm: 'a' } }), /\(x\): unknown condition "stemm"/);
  assert.throws(mk({ id: 'x', category: 'other', if: { stem: '(' } }), /\(x\)\.stem: Invalid regular expression/);
  assert.throws(
    mk({ id: 'x', category: 'other', if: { shape: ['round'] } }),
    /\(x\)\.shape: must be a list of answer shapes/,
  );
  assert.throws(
    () =>
      parseRules({
        rules: [
          { id: 'a', category: 'other', if: {} },
          { id: 'a', category: 'other', if: {} },
        ],
      }),
    /rule id "a" is used twice/,
  );
});

test('a rule list of all conditions: every condition kind is checked', () => {
  const rules = parseRules({
    rules: [
      {
        id: 'all',
        category: 'counting',
        if: {
          stem: ['how', 'many'],
          stemNot: 'cats',
          answer: '^\\d',
          answerNot: '^0',
          shape: ['number'],
          shapeNot: ['word'],
          options: false,
          chainOfThought: false,
          answerIsOption: false,
          isQuestion: true,
          stemHasNumber: false,
          minAnswerWords: 1,
          maxAnswerWords: 1,
        },
      },
    ],
  });
  const c = createClassifier({ taxonomy: tax, rules });
  assert.equal(c.classify({ question: 'How many dogs?', answer: '3' }).rule, 'all');
  for (const [q, a] of [
    ['How many cats?', '3'],
    ['How many dogs?', '0'],
    ['How many dogs in 2020?', '3'],
    ['How many dogs?', '3 big dogs'],
    ['How many dogs?\nOptions:\n- 3\n- 4', '3'],
  ]) {
    assert.equal(c.classify({ question: q, answer: a }).category, 'other', `${q} / ${a}`);
  }
});
