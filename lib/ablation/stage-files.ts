// The files inside a stage folder (lib/repro/stages.ts) of the ablation and the controlled experiment:
// JSON lines and JSON written atomically, and read through the kit's one reader, a damaged file named
// with what to do about it.

import { readJson, writeFileAtomic } from '../repro/files.js';
import { readJsonLines } from '../repro/jsonl.js';

const DAMAGED = 'the stage folder is damaged; delete it and run again';

export function writeJsonl(path: string, rows: readonly unknown[]): void {
  writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
}

/** The rows a stage wrote with `writeJsonl` (the stage's own type: it wrote them). */
export function readJsonl<T>(path: string): T[] {
  return readJsonLines(path, { fix: DAMAGED }).rows.map((r) => r.value as T);
}

/** A JSON file a stage wrote. */
export function readStageJson<T>(path: string): T {
  return readJson(path, { fix: DAMAGED }) as T;
}
