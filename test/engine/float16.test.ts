// 16-bit float conversions: every float16 value survives a round trip, float32 values round to the
// nearest float16 (ties to even), bfloat16 is the top half of a float32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HALF_TO_FLOAT, floatToHalf, fromBfloat16, fromHalf, toBfloat16, toHalf } from '../../lib/engine/float16.js';

test('every float16 bit pattern converts to float32 and back unchanged (NaNs stay NaN)', () => {
  for (let h = 0; h < 65536; h++) {
    const x = HALF_TO_FLOAT[h];
    if (Number.isNaN(x)) assert.ok(Number.isNaN(HALF_TO_FLOAT[floatToHalf(x)]));
    else assert.equal(floatToHalf(x), h, `pattern ${h.toString(16)}`);
  }
});

test('rounding to nearest, ties to even; overflow to infinity; tiny values to zero or subnormals', () => {
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00, 'a tie rounds to the even mantissa');
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(floatToHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01, 'above the tie rounds up');
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00, '65520 rounds up to infinity');
  assert.equal(floatToHalf(-1e6), 0xfc00);
  assert.equal(floatToHalf(2 ** -24), 0x0001, 'the smallest subnormal');
  assert.equal(floatToHalf(2 ** -26), 0x0000);
  assert.equal(floatToHalf(-0), 0x8000);
  const xs = Float32Array.from([0.1, -2.5, 3.14159, 1e-5]);
  const back = fromHalf(toHalf(xs));
  xs.forEach((x, i) => assert.ok(Math.abs(back[i] - x) <= Math.abs(x) * 2 ** -11 + 2 ** -25, `${x} -> ${back[i]}`));
});

test('bfloat16: the top 16 bits of a float32, rounded to nearest even', () => {
  const xs = Float32Array.from([1, -2, 0.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, -0]);
  const bits = toBfloat16(xs);
  assert.deepEqual(Array.from(bits), [0x3f80, 0xc000, 0x3f00, 0x3f80, 0x3f82, 0x7f80, 0x8000]);
  assert.deepEqual(Array.from(fromBfloat16(Uint16Array.from([0x3f80, 0xc040]))), [1, -3]);
  assert.ok(Number.isNaN(fromBfloat16(toBfloat16(Float32Array.from([NaN])))[0]));
});
