// The loopback hub in a worker thread for the download benchmark, so serving and downloading do
// not share one event loop (as they would not with huggingface.co).
import { parentPort, workerData } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { FakeHub } from '../hub/fake-hub.js';

const { mb } = workerData as { mb: number };
const hub = await FakeHub.start([
  {
    type: 'model',
    id: 'bench/big',
    commits: [[{ path: 'model.safetensors', content: randomBytes(mb * 1_000_000), lfs: true }]],
  },
]);
parentPort!.postMessage({ url: hub.url });
parentPort!.on('message', async (m: string) => {
  if (m === 'close') {
    await hub.close();
    process.exit(0);
  }
});
