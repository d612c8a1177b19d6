// `ipt ablate --config`: every mistake is found before anything is written (an unknown genre, a model too
// large to train, a missing or unreadable file), and a finished run's config.json is never rewritten by a
// run that has not finished, so the folder's results always match its recorded config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../lib/cli.js';
import { loadAblationConfig } from '../../lib/ablation/config.js';
import { runAblation } from '../../lib/ablation/pipeline.js';
import { capture } from '../cli-io.js';

/** A finished run folder as the pipeline leaves it (the parts this test looks at). */
function finishedRun(root: string): { dir: string; files: Record<string, string> } {
  const dir = join(root, 'finished');
  mkdirSync(join(dir, 'results'), { recursive: true });
  const files: Record<string, string> = {
    'config.json': JSON.stringify(loadAblationConfig({ profile: 'ci' }), null, 2) + '\n',
    'manifest.json': '{"command": ["ipt", "ablate"]}\n',
    'results/results.json': '{"pretrain": []}\n',
  };
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return { dir, files };
}

const unchanged = (dir: string, files: Record<string, string>) => {
  for (const [f, text] of Object.entries(files)) assert.equal(readFileSync(join(dir, f), 'utf8'), text, f);
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'manifest.json', 'results']);
};

test('a config that would fail later is refused up front, naming the field, and the finished run is untouched', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ipt-ablate-config-'));
  try {
    const run = finishedRun(root);
    const cases: Array<[unknown, RegExp]> = [
      [
        { corpus: { domainGenres: ['poetry'] } },
        /^ipt ablate: ablation config: corpus\.domainGenres: genre "poetry" is not a Brown genre; genres: news, .*learned.*\n$/,
      ],
      [
        { corpus: { heldOutGenres: ['jokes'] } },
        /^ipt ablate: ablation config: corpus\.heldOutGenres: genre "jokes" is not a Brown genre/,
      ],
      [
        { pretrain: { model: { width: 1e9 } } },
        /^ipt ablate: ablation config: pretrain\.model: .* parameters; training keeps 16 bytes per parameter in one WebAssembly memory of at most 4 GiB \(about \d+M parameters\): make width, layers, vocabSize or contextLength smaller\n$/,
      ],
      [
        { synthesis: { tiny: { model: { layers: 0 } } } },
        /^ipt ablate: ablation config: synthesis\.tiny\.model: GPT config: layers must be a positive integer, got 0\n$/,
      ],
      [{ tokenizer: { vocabSize: 100 } }, /^ipt ablate: ablation config: pretrain\.model: vocabSize 100 is too small/],
      [
        { eval: { examplesPerTask: -1 } },
        /^ipt ablate: ablation config: eval\.examplesPerTask must be a positive integer, got -1\n$/,
      ],
    ];
    for (const [over, message] of cases) {
      const file = join(root, 'bad.json');
      writeFileSync(file, JSON.stringify(over));
      for (const dry of [[], ['--dry-run']]) {
        const io = capture();
        assert.equal(
          await main(['ablate', '--profile', 'ci', '--config', file, '--out', run.dir, ...dry], io),
          1,
          JSON.stringify(over),
        );
        assert.match(io.err, message);
        unchanged(run.dir, run.files);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a run that does not finish leaves a finished run's config.json as it was", async () => {
  const root = mkdtempSync(join(tmpdir(), 'ipt-ablate-config-'));
  try {
    const run = finishedRun(root);
    const other = loadAblationConfig({ profile: 'ci', overrides: { seeds: [7] } });
    const r = await runAblation({
      config: other,
      outDir: run.dir,
      stopAfterStages: 0,
      log: () => {},
      progress: 'silent',
    });
    assert.equal(r.outcome.complete, false);
    for (const [f, text] of Object.entries(run.files)) assert.equal(readFileSync(join(run.dir, f), 'utf8'), text, f);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
