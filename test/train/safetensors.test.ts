// safetensors: byte layout, round trips, and clear errors for truncated or corrupt files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors } from '../../lib/train/safetensors.js';

test('layout: u64 header length, JSON header, 8-byte aligned little-endian data', () => {
  const bytes = encodeSafetensors({ a: { shape: [2], data: new Float32Array([1, -2]) } }, { format: 'pt' });
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  assert.deepEqual(header, { __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
  assert.equal(Buffer.from(bytes).readFloatLE(8 + n + 4), -2);
});

test('round trip of F32, I32 and F64 tensors and metadata', () => {
  const tensors = {
    w: { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) },
    ids: { shape: [3], data: new Int32Array([-1, 0, 7]) },
    d: { shape: [1], data: new Float64Array([Math.PI]) },
    empty: { shape: [0, 4], data: new Float32Array(0) },
  };
  const back = decodeSafetensors(encodeSafetensors(tensors, { step: '12' }));
  assert.deepEqual(back.metadata, { step: '12' });
  for (const [name, t] of Object.entries(tensors)) {
    assert.deepEqual(back.tensors[name].shape, t.shape);
    assert.deepEqual(Array.from(back.tensors[name].data), Array.from(t.data));
  }
});

test('truncated, corrupt and inconsistent files are rejected with a clear message', () => {
  const good = encodeSafetensors({ w: { shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
  assert.throws(
    () => decodeSafetensors(good.subarray(0, good.length - 3), 'm.safetensors'),
    /m\.safetensors is not a valid safetensors file: .*truncated/,
  );
  assert.throws(() => decodeSafetensors(good.subarray(0, 5)), /shorter than its 8-byte header/);
  const badJson = Uint8Array.from(good);
  badJson[9] = 0x7b; // '{' inside the header
  assert.throws(() => decodeSafetensors(badJson), /not JSON|not a valid/);
  const extra = new Uint8Array(good.length + 4);
  extra.set(good);
  assert.throws(() => decodeSafetensors(extra), /cover 16 of 20 data bytes/);
  assert.throws(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(4) } }), /4 values for shape \[3\]/);
});
