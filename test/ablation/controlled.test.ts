// The controlled experiment at CI size: every arm and seed trained and scored on every test item; the
// pre-training corpora hold no pair about a held-out attribute and no held-out wording; the results
// carry chance levels, intervals and paired gains; a re-run reuses every stage; and a run killed midway
// (SIGKILL, during pre-training) resumes and ends with exactly the records of an uninterrupted run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { projectRoot } from '../../lib/repro/project.js';
import { runStage } from '../../lib/repro/stages.js';
import { generatePeople, questionWordings, wordingPattern } from '../../lib/corpus/people.js';
import {
  CONTROLLED_CI,
  CONTROLLED_DEFAULT,
  describeControlledPlan,
  validateControlledConfig,
  type ControlledConfig,
} from '../../lib/ablation/controlled-config.js';
import {
  filterPairs,
  heldOutPatterns,
  makePeople,
  readingPrompt,
  runControlled,
  type ControlledRecords,
  type StageRunner,
} from '../../lib/ablation/controlled.js';
import { computeControlledResults } from '../../lib/ablation/controlled-results.js';
import {
  controlledParagraph,
  controlledReportSections,
  controlledMarkdownParts,
} from '../../lib/ablation/controlled-report.js';
import { loadAblationConfig } from '../../lib/ablation/config.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-controlled-'));
after(() => rmSync(root, { recursive: true, force: true }));

function runner(dir: string, ran: string[] = []): StageRunner {
  return (name, version, key, run) =>
    runStage(join(dir, 'stages'), {
      name,
      version,
      key,
      run: async (ctx) => {
        ran.push(name);
        return run(ctx);
      },
    });
}

/** Records without what differs between two runs by nature (wall times). */
function comparable(r: ControlledRecords): unknown {
  return JSON.parse(
    JSON.stringify(r, (k, v) => (k === 'seconds' || k === 'tokensPerSecond' || k === 'dir' ? undefined : v)),
  );
}

let straight: Promise<ControlledRecords> | undefined;
const straightDir = join(root, 'straight');
function straightRun(): Promise<ControlledRecords> {
  straight ??= runControlled({
    config: CONTROLLED_CI,
    stage: runner(straightDir),
    outDir: straightDir,
    threads: 1,
    progress: 'silent',
  });
  return straight;
}

test('the evaluation prompt is the biography, then the question in the plainest template layout', () => {
  assert.equal(
    readingPrompt('Anna Smith studied at Yale.', 'Where did Anna Smith study?'),
    'Anna Smith studied at Yale.\n\nQuestion: Where did Anna Smith study?\nAnswer:',
  );
});

test('pairs that mention a held-out attribute or use a held-out wording are dropped, and counted', () => {
  const c: ControlledConfig = { ...CONTROLLED_DEFAULT, heldOutAttributes: ['employer'] };
  const [p] = generatePeople({ seed: 1, count: 1, attributes: c.attributes, shuffleOrder: false });
  const tally = { kept: 0, heldOutAttribute: 0, heldOutWording: 0 };
  const heldWording = questionWordings('birthCity', 'heldout', c.heldOutWordings)[0].replace('{name}', p.name);
  const kept = filterPairs(
    p,
    [
      { question: `Where does ${p.name} work?`, answer: p.values.employer },
      { question: `Who works for ${p.values.employer}?`, answer: p.name },
      { question: heldWording, answer: p.values.birthCity },
      { question: `Where did ${p.name} study?`, answer: p.values.university },
    ],
    c,
    heldOutPatterns(c),
    tally,
  );
  assert.deepEqual(kept, [{ question: `Where did ${p.name} study?`, answer: p.values.university }]);
  assert.deepEqual(tally, { kept: 1, heldOutAttribute: 2, heldOutWording: 1 });
});

test('people: four disjoint roles of the configured sizes; the config is validated with one-line errors', () => {
  const people = makePeople(CONTROLLED_CI);
  const p = CONTROLLED_CI.people;
  assert.equal(people.length, p.pretrain + p.instruction + p.tuning + p.test);
  assert.equal(new Set(people.map((x) => x.name)).size, people.length);
  for (const role of ['pretrain', 'instruction', 'tuning', 'test'] as const)
    assert.equal(people.filter((x) => x.role === role).length, p[role]);
  assert.throws(
    () => validateControlledConfig({ ...CONTROLLED_CI, heldOutAttributes: ['shoeSize'] }),
    /controlled\.unknown attribute "shoeSize"/,
  );
  assert.throws(
    () => validateControlledConfig({ ...CONTROLLED_CI, tuning: { ...CONTROLLED_CI.tuning, attributes: ['employer'] } }),
    /tuning\.attributes: "employer" is held out/,
  );
  assert.throws(
    () => validateControlledConfig({ ...CONTROLLED_CI, synthesizer: { ...CONTROLLED_CI.synthesizer, engine: 'gold' } }),
    /synthesizer\.engine must be "rules", "tiny", onnx:DIR or openai:URL/,
  );
  assert.throws(
    () => loadAblationConfig({ profile: 'ci', overrides: { controlled: { seeds: [1, 1] } } }),
    /controlled\.seeds must be distinct/,
  );
  assert.equal(
    loadAblationConfig({ profile: 'ci', overrides: { controlled: { enabled: false } } }).controlled.enabled,
    false,
  );
  const plan = describeControlledPlan(CONTROLLED_DEFAULT);
  assert.match(plan.lines.join(' '), /tested on \d+ new people/);
  assert.ok(plan.estimatedSeconds > 0 && plan.trainingTokens > 0);
});

test(
  'the CI profile: every arm and seed scored on every item; corpora without held-out attributes or wordings; intervals and paired gains',
  { timeout: 600_000 },
  async () => {
    const records = await straightRun();
    const c = CONTROLLED_CI;
    // every pre-trained arm and seed, and the tuned ones, scored on every item of every test
    for (const arm of c.arms) {
      for (const seed of arm.seeds ?? c.seeds) {
        const run = records.runs.find((r) => r.arm === arm.name && r.seed === seed && !r.tuned);
        assert.ok(run, `${arm.name} s${seed}`);
        assert.equal(
          run.train.tokens,
          c.pretrain.steps! * c.pretrain.batchSize! * c.model.contextLength!,
          'every arm trains for the same tokens',
        );
        for (const t of records.tasks) {
          assert.equal(run.scores.items[t.name].length, t.examples, `${arm.name} ${t.name}`);
          assert.ok(run.scores.items[t.name].every((v) => v === 0 || v === 1));
        }
      }
    }
    for (const arm of c.tuning.arms)
      for (const seed of c.seeds)
        assert.ok(
          records.runs.some((r) => r.arm === arm && r.seed === seed && r.tuned),
          `tuned ${arm} s${seed}`,
        );
    assert.deepEqual([...new Set(records.tasks.map((t) => t.test))].sort(), [
      'heldout-attribute',
      'heldout-wording',
      'memorised',
      'seen',
    ]);
    assert.deepEqual([...new Set(records.tasks.map((t) => t.measure))].sort(), ['fact', 'generated', 'value']);
    for (const t of records.tasks) {
      const facts =
        t.test === 'heldout-attribute' ? c.heldOutAttributes.length : c.attributes.length - c.heldOutAttributes.length;
      assert.equal(t.chance, t.measure === 'fact' ? 1 / facts : t.measure === 'value' ? 1 / c.eval.choices : 0, t.name);
    }

    // what pre-training read: vanilla exactly the biographies; no text uses a held-out wording; in the
    // instruct corpus a held-out value occurs only in its biography (no pair mentions it)
    const people = makePeople(c);
    const pretrain = people.filter((p) => p.role === 'pretrain');
    const texts = (arm: string) =>
      readFileSync(join(straightDir, records.corpora[arm].dir, 'train.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).text as string);
    assert.deepEqual(
      texts('vanilla'),
      pretrain.map((p) => p.biography),
    );
    const patterns = c.attributes.flatMap((a) => questionWordings(a, 'heldout', c.heldOutWordings)).map(wordingPattern);
    for (const arm of Object.keys(records.corpora))
      for (const t of texts(arm)) for (const r of patterns) assert.doesNotMatch(t, r, arm);
    const instruct = texts('instruct');
    assert.ok(
      instruct.some((t) => t.includes('\n')),
      'some biographies carry pairs',
    );
    for (const p of pretrain) {
      const t = instruct.find((x) => x.includes(p.biography))!;
      assert.ok(t, `${p.name}'s biography is in the instruct corpus`);
      for (const a of c.heldOutAttributes)
        assert.equal(t.split(p.values[a]).length - 1, 1, `${p.values[a]} only in ${p.name}'s biography:\n${t}`);
    }
    assert.ok(records.corpora.instruct.filter!.kept > 0);
    // mix: every biography raw, plus instruction texts about the instruction people
    const mix = texts('mix');
    for (const p of pretrain) assert.ok(mix.includes(p.biography));
    assert.ok(people.filter((p) => p.role === 'instruction').every((p) => mix.some((t) => t.includes(p.biography))));

    // the results: chance, intervals over items and seeds, gains paired against vanilla
    const results = computeControlledResults(records);
    for (const row of results.rows) {
      assert.ok(row.score.lo <= row.score.mean && row.score.mean <= row.score.hi, JSON.stringify(row.score));
      if (row.arm === 'vanilla') assert.equal(row.gain, null);
      else {
        assert.ok(row.gain, `${row.arm} ${row.task}`);
        assert.equal(row.gain.verdict, row.gain.lo > 0 ? 'gain' : row.gain.hi < 0 ? 'loss' : 'within noise');
      }
    }
    const m2 = results.rows.find((r) => r.arm === 'instruct-m2' && r.task === 'heldout-wording-fact')!;
    assert.equal(m2.score.seeds, 1, 'a secondary arm with one seed is paired with vanilla of that seed');
    assert.ok(results.rows.some((r) => r.tuned && r.arm === 'instruct' && r.gain?.baseline === 'vanilla + tuning'));
    assert.ok(results.tuningEffect.length > 0);
    const paragraph = controlledParagraph(results, records);
    assert.match(paragraph, /What was compared/);
    assert.match(paragraph, /What this does not show/);
    assert.match(paragraph, /chance 0\.250/);
    assert.match(paragraph, /which fact/);
    const sections = controlledReportSections(results, records);
    assert.equal(sections[1].kind, 'figure');
    assert.equal(sections[2].kind, 'text');
    // results.md (and so the README): the paragraph, then one row per arm and test with chance and interval
    const md = controlledMarkdownParts(results, records);
    assert.equal(md[1], paragraph);
    const scores = md[2] as Array<Record<string, string>>;
    assert.equal(scores.length, results.rows.filter((r) => !r.tuned).length);
    assert.deepEqual(Object.keys(scores[0]), [
      'test',
      'measure',
      'arm',
      'seeds',
      'chance',
      'score [95%]',
      'vs vanilla [95%]',
    ]);
    assert.ok(
      md.some(
        (p) =>
          Array.isArray(p) && p.length === results.tuningEffect.length && 'tuned minus before tuning [95%]' in p[0],
      ),
    );

    // a second run reuses every stage and gives the same records
    const ran: string[] = [];
    const again = await runControlled({
      config: c,
      stage: runner(straightDir, ran),
      outDir: straightDir,
      threads: 1,
      progress: 'silent',
    });
    assert.deepEqual(ran, []);
    assert.deepEqual(comparable(again), comparable(records));
  },
);

test(
  'killed during pre-training (SIGKILL), the experiment resumes and ends with the records of an uninterrupted run',
  { timeout: 600_000 },
  async () => {
    const dir = join(root, 'killed');
    const child = join(projectRoot(), 'dist', 'test', 'ablation', '_controlled-run.js');
    const stages = join(dir, 'stages');
    const started = () => (existsSync(stages) ? readdirSync(stages) : []);
    const proc = spawn(process.execPath, [child, dir], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.once('exit', (_code, signal) => resolve(signal)),
    );
    const timer = setInterval(() => {
      // once the second pre-training run has begun: earlier stages are finished, this one is not
      if (started().some((d) => d.startsWith('controlled-pretrain-instruct-s1') && existsSync(join(stages, d, 'run'))))
        proc.kill('SIGKILL');
    }, 5);
    const signal = await exited;
    clearInterval(timer);
    assert.equal(signal, 'SIGKILL', 'the run was killed before it finished');
    assert.ok(!existsSync(join(dir, 'records.json')));
    const code = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, [child, dir], { stdio: 'inherit' }).once('exit', resolve),
    );
    assert.equal(code, 0);
    const resumed = JSON.parse(readFileSync(join(dir, 'records.json'), 'utf8')) as ControlledRecords;
    assert.deepEqual(comparable(resumed), comparable(await straightRun()));
  },
);
