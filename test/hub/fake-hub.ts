// A Hugging Face hub on loopback for the tests and the download benchmark: it speaks the part of
// the hub's HTTP API that the kit and @huggingface/hub use, with the shapes huggingface.co answers:
//   GET  /api/{models|datasets}/{org}/{name}/revision/{rev}   -> {_id, id, sha, siblings, ...}
//   GET  /api/{type}s/{org}/{name}/tree/{rev}[/{path}]         -> [{type, path, oid, size, lfs?}], Link: rel="next"
//   POST /api/{type}s/{org}/{name}/paths-info/{rev}            -> entries of the named paths that exist
//   GET  /[datasets/]{org}/{name}/resolve/{rev}/{path}         -> regular files: 200 with ETag (git sha1);
//        LFS files: 302 to a second server (another origin, like the hub's CDN) with X-Repo-Commit,
//        X-Linked-Etag (sha256) and X-Linked-Size; 401/403 for a gated repo, 404 EntryNotFound.
// Both servers honour Range (206). Faults: drop the connection after N bytes, serve bytes that do not
// match the sha256, stall, answer 404 for a listed file, echo the Authorization header in error bodies,
// answer 429 with Retry-After, list a file with a wrong size.

import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FixtureFile = { path: string; content: Buffer | string; lfs?: boolean };
export type FixtureRepo = {
  type: 'model' | 'dataset';
  /** "org/name" */
  id: string;
  /** Commits, oldest first; each lists all files of the repo at that commit. */
  commits: FixtureFile[][];
  /** Branch or tag -> index into commits; "main" defaults to the last commit. */
  refs?: Record<string, number>;
  /** A gated repo: downloads need `Authorization: Bearer <gatedToken>`. */
  gatedToken?: string;
};

type StoredFile = { path: string; content: Buffer; lfs: boolean; gitOid: string; sha256: string; pointerOid: string };
type StoredCommit = { sha: string; files: Map<string, StoredFile> };
type StoredRepo = { def: FixtureRepo; commits: StoredCommit[]; refs: Record<string, number> };

export type LoggedRequest = {
  server: 'hub' | 'cdn';
  method: string;
  url: string;
  range?: string;
  authorization?: string;
  /** performance.now() on arrival */ at: number;
};

export type Faults = {
  /** sha256 (LFS) or git sha1 -> cut the connection after `bytes` bytes, for the next `times` transfers. */
  drop?: Map<string, { bytes: number; times: number }>;
  /** Blob ids whose bytes are served with one byte changed. */
  corrupt?: Set<string>;
  /** Blob ids whose next `times` transfers send `bytes` bytes and then nothing. */
  stall?: Map<string, { bytes: number; times: number }>;
  /** Repo paths whose resolve answers 404 although the tree lists them. */
  resolve404?: Set<string>;
  /** Error bodies repeat the Authorization header (a careless server), to test that the kit hides it. */
  echoAuthorization?: boolean;
  /** Blob ids whose next `times` transfers answer 429 with this Retry-After header (seconds or an HTTP date). */
  rateLimit?: Map<string, { retryAfter: string; times: number }>;
  /** The next `times` API calls (/api/...) answer 429 with this Retry-After header. */
  apiRateLimit?: { retryAfter: string; times: number };
  /** Repo paths the tree and paths-info list with their size changed by this many bytes (the transfer is unchanged). */
  sizeSkew?: Map<string, number>;
};

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function store(def: FixtureRepo): StoredRepo {
  const commits = def.commits.map((files, i) => {
    const map = new Map<string, StoredFile>();
    for (const f of files) {
      const content = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content;
      const sha256 = sha256Hex(content);
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.length}\n`;
      map.set(f.path, {
        path: f.path,
        content,
        lfs: f.lfs ?? false,
        gitOid: gitBlobSha1(content),
        sha256,
        pointerOid: gitBlobSha1(Buffer.from(pointer)),
      });
    }
    const sha = createHash('sha1')
      .update(
        `${def.type}/${def.id}#${i}:` +
          [...map.values()]
            .map((f) => `${f.path}=${f.gitOid}`)
            .sort()
            .join(','),
      )
      .digest('hex');
    return { sha, files: map };
  });
  return { def, commits, refs: { main: commits.length - 1, ...(def.refs ?? {}) } };
}

function treeEntry(f: StoredFile, skew = 0) {
  const size = f.content.length + skew;
  return f.lfs
    ? { type: 'file', oid: f.pointerOid, size, path: f.path, lfs: { oid: f.sha256, size, pointerSize: 134 } }
    : { type: 'file', oid: f.gitOid, size, path: f.path };
}

function directories(files: Iterable<StoredFile>): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs];
}

export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  faults: Faults = {};
  pageSize = 50;
  private repos = new Map<string, StoredRepo>();
  private hub!: http.Server;
  private cdn!: http.Server;
  url = '';
  cdnUrl = '';

  static async start(repos: FixtureRepo[] = []): Promise<FakeHub> {
    const h = new FakeHub();
    for (const r of repos) h.addRepo(r);
    h.hub = http.createServer((req, res) => h.handle('hub', req, res));
    h.cdn = http.createServer((req, res) => h.handle('cdn', req, res));
    const listen = (s: http.Server) =>
      new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as AddressInfo).port)));
    h.url = `http://127.0.0.1:${await listen(h.hub)}`;
    // a second origin, like the hub's CDN: the token must not follow the redirect there
    h.cdnUrl = `http://localhost:${await listen(h.cdn)}`;
    return h;
  }

  addRepo(def: FixtureRepo): void {
    this.repos.set(`${def.type}:${def.id}`, store(def));
  }

  /** The commit sha of a ref ("main", a tag) or commit index. */
  commit(type: 'model' | 'dataset', id: string, ref: string | number = 'main'): string {
    const r = this.repos.get(`${type}:${id}`)!;
    return r.commits[typeof ref === 'number' ? ref : r.refs[ref]].sha;
  }

  file(type: 'model' | 'dataset', id: string, path: string, ref: string | number = 'main'): StoredFile {
    const r = this.repos.get(`${type}:${id}`)!;
    return r.commits[typeof ref === 'number' ? ref : r.refs[ref]].files.get(path)!;
  }

  count(server: 'hub' | 'cdn', pattern: RegExp): number {
    return this.requests.filter((r) => r.server === server && pattern.test(r.url)).length;
  }

  async close(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private error(req: http.IncomingMessage, res: http.ServerResponse, status: number, code: string, message: string) {
    const echo =
      this.faults.echoAuthorization && req.headers.authorization ? ` (you sent: ${req.headers.authorization})` : '';
    this.json(res, status, { error: message + echo }, { 'X-Error-Code': code, 'X-Error-Message': message });
  }

  private find(type: string, id: string): StoredRepo | undefined {
    return this.repos.get(`${type}:${id}`);
  }

  private at(repo: StoredRepo, rev: string): StoredCommit | undefined {
    if (rev in repo.refs) return repo.commits[repo.refs[rev]];
    return repo.commits.find((c) => c.sha === rev);
  }

  private handle(server: 'hub' | 'cdn', req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({
      server,
      method: req.method ?? 'GET',
      url: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
      at: performance.now(),
    });
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        if (server === 'cdn') return this.serveCdn(req, res, url);
        this.serveHub(req, res, url, body);
      } catch (err) {
        this.json(res, 500, { error: String(err) });
      }
    });
  }

  private serveHub(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string) {
    const parts = url.pathname.split('/').slice(1);
    const limited = this.faults.apiRateLimit;
    if (parts[0] === 'api' && limited && limited.times > 0) {
      limited.times--;
      return this.json(res, 429, { error: 'Too Many Requests' }, { 'Retry-After': limited.retryAfter });
    }
    if (parts[0] === 'api' && (parts[1] === 'models' || parts[1] === 'datasets')) {
      const type = parts[1] === 'models' ? 'model' : 'dataset';
      const id = `${parts[2]}/${parts[3]}`;
      const repo = this.find(type, id);
      if (!repo) return this.error(req, res, 404, 'RepoNotFound', `Repository not found: ${id}`);
      const action = parts[4];
      const rev = decodeURIComponent(parts[5] ?? '');
      const commit = this.at(repo, rev);
      if (!commit) return this.error(req, res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      if (action === 'revision') {
        return this.json(res, 200, {
          _id: createHash('md5').update(id).digest('hex').slice(0, 24),
          id,
          sha: commit.sha,
          private: false,
          gated: repo.def.gatedToken ? 'manual' : false,
          disabled: false,
          downloads: 0,
          likes: 0,
          lastModified: '2024-06-20T00:00:00.000Z',
          siblings: [...commit.files.keys()].sort().map((rfilename) => ({ rfilename })),
        });
      }
      if (action === 'tree') {
        const prefix = parts.slice(6).map(decodeURIComponent).join('/');
        const recursive = url.searchParams.get('recursive') === 'true';
        const files = [...commit.files.values()];
        const under = (p: string) => !prefix || p.startsWith(prefix + '/');
        const depthOk = (p: string) => recursive || !p.slice(prefix ? prefix.length + 1 : 0).includes('/');
        const entries = [
          ...directories(files)
            .filter((d) => under(d) && depthOk(d))
            .map((path) => ({ type: 'directory', oid: createHash('sha1').update(path).digest('hex'), size: 0, path })),
          ...files
            .filter((f) => under(f.path) && depthOk(f.path))
            .map((f) => treeEntry(f, this.faults.sizeSkew?.get(f.path))),
        ].sort((a, b) => (a.path < b.path ? -1 : 1));
        const cursor = Number(url.searchParams.get('cursor') ?? 0);
        const page = entries.slice(cursor, cursor + this.pageSize);
        const headers: Record<string, string> = {};
        if (cursor + this.pageSize < entries.length) {
          const next = new URL(url.pathname + url.search, this.url);
          next.searchParams.set('cursor', String(cursor + this.pageSize));
          headers.Link = `<${next.href}>; rel="next"`;
        }
        return this.json(res, 200, page, headers);
      }
      if (action === 'paths-info' && req.method === 'POST') {
        const { paths } = JSON.parse(body || '{}') as { paths?: string[] };
        const dirs = new Set(directories(commit.files.values()));
        const out = (paths ?? []).flatMap((p) => {
          const f = commit.files.get(p);
          if (f) return [treeEntry(f, this.faults.sizeSkew?.get(f.path))];
          return dirs.has(p)
            ? [{ type: 'directory', oid: createHash('sha1').update(p).digest('hex'), size: 0, path: p }]
            : [];
        });
        return this.json(res, 200, out);
      }
      return this.error(req, res, 404, 'NotFound', `no route ${url.pathname}`);
    }
    // /[datasets/]{org}/{name}/resolve/{rev}/{path}
    const isDataset = parts[0] === 'datasets';
    const p = isDataset ? parts.slice(1) : parts;
    if (p[2] !== 'resolve') return this.error(req, res, 404, 'NotFound', `no route ${url.pathname}`);
    const type = isDataset ? 'dataset' : 'model';
    const id = `${p[0]}/${p[1]}`;
    const repo = this.find(type, id);
    if (!repo) return this.error(req, res, 401, 'RepoNotFound', 'Repository Not Found');
    const rev = decodeURIComponent(p[3]);
    const path = p.slice(4).map(decodeURIComponent).join('/');
    const commit = this.at(repo, rev);
    if (!commit) return this.error(req, res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    if (repo.def.gatedToken) {
      const auth = req.headers.authorization;
      if (!auth)
        return this.error(
          req,
          res,
          401,
          'GatedRepo',
          `Access to ${type} ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        );
      if (auth !== `Bearer ${repo.def.gatedToken}`)
        return this.error(
          req,
          res,
          403,
          'GatedRepo',
          `Access to ${type} ${id} is restricted and you are not in the authorized list.`,
        );
    }
    const file = commit.files.get(path);
    if (!file || this.faults.resolve404?.has(path))
      return this.error(req, res, 404, 'EntryNotFound', `${path} does not exist on "${rev}"`);
    const common = { 'X-Repo-Commit': commit.sha, 'Accept-Ranges': 'bytes' };
    if (file.lfs) {
      res.writeHead(302, {
        ...common,
        Location: `${this.cdnUrl}/blobs/${file.sha256}?response-content-disposition=attachment`,
        'X-Linked-Etag': `"${file.sha256}"`,
        'X-Linked-Size': String(file.content.length),
        ETag: `"${file.pointerOid}"`,
        'Content-Length': '0',
      });
      return res.end();
    }
    this.sendBytes(req, res, file.content, file.gitOid, { ...common, ETag: `"${file.gitOid}"` });
  }

  private serveCdn(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const sha = url.pathname.split('/')[2];
    for (const repo of this.repos.values()) {
      for (const c of repo.commits) {
        for (const f of c.files.values()) {
          if (f.lfs && f.sha256 === sha) return this.sendBytes(req, res, f.content, sha, { ETag: `"${sha}"` });
        }
      }
    }
    res.writeHead(404).end('NoSuchKey');
  }

  private sendBytes(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    content: Buffer,
    blobId: string,
    headers: Record<string, string>,
  ) {
    const limited = this.faults.rateLimit?.get(blobId);
    if (limited && limited.times > 0) {
      limited.times--;
      return this.json(res, 429, { error: 'Too Many Requests' }, { 'Retry-After': limited.retryAfter });
    }
    let data = content;
    if (this.faults.corrupt?.has(blobId) && content.length > 0) {
      data = Buffer.from(content);
      data[data.length >> 1] ^= 0xff;
    }
    let start = 0;
    let end = data.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
        return res.end();
      }
      status = 206;
      headers = { ...headers, 'Content-Range': `bytes ${start}-${end}/${data.length}` };
    }
    const slice = data.subarray(start, end + 1);
    res.writeHead(status, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(slice.length),
      ...headers,
    });
    if (req.method === 'HEAD') return res.end();
    const drop = this.faults.drop?.get(blobId);
    if (drop && drop.times > 0) {
      drop.times--;
      const n = Math.max(0, Math.min(drop.bytes - start, slice.length - 1));
      res.write(slice.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const stall = this.faults.stall?.get(blobId);
    if (stall && stall.times > 0) {
      stall.times--;
      res.write(slice.subarray(0, Math.min(stall.bytes, slice.length - 1)));
      return; // never finishes; the client must give up and retry
    }
    res.end(slice);
  }
}
