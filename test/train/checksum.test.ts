// Checksummed safetensors (checkpoints): one flipped bit anywhere in the data, or a changed metadata value,
// is an error naming the file; a file without a checksum cannot be verified and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CHECKSUM_KEY, readChecksummedSafetensors, writeChecksummedSafetensors } from '../../lib/train/checksum.js';
import { writeSafetensors } from '../../lib/train/safetensors.js';

test('with a checksum, one flipped bit in the data or a changed metadata value is an error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipt-checksum-'));
  try {
    const path = join(dir, 'c.safetensors');
    const tensors = {
      w: { shape: [64], data: new Float32Array(64).map((_, i) => i / 7) },
      b: { shape: [2], data: new Float32Array([1, 2]) },
    };
    writeChecksummedSafetensors(path, tensors, { step: '3' });
    const back = readChecksummedSafetensors(path);
    assert.equal(back.metadata.step, '3');
    assert.match(back.metadata[CHECKSUM_KEY], /^[0-9a-f]{64}$/);
    assert.deepEqual(Array.from(back.tensors.w.data), Array.from(tensors.w.data));
    const good = readFileSync(path);
    const n = Number(good.readBigUInt64LE(0));
    for (const at of [8 + n, 8 + n + 100, good.length - 1]) {
      const flipped = Buffer.from(good);
      flipped[at] ^= 0x01;
      writeFileSync(path, flipped);
      assert.throws(
        () => readChecksummedSafetensors(path),
        new RegExp(`${path.replace(/[.]/g, '\\.')} is not a valid safetensors file: its checksum does not match`),
      );
    }
    // a value in the metadata: still JSON, another step
    const meta = Buffer.from(good);
    meta[good.toString('latin1').indexOf('"step":"3"') + 8] = '4'.charCodeAt(0);
    writeFileSync(path, meta);
    assert.throws(() => readChecksummedSafetensors(path), /checksum does not match/);
    // written without one: it cannot be verified
    writeSafetensors(path, tensors, { step: '3' });
    assert.throws(
      () => readChecksummedSafetensors(path),
      /c\.safetensors is not a valid safetensors file: it has no checksum/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
