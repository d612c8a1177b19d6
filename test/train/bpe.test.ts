// BPE merges for the tiny tokenizer: trained deterministically from text, loadable by
// @huggingface/tokenizers, and the fast encoder gives the library's ids exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { trainBpeMerges, BpeEncoder } from '../../lib/train/bpe.js';
import { tinyTokenizerFiles, tokenizerFromFiles, TINY_BASE_VOCAB, MARKER_OFFSET } from '../../lib/engine/tokenizer.js';
import { loadBrown } from '../../lib/corpus/brown.js';

const brown = loadBrown({ genres: ['news', 'humor'] }).map((d) => d.text);
const merges = trainBpeMerges(brown, 120);
const hf = tokenizerFromFiles(tinyTokenizerFiles({ merges }));
const fast = new BpeEncoder(merges);

test('merges are learned from frequent pairs, deterministically', () => {
  assert.equal(merges.length, 120);
  assert.deepEqual(merges[0], ['Ġ', 't'], 'the most frequent pair in English text is " t"');
  assert.ok(
    merges.some(([a, b]) => a + b === 'Ġthe'),
    '" the" becomes one token',
  );
  assert.deepEqual(trainBpeMerges(brown, 120), merges);
  assert.deepEqual(trainBpeMerges(['abab'], 10), [['a', 'b']], 'a pair must occur twice; merging stops when none does');
});

test('the fast encoder equals @huggingface/tokenizers id for id on the corpus', () => {
  for (const text of brown.slice(0, 12)) assert.deepEqual(fast.encode(text), hf.encode(text));
  assert.equal(fast.vocabSize, TINY_BASE_VOCAB + 120);
  assert.equal(hf.vocabSize, TINY_BASE_VOCAB + 120);
});

test('the fast encoder equals the library on any text, markers included, and decodes back', () => {
  const pieces = fc.constantFrom(
    '<s>',
    '</s>',
    '<CON>',
    '</CON>',
    '<QUE>',
    '<ANS>',
    '</END>',
    ' the',
    'the',
    "'s",
    '  ',
    '\n\n',
    '<',
    'é',
    '😀',
    '12',
  );
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.array(fc.oneof(pieces, fc.string({ maxLength: 6 }))).map((a) => a.join('')),
  );
  fc.assert(
    fc.property(text, (s) => {
      const ids = fast.encode(s);
      assert.deepEqual(ids, hf.encode(s));
      assert.equal(hf.decode(ids), s);
    }),
    { numRuns: 400 },
  );
  assert.ok(fast.encode('<s> <QUE> the').includes(MARKER_OFFSET + 2), 'markers stay single tokens');
});
