// Scoring functions and task helpers with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactMatch, normalizeAnswer, tokenF1 } from '../../lib/eval/metrics.js';
import { makeClozeTask, makeWordOrderTask } from '../../lib/eval/tasks.js';
import { loadBrown } from '../../lib/corpus/brown.js';

test('exact match trims and collapses whitespace only', () => {
  assert.equal(exactMatch(' Paris ', ['Paris']), 1);
  assert.equal(exactMatch('paris', ['Paris']), 0);
  assert.equal(exactMatch('New  York', ['Boston', 'New York']), 1);
});

test('token F1 as in SQuAD', () => {
  assert.equal(normalizeAnswer('The Eiffel-Tower!'), 'eiffel tower');
  assert.equal(tokenF1('the Eiffel Tower', ['Eiffel Tower']), 1);
  assert.equal(tokenF1('tower of Pisa', ['Eiffel Tower']), 0.4); // p = 1/3, r = 1/2
  assert.equal(tokenF1('cat', ['dog', 'cat']), 1);
  assert.equal(tokenF1('', ['']), 1);
  assert.equal(tokenF1('x', ['']), 0);
});

test('a cloze task from raw text: seeded, the right word among distinct choices', () => {
  const texts = loadBrown({ genres: ['news'] }).map((d) => d.text);
  const a = makeClozeTask(texts, { examples: 30, choices: 4, seed: 2 });
  assert.deepEqual(makeClozeTask(texts, { examples: 30, choices: 4, seed: 2 }), a);
  assert.equal(a.examples.length, 30);
  for (const e of a.examples) {
    assert.equal(new Set(e.choices).size, 4);
    assert.ok(e.gold >= 0 && e.gold < 4);
    assert.ok(e.context.split(' ').length >= 5);
  }
  const golds = new Set(a.examples.map((e) => e.gold));
  assert.ok(golds.size > 1, 'the right answer is not always in the same place');
});

test('a word-order task: the real sentence and a shuffle of its words, the right one at a seeded place', () => {
  const texts = loadBrown({ genres: ['news'] }).map((d) => d.text);
  const t = makeWordOrderTask(texts, { examples: 20, seed: 3 });
  assert.deepEqual(makeWordOrderTask(texts, { examples: 20, seed: 3 }), t);
  assert.equal(t.examples.length, 20);
  for (const e of t.examples) {
    const [real, other] = [e.choices[e.gold], e.choices[1 - e.gold]];
    assert.notEqual(real, other);
    assert.deepEqual(real.split(' ').sort(), other.split(' ').sort(), 'the same words');
    assert.ok(
      texts.some((x) => x.includes(real)),
      'the real sentence is from the text',
    );
  }
  assert.ok(new Set(t.examples.map((e) => e.gold)).size === 2);
});
