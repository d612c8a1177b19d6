// Request strings of the general suites against strings written by hand from lm-evaluation-harness's
// task definitions (the YAML doc_to_text / doc_to_choice / doc_to_target, hellaswag's utils.py,
// winogrande's preprocess_winogrande.py, MMLU's _default_template_yaml), and acc / acc_norm /
// group aggregation on hand-computed cases. Few-shot draws: the indices CPython's
// random.Random(1234).sample gives for these pool sizes (printed by python3, noted at each test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GENERAL_TASKS,
  hellaswagPreprocess,
  hellaswagProcessDoc,
  MMLU_GROUPS,
  MMLU_SUBJECTS,
} from '../../lib/eval/suites/general.js';
import {
  aggregateGroup,
  aggregateMean,
  buildTaskRequests,
  evalSplit,
  fewshotSplit,
  leafTasks,
  scoreDoc,
} from '../../lib/eval/suites/lmeval.js';
import type { Doc, MultipleChoiceTaskDef } from '../../lib/eval/suites/types.js';

const task = (name: string): MultipleChoiceTaskDef => {
  const t = GENERAL_TASKS.find((x) => x.name === name);
  assert.ok(t, name);
  return t;
};
const pairs = (r: ReturnType<typeof buildTaskRequests>[number]) => r.requests.map((q) => [q.context, q.continuation]);

const arcDoc = (q: string, texts: string[], key: string, labels = ['A', 'B', 'C', 'D']): Doc => ({
  id: q.slice(0, 8),
  question: q,
  choices: { text: texts, label: labels },
  answerKey: key,
});

test('arc_easy: "Question: ...\\nAnswer:" with " choice" continuations, test split, demonstrations from train', () => {
  const t = task('arc_easy');
  assert.equal(evalSplit(t), 'test');
  assert.equal(fewshotSplit(t), 'train');
  assert.deepEqual(t.dataset, { path: 'allenai/ai2_arc', name: 'ARC-Easy', revision: 'main' });
  const doc = arcDoc(
    'Which factor will most likely cause a person to develop a fever?',
    [
      'a leg muscle relaxing after exercise',
      'a bacterial population in the bloodstream',
      'several viral particles on the skin',
      'carbohydrates being digested in the stomach',
    ],
    'B',
  );
  const [r] = buildTaskRequests(t, [doc], [], { numFewshot: 0 });
  assert.deepEqual(pairs(r), [
    [
      'Question: Which factor will most likely cause a person to develop a fever?\nAnswer:',
      ' a leg muscle relaxing after exercise',
    ],
    [
      'Question: Which factor will most likely cause a person to develop a fever?\nAnswer:',
      ' a bacterial population in the bloodstream',
    ],
    [
      'Question: Which factor will most likely cause a person to develop a fever?\nAnswer:',
      ' several viral particles on the skin',
    ],
    [
      'Question: Which factor will most likely cause a person to develop a fever?\nAnswer:',
      ' carbohydrates being digested in the stomach',
    ],
  ]);
  assert.equal(r.target, 1);
  // numeric labels: answerKey "3" is the third label
  assert.equal(t.docToTarget(arcDoc('q', ['w', 'x', 'y', 'z'], '3', ['1', '2', '3', '4'])), 2);
});

test('arc_challenge: 2-shot draws Random(1234).sample(train, 2) per document, the generator running on ([3, 0] then [0, 3])', () => {
  const t = task('arc_challenge');
  assert.deepEqual(t.dataset, { path: 'allenai/ai2_arc', name: 'ARC-Challenge', revision: 'main' });
  const train = [0, 1, 2, 3].map((i) =>
    arcDoc(`Train question ${i}?`, [`t${i}a`, `t${i}b`, `t${i}c`], ['A', 'B', 'C'][i % 3], ['A', 'B', 'C']),
  );
  const evalDocs = [
    arcDoc('What is first?', ['one', 'two'], 'A', ['A', 'B']),
    arcDoc('What is second?', ['three', 'four'], 'B', ['A', 'B']),
  ];
  const [r0, r1] = buildTaskRequests(t, evalDocs, train, { numFewshot: 2 });
  assert.equal(
    r0.requests[0].context,
    'Question: Train question 3?\nAnswer: t3a\n\nQuestion: Train question 0?\nAnswer: t0a\n\nQuestion: What is first?\nAnswer:',
  );
  assert.equal(
    r1.requests[1].context,
    'Question: Train question 0?\nAnswer: t0a\n\nQuestion: Train question 3?\nAnswer: t3a\n\nQuestion: What is second?\nAnswer:',
  );
  assert.equal(r1.requests[1].continuation, ' four');
  // a different seed draws differently
  const other = buildTaskRequests(t, evalDocs, train, { numFewshot: 2, seed: 7 });
  assert.notEqual(
    other[0].requests[0].context + other[1].requests[0].context,
    r0.requests[0].context + r1.requests[0].context,
  );
});

test('boolq: passage, "Question: ...?", "Answer:", choices no/yes; validation split; 1-shot leaves the evaluated document out (draws n+1: [1, 0] then [0, 2])', () => {
  const t = task('boolq');
  assert.equal(evalSplit(t), 'validation');
  assert.deepEqual(t.dataset, { path: 'aps/super_glue', name: 'boolq', revision: 'main' });
  const v = (p: string, q: string, label: number): Doc => ({ question: q, passage: p, idx: 0, label });
  const doc = v(
    'Windows Movie Maker -- Windows Movie Maker is a discontinued video editing software by Microsoft.',
    'is windows movie maker part of windows 10',
    0,
  );
  const [r] = buildTaskRequests(t, [doc], [], { numFewshot: 0 });
  assert.deepEqual(pairs(r), [
    [
      'Windows Movie Maker -- Windows Movie Maker is a discontinued video editing software by Microsoft.\nQuestion: is windows movie maker part of windows 10?\nAnswer:',
      ' no',
    ],
    [
      'Windows Movie Maker -- Windows Movie Maker is a discontinued video editing software by Microsoft.\nQuestion: is windows movie maker part of windows 10?\nAnswer:',
      ' yes',
    ],
  ]);
  const train = [v('P0.', 'q0', 0), v('P1.', 'q1', 1), v('P2.', 'q2', 1)];
  const shots = buildTaskRequests(t, [v('E0.', 'e0', 1), v('E1.', 'e1', 0)], train, { numFewshot: 1 });
  assert.equal(shots[0].requests[0].context, 'P1.\nQuestion: q1?\nAnswer: yes\n\nE0.\nQuestion: e0?\nAnswer:');
  assert.equal(shots[1].requests[0].context, 'P0.\nQuestion: q0?\nAnswer: no\n\nE1.\nQuestion: e1?\nAnswer:');
});

test('piqa: "Question: {goal}\\nAnswer:" with sol1/sol2; a demonstration equal to the evaluated document is dropped', () => {
  const t = task('piqa');
  assert.deepEqual(t.dataset, { path: 'baber/piqa', name: null, revision: 'main' });
  const d = (goal: string, s1: string, s2: string, label: number): Doc => ({ goal, sol1: s1, sol2: s2, label });
  const doc = d("When boiling butter, when it's ready, you can", 'Pour it onto a plate', 'Pour it into a jar', 1);
  const [r] = buildTaskRequests(t, [doc], [], { numFewshot: 0 });
  assert.deepEqual(pairs(r), [
    ["Question: When boiling butter, when it's ready, you can\nAnswer:", ' Pour it onto a plate'],
    ["Question: When boiling butter, when it's ready, you can\nAnswer:", ' Pour it into a jar'],
  ]);
  // Random(1234).sample(3 docs, 2) = [1, 0]; doc 1 is the evaluated one, so doc 0 is the demonstration
  const train = [d('g0', 'a0', 'b0', 0), doc, d('g2', 'a2', 'b2', 1)];
  const [s] = buildTaskRequests(t, [doc], train, { numFewshot: 1 });
  assert.equal(
    s.requests[0].context,
    "Question: g0\nAnswer: a0\n\nQuestion: When boiling butter, when it's ready, you can\nAnswer:",
  );
});

test('hellaswag: process_docs (activity label, capitalised ctx_b, [title] and [bracket] clean-up, one pass of double spaces)', () => {
  const t = task('hellaswag');
  assert.equal(evalSplit(t), 'validation');
  const raw: Doc = {
    ind: 24,
    activity_label: 'Removing ice from car',
    ctx_a:
      'Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles.',
    ctx_b: 'then',
    ctx: 'Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. then',
    endings: [
      ', the man adds wax to the windshield and cuts it.',
      ', a person board a ski lift, while two men supporting the head of the person wearing winter clothes snow as the we girls sled.',
      ', the man puts on a christmas coat, knitted with netting.',
      ', the man continues removing the snow on his car.',
    ],
    source_id: 'activitynet~v_-1IBHYS3L-Y',
    split: 'train',
    split_type: 'indomain',
    label: '3',
  };
  const [r] = buildTaskRequests(t, [t.processDocs!(raw)], [], { numFewshot: 0 });
  const ctx =
    'Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. Then';
  assert.deepEqual(pairs(r), [
    [ctx, ' , the man adds wax to the windshield and cuts it.'],
    [
      ctx,
      ' , a person board a ski lift, while two men supporting the head of the person wearing winter clothes snow as the we girls sled.',
    ],
    [ctx, ' , the man puts on a christmas coat, knitted with netting.'],
    [ctx, ' , the man continues removing the snow on his car.'],
  ]);
  assert.equal(r.target, 3);
  const wiki = hellaswagProcessDoc({
    activity_label: 'Personal Care and Style',
    ctx_a: '[header] How to dye your hair with tea [title] Brew the tea.',
    ctx_b: '[step] Steep three bags of black TEA in two cups of water.',
    endings: ['[substeps] Let it cool.', ' Strain  it [step] twice. '],
    label: '0',
  });
  assert.equal(
    wiki.query,
    'Personal Care and Style: How to dye your hair with tea. Brew the tea. steep three bags of black tea in two cups of water.',
  );
  assert.deepEqual(wiki.choices, [' Let it cool.', 'Strain it twice.']);
  assert.equal(wiki.gold, 0);
  assert.equal(hellaswagPreprocess('a   b'), 'a  b'); // Python's str.replace: one pass
});

test('winogrande: two contexts (the blank filled by each option), one shared continuation, gold from "answer"', () => {
  const t = task('winogrande');
  assert.deepEqual(t.dataset, { path: 'allenai/winogrande', name: 'winogrande_xl', revision: 'main' });
  const w = (sentence: string, o1: string, o2: string, answer: string): Doc => ({
    sentence,
    option1: o1,
    option2: o2,
    answer,
  });
  const doc = w('Sarah was a much better surgeon than Maria so _ always got the easier cases.', 'Sarah', 'Maria', '2');
  const [r] = buildTaskRequests(t, [doc], [], { numFewshot: 0 });
  assert.deepEqual(pairs(r), [
    ['Sarah was a much better surgeon than Maria so Sarah', ' always got the easier cases.'],
    ['Sarah was a much better surgeon than Maria so Maria', ' always got the easier cases.'],
  ]);
  assert.equal(r.target, 'always got the easier cases.');
  // 1-shot: Random(1234).sample(3, 2) = [1, 0]: train doc 1, its right context then its continuation
  const train = [w('A _ b.', 'x', 'y', '1'), w('He gave _ the ball.', 'Ann', 'Bob', '2'), w('C _ d.', 'u', 'v', '1')];
  const [s] = buildTaskRequests(t, [doc], train, { numFewshot: 1 });
  assert.deepEqual(pairs(s), [
    ['He gave Bob the ball.\n\nSarah was a much better surgeon than Maria so Sarah', ' always got the easier cases.'],
    ['He gave Bob the ball.\n\nSarah was a much better surgeon than Maria so Maria', ' always got the easier cases.'],
  ]);
  // scored on the contexts: the gold is the index doc_to_text gives
  assert.deepEqual(
    scoreDoc(t, doc, [
      { logprob: -9, greedy: false },
      { logprob: -3, greedy: false },
    ]).acc,
    1,
  );
});

test('social_iqa: "Q: {context} {question}\\nA:", three answers, gold = label - 1', () => {
  const t = task('social_iqa');
  assert.deepEqual(t.dataset, { path: 'lighteval/siqa', name: null, revision: 'main' });
  const doc: Doc = {
    context: 'Cameron decided to have a barbecue and gathered her friends together.',
    question: 'How would Others feel as a result?',
    answerA: 'like attending',
    answerB: 'like staying home',
    answerC: 'a good friend to have',
    label: '1',
  };
  const [r] = buildTaskRequests(t, [doc], [], { numFewshot: 0 });
  const ctx =
    'Q: Cameron decided to have a barbecue and gathered her friends together. How would Others feel as a result?\nA:';
  assert.deepEqual(pairs(r), [
    [ctx, ' like attending'],
    [ctx, ' like staying home'],
    [ctx, ' a good friend to have'],
  ]);
  assert.equal(r.target, 0);
});

test('openbookqa: the question stem as is; answerKey left-stripped', () => {
  const t = task('openbookqa');
  assert.equal(evalSplit(t), 'test');
  const doc: Doc = {
    id: '8-343',
    question_stem: 'The sun is responsible for',
    choices: {
      text: [
        'puppies learning new tricks',
        'children growing up and getting old',
        'flowers wilting in a vase',
        'plants sprouting, blooming and wilting',
      ],
      label: ['A', 'B', 'C', 'D'],
    },
    answerKey: ' D',
  };
  const [r] = buildTaskRequests(t, [doc], [], { numFewshot: 0 });
  assert.deepEqual(pairs(r), [
    ['The sun is responsible for', ' puppies learning new tricks'],
    ['The sun is responsible for', ' children growing up and getting old'],
    ['The sun is responsible for', ' flowers wilting in a vase'],
    ['The sun is responsible for', ' plants sprouting, blooming and wilting'],
  ]);
  assert.equal(r.target, 3);
});

test('mmlu: description line, stripped question, "A. / B. / C. / D." and "Answer:", letters as continuations; k-shot = the first k dev documents', () => {
  const t = task('mmlu_abstract_algebra');
  assert.equal(evalSplit(t), 'test');
  assert.equal(fewshotSplit(t), 'dev');
  assert.deepEqual(t.dataset, { path: 'cais/mmlu', name: 'abstract_algebra', revision: 'main' });
  const m = (question: string, choices: string[], answer: number): Doc => ({
    question,
    subject: 'abstract_algebra',
    choices,
    answer,
  });
  const doc = m('Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.', ['0', '1', '2', '3'], 1);
  const [r] = buildTaskRequests(t, [doc], [], { numFewshot: 0 });
  const ctx =
    'The following are multiple choice questions (with answers) about abstract algebra.\n\nFind all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer:';
  assert.deepEqual(pairs(r), [
    [ctx, ' A'],
    [ctx, ' B'],
    [ctx, ' C'],
    [ctx, ' D'],
  ]);
  const dev = [
    m('  What is 2+2? \n', ['1', '2', '3', '4'], 3),
    m('Is 1 odd?', ['yes', 'no', 'maybe', 'never'], 0),
    m('Unused?', ['a', 'b', 'c', 'd'], 2),
  ];
  const [s] = buildTaskRequests(t, [doc], dev, { numFewshot: 2 });
  assert.equal(
    s.requests[3].context,
    'The following are multiple choice questions (with answers) about abstract algebra.\n\n' +
      'What is 2+2?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: D\n\n' +
      'Is 1 odd?\nA. yes\nB. no\nC. maybe\nD. never\nAnswer: A\n\n' +
      'Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer:',
  );
  assert.equal(s.requests[3].continuation, ' D');
  assert.equal(
    task('mmlu_high_school_government_and_politics').description,
    'The following are multiple choice questions (with answers) about high school government and politics.\n\n',
  );
});

test('mmlu has 57 subjects in four categories under one group, as lm-eval files them', () => {
  assert.equal(Object.keys(MMLU_SUBJECTS).length, 57);
  const groups = new Map(MMLU_GROUPS.map((g) => [g.name, g]));
  const leaves = leafTasks(groups.get('mmlu')!, groups);
  assert.equal(leaves.length, 57);
  assert.equal(new Set(leaves).size, 57);
  assert.equal(leafTasks(groups.get('mmlu_stem')!, groups).length, 19);
  assert.equal(leafTasks(groups.get('mmlu_humanities')!, groups).length, 13);
  assert.equal(leafTasks(groups.get('mmlu_social_sciences')!, groups).length, 12);
  assert.equal(leafTasks(groups.get('mmlu_other')!, groups).length, 13);
});

test('acc takes the largest log-likelihood, acc_norm the largest per character of the choice (Python counts code points); ties go to the first', () => {
  const t: MultipleChoiceTaskDef = {
    ...task('piqa'),
    docToText: () => 'q',
    docToChoice: (d) => d.choices as string[],
    docToTarget: (d) => d.gold as number,
  };
  const r = (...lls: number[]) => lls.map((logprob) => ({ logprob, greedy: false }));
  // "a" (1 char) at -2 beats "bbbb" (4 chars) at -4 raw; per character -2 < -1
  assert.deepEqual(scoreDoc(t, { choices: ['a', 'bbbb'], gold: 1 }, r(-2, -4)), {
    acc: 0,
    acc_norm: 1,
    pred: 0,
    predNorm: 1,
    gold: 1,
  });
  // "😀" is one character for Python (two UTF-16 units): -1.5/1 < -2.8/2
  assert.equal(scoreDoc(t, { choices: ['😀', 'ab'], gold: 1 }, r(-1.5, -2.8)).predNorm, 1);
  assert.equal(scoreDoc(t, { choices: ['x', 'y'], gold: 0 }, r(-1, -1)).pred, 0);
  // a gold label outside the choices scores 0
  assert.equal(scoreDoc(t, { choices: ['x', 'y'], gold: 5 }, r(-1, -2)).acc, 0);
});

test("task stderr is the sample standard deviation / sqrt(n); a group is weighted by size with lm-eval's pooled stderr", () => {
  const a = aggregateMean([1, 0, 1, 1]);
  assert.equal(a.value, 0.75);
  assert.equal(a.stderr, 0.25); // var = (3 * 0.0625 + 0.5625) / 3 = 0.25; sqrt(0.25 / 4)
  const b = aggregateMean([1, 0]);
  assert.ok(Math.abs(b.stderr! - 0.5) < 1e-15);
  const g = aggregateGroup([a, b], true);
  assert.ok(Math.abs(g.value - 4 / 6) < 1e-15); // (0.75 * 4 + 0.5 * 2) / 6
  // pooled: (3 * 0.25^2 * 4 + 1 * 0.5^2 * 2) / (6 - 2) = 0.3125; sqrt(0.3125 / 6)
  assert.ok(Math.abs(g.stderr! - Math.sqrt(0.3125 / 6)) < 1e-15);
  assert.equal(g.n, 6);
  assert.equal(aggregateGroup([a, b], false).value, 0.625);
  assert.equal(aggregateGroup([a, aggregateMean([1])], true).stderr, null); // a one-document task has no stderr
});
