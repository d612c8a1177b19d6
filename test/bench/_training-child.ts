// One measurement for the training bench (test/bench/training.ts), in a process of its own.
import { DEFAULT_GPT } from '../../lib/engine/gpt.js';
import { packDocuments } from '../../lib/train/data.js';
import { Trainer, resolveTrainConfig } from '../../lib/train/trainer.js';
import { createRng } from '../../lib/repro/rng.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const threads = arg('threads', 2);
const seconds = arg('seconds', 10);
const rng = createRng(1);
const n = 400_000; // the data does not change the speed; random ids keep it self-contained
const ids = Int32Array.from({ length: n }, () => 3 + rng.int(DEFAULT_GPT.vocabSize - 3));
const train = packDocuments([{ ids, mask: new Uint8Array(n).fill(1) }], {
  contextLength: DEFAULT_GPT.contextLength,
  eosId: 2,
});
const config = resolveTrainConfig({ batchSize: 16, steps: 1_000_000, warmupSteps: 10 });
const trainer = await Trainer.create({ gpt: DEFAULT_GPT, config, train, threads });
for (let i = 0; i < 3; i++) trainer.trainStep(); // warm-up: wasm tier-up, caches
let steps = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  trainer.trainStep();
  steps++;
}
const ms = (performance.now() - t0) / steps;
const cpu = process.cpuUsage(cpu0);
await trainer.close();
const fig = {
  threads,
  tokPerS: Math.round((trainer.tokensPerStep * 1000) / ms),
  msPerStep: Number(ms.toFixed(1)),
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
};
// CPU time per step (all threads) tells a loaded machine's figures apart from a slow engine
process.stdout.write(
  JSON.stringify({ ...fig, cpuMsPerStep: Number(((cpu.user + cpu.system) / 1000 / steps).toFixed(1)) }) + '\n',
);
