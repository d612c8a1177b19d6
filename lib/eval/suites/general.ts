// The general benchmarks the paper reports for its models pre-trained from scratch, defined as
// lm-evaluation-harness defines them (task names: arc_easy, arc_challenge, boolq, piqa, hellaswag,
// winogrande, social_iqa, openbookqa, and the mmlu group with its 57 subject tasks), so that the
// request strings are the harness's, byte for byte. The harness's task files were read for this; the
// code is the kit's own. Each definition names the harness task it mirrors.

import { pyStrip } from '../../synth/format.js';
import type { Doc, GroupDef, MultipleChoiceTaskDef } from './types.js';

function str(doc: Doc, field: string): string {
  const v = doc[field];
  if (typeof v !== 'string')
    throw new Error(`document field "${field}" is ${v === undefined ? 'missing' : `a ${typeof v}, not a string`}`);
  return v;
}

function int(doc: Doc, field: string): number {
  const v = doc[field];
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new Error(`document field "${field}" is ${JSON.stringify(v)}, not an integer`);
  return n;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${what} is not a list of strings`);
  return v as string[];
}

/** `choices: {text: [...], label: [...]}` as ARC and OpenBookQA store them. */
function labelledChoices(doc: Doc): { text: string[]; label: string[] } {
  const c = doc.choices as { text?: unknown; label?: unknown } | undefined;
  if (!c || typeof c !== 'object') throw new Error('document field "choices" is missing or not a {text, label} record');
  return { text: strings(c.text, 'choices.text'), label: strings(c.label, 'choices.label') };
}

// Python's str.isspace() characters (JavaScript's \s differs: it has U+FEFF, lacks U+001C-U+001F and U+0085).
const PY_LSTRIP = /^[\t\n\v\f\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Python's str.lstrip(). */
export function pyLstrip(s: string): string {
  return s.replace(PY_LSTRIP, '');
}

/** Python's str.capitalize(): first character upper-cased, the rest lower-cased. */
export function pyCapitalize(s: string): string {
  const first = [...s][0];
  if (first === undefined) return '';
  return first.toUpperCase() + s.slice(first.length).toLowerCase();
}

// ---- arc_easy / arc_challenge (tasks/arc/arc_easy.yaml, arc_challenge.yaml) ------------------------

function arc(name: 'arc_easy' | 'arc_challenge', config: 'ARC-Easy' | 'ARC-Challenge'): MultipleChoiceTaskDef {
  return {
    kind: 'multiple_choice',
    name,
    version: 1.0,
    tag: 'ai2_arc',
    dataset: { path: 'allenai/ai2_arc', name: config, revision: 'main' },
    splits: { training: 'train', validation: 'validation', test: 'test' },
    sampler: 'default',
    description: '',
    targetDelimiter: ' ',
    fewshotDelimiter: '\n\n',
    docToText: (doc) => `Question: ${str(doc, 'question')}\nAnswer:`,
    docToChoice: (doc) => labelledChoices(doc).text,
    docToTarget: (doc) => labelledChoices(doc).label.indexOf(str(doc, 'answerKey')),
    metrics: ['acc', 'acc_norm'],
    yaml: {
      doc_to_text: 'Question: {{question}}\nAnswer:',
      doc_to_target: '{{choices.label.index(answerKey)}}',
      doc_to_choice: '{{choices.text}}',
    },
  };
}

// ---- boolq (tasks/super_glue/boolq/default.yaml) ---------------------------------------------------

const boolq: MultipleChoiceTaskDef = {
  kind: 'multiple_choice',
  name: 'boolq',
  version: 2.0,
  tag: 'super-glue-lm-eval-v1',
  dataset: { path: 'aps/super_glue', name: 'boolq', revision: 'main' },
  splits: { training: 'train', validation: 'validation' },
  sampler: 'default',
  description: '',
  targetDelimiter: ' ',
  fewshotDelimiter: '\n\n',
  docToText: (doc) => `${str(doc, 'passage')}\nQuestion: ${str(doc, 'question')}?\nAnswer:`,
  docToChoice: () => ['no', 'yes'],
  docToTarget: (doc) => int(doc, 'label'),
  metrics: ['acc'],
  yaml: {
    doc_to_text: '{{passage}}\nQuestion: {{question}}?\nAnswer:',
    doc_to_target: 'label',
    doc_to_choice: ['no', 'yes'],
  },
};

// ---- piqa (tasks/piqa/piqa.yaml) -------------------------------------------------------------------

const piqa: MultipleChoiceTaskDef = {
  kind: 'multiple_choice',
  name: 'piqa',
  version: 1.0,
  dataset: { path: 'baber/piqa', name: null, revision: 'main' },
  splits: { training: 'train', validation: 'validation' },
  sampler: 'default',
  description: '',
  targetDelimiter: ' ',
  fewshotDelimiter: '\n\n',
  docToText: (doc) => `Question: ${str(doc, 'goal')}\nAnswer:`,
  docToChoice: (doc) => [str(doc, 'sol1'), str(doc, 'sol2')],
  docToTarget: (doc) => int(doc, 'label'),
  metrics: ['acc', 'acc_norm'],
  yaml: { doc_to_text: 'Question: {{goal}}\nAnswer:', doc_to_target: 'label', doc_to_choice: '{{[sol1, sol2]}}' },
};

// ---- hellaswag (tasks/hellaswag/hellaswag.yaml and utils.py) ---------------------------------------

/** hellaswag's preprocess(): strip, " [title]" -> ". ", drop [bracketed] WikiHow artifacts, one pass of "  " -> " ". */
export function hellaswagPreprocess(text: string): string {
  let t = pyStrip(text);
  t = t.replaceAll(' [title]', '. ');
  t = t.replace(/\[.*?\]/g, '');
  return t.replaceAll('  ', ' ');
}

/** hellaswag's process_docs: query from activity label and both contexts, preprocessed endings, gold. */
export function hellaswagProcessDoc(doc: Doc): Doc {
  const ctx = `${str(doc, 'ctx_a')} ${pyCapitalize(str(doc, 'ctx_b'))}`;
  return {
    ...doc,
    query: hellaswagPreprocess(`${str(doc, 'activity_label')}: ${ctx}`),
    choices: strings(doc.endings, 'endings').map(hellaswagPreprocess),
    gold: int(doc, 'label'),
  };
}

const hellaswag: MultipleChoiceTaskDef = {
  kind: 'multiple_choice',
  name: 'hellaswag',
  version: 1.0,
  tag: 'multiple_choice',
  dataset: { path: 'Rowan/hellaswag', name: null, revision: 'main' },
  splits: { training: 'train', validation: 'validation' },
  sampler: 'default',
  description: '',
  targetDelimiter: ' ',
  fewshotDelimiter: '\n\n',
  processDocs: hellaswagProcessDoc,
  docToText: (doc) => str(doc, 'query'),
  docToChoice: (doc) => strings(doc.choices, 'choices'),
  docToTarget: (doc) => int(doc, 'label'),
  metrics: ['acc', 'acc_norm'],
  yaml: {
    doc_to_text: '{{query}}',
    doc_to_target: '{{label}}',
    doc_to_choice: 'choices',
    process_docs: 'utils.process_docs',
  },
};

// ---- winogrande (tasks/winogrande/default.yaml and preprocess_winogrande.py) ------------------------
// Partial scoring: the two options fill the blank in two contexts; both are scored on the same
// continuation (the sentence after the blank), and doc_to_text gives the right context's index.

function blank(doc: Doc): number {
  const sentence = str(doc, 'sentence');
  const at = sentence.indexOf('_');
  if (at < 0) throw new Error(`winogrande sentence has no "_" blank: ${JSON.stringify(sentence)}`);
  return at;
}

const winogrande: MultipleChoiceTaskDef = {
  kind: 'multiple_choice',
  name: 'winogrande',
  version: 1.0,
  dataset: { path: 'allenai/winogrande', name: 'winogrande_xl', revision: 'main' },
  splits: { training: 'train', validation: 'validation' },
  sampler: 'default',
  description: '',
  targetDelimiter: ' ',
  fewshotDelimiter: '\n\n',
  docToText: (doc) => {
    const answer = str(doc, 'answer');
    if (answer !== '1' && answer !== '2')
      throw new Error(`winogrande answer must be "1" or "2", got ${JSON.stringify(answer)}`);
    return answer === '1' ? 0 : 1;
  },
  docToTarget: (doc) => pyStrip(str(doc, 'sentence').slice(blank(doc) + 1)),
  docToChoice: (doc) => {
    const at = blank(doc);
    const sentence = str(doc, 'sentence');
    return [str(doc, 'option1'), str(doc, 'option2')].map((o) => sentence.slice(0, at) + o);
  },
  metrics: ['acc'],
  yaml: {
    doc_to_text: 'preprocess_winogrande.doc_to_text',
    doc_to_target: 'preprocess_winogrande.doc_to_target',
    doc_to_choice: 'preprocess_winogrande.doc_to_choice',
  },
};

// ---- social_iqa (tasks/siqa/siqa.yaml) -------------------------------------------------------------

const socialIqa: MultipleChoiceTaskDef = {
  kind: 'multiple_choice',
  name: 'social_iqa',
  version: 0.0,
  dataset: { path: 'lighteval/siqa', name: null, revision: 'main' },
  splits: { training: 'train', validation: 'validation' },
  sampler: 'default',
  description: '',
  targetDelimiter: ' ',
  fewshotDelimiter: '\n\n',
  docToText: (doc) => `Q: ${str(doc, 'context')} ${str(doc, 'question')}\nA:`,
  docToChoice: (doc) => [str(doc, 'answerA'), str(doc, 'answerB'), str(doc, 'answerC')],
  docToTarget: (doc) => int(doc, 'label') - 1,
  metrics: ['acc'],
  yaml: {
    doc_to_text: 'Q: {{context}} {{question}}\nA:',
    doc_to_target: '{{ (label|int) - 1 }}',
    doc_to_choice: '{{[answerA, answerB, answerC]}}',
  },
};

// ---- openbookqa (tasks/openbookqa/openbookqa.yaml) --------------------------------------------------

const openbookqa: MultipleChoiceTaskDef = {
  kind: 'multiple_choice',
  name: 'openbookqa',
  version: 1.0,
  dataset: { path: 'allenai/openbookqa', name: 'main', revision: 'main' },
  splits: { training: 'train', validation: 'validation', test: 'test' },
  sampler: 'default',
  description: '',
  targetDelimiter: ' ',
  fewshotDelimiter: '\n\n',
  docToText: (doc) => str(doc, 'question_stem'),
  docToChoice: (doc) => labelledChoices(doc).text,
  docToTarget: (doc) => labelledChoices(doc).label.indexOf(pyLstrip(str(doc, 'answerKey'))),
  metrics: ['acc', 'acc_norm'],
  yaml: {
    doc_to_text: 'question_stem',
    doc_to_target: '{{choices.label.index(answerKey.lstrip())}}',
    doc_to_choice: '{{choices.text}}',
  },
};

// ---- mmlu (tasks/mmlu/default: _default_template_yaml, mmlu_<subject>.yaml, _mmlu*.yaml) -----------

/** The 57 subjects and the category lm-eval files each under (its `tag`). */
export const MMLU_SUBJECTS: Record<string, 'stem' | 'other' | 'social_sciences' | 'humanities'> = {
  abstract_algebra: 'stem',
  anatomy: 'stem',
  astronomy: 'stem',
  business_ethics: 'other',
  clinical_knowledge: 'other',
  college_biology: 'stem',
  college_chemistry: 'stem',
  college_computer_science: 'stem',
  college_mathematics: 'stem',
  college_medicine: 'other',
  college_physics: 'stem',
  computer_security: 'stem',
  conceptual_physics: 'stem',
  econometrics: 'social_sciences',
  electrical_engineering: 'stem',
  elementary_mathematics: 'stem',
  formal_logic: 'humanities',
  global_facts: 'other',
  high_school_biology: 'stem',
  high_school_chemistry: 'stem',
  high_school_computer_science: 'stem',
  high_school_european_history: 'humanities',
  high_school_geography: 'social_sciences',
  high_school_government_and_politics: 'social_sciences',
  high_school_macroeconomics: 'social_sciences',
  high_school_mathematics: 'stem',
  high_school_microeconomics: 'social_sciences',
  high_school_physics: 'stem',
  high_school_psychology: 'social_sciences',
  high_school_statistics: 'stem',
  high_school_us_history: 'humanities',
  high_school_world_history: 'humanities',
  human_aging: 'other',
  human_sexuality: 'social_sciences',
  international_law: 'humanities',
  jurisprudence: 'humanities',
  logical_fallacies: 'humanities',
  machine_learning: 'stem',
  management: 'other',
  marketing: 'other',
  medical_genetics: 'other',
  miscellaneous: 'other',
  moral_disputes: 'humanities',
  moral_scenarios: 'humanities',
  nutrition: 'other',
  philosophy: 'humanities',
  prehistory: 'humanities',
  professional_accounting: 'other',
  professional_law: 'humanities',
  professional_medicine: 'other',
  professional_psychology: 'social_sciences',
  public_relations: 'social_sciences',
  security_studies: 'social_sciences',
  sociology: 'social_sciences',
  us_foreign_policy: 'social_sciences',
  virology: 'other',
  world_religions: 'humanities',
};

function mmluSubject(subject: string): MultipleChoiceTaskDef {
  const category = MMLU_SUBJECTS[subject];
  return {
    kind: 'multiple_choice',
    name: `mmlu_${subject}`,
    alias: subject,
    version: 1.0,
    tag: `mmlu_${category}_tasks`,
    dataset: { path: 'cais/mmlu', name: subject, revision: 'main' },
    splits: { test: 'test', fewshot: 'dev' },
    sampler: 'first_n',
    description: `The following are multiple choice questions (with answers) about ${subject.replaceAll('_', ' ')}.\n\n`,
    targetDelimiter: ' ',
    fewshotDelimiter: '\n\n',
    docToText: (doc) => {
      const c = strings(doc.choices, 'choices');
      return `${pyStrip(str(doc, 'question'))}\nA. ${c[0] ?? ''}\nB. ${c[1] ?? ''}\nC. ${c[2] ?? ''}\nD. ${c[3] ?? ''}\nAnswer:`;
    },
    docToChoice: () => ['A', 'B', 'C', 'D'],
    docToTarget: (doc) => int(doc, 'answer'),
    metrics: ['acc'],
    yaml: {
      doc_to_text:
        '{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:',
      doc_to_target: 'answer',
      doc_to_choice: ['A', 'B', 'C', 'D'],
    },
  };
}

const MMLU_CATEGORIES = ['stem', 'other', 'social_sciences', 'humanities'] as const;

/** mmlu -> mmlu_stem, mmlu_other, mmlu_social_sciences, mmlu_humanities -> subjects; acc weighted by size. */
export const MMLU_GROUPS: GroupDef[] = [
  { name: 'mmlu', version: 2, children: MMLU_CATEGORIES.map((c) => `mmlu_${c}`), metrics: ['acc'], weightBySize: true },
  ...MMLU_CATEGORIES.map((c) => ({
    name: `mmlu_${c}`,
    alias: c,
    version: 2,
    children: Object.keys(MMLU_SUBJECTS)
      .filter((s) => MMLU_SUBJECTS[s] === c)
      .map((s) => `mmlu_${s}`),
    metrics: ['acc' as const],
    weightBySize: true,
  })),
];

export const GENERAL_TASKS: MultipleChoiceTaskDef[] = [
  arc('arc_easy', 'ARC-Easy'),
  arc('arc_challenge', 'ARC-Challenge'),
  boolq,
  piqa,
  hellaswag,
  winogrande,
  socialIqa,
  openbookqa,
  ...Object.keys(MMLU_SUBJECTS).map(mmluSubject),
];
