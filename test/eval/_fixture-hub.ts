// A loopback hub serving the benchmark fixtures (test/eval/fixtures.ts) in its own process, for
// notebook 08's CI run: prints {"url": ...} on its first line, serves until its stdin closes.
import { FakeHub } from '../hub/fake-hub.js';
import { benchmarkFixtures } from './fixtures.js';

const hub = await FakeHub.start(benchmarkFixtures());
process.stdout.write(JSON.stringify({ url: hub.url }) + '\n');
const stop = async () => {
  await hub.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
