// `ipt export`: the way out when a user outgrows the tiny engine. Reads the corpora an ablation run
// built (its corpora.json index) and writes each as a Hugging Face dataset folder of sharded JSON
// lines or Parquet files with a dataset card, plus LLaMA-Factory's dataset_info.json and a manifest.
//
// Documents stream from the run's files to the shards (Parquet one row group at a time), so a
// corpus of any size exports in bounded memory. The whole export is built in a hidden sibling
// folder and renamed into place at the end: OUT holds a complete export or the previous one, never
// half of one, and a re-run replaces it cleanly. Equal runs give byte-identical data files and cards.

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { readShard, CorruptShardError } from '../corpus/shards.js';
import { parseDocument } from '../train/data.js';
import { sha256File } from '../repro/hash.js';
import { commitStagingDir, createStagingDir, fsyncPath, writeFileAtomic } from '../repro/files.js';
import { writeManifest, type Manifest, type ManifestInput } from '../repro/manifest.js';
import { createProgress, type ProgressMode } from '../repro/progress.js';
import { projectRoot } from '../repro/project.js';
import {
  EXPORT_COLUMNS,
  datasetCard,
  exportIndex,
  llamaFactoryDatasetInfo,
  shardFileName,
  splitDir,
  type CardContext,
  type CardCorpus,
  type ExportFormat,
  type SplitName,
  type SplitSummary,
} from './export-card.js';

export {
  EXPORT_COLUMNS,
  shardFileName,
  splitDir,
  splitGlob,
  datasetCard,
  llamaFactoryDatasetInfo,
} from './export-card.js';
export type { ExportFormat, SplitName, SplitSummary, ShardSummary } from './export-card.js';

export const CORPORA_INDEX = 'corpora.json';
/** config.tool in an export's manifest.json: how a later export knows OUT is its own to replace. */
const EXPORT_TOOL = 'ipt export';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'parquet'];

export const EXPORT_DEFAULTS = {
  /** A shard closes before the document that would take its text past this many UTF-8 bytes (as push_to_hub's 500MB). */
  shardBytes: 500_000_000,
  /** Parquet row groups: at most this many documents ... */
  rowGroupDocuments: 1000,
  /** ... and about this many bytes of text, so a reader holds one group in memory. */
  rowGroupBytes: 32_000_000,
} as const;

/** One corpus in corpora.json; paths are relative to the run folder. */
export type CorpusEntry = {
  name: string;
  description?: string;
  files: string[];
  validation?: string[];
  documents?: number;
  tokens?: number;
  arm?: string;
};

/** The run folder's index of the corpora it built. */
export type CorporaIndex = {
  version: 1;
  run?: string;
  /** The raw-text source the run read (the --input spec); decides the card's license note. */
  input?: string;
  tokenizer?: string;
  corpora: CorpusEntry[];
};

export type ExportOptions = {
  /** The ablation run folder (holds corpora.json). */
  run: string;
  /** Default: RUN/export/<format>. */
  out?: string;
  format: ExportFormat;
  /** Names of the corpora to export; default all, in corpora.json's order. */
  corpora?: string[];
  /** Documents per shard at most. */
  shardDocuments?: number;
  /** UTF-8 bytes of text per shard at most (one document larger than this gets a shard of its own). */
  shardBytes?: number;
  rowGroupDocuments?: number;
  rowGroupBytes?: number;
  /** false, or a progress mode; default 'auto'. */
  progress?: boolean | ProgressMode;
  /** Recorded in the manifest. */
  command?: string[];
};

export type CorpusExport = CardCorpus & {
  /** The run's corpus files that were read, relative to the run folder. */
  sourceFiles: Array<{ path: string; sha256: string; bytes: number }>;
};

export type ExportResult = {
  out: string;
  format: ExportFormat;
  corpora: CorpusExport[];
  runManifestSha256: string | null;
  /** Things the user should know (count mismatches, masks dropped, repaired text). */
  notes: string[];
  manifest: Manifest;
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function defaultExportDir(run: string, format: ExportFormat): string {
  return join(run, 'export', format);
}

/** corpora.json, checked field by field; every error names the file and the field. */
export function readCorporaIndex(runDir: string): CorporaIndex {
  const path = join(runDir, CORPORA_INDEX);
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new Error(`run folder ${runDir} does not exist`);
  if (!existsSync(path)) {
    throw new Error(
      `${path} not found: ${runDir} is not an ablation run whose corpora are built (the ablation pipeline writes corpora.json once its corpora exist)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(
      `${path} is not valid JSON (${(err as Error).message}); it may have been cut off: rebuild the run's corpora`,
    );
  }
  const bad = (field: string, want: string) => new Error(`${path}: ${field} must be ${want}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('the file', 'a JSON object');
  const v = raw as Record<string, unknown>;
  if (v.version !== 1) throw bad('"version"', `1 (this kit reads version 1; got ${JSON.stringify(v.version)})`);
  const optString = (obj: Record<string, unknown>, key: string, field: string): string | undefined => {
    if (obj[key] === undefined) return undefined;
    if (typeof obj[key] !== 'string') throw bad(field, 'a string');
    return obj[key] as string;
  };
  const optCount = (obj: Record<string, unknown>, key: string, field: string): number | undefined => {
    if (obj[key] === undefined) return undefined;
    if (!Number.isInteger(obj[key]) || (obj[key] as number) < 0) throw bad(field, 'a whole number >= 0');
    return obj[key] as number;
  };
  const paths = (value: unknown, field: string, required: boolean): string[] | undefined => {
    if (value === undefined && !required) return undefined;
    if (
      !Array.isArray(value) ||
      (required && value.length === 0) ||
      !value.every((p) => typeof p === 'string' && p.length > 0)
    ) {
      throw bad(field, `a ${required ? 'non-empty ' : ''}list of file paths relative to the run folder`);
    }
    return value as string[];
  };
  if (!Array.isArray(v.corpora) || v.corpora.length === 0) throw bad('"corpora"', 'a non-empty list');
  const seen = new Set<string>();
  const corpora = v.corpora.map((c, i): CorpusEntry => {
    const at = `corpora[${i}]`;
    if (!c || typeof c !== 'object' || Array.isArray(c)) throw bad(at, 'an object');
    const e = c as Record<string, unknown>;
    if (typeof e.name !== 'string' || !NAME.test(e.name))
      throw bad(`${at}.name`, 'a name of letters, digits, ".", "_" and "-" (it names a folder)');
    if (seen.has(e.name)) throw new Error(`${path}: corpus name "${e.name}" appears twice`);
    seen.add(e.name);
    const entry: CorpusEntry = { name: e.name, files: paths(e.files, `${at}.files`, true)! };
    const validation = paths(e.validation, `${at}.validation`, false);
    if (validation) entry.validation = validation;
    const description = optString(e, 'description', `${at}.description`);
    if (description !== undefined) entry.description = description;
    const arm = optString(e, 'arm', `${at}.arm`);
    if (arm !== undefined) entry.arm = arm;
    const documents = optCount(e, 'documents', `${at}.documents`);
    if (documents !== undefined) entry.documents = documents;
    const tokens = optCount(e, 'tokens', `${at}.tokens`);
    if (tokens !== undefined) entry.tokens = tokens;
    return entry;
  });
  const index: CorporaIndex = { version: 1, corpora };
  const run = optString(v, 'run', '"run"');
  if (run !== undefined) index.run = run;
  const input = optString(v, 'input', '"input"');
  if (input !== undefined) index.input = input;
  const tokenizer = optString(v, 'tokenizer', '"tokenizer"');
  if (tokenizer !== undefined) index.tokenizer = tokenizer;
  return index;
}

/** The input spec from the run's config.json, when corpora.json does not name one. */
function inputFromConfig(runDir: string): string | undefined {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) return undefined;
  try {
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return typeof config.input === 'string' ? config.input : undefined;
  } catch {
    return undefined;
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

function kitVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** OUT may be replaced only when it is absent, empty, or an earlier export. */
function checkReplaceable(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`--out ${out} is a file; choose a folder`);
  if (readdirSync(out).length === 0) return;
  const manifest = join(out, 'manifest.json');
  let tool: unknown;
  try {
    tool = (JSON.parse(readFileSync(manifest, 'utf8')) as { config?: { tool?: unknown } }).config?.tool;
  } catch {
    tool = undefined;
  }
  if (tool !== EXPORT_TOOL) {
    throw new Error(
      `${out} exists and is not an earlier ipt export (no export manifest.json in it); choose another --out or remove it yourself`,
    );
  }
}

type ExportRow = { id: string; text: string; source: string };

interface ShardSink {
  add(row: ExportRow, textBytes: number): void;
  close(): void;
}

/** JSON lines written in ~1 MB chunks, fsynced on close. */
function jsonlSink(path: string): ShardSink {
  const fd = openSync(path, 'w');
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = () => {
    if (pending.length) writeSync(fd, Buffer.from(pending.join(''), 'utf8'));
    pending = [];
    pendingChars = 0;
  };
  return {
    add(row) {
      const line = `{"id":${JSON.stringify(row.id)},"text":${JSON.stringify(row.text)},"source":${JSON.stringify(row.source)}}\n`;
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= 1 << 20) flush();
    },
    close() {
      try {
        flush();
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}

const PARQUET_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: EXPORT_COLUMNS.length },
  ...EXPORT_COLUMNS.map(
    (name): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' }),
  ),
];

// What `datasets` writes into its own parquet files: the features, so a load gets exact types.
const HF_FEATURES = JSON.stringify({
  info: { features: Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, { dtype: 'string', _type: 'Value' }])) },
});

/** Parquet, one row group per `rowGroupDocuments` documents or `rowGroupBytes` of text. */
function parquetSink(
  path: string,
  options: { rowGroupDocuments: number; rowGroupBytes: number; createdBy: string },
): ShardSink {
  const pq = new ParquetWriter({
    writer: fileWriter(path),
    schema: PARQUET_SCHEMA,
    codec: 'SNAPPY',
    // min/max of document texts help no reader
    statistics: false,
    kvMetadata: [{ key: 'huggingface', value: HF_FEATURES }],
    createdBy: options.createdBy,
  });
  let rows: ExportRow[] = [];
  let bytes = 0;
  const writeGroup = () => {
    if (!rows.length) return;
    pq.write({
      columnData: EXPORT_COLUMNS.map((name) => ({ name, data: rows.map((r) => r[name]) })),
      rowGroupSize: rows.length,
    });
    rows = [];
    bytes = 0;
  };
  return {
    add(row, textBytes) {
      if (rows.length && (rows.length >= options.rowGroupDocuments || bytes + textBytes > options.rowGroupBytes))
        writeGroup();
      rows.push(row);
      bytes += textBytes;
    },
    close() {
      writeGroup();
      pq.finish();
      fsyncPath(path);
    },
  };
}

type SplitJob = { corpus: CorpusEntry; split: SplitName; files: string[] };

type Settings = {
  runDir: string;
  staging: string;
  format: ExportFormat;
  shardDocuments: number;
  shardBytes: number;
  rowGroupDocuments: number;
  rowGroupBytes: number;
  createdBy: string;
  onBytes: (n: number) => void;
};

// Well-formed JSON can still carry lone surrogates ("\ud800"); UTF-8 cannot. The kit's tokenizer
// reads them as U+FFFD, so that is what the export writes.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Streams one split of one corpus into shards under the staging folder. */
async function exportSplit(job: SplitJob, s: Settings): Promise<SplitSummary | undefined> {
  const { corpus, split } = job;
  const dir = join(s.staging, corpus.name, splitDir(split));
  mkdirSync(dir, { recursive: true });
  const summary: SplitSummary = {
    split,
    documents: 0,
    textBytes: 0,
    maskedDocuments: 0,
    emptyDocuments: 0,
    repairedDocuments: 0,
    shards: [],
  };
  const pending: Array<{ tmp: string; documents: number }> = [];
  let sink: ShardSink | undefined;
  let shardDocs = 0;
  let shardBytes = 0;
  const closeShard = () => {
    sink?.close();
    sink = undefined;
  };
  const openShard = () => {
    const tmp = join(dir, `.shard-${pending.length}.${s.format}`);
    sink =
      s.format === 'jsonl'
        ? jsonlSink(tmp)
        : parquetSink(tmp, {
            rowGroupDocuments: s.rowGroupDocuments,
            rowGroupBytes: s.rowGroupBytes,
            createdBy: s.createdBy,
          });
    pending.push({ tmp, documents: 0 });
    shardDocs = 0;
    shardBytes = 0;
  };
  try {
    for (const rel of job.files) {
      const file = resolve(s.runDir, rel);
      let lastBytes = 0;
      try {
        for await (const row of readShard(file)) {
          const where = row.line !== undefined ? `${file} line ${row.line}` : `${file} row ${row.row}`;
          const doc = parseDocument(row.value, where);
          if (!('segments' in doc))
            throw new Error(
              `${where}: pre-tokenized documents ({"ids"}) have no text to export; export the text corpora the run tokenized`,
            );
          let text = doc.segments.map((x) => x.text).join('');
          if (LONE_SURROGATE.test(text)) {
            text = text.replace(LONE_SURROGATES, '\uFFFD');
            summary.repairedDocuments++;
          }
          const bytes = Buffer.byteLength(text, 'utf8');
          if (sink && (shardDocs >= s.shardDocuments || shardBytes + bytes > s.shardBytes)) closeShard();
          if (!sink) openShard();
          sink!.add({ id: `${corpus.name}-${split}-${summary.documents}`, text, source: corpus.name }, bytes);
          shardDocs++;
          shardBytes += bytes;
          pending[pending.length - 1].documents++;
          summary.documents++;
          summary.textBytes += bytes;
          if (doc.segments.some((x) => !x.train)) summary.maskedDocuments++;
          if (text.length === 0) summary.emptyDocuments++;
          s.onBytes(bytes);
          lastBytes += bytes;
        }
      } catch (err) {
        const e = err as Error;
        const hint =
          err instanceof CorruptShardError
            ? '; the corpus file is corrupt or was cut off: rebuild that stage of the run'
            : '';
        throw new Error(`corpus "${corpus.name}" (${split}): ${e.message}${hint}`);
      }
      // progress counts text bytes as they pass; settle it to the file's size when the file is done
      s.onBytes(statSync(file).size - lastBytes);
    }
    closeShard();
  } catch (err) {
    try {
      sink?.close();
    } catch {
      // the first error is the one to report; the staging folder is removed anyway
    }
    throw err;
  }
  if (summary.documents === 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  pending.forEach((p, i) => {
    const name = shardFileName(split, i, pending.length, s.format);
    renameSync(p.tmp, join(dir, name));
    summary.shards.push({ path: `${corpus.name}/${splitDir(split)}/${name}`, documents: p.documents });
  });
  return summary;
}

function progressMode(p: ExportOptions['progress']): ProgressMode {
  if (p === false) return 'silent';
  if (p === true || p === undefined) return 'auto';
  return p;
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
  return value;
}

type Plan = {
  runDir: string;
  index: CorporaIndex;
  out: string;
  chosen: CorpusEntry[];
  jobs: SplitJob[];
};

/** Checks everything an export needs before anything is written: the index, the corpora asked for, every file, OUT. */
function planExport(options: ExportOptions): Plan {
  if (!EXPORT_FORMATS.includes(options.format))
    throw new Error(`unknown export format "${options.format}"; choose ${EXPORT_FORMATS.join(' or ')}`);
  const runDir = resolve(options.run);
  const index = readCorporaIndex(runDir);
  const out = resolve(options.out ?? defaultExportDir(runDir, options.format));
  let chosen = index.corpora;
  if (options.corpora?.length) {
    const names = new Set(index.corpora.map((c) => c.name));
    const unknown = options.corpora.filter((n) => !names.has(n));
    if (unknown.length)
      throw new Error(
        `no corpus ${unknown.map((n) => `"${n}"`).join(', ')} in ${join(runDir, CORPORA_INDEX)}; it has ${[...names].join(', ')}`,
      );
    const wanted = new Set(options.corpora);
    chosen = index.corpora.filter((c) => wanted.has(c.name));
  }
  if (isInside(runDir, out))
    throw new Error(
      `--out ${out} contains the run folder ${runDir}; replacing it would delete the run: choose another --out`,
    );
  const jobs: SplitJob[] = [];
  for (const corpus of chosen) {
    for (const [split, files] of [
      ['train', corpus.files],
      ['validation', corpus.validation ?? []],
    ] as Array<[SplitName, string[]]>) {
      for (const rel of files) {
        const file = resolve(runDir, rel);
        if (!existsSync(file) || !statSync(file).isFile()) {
          throw new Error(
            `corpus "${corpus.name}": ${split} file ${rel} (listed in ${join(runDir, CORPORA_INDEX)}) does not exist; the run is incomplete: finish it, or fix corpora.json`,
          );
        }
        if (isInside(file, out))
          throw new Error(
            `corpus "${corpus.name}": ${rel} lies inside --out ${out}, which the export replaces: choose another --out`,
          );
      }
      if (files.length) jobs.push({ corpus, split, files });
    }
  }
  checkReplaceable(out);
  return { runDir, index, out, chosen, jobs };
}

/** Every split of one corpus into the staging folder; notes what the user should know. */
async function exportCorpus(
  corpus: CorpusEntry,
  jobs: SplitJob[],
  s: Settings,
  notes: string[],
): Promise<CorpusExport> {
  const splits: SplitSummary[] = [];
  for (const job of jobs) {
    const summary = await exportSplit(job, s);
    if (summary) splits.push(summary);
    else notes.push(`corpus "${corpus.name}": the ${job.split} files hold no documents; the split is left out`);
  }
  const train = splits.find((x) => x.split === 'train');
  if (!train)
    throw new Error(
      `corpus "${corpus.name}": its files (${corpus.files.join(', ')}) hold no documents; nothing to export`,
    );
  if (corpus.documents !== undefined && corpus.documents !== train.documents) {
    notes.push(
      `corpus "${corpus.name}": corpora.json says ${corpus.documents} documents, its train files hold ${train.documents}`,
    );
  }
  const masked = splits.reduce((t, x) => t + x.maskedDocuments, 0);
  if (masked)
    notes.push(
      `corpus "${corpus.name}": ${masked} documents had loss-masked segments; the text column keeps all their text, the masks are not exported`,
    );
  const repaired = splits.reduce((t, x) => t + x.repairedDocuments, 0);
  if (repaired)
    notes.push(`corpus "${corpus.name}": ${repaired} documents held unpaired surrogates, written as U+FFFD`);
  const sourceFiles = [];
  for (const rel of [...corpus.files, ...(corpus.validation ?? [])]) {
    const file = resolve(s.runDir, rel);
    sourceFiles.push({ path: rel, sha256: await sha256File(file), bytes: statSync(file).size });
  }
  return {
    name: corpus.name,
    ...(corpus.description !== undefined ? { description: corpus.description } : {}),
    ...(corpus.arm !== undefined ? { arm: corpus.arm } : {}),
    ...(corpus.tokens !== undefined ? { tokens: corpus.tokens } : {}),
    splits,
    sourceFiles,
  };
}

/** The manifest's totals: overall, then "<corpus>.<split>.<figure>". */
function exportTotals(corpora: CorpusExport[]): Record<string, number> {
  const splits = corpora.flatMap((c) => c.splits.map((x) => ({ c, x })));
  const totals: Record<string, number> = {
    corpora: corpora.length,
    shards: splits.reduce((t, { x }) => t + x.shards.length, 0),
    documents: splits.reduce((t, { x }) => t + x.documents, 0),
    textBytes: splits.reduce((t, { x }) => t + x.textBytes, 0),
  };
  for (const { c, x } of splits) {
    totals[`${c.name}.${x.split}.documents`] = x.documents;
    totals[`${c.name}.${x.split}.shards`] = x.shards.length;
    totals[`${c.name}.${x.split}.textBytes`] = x.textBytes;
    if (x.maskedDocuments) totals[`${c.name}.${x.split}.maskedDocuments`] = x.maskedDocuments;
  }
  return totals;
}

/** Exports the run's corpora; see the module header for the layout and guarantees. */
export async function exportCorpora(options: ExportOptions): Promise<ExportResult> {
  const startedAt = new Date();
  const { runDir, index, out, chosen, jobs } = planExport(options);
  const shardDocuments = positiveInt(options.shardDocuments, 'shardDocuments', Number.MAX_SAFE_INTEGER);
  const shardBytes = positiveInt(
    options.shardBytes,
    'shardBytes',
    options.shardDocuments !== undefined ? Number.MAX_SAFE_INTEGER : EXPORT_DEFAULTS.shardBytes,
  );
  const rowGroupDocuments = positiveInt(
    options.rowGroupDocuments,
    'rowGroupDocuments',
    EXPORT_DEFAULTS.rowGroupDocuments,
  );
  const rowGroupBytes = positiveInt(options.rowGroupBytes, 'rowGroupBytes', EXPORT_DEFAULTS.rowGroupBytes);
  const version = kitVersion();
  const staging = createStagingDir(out);
  try {
    const totalBytes = jobs.reduce((s, j) => s + j.files.reduce((t, f) => t + statSync(resolve(runDir, f)).size, 0), 0);
    const progress = createProgress({
      label: 'export',
      total: totalBytes,
      bytes: true,
      mode: progressMode(options.progress),
    });
    let done = 0;
    const settings: Settings = {
      runDir,
      staging,
      format: options.format,
      shardDocuments,
      shardBytes,
      rowGroupDocuments,
      rowGroupBytes,
      createdBy: `ipt-kit ${version} (hyparquet-writer)`,
      onBytes: (n) => progress.update((done += n)),
    };
    const notes: string[] = [];
    const corpora: CorpusExport[] = [];
    for (const corpus of chosen)
      corpora.push(
        await exportCorpus(
          corpus,
          jobs.filter((j) => j.corpus === corpus),
          settings,
          notes,
        ),
      );
    progress.stop();

    const runManifest = join(runDir, 'manifest.json');
    const runManifestSha256 = existsSync(runManifest) ? await sha256File(runManifest) : null;
    if (!runManifestSha256)
      notes.push(`the run folder has no manifest.json; the export cannot name the exact run it came from`);
    const input = index.input ?? inputFromConfig(runDir);
    const ctx: CardContext = {
      format: options.format,
      kitVersion: version,
      run: index.run ?? basename(runDir),
      runManifestSha256,
      ...(input !== undefined ? { input } : {}),
      ...(index.tokenizer !== undefined ? { tokenizer: index.tokenizer } : {}),
    };
    const written = corpora.flatMap((c) => c.splits.flatMap((x) => x.shards.map((sh) => sh.path)));
    const write = (rel: string, text: string) => {
      writeFileAtomic(join(staging, rel), text);
      written.push(rel);
    };
    for (const c of corpora) write(`${c.name}/README.md`, datasetCard(c, ctx));
    write('dataset_info.json', JSON.stringify(llamaFactoryDatasetInfo(corpora), null, 2) + '\n');
    write('README.md', exportIndex(corpora, ctx));

    const inputs: ManifestInput[] = [
      { name: 'run', source: runDir, ...(runManifestSha256 ? { sha256: runManifestSha256 } : {}) },
      {
        name: CORPORA_INDEX,
        source: join(runDir, CORPORA_INDEX),
        sha256: await sha256File(join(runDir, CORPORA_INDEX)),
      },
      ...corpora.map((c) => ({ name: `corpus:${c.name}`, source: runDir, files: c.sourceFiles })),
    ];
    const manifest = await writeManifest(staging, {
      command: options.command ?? ['exportCorpora'],
      config: {
        tool: EXPORT_TOOL,
        run: runDir,
        format: options.format,
        corpora: corpora.map((c) => c.name),
        columns: [...EXPORT_COLUMNS],
        shardDocuments: options.shardDocuments ?? null,
        shardBytes: shardBytes === Number.MAX_SAFE_INTEGER ? null : shardBytes,
        ...(options.format === 'parquet' ? { rowGroupDocuments, rowGroupBytes, compression: 'SNAPPY' } : {}),
      },
      seeds: {},
      inputs,
      outputs: written.sort(),
      startedAt,
      totals: exportTotals(corpora),
      notes,
    });
    commitStagingDir(staging, out);
    return { out, format: options.format, corpora, runManifestSha256, notes, manifest };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
