// `ipt rules`: help, a Brown run, a JSON-lines run to a file, and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../lib/cli.js';
import { parseComprehension } from '../../lib/synth/format.js';
import { minePairs } from '../../lib/synth/rules.js';
import { capture } from '../cli-io.js';

test('ipt rules --help names the inputs and options', async () => {
  const io = capture();
  assert.equal(await main(['rules', '--help'], io), 0);
  assert.match(io.out, /^Usage: ipt rules \[options\]/);
  for (const flag of ['--input brown|FILE.jsonl', '--n N', '--seed S', '--max-pairs K', '--kinds LIST', '--out FILE'])
    assert.ok(io.out.includes(flag), flag);
});

test('ipt rules --input brown prints one JSON line per text, its output parsing to its pairs', async () => {
  const io = capture();
  assert.equal(await main(['rules', '--input', 'brown', '--n', '3', '--seed', '2'], io), 0, io.err);
  const records = io.out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(records.length, 3);
  for (const r of records) {
    assert.match(r.id, /^c[a-r]\d\d#\d+$/);
    assert.equal(typeof r.genre, 'string');
    const pairs = r.pairs.map((p: { question: string; answer: string }) => ({
      question: p.question,
      answer: p.answer,
    }));
    assert.ok(pairs.length >= 3 && pairs.length <= 6);
    assert.deepEqual(parseComprehension(r.output), pairs);
    assert.deepEqual(pairs, minePairs(r.context, { seed: 2, genre: r.genre }));
  }
  const again = capture();
  await main(['rules', '--input', 'brown', '--n', '3', '--seed', '2'], again);
  assert.equal(again.out, io.out);
});

test('ipt rules reads JSON lines and writes --out; bad input gets a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-rules-'));
  try {
    const input = join(dir, 'texts.jsonl');
    const text =
      'The jury counted 3,745 ballots in the Atlanta precincts on Monday. As a result, the count took the jurors two full days. The mayor thanked them because the work was hard.';
    writeFileSync(input, `${JSON.stringify({ id: 'a', text })}\n\n${JSON.stringify({ text, genre: 'news' })}\n`);
    const out = join(dir, 'pairs.jsonl');
    const io = capture();
    assert.equal(
      await main(['rules', '--input', input, '--n', '5', '--kinds', 'number,cause_effect', '--out', out], io),
      0,
      io.err,
    );
    const records = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => [r.id, r.genre]),
      [
        ['a', undefined],
        ['line3', 'news'],
      ],
    );
    for (const r of records) for (const p of r.pairs) assert.ok(['number', 'cause_effect'].includes(p.kind));
    assert.match(io.out, /^wrote 2 texts, \d+ pairs to /);

    writeFileSync(input, `${JSON.stringify({ text })}\n{"text": oops}\n`);
    const bad = capture();
    assert.equal(await main(['rules', '--input', input], bad), 1);
    assert.match(bad.err, /texts\.jsonl:2: not valid JSON/);
    const kinds = capture();
    assert.equal(await main(['rules', '--input', 'brown', '--kinds', 'riddles'], kinds), 2);
    assert.match(kinds.err, /unknown rule kind\(s\) riddles/);
    const missing = capture();
    assert.equal(await main(['rules'], missing), 2);
    assert.match(missing.err, /--input is required/);
    const n = capture();
    assert.equal(await main(['rules', '--input', 'brown', '--n', 'many'], n), 2);
    assert.match(n.err, /--n must be an integer >= 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipt rules cuts a record longer than a context into contexts, as for Brown, and mines only the first --n', async () => {
  const { contextsOf, DEFAULT_CONTEXT_BUDGET } = await import('../../lib/corpus/chunk.js');
  const { loadBrown } = await import('../../lib/corpus/brown.js');
  const dir = mkdtempSync(join(tmpdir(), 'ipt-rules-long-'));
  try {
    // one line of about 1 MB: Brown documents run together
    let text = '';
    for (const d of loadBrown()) {
      if (text.length > 1_000_000) break;
      text += d.text + '\n\n';
    }
    const file = join(dir, 'one-line.jsonl');
    writeFileSync(
      file,
      JSON.stringify({ id: 'big', text, genre: 'news' }) +
        '\n' +
        JSON.stringify({ text: 'A short second record. It has two sentences.' }) +
        '\n',
    );
    const io = capture();
    assert.equal(await main(['rules', '--input', file, '--n', '3', '--seed', '1'], io), 0, io.err);
    const records = io.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => r.id),
      ['big#0', 'big#1', 'big#2'],
    );
    assert.deepEqual(
      records.map((r) => r.context),
      contextsOf(text).slice(0, 3),
    );
    for (const r of records) {
      assert.ok(Buffer.byteLength(r.context) <= DEFAULT_CONTEXT_BUDGET.maxTokens, 'within the context budget');
      assert.equal(r.genre, 'news');
      assert.deepEqual(
        r.pairs.map((p: { question: string; answer: string }) => ({ question: p.question, answer: p.answer })),
        minePairs(r.context, { seed: 1, genre: 'news' }),
      );
    }
    // a record within the budget keeps its own id
    const short = capture();
    assert.equal(await main(['rules', '--input', file, '--n', '1000'], short), 0, short.err);
    assert.equal(
      short.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l))
        .at(-1).id,
      'line2',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
