// Checksummed safetensors files, for checkpoints: a run resumed from silently corrupt weights (a flipped
// bit the layout checks cannot see) trains on garbage and exits 0. The checksum lives in the file's own
// metadata ("ipt.sha256"), so a checkpoint stays one file, written atomically: sha256 over the canonical
// JSON of the other metadata, then each tensor by name (name, dtype, shape, bytes). It depends on the
// tensors and metadata only, not on the header's layout, so any reader of the format can check it.

import { createHash } from 'node:crypto';
import { canonicalJson } from '../repro/hash.js';
import { readSafetensors, writeSafetensors, type SafeTensor, type SafetensorsFile } from './safetensors.js';

/** The metadata key of the checksum. */
export const CHECKSUM_KEY = 'ipt.sha256';

type Tensors = Record<string, { shape: number[]; data: SafeTensor['data'] }>;

function dtypeName(data: SafeTensor['data']): string {
  return data instanceof Float32Array ? 'F32' : data instanceof Int32Array ? 'I32' : 'F64';
}

export function safetensorsChecksum(tensors: Tensors, metadata: Record<string, string>): string {
  const { [CHECKSUM_KEY]: _own, ...rest } = metadata;
  void _own;
  const h = createHash('sha256').update(canonicalJson(rest));
  for (const name of Object.keys(tensors).sort()) {
    const { shape, data } = tensors[name];
    h.update(canonicalJson([name, dtypeName(data), shape]));
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex');
}

/** Writes a safetensors file (atomically) whose metadata carries the checksum of its content. */
export function writeChecksummedSafetensors(
  path: string,
  tensors: Tensors,
  metadata: Record<string, string> = {},
): void {
  if (CHECKSUM_KEY in metadata) throw new Error(`safetensors: the metadata key "${CHECKSUM_KEY}" is the checksum's`);
  writeSafetensors(path, tensors, { ...metadata, [CHECKSUM_KEY]: safetensorsChecksum(tensors, metadata) });
}

/** Throws, with the reader's "not a valid safetensors file" wording, when the checksum is absent or does not match. */
export function verifySafetensorsChecksum(file: SafetensorsFile, source: string): SafetensorsFile {
  const bad = (why: string) =>
    new Error(
      `${source} is not a valid safetensors file: ${why} (re-create it; a copy gone wrong, a full disk or a failing drive leaves such files)`,
    );
  const stored = file.metadata[CHECKSUM_KEY];
  if (stored === undefined) throw bad('it has no checksum (written by an older kit?), so it cannot be verified');
  if (stored !== safetensorsChecksum(file.tensors, file.metadata))
    throw bad('its checksum does not match its content (a changed byte)');
  return file;
}

/** Reads a file written by writeChecksummedSafetensors, verified. */
export function readChecksummedSafetensors(path: string): SafetensorsFile {
  return verifySafetensorsChecksum(readSafetensors(path), path);
}
