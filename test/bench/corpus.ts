// `npm run bench -- corpus [--mb 200] [--max-tokens 512] [--no-download] [--no-chunk]`
// Download throughput from the loopback hub (one LFS file of --mb MB: HTTP, sha256 check, write,
// rename, link); what a cached re-run costs when the blob must be hashed (its verification note gone:
// the first run on a cache another program filled) and when its note says it is unchanged; and chunking throughput on the full Brown corpus with the default counter, the
// general @huggingface/tokenizers path, and with near-duplicate dropping.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, loadavg, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { downloadRepo } from '../../lib/hub/download.js';
import { loadBrown } from '../../lib/corpus/brown.js';
import { chunkDocuments, type ChunkStats } from '../../lib/corpus/chunk.js';
import { tinyTokenizerFiles, tokenizerFromFiles } from '../../lib/engine/tokenizer.js';

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function benchDownload(mb: number): Promise<Record<string, number>> {
  const worker = new Worker(new URL('./_hub-worker.js', import.meta.url), { workerData: { mb } });
  const { url } = await new Promise<{ url: string }>((ok, fail) => {
    worker.once('message', ok);
    worker.once('error', fail);
  });
  const cache = mkdtempSync(join(tmpdir(), 'ipt-bench-cache-'));
  try {
    const config = { endpoint: url, cacheDir: cache, token: undefined, offline: false };
    console.log(`downloading ${mb} MB from the loopback hub (served by a worker thread) ...`);
    const first = await downloadRepo({ repo: 'bench/big', config, progress: 'lines' });
    const again = await downloadRepo({ repo: 'bench/big', config, progress: 'silent' });
    const notes = join(cache, '.locks', 'models--bench--big');
    for (const f of readdirSync(notes).filter((f) => f.endsWith('.ipt.verified'))) rmSync(join(notes, f));
    const hashed = await downloadRepo({ repo: 'bench/big', config, progress: 'silent' });
    const mbps = (mb * 1e6) / 1e6 / first.seconds;
    console.log(
      `download: ${round(first.seconds)} s, ${round(mbps, 1)} MB/s; cached re-run ${round(again.seconds * 1000, 1)} ms; ` +
        `cached re-run that hashes the blob ${round(hashed.seconds * 1000, 1)} ms (${round(mb / hashed.seconds)} MB/s)`,
    );
    return {
      downloadMB: mb,
      downloadSeconds: round(first.seconds, 3),
      downloadMBps: round(mbps, 1),
      cachedRerunMs: round(again.seconds * 1000, 1),
      cachedRerunHashingMs: round(hashed.seconds * 1000, 1),
    };
  } finally {
    worker.postMessage('close');
    await new Promise((ok) => worker.once('exit', ok));
    rmSync(cache, { recursive: true, force: true });
  }
}

function benchChunk(maxTokens: number): Record<string, number> {
  let t = performance.now();
  const docs = loadBrown();
  const loadSeconds = (performance.now() - t) / 1000;
  const mb = docs.reduce((s, d) => s + Buffer.byteLength(d.text), 0) / 1e6;
  console.log(`Brown: ${docs.length} documents, ${round(mb)} MB of text, loaded in ${round(loadSeconds)} s`);
  const run = (label: string, options: Parameters<typeof chunkDocuments>[1]) => {
    const stats: ChunkStats = { documents: 0, contexts: 0, tokens: 0, droppedShort: 0, droppedDuplicates: 0 };
    t = performance.now();
    chunkDocuments(docs, { ...options, stats });
    const s = (performance.now() - t) / 1000;
    console.log(
      `${label}: ${stats.contexts} contexts, ${stats.droppedDuplicates} near-duplicates dropped, ${round(s)} s, ${round(mb / s)} MB/s, ${Math.round(stats.contexts / s)} contexts/s`,
    );
    return { s, stats };
  };
  const fast = run('chunk (default tiny-tokenizer counter)', { maxTokens });
  const hf = run('chunk (@huggingface/tokenizers, tiny tokenizer.json)', {
    maxTokens,
    tokenizer: tokenizerFromFiles(tinyTokenizerFiles()),
  });
  const dedup = run('chunk + MinHash dedup', { maxTokens, dedup: true });
  return {
    brownMB: round(mb, 3),
    brownLoadSeconds: round(loadSeconds, 3),
    maxTokens,
    contexts: fast.stats.contexts,
    chunkSeconds: round(fast.s, 3),
    chunkMBps: round(mb / fast.s, 2),
    chunkContextsPerSecond: Math.round(fast.stats.contexts / fast.s),
    chunkHfTokenizerSeconds: round(hf.s, 3),
    chunkHfTokenizerMBps: round(mb / hf.s, 2),
    chunkHfTokenizerContextsPerSecond: Math.round(hf.stats.contexts / hf.s),
    dedupSeconds: round(dedup.s, 3),
    dedupDropped: dedup.stats.droppedDuplicates,
  };
}

/** Chunking one long line (no blank lines: one paragraph), 1 MB and 4 MB: seconds and the 4 MB / 1 MB ratio (about 4 when linear). */
function benchOneLine(maxTokens: number): Record<string, number> {
  const brown = loadBrown()
    .map((d) => d.text.replace(/\s+/g, ' '))
    .join(' ');
  const shapes: Record<string, (n: number) => string> = {
    Prose: (n) => brown.repeat(Math.ceil(n / brown.length)).slice(0, n),
    NoSpace: (n) => 'x'.repeat(n),
  };
  const out: Record<string, number> = {};
  for (const [shape, make] of Object.entries(shapes)) {
    for (const mb of [1, 4]) {
      const text = make(mb * 1e6);
      const t = performance.now();
      chunkDocuments([{ id: 'one', text }], { maxTokens });
      out[`chunkOneLine${shape}${mb}MBSeconds`] = round((performance.now() - t) / 1000, 3);
    }
    out[`chunkOneLine${shape}Ratio4to1`] = round(
      out[`chunkOneLine${shape}4MBSeconds`] / out[`chunkOneLine${shape}1MBSeconds`],
      2,
    );
    console.log(
      `chunk one line (${shape}): 1 MB ${out[`chunkOneLine${shape}1MBSeconds`]} s, 4 MB ${out[`chunkOneLine${shape}4MBSeconds`]} s`,
    );
  }
  return out;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const load = loadavg()[0];
  console.log(`machine: ${cpus().length} cores, load average ${round(load)} at start`);
  const out: Record<string, unknown> = { cores: cpus().length, loadAverageAtStart: round(load) };
  if (!args.includes('--no-chunk'))
    Object.assign(
      out,
      benchChunk(Number(arg(args, 'max-tokens', '512'))),
      benchOneLine(Number(arg(args, 'max-tokens', '512'))),
    );
  if (!args.includes('--no-download')) Object.assign(out, await benchDownload(Number(arg(args, 'mb', '200'))));
  out.loadAverageAtEnd = round(loadavg()[0]);
  return out;
}
