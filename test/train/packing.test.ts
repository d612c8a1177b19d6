// The documents packing (training option packing: 'documents'): whole documents per row, packed afresh
// in a new order every epoch, resumable from the loader's state, bit-identical across reruns and
// thread counts; and the default stream packing unchanged (batches equal to the ones the kit drew
// before the option existed, configs without the option unchanged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BatchLoader, documentData, packRows, type TokenizedDocument } from '../../lib/train/data.js';
import { resolveTrainConfig, Trainer, DEFAULT_TRAIN_CONFIG } from '../../lib/train/trainer.js';
import { trainRun } from '../../lib/train/run.js';
import { TINY, syntheticData, weightsHash, bits } from './helpers.js';
import { createRng } from '../../lib/repro/rng.js';

const EOS = 2;
const doc = (ids: number[], mask?: number[]): TokenizedDocument => ({
  ids: Int32Array.from(ids),
  mask: Uint8Array.from(mask ?? ids.map(() => 1)),
});

/** Documents of random ids (10..60) with partial masks: every id names its document (id = 3 + doc). */
function namedDocs(count: number, seed: number, maxLength = 12): TokenizedDocument[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, (_, k) => {
    const n = 1 + rng.int(maxLength);
    const split = rng.int(n);
    return doc(
      Array.from({ length: n }, () => 3 + k),
      Array.from({ length: n }, (_, i) => (i >= split ? 1 : 0)),
    );
  });
}

test('packRows: each row starts with EOS and holds whole documents, each followed by an EOS, then masked padding', () => {
  const data = documentData([doc([10, 11, 12], [0, 1, 1]), doc([20, 21], [1, 0]), doc([30, 31, 32, 33])], {
    contextLength: 7,
    eosId: EOS,
  });
  const packed = packRows(data, [0, 1, 2]);
  assert.equal(packed.rows, 2);
  assert.equal(packed.rowStride, 8);
  assert.deepEqual(Array.from(packed.tokens), [2, 10, 11, 12, 2, 20, 21, 2, /**/ 2, 30, 31, 32, 33, 2, 2, 2]);
  // the EOS after a document takes the mask of its last token; padding is never a target
  assert.deepEqual(Array.from(packed.mask), [0, 0, 1, 1, 1, 1, 0, 0, /**/ 0, 1, 1, 1, 1, 1, 0, 0]);
  assert.equal(data.rows, 2, 'rows of the first epoch, documents in their given order');
  assert.equal(data.tokens, 3 + 1 + 2 + 1 + 4 + 1);
  // another order, other rows: [30..33] first, then [10..12] and its EOS do not fit behind it
  assert.deepEqual(Array.from(packRows(data, [2, 0, 1]).tokens.subarray(0, 8)), [2, 30, 31, 32, 33, 2, 2, 2]);
  assert.deepEqual(Array.from(packRows(data, [2, 0, 1]).tokens.subarray(8)), [2, 10, 11, 12, 2, 20, 21, 2]);
});

test('packRows: a document longer than a row gets rows of its own, overlapping by one token like the stream', () => {
  const data = documentData([doc([1 + 9, 11, 12, 13, 14, 15, 16]), doc([20])], { contextLength: 4, eosId: EOS });
  const p = packRows(data, [0, 1]);
  // doc 0 with its EOS is 8 tokens: rows [EOS 10 11 12 13], [13 14 15 16 EOS]; then [EOS 20 EOS pad pad]
  assert.deepEqual(Array.from(p.tokens), [2, 10, 11, 12, 13, 13, 14, 15, 16, 2, 2, 20, 2, 2, 2]);
  assert.deepEqual(Array.from(p.mask), [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0]);
});

test('the documents loader: every document exactly once per epoch, a new order and new rows every epoch, resumable', () => {
  const docs = namedDocs(40, 3);
  const data = documentData(docs, { contextLength: 16, eosId: EOS });
  const loader = new BatchLoader(data, 7);
  // rows one at a time; the state after a call names the epoch the row came from
  const byEpoch: number[][] = [[], [], [], []];
  while (true) {
    const b = loader.nextBatch(1);
    const epoch = loader.state().epoch;
    if (epoch > 3) break;
    const row = [...b.inputs, b.targets[15]]; // inputs and the last target: the whole row
    assert.equal(row[0], EOS, 'every row starts with EOS');
    for (let i = 1; i < row.length; i++) if (row[i] !== EOS && row[i - 1] === EOS) byEpoch[epoch].push(row[i] - 3);
  }
  const seenPerEpoch = byEpoch.slice(0, 3);
  const orders = seenPerEpoch.map((o) => o.join(','));
  for (const seen of seenPerEpoch)
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      docs.map((_, k) => k),
      'each document once per epoch',
    );
  assert.equal(new Set(orders).size, 3, 'a new order every epoch');
  // resuming from a state mid-epoch draws the same batches as going on
  const a = new BatchLoader(data, 9);
  a.nextBatch(5);
  const state = JSON.parse(JSON.stringify(a.state()));
  const rest = a.nextBatch(30);
  const b = new BatchLoader(data, 9, state).nextBatch(30);
  assert.deepEqual(b, rest);
  assert.notDeepEqual(
    new BatchLoader(data, 10).nextBatch(30),
    new BatchLoader(data, 9).nextBatch(30),
    'another seed, another order',
  );
  assert.throws(() => new BatchLoader(data, 9).nextRows(1), /no fixed rows/);
});

test('the default stream packing is unchanged: the same batches as before the option existed, and the same configs', () => {
  // Batches the kit drew before the packing option existed (main at 39a8518): 40 batches of 8, crossing epochs.
  const train = syntheticData(TINY, 120, 5);
  const loader = new BatchLoader(train, 21);
  const h = createHash('sha256');
  for (let i = 0; i < 40; i++) {
    const b = loader.nextBatch(8);
    h.update(new Uint8Array(b.inputs.buffer)).update(new Uint8Array(b.targets.buffer)).update(b.mask);
  }
  assert.equal(train.rows, 190);
  assert.equal(h.digest('hex'), 'c5e8847ff20b062ec3ec2df542b77bb8ee4e370856c6a75cf9c20685f23f65cc');
  assert.deepEqual(loader.state(), { epoch: 1, cursor: 130, rng: [2734343805, 353284408, 1125932619, 283859031] });
  // a config that never names the option resolves as before; naming the default changes nothing
  const before = resolveTrainConfig({ steps: 6, seed: 21 });
  assert.equal('packing' in before, false);
  assert.deepEqual(Object.keys(before).sort(), Object.keys(DEFAULT_TRAIN_CONFIG).sort());
  assert.deepEqual(resolveTrainConfig({ steps: 6, seed: 21, packing: 'stream' }), before);
  assert.equal(resolveTrainConfig({ packing: 'documents' }).packing, 'documents');
  assert.throws(() => resolveTrainConfig({ packing: 'rows' as never }), /packing must be stream or documents/);
});

test(
  'training with the documents packing: bit-identical across reruns and thread counts; data and config must agree',
  { timeout: 120_000 },
  async () => {
    const docs = namedDocs(60, 4, 14).map((d) => ({ ids: d.ids.map((x) => 3 + (x % 60)), mask: d.mask }));
    const data = documentData(docs, { contextLength: TINY.contextLength, eosId: EOS });
    const config = resolveTrainConfig({
      steps: 12,
      batchSize: 8,
      microBatchSize: 4,
      warmupSteps: 2,
      lr: 3e-3,
      seed: 5,
      packing: 'documents',
    });
    const run = async (threads: number) => {
      const t = await Trainer.create({ gpt: TINY, config, train: data, threads });
      try {
        const losses: string[] = [];
        for (let i = 0; i < 12; i++) losses.push(bits(t.trainStep().loss));
        return { losses, weights: weightsHash(TINY, t.weights()), epochs: t.epochs };
      } finally {
        await t.close();
      }
    };
    const one = await run(1);
    assert.deepEqual(await run(1), one);
    assert.deepEqual(await run(2), one);
    assert.ok(one.epochs > 2, `the run crosses epochs (${one.epochs})`);
    await assert.rejects(
      Trainer.create({
        gpt: TINY,
        config: resolveTrainConfig({ packing: 'documents' }),
        train: syntheticData(TINY, 20, 1),
      }),
      /packed as a stream but the config asks for packing documents/,
    );
  },
);

test(
  'trainRun with packing documents: killed midway, it resumes bit-identically; data.json counts the documents',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipt-packing-'));
    try {
      const texts = Array.from(
        { length: 50 },
        (_, i) => `Person ${i} was born in city ${i % 7} and works at firm ${i % 5}.`,
      );
      const documents = texts.map((text) => ({ segments: [{ text, train: true }] }));
      const config = {
        model: { ...TINY, vocabSize: 300, contextLength: 32 },
        train: {
          steps: 10,
          batchSize: 4,
          warmupSteps: 2,
          lr: 3e-3,
          seed: 3,
          packing: 'documents' as const,
          valFraction: 0,
          evalEvery: 0,
          checkpointEvery: 3,
        },
        tokenizer: 'bytes' as const,
      };
      const whole = await trainRun({
        outDir: join(dir, 'whole'),
        config,
        data: { name: 'people', documents },
        threads: 1,
        progress: 'silent',
      });
      await trainRun({
        outDir: join(dir, 'cut'),
        config,
        data: { name: 'people', documents },
        threads: 1,
        progress: 'silent',
        stopAfter: 4,
      });
      const resumed = await trainRun({
        outDir: join(dir, 'cut'),
        config,
        data: { name: 'people', documents },
        threads: 1,
        progress: 'silent',
      });
      assert.equal(resumed.resumedFrom, 4);
      assert.equal(bits(resumed.lastLoss!), bits(whole.lastLoss!));
      assert.deepEqual(
        readFileSync(join(dir, 'cut', 'model', 'model.safetensors')),
        readFileSync(join(dir, 'whole', 'model', 'model.safetensors')),
      );
      const data = JSON.parse(readFileSync(join(dir, 'whole', 'data.json'), 'utf8')) as {
        tokens: { train: number };
        rows: { train: number };
      };
      const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
      assert.equal(data.tokens.train, bytes, 'every byte token and one EOS per document');
      assert.ok(data.rows.train >= 50, 'no two documents of 48+ tokens share a row of 32');
      const saved = JSON.parse(readFileSync(join(dir, 'whole', 'config.json'), 'utf8')) as {
        train: { packing?: string };
      };
      assert.equal(saved.train.packing, 'documents');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
