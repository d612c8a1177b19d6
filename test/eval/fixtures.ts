// Small copies of the benchmark datasets in their Hub layouts, for the loopback hub: the same repo
// ids, file names, dataset-card `configs:` and parquet column names and types (strings, int64
// ClassLabels, int32, list<string>, struct<text: list<string>, label: list<string>>) as the real
// repos, with a few invented documents each. Layouts that could not be checked against the Hub are
// marked "assumed" (see README, "Benchmark suites"). Used by the tests and by notebook 08's CI run.

import { parquetWriteBuffer } from 'hyparquet-writer';
import type { FixtureFile, FixtureRepo } from '../hub/fake-hub.js';
import { MMLU_SUBJECTS } from '../../lib/eval/suites/general.js';
import { createRng, type Rng } from '../../lib/repro/rng.js';

type Column =
  | { name: string; type: 'string' | 'int64' | 'int32' }
  | { name: string; type: 'list<string>' }
  | { name: string; type: 'choices' }; // struct<text: list<string>, label: list<string>>

const LIST = (name: string) => [
  { name, repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
  {
    name: 'element',
    type: 'BYTE_ARRAY' as const,
    converted_type: 'UTF8' as const,
    repetition_type: 'OPTIONAL' as const,
  },
];

const FEATURE: Record<Column['type'], unknown> = {
  string: { dtype: 'string', _type: 'Value' },
  int64: { dtype: 'int64', _type: 'Value' },
  int32: { dtype: 'int32', _type: 'Value' },
  'list<string>': { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' },
  choices: {
    text: { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' },
    label: { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' },
  },
};

/** A parquet file as `datasets` writes one (pyarrow schema, `huggingface` features metadata). */
export function hfParquet(columns: Column[], rows: Array<Record<string, unknown>>): Buffer {
  const schema: Array<Record<string, unknown>> = [{ name: 'schema', num_children: columns.length }];
  for (const c of columns) {
    if (c.type === 'string')
      schema.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    else if (c.type === 'int64') schema.push({ name: c.name, type: 'INT64', repetition_type: 'OPTIONAL' });
    else if (c.type === 'int32') schema.push({ name: c.name, type: 'INT32', repetition_type: 'OPTIONAL' });
    else if (c.type === 'list<string>') schema.push(...LIST(c.name));
    else schema.push({ name: c.name, repetition_type: 'OPTIONAL', num_children: 2 }, ...LIST('text'), ...LIST('label'));
  }
  const columnData = columns.map((c) => ({
    name: c.name,
    data: rows.map((r) => (c.type === 'int64' ? BigInt(r[c.name] as number) : r[c.name])),
  }));
  const features = Object.fromEntries(columns.map((c) => [c.name, FEATURE[c.type]]));
  return Buffer.from(
    parquetWriteBuffer({
      columnData,
      schema: schema as never,
      kvMetadata: [{ key: 'huggingface', value: JSON.stringify({ info: { features } }) }],
    }),
  );
}

const cardFor = (configs: Array<{ name: string; splits: Record<string, string> }>) =>
  '---\nconfigs:\n' +
  configs
    .map(
      (c) =>
        `- config_name: ${c.name}\n  data_files:\n` +
        Object.entries(c.splits)
          .map(([s, p]) => `  - split: ${s}\n    path: ${p}\n`)
          .join(''),
    )
    .join('') +
  '---\n\n# Fixture card\n';

const WORDS = [
  'river',
  'stone',
  'lamp',
  'garden',
  'window',
  'letter',
  'market',
  'bridge',
  'forest',
  'engine',
  'violin',
  'harbor',
  'candle',
  'ladder',
  'pocket',
  'mirror',
];
const word = (rng: Rng) => WORDS[rng.int(WORDS.length)];
const phrase = (rng: Rng, n: number) => Array.from({ length: n }, () => word(rng)).join(' ');

function arcRows(rng: Rng, n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) => {
    const k = 3 + rng.int(2);
    const labels = rng.next() < 0.2 ? ['1', '2', '3', '4'].slice(0, k) : ['A', 'B', 'C', 'D'].slice(0, k);
    return {
      id: `${prefix}_${i}`,
      question: `Which ${word(rng)} is near the ${word(rng)}?`,
      choices: { text: Array.from({ length: k }, () => phrase(rng, 1 + rng.int(3))), label: labels },
      answerKey: labels[rng.int(k)],
    };
  });
}

function splitsRepo(
  id: string,
  files: Record<string, Buffer | string>,
  card?: string,
  extra: FixtureFile[] = [],
): FixtureRepo {
  return {
    type: 'dataset',
    id,
    commits: [
      [
        ...(card ? [{ path: 'README.md', content: card }] : []),
        ...Object.entries(files).map(([path, content]) => ({ path, content, lfs: path.endsWith('.parquet') })),
        ...extra,
      ],
    ],
  };
}

/** allenai/ai2_arc: ARC-Easy/ and ARC-Challenge/ with train, validation, test parquet files and a card. */
function ai2Arc(rng: Rng): FixtureRepo {
  const cols: Column[] = [
    { name: 'id', type: 'string' },
    { name: 'question', type: 'string' },
    { name: 'choices', type: 'choices' },
    { name: 'answerKey', type: 'string' },
  ];
  const files: Record<string, Buffer> = {};
  for (const config of ['ARC-Challenge', 'ARC-Easy']) {
    for (const [split, n] of [
      ['train', 6],
      ['validation', 3],
      ['test', 8],
    ] as const)
      files[`${config}/${split}-00000-of-00001.parquet`] = hfParquet(cols, arcRows(rng, n, `${config}-${split}`));
  }
  const configs = ['ARC-Challenge', 'ARC-Easy'].map((name) => ({
    name,
    splits: { train: `${name}/train-*`, test: `${name}/test-*`, validation: `${name}/validation-*` },
  }));
  return splitsRepo('allenai/ai2_arc', files, cardFor(configs));
}

/** aps/super_glue (assumed layout): a loading script on main, boolq in the Hub's parquet conversion. */
function superGlue(rng: Rng): FixtureRepo {
  const cols: Column[] = [
    { name: 'question', type: 'string' },
    { name: 'passage', type: 'string' },
    { name: 'idx', type: 'int32' },
    { name: 'label', type: 'int64' },
  ];
  const rows = (n: number) =>
    Array.from({ length: n }, (_, idx) => ({
      question: `is the ${word(rng)} a ${word(rng)}`,
      passage: `The ${word(rng)} -- ${phrase(rng, 8)}.`,
      idx,
      label: rng.int(2),
    }));
  const converted: FixtureFile[] = [
    { path: 'boolq/train/0000.parquet', content: hfParquet(cols, rows(6)), lfs: true },
    { path: 'boolq/validation/0000.parquet', content: hfParquet(cols, rows(8)), lfs: true },
  ];
  return {
    type: 'dataset',
    id: 'aps/super_glue',
    commits: [
      converted,
      [
        { path: 'super_glue.py', content: '# a datasets loading script\n' },
        { path: 'README.md', content: '# SuperGLUE\n' },
      ],
    ],
    refs: { 'refs/convert/parquet': 0 },
  };
}

/** baber/piqa (assumed layout: `push_to_hub`'s data/<split>-00000-of-00001.parquet). */
function piqa(rng: Rng): FixtureRepo {
  const cols: Column[] = [
    { name: 'goal', type: 'string' },
    { name: 'sol1', type: 'string' },
    { name: 'sol2', type: 'string' },
    { name: 'label', type: 'int64' },
  ];
  const rows = (n: number) =>
    Array.from({ length: n }, () => ({
      goal: `To clean a ${word(rng)},`,
      sol1: `use a ${phrase(rng, 2)}.`,
      sol2: `use a ${phrase(rng, 3)}.`,
      label: rng.int(2),
    }));
  const files = {
    'data/train-00000-of-00001.parquet': hfParquet(cols, rows(6)),
    'data/validation-00000-of-00001.parquet': hfParquet(cols, rows(8)),
  };
  return splitsRepo(
    'baber/piqa',
    files,
    cardFor([{ name: 'default', splits: { train: 'data/train-*', validation: 'data/validation-*' } }]),
  );
}

/** Rowan/hellaswag: data/<split>-00000-of-00001.parquet (the repo's parquet conversion of 2024). */
function hellaswag(rng: Rng): FixtureRepo {
  const cols: Column[] = [
    { name: 'ind', type: 'int32' },
    { name: 'activity_label', type: 'string' },
    { name: 'ctx_a', type: 'string' },
    { name: 'ctx_b', type: 'string' },
    { name: 'ctx', type: 'string' },
    { name: 'endings', type: 'list<string>' },
    { name: 'source_id', type: 'string' },
    { name: 'split', type: 'string' },
    { name: 'split_type', type: 'string' },
    { name: 'label', type: 'string' },
  ];
  const rows = (n: number, split: string) =>
    Array.from({ length: n }, (_, ind) => {
      const wiki = rng.next() < 0.5;
      const ctxA = wiki
        ? `[header] How to fix a ${word(rng)} [title] Find the ${word(rng)}.`
        : `A man stands by the ${word(rng)}.`;
      const ctxB = wiki ? `[step] Look at the ${word(rng)}.` : 'he';
      return {
        ind,
        activity_label: wiki ? 'Home and Garden' : 'Fixing things',
        ctx_a: ctxA,
        ctx_b: ctxB,
        ctx: `${ctxA} ${ctxB}`,
        endings: Array.from({ length: 4 }, () => `${wiki ? '[substeps] ' : ''}walks to the ${phrase(rng, 2)}.`),
        source_id: `wikihow~${ind}`,
        split,
        split_type: 'indomain',
        label: split === 'test' ? '' : String(rng.int(4)),
      };
    });
  const files = {
    'data/train-00000-of-00001.parquet': hfParquet(cols, rows(6, 'train')),
    'data/validation-00000-of-00001.parquet': hfParquet(cols, rows(8, 'val')),
    'data/test-00000-of-00001.parquet': hfParquet(cols, rows(3, 'test')),
  };
  return splitsRepo(
    'Rowan/hellaswag',
    files,
    cardFor([
      { name: 'default', splits: { train: 'data/train-*', test: 'data/test-*', validation: 'data/validation-*' } },
    ]),
  );
}

/** allenai/winogrande: winogrande_xl/<split>-00000-of-00001.parquet. */
function winogrande(rng: Rng): FixtureRepo {
  const cols: Column[] = [
    { name: 'sentence', type: 'string' },
    { name: 'option1', type: 'string' },
    { name: 'option2', type: 'string' },
    { name: 'answer', type: 'string' },
  ];
  const names = ['Sarah', 'Maria', 'James', 'Robert'];
  const rows = (n: number) =>
    Array.from({ length: n }, () => {
      const [a, b] = [names[rng.int(2)], names[2 + rng.int(2)]];
      return {
        sentence: `${a} lent ${b} a ${word(rng)} because _ had two of them.`,
        option1: a,
        option2: b,
        answer: String(1 + rng.int(2)),
      };
    });
  const files = {
    'winogrande_xl/train-00000-of-00001.parquet': hfParquet(cols, rows(6)),
    'winogrande_xl/validation-00000-of-00001.parquet': hfParquet(cols, rows(8)),
  };
  return splitsRepo(
    'allenai/winogrande',
    files,
    cardFor([
      { name: 'winogrande_xl', splits: { train: 'winogrande_xl/train-*', validation: 'winogrande_xl/validation-*' } },
    ]),
  );
}

/** lighteval/siqa: data/<split>-00000-of-00001-<hash>.parquet. */
function siqa(rng: Rng): FixtureRepo {
  const cols: Column[] = [
    { name: 'context', type: 'string' },
    { name: 'question', type: 'string' },
    { name: 'answerA', type: 'string' },
    { name: 'answerB', type: 'string' },
    { name: 'answerC', type: 'string' },
    { name: 'label', type: 'string' },
  ];
  const rows = (n: number) =>
    Array.from({ length: n }, () => ({
      context: `Alex found a ${word(rng)} by the ${word(rng)}.`,
      question: 'What will Alex want to do next?',
      answerA: `keep the ${word(rng)}`,
      answerB: `sell the ${word(rng)}`,
      answerC: 'go home',
      label: String(1 + rng.int(3)),
    }));
  const files = {
    'data/train-00000-of-00001-da17dfc1120ed1ee.parquet': hfParquet(cols, rows(6)),
    'data/validation-00000-of-00001-90bb85eab85fcfa8.parquet': hfParquet(cols, rows(8)),
  };
  return splitsRepo(
    'lighteval/siqa',
    files,
    cardFor([{ name: 'default', splits: { train: 'data/train-*', validation: 'data/validation-*' } }]),
  );
}

/** allenai/openbookqa: main/<split>-00000-of-00001.parquet. */
function openbookqa(rng: Rng): FixtureRepo {
  const cols: Column[] = [
    { name: 'id', type: 'string' },
    { name: 'question_stem', type: 'string' },
    { name: 'choices', type: 'choices' },
    { name: 'answerKey', type: 'string' },
  ];
  const rows = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `obqa-${i}`,
      question_stem: `A ${word(rng)} can be used to`,
      choices: { text: Array.from({ length: 4 }, () => phrase(rng, 2)), label: ['A', 'B', 'C', 'D'] },
      answerKey: 'ABCD'[rng.int(4)],
    }));
  const files = {
    'main/train-00000-of-00001.parquet': hfParquet(cols, rows(6)),
    'main/validation-00000-of-00001.parquet': hfParquet(cols, rows(3)),
    'main/test-00000-of-00001.parquet': hfParquet(cols, rows(8)),
  };
  return splitsRepo(
    'allenai/openbookqa',
    files,
    cardFor([
      { name: 'main', splits: { train: 'main/train-*', validation: 'main/validation-*', test: 'main/test-*' } },
    ]),
  );
}

/** cais/mmlu: <subject>/{dev,validation,test}-00000-of-00001.parquet for all 57 subjects. */
function mmlu(rng: Rng, testPerSubject: number): FixtureRepo {
  const cols: Column[] = [
    { name: 'question', type: 'string' },
    { name: 'subject', type: 'string' },
    { name: 'choices', type: 'list<string>' },
    { name: 'answer', type: 'int64' },
  ];
  const files: Record<string, Buffer> = {};
  const subjects = Object.keys(MMLU_SUBJECTS);
  for (const subject of subjects) {
    const rows = (n: number) =>
      Array.from({ length: n }, () => ({
        question: `What is the ${word(rng)} of ${subject.replaceAll('_', ' ')}?`,
        subject,
        choices: Array.from({ length: 4 }, () => phrase(rng, 1 + rng.int(2))),
        answer: rng.int(4),
      }));
    files[`${subject}/dev-00000-of-00001.parquet`] = hfParquet(cols, rows(5));
    files[`${subject}/validation-00000-of-00001.parquet`] = hfParquet(cols, rows(2));
    files[`${subject}/test-00000-of-00001.parquet`] = hfParquet(cols, rows(testPerSubject));
  }
  const card = cardFor(
    subjects.map((s) => ({
      name: s,
      splits: { test: `${s}/test-*`, validation: `${s}/validation-*`, dev: `${s}/dev-*` },
    })),
  );
  return splitsRepo('cais/mmlu', files, card);
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** AdaptLLM/finance-tasks: <Task>/test.json (JSON lines) with input/options/gold_index, class_id (Headline), label (completion tasks). */
function financeTasks(rng: Rng): FixtureRepo {
  const sentiment = ['negative', 'neutral', 'positive'];
  const cls = (n: number, options: string[], extra: (i: number) => Record<string, unknown> = () => ({})) =>
    Array.from({ length: n }, (_, i) => ({
      id: i,
      input: `The ${word(rng)} market report says shares of ${word(rng)} rose.\nQuestion: what is the sentiment?\nAnswer:`,
      options,
      gold_index: rng.int(options.length),
      ...extra(i),
    }));
  const files = {
    'FPB/test.json': jsonl(cls(9, sentiment)),
    'FiQA_SA/test.json': jsonl(cls(6, sentiment)),
    'Headline/test.json': jsonl(cls(18, ['No', 'Yes'], (i) => ({ class_id: i % 9 }))),
    'NER/test.json': jsonl(
      Array.from({ length: 4 }, (_, i) => ({
        id: i,
        input: `${word(rng)} Corp hired Ann Lee in Boston.\nEntities:`,
        label: ['Ann Lee (person), Boston (location)'],
      })),
    ),
    'ConviFinQA/test.json': jsonl(
      Array.from({ length: 5 }, (_, i) => ({
        id: i,
        input: `Revenue was 120 in 2019 and 150 in 2020.\nQuestion: what was the change?\nAnswer:`,
        label: [i % 2 ? '30' : '25%'],
      })),
    ),
  };
  const card = cardFor([
    { name: 'ConvFinQA', splits: { test: 'ConviFinQA/test.json' } },
    { name: 'FiQA_SA', splits: { test: 'FiQA_SA/test.json' } },
    { name: 'FPB', splits: { test: 'FPB/test.json' } },
    { name: 'Headline', splits: { test: 'Headline/test.json' } },
    { name: 'NER', splits: { test: 'NER/test.json' } },
  ]);
  return splitsRepo('AdaptLLM/finance-tasks', files, card);
}

/** AdaptLLM/medicine-tasks: ChemProt/, MedQs/ (MQP), pubmed_qa/, RCT/, usmle/ test.json. */
function medicineTasks(rng: Rng): FixtureRepo {
  const cls = (n: number, options: string[]) =>
    Array.from({ length: n }, (_, i) => ({
      id: i,
      input: `Abstract: the ${word(rng)} reduced the ${word(rng)}.\nQuestion: which label fits?\nAnswer:`,
      options,
      gold_index: rng.int(options.length),
    }));
  const chemprot = [
    'upregulator',
    'downregulator',
    'agonist',
    'antagonist',
    'substrate',
    'inhibitor',
    'activator',
    'product',
    'cofactor',
    'modulator',
    'binder',
    'indirect',
    'undefined',
  ];
  const files = {
    'ChemProt/test.json': jsonl(cls(8, chemprot)),
    'MedQs/test.json': jsonl(cls(6, ['No', 'Yes'])),
    'pubmed_qa/test.json': jsonl(cls(6, ['yes', 'no', 'maybe'])),
    'RCT/test.json': jsonl(cls(7, ['background', 'objective', 'methods', 'results', 'conclusions'])),
    'usmle/test.json': jsonl(cls(6, ['aspirin', 'heparin', 'insulin', 'warfarin'])),
  };
  const card = cardFor([
    { name: 'ChemProt', splits: { test: 'ChemProt/test.json' } },
    { name: 'MQP', splits: { test: 'MedQs/test.json' } },
    { name: 'PubMedQA', splits: { test: 'pubmed_qa/test.json' } },
    { name: 'RCT', splits: { test: 'RCT/test.json' } },
    { name: 'USMLE', splits: { test: 'usmle/test.json' } },
  ]);
  return splitsRepo('AdaptLLM/medicine-tasks', files, card);
}

/** instruction-pretrain/ft-instruction-synthesizer-collection (assumed record field "text"): <Dataset>/shard/0000N.jsonl. */
function synthesizerCollection(rng: Rng): FixtureRepo {
  const example = () => {
    const a = word(rng);
    const b = word(rng);
    const context = `The ${a} stood beside the ${b}. Everyone in town knew the ${a} by name.`;
    return `<s> <CON> ${context} </CON>\n\n<QUE> What stood beside the ${b}? <ANS> The ${a} </END>\n\n<QUE> Where did the ${a} stand? <ANS> beside the ${b} </END></s>`;
  };
  const shard = (n: number) =>
    jsonl(Array.from({ length: n }, () => ({ text: Array.from({ length: 2 }, example).join('') })));
  const datasets = ['squad', 'race'];
  const files: Record<string, string> = {};
  for (const d of datasets) {
    files[`${d}/shard/00000.jsonl`] = shard(4);
    files[`${d}/shard/00001.jsonl`] = shard(3);
  }
  return splitsRepo(
    'instruction-pretrain/ft-instruction-synthesizer-collection',
    files,
    cardFor(datasets.map((d) => ({ name: d, splits: { train: `${d}/shard/*.jsonl` } }))),
  );
}

/** Every benchmark dataset repo, built from one seed. */
export function benchmarkFixtures(options: { seed?: number; mmluTestPerSubject?: number } = {}): FixtureRepo[] {
  const rng = createRng(options.seed ?? 13);
  return [
    ai2Arc(rng),
    superGlue(rng),
    piqa(rng),
    hellaswag(rng),
    winogrande(rng),
    siqa(rng),
    openbookqa(rng),
    mmlu(rng, options.mmluTestPerSubject ?? 2),
    financeTasks(rng),
    medicineTasks(rng),
    synthesizerCollection(rng),
  ];
}
