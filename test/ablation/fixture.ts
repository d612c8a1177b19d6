// A small ablation run folder as the pipeline leaves it (corpora.json, corpus JSONL files under
// stages/, manifest.json, config.json), built here so the export is tested without the pipeline.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../lib/repro/hash.js';
import { writeManifest } from '../../lib/repro/manifest.js';

export type FixtureCorpus = {
  name: string;
  description?: string;
  arm?: string;
  /** JSONL rows in lib/train's layout; each file is one array. */
  train: unknown[][];
  validation?: unknown[][];
  tokens?: number;
  documents?: number;
};

export type Fixture = { run: string; files: Record<string, { train: string[]; validation: string[] }> };

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');

export async function makeRunFolder(
  run: string,
  corpora: FixtureCorpus[],
  extra: { input?: string; withManifest?: boolean } = {},
): Promise<Fixture> {
  mkdirSync(run, { recursive: true });
  const files: Fixture['files'] = {};
  const entries = corpora.map((c) => {
    const stage = `stages/corpus-${c.name}-${sha256(JSON.stringify(c)).slice(0, 8)}`;
    mkdirSync(join(run, stage), { recursive: true });
    const write = (split: string, parts: unknown[][]) =>
      parts.map((rows, i) => {
        const rel = `${stage}/${split}${parts.length > 1 ? `-${i}` : ''}.jsonl`;
        writeFileSync(join(run, rel), jsonl(rows));
        return rel;
      });
    files[c.name] = { train: write('train', c.train), validation: write('validation', c.validation ?? []) };
    return {
      name: c.name,
      ...(c.description ? { description: c.description } : {}),
      files: files[c.name].train,
      ...(c.validation ? { validation: files[c.name].validation } : {}),
      documents: c.documents ?? c.train.reduce((s, rows) => s + rows.length, 0),
      ...(c.tokens !== undefined ? { tokens: c.tokens } : {}),
      ...(c.arm ? { arm: c.arm } : {}),
    };
  });
  writeFileSync(
    join(run, 'corpora.json'),
    JSON.stringify(
      {
        version: 1,
        run: 'runs/ablation-fixture',
        ...(extra.input ? { input: extra.input } : {}),
        corpora: entries,
        tokenizer: 'stages/tokenizer-0000/tokenizer.json',
      },
      null,
      2,
    ),
  );
  writeFileSync(join(run, 'config.json'), JSON.stringify({ input: 'brown', seed: 0 }, null, 2));
  if (extra.withManifest !== false) {
    await writeManifest(run, {
      command: ['ipt', 'ablation', '--fixture'],
      config: { input: 'brown' },
      seeds: { seed: 0 },
      startedAt: new Date(0),
      finishedAt: new Date(1000),
    });
  }
  return { run, files };
}

/** The text a pre-trainer sees for a row, written independently of the exporter. */
export function expectedText(row: unknown): string {
  const r = row as { text?: string; prompt?: string; response?: string; segments?: Array<{ text: string }> };
  if (typeof r.text === 'string') return r.text;
  if (typeof r.prompt === 'string') return r.prompt + r.response;
  return r.segments!.map((s) => s.text).join('');
}
