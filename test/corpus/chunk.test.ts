// Chunking documents into contexts by a token budget, and near-duplicate dropping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chunkDocuments, chunkText, contextsOf, defaultTokenizer, type ChunkStats } from '../../lib/corpus/chunk.js';
import { splitSentences } from '../../lib/corpus/sentences.js';
import { jaccard, nearDuplicates } from '../../lib/corpus/dedup.js';
import { loadBrown } from '../../lib/corpus/brown.js';
import { tinyTokenizerFiles, tokenizerFromFiles, writeTokenizerFiles } from '../../lib/engine/tokenizer.js';
import { createRng } from '../../lib/repro/rng.js';

const bytes = { count: (t: string) => Buffer.byteLength(t) };

test('paragraphs are packed whole while they fit; a context is a verbatim slice', () => {
  const text = 'First paragraph.\n\nSecond one here.\n\nThird paragraph is longer than the others.';
  // 16 + 2 + 16 = 34 bytes fit in 40; the third paragraph (42 bytes, one sentence) is cut between words
  assert.deepEqual(chunkText(text, 40, bytes), [
    { text: 'First paragraph.\n\nSecond one here.', tokens: 34 },
    { text: 'Third paragraph is longer than the', tokens: 34 },
    { text: 'others.', tokens: 7 },
  ]);
  assert.deepEqual(chunkText(text, 100, bytes), [{ text, tokens: 78 }]);
  assert.deepEqual(
    chunkText(text, 34, bytes).map((c) => c.text),
    ['First paragraph.\n\nSecond one here.', 'Third paragraph is longer than the', 'others.'],
  );
  // greedy: the words of a paragraph too long for the budget fill up the context before them
  assert.deepEqual(
    chunkText(text, 33, bytes).map((c) => c.text),
    ['First paragraph.', 'Second one here.\n\nThird paragraph', 'is longer than the others.'],
  );
});

test('an oversized paragraph is cut at sentences, not inside "Mr." or "U.S."', () => {
  const p = 'Mr. Smith went to Washington. He met the U.S. delegation there. They talked for an hour. Then he left!';
  assert.deepEqual(
    splitSentences(p).map((s) => s.text),
    ['Mr. Smith went to Washington.', 'He met the U.S. delegation there.', 'They talked for an hour.', 'Then he left!'],
  );
  assert.deepEqual(
    chunkText(p, 63, bytes).map((c) => c.text),
    ['Mr. Smith went to Washington. He met the U.S. delegation there.', 'They talked for an hour. Then he left!'],
  );
  assert.deepEqual(
    chunkText(p, 62, bytes).map((c) => c.text),
    ['Mr. Smith went to Washington.', 'He met the U.S. delegation there. They talked for an hour.', 'Then he left!'],
  );
});

test('a word longer than the budget is cut by characters; nothing is lost, nothing exceeds the budget', () => {
  const url = 'https://example.org/' + 'a'.repeat(50);
  const out = chunkText(`See ${url} now.`, 16, bytes);
  assert.ok(out.every((c) => c.tokens <= 16 && c.tokens === Buffer.byteLength(c.text)));
  assert.equal(
    out
      .map((c) => c.text)
      .join('')
      .replace(/\s/g, ''),
    `See${url}now.`,
  );
  assert.ok(out.some((c) => c.text.startsWith('https://')) && out.length >= 5);
  const emoji = chunkText('😀😀😀', 1, bytes);
  assert.deepEqual(
    emoji.map((c) => c.text),
    ['😀', '😀', '😀'],
  );
});

test('Brown contexts: within budget by the real tokenizer count, deterministic, every word kept in order', () => {
  const docs = loadBrown({ genres: ['humor'] });
  const tok = tokenizerFromFiles(tinyTokenizerFiles());
  const stats: ChunkStats = { documents: 0, contexts: 0, tokens: 0, droppedShort: 0, droppedDuplicates: 0 };
  const a = chunkDocuments(docs, { maxTokens: 256, stats });
  const b = chunkDocuments(docs, { maxTokens: 256 });
  assert.deepEqual(a, b);
  assert.equal(stats.documents, 9);
  assert.equal(stats.contexts, a.length);
  for (const c of a.slice(0, 60))
    assert.equal(c.tokens, tok.count(c.text), 'the default counter must equal the tiny tokenizer');
  assert.ok(a.every((c) => c.tokens <= 256 && c.tokens > 0));
  for (const d of docs) {
    const mine = a.filter((c) => c.docId === d.id);
    assert.deepEqual(
      mine.map((c) => c.chunk),
      mine.map((_, i) => i),
    );
    assert.ok(mine.every((c) => c.id === `${d.id}#${c.chunk}` && c.genre === 'humor'));
    assert.deepEqual(
      mine.flatMap((c) => c.text.split(/\s+/)),
      d.text.split(/\s+/),
    );
  }
  // most cuts fall between paragraphs or sentences
  const clean = a.filter((c) => /[.?!”’)]$/.test(c.text)).length;
  assert.ok(clean / a.length > 0.9, `${clean} of ${a.length} contexts end a sentence`);
});

test('a BPE tokenizer with merges, or a tokenizer.json folder, counts the budget', () => {
  const merges: Array<[string, string]> = [
    ['t', 'h'],
    ['th', 'e'],
    ['Ġ', 'the'],
    ['i', 'n'],
    ['Ġ', 'a'],
  ];
  const files = tinyTokenizerFiles({ merges });
  const tok = tokenizerFromFiles(files);
  const docs = loadBrown({ genres: ['humor'] }).slice(0, 2);
  const ctx = chunkDocuments(docs, { maxTokens: 128, tokenizer: tok });
  assert.ok(ctx.every((c) => c.tokens === tok.count(c.text) && c.tokens <= 128));
  assert.ok(
    ctx.some((c) => c.tokens < Buffer.byteLength(c.text)),
    'merges must make some contexts shorter in tokens than in bytes',
  );
  const dir = mkdtempSync(join(tmpdir(), 'ipt-tok-'));
  try {
    writeTokenizerFiles(dir, files);
    assert.deepEqual(chunkDocuments(docs, { maxTokens: 128, tokenizer: dir }), ctx);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => chunkDocuments(docs, { maxTokens: 128, tokenizer: '/nonexistent' }), /no tokenizer.json/);
  assert.throws(() => chunkDocuments(docs, { maxTokens: 0 }), /maxTokens must be a positive integer/);
});

test('short contexts can be dropped and are counted', () => {
  const stats: ChunkStats = { documents: 0, contexts: 0, tokens: 0, droppedShort: 0, droppedDuplicates: 0 };
  const ctx = chunkDocuments([{ id: 'd', text: 'A long enough paragraph here.\n\nTiny.' }], {
    maxTokens: 30,
    minTokens: 10,
    tokenizer: bytes,
    stats,
  });
  assert.deepEqual(
    ctx.map((c) => c.text),
    ['A long enough paragraph here.'],
  );
  assert.equal(stats.droppedShort, 1);
  assert.equal(defaultTokenizer().count('<CON>ab'), 3);
});

function words(n: number, seed: number): string[] {
  const rng = createRng(seed);
  const vocab = Array.from({ length: 500 }, (_, i) => `w${i}`);
  return Array.from({ length: n }, () => vocab[rng.int(vocab.length)]);
}

test('near-duplicates: a copy with a few words changed is dropped, a half-changed text is kept', () => {
  const base = words(200, 1);
  const fewChanged = [...base];
  for (const i of [20, 90, 170]) fewChanged[i] = 'changed';
  const halfChanged = base.map((w, i) => (i % 2 ? w : `x${i}`));
  const texts = [
    base.join(' '),
    words(200, 2).join(' '),
    fewChanged.join(' '),
    halfChanged.join(' '),
    base.join(' ').toUpperCase(),
    words(200, 3).join(' '),
  ];
  assert.ok(jaccard(texts[0], texts[2]) > 0.85);
  assert.ok(jaccard(texts[0], texts[3]) < 0.1);
  const r = nearDuplicates(texts, { seed: 7 });
  assert.deepEqual(r.keep, [true, true, false, true, false, true]);
  assert.deepEqual(r.duplicateOf, [-1, -1, 0, -1, 0, -1]);
  assert.equal(r.dropped, 2);
  assert.deepEqual(nearDuplicates(texts, { seed: 7 }), r);
  // the threshold decides: at 0.95 the three-word edit is no longer a near-duplicate of the original
  assert.deepEqual(nearDuplicates(texts, { seed: 7, threshold: 0.95 }).keep, [true, true, true, true, false, true]);
  assert.throws(() => nearDuplicates(texts, { numPerm: 100, bands: 32 }), /multiple of bands/);
});

test('chunkDocuments drops near-duplicate contexts: the Brown corpus repeats an SBA office list in ch01', () => {
  const docs = loadBrown({ genres: ['government'] }).filter((d) => d.id === 'ch01');
  const stats: ChunkStats = { documents: 0, contexts: 0, tokens: 0, droppedShort: 0, droppedDuplicates: 0 };
  const all = chunkDocuments(docs, { maxTokens: 512 });
  const kept = chunkDocuments(docs, { maxTokens: 512, dedup: { threshold: 0.7 }, stats });
  assert.equal(stats.droppedDuplicates, 1);
  const gone = all.filter((c) => !kept.some((k) => k.id === c.id));
  assert.equal(gone.length, 1);
  assert.match(gone[0].text, /^For further information, contact SBA Regional Offices in Atlanta, Ga\.; Boston, Mass\./);
  assert.ok(
    kept.some((k) =>
      k.text.startsWith('For further information, contact Small Business Administration Regional Offices in Atlanta'),
    ),
  );
});

test('contextsOf cuts Brown documents into slices within the budget that cover every word', async () => {
  const { loadBrown } = await import('../../lib/corpus/brown.js');
  for (const doc of loadBrown().slice(0, 40)) {
    const contexts = contextsOf(doc.text, { maxTokens: 1600 });
    let at = 0;
    for (const c of contexts) {
      const found = doc.text.indexOf(c, at);
      assert.ok(found >= at, `${doc.id}: context is not the next slice`);
      assert.match(doc.text.slice(at, found), /^\s*$/, `${doc.id}: text skipped between contexts`);
      assert.ok(Buffer.byteLength(c, 'utf8') <= 1600);
      at = found + c.length;
    }
    assert.match(doc.text.slice(at), /^\s*$/);
  }
});

test('work grows linearly with one huge line: the characters handed to the tokenizer, for a word with no spaces and for a sentence of many words', () => {
  // counts what chunking asks of the tokenizer: a quadratic path (recounting the rest of a huge word for
  // every context cut from it) shows as work per input character growing with the input
  const work = (text: string) => {
    let chars = 0;
    const counter = { count: (s: string) => ((chars += s.length), Buffer.byteLength(s)) };
    const contexts = chunkText(text, 512, counter);
    assert.equal(
      contexts.map((c) => c.text.replace(/\s+/g, '')).join(''),
      text.replace(/\s+/g, ''),
      'no character lost',
    );
    assert.ok(contexts.every((c) => c.tokens <= 512));
    return chars / text.length;
  };
  for (const unit of ['x', 'word ']) {
    const small = work(unit.repeat(100_000 / unit.length));
    const large = work(unit.repeat(400_000 / unit.length));
    assert.ok(
      small < 12 && large < 12,
      `${JSON.stringify(unit)}: ${small.toFixed(1)} and ${large.toFixed(1)} characters counted per input character`,
    );
  }
});
