// Downloads files of hub repos into the standard Hugging Face cache (see cache.ts), the way Python's
// huggingface_hub does, with what the kit adds: include/exclude globs, resumable and verified transfers,
// an offline mode that resolves branches through refs/, and a manifest record of what was used.
//
// Division of labour with @huggingface/hub: the library makes the JSON API calls (revision -> commit
// via modelInfo/datasetInfo, the file tree via listFiles, pathsInfo for named files), through a fetch
// that adds the token, so its requests and their pagination stay the library's. The file transfer
// itself is plain fetch: the library's downloadFileToCacheDir neither resumes an `.incomplete` file,
// nor verifies checksums, nor retries, and it names snapshots by each file's last commit rather than
// by the revision's commit as Python does. Transfers go to /resolve/<commit>/<path>, following the
// hub's redirect to its CDN by hand so the token is never sent to another host.

import { createHash, type Hash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  unlinkSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { datasetInfo, HubApiError, listFiles, modelInfo, pathsInfo } from '@huggingface/hub';
import { isProcessAlive, readJson, writeJson } from '../repro/files.js';
import type { ManifestInput } from '../repro/manifest.js';
import { createProgress, formatBytes, type Progress, type ProgressMode } from '../repro/progress.js';
import { hubConfig, scrubToken, type HubConfig } from './config.js';
import {
  blobPath,
  checkRepoPath,
  isMarkedMissing,
  linkSnapshotFile,
  listSnapshotFiles,
  markMissing,
  repoCacheDir,
  resolveCachedCommit,
  snapshotDir,
  writeRef,
} from './cache.js';
import { fileFilter, isLiteralPath } from './globs.js';
import {
  downloadCommand,
  hubDesignation,
  isCommitHash,
  parseRepo,
  repoSource,
  resolveUrl,
  type RepoRef,
  type RepoType,
} from './repo.js';

export type HubErrorCode = 'offline-missing' | 'unauthorized' | 'not-found' | 'checksum' | 'network' | 'bad-response';

/** Every failure of lib/hub: a message for the user (what happened, what to do), never the token. */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    readonly repo?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

/** One file of a snapshot as the hub lists it. */
export type RemoteFile = {
  path: string;
  size: number;
  /** Blob name in the cache: the LFS sha256, else the git blob sha1. */
  etag: string;
  /** LFS files: the sha256 the hub gives, checked after download. */
  sha256?: string;
  /** Git blob sha1 of a regular file, checked after download. */
  gitOid?: string;
  lfs: boolean;
};

export type SnapshotPlan = {
  repo: RepoRef;
  revision: string;
  commit: string;
  files: RemoteFile[];
  /** True when the plan came from the cache alone (offline, or the hub unreachable). */
  fromCache: boolean;
  warning?: string;
};

export type DownloadedFile = {
  path: string;
  /** snapshots/<commit>/<path>: what readers open. */
  localPath: string;
  blobPath: string;
  etag: string;
  bytes: number;
  sha256: string;
  fromCache: boolean;
};

export type DownloadResult = {
  repo: string;
  type: RepoType;
  revision: string;
  commit: string;
  snapshotDir: string;
  files: DownloadedFile[];
  fromCache: boolean;
  warning?: string;
  bytesDownloaded: number;
  seconds: number;
};

export type DownloadProgressEvent = {
  repo: string;
  file: string;
  fileBytes: number;
  fileTotal: number;
  bytes: number;
  total: number;
  filesDone: number;
  filesTotal: number;
};

export type HubRequestOptions = {
  /** "org/name" or "datasets/org/name". */
  repo: string;
  type?: RepoType;
  /** Branch, tag or commit; default "main". */
  revision?: string;
  include?: string[];
  exclude?: string[];
  /** Overrides of what the environment says (endpoint, token, offline, cacheDir). */
  config?: Partial<HubConfig>;
  /** Attempts per file after the first, for dropped connections and 5xx answers. */
  retries?: number;
  /** First wait between attempts; doubles each time (capped at 16x). */
  retryDelayMs?: number;
  /** A transfer that receives nothing for this long is cut and retried. */
  idleTimeoutMs?: number;
  /** The longest Retry-After (of a 429 or 503 answer) waited for; a longer one fails, saying when to try again. */
  maxRetryAfterMs?: number;
};

export type DownloadOptions = HubRequestOptions & {
  /** Files transferred at once. */
  concurrency?: number;
  /** Byte progress: a bar in a terminal, a bar redrawn in place in a notebook, lines elsewhere ('silent' for none). */
  progress?: ProgressMode;
  /** Called as bytes arrive, for a caller that shows or records progress its own way. */
  onProgress?: (event: DownloadProgressEvent) => void;
};

type Ctx = {
  cfg: HubConfig;
  repo: RepoRef;
  repoDir: string;
  retries: number;
  retryDelayMs: number;
  idleTimeoutMs: number;
  maxRetryAfterMs: number;
  /** The Retry-After of the last API answer that gave one (the library's errors do not carry headers). */
  apiRetryAfterMs?: number;
};

function context(options: HubRequestOptions): Ctx {
  const cfg = hubConfig(options.config);
  const repo = parseRepo(options.repo, options.type);
  return {
    cfg,
    repo,
    repoDir: repoCacheDir(cfg.cacheDir, repo),
    retries: options.retries ?? 5,
    retryDelayMs: options.retryDelayMs ?? 1000,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 300_000,
  };
}

function label(repo: RepoRef): string {
  return repo.type === 'dataset' ? `dataset ${repo.id}` : `model ${repo.id}`;
}

/**
 * A fetch for @huggingface/hub calls that adds the token for the hub's own origin only, and keeps the
 * Retry-After of a 429 or 503 answer for withRetries.
 */
function hubFetch(ctx: Ctx): typeof fetch {
  const { cfg } = ctx;
  const origin = new URL(cfg.endpoint).origin;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    if (cfg.token && new URL(url).origin === origin) headers.set('Authorization', `Bearer ${cfg.token}`);
    const res = await fetch(input, { ...init, headers });
    if (res.status === 429 || res.status === 503) ctx.apiRetryAfterMs = retryAfterMs(res.headers.get('retry-after'));
    return res;
  };
}

/** The wait a Retry-After header asks for (seconds, or an HTTP date), in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before attempt `attempt + 1`: doubling from retryDelayMs (capped at 16x), or longer when the server asks. */
function retryWait(ctx: Ctx, attempt: number, serverAsks: number | undefined): number {
  return Math.max(Math.min(ctx.retryDelayMs * 2 ** attempt, ctx.retryDelayMs * 16), serverAsks ?? 0);
}

function tooLongWait(ctx: Ctx, ms: number, status: string): string {
  return `the hub answered ${status} and asks to wait ${Math.ceil(ms / 1000)} s before retrying (more than ${Math.round(ctx.maxRetryAfterMs / 1000)} s); try again later`;
}

function isNetworkError(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    (err as NodeJS.ErrnoException)?.code === 'ECONNREFUSED' ||
    (err as Error)?.name === 'AbortError'
  );
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Maps an API failure to a HubError that says what to do. */
function apiError(ctx: Ctx, err: unknown, revision: string, what = 'access'): HubError {
  const { repo, cfg } = ctx;
  const name = label(repo);
  if (err instanceof HubError) return err;
  if (err instanceof HubApiError) {
    const s = err.statusCode;
    if (s === 401 || s === 403) {
      return new HubError(
        'unauthorized',
        `${cfg.endpoint} refused ${what} to ${name} (HTTP ${s}): the repo is gated or private. ` +
          (cfg.token
            ? 'The token in HF_TOKEN has no access: accept the conditions on the repo page with the account of that token, or use a token of an account that has access.'
            : `Set HF_TOKEN to an access token (https://huggingface.co/settings/tokens) of an account that accepted the repo's conditions, then run: ${downloadCommand(repo)}`),
        repo.id,
        s,
      );
    }
    if (s === 404) {
      return new HubError(
        'not-found',
        `${cfg.endpoint} has no ${name} at revision "${revision}" (HTTP 404): check the repo id${repo.type === 'model' ? ' (add --dataset for a dataset repo)' : ''} and the revision.`,
        repo.id,
        s,
      );
    }
    return new HubError(
      'bad-response',
      scrubToken(`${cfg.endpoint} answered HTTP ${s} for ${name}: ${err.message}`, cfg.token),
      repo.id,
      s,
    );
  }
  if (isNetworkError(err)) {
    return new HubError(
      'network',
      `cannot reach ${cfg.endpoint} for ${name} (${describeNetworkError(err)}); set HF_HUB_OFFLINE=1 to use only the cache.`,
      repo.id,
    );
  }
  return new HubError(
    'bad-response',
    scrubToken(`${name}: ${(err as Error)?.message ?? String(err)}`, cfg.token),
    repo.id,
  );
}

/** Retries an API call on network failures and 5xx/429 answers, waiting at least what Retry-After asks. */
async function withRetries<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    ctx.apiRetryAfterMs = undefined;
    try {
      return await fn();
    } catch (err) {
      const transient =
        isNetworkError(err) || (err instanceof HubApiError && (err.statusCode >= 500 || err.statusCode === 429));
      if (!transient || attempt >= Math.min(ctx.retries, 2)) throw err;
      const asked = ctx.apiRetryAfterMs;
      if (asked !== undefined && asked > ctx.maxRetryAfterMs) {
        throw new HubError(
          'network',
          `${label(ctx.repo)}: ${tooLongWait(ctx, asked, `HTTP ${(err as HubApiError).statusCode}`)}.`,
          ctx.repo.id,
          (err as HubApiError).statusCode,
        );
      }
      await sleep(retryWait(ctx, attempt, asked));
    }
  }
}

async function revisionCommit(ctx: Ctx, revision: string): Promise<string> {
  const params = {
    name: ctx.repo.id,
    hubUrl: ctx.cfg.endpoint,
    revision,
    fetch: hubFetch(ctx),
    additionalFields: ['sha' as const],
  };
  const info = await withRetries(ctx, () => (ctx.repo.type === 'dataset' ? datasetInfo(params) : modelInfo(params)));
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !isCommitHash(sha)) {
    throw new HubError(
      'bad-response',
      `${ctx.cfg.endpoint} gave no commit for ${label(ctx.repo)} at "${revision}"`,
      ctx.repo.id,
    );
  }
  return sha;
}

type Entry = { type: string; path: string; size: number; oid?: string; lfs?: { oid: string; size: number } };

function toRemote(e: Entry): RemoteFile {
  checkRepoPath(e.path);
  if (e.lfs) return { path: e.path, size: e.lfs.size, etag: e.lfs.oid, sha256: e.lfs.oid, lfs: true };
  if (!e.oid) throw new Error(`the hub listed ${e.path} without an oid`);
  return { path: e.path, size: e.size, etag: e.oid, gitOid: e.oid, lfs: false };
}

async function remoteFiles(ctx: Ctx, commit: string, include: string[], exclude: string[]): Promise<RemoteFile[]> {
  const common = { repo: hubDesignation(ctx.repo), hubUrl: ctx.cfg.endpoint, revision: commit, fetch: hubFetch(ctx) };
  let keep = fileFilter(include, exclude);
  let entries: Entry[] = [];
  let listed = false;
  // Named files need no listing of the whole tree (a dataset can hold a million files).
  if (include.length > 0 && include.every(isLiteralPath)) {
    entries = (await withRetries(ctx, () => pathsInfo({ ...common, paths: include }))) as Entry[];
    const found = new Map(entries.map((e) => [e.path, e.type]));
    const missing = include.filter((p) => !found.has(p));
    if (missing.length) {
      for (const p of missing) markMissing(ctx.repoDir, commit, p);
      throw new HubError(
        'not-found',
        `${label(ctx.repo)} at commit ${commit.slice(0, 12)} has no file ${missing.map((p) => `"${p}"`).join(', ')} (HTTP 404 from paths-info); check the path, or list the repo's files on its page.`,
        ctx.repo.id,
        404,
      );
    }
    listed = include.every((p) => found.get(p) === 'file');
    // a named folder means everything under it
    if (!listed)
      keep = fileFilter(
        include.map((p) => (found.get(p) === 'directory' ? `${p}/` : p)),
        exclude,
      );
  }
  if (!listed) {
    entries = [];
    await withRetries(ctx, async () => {
      entries = [];
      for await (const e of listFiles({ ...common, recursive: true })) entries.push(e as Entry);
    });
  }
  const files = entries.filter((e) => e.type === 'file' && keep(e.path)).map(toRemote);
  if (files.length === 0) {
    const sample = entries
      .filter((e) => e.type === 'file')
      .slice(0, 8)
      .map((e) => e.path);
    throw new HubError(
      'not-found',
      `no file of ${label(ctx.repo)} matches include [${include.join(', ')}] exclude [${exclude.join(', ')}]; it has ${sample.length ? sample.join(', ') + (entries.length > 8 ? ', ...' : '') : 'no files'}.`,
      ctx.repo.id,
    );
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function offlineMissing(ctx: Ctx, revision: string, include: string[], why: string): HubError {
  return new HubError(
    'offline-missing',
    `${label(ctx.repo)} (revision "${revision}") ${why} in the Hugging Face cache at ${ctx.cfg.cacheDir}. ` +
      `Run \`${downloadCommand(ctx.repo, revision, include)}\` with network access (HF_HUB_OFFLINE unset) first.`,
    ctx.repo.id,
  );
}

/** What the cache alone says a revision holds (offline mode, or the hub unreachable). */
function cachedPlan(ctx: Ctx, revision: string, include: string[], exclude: string[]): SnapshotPlan {
  const commit = resolveCachedCommit(ctx.repoDir, revision);
  if (!commit) throw offlineMissing(ctx, revision, include, existsSync(ctx.repoDir) ? 'has no snapshot' : 'is not');
  const cached = listSnapshotFiles(ctx.repoDir, commit);
  const isFolder = (p: string) => cached.some((f) => f.path.startsWith(`${p}/`));
  const keep = fileFilter(
    include.map((p) => (isLiteralPath(p) && isFolder(p) ? `${p}/` : p)),
    exclude,
  );
  const files = cached.filter((f) => keep(f.path));
  const present = new Set(cached.map((f) => f.path));
  for (const p of include.filter(isLiteralPath)) {
    if (present.has(p) || isFolder(p)) continue;
    if (isMarkedMissing(ctx.repoDir, commit, p)) {
      throw new HubError(
        'not-found',
        `${label(ctx.repo)} at commit ${commit.slice(0, 12)} has no file "${p}" (the hub said so when it was last asked).`,
        ctx.repo.id,
        404,
      );
    }
    throw offlineMissing(ctx, revision, include, `has no file "${p}"`);
  }
  if (files.length === 0)
    throw offlineMissing(ctx, revision, include, `has no file matching [${include.join(', ') || '*'}]`);
  return {
    repo: ctx.repo,
    revision,
    commit,
    fromCache: true,
    files: files.map((f) => ({
      path: f.path,
      size: f.bytes,
      etag: f.etag,
      lfs: /^[0-9a-f]{64}$/.test(f.etag),
      ...(/^[0-9a-f]{64}$/.test(f.etag) ? { sha256: f.etag } : { gitOid: f.etag }),
    })),
  };
}

/**
 * Resolves a revision to its commit and the files to fetch, writing refs/<revision> so that a later
 * offline run resolves the branch to this commit. Offline (HF_HUB_OFFLINE), or when the hub cannot be
 * reached, answers from the cache, or fails naming the repo and the command that would fetch it.
 */
export async function resolveSnapshot(options: HubRequestOptions): Promise<SnapshotPlan> {
  const ctx = context(options);
  return planWith(ctx, options);
}

async function planWith(ctx: Ctx, options: HubRequestOptions): Promise<SnapshotPlan> {
  const revision = options.revision ?? 'main';
  const include = options.include ?? [];
  const exclude = options.exclude ?? [];
  if (ctx.cfg.offline) return cachedPlan(ctx, revision, include, exclude);
  let commit: string;
  try {
    commit = await revisionCommit(ctx, revision);
  } catch (err) {
    const e = apiError(ctx, err, revision);
    if (e.code === 'network' && resolveCachedCommit(ctx.repoDir, revision)) {
      const plan = cachedPlan(ctx, revision, include, exclude);
      return { ...plan, warning: `${e.message} Using the cached commit ${plan.commit.slice(0, 12)}.` };
    }
    throw e;
  }
  mkdirSync(ctx.repoDir, { recursive: true });
  writeRef(ctx.repoDir, revision, commit);
  let files: RemoteFile[];
  try {
    files = await remoteFiles(ctx, commit, include, exclude);
  } catch (err) {
    throw apiError(ctx, err, commit, 'the file list');
  }
  return { repo: ctx.repo, revision, commit, files, fromCache: false };
}

// ---- transfers -------------------------------------------------------------------------------

/** One process at a time per blob: in this process by a promise chain, across processes by a lock file. */
const inProcess = new Map<string, Promise<unknown>>();

async function withBlobLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  const previous = inProcess.get(lockFile) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = previous.then(() => mine);
  inProcess.set(lockFile, chained);
  await previous.catch(() => undefined);
  try {
    await acquireFileLock(lockFile);
    try {
      return await fn();
    } finally {
      rmSync(lockFile, { force: true });
    }
  } finally {
    release();
    if (inProcess.get(lockFile) === chained) inProcess.delete(lockFile);
  }
}

async function acquireFileLock(lockFile: string): Promise<void> {
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let waited = 0; ; waited++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
    } catch {
      // vanished between our open and read: try again
    }
    // A lock left by a process that died (killed mid-download) is taken over; its .incomplete resumes.
    if (Number.isInteger(holder) && !isProcessAlive(holder)) {
      try {
        unlinkSync(lockFile);
      } catch {
        // another waiter took it over first
      }
      continue;
    }
    await sleep(Math.min(50 * (waited + 1), 500));
  }
}

// ---- cached blobs ----------------------------------------------------------------------------
//
// A blob in the cache is trusted only after its content was hashed and matched its id (sha256 of LFS
// files, git sha1 of regular ones): the right size alone says nothing (a file overwritten, a copy gone
// wrong). Hashing runs at about 600 MB/s here, so a 15 GB model would cost some 25 s on every run: a
// blob is hashed once, and the kit's note (beside its lock, in .locks/, which huggingface_hub ignores)
// keeps the size, inode, modification and change times it had then. Any write to the file changes its
// change time (which no program can set back), so the note no longer matches and the blob is hashed again.

type BlobStamp = { size: number; ino: number; mtimeMs: number; ctimeMs: number };
type VerifiedNote = BlobStamp & { etag: string; sha256: string };

function noteDir(ctx: Ctx): string {
  return join(ctx.cfg.cacheDir, '.locks', basename(ctx.repoDir));
}

function verifiedNotePath(ctx: Ctx, etag: string): string {
  return join(noteDir(ctx), `${etag}.ipt.verified`);
}

function stampOf(path: string): BlobStamp {
  const st = statSync(path);
  return { size: st.size, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

function sameStamp(a: BlobStamp, b: BlobStamp): boolean {
  return a.size === b.size && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** Records that the blob at `blob` was hashed and holds `sha256` (after a download, or a check). */
function noteVerified(ctx: Ctx, etag: string, blob: string, sha256: string): void {
  const note: VerifiedNote = { etag, sha256, ...stampOf(blob) };
  writeJson(verifiedNotePath(ctx, etag), note);
}

type BlobCheck = { ok: true; sha256: string } | { ok: false; kind: string; expected: string; got: string };

/** Whether a cached blob holds what its id says: from the note while the file is unchanged, else by hashing it. */
async function checkCachedBlob(ctx: Ctx, file: RemoteFile, blob: string): Promise<BlobCheck> {
  const notePath = verifiedNotePath(ctx, file.etag);
  try {
    const note = readJson(notePath) as VerifiedNote;
    if (note.etag === file.etag && typeof note.sha256 === 'string' && sameStamp(note, stampOf(blob)))
      return { ok: true, sha256: note.sha256 };
  } catch {
    // no note, or a damaged one: hash the blob
  }
  const stampBefore = stampOf(blob);
  const sha256 = createHash('sha256');
  const sha1 = file.gitOid ? createHash('sha1').update(`blob ${stampBefore.size}\0`) : undefined;
  await hashPrefix(blob, sha1 ? [sha256, sha1] : [sha256]);
  const got256 = sha256.digest('hex');
  const got = file.sha256 ? got256 : sha1!.digest('hex');
  const expected = file.sha256 ?? file.gitOid!;
  if (got !== expected) {
    rmSync(notePath, { force: true });
    return { ok: false, kind: file.sha256 ? 'LFS sha256' : 'git sha1', expected, got };
  }
  if (sameStamp(stampBefore, stampOf(blob))) noteVerified(ctx, file.etag, blob, got256);
  return { ok: true, sha256: got256 };
}

function damagedBlobMessage(
  ctx: Ctx,
  file: RemoteFile,
  blob: string,
  check: Extract<BlobCheck, { ok: false }>,
): string {
  return `the cached copy of ${file.path} of ${label(ctx.repo)} (${blob}) is damaged: its ${check.kind} is ${check.got}, expected ${check.expected}`;
}

type Transfer = { file: RemoteFile; onBytes: (fileBytes: number) => void };

class RetryableError extends Error {
  constructor(
    message: string,
    /** What the server's Retry-After asked for, in ms. */
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

/** GET with the hub's redirects followed by hand: the token goes to the hub's origin only. */
async function getFile(ctx: Ctx, url: string, offset: number, signal: AbortSignal): Promise<Response> {
  const hubOrigin = new URL(ctx.cfg.endpoint).origin;
  let current = url;
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (offset > 0) headers.Range = `bytes=${offset}-`;
    if (ctx.cfg.token && new URL(current).origin === hubOrigin) headers.Authorization = `Bearer ${ctx.cfg.token}`;
    const res = await fetch(current, { headers, redirect: 'manual', signal });
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      current = new URL(res.headers.get('location')!, current).href;
      continue;
    }
    return res;
  }
  throw new HubError('bad-response', `too many redirects for ${url}`, ctx.repo.id);
}

async function hashPrefix(path: string, hashes: Hash[]): Promise<void> {
  for await (const chunk of createReadStream(path)) for (const h of hashes) h.update(chunk as Buffer);
}

/**
 * Fetches one blob into blobs/<etag>.incomplete, resuming what an earlier attempt (or run) left,
 * checks size and hash, and renames it into place. A cut connection is retried from where it stopped;
 * a hash mismatch deletes the partial file, and is retried from zero once when it followed a resume.
 */
async function fetchBlob(ctx: Ctx, commit: string, t: Transfer): Promise<{ sha256: string; downloaded: number }> {
  const { file } = t;
  const blob = blobPath(ctx.repoDir, file.etag);
  const partial = `${blob}.incomplete`;
  const url = resolveUrl(ctx.cfg.endpoint, ctx.repo, commit, file.path);
  mkdirSync(dirname(blob), { recursive: true });
  let downloaded = 0;
  let restartedAfterMismatch = false;
  for (let attempt = 0; ; attempt++) {
    let offset = existsSync(partial) ? statSync(partial).size : 0;
    if (offset > file.size) {
      rmSync(partial, { force: true });
      offset = 0;
    }
    const sha256 = createHash('sha256');
    const sha1 = file.gitOid ? createHash('sha1').update(`blob ${file.size}\0`) : undefined;
    const hashes = sha1 ? [sha256, sha1] : [sha256];
    try {
      if (offset < file.size || file.size === 0) {
        const controller = new AbortController();
        let timer = setTimeout(() => controller.abort(), ctx.idleTimeoutMs);
        try {
          const res = await getFile(ctx, url, offset, controller.signal);
          if (res.status === 401 || res.status === 403) {
            await res.body?.cancel();
            throw apiErrorForFile(ctx, res.status, file.path);
          }
          if (res.status === 404) {
            await res.body?.cancel();
            markMissing(ctx.repoDir, commit, file.path);
            throw new HubError(
              'not-found',
              `${label(ctx.repo)} at commit ${commit.slice(0, 12)} has no file "${file.path}" (HTTP 404${res.headers.get('x-error-code') ? ' ' + res.headers.get('x-error-code') : ''}); it may have been deleted: run the download again.`,
              ctx.repo.id,
              404,
            );
          }
          if (res.status === 416) {
            await res.body?.cancel();
            rmSync(partial, { force: true });
            throw new RetryableError('the server refused to resume (416)');
          }
          if (res.status >= 500 || res.status === 429) {
            await res.body?.cancel();
            throw new RetryableError(
              `HTTP ${res.status}`,
              res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : undefined,
            );
          }
          if (res.status !== 200 && res.status !== 206) {
            await res.body?.cancel();
            throw new HubError(
              'bad-response',
              `unexpected HTTP ${res.status} for ${file.path} of ${label(ctx.repo)}`,
              ctx.repo.id,
              res.status,
            );
          }
          if (res.status === 206) {
            const start = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
            if (start !== offset) {
              await res.body?.cancel();
              rmSync(partial, { force: true });
              throw new RetryableError(`the server resumed at byte ${start}, not ${offset}`);
            }
          } else if (offset > 0) {
            offset = 0; // the server ignored the range: start over
          }
          // the size the server says it sends in all, to tell a short file from a cut connection
          const served =
            res.status === 206
              ? Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1])
              : offset + Number(res.headers.get('content-length') ?? NaN);
          if (offset > 0) await hashPrefix(partial, hashes);
          const fh = await open(partial, offset > 0 ? 'a' : 'w');
          let have = offset;
          // network chunks are small (16-64 KB): write them in batches of about 1 MB
          let batch: Uint8Array[] = [];
          let batched = 0;
          const flush = async () => {
            if (batched === 0) return;
            const data = batch.length === 1 ? batch[0] : Buffer.concat(batch, batched);
            batch = [];
            batched = 0;
            await fh.write(data);
          };
          try {
            if (res.body) {
              for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
                clearTimeout(timer);
                timer = setTimeout(() => controller.abort(), ctx.idleTimeoutMs);
                if (have + chunk.length > file.size)
                  throw sizeMismatch(ctx, file, `the server sent more than the ${file.size} bytes the hub listed`);
                for (const h of hashes) h.update(chunk);
                batch.push(chunk);
                batched += chunk.length;
                if (batched >= 1 << 20) await flush();
                have += chunk.length;
                downloaded += chunk.length;
                t.onBytes(have);
              }
            }
          } finally {
            // what arrived before a cut is kept on disk, so the next attempt resumes after it
            await flush();
            await fh.sync();
            await fh.close();
          }
          // a body that ended cleanly was complete as far as the server knows: its file is shorter than listed
          if (have < file.size && Number.isFinite(served) && served !== file.size)
            throw sizeMismatch(
              ctx,
              file,
              `the server's file has ${served} bytes but the hub listed ${file.size} bytes`,
            );
          if (have < file.size) throw new RetryableError(`the connection ended after ${have} of ${file.size} bytes`);
        } finally {
          clearTimeout(timer);
        }
      } else {
        await hashPrefix(partial, hashes);
      }
      const got256 = sha256.digest('hex');
      const gotGit = sha1?.digest('hex');
      const expected = file.sha256 ?? file.gitOid;
      const got = file.sha256 ? got256 : gotGit;
      if (expected && got !== expected) {
        rmSync(partial, { force: true });
        t.onBytes(0);
        if (offset > 0 && !restartedAfterMismatch) {
          restartedAfterMismatch = true; // the kept part may have come from another version: once more from zero
          continue;
        }
        throw new HubError(
          'checksum',
          `${file.path} of ${label(ctx.repo)} failed its ${file.sha256 ? 'LFS sha256' : 'git sha1'} check (expected ${expected}, got ${got}); the partial file was deleted. Run the download again; if it fails again the hub or a proxy is serving corrupt data.`,
          ctx.repo.id,
        );
      }
      renameSync(partial, blob);
      noteVerified(ctx, file.etag, blob, got256);
      return { sha256: got256, downloaded };
    } catch (err) {
      if (err instanceof HubError) {
        if (err.code === 'checksum') rmSync(partial, { force: true }); // bytes that cannot be the file: nothing to resume
        throw err;
      }
      const transient = err instanceof RetryableError || isNetworkError(err) || (err as Error)?.name === 'AbortError';
      if (!transient)
        throw new HubError(
          'bad-response',
          scrubToken(`${file.path} of ${label(ctx.repo)}: ${(err as Error).message}`, ctx.cfg.token),
          ctx.repo.id,
        );
      const asked = err instanceof RetryableError ? err.waitMs : undefined;
      const kept = () => (existsSync(partial) ? statSync(partial).size : 0);
      const keptNote = () =>
        kept() > 0
          ? `${formatBytes(kept())} of ${formatBytes(file.size)} are kept in ${partial} and the next run resumes from there.`
          : 'nothing was received; the next run starts from the beginning.';
      if (asked !== undefined && asked > ctx.maxRetryAfterMs) {
        throw new HubError(
          'network',
          `downloading ${file.path} of ${label(ctx.repo)}: ${tooLongWait(ctx, asked, (err as RetryableError).message)}; ${keptNote()}`,
          ctx.repo.id,
        );
      }
      if (attempt >= ctx.retries) {
        throw new HubError(
          'network',
          `downloading ${file.path} of ${label(ctx.repo)} failed ${attempt + 1} times (${err instanceof RetryableError ? err.message : describeNetworkError(err)}); ${keptNote()}`,
          ctx.repo.id,
        );
      }
      await sleep(retryWait(ctx, attempt, asked));
    }
  }
}

function sizeMismatch(ctx: Ctx, file: RemoteFile, what: string): HubError {
  return new HubError(
    'checksum',
    `${file.path} of ${label(ctx.repo)}: ${what}; the partial file was deleted. Run the download again; if it fails again the hub's listing and its file disagree (tell the repo's owners).`,
    ctx.repo.id,
  );
}

function apiErrorForFile(ctx: Ctx, status: number, path: string): HubError {
  return apiError(ctx, new HubApiError(path, status), 'main', `the download of "${path}"`);
}

/** Fetches the plan's files (or the given subset) into the cache; cached blobs are not fetched again. */
export async function downloadPlanned(
  plan: SnapshotPlan,
  options: Omit<DownloadOptions, 'repo' | 'type' | 'revision' | 'include' | 'exclude'> = {},
  only?: string[],
): Promise<DownloadResult> {
  const started = performance.now();
  const ctx = context({ ...options, repo: hubDesignation(plan.repo) });
  const wanted = only ? new Set(only) : undefined;
  const files = plan.files.filter((f) => !wanted || wanted.has(f.path));
  const result: DownloadedFile[] = new Array(files.length);
  const todo: number[] = [];
  const warnings: string[] = plan.warning ? [plan.warning] : [];
  for (const [i, f] of files.entries()) {
    const blob = blobPath(ctx.repoDir, f.etag);
    let size = -1;
    try {
      size = statSync(blob).size;
    } catch {
      // not cached
    }
    const check = size === f.size ? await checkCachedBlob(ctx, f, blob) : undefined;
    if (check?.ok) {
      const localPath = linkSnapshotFile(ctx.repoDir, plan.commit, f.path, f.etag);
      result[i] = {
        path: f.path,
        localPath,
        blobPath: blob,
        etag: f.etag,
        bytes: f.size,
        sha256: check.sha256,
        fromCache: true,
      };
      continue;
    }
    if (check && plan.fromCache) {
      throw new HubError(
        'checksum',
        `${damagedBlobMessage(ctx, f, blob, check)}. Run \`${downloadCommand(ctx.repo, plan.revision, [f.path])}\` with network access (HF_HUB_OFFLINE unset): it replaces the damaged copy.`,
        ctx.repo.id,
      );
    }
    if (size >= 0) rmSync(blob, { force: true }); // wrong size or content: not ours to trust
    if (check) warnings.push(`${damagedBlobMessage(ctx, f, blob, check)}; it was deleted and is downloaded again.`);
    if (plan.fromCache) throw offlineMissing(ctx, plan.revision, [f.path], `has no complete copy of "${f.path}"`);
    todo.push(i);
  }
  const total = todo.reduce((s, i) => s + files[i].size, 0);
  const perFile = new Map<number, number>();
  let done = 0;
  let filesDone = 0;
  const progress: Progress | undefined =
    todo.length > 0
      ? createProgress({ label: `download ${plan.repo.id}`, total, bytes: true, mode: options.progress ?? 'auto' })
      : undefined;
  let bytesDownloaded = 0;
  const queue = [...todo];
  let failed = false;
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined && !failed; next = queue.shift()) {
      const i: number = next;
      const f = files[i];
      const lock = join(ctx.cfg.cacheDir, '.locks', ctx.repoDir.split(/[\\/]/).pop()!, `${f.etag}.ipt.lock`);
      const onBytes = (fileBytes: number) => {
        done += fileBytes - (perFile.get(i) ?? 0);
        perFile.set(i, fileBytes);
        progress?.update(done, { files: `${filesDone}/${todo.length}` });
        options.onProgress?.({
          repo: plan.repo.id,
          file: f.path,
          fileBytes,
          fileTotal: f.size,
          bytes: done,
          total,
          filesDone,
          filesTotal: todo.length,
        });
      };
      const blob = blobPath(ctx.repoDir, f.etag);
      const got = await withBlobLock(lock, async () => {
        // another worker or process may have fetched the same blob while we waited
        if (existsSync(blob) && statSync(blob).size === f.size) {
          const check = await checkCachedBlob(ctx, f, blob);
          if (check.ok) return { sha256: check.sha256, downloaded: 0 };
          rmSync(blob, { force: true });
        }
        return fetchBlob(ctx, plan.commit, { file: f, onBytes });
      }).catch((err: unknown) => {
        failed = true;
        throw err;
      });
      filesDone++;
      onBytes(f.size);
      bytesDownloaded += got.downloaded;
      const localPath = linkSnapshotFile(ctx.repoDir, plan.commit, f.path, f.etag);
      result[i] = {
        path: f.path,
        localPath,
        blobPath: blob,
        etag: f.etag,
        bytes: f.size,
        sha256: got.sha256,
        fromCache: false,
      };
    }
  };
  // after a failure no new file is started, and the ones in flight finish (or fail) before we report
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, todo.length)) }, worker),
  );
  progress?.stop();
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;
  return {
    repo: plan.repo.id,
    type: plan.repo.type,
    revision: plan.revision,
    commit: plan.commit,
    snapshotDir: snapshotDir(ctx.repoDir, plan.commit),
    files: result,
    fromCache: plan.fromCache,
    ...(warnings.length ? { warning: warnings.join('\n') } : {}),
    bytesDownloaded,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * `ipt download`: the files of a repo revision that match the globs, in the standard cache.
 * Returns where they are and the commit they came from; `manifestInputOf(result)` records them.
 */
export async function downloadRepo(options: DownloadOptions): Promise<DownloadResult> {
  const started = performance.now();
  const ctx = context(options);
  const plan = await planWith(ctx, options);
  const result = await downloadPlanned(plan, options);
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

/** The run-manifest record of a download: repo, revision, commit, and each file's path, sha256 and size. */
export function manifestInputOf(result: DownloadResult, name: string = result.repo): ManifestInput {
  return {
    name,
    source: repoSource({ type: result.type, id: result.repo }),
    revision: result.revision,
    commit: result.commit,
    files: result.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
  };
}
