// Benchmark documents from the Hugging Face Hub: one split of one dataset config, downloaded into the
// standard HF cache through lib/hub and read with the kit's shard readers (parquet, json, jsonl).
//
// Which files hold a split is found the way the `datasets` library finds it, without running code:
// 1. the dataset card's `configs:` YAML (data_files per split, glob patterns);
// 2. else the conventional names (`<config>/<split>-*`, `data/<split>-*`, `<split>.jsonl`, ...);
// 3. else the Hub's own parquet conversion, revision `refs/convert/parquet`
//    (`<config>/<split>/*.parquet`, or the older `<config>/*-<split>.parquet`), which is the only
//    way to read a dataset that still ships a loading script: the kit reads data files, never runs scripts.

import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import type { HubConfig } from '../../hub/config.js';
import { downloadPlanned, manifestInputOf, resolveSnapshot, type SnapshotPlan } from '../../hub/download.js';
import { readShard, shardFormat } from '../../corpus/shards.js';
import type { ManifestInput } from '../../repro/manifest.js';
import type { ProgressMode } from '../../repro/progress.js';
import type { DatasetRef, Doc } from './types.js';

export const PARQUET_CONVERSION = 'refs/convert/parquet';

export type LoadOptions = {
  /** Overrides of the environment's hub settings (endpoint, cache, offline, token). */
  hub?: Partial<HubConfig>;
  progress?: ProgressMode;
};

export type LoadedSplit = {
  docs: Doc[];
  /** What was read: repo, config, split, the revision asked for and the commit it resolved to, the files. */
  source: { repo: string; config: string | null; split: string; revision: string; commit: string; files: string[] };
  manifest: ManifestInput;
};

const DATA_EXTENSIONS = /\.(parquet|jsonl|json|jsonl\.gz|json\.gz)$/i;

type ConfigEntry = { config_name?: unknown; data_files?: unknown };

/** The YAML front matter of a dataset card, or {} when there is none. */
export function cardMetadata(readme: string): Record<string, unknown> {
  const m = /^---\r?\n([\s\S]*?)\r?\n---(\r?\n|$)/.exec(readme);
  if (!m) return {};
  try {
    const value = parseYaml(m[1]) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The data_files patterns of one config and split from a card's `configs:` list; undefined if the card does not say. */
export function cardDataFiles(
  metadata: Record<string, unknown>,
  config: string | null,
  split: string,
): string[] | undefined {
  const configs = metadata.configs;
  if (!Array.isArray(configs)) return undefined;
  const wanted = config ?? 'default';
  const entry =
    (configs as ConfigEntry[]).find((c) => c && (c.config_name ?? 'default') === wanted) ??
    (config === null && configs.length === 1 ? (configs[0] as ConfigEntry) : undefined);
  if (!entry) return undefined;
  const files = entry.data_files;
  const asList = (v: unknown): string[] =>
    typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  if (typeof files === 'string' || (Array.isArray(files) && files.every((f) => typeof f === 'string')))
    return split === 'train' ? asList(files) : [];
  if (Array.isArray(files)) {
    const match = files.find((f) => f && typeof f === 'object' && (f as { split?: unknown }).split === split) as
      | { path?: unknown }
      | undefined;
    return match ? asList(match.path) : [];
  }
  if (files && typeof files === 'object') return asList((files as Record<string, unknown>)[split]);
  return undefined;
}

/** The `datasets` library's conventional file names for a split, when the card names none. */
function conventionalPatterns(config: string | null, split: string): string[] {
  const dirs = config ? [config, `data/${config}`] : ['data', ''];
  return dirs.flatMap((d) => {
    const p = d ? `${d}/` : '';
    return [`${p}${split}-*`, `${p}${split}.*`, `${p}${split}/**`, `${p}*-${split}.*`, `${p}*-${split}-*`];
  });
}

function matchFiles(paths: string[], patterns: string[]): string[] {
  const isMatch = picomatch(patterns, { dot: false });
  return paths.filter((p) => DATA_EXTENSIONS.test(p) && isMatch(p)).sort();
}

/** Plain JSON-friendly values: parquet INT64 arrives as BigInt. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

async function readDocs(paths: string[]): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const path of paths) {
    for await (const row of readShard(path)) docs.push(plain(row.value) as Doc);
  }
  return docs;
}

function describe(ref: DatasetRef): string {
  return `dataset ${ref.path}${ref.name ? ` (config ${ref.name})` : ''}`;
}

async function readCardPatterns(
  plan: SnapshotPlan,
  ref: DatasetRef,
  split: string,
  options: LoadOptions,
): Promise<string[] | undefined> {
  if (!plan.files.some((f) => f.path === 'README.md')) return undefined;
  const got = await downloadPlanned(plan, { config: options.hub, progress: 'silent' }, ['README.md']);
  return cardDataFiles(cardMetadata(readFileSync(got.files[0].localPath, 'utf8')), ref.name, split);
}

/**
 * Downloads (or finds in the cache) and reads one split of a Hub dataset config. Errors name the
 * dataset, config and split, and say what the kit cannot read (a loading script with no parquet conversion).
 */
export async function loadHubSplit(ref: DatasetRef, split: string, options: LoadOptions = {}): Promise<LoadedSplit> {
  const request = { repo: ref.path, type: 'dataset' as const, config: options.hub };
  const plan = await resolveSnapshot({ ...request, revision: ref.revision });
  const paths = plan.files.map((f) => f.path);
  const fromCard = await readCardPatterns(plan, ref, split, options);
  let chosen =
    fromCard !== undefined ? matchFiles(paths, fromCard) : matchFiles(paths, conventionalPatterns(ref.name, split));
  let used = plan;
  if (chosen.length === 0) {
    const scripts = paths.filter((p) => p.endsWith('.py'));
    let converted: SnapshotPlan | undefined;
    try {
      converted = await resolveSnapshot({ ...request, revision: PARQUET_CONVERSION });
    } catch {
      converted = undefined;
    }
    const config = ref.name ?? 'default';
    const files = converted
      ? matchFiles(
          converted.files.map((f) => f.path),
          [`${config}/${split}/*.parquet`, `${config}/*-${split}.parquet`, `${config}/${split}-*.parquet`],
        )
      : [];
    if (!converted || files.length === 0) {
      const why = scripts.length
        ? `it ships a loading script (${scripts.join(', ')}), which the kit does not run, and`
        : `its files (${paths.slice(0, 8).join(', ')}${paths.length > 8 ? ', ...' : ''}) hold no data file for this split, and`;
      throw new Error(
        `${describe(ref)}, split "${split}": ${why} the Hub has no parquet conversion (${PARQUET_CONVERSION}) for it; the kit reads parquet, json and jsonl data files only`,
      );
    }
    chosen = files;
    used = converted;
  }
  const unreadable = chosen.filter((p) => !shardFormat(p));
  if (unreadable.length)
    throw new Error(`${describe(ref)}, split "${split}": the kit cannot read ${unreadable.join(', ')}`);
  const result = await downloadPlanned(used, { config: options.hub, progress: options.progress ?? 'silent' }, chosen);
  const byPath = new Map(result.files.map((f) => [f.path, f.localPath]));
  const docs = await readDocs(chosen.map((p) => byPath.get(p)!));
  if (docs.length === 0)
    throw new Error(`${describe(ref)}, split "${split}": the data files ${chosen.join(', ')} hold no rows`);
  return {
    docs,
    source: { repo: ref.path, config: ref.name, split, revision: used.revision, commit: used.commit, files: chosen },
    manifest: manifestInputOf(result, `${ref.path}${ref.name ? `:${ref.name}` : ''}:${split}`),
  };
}
