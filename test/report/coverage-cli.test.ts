// `ipt coverage` end to end on the committed example run: the files it writes, what they hold, the
// PNG figures, and the errors for bad input.
// needs env/setup.sh: Chromium for --png yes (npm test runs it when missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  appendFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../lib/cli.js';
import { dataPath } from '../../lib/repro/project.js';
import { readSynthesisRun } from '../../lib/tasks/input.js';
import { computeCoverage } from '../../lib/tasks/coverage.js';
import { createClassifier } from '../../lib/tasks/classify.js';
import { pngSize } from './browser-check.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { capture } from '../cli-io.js';

const example = dataPath('examples', 'synthesis-run');

test('ipt coverage writes coverage.json, labels, an HTML report and a manifest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    const io = capture();
    assert.equal(
      await main(['coverage', '--input', example, '--out', dir, '--png', 'no', '--top', '3'], io),
      0,
      io.err,
    );
    assert.match(
      io.out,
      /^synthesis-run: 39 pairs from 9 texts, \d+ of 48 categories in \d+ families, "other" \d+\.\d%\n/,
    );
    assert.match(io.out, /category\s+family\s+pairs\s+share\n/);
    const cov = JSON.parse(readFileSync(join(dir, 'coverage.json'), 'utf8'));
    const { labels, ...expected } = computeCoverage(readSynthesisRun(example), { classifier: createClassifier() });
    assert.deepEqual(cov, JSON.parse(JSON.stringify(expected)));
    const lines = readFileSync(join(dir, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 39);
    assert.deepEqual(
      lines.map((l) => l.category),
      labels.map((l) => l.category),
    );
    assert.ok(
      lines.every((l) => typeof l.question === 'string' && typeof l.rule === 'string' && typeof l.text === 'string'),
    );
    const html = readFileSync(join(dir, 'coverage.html'), 'utf8');
    assert.equal(html.match(/class="ipt-figure"/g)?.length, 5); // sunburst, categories, answer words, answer shapes, pairs per text
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(
      manifest.outputs.map((o: { path: string }) => o.path),
      ['coverage.json', 'labels.jsonl', 'coverage.html'],
    );
    assert.equal(manifest.totals.pairs, 39);
    assert.ok(!existsSync(join(dir, 'figures')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipt coverage --png yes writes one PNG per figure', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    const io = capture();
    assert.equal(await main(['coverage', '--input', example, '--out', dir, '--png', 'yes'], io), 0, io.err);
    for (const f of ['sunburst', 'categories', 'answerWords', 'answerShapes', 'pairsPerText']) {
      const size = pngSize(readFileSync(join(dir, 'figures', `${f}.png`)));
      assert.equal(size.width, 900, f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run killed mid-append: the cut line is skipped with a warning, the rest counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    cpSync(example, join(dir, 'run'), { recursive: true });
    appendFileSync(join(dir, 'run', 'chains.jsonl'), '[{"context":"half a li');
    const io = capture();
    assert.equal(
      await main(['coverage', '--input', join(dir, 'run'), '--out', join(dir, 'out'), '--png', 'no'], io),
      0,
      io.err,
    );
    assert.match(io.err, /warning: .*chains\.jsonl:5: skipped a last line cut off mid-write/);
    assert.match(io.out, /39 pairs from 9 texts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: hf: datasets, missing paths, bad lines and options exit 2 with a clear message', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['coverage', '--input', '/no/such/file.jsonl'], /no such file or folder/],
    [['coverage'], /--input is required/],
    [['coverage', '--input', example, '--png', 'maybe'], /--png must be auto, yes or no/],
  ];
  for (const [argv, message] of cases) {
    const io = capture();
    assert.equal(await main(argv, io), 2, argv.join(' '));
    assert.match(io.err, message);
  }
  // hf: offline with nothing cached: the hub's error names the repo and the command to run
  const saved = { offline: process.env.HF_HUB_OFFLINE, cache: process.env.HF_HUB_CACHE };
  process.env.HF_HUB_OFFLINE = '1';
  process.env.HF_HUB_CACHE = mkdtempSync(join(tmpdir(), 'ipt-cov-cache-'));
  try {
    const io = capture();
    assert.equal(await main(['coverage', '--input', 'hf:org/pairs'], io), 1);
    assert.match(io.err, /org\/pairs/);
    assert.match(io.err, /ipt download/);
  } finally {
    for (const [k, v] of [
      ['HF_HUB_OFFLINE', saved.offline],
      ['HF_HUB_CACHE', saved.cache],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-'));
  try {
    const bad = join(dir, 'bad.jsonl');
    appendFileSync(bad, '{"text":"no pairs here"}\n');
    const io = capture();
    assert.equal(await main(['coverage', '--input', bad, '--out', join(dir, 'o')], io), 1);
    assert.match(io.err, /bad\.jsonl:1: unrecognised record; each line must be/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A loopback OpenAI-compatible server whose "model" labels a judge prompt with `label(question, answer)`. */
async function judgeServer(
  label: (question: string, answer: string) => string,
): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.endsWith('/models')) return res.end(JSON.stringify({ object: 'list', data: [{ id: 'judge' }] }));
      requests++;
      const { prompt } = JSON.parse(body) as { prompt: string | string[] };
      const choices = [prompt].flat().map((p, index) => {
        const m =
          /\nInstruction:\n([\s\S]*)\n\nResponse:\n([\s\S]*)\n\nAnswer with the category id only\.\nCategory:$/.exec(p);
        return { index, text: m ? label(m[1], m[2]) : 'not a judge prompt', finish_reason: 'stop' };
      });
      res.end(JSON.stringify({ choices, usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

test('ipt coverage --judge labels with an LM over HTTP and reports its agreement with the rules', async () => {
  const set = readSynthesisRun(example);
  const classifier = createClassifier();
  const rules = set.pairs.map((p) => classifier.classify(p));
  const [first, second] = set.pairs;
  const firstJudged = rules[0].category === 'translation' ? 'summarization' : 'translation';
  // The judge agrees with the rules except on the first pair (another category, named by its display
  // name) and the second (an answer that names no category).
  const srv = await judgeServer((q, a) => {
    if (q === first.question && a === first.answer)
      return firstJudged === 'translation' ? ' Translation\n' : ' Summarisation\n';
    if (q === second.question && a === second.answer) return ' I cannot tell.';
    const i = set.pairs.findIndex((p) => p.question === q && p.answer === a);
    return ` ${rules[i].category}`;
  });
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-judge-'));
  try {
    const io = capture();
    const argv = [
      'coverage',
      '--input',
      example,
      '--out',
      dir,
      '--png',
      'no',
      '--judge',
      `openai:${srv.url}`,
      '--judge-batch',
      '10',
      '--concurrency',
      '2',
    ];
    assert.equal(await main(argv, io), 0, io.err);
    assert.match(
      io.out,
      new RegExp(
        `labelled by openai:${srv.url.replace(/[./]/g, '\\$&')}#judge: agrees with the rule classifier on 37 of 39 pairs \\(94\\.9%\\); 1 answers named no category`,
      ),
    );
    assert.equal(srv.requests(), 39, 'one prompt per request: 39 requests');
    const judge = JSON.parse(readFileSync(join(dir, 'judge.json'), 'utf8'));
    assert.equal(judge.engine, `openai:${srv.url}#judge`);
    assert.deepEqual([judge.pairs, judge.agreeing, judge.unparsed], [39, 37, 1]);
    const expectedDisagreements = [
      { rules: rules[0].category, judge: firstJudged, pairs: 1 },
      ...(rules[1].category === 'other' ? [] : [{ rules: rules[1].category, judge: 'other', pairs: 1 }]),
    ].sort((a, b) => a.rules.localeCompare(b.rules));
    assert.deepEqual(judge.disagreements, expectedDisagreements);
    const lines = readFileSync(join(dir, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.rulesCategory),
      rules.map((r) => r.category),
    );
    assert.deepEqual(
      lines.map((l) => l.category),
      [firstJudged, 'other', ...rules.slice(2).map((r) => r.category)],
    );
    assert.deepEqual(
      lines.slice(0, 2).map((l) => [l.rule, l.raw]),
      [
        ['lm-judge', firstJudged === 'translation' ? ' Translation\n' : ' Summarisation\n'],
        ['lm-judge-unparsed', ' I cannot tell.'],
      ],
    );
    const cov = JSON.parse(readFileSync(join(dir, 'coverage.json'), 'utf8'));
    assert.equal(cov.labeller, `an LM judge (openai:${srv.url}#judge)`);
    assert.equal(cov.pairs, 39);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.config.judge, {
      engine: `openai:${srv.url}#judge`,
      batchSize: 10,
      maxNewTokens: 12,
      decoding: 'greedy',
    });
    assert.equal(manifest.totals.judgeAgreement, 37 / 39);
    assert.ok(manifest.outputs.some((o: { path: string }) => o.path === 'judge.json'));
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipt coverage --judge with an engine that cannot be reached or named exits with a clear message (exit 2 for a spec it cannot name)', async () => {
  const io = capture();
  assert.equal(await main(['coverage', '--input', example, '--png', 'no', '--judge', 'gpt:somewhere'], io), 2);
  assert.match(io.err, /unknown engine "gpt:somewhere": use onnx:DIR .* or openai:URL/);
});

test('a set with no pairs (a synthesizer that wrote nothing) gets a report section with no figures to draw', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-cov-empty-'));
  try {
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(
      join(run, 'chains.jsonl'),
      [
        [{ context: 'A text.', pairs: [], inheritFromPrev: false }],
        [{ context: 'Another.', pairs: [], inheritFromPrev: false }],
      ]
        .map((c) => JSON.stringify(c))
        .join('\n') + '\n',
    );
    const io = capture();
    assert.equal(await main(['coverage', '--input', run, '--out', join(dir, 'out'), '--png', 'yes'], io), 0, io.err);
    assert.match(io.out, /^run: 0 pairs from 2 texts/);
    assert.match(io.err, /note: no PNG figures \(no pairs, nothing to draw\)/);
    assert.ok(!existsSync(join(dir, 'out', 'figures')));
    const html = readFileSync(join(dir, 'out', 'coverage.html'), 'utf8');
    assert.equal(html.match(/class="ipt-figure"/g), null);
    assert.ok(html.includes('No pairs (2 texts, none with a pair): nothing to count or draw.'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
