// Sentence spans and paragraph chunks: literal English prose with the usual traps, and agreement
// with the Brown corpus' own sentence lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitParagraphs, splitSentences } from '../../lib/corpus/sentences.js';
import { brownCategories, brownDir, detokenize, loadBrown, untag } from '../../lib/corpus/brown.js';

test('abbreviations, initials, decimals and quotes do not end sentences', () => {
  const text =
    'Mr. Smith paid $3.50 for it at 5 p.m. on Friday. Dr. J. R. Jones agreed. "Why?" she asked. It cost 2.5 million dollars!';
  assert.deepEqual(
    splitSentences(text).map((s) => s.text),
    [
      'Mr. Smith paid $3.50 for it at 5 p.m. on Friday.',
      'Dr. J. R. Jones agreed.',
      '"Why?" she asked.',
      'It cost 2.5 million dollars!',
    ],
  );
});

test('sentences are exact spans, whatever the spacing, and never cross a paragraph', () => {
  const text = '  First one here.   Second\none.\n\n\nThird in a new paragraph.  ';
  const spans = splitSentences(text);
  assert.deepEqual(
    spans.map((s) => [s.text, s.paragraph]),
    [
      ['First one here.', 0],
      ['Second\none.', 0],
      ['Third in a new paragraph.', 1],
    ],
  );
  for (const s of spans) assert.equal(text.slice(s.start, s.end), s.text);
  assert.deepEqual(
    splitParagraphs(text).map((p) => p.text),
    ['First one here.   Second\none.', 'Third in a new paragraph.'],
  );
  assert.deepEqual(splitSentences(''), []);
  assert.deepEqual(splitSentences(' \n\n '), []);
});

test('on Brown, sentence ends agree with the corpus sentence lines', () => {
  // Brown has one sentence per line; the loader joins a paragraph's lines with spaces.
  const dir = brownDir();
  let tp = 0;
  let fp = 0;
  let fnReal = 0;
  for (const { id } of brownCategories(dir).filter((_, i) => i % 5 === 0)) {
    for (const block of readFileSync(join(dir, id), 'utf8').split(/\n\s*\n/)) {
      const gold = block
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => detokenize(l.split(/\s+/).map(untag)));
      if (gold.length === 0) continue;
      const text = gold.join(' ');
      const ends = (xs: string[]) => {
        let pos = 0;
        return xs.map((x) => (pos = text.indexOf(x, pos) + x.length));
      };
      const predicted = new Set(ends(splitSentences(text).map((s) => s.text)));
      const goldEnds = ends(gold);
      for (const e of predicted)
        if (goldEnds.includes(e)) tp++;
        else fp++;
      // Brown also breaks lines at ";;" and after headlines; only real sentence ends count as misses.
      goldEnds.forEach((e, k) => {
        if (!predicted.has(e) && /[.!?]["')]?$/.test(gold[k]) && !gold[k].endsWith(';;')) fnReal++;
      });
    }
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fnReal);
  console.log(
    `# Brown sentence ends: precision ${precision.toFixed(4)}, recall on punctuated ends ${recall.toFixed(4)}`,
  );
  assert.ok(precision > 0.98, `precision ${precision}`);
  assert.ok(recall > 0.96, `recall on punctuated ends ${recall}`);
});
