// The int4 quantizer in MatMulNBits' layout: codes, scales, padding and the error bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantizeInt4, quantizeInt4 } from '../../lib/convert/int4.js';
import { createRng } from '../../lib/repro/rng.js';

test('each weight is within half a step (max |block| / 16) of its value, one step at the far end; the extreme value is exact', () => {
  const rng = createRng(4);
  const N = 5;
  const K = 80; // two full blocks of 32 and a short one of 16
  const w = Float32Array.from({ length: N * K }, () => rng.normal() * 3);
  const q = quantizeInt4(w, N, K, 32);
  assert.equal(q.packed.length, N * 3 * 16);
  assert.equal(q.scales.length, N * 3);
  const back = dequantizeInt4(q);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < 3; b++) {
      const block = Array.from(w.subarray(n * K + b * 32, n * K + Math.min(K, (b + 1) * 32)));
      const m = block.reduce((a, x) => (Math.abs(x) > Math.abs(a) ? x : a), 0);
      block.forEach((x, i) => {
        const y = back[n * K + b * 32 + i];
        // codes span -8..7 steps from m's side: values beyond 7.5 steps on the other side clamp to 7
        const bound = Math.abs(x / (m / -8)) > 7.5 ? Math.abs(m) / 8 : Math.abs(m) / 16;
        assert.ok(Math.abs(x - y) <= bound + 1e-6, `row ${n} block ${b} value ${i}: ${x} -> ${y}`);
      });
      const at = block.indexOf(m);
      assert.ok(
        Math.abs(back[n * K + b * 32 + at] - m) < 1e-5 * Math.abs(m),
        'the largest magnitude maps to code 0 exactly',
      );
    }
  }
});

test('codes are packed low nibble first with zero point 8; an all-zero block stays zero', () => {
  const w = new Float32Array(32);
  w[0] = -8; // code 0
  w[1] = 1; // scale -8 / -8 = 1: code 1 + 8 = 9
  const q = quantizeInt4(w, 1, 32, 32);
  assert.equal(q.scales[0], 1);
  assert.equal(q.packed[0], 0x90);
  assert.equal(q.packed[1], 0x88);
  assert.deepEqual(Array.from(dequantizeInt4(quantizeInt4(new Float32Array(32), 1, 32, 32))), new Array(32).fill(0));
  assert.throws(() => quantizeInt4(w, 1, 32, 24), /block size must be one of/);
});
