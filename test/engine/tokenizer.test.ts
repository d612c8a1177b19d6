// The tiny byte-level tokenizer: loadable by @huggingface/tokenizers, exact round trips, and the
// fast path agrees with the library id for id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  tinyTokenizerFiles,
  tokenizerFromFiles,
  writeTokenizerFiles,
  loadTokenizer,
  encodeTinyBytes,
  decodeTinyBytes,
  BYTE_OFFSET,
  MARKER_OFFSET,
  TINY_BASE_VOCAB,
} from '../../lib/engine/tokenizer.js';
import { cookRead, cookCompre } from '../../lib/synth/format.js';

const tok = tokenizerFromFiles(tinyTokenizerFiles());

test('bytes map to 3 + byte, markers and specials to single ids', () => {
  assert.deepEqual(tok.encode('Ab'), [BYTE_OFFSET + 65, BYTE_OFFSET + 98]);
  const prompt = cookRead('hi') + cookCompre([{ question: 'q', answer: 'a' }]) + '</s>';
  const ids = tok.encode(prompt);
  assert.equal(ids[0], 1, '<s> is id 1');
  assert.ok(ids.includes(MARKER_OFFSET), '<CON> is one token');
  assert.equal(ids.at(-1), 2, '</s> is id 2');
  assert.equal(tok.decode(ids), prompt);
  assert.equal(tok.vocabSize, TINY_BASE_VOCAB);
  assert.equal(tok.eosTokenId, 2);
  assert.equal(tok.bosTokenId, 1);
  assert.equal(tok.padTokenId, 0);
});

test('decode skips <s>, </s> and <pad> on request but keeps the synthesizer markers', () => {
  const ids = tok.encode('<s> <QUE> q <ANS> a </END></s>');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), ' <QUE> q <ANS> a </END>');
});

test('round trips any unicode text; the fast path equals the library id for id', () => {
  const pieces = fc.constantFrom(
    '<s>',
    '</s>',
    '<pad>',
    '<CON>',
    '</CON>',
    '<QUE>',
    '<ANS>',
    '</END>',
    '<',
    '<Q',
    ' ',
    '\n',
  );
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 60 }),
    fc.array(fc.oneof(pieces, fc.string({ maxLength: 5 }))).map((a) => a.join('')),
  );
  fc.assert(
    fc.property(text, (s) => {
      const ids = tok.encode(s);
      assert.deepEqual(encodeTinyBytes(s), ids);
      assert.equal(tok.decode(ids), s);
      assert.equal(decodeTinyBytes(ids), s);
      assert.equal(tok.count(s), ids.length);
    }),
    { numRuns: 500 },
  );
});

test('written files load back from a model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-tok-'));
  writeTokenizerFiles(dir, tinyTokenizerFiles());
  const loaded = loadTokenizer(dir);
  assert.deepEqual(loaded.encode('<s> <CON> x </CON>\n\n'), tok.encode('<s> <CON> x </CON>\n\n'));
  assert.throws(() => loadTokenizer(join(dir, 'missing')), /no tokenizer.json/);
});

test('merges add tokens after the markers', () => {
  const merged = tokenizerFromFiles(
    tinyTokenizerFiles({
      merges: [
        ['t', 'h'],
        ['th', 'e'],
      ],
    }),
  );
  assert.deepEqual(merged.encode('the'), [TINY_BASE_VOCAB + 1]);
  assert.equal(merged.decode(merged.encode('the then')), 'the then');
});
