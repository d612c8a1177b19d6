// `ipt render` and `ipt walkthrough` end to end: JSON-lines round trip, determinism, errors that name
// the line and leave no partial output, and the walkthrough as a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../lib/cli.js';
import { projectRoot } from '../../lib/repro/project.js';
import { renderChains, chainSeed, renderChain } from '../../lib/templates/render.js';
import { makeChains } from '../bench/_chains.js';
import { Readable } from 'node:stream';
import { renderJsonlFile } from '../../lib/templates/jsonl.js';
import { capture } from '../cli-io.js';

const TEXTS = [
  'First text. It has two sentences',
  'Second text, with “quotes” and 🐝. Another sentence',
  'Third text. More words here. And more',
];

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-render-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('ipt render: chains.jsonl -> texts.jsonl, as renderChains, deterministic', () =>
  withDir(async (dir) => {
    const chains = makeChains(TEXTS, 40, 2);
    const input = join(dir, 'chains.jsonl');
    writeFileSync(input, chains.map((c) => JSON.stringify(c)).join('\n') + '\n\n');
    const out = join(dir, 'out', 'texts.jsonl');
    const io = capture();
    assert.equal(await main(['render', '--input', input, '--out', out, '--seed', '5'], io), 0, io.err);
    const lines = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; chain: number });
    assert.deepEqual(
      lines.map((l) => l.text),
      renderChains(chains, 5),
    );
    assert.deepEqual(
      lines.map((l) => l.chain),
      chains.flatMap((c, i) => renderChain(c, chainSeed(5, i)).map(() => i)),
    );
    assert.match(io.err, new RegExp(`40 chains -> ${lines.length} texts`));
    const first = readFileSync(out);
    assert.equal(await main(['render', '--input', input, '--out', out, '--seed', '5'], capture()), 0);
    assert.ok(readFileSync(out).equals(first), 'same input and seed, same bytes');
    assert.deepEqual(readdirSync(join(dir, 'out')), ['texts.jsonl'], 'no temporary files left');
  }));

test('ipt render without --out writes JSON lines to stdout; --family forces a layout', () =>
  withDir(async (dir) => {
    const chains = makeChains(TEXTS, 10, 3, { emptyRate: 0 });
    const input = join(dir, 'c.jsonl');
    writeFileSync(input, chains.map((c) => JSON.stringify(c)).join('\n'));
    const io = capture();
    assert.equal(await main(['render', '-i', input, '--family', 'numbered'], io), 0, io.err);
    const lines = io.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string });
    assert.deepEqual(
      lines.map((l) => l.text),
      renderChains(chains, 1, { family: 'numbered' }),
    );
    assert.match(io.err, /numbered \d+/);
  }));

test('ipt render: a malformed line is named, and no output file appears', () =>
  withDir(async (dir) => {
    const good = JSON.stringify(makeChains(TEXTS, 1, 1)[0]);
    const cases: Array<[string, RegExp]> = [
      [
        `${good}\n${good}\n{"context": "x"`,
        /:3: not valid JSON \(.*\); the line looks cut off; each line must be one chain/,
      ],
      [`${good}\n{"context": "x", "pairs": []}`, /:2: expected a JSON array of chain entries/],
      [`[{"context": 1, "pairs": []}]`, /:1: entry 0: "context" must be a string/],
      [
        `[{"context": "c", "pairs": [{"question": "q", "answer": "a"}, {"question": "q"}]}]`,
        /:1: entry 0, pair 1: expected \{"question": string, "answer": string\}/,
      ],
      [
        `[{"context": "c", "pairs": [], "inheritFromPrev": "yes"}]`,
        /:1: entry 0: "inheritFromPrev" must be true or false/,
      ],
    ];
    for (const [content, message] of cases) {
      const input = join(dir, 'bad.jsonl');
      const out = join(dir, 'texts.jsonl');
      writeFileSync(input, content);
      const io = capture();
      assert.equal(await main(['render', '--input', input, '--out', out], io), 1);
      assert.match(io.err, message);
      assert.ok(io.err.includes(`${input}:`), 'the message names the file and the line');
      assert.equal(existsSync(out), false);
      assert.deepEqual(readdirSync(dir).sort(), ['bad.jsonl']);
    }
  }));

test('ipt render reads the kit\'s own example: lines that are a chain or {"chain": chain}', () =>
  withDir(async (dir) => {
    const example = join(projectRoot(), 'data', 'examples', 'synthesis-run', 'chains.jsonl');
    const raw = readFileSync(example, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.ok(raw.some((v) => Array.isArray(v)) && raw.some((v) => !Array.isArray(v)), 'the example mixes both forms');
    const chains = raw.map((v) => (Array.isArray(v) ? v : (v as { chain: unknown }).chain)) as Parameters<
      typeof renderChains
    >[0];
    const io = capture();
    assert.equal(await main(['render', '--input', example, '--seed', '3'], io), 0, io.err);
    const lines = io.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; chain: number });
    assert.deepEqual(
      lines.map((l) => l.text),
      renderChains(chains, 3),
    );
    assert.match(io.err, new RegExp(`${chains.length} chains -> ${lines.length} texts`));
    // the record form is the same chain: same texts as the bare array
    const wrapped = join(dir, 'wrapped.jsonl');
    writeFileSync(wrapped, chains.map((c, i) => JSON.stringify({ chain: c, id: i })).join('\n') + '\n');
    const io2 = capture();
    assert.equal(await main(['render', '--input', wrapped, '--seed', '3'], io2), 0, io2.err);
    assert.equal(io2.out, io.out);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"chain": {"context": "x"}}\n');
    const io3 = capture();
    assert.equal(await main(['render', '--input', bad], io3), 1);
    assert.match(io3.err, /bad\.jsonl:1: expected a JSON array of chain entries \(or \{"chain": \[\.\.\.\]\}\)/);
  }));

test('ipt render: usage errors exit 2', async () => {
  const a = capture();
  assert.equal(await main(['render'], a), 2);
  assert.match(a.err, /--input FILE is required/);
  const b = capture();
  assert.equal(await main(['render', '-i', 'x.jsonl', '--family', 'sonnet'], b), 2);
  assert.match(b.err, /--family must be one of classic, dialog/);
  const c = capture();
  assert.equal(await main(['render', '-i', 'x.jsonl', '--seed', 'abc'], c), 2);
  const d = capture();
  assert.equal(await main(['render', '-i', '/nonexistent/chains.jsonl'], d), 1);
  assert.match(d.err, /no such file/);
});

test('a hand-written chain may leave out inheritFromPrev', () =>
  withDir(async (dir) => {
    const input = join(dir, 'c.jsonl');
    writeFileSync(
      input,
      '[{"context": "Hand written.", "pairs": [{"question": "What is it?", "answer": "Hand written"}]}, {"context": "raw", "pairs": []}]\n',
    );
    const io = capture();
    assert.equal(await main(['render', '-i', input], io), 0, io.err);
    const lines = io.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string });
    assert.equal(lines.length, 2);
    assert.ok(lines[0].text.includes('Hand written.') && lines[0].text.includes('What is it?'));
    assert.equal(lines[1].text, 'raw');
  }));

test('ipt walkthrough prints every step; --json gives the record', async () => {
  const io = capture();
  assert.equal(await main(['walkthrough'], io), 0, io.err);
  assert.match(io.out, /Round 2/);
  const j = capture();
  assert.equal(await main(['walkthrough', '--json'], j), 0);
  const record = JSON.parse(j.out) as { rounds: unknown[]; chains: unknown[] };
  assert.equal(record.rounds.length, 2);
  assert.equal(record.chains.length, 2);
});

test('ipt walkthrough runs as a process', () => {
  const r = spawnSync(process.execPath, [join(projectRoot(), 'dist', 'lib', 'cli.js'), 'walkthrough'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Pre-training texts/);
});

test('render reads a stream whatever its chunks: lines split across chunks, CRLF, a BOM; a bad line is stdin:LINE', async () => {
  const chains = makeChains(TEXTS, 4, 5);
  const text = '\uFEFF' + chains.map((c, i) => JSON.stringify(i % 2 ? { chain: c } : c)).join('\r\n') + '\r\n\r\n';
  // chunks of 7 bytes: lines, and the bytes of one character (the bee is 4), split across chunks
  const bytes = Buffer.from(text, 'utf8');
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, k) => bytes.subarray(7 * k, 7 * k + 7));
  let out = '';
  const summary = await renderJsonlFile({
    input: '-',
    seed: 2,
    stdin: Readable.from(chunks),
    write: (s) => void (out += s),
    progress: process.stderr,
  });
  assert.equal(summary.chains, chains.length);
  assert.deepEqual(
    out
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string }).text),
    renderChains(chains, 2),
  );
  await assert.rejects(
    renderJsonlFile({
      input: '-',
      seed: 2,
      stdin: Readable.from([JSON.stringify(chains[0]) + '\n', '[{"context": "x", "pairs": [}]\n']),
      write: () => {},
    }),
    /^JsonLineError: stdin:2: not valid JSON \(.*\); each line must be one chain/,
  );
});

test('ipt render -i - reads chains from stdin (as a process)', () => {
  const chains = makeChains(TEXTS, 5, 9);
  const r = spawnSync(
    process.execPath,
    [join(projectRoot(), 'dist', 'lib', 'cli.js'), 'render', '-i', '-', '--seed', '4'],
    {
      input: chains.map((c) => JSON.stringify(c)).join('\n'),
      encoding: 'utf8',
      env: { ...process.env, IPT_PROGRESS: 'silent' },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string }).text),
    renderChains(chains, 4),
  );
});
