// The synthetic people of the controlled experiment: seeded, every attribute stated exactly once per
// biography, vocabularies that cannot be confused, question wordings whose held-out half never occurs
// in what pre-training may use, and the matching of a synthesized answer to the attribute it states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ATTRIBUTES,
  NAME_COUNT,
  askAbout,
  assignRoles,
  attributeOfAnswer,
  generatePeople,
  goldPairs,
  questionWordings,
  wordingPattern,
} from '../../lib/corpus/people.js';

const occurrences = (text: string, word: string) =>
  (text.match(new RegExp(`(?<![A-Za-z0-9])${word}(?![A-Za-z0-9])`, 'g')) ?? []).length;

test('the same seed gives the same people; another seed other people; names are distinct', () => {
  const a = generatePeople({ seed: 3, count: 500 });
  assert.deepEqual(generatePeople({ seed: 3, count: 500 }), a);
  const b = generatePeople({ seed: 4, count: 500 });
  assert.notDeepEqual(
    b.map((p) => p.biography),
    a.map((p) => p.biography),
  );
  assert.equal(new Set(a.map((p) => p.name)).size, 500);
  assert.deepEqual(
    generatePeople({ seed: 3, count: 20 }),
    a.slice(0, 20),
    'a smaller count is a prefix of a larger one',
  );
  assert.equal(generatePeople({ seed: 1, count: NAME_COUNT }).length, NAME_COUNT);
  assert.throws(() => generatePeople({ seed: 1, count: NAME_COUNT + 1 }), /count must be an integer from 0 to 10000/);
  assert.throws(() => generatePeople({ seed: 1, count: 5, attributes: ['shoeSize'] }), /unknown attribute "shoeSize"/);
});

test('every biography states each of its attributes exactly once, the name once, in a seeded order', () => {
  const people = generatePeople({ seed: 1, count: 2000 });
  const firstAttributes = new Set<string>();
  for (const p of people) {
    assert.equal(p.sentences.length, ATTRIBUTES.length);
    assert.deepEqual(p.sentences.map((s) => s.attribute).sort(), ATTRIBUTES.map((a) => a.name).sort());
    assert.equal(p.biography, p.sentences.map((s) => s.text).join(' '));
    assert.equal(occurrences(p.biography, p.name), 1, p.biography);
    assert.ok(p.sentences[0].text.startsWith(p.name), 'the first sentence names the person');
    firstAttributes.add(p.sentences[0].attribute);
    for (const a of ATTRIBUTES) {
      const value = p.values[a.name];
      assert.ok(a.values.includes(value));
      assert.equal(occurrences(p.biography, value), 1, `${a.name} ${value} once in: ${p.biography}`);
      const sentence = p.sentences.find((s) => s.attribute === a.name)!;
      assert.equal(occurrences(sentence.text, value), 1, 'in its own sentence');
      for (const other of a.values)
        if (other !== value) assert.equal(occurrences(p.biography, other), 0, `no other ${a.name} value`);
    }
    for (const s of p.sentences.slice(1)) assert.match(s.text, p.gender === 'female' ? /^(She|Her) / : /^(He|His) /);
  }
  assert.equal(firstAttributes.size, ATTRIBUTES.length, 'the order is shuffled, so any attribute can come first');
  const fixed = generatePeople({
    seed: 1,
    count: 50,
    shuffleOrder: false,
    attributes: ['university', 'birthCity'],
    sentenceTemplates: 1,
  });
  for (const p of fixed)
    assert.equal(
      p.biography,
      `${p.name} studied at ${p.values.university}. ${p.gender === 'female' ? 'She' : 'He'} was born in ${p.values.birthCity}.`,
    );
});

test('vocabularies cannot be confused: values are distinct words, in no template and no wording', () => {
  const all = ATTRIBUTES.flatMap((a) => a.values.map((v) => ({ a: a.name, v })));
  assert.equal(new Set(all.map((x) => x.v.toLowerCase())).size, all.length, 'no value belongs to two attributes');
  const fixedText = ATTRIBUTES.flatMap((a) => [...a.sentences, ...a.questions]).join(' ');
  for (const { v } of all) {
    for (const { v: w } of all)
      if (v !== w) assert.ok(!w.toLowerCase().includes(v.toLowerCase()), `${v} is inside ${w}`);
    assert.equal(occurrences(fixedText, v), 0, `${v} occurs in a template or a wording`);
  }
  for (const a of ATTRIBUTES) {
    assert.ok(a.values.length >= 8 && a.sentences.length >= 3 && a.questions.length >= 4, a.name);
    for (const q of a.questions) assert.equal(q.split('{name}').length, 2, `one {name} in ${q}`);
  }
});

test('held-out wordings are disjoint from the pre-training ones and recognised wherever they are used', () => {
  const people = generatePeople({ seed: 2, count: 300 });
  for (const a of ATTRIBUTES) {
    const pre = questionWordings(a.name, 'pretrain', 2);
    const held = questionWordings(a.name, 'heldout', 2);
    assert.equal(pre.length + held.length, a.questions.length);
    assert.deepEqual([...pre, ...held], [...a.questions]);
    for (const h of held) {
      const pattern = wordingPattern(h);
      assert.match(
        `Some text.\n\nQ: ${askAbout(h, people[0])}\nA: x`,
        pattern,
        'a held-out wording is recognised in a rendered text',
      );
      // no pre-training wording of any attribute, about anyone, looks like a held-out one
      for (const b of ATTRIBUTES)
        for (const w of questionWordings(b.name, 'pretrain', 2)) {
          for (const p of people.slice(0, 20)) assert.doesNotMatch(askAbout(w, p), pattern, `${w} vs ${h}`);
        }
    }
  }
  // gold pairs in the pre-training wordings never use a held-out wording
  const held = ATTRIBUTES.flatMap((a) => questionWordings(a.name, 'heldout', 2)).map(wordingPattern);
  for (const p of people) {
    const pairs = goldPairs(
      p,
      ATTRIBUTES.map((a) => a.name),
      'pretrain',
      2,
      5,
    );
    assert.deepEqual(
      pairs.map((x) => x.answer),
      ATTRIBUTES.map((a) => p.values[a.name]),
    );
    for (const pair of pairs) {
      assert.ok(pair.question.includes(p.name));
      for (const h of held) assert.doesNotMatch(pair.question, h);
    }
  }
  assert.deepEqual(
    goldPairs(people[0], ['major'], 'heldout', 2, 5),
    goldPairs(people[0], ['major'], 'heldout', 2, 5),
    'seeded',
  );
  assert.throws(() => questionWordings('major', 'pretrain', 6), /heldOutWordings must be an integer from 0 to 5/);
});

test('a synthesized answer is matched to the attribute whose value it states, or to none', () => {
  const [p] = generatePeople({ seed: 1, count: 1 });
  for (const a of ATTRIBUTES) {
    const v = p.values[a.name];
    assert.equal(attributeOfAnswer(p, v), a.name);
    assert.equal(attributeOfAnswer(p, ` ${v}. `), a.name);
    assert.equal(attributeOfAnswer(p, `${p.name} is linked to ${v} in the text`), a.name);
    assert.equal(attributeOfAnswer(p, v.toUpperCase()), a.name, 'case is ignored');
  }
  assert.equal(attributeOfAnswer(p, p.biography), undefined, 'the whole biography states every attribute: none');
  assert.equal(attributeOfAnswer(p, 'Yes'), undefined);
  assert.equal(attributeOfAnswer(p, `${p.values.birthYear}0`), undefined, 'a value must be a whole word');
});

test('roles are disjoint slices, and asking for more people than generated is an error', () => {
  const people = generatePeople({ seed: 1, count: 30 });
  const r = assignRoles(people, { pretrain: 20, test: 7 });
  assert.deepEqual(r.pretrain, people.slice(0, 20));
  assert.deepEqual(r.test, people.slice(20, 27));
  assert.throws(
    () => assignRoles(people, { pretrain: 20, test: 11 }),
    /the roles need 31 people, only 30 were generated/,
  );
});
