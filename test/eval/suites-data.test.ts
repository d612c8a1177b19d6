// Benchmark splits from the loopback hub in the Hub's layouts: a dataset card's configs, the
// conventional names, the parquet conversion branch for a repo that only ships a loading script,
// parquet types (int64 ClassLabels, list<string>, struct<text, label>) read back as plain values,
// the cache reused offline, and clear errors for what the kit cannot read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FakeHub } from '../hub/fake-hub.js';
import { benchmarkFixtures } from './fixtures.js';
import { cardDataFiles, cardMetadata, loadHubSplit } from '../../lib/eval/suites/data.js';
import type { HubConfig } from '../../lib/hub/config.js';

let hub: FakeHub;
let cache: string;
const cfg = (extra: Partial<HubConfig> = {}): Partial<HubConfig> => ({
  endpoint: hub.url,
  cacheDir: cache,
  token: undefined,
  offline: false,
  ...extra,
});

before(async () => {
  hub = await FakeHub.start([
    ...benchmarkFixtures(),
    { type: 'dataset', id: 'org/script-only', commits: [[{ path: 'script_only.py', content: 'import datasets\n' }]] },
    { type: 'dataset', id: 'org/csv-only', commits: [[{ path: 'data/test-00000.csv', content: 'a,b\n1,2\n' }]] },
  ]);
  cache = mkdtempSync(join(tmpdir(), 'ipt-suites-data-'));
});
after(async () => {
  await hub.close();
  rmSync(cache, { recursive: true, force: true });
});

test("a card's configs map config and split to globs; a bare list means the train split", () => {
  const meta = cardMetadata(
    '---\nconfigs:\n- config_name: ARC-Easy\n  data_files:\n  - split: test\n    path: ARC-Easy/test-*\n- config_name: x\n  data_files: "x/*.jsonl"\n---\n# card',
  );
  assert.deepEqual(cardDataFiles(meta, 'ARC-Easy', 'test'), ['ARC-Easy/test-*']);
  assert.deepEqual(cardDataFiles(meta, 'ARC-Easy', 'train'), []);
  assert.deepEqual(cardDataFiles(meta, 'x', 'train'), ['x/*.jsonl']);
  assert.equal(cardDataFiles(meta, 'unknown', 'test'), undefined);
  assert.deepEqual(cardMetadata('no front matter'), {});
});

test('ARC: the struct<text, label> choices column and string answer keys come back as plain values', async () => {
  const got = await loadHubSplit({ path: 'allenai/ai2_arc', name: 'ARC-Easy', revision: 'main' }, 'test', {
    hub: cfg(),
  });
  assert.equal(got.docs.length, 8);
  assert.deepEqual(got.source.files, ['ARC-Easy/test-00000-of-00001.parquet']);
  assert.equal(got.source.commit, hub.commit('dataset', 'allenai/ai2_arc'));
  const d = got.docs[0] as { choices: { text: string[]; label: string[] }; answerKey: string; id: string };
  assert.ok(Array.isArray(d.choices.text) && d.choices.text.every((t) => typeof t === 'string'));
  assert.equal(d.choices.text.length, d.choices.label.length);
  assert.equal(typeof d.answerKey, 'string');
  assert.equal(got.manifest.commit, got.source.commit);
  assert.match(got.manifest.files?.[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
});

test('MMLU: int64 answers are numbers, choices a list of strings; dev is a split of its own', async () => {
  const dev = await loadHubSplit({ path: 'cais/mmlu', name: 'anatomy', revision: 'main' }, 'dev', { hub: cfg() });
  assert.equal(dev.docs.length, 5);
  const d = dev.docs[0] as { answer: unknown; choices: unknown; subject: unknown };
  assert.equal(typeof d.answer, 'number');
  assert.equal(d.subject, 'anatomy');
  assert.equal((d.choices as string[]).length, 4);
});

test('a repo whose main branch only has a loading script is read from refs/convert/parquet', async () => {
  const got = await loadHubSplit({ path: 'aps/super_glue', name: 'boolq', revision: 'main' }, 'validation', {
    hub: cfg(),
  });
  assert.equal(got.docs.length, 8);
  assert.equal(got.source.revision, 'refs/convert/parquet');
  assert.equal(got.source.commit, hub.commit('dataset', 'aps/super_glue', 'refs/convert/parquet'));
  assert.deepEqual(got.source.files, ['boolq/validation/0000.parquet']);
  assert.equal(typeof (got.docs[0] as { label: unknown }).label, 'number');
});

test('files named by the card, hashed names included (lighteval/siqa), and JSON-lines .json files (AdaptLLM)', async () => {
  const siqa = await loadHubSplit({ path: 'lighteval/siqa', name: null, revision: 'main' }, 'validation', {
    hub: cfg(),
  });
  assert.deepEqual(siqa.source.files, ['data/validation-00000-of-00001-90bb85eab85fcfa8.parquet']);
  const mqp = await loadHubSplit({ path: 'AdaptLLM/medicine-tasks', name: 'MQP', revision: 'main' }, 'test', {
    hub: cfg(),
  });
  assert.deepEqual(mqp.source.files, ['MedQs/test.json']);
  assert.ok((mqp.docs[0] as { options: unknown }).options);
});

test('offline, a split read before comes from the cache; one never fetched is an error naming the repo', async () => {
  await loadHubSplit({ path: 'allenai/winogrande', name: 'winogrande_xl', revision: 'main' }, 'validation', {
    hub: cfg(),
  });
  const before = hub.requests.length;
  const again = await loadHubSplit(
    { path: 'allenai/winogrande', name: 'winogrande_xl', revision: 'main' },
    'validation',
    { hub: cfg({ offline: true }) },
  );
  assert.equal(again.docs.length, 8);
  assert.equal(hub.requests.length, before);
  await assert.rejects(
    loadHubSplit({ path: 'allenai/openbookqa', name: 'main', revision: 'main' }, 'test', {
      hub: cfg({ offline: true }),
    }),
    /allenai\/openbookqa/,
  );
});

test('a script-only dataset without a parquet conversion, and a split in a format the kit cannot read, fail with one clear line', async () => {
  await assert.rejects(
    loadHubSplit({ path: 'org/script-only', name: null, revision: 'main' }, 'test', { hub: cfg() }),
    /org\/script-only, split "test": it ships a loading script \(script_only\.py\), which the kit does not run/,
  );
  await assert.rejects(
    loadHubSplit({ path: 'org/csv-only', name: null, revision: 'main' }, 'test', { hub: cfg() }),
    /org\/csv-only, split "test": its files \(data\/test-00000\.csv\) hold no data file/,
  );
});
