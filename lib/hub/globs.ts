// File selection for hub downloads and local shard folders: include/exclude globs (picomatch).
// A pattern without a slash matches the file name in any folder ("*.json" takes "sub/a.json",
// as Python's allow_patterns does); a pattern ending in "/" takes everything under that folder;
// "**" crosses folders. Dot files match like any other.

import picomatch from 'picomatch';

export type FileFilter = (path: string) => boolean;

function compile(pattern: string): (path: string) => boolean {
  const p = pattern.endsWith('/') ? `${pattern}**` : pattern;
  return picomatch(p, { dot: true, basename: !p.includes('/') });
}

/** Keeps a path that matches some include pattern (or there are none) and no exclude pattern. */
export function fileFilter(include: readonly string[] = [], exclude: readonly string[] = []): FileFilter {
  const inc = include.map(compile);
  const exc = exclude.map(compile);
  return (path) => (inc.length === 0 || inc.some((m) => m(path))) && !exc.some((m) => m(path));
}

/** A pattern with no glob syntax names one file: it must exist, and needs no full listing. */
export function isLiteralPath(pattern: string): boolean {
  return !/[*?[\]{}()!+@]/.test(pattern) && !pattern.endsWith('/');
}
