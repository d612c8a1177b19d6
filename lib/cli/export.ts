// ipt command for leaving the tiny engine: export a run's corpora for real trainers.

import {
  exportCorpora,
  defaultExportDir,
  EXPORT_DEFAULTS,
  EXPORT_FORMATS,
  type ExportFormat,
} from '../ablation/export.js';
import { formatBytes } from '../repro/progress.js';
import { intOption, requireOption, UsageError, type Command } from './command.js';

/** "500MB", "2GB", "64k" or a plain number of bytes (powers of 1000, as the hub counts). */
export function parseByteSize(raw: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g|t)?b?$/i.exec(raw.trim());
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[(m?.[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = m ? Math.round(Number(m[1]) * scale) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a size such as 500MB, 2GB or 1000000, got "${raw}"`);
  return n;
}

export const exportCommands: Command[] = [
  {
    name: 'export',
    summary:
      "Export an ablation run's corpora as Hugging Face datasets (sharded JSON lines or Parquet) for real trainers.",
    description:
      'Reads RUN/corpora.json and writes, per corpus, OUT/<corpus>/data/<split>/<split>-XXXXX-of-YYYYY.<format> with columns\n' +
      'id, text, source (text: what the pre-trainer saw) and a dataset card (README.md) that `datasets.load_dataset` reads.\n' +
      'OUT/dataset_info.json registers every corpus for LLaMA-Factory (stage: pt); OUT/manifest.json records hashes and counts.\n' +
      'OUT is replaced as a whole when the export is complete; an earlier export there is replaced, anything else is refused.',
    options: {
      run: { type: 'string', value: 'DIR', description: 'the ablation run folder (holds corpora.json)' },
      format: {
        type: 'string',
        value: 'jsonl|parquet',
        description: 'jsonl (what Dolma/OLMo read) or parquet (compact, typed)',
      },
      out: { type: 'string', value: 'DIR', description: 'export folder (default: RUN/export/<format>)' },
      corpus: { type: 'string', multiple: true, value: 'NAME', description: 'export only this corpus (default: all)' },
      'shard-documents': { type: 'string', value: 'N', description: 'at most N documents per shard' },
      'shard-bytes': {
        type: 'string',
        value: 'SIZE',
        description: `at most SIZE of text per shard (default ${formatBytes(EXPORT_DEFAULTS.shardBytes)} unless --shard-documents is given)`,
      },
      quiet: { type: 'boolean', description: 'no progress output' },
    },
    examples: [
      'ipt export --run runs/ablation --format parquet',
      'ipt export --run runs/ablation --format jsonl --corpus vanilla --corpus instruct-rules --shard-documents 10000 --out exports/jsonl',
    ],
    async run({ values }, io) {
      const run = requireOption(values, 'run');
      const format = requireOption(values, 'format') as ExportFormat;
      if (!EXPORT_FORMATS.includes(format))
        throw new UsageError(`--format must be ${EXPORT_FORMATS.join(' or ')}, got "${format}"`);
      const shardDocuments = intOption(values, 'shard-documents');
      const shardBytes =
        values['shard-bytes'] === undefined ? undefined : parseByteSize(String(values['shard-bytes']), 'shard-bytes');
      const out = (values.out as string | undefined) ?? defaultExportDir(run, format);
      const result = await exportCorpora({
        run,
        out,
        format,
        corpora: values.corpus as string[] | undefined,
        shardDocuments,
        shardBytes,
        progress: values.quiet ? false : 'auto',
        command: [
          'ipt',
          'export',
          ...Object.entries(values).flatMap(([k, v]) =>
            v === undefined || v === false
              ? []
              : v === true
                ? [`--${k}`]
                : Array.isArray(v)
                  ? v.flatMap((x) => [`--${k}`, x])
                  : [`--${k}`, String(v)],
          ),
        ],
      });
      for (const note of result.notes) io.stderr(`ipt export: note: ${note}\n`);
      for (const c of result.corpora) {
        const splits = c.splits
          .map(
            (s) => `${s.split} ${s.documents} documents in ${s.shards.length} shard${s.shards.length === 1 ? '' : 's'}`,
          )
          .join(', ');
        io.stdout(`${c.name}: ${splits}\n`);
      }
      io.stdout(
        `wrote ${result.corpora.length} corpora as ${format} to ${out} (dataset cards, dataset_info.json, manifest.json)\n`,
      );
    },
  },
];
