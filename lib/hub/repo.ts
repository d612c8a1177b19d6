// Naming of hub repositories: "org/name" with a type (model or dataset), the folder the Python cache
// gives it (`models--org--name`), and the URLs of its API and files.

export type RepoType = 'model' | 'dataset';
export type RepoRef = { type: RepoType; id: string };

const REPO_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;
const COMMIT = /^[0-9a-f]{40}$/;

export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

/**
 * "org/name", "datasets/org/name" or "models/org/name"; `type` applies when the string names none.
 * Rejects ids that could escape the cache folder or the URL path.
 */
export function parseRepo(spec: string, type: RepoType = 'model'): RepoRef {
  let id = spec.trim().replace(/^hf:/, '');
  let repoType = type;
  if (id.startsWith('datasets/')) {
    repoType = 'dataset';
    id = id.slice('datasets/'.length);
  } else if (id.startsWith('models/')) {
    repoType = 'model';
    id = id.slice('models/'.length);
  }
  if (!REPO_ID.test(id) || id.includes('..') || id.includes('--')) {
    throw new Error(
      `"${spec}" is not a hub repo id: expected "org/name" (letters, digits, - _ .), e.g. "instruction-pretrain/instruction-synthesizer"`,
    );
  }
  return { type: repoType, id };
}

/** `models--org--name` / `datasets--org--name`, as huggingface_hub's repo_folder_name. */
export function repoFolderName(repo: RepoRef): string {
  return [`${repo.type}s`, ...repo.id.split('/')].join('--');
}

/** The id as @huggingface/hub designates it: "org/name" or "datasets/org/name". */
export function hubDesignation(repo: RepoRef): string {
  return repo.type === 'dataset' ? `datasets/${repo.id}` : repo.id;
}

/** How the kit writes a repo in manifests and messages: "hf:org/name", "hf:datasets/org/name". */
export function repoSource(repo: RepoRef): string {
  return `hf:${hubDesignation(repo)}`;
}

export function encodeRepoPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** `{endpoint}/[datasets/]{id}/resolve/{revision}/{path}`: the URL every hub client downloads from. */
export function resolveUrl(endpoint: string, repo: RepoRef, revision: string, path: string): string {
  const prefix = repo.type === 'dataset' ? 'datasets/' : '';
  return `${endpoint}/${prefix}${repo.id}/resolve/${encodeURIComponent(revision)}/${encodeRepoPath(path)}`;
}

/** The `ipt download` command that fetches what an offline run is missing. */
export function downloadCommand(repo: RepoRef, revision?: string, include: string[] = []): string {
  const parts = ['ipt download', repo.id];
  if (repo.type === 'dataset') parts.push('--dataset');
  if (revision && revision !== 'main') parts.push('--revision', revision);
  for (const g of include) parts.push('--include', /[\s*?[\]{}]/.test(g) ? `'${g}'` : g);
  return parts.join(' ');
}
