// Where and how the kit talks to the Hugging Face hub, read from the same environment variables
// the Python `huggingface_hub` reads, so both share one cache and one token. @huggingface/hub reads
// none of them, so every call in lib/hub passes these values explicitly.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export type HubConfig = {
  /** Base URL of the hub (HF_ENDPOINT); no trailing slash. */
  endpoint: string;
  /** Access token (HF_TOKEN); never logged, never written to a manifest. */
  token?: string;
  /** HF_HUB_OFFLINE: use only what the cache holds, make no request. */
  offline: boolean;
  /** The hub cache folder holding `models--org--name/` and `datasets--org--name/`. */
  cacheDir: string;
};

type Env = Record<string, string | undefined>;

/** Python's rule for boolean environment variables (constants._is_true). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (as in Python). */
export function hfHome(env: Env = process.env): string {
  const home = nonEmpty(env.HF_HOME);
  if (home) return expandHome(home);
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  return join(xdg ? expandHome(xdg) : join(homedir(), '.cache'), 'huggingface');
}

/** HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE (legacy name) > HF_HOME/hub > ~/.cache/huggingface/hub. */
export function hubCacheDir(env: Env = process.env): string {
  const explicit = nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  return explicit ? expandHome(explicit) : join(hfHome(env), 'hub');
}

/** HF_TOKEN > HUGGING_FACE_HUB_TOKEN (legacy) > the token file `huggingface-cli login` writes. */
export function hubToken(env: Env = process.env): string | undefined {
  const fromEnv = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
  if (fromEnv) return fromEnv;
  const file = nonEmpty(env.HF_TOKEN_PATH) ? expandHome(env.HF_TOKEN_PATH!.trim()) : join(hfHome(env), 'token');
  try {
    return existsSync(file) ? nonEmpty(readFileSync(file, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}

export function hubConfig(overrides: Partial<HubConfig> = {}, env: Env = process.env): HubConfig {
  const endpoint = (overrides.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  return {
    endpoint,
    token: 'token' in overrides ? overrides.token : hubToken(env),
    offline: overrides.offline ?? envFlag(env.HF_HUB_OFFLINE),
    cacheDir: overrides.cacheDir ?? hubCacheDir(env),
  };
}

/** Replaces the token wherever it appears, for every message that leaves lib/hub. */
export function scrubToken(text: string, token: string | undefined): string {
  return token && token.length >= 4 ? text.split(token).join('[redacted]') : text;
}
