// Checkpoint files taken apart and put together by hand, following the layout documented at the top
// of src/checkpoint.ts (safetensors, and the earlier version 1), without the library's encoder: the
// tests use it to check the layout and to make files that only one of the reader's checks refuses.
import { createHash } from 'node:crypto';

/** A version-2 file's parts: the JSON header (parsed) and the data after it. */
export function splitSafetensors(bytes: Buffer): { header: Record<string, any>; headerBytes: number; data: Buffer } {
  const headerBytes = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + headerBytes));
  return { header, headerBytes, data: bytes.subarray(8 + headerBytes) };
}

/** A version-2 file from a header and data: length, JSON padded to 8 bytes, data, and the sha256 rule of the format. */
export function joinSafetensors(header: Record<string, any>, data: Buffer): Buffer {
  const zeros = '0'.repeat(64);
  const h = { ...header, __metadata__: { ...header.__metadata__, sha256: zeros } };
  let json = Buffer.from(JSON.stringify(h), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const file = Buffer.concat([length, json, data]);
  const digest = createHash('sha256').update(file).digest('hex');
  const at = 8 + json.indexOf(`"sha256":"${zeros}"`) + '"sha256":"'.length;
  file.write(digest, at, 'latin1');
  return file;
}

/** The metadata's JSON fields, parsed: what `change` may edit in withMetadata. */
export interface Fields {
  vocab: any;
  config: any;
  epoch: any;
  rng: any;
  history: any;
}
const FIELDS = ['vocab', 'config', 'epoch', 'rng', 'history'] as const;

/** The checkpoint's bytes with its metadata changed and its sha256 recomputed: only the checks of the contents can refuse it. */
export function withMetadata(bytes: Buffer, change: (fields: Fields) => void): Buffer {
  const { header, data } = splitSafetensors(bytes);
  const meta = header.__metadata__;
  const fields = Object.fromEntries(FIELDS.map((k) => [k, JSON.parse(meta[k])])) as unknown as Fields;
  change(fields);
  for (const k of FIELDS) meta[k] = JSON.stringify(fields[k]);
  return joinSafetensors(header, data);
}

/** The same checkpoint in version 1 (magic, version, header length, sha256, JSON header, data): what earlier rnn-workbooks wrote. */
export function toVersion1(bytes: Buffer): Buffer {
  const { header, data } = splitSafetensors(bytes);
  const meta = header.__metadata__;
  const names = ['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q'];
  const v1 = {
    format: 'rnn-workbook checkpoint',
    params: names.map((name) => ({ name, shape: header[name].shape })),
    vocab: JSON.parse(meta.vocab),
    config: JSON.parse(meta.config),
    epoch: JSON.parse(meta.epoch),
    rng: JSON.parse(meta.rng),
    history: JSON.parse(meta.history),
    savedAt: meta.savedAt,
  };
  let json = Buffer.from(JSON.stringify(v1), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, ' ')]);
  const prefix = Buffer.alloc(48);
  prefix.write('RNNCKPT\0', 0, 'latin1');
  prefix.writeUInt32LE(1, 8);
  prefix.writeUInt32LE(json.length, 12);
  createHash('sha256').update(json).update(data).digest().copy(prefix, 16);
  return Buffer.concat([prefix, json, data]);
}
