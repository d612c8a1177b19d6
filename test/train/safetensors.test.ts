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
  assert.throws(() => decodeSafetensors(good.subarray(0, good.length - 3), 'm.safetensors'), /m\.safetensors is not a valid safetensors file: .*truncated/);
  assert.throws(() => decodeSafetensors(good.subarray(0, 5)), /shorter than its 8-byte header/);
  const badJson = Uint8Array.from(good);
  badJson[9] = 0x7b; // '{' inside the header
  assert.throws(() => decodeSafetensors(badJson), /not JSON|not a valid/);
  const extra = new Uint8Array(good.length + 4);
  extra.set(good);
  assert.throws(() => decodeSafetensors(extra), /cover 16 of 20 data bytes/);
  assert.throws(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(4) } }), /4 values for shape \[3\]/);
});

test('with a checksum, one flipped bit anywhere in the data or the header is an error; the checksum is in the metadata', () => {
  const tensors = { w: { shape: [64], data: new Float32Array(64).map((_, i) => i / 7) }, b: { shape: [2], data: new Float32Array([1, 2]) } };
  const good = encodeSafetensors(tensors, { step: '3' }, { checksum: true });
  const back = decodeSafetensors(good, 'c.safetensors');
  assert.equal(back.metadata.step, '3');
  assert.match(back.metadata['ipt.sha256'], /^[0-9a-f]{64}$/);
  const n = Number(Buffer.from(good).readBigUInt64LE(0));
  for (const at of [8 + n, 8 + n + 100, good.length - 1]) {
    const flipped = Uint8Array.from(good);
    flipped[at] ^= 0x01;
    assert.throws(() => decodeSafetensors(flipped, 'c.safetensors'), /c\.safetensors is not a valid safetensors file: its checksum does not match/);
  }
  // a value in the metadata: still JSON, another step
  const text = Buffer.from(good).toString('latin1');
  const stepAt = text.indexOf('"step":"3"') + 8;
  const meta = Uint8Array.from(good);
  meta[stepAt] = '4'.charCodeAt(0);
  assert.throws(() => decodeSafetensors(meta, 'c.safetensors'), /checksum does not match/);
  // requireChecksum: a file written without one cannot be verified
  assert.throws(() => decodeSafetensors(encodeSafetensors(tensors), 'old.safetensors', { requireChecksum: true }), /old\.safetensors is not a valid safetensors file: it has no checksum/);
});
