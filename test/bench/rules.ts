// `npm run bench -- rules [seed]`: the rule-based synthesizer over all of Brown (cut into 1-2 KB
// texts): throughput, pairs per text, kind mix and the quality figures of lib/synth/quality; then what
// `ipt rules --n 5` costs on a file of one long line (1 MB and 4 MB of Brown text run together), and
// mining a whole 1 MB and 4 MB text: the 4 MB / 1 MB time ratio is about 4 for linear work, 16 for quadratic.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { loadBrown } from '../../lib/corpus/brown.js';
import { contextsOf } from '../../lib/corpus/chunk.js';
import { jsonlRuleTexts, mineRecords } from '../../lib/synth/rules-run.js';
import { mineTasks, synthesizerOutput } from '../../lib/synth/rules.js';
import { measureSynthesizer } from '../../lib/synth/quality.js';
import { createProgress } from '../../lib/repro/progress.js';

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const seed = Number(args[0] ?? 1);
  const docs = loadBrown();
  const t0 = performance.now();
  const texts = docs.flatMap((d) => contextsOf(d.text).map((text) => ({ genre: d.genre, text })));
  const chunkSeconds = (performance.now() - t0) / 1000;
  const progress = createProgress({ label: 'rules', total: texts.length, unit: 'texts' });
  const t1 = performance.now();
  const kinds: Record<string, number> = {};
  const items = texts.map((x) => {
    const mined = mineTasks(x.text, { seed, genre: x.genre });
    for (const p of mined) kinds[p.kind] = (kinds[p.kind] ?? 0) + 1;
    progress.increment();
    return { context: x.text, output: synthesizerOutput(mined) };
  });
  const mineSeconds = (performance.now() - t1) / 1000;
  progress.stop();
  const quality = measureSynthesizer(items);
  const scaling = oneLineScaling(docs.map((d) => d.text).join('\n\n'), seed);
  return {
    ...scaling,
    seed,
    texts: texts.length,
    chunkSeconds: Number(chunkSeconds.toFixed(3)),
    mineSeconds: Number(mineSeconds.toFixed(3)),
    textsPerSecond: Math.round(texts.length / mineSeconds),
    pairs: quality.pairs,
    pairsPerText: Number(quality.pairsPerText.mean.toFixed(3)),
    pairsPerTextHistogram: quality.pairsPerText.histogram,
    kinds,
    answerInContextRate: Number(quality.answerInContext.rate.toFixed(4)),
    forms: quality.forms,
    answerCharsMedian: quality.answerChars.median,
    questionCharsMedian: quality.questionChars.median,
  };
}

/** One long line, as `ipt rules` and mineTasks meet it: seconds per MB at 1 and 4 MB, and their ratio. */
function oneLineScaling(brown: string, seed: number): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-bench-rules-'));
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  try {
    const out: Record<string, number> = { loadAverageBeforeScaling: round(loadavg()[0], 2) };
    for (const mb of [1, 4]) {
      let text = brown;
      while (text.length < mb * 1e6) text += '\n\n' + brown;
      text = text.slice(0, mb * 1e6);
      const file = join(dir, `one-line-${mb}.jsonl`);
      writeFileSync(file, JSON.stringify({ text }) + '\n');
      let t = performance.now();
      mineRecords(jsonlRuleTexts(file, 5), { seed });
      out[`ruleCliOneLine${mb}MBSeconds`] = round((performance.now() - t) / 1000);
      t = performance.now();
      mineTasks(text, { seed });
      out[`mineWhole${mb}MBSeconds`] = round((performance.now() - t) / 1000);
      console.log(
        `one line of ${mb} MB: ipt rules --n 5 ${out[`ruleCliOneLine${mb}MBSeconds`]} s, mining it whole ${out[`mineWhole${mb}MBSeconds`]} s`,
      );
    }
    out.ruleCliOneLineRatio4to1 = round(out.ruleCliOneLine4MBSeconds / out.ruleCliOneLine1MBSeconds, 2);
    out.mineWholeRatio4to1 = round(out.mineWhole4MBSeconds / out.mineWhole1MBSeconds, 2);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
