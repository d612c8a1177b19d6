// `npm run bench -- templates [--mb 20] [--seed 1]`: renders about 20 MB of chains into pre-training
// texts (three passes, median reported) and reports MB/s of chain text (contexts + questions + answers, UTF-8) rendered per second.
// Chains: Brown corpus documents cut into 1-3 KB contexts (the size of a synthesizer input), 1-4
// entries per chain, 0-6 pairs per entry of every kind (plain, multiple choice, chain of thought).
// Each output text is flattened inside the timed loop (V8 builds strings lazily), so the figure
// includes the real cost of the concatenations.

import { parseArgs } from 'node:util';
import { loadBrown } from '../../lib/corpus/brown.js';
import { createProgress } from '../../lib/repro/progress.js';
import { chainSeed, renderChain, FAMILIES } from '../../lib/templates/render.js';
import type { Chain } from '../../lib/synth/format.js';
import { chainTextBytes, makeChains } from './_chains.js';

function contexts(): string[] {
  const out: string[] = [];
  for (const doc of loadBrown()) {
    let chunk = '';
    const target = 1000 + (out.length % 3) * 1000;
    for (const para of doc.text.split('\n\n')) {
      chunk = chunk ? `${chunk}\n\n${para}` : para;
      if (chunk.length >= target) {
        out.push(chunk);
        chunk = '';
      }
    }
    if (chunk.length > 200) out.push(chunk);
  }
  return out;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: { mb: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' } },
  });
  const targetBytes = Number(values.mb) * 1e6;
  const seed = Number(values.seed);
  const texts = contexts();
  const chains: Chain[] = [];
  let inputBytes = 0;
  const gen = createProgress({ label: 'templates: chains', total: targetBytes, bytes: true });
  for (let batch = 0; inputBytes < targetBytes; batch++) {
    for (const c of makeChains(texts.slice((batch * 997) % texts.length).concat(texts), 500, seed + batch)) {
      chains.push(c);
      inputBytes += chainTextBytes(c);
      if (inputBytes >= targetBytes) break;
    }
    gen.update(inputBytes);
  }
  gen.stop();

  // warm-up on a slice, then one timed pass over everything
  for (let i = 0; i < Math.min(2000, chains.length); i++) renderChain(chains[i], chainSeed(seed + 1, i));

  // three timed passes over everything (one is only ~0.1 s); the median is reported
  const families: Record<string, number> = Object.fromEntries([...FAMILIES, 'raw'].map((f) => [f, 0]));
  let outTexts: string[] = [];
  let flat = 0;
  const passes: number[] = [];
  const bar = createProgress({ label: 'templates: render', total: 3 * chains.length, unit: 'chains' });
  for (let pass = 0; pass < 3; pass++) {
    const texts: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < chains.length; i++) {
      for (const r of renderChain(chains[i], chainSeed(seed, i))) {
        flat += r.text.charCodeAt(r.text.length >> 1) | 0; // forces V8 to flatten the rope
        if (pass === 0) families[r.family]++;
        texts.push(r.text);
      }
      if ((i & 1023) === 0) bar.update(pass * chains.length + i);
    }
    passes.push((performance.now() - t0) / 1000);
    outTexts = texts;
  }
  bar.update(3 * chains.length);
  bar.stop();
  const seconds = [...passes].sort((a, b) => a - b)[1];

  const t1 = performance.now();
  let jsonChars = 0;
  for (const t of outTexts) jsonChars += JSON.stringify({ text: t }).length + 1;
  const jsonSeconds = (performance.now() - t1) / 1000;

  let outputBytes = 0;
  for (const t of outTexts) outputBytes += Buffer.byteLength(t);
  return {
    mbPerS: round(inputBytes / 1e6 / seconds),
    inputMB: round(inputBytes / 1e6),
    outputMB: round(outputBytes / 1e6),
    outputMbPerS: round(outputBytes / 1e6 / seconds),
    seconds: round(seconds),
    passSeconds: passes.map((x) => Math.round(x * 1000) / 1000),
    chains: chains.length,
    texts: outTexts.length,
    families,
    jsonlMbPerS: round(inputBytes / 1e6 / (seconds + jsonSeconds)),
    jsonlChars: jsonChars,
    checksum: flat,
    node: process.version,
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
