// Training data: parsing the input layout, packing with EOS and loss masks, rows, held-out split,
// and the seeded loader (every row once per epoch; its state resumes the same sequence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  BatchLoader,
  gatherRows,
  packDocuments,
  parseDocument,
  readJsonlDocuments,
  splitDocuments,
  tokenizeDocuments,
} from '../../lib/train/data.js';

test('each row kind parses; bad rows get an error naming file and line', () => {
  assert.deepEqual(parseDocument({ text: 'a' }, 'x'), { segments: [{ text: 'a', train: true }] });
  assert.deepEqual(parseDocument({ prompt: 'q', response: 'r' }, 'x'), {
    segments: [
      { text: 'q', train: false },
      { text: 'r', train: true },
    ],
  });
  assert.deepEqual(parseDocument({ segments: [{ text: 'a', train: false }, { text: 'b' }] }, 'x'), {
    segments: [
      { text: 'a', train: false },
      { text: 'b', train: true },
    ],
  });
  assert.deepEqual(parseDocument({ ids: [5, 6], mask: [0, 1] }, 'x'), { ids: [5, 6], mask: [0, 1] });
  assert.throws(
    () => parseDocument({ ids: [5, 6], mask: [1] }, 'f.jsonl line 3'),
    /f\.jsonl line 3: "mask" must be 2 zeros and ones/,
  );
  assert.throws(() => parseDocument({ txt: 'a' }, 'f.jsonl line 1'), /unrecognised row/);
  const dir = mkdtempSync(join(tmpdir(), 'ipt-data-'));
  try {
    writeFileSync(join(dir, 'b.jsonl'), '{"text": "second"}\n');
    writeFileSync(join(dir, 'a.jsonl'), '{"text": "first"}\n\n{"prompt": "p", "response": "r"}\n');
    const { documents, files } = readJsonlDocuments(dir);
    assert.equal(documents.length, 3);
    assert.deepEqual(documents[0], { segments: [{ text: 'first', train: true }] }, 'files are read in name order');
    assert.deepEqual(
      files.map((f) => f.documents),
      [2, 1],
    );
    writeFileSync(join(dir, 'c.jsonl'), '{"text": "cut off');
    assert.throws(
      () => readJsonlDocuments(dir),
      /c\.jsonl:1: not valid JSON \(.*\); the line looks cut off; a truncated file\?$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('segments keep their masks through tokenization; EOS takes the mask of the last token', () => {
  const enc = (s: string) => Array.from(s, (c) => c.charCodeAt(0) - 90); // 'a' -> 7, 'b' -> 8, ...
  const docs = tokenizeDocuments(
    [
      {
        segments: [
          { text: 'ab', train: false },
          { text: 'c', train: true },
        ],
      },
      { ids: [20, 21], mask: [1, 0] },
    ],
    enc,
    64,
  );
  assert.deepEqual(Array.from(docs[0].ids), [7, 8, 9]);
  assert.deepEqual(Array.from(docs[0].mask), [0, 0, 1]);
  const packed = packDocuments(docs, { contextLength: 3, eosId: 2 });
  assert.deepEqual(Array.from(packed.tokens), [7, 8, 9, 2, 20, 21, 2]);
  assert.deepEqual(Array.from(packed.mask), [0, 0, 1, 1, 1, 0, 0]);
  assert.equal(packed.rows, 2); // (7 - 1) / 3
  const { inputs, targets, mask } = gatherRows(packed, [1, 0]);
  assert.deepEqual(Array.from(inputs), [2, 20, 21, 7, 8, 9], 'rows overlap by one token');
  assert.deepEqual(Array.from(targets), [20, 21, 2, 8, 9, 2]);
  assert.deepEqual(Array.from(mask), [1, 0, 0, 0, 1, 1], "the mask is the target token's");
  assert.throws(() => tokenizeDocuments([{ ids: [70] }], enc, 64), /outside the model's vocabulary/);
});

test('the held-out split is seeded and disjoint', () => {
  const docs = Array.from({ length: 40 }, (_, i) => i);
  const a = splitDocuments(docs, 0.1, 1),
    b = splitDocuments(docs, 0.1, 1),
    c = splitDocuments(docs, 0.1, 2);
  assert.deepEqual(a, b);
  assert.equal(a.val.length, 4);
  assert.notDeepEqual(a.val, c.val);
  assert.deepEqual(
    [...a.train, ...a.val].sort((x, y) => x - y),
    docs,
  );
});

test('the loader visits every row once per epoch in a seeded order, and resumes from its state', () => {
  const packed = packDocuments(
    [{ ids: Int32Array.from({ length: 100 }, (_, i) => 3 + (i % 50)), mask: new Uint8Array(100).fill(1) }],
    { contextLength: 9, eosId: 2 },
  );
  assert.equal(packed.rows, 11);
  const loader = new BatchLoader(packed, 5);
  const epoch = loader.nextRows(11);
  assert.deepEqual(
    [...epoch].sort((x, y) => x - y),
    Array.from({ length: 11 }, (_, i) => i),
  );
  assert.notDeepEqual(
    epoch,
    Array.from({ length: 11 }, (_, i) => i),
    'shuffled',
  );
  loader.nextRows(4);
  const state = loader.state();
  const rest = loader.nextRows(30); // crosses into later epochs
  const resumed = new BatchLoader(packed, 5, JSON.parse(JSON.stringify(state)));
  assert.deepEqual(resumed.nextRows(30), rest);
  assert.notDeepEqual(new BatchLoader(packed, 6).nextRows(11), epoch, 'another seed, another order');
});
