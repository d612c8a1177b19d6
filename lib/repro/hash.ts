// Content hashes for reproducibility: sha256 of strings, files and canonical JSON.
// Stage caches key on these, and manifests record them for every input and output.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Streams the file so multi-gigabyte shards hash in constant memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * JSON with object keys sorted at every level, so equal values always serialise (and hash) the same.
 * Rejects values JSON cannot round-trip (undefined inside arrays, functions, NaN, bigint).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, '$'));
}

export function hashJson(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * The first number in a parsed JSON value that is not finite (JSON.parse reads 1e999 as Infinity), as a
 * dotted path ("train.lr", "seeds[2]"); undefined when there is none. Config loaders refuse such values
 * by name before they reach a hash or a run.
 */
export function nonFiniteNumberPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path || 'the value';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nonFiniteNumberPath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nonFiniteNumberPath(v, path ? `${path}.${k}` : k);
      if (found) return found;
    }
  }
  return undefined;
}

/** The message for nonFiniteNumberPath's finding. */
export function nonFiniteMessage(where: string): string {
  return `${where} is not a finite number (1e999 and the like read as Infinity): give a finite number`;
}

function sortKeys(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new TypeError(
        `${path.replace(/^\$\.?/, '') || 'the value'} is ${value}, which JSON cannot hold: give a finite number`,
      );
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => sortKeys(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) continue;
      out[key] = sortKeys(v, `${path}.${key}`);
    }
    return out;
  }
  throw new TypeError(`canonicalJson: cannot serialise ${typeof value} at ${path}`);
}
