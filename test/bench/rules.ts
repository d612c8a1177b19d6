// `npm run bench -- rules [seed]`: the rule-based synthesizer over all of Brown (cut into 1-2 KB
// texts): throughput, pairs per text, kind mix and the quality figures of lib/synth/quality.
import { loadBrown } from '../../lib/corpus/brown.js';
import { contextsOf } from '../../lib/corpus/chunk.js';
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
  return {
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
