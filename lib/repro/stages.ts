// Content-addressed stage cache: a pipeline stage (chunk, synthesize, render, mix, train, eval,
// report) runs in a folder named by the hash of everything its output depends on. A finished stage
// has a `stage.json` written last, so re-running after a change recomputes only stages whose key
// changed, and a stage killed midway finds its folder without `stage.json` and resumes inside it.

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, sha256 } from './hash.js';
import { readJson, writeJson } from './files.js';

export type StageContext = {
  dir: string;
  /** True when an earlier attempt left this folder unfinished; the stage continues from its files. */
  resuming: boolean;
};

export type StageSpec<T> = {
  /** Short, file-name safe: "synthesize-rules", "train-vanilla-s1". */
  name: string;
  /** Bump when the stage's code changes meaning, so old caches are not reused. */
  version: number;
  /** Everything the output depends on: config, input hashes, seeds. Canonical JSON hashed. */
  key: unknown;
  run(ctx: StageContext): Promise<T>;
};

export type StageRecord<T> = {
  name: string;
  version: number;
  keyHash: string;
  key: unknown;
  result: T;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  resumed: boolean;
};

export type StageOutcome<T> = { dir: string; result: T; cached: boolean; record: StageRecord<T> };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function stageKeyHash(spec: Pick<StageSpec<unknown>, 'name' | 'version' | 'key'>): string {
  return sha256(canonicalJson({ name: spec.name, version: spec.version, key: spec.key })).slice(0, 16);
}

export function stageDir(cacheDir: string, spec: Pick<StageSpec<unknown>, 'name' | 'version' | 'key'>): string {
  if (!NAME.test(spec.name)) throw new Error(`stage name "${spec.name}" must be letters, digits, '.', '_' or '-'`);
  return join(cacheDir, `${spec.name}-${stageKeyHash(spec)}`);
}

/** The finished record of a stage, or undefined if it never finished with this key. */
export function readStage<T>(
  cacheDir: string,
  spec: Pick<StageSpec<T>, 'name' | 'version' | 'key'>,
): StageRecord<T> | undefined {
  const file = join(stageDir(cacheDir, spec), 'stage.json');
  if (!existsSync(file)) return undefined;
  try {
    const record = readJson(file) as StageRecord<T>;
    return record.keyHash === stageKeyHash(spec) ? record : undefined;
  } catch {
    return undefined; // a torn write cannot happen (atomic rename), but a hand-edited file can
  }
}

export async function runStage<T>(cacheDir: string, spec: StageSpec<T>): Promise<StageOutcome<T>> {
  const dir = stageDir(cacheDir, spec);
  const done = readStage<T>(cacheDir, spec);
  if (done) return { dir, result: done.result, cached: true, record: done };
  const resuming = existsSync(dir) && readdirSync(dir).length > 0;
  mkdirSync(dir, { recursive: true });
  const started = new Date();
  const result = await spec.run({ dir, resuming });
  const finished = new Date();
  const record: StageRecord<T> = {
    name: spec.name,
    version: spec.version,
    keyHash: stageKeyHash(spec),
    key: spec.key,
    result,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    seconds: (finished.getTime() - started.getTime()) / 1000,
    resumed: resuming,
  };
  writeJson(join(dir, 'stage.json'), record);
  return { dir, result, cached: false, record };
}
