// `npm run bench -- export [--mb 100] [--shard-mb 25]`: builds a run folder whose one corpus holds
// about --mb MB of text (Brown corpus documents, repeated, every tenth one as a loss-masked
// segments row), then exports it as JSON lines and as Parquet. Reports MB/s of text exported,
// output sizes and the peak resident memory, which should stay near the row-group size, not the corpus.

import { parseArgs } from 'node:util';
import {
  mkdtempSync,
  mkdirSync,
  openSync,
  writeSync,
  closeSync,
  writeFileSync,
  rmSync,
  statSync,
  readdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadBrown } from '../../lib/corpus/brown.js';
import { exportCorpora } from '../../lib/ablation/export.js';

function folderBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full);
    n += st.isDirectory() ? folderBytes(full) : st.size;
  }
  return n;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: { mb: { type: 'string', default: '100' }, 'shard-mb': { type: 'string', default: '25' } },
  });
  const target = Number(values.mb) * 1e6;
  const root = mkdtempSync(join(tmpdir(), 'ipt-bench-export-'));
  try {
    const run = join(root, 'run');
    mkdirSync(join(run, 'stages', 'corpus'), { recursive: true });
    const fd = openSync(join(run, 'stages', 'corpus', 'train.jsonl'), 'w');
    const brown = loadBrown().map((d) => d.text);
    let textBytes = 0;
    let documents = 0;
    while (textBytes < target) {
      const text = brown[documents % brown.length];
      const row =
        documents % 10 === 9
          ? {
              segments: [
                { text: 'Question: what is this about?\n', train: false },
                { text, train: true },
              ],
            }
          : { text };
      writeSync(fd, JSON.stringify(row) + '\n');
      textBytes += Buffer.byteLength(text) + (documents % 10 === 9 ? 30 : 0);
      documents++;
    }
    closeSync(fd);
    writeFileSync(
      join(run, 'corpora.json'),
      JSON.stringify({
        version: 1,
        run: 'bench',
        input: 'brown',
        corpora: [{ name: 'bench', files: ['stages/corpus/train.jsonl'] }],
      }),
    );
    const sourceBytes = statSync(join(run, 'stages', 'corpus', 'train.jsonl')).size;
    console.log(`export: ${documents} documents, ${(textBytes / 1e6).toFixed(1)} MB of text`);
    const figures: Record<string, unknown> = {
      documents,
      textMB: +(textBytes / 1e6).toFixed(1),
      sourceMB: +(sourceBytes / 1e6).toFixed(1),
    };
    for (const format of ['jsonl', 'parquet'] as const) {
      const out = join(root, format);
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const t = performance.now();
      const result = await exportCorpora({ run, out, format, shardBytes: Number(values['shard-mb']) * 1e6 });
      const seconds = (performance.now() - t) / 1000;
      clearInterval(timer);
      const shards = result.corpora[0].splits[0].shards.length;
      const outMB = folderBytes(out) / 1e6;
      console.log(
        `export ${format}: ${seconds.toFixed(2)} s, ${(textBytes / 1e6 / seconds).toFixed(1)} MB/s, ${shards} shards, ${outMB.toFixed(1)} MB written, peak RSS +${((peak - rssBefore) / 2 ** 20).toFixed(0)} MiB`,
      );
      figures[`${format}Seconds`] = +seconds.toFixed(2);
      figures[`${format}MBps`] = +(textBytes / 1e6 / seconds).toFixed(1);
      figures[`${format}OutMB`] = +outMB.toFixed(1);
      figures[`${format}Shards`] = shards;
      figures[`${format}PeakRssGrowthMiB`] = Math.round((peak - rssBefore) / 2 ** 20);
    }
    return figures;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
