// Where a checkpoint to convert comes from: a local folder, or a Hub model repo downloaded through
// lib/hub into the standard cache. From the Hub only what conversion reads is fetched: config.json,
// the generation and tokenizer files, and the safetensors weights (the index first, then the shards
// it names); PyTorch .bin files, other formats and extra files are never downloaded.

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { downloadPlanned, manifestInputOf, resolveSnapshot, type DownloadOptions } from '../hub/download.js';
import { parseRepo } from '../hub/repo.js';
import type { ManifestInput } from '../repro/manifest.js';
import { sha256File } from '../repro/hash.js';
import { checkpointFiles, INDEX_FILE, SINGLE_FILE } from './checkpoint.js';
import { UnsupportedModelError } from './hf-config.js';

export type SourceOptions = Pick<
  DownloadOptions,
  'config' | 'retries' | 'retryDelayMs' | 'idleTimeoutMs' | 'concurrency' | 'progress'
> & {
  /** Hub revision (branch, tag or commit). */
  revision?: string;
};

export type ResolvedSource = { dir: string; input: ManifestInput };

const METADATA_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.model',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
  INDEX_FILE,
];

/** A local folder as is; anything else must be a Hub repo id, fetched into the cache. */
export async function resolveSource(source: string, options: SourceOptions = {}): Promise<ResolvedSource> {
  if (existsSync(source)) {
    if (!statSync(source).isDirectory())
      throw new Error(`${source} is a file: give the checkpoint's folder (with config.json and the safetensors files)`);
    if (options.revision !== undefined) throw new Error(`--revision applies to Hub repos; ${source} is a local folder`);
    const dir = resolve(source);
    const files = [];
    for (const f of ['config.json', ...checkpointFiles(dir)])
      files.push({ path: f, sha256: await sha256File(resolve(dir, f)), bytes: statSync(resolve(dir, f)).size });
    return { dir, input: { name: 'checkpoint', source: dir, files } };
  }
  if (/^[.~/]/.test(source) || !/^[^/\s]+\/[^/\s]+$/.test(source.replace(/^hf:/, ''))) {
    throw new Error(`${source} is neither a folder here nor a Hub repo id ("org/name")`);
  }
  const repo = parseRepo(source);
  const request = { ...options, repo: repo.id, revision: options.revision ?? 'main' };
  const plan = await resolveSnapshot(request);
  const listed = new Set(plan.files.map((f) => f.path));
  if (!listed.has('config.json'))
    throw new Error(`${repo.id}@${plan.revision} has no config.json: not a Hugging Face model repo`);
  const metadata = METADATA_FILES.filter((f) => listed.has(f));
  const first = await downloadPlanned(plan, options, metadata);
  let weights: string[];
  if (listed.has(INDEX_FILE)) weights = checkpointFiles(first.snapshotDir);
  else if (listed.has(SINGLE_FILE)) weights = [SINGLE_FILE];
  else if ([...listed].some((f) => f.endsWith('.bin')))
    throw new UnsupportedModelError(
      `${repo.id}@${plan.revision} has only PyTorch .bin weights; the converter reads safetensors`,
    );
  else
    throw new Error(
      `${repo.id}@${plan.revision} has no ${SINGLE_FILE} and no ${INDEX_FILE}: not a Hugging Face safetensors checkpoint`,
    );
  const missing = weights.filter((w) => !listed.has(w));
  if (missing.length)
    throw new Error(
      `${repo.id}@${plan.revision}: ${INDEX_FILE} names files the repo does not have: ${missing.join(', ')}`,
    );
  const all = await downloadPlanned(plan, options, [...metadata, ...weights]);
  return { dir: all.snapshotDir, input: manifestInputOf(all, 'checkpoint') };
}
