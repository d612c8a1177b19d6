// The classifier on the embedded default's rule-based synthesizer (lib/synth/rules.ts): each mined
// pair carries the rule kind that made it, which names its task, so the classifier's label can be
// checked on real synthesizer output. Rules v3 were tuned on these templates (v2 agreed on 69.0% of
// 500 Brown texts, v3 on 99.9% of 3000), so this guards the two modules against drifting apart; it is
// not an accuracy estimate for new wording (that is the held-out split of the labelled set).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brownRuleTexts, mineRecords } from '../../lib/synth/rules-run.js';
import { createClassifier, pairFeatures } from '../../lib/tasks/classify.js';
import { computeCoverage } from '../../lib/tasks/coverage.js';
import { pairSetFromTexts } from '../../lib/tasks/input.js';

/** The taxonomy category of each rule kind; nli (how two sentences relate, which connective links them) has none. */
const KIND_CATEGORY: Record<string, string | undefined> = {
  fill_blank: 'fill-in-the-blank',
  number: 'fill-in-the-blank',
  topic: 'keyword-extraction',
  genre: 'topic-classification',
  next_sentence: 'next-sentence',
  completion: 'sentence-completion',
  word_to_text: 'data-to-text',
  yes_no: 'fact-checking',
  ordering: 'ordering',
  counting: 'counting',
  cause_effect: 'causal-reasoning',
  paraphrase: 'paraphrase-generation',
  nli: undefined,
  who: 'extractive-qa',
  where: 'extractive-qa',
  what: 'extractive-qa',
  when: 'temporal-reasoning',
};

/**
 * With options, an entity question is multiple choice, as the labelled set has it ("Who wrote the letter
 * to the mayor?" with three options); "when" stays temporal, which the classifier tries first.
 */
const KIND_CATEGORY_WITH_OPTIONS: Record<string, string> = {
  who: 'multiple-choice-qa',
  where: 'multiple-choice-qa',
  what: 'multiple-choice-qa',
};

test('rule-based pairs on Brown: labels agree with the rule kinds, and nothing is "other"', (t) => {
  const records = mineRecords(brownRuleTexts(400, 7), { seed: 7 });
  const classifier = createClassifier();
  let checked = 0;
  let agree = 0;
  const misses: Record<string, number> = {};
  for (const r of records) {
    for (const p of r.pairs) {
      assert.ok(p.kind in KIND_CATEGORY, `a new rule kind "${p.kind}": give it a category here`);
      const f = pairFeatures(p);
      const want = f.chainOfThought
        ? 'chain-of-thought'
        : ((f.options.length > 0 ? KIND_CATEGORY_WITH_OPTIONS[p.kind] : undefined) ?? KIND_CATEGORY[p.kind]);
      if (!want) continue;
      checked++;
      const got = classifier.classify(p).category;
      if (got === want) agree++;
      else misses[`${p.kind} -> ${got}`] = (misses[`${p.kind} -> ${got}`] ?? 0) + 1;
    }
  }
  t.diagnostic(
    `agreement ${agree}/${checked} = ${((100 * agree) / checked).toFixed(2)}%; misses ${JSON.stringify(misses)}`,
  );
  assert.ok(checked > 1000, `${checked} pairs checked`);
  assert.ok(agree / checked >= 0.97, `agreement ${(agree / checked).toFixed(3)}; misses ${JSON.stringify(misses)}`);
  const cov = computeCoverage(
    pairSetFromTexts(
      'rules',
      records.map((r) => ({ context: r.context, pairs: r.pairs })),
    ),
    { classifier },
  );
  t.diagnostic(`${cov.categoriesCovered} categories, "other" ${(100 * cov.otherShare).toFixed(2)}%`);
  assert.equal(cov.otherShare, 0);
  assert.equal(cov.texts, records.length);
});

test('entity questions (who, where, when, what) on Brown and on biographies: labels agree with their kinds', (t) => {
  const bios = [
    'Marco Bellini was born on June 3, 1982, in Turin. He graduated from the University of Padua in 2004. He works as a chemist at Bayer. He lives in Cologne.',
    'Anna Kowalski was born in Lisbon in March 1975. She studied physics at Oxford University. She works for Siemens in Munich, and she lives in Freising.',
    'John Smith, the president of Acme Corporation, said the plant would close in 1962. Dr. Ellen Park is the director of the Ames Laboratory. The committee met in Washington on Tuesday.',
  ];
  const kinds = ['who', 'where', 'when', 'what'] as const;
  const pairs = mineRecords(brownRuleTexts(3000, 7), { seed: 7, kinds }).flatMap((r) => r.pairs);
  for (const text of bios)
    for (let seed = 0; seed < 10; seed++)
      pairs.push(...mineRecords([{ id: 'bio', text }], { seed, kinds, maxPairs: 8 })[0].pairs);
  const classifier = createClassifier();
  const misses: Record<string, number> = {};
  let agree = 0;
  for (const p of pairs) {
    const f = pairFeatures(p);
    const want = (f.options.length > 0 ? KIND_CATEGORY_WITH_OPTIONS[p.kind] : undefined) ?? KIND_CATEGORY[p.kind];
    const got = classifier.classify(p).category;
    if (got === want) agree++;
    else misses[`${p.kind} -> ${got}`] = (misses[`${p.kind} -> ${got}`] ?? 0) + 1;
  }
  t.diagnostic(`entity questions: agreement ${agree}/${pairs.length}; misses ${JSON.stringify(misses)}`);
  assert.ok(pairs.length > 200, `${pairs.length} entity pairs`);
  for (const k of kinds)
    assert.ok(
      pairs.some((p) => p.kind === k),
      `no ${k} pair`,
    );
  assert.ok(
    agree / pairs.length >= 0.93,
    `agreement ${(agree / pairs.length).toFixed(3)}; misses ${JSON.stringify(misses)}`,
  );
});
