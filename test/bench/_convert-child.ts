// One conversion of the convert benchmark in a process of its own, so its peak RSS is its own.
// Usage: node _convert-child.js SRC OUT FORMAT DTYPE; prints {"seconds", "maxRssMB", "outputBytes"}.
import { convertCheckpoint } from '../../lib/convert/convert.js';
import { convertToGguf, type GgufDtype } from '../../lib/convert/to-gguf.js';
import type { OnnxDtype } from '../../lib/convert/onnx-weights.js';

const [src, out, format, dtype] = process.argv.slice(2);
const started = performance.now();
const outputBytes =
  format === 'gguf'
    ? (await convertToGguf({ source: src, out, dtype: dtype as GgufDtype })).outputBytes
    : (await convertCheckpoint({ source: src, out, dtype: dtype as OnnxDtype, progress: 'lines' })).outputBytes;
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, outputBytes }) + '\n');
