// The GGUF writer against an independent reader (node-llama-cpp's readGgufFileInfo, when installed)
// and Q8_0 blocks against their definition.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { GgufWriter, ggmlBytes, quantizeQ8 } from '../../lib/convert/gguf.js';
import { interleaveRotaryRows } from '../../lib/convert/to-gguf.js';
import { HALF_TO_FLOAT } from '../../lib/engine/float16.js';
import { createRng } from '../../lib/repro/rng.js';
import { loadNodeLlamaCpp } from '../../lib/engine/llama-module.js';
import { LLAMA_SKIP } from '../engine/llama-setup.js';

const root = mkdtempSync(join(tmpdir(), 'ipt-gguf-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('Q8_0: a float16 scale max|x| / 127 and 32 codes per block; values within half a step', () => {
  const rng = createRng(1);
  const x = Float32Array.from({ length: 64 }, () => rng.normal());
  const q = quantizeQ8(x);
  assert.equal(q.length, 2 * 34);
  const view = new DataView(q.buffer);
  for (let b = 0; b < 2; b++) {
    const block = x.subarray(b * 32, (b + 1) * 32);
    const amax = Math.max(...Array.from(block, Math.abs));
    const d = HALF_TO_FLOAT[view.getUint16(b * 34, true)];
    assert.ok(Math.abs(d - amax / 127) < (amax / 127) * 1e-3);
    for (let i = 0; i < 32; i++) {
      const back = view.getInt8(b * 34 + 2 + i) * d;
      assert.ok(Math.abs(back - block[i]) <= d / 2 + 1e-6, `block ${b} value ${i}`);
    }
  }
  assert.throws(() => quantizeQ8(new Float32Array(33)), /multiple of 32/);
});

test('rotary rows go from rotate-half to interleaved pairs, head by head', () => {
  // 2 heads of size 4, 1 column: rows h*4 + [0, 1, 2, 3] = (x0, x1, y0, y1) pair (x_i, y_i)
  const w = Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]);
  assert.deepEqual(Array.from(interleaveRotaryRows(w, 2, 1)), [0, 10, 1, 11, 20, 30, 21, 31]);
});

test(
  'a written file reads back with its metadata, tensor shapes, types and offsets',
  { skip: LLAMA_SKIP },
  async () => {
    const path = join(root, 'x.gguf');
    const tensors = [
      { name: 'a.weight', shape: [2, 32], type: 'F32' as const },
      { name: 'b.weight', shape: [3, 64], type: 'Q8_0' as const },
      { name: 'c.weight', shape: [5], type: 'F16' as const },
    ];
    const w = GgufWriter.open(
      path,
      {
        'general.architecture': { type: 'string', value: 'llama' },
        'llama.block_count': { type: 'u32', value: 7 },
        'llama.rope.freq_base': { type: 'f32', value: 10000 },
        'tokenizer.ggml.tokens': { type: 'strings', value: ['<s>', 'é', '\n'] },
        'tokenizer.ggml.token_type': { type: 'i32s', value: [3, 1, 1] },
        'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
      },
      tensors,
    );
    for (const t of tensors) w.write(t.name, new Float32Array(t.shape.reduce((a, b) => a * b, 1)).fill(0.5));
    w.close();
    const { readGgufFileInfo } = (await loadNodeLlamaCpp()) as unknown as {
      readGgufFileInfo(p: string): Promise<{
        version: number;
        metadata: Record<string, Record<string, unknown>>;
        fullTensorInfo?: Array<{
          name: string;
          dimensions: Array<number | bigint>;
          ggmlType: number;
          offset: number | bigint;
        }>;
      }>;
    };
    const info = await readGgufFileInfo(path);
    assert.equal(info.version, 3);
    const llama = info.metadata.llama as { block_count: number; rope: { freq_base: number } };
    assert.equal(llama.block_count, 7);
    assert.equal(llama.rope.freq_base, 10000);
    const tok = (
      info.metadata.tokenizer as { ggml: { tokens: string[]; token_type: number[]; add_bos_token: boolean } }
    ).ggml;
    assert.deepEqual(tok.tokens, ['<s>', 'é', '\n']);
    assert.deepEqual(tok.token_type, [3, 1, 1]);
    assert.equal(tok.add_bos_token, false);
    assert.deepEqual(
      info.fullTensorInfo!.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType, Number(t.offset)]),
      [
        ['a.weight', [32, 2], 0, 0],
        ['b.weight', [64, 3], 8, 256],
        ['c.weight', [5], 1, 256 + 224],
      ],
    );
    // header, then each tensor's bytes padded to 32
    const data = ggmlBytes([2, 32], 'F32') + ggmlBytes([3, 64], 'Q8_0') + 32 + ggmlBytes([5], 'F16') + 22;
    assert.equal(statSync(path).size % 32, 0);
    assert.ok(statSync(path).size > data);
    assert.equal(readFileSync(path).subarray(0, 4).toString('latin1'), 'GGUF');
  },
);
