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
      const want = pairFeatures(p).chainOfThought ? 'chain-of-thought' : KIND_CATEGORY[p.kind];
      if (!want) continue;
      checked++;
      const got = classifier.classify(p).category;
      if (got === want) agree++;
      else misses[`${p.kind} -> ${got}`] = (misses[`${p.kind} -> ${got}`] ?? 0) + 1;
    }
  }
  t.diagnostic(`agreement ${agree}/${checked} = ${((100 * agree) / checked).toFixed(2)}%; misses ${JSON.stringify(misses)}`);
  assert.ok(checked > 1000, `${checked} pairs checked`);
  assert.ok(agree / checked >= 0.97, `agreement ${(agree / checked).toFixed(3)}; misses ${JSON.stringify(misses)}`);
  const cov = computeCoverage(pairSetFromTexts('rules', records.map((r) => ({ context: r.context, pairs: r.pairs }))), { classifier });
  t.diagnostic(`${cov.categoriesCovered} categories, "other" ${(100 * cov.otherShare).toFixed(2)}%`);
  assert.equal(cov.otherShare, 0);
  assert.equal(cov.texts, records.length);
});
