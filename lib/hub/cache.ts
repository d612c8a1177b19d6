// The Hugging Face cache layout, exactly as Python's huggingface_hub writes it, so both share files:
//
//   <cache>/models--org--name/
//     refs/<revision>                  the commit a branch or tag pointed at, as 40 hex characters
//     blobs/<etag>                     file contents, named by the git blob sha1 (regular files) or
//                                      the sha256 (LFS files); <etag>.incomplete while downloading
//     snapshots/<commit>/<path>        relative symlink to ../../blobs/<etag> (deeper paths: more ../)
//     .no_exist/<commit>/<path>        empty marker: the hub said this file does not exist
//   datasets use datasets--org--name/.

import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../repro/files.js';
import { isCommitHash, repoFolderName, type RepoRef } from './repo.js';

export function repoCacheDir(cacheDir: string, repo: RepoRef): string {
  return join(cacheDir, repoFolderName(repo));
}

/** A path from the hub's file list, checked so that joining it never leaves the snapshot folder. */
export function checkRepoPath(path: string): string {
  const parts = path.split('/');
  if (
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new Error(`refusing the repo file path "${path}": it is not a plain relative path`);
  }
  return path;
}

export function refPath(repoDir: string, revision: string): string {
  return join(repoDir, 'refs', ...revision.split('/'));
}

export function readRef(repoDir: string, revision: string): string | undefined {
  const file = refPath(repoDir, revision);
  if (!existsSync(file)) return undefined;
  const commit = readFileSync(file, 'utf8').trim();
  return isCommitHash(commit) ? commit : undefined;
}

/** Python writes refs/<revision> only when the revision is a name (branch, tag), not a commit. */
export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return;
  if (readRef(repoDir, revision) === commit) return;
  writeFileAtomic(refPath(repoDir, revision), commit);
}

export function blobPath(repoDir: string, etag: string): string {
  if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(etag))
    throw new Error(`unexpected blob id "${etag}": expected a git sha1 or an LFS sha256`);
  return join(repoDir, 'blobs', etag);
}

export function snapshotDir(repoDir: string, commit: string): string {
  return join(repoDir, 'snapshots', commit);
}

export function snapshotPath(repoDir: string, commit: string, path: string): string {
  return join(snapshotDir(repoDir, commit), ...checkRepoPath(path).split('/'));
}

/**
 * Points snapshots/<commit>/<path> at the blob with a relative symlink (as Python does), replacing
 * a stale entry; where symlinks are not allowed (some Windows set-ups) the blob is copied instead.
 */
export function linkSnapshotFile(repoDir: string, commit: string, path: string, etag: string): string {
  const pointer = snapshotPath(repoDir, commit, path);
  const blob = blobPath(repoDir, etag);
  const target = relative(dirname(pointer), blob);
  mkdirSync(dirname(pointer), { recursive: true });
  let current: string | undefined;
  try {
    const st = lstatSync(pointer);
    current = st.isSymbolicLink() ? readlinkSync(pointer) : '';
  } catch {
    current = undefined;
  }
  if (current === target) return pointer;
  if (current !== undefined) rmSync(pointer, { force: true });
  try {
    symlinkSync(target, pointer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    copyFileSync(blob, pointer);
  }
  return pointer;
}

/** The commit a revision names in the cache: itself if it is a cached commit, else refs/<revision>. */
export function resolveCachedCommit(repoDir: string, revision: string): string | undefined {
  if (isCommitHash(revision)) return existsSync(snapshotDir(repoDir, revision)) ? revision : undefined;
  return readRef(repoDir, revision);
}

export type CachedFile = { path: string; localPath: string; blobPath: string; etag: string; bytes: number };

/** Files of a cached snapshot whose blob is present (dangling links are not files). */
export function listSnapshotFiles(repoDir: string, commit: string): CachedFile[] {
  const root = snapshotDir(repoDir, commit);
  const out: CachedFile[] = [];
  const walk = (dir: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const full = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      let st;
      try {
        st = statSync(full);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(full, rel);
      else if (st.isFile()) {
        const lst = lstatSync(full);
        const blob = lst.isSymbolicLink() ? resolve(dirname(full), readlinkSync(full)) : full;
        const etag = blob.split(sep).pop() ?? '';
        out.push({ path: rel, localPath: full, blobPath: blob, etag, bytes: st.size });
      }
    }
  };
  walk(root, '');
  return out;
}

export function noExistPath(repoDir: string, commit: string, path: string): string {
  return join(repoDir, '.no_exist', commit, ...checkRepoPath(path).split('/'));
}

/** Records that the hub has no such file at this commit, so an offline run can say so. */
export function markMissing(repoDir: string, commit: string, path: string): void {
  const file = noExistPath(repoDir, commit, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
}

export function isMarkedMissing(repoDir: string, commit: string, path: string): boolean {
  return existsSync(noExistPath(repoDir, commit, path));
}
