// Checkpoints: everything a run needs to resume exactly, or a trained model to generate text, in
// one file. Taught in 07-implementation (keeping a model worth keeping).
//
// File format: safetensors (https://huggingface.co/docs/safetensors), so PyTorch opens it with
// `safetensors.torch.load_file`, or with nothing but `json` and `struct` (test/safetensors_logits.py):
//   offset 0    uint64 little-endian  N: byte length of the JSON header
//   offset 8    N bytes  UTF-8 JSON header, padded with spaces so the data starts 8-byte aligned:
//               { "__metadata__": { "format": "rnn-workbook checkpoint", "version": "2",
//                                   "vocab": JSON of idxToToken, "config": JSON of RNNConfig,
//                                   "epoch": JSON of the epochs completed, "rng": JSON of the RngState
//                                   at that epoch boundary, "history": JSON of EpochMetrics[],
//                                   "savedAt": ISO time, "sha256": 64 hex digits },
//                 "W_xh": { "dtype": "F32", "shape": [V, H], "data_offsets": [0, 4VH] },
//                 "W_hh": …, "b_h": …, "W_hq": …, "b_q": … }   (safetensors: metadata values are strings)
//   offset 8+N  the data: float32 little-endian, row-major, the five parameters end to end in
//               PARAM_NAMES order (packParams): W_xh [V,H], W_hh [H,H], b_h [H], W_hq [H,V], b_q [V];
//               data_offsets count from here, and the file ends with b_q.
// "sha256" is the sha256 of the whole file as written with those 64 digits all "0": it detects
// corruption anywhere, header or data.
// Version 1 files (the earlier format: magic "RNNCKPT\0", uint32 version, uint32 header length, a
// sha256, a JSON header, the same float32 data) are still read.
//
// A run's exact position is an epoch boundary: every epoch starts from a zero state, and the RNG
// state there replays the epoch's batch order, so (params, rng, epoch) is all a resume needs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, makeConfig, type RNNConfig } from './config';
import { RNNModelScratch } from './model';
import { mapParams, packParams, PARAM_NAMES, paramShapes, type ParamName } from './params';
import { Rng, type RngState } from './random';
import type { EpochMetrics, TrainProgress } from './train';
import { Vocab } from './vocab';

export const CHECKPOINT_VERSION = 2;
const FORMAT_NAME = 'rnn-workbook checkpoint';
const MAX_HEADER_BYTES = 100_000_000; // safetensors' own limit
const ZERO_DIGEST = '0'.repeat(64);
// Version 1
const V1_MAGIC = 'RNNCKPT\0';
const V1_PREFIX_BYTES = 48; // magic, version, header length, sha256

/** Parameter values as plain row-major arrays; their shapes follow from the vocab and numHiddens. */
export type ParamArrays = Record<ParamName, Float32Array>;

/** What a checkpoint holds, in memory. */
export interface Checkpoint {
  config: RNNConfig;
  vocab: Vocab;
  epoch: number; // epochs completed
  rng: RngState; // at the start of epoch `epoch + 1`
  history: EpochMetrics[];
  params: ParamArrays;
}

/** A checkpoint that cannot be read or written: missing, corrupt, truncated, mismatched. One line. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A snapshot of a run at an epoch boundary: copies, so training on does not change it. */
export function checkpointOf(model: RNNModelScratch, vocab: Vocab, config: RNNConfig, progress: TrainProgress): Checkpoint {
  const params = mapParams(model.params, (v) => (v.dataSync() as Float32Array).slice());
  return { config: { ...config }, vocab, epoch: progress.epoch, rng: progress.rng.getState(), history: progress.history.slice(), params };
}

/** The first parameter holding a NaN or ±Infinity, or null: a diverged model is never worth keeping. */
export function nonFiniteParam(params: ParamArrays): ParamName | null {
  return PARAM_NAMES.find((name) => !params[name].every(Number.isFinite)) ?? null;
}

/** A model holding the checkpoint's parameters (the caller disposes it). */
export function modelFromCheckpoint(ckpt: Checkpoint): RNNModelScratch {
  const model = new RNNModelScratch(ckpt.vocab.size, ckpt.config.numHiddens, { seed: ckpt.config.seed });
  const shapes = paramShapes(ckpt.vocab.size, ckpt.config.numHiddens);
  tf.tidy(() => PARAM_NAMES.forEach((name) => (model.params[name] as tf.Variable).assign(tf.tensor(ckpt.params[name], shapes[name]))));
  return model;
}

/** Where the checkpoint's run stands, to hand to train() and continue it. */
export function progressFromCheckpoint(ckpt: Checkpoint): TrainProgress {
  const rng = new Rng();
  rng.setState(ckpt.rng);
  return { epoch: ckpt.epoch, rng, history: ckpt.history.slice() };
}

/** Refuses to resume on a corpus whose vocabulary numbers the tokens differently. */
export function assertSameVocab(ckpt: Checkpoint, vocab: Vocab, file: string): void {
  const a = ckpt.vocab.idxToToken;
  const b = vocab.idxToToken;
  if (a.length === b.length && a.every((t, i) => t === b[i])) return;
  throw new CheckpointError(
    `checkpoint '${file}' was trained on another vocabulary (${a.length} tokens: ${preview(a)}) than this corpus ` +
      `(${b.length} tokens: ${preview(b)}); resume with the --corpus and settings it was trained on`,
  );
}

function preview(tokens: string[]): string {
  return JSON.stringify(tokens.slice(0, 8).join('')) + (tokens.length > 8 ? '…' : '');
}

/** The metadata fields a checkpoint keeps as JSON text (safetensors' metadata is a string → string map). */
const JSON_FIELDS = ['vocab', 'config', 'epoch', 'rng', 'history'] as const;

/** The bytes of a checkpoint file (format above). */
export function encodeCheckpoint(ckpt: Checkpoint, savedAt = new Date()): Buffer {
  const shapes = paramShapes(ckpt.vocab.size, ckpt.config.numHiddens);
  for (const name of PARAM_NAMES) {
    if (ckpt.params[name].length !== numel(shapes[name])) {
      throw new CheckpointError(`parameter ${name} has ${ckpt.params[name].length} values, expected [${shapes[name]}] for V = ${ckpt.vocab.size}, H = ${ckpt.config.numHiddens}`);
    }
  }
  const fields = { vocab: ckpt.vocab.idxToToken, config: ckpt.config, epoch: ckpt.epoch, rng: ckpt.rng, history: ckpt.history };
  const metadata: Record<string, string> = { format: FORMAT_NAME, version: String(CHECKPOINT_VERSION) };
  for (const key of JSON_FIELDS) metadata[key] = JSON.stringify(fields[key]);
  metadata.savedAt = savedAt.toISOString();
  metadata.sha256 = ZERO_DIGEST;
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of PARAM_NAMES) {
    const bytes = 4 * numel(shapes[name]);
    header[name] = { dtype: 'F32', shape: shapes[name], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]); // data starts 8-byte aligned
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const flat = packParams(ckpt.params); // the one parameter order
  const data = Buffer.alloc(4 * flat.length);
  for (let i = 0; i < flat.length; i++) data.writeFloatLE(flat[i], 4 * i);
  const file = Buffer.concat([length, json, data]);
  const digest = createHash('sha256').update(file).digest('hex');
  const at = json.indexOf(`"sha256":"${ZERO_DIGEST}"`) + '"sha256":"'.length;
  file.write(digest, 8 + at, 'latin1');
  return file;
}

/**
 * Parses and checks checkpoint bytes: layout, length, sha256, then that shapes, vocab, config,
 * epoch, RNG state and values make sense. `file` names the source in error messages. Reads
 * version 2 (safetensors) and version 1.
 */
export function decodeCheckpoint(bytes: Buffer, file: string): Checkpoint {
  const bad = (what: string, fix = 'use an intact copy, or train again with --save') => new CheckpointError(`checkpoint '${file}' ${what}; ${fix}`);
  const notOurs = (why: string) => new CheckpointError(`'${file}' is not an rnn-workbook checkpoint (${why}); pass a file written with --save`);
  if (bytes.length === 0) throw bad('is empty');
  if (bytes.length >= 8 && bytes.toString('latin1', 0, 8) === V1_MAGIC) return decodeV1(bytes, bad);
  if (bytes.length < 8) {
    if (V1_MAGIC.startsWith(bytes.toString('latin1')) || couldStartHeaderLength(bytes)) throw bad(`is truncated (${bytes.length} bytes)`);
    throw notOurs('it is shorter than 8 bytes');
  }
  const n = bytes.readBigUInt64LE(0);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES) || (bytes.length > 8 && bytes[8] !== 0x7b)) {
    throw notOurs('it is neither a safetensors file nor an rnn-workbook checkpoint of version 1');
  }
  const headerBytes = Number(n);
  if (bytes.length < 8 + headerBytes) throw bad(`is truncated (${bytes.length} bytes, its header alone needs ${8 + headerBytes})`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + headerBytes));
  } catch {
    throw bad('is corrupt (its header is not valid JSON)');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('is corrupt (its header is not a JSON object)');
  const meta = header.__metadata__ as Record<string, unknown> | undefined;
  // A safetensors file of someone else's has neither our format name nor a sha256; one of ours with a damaged format name still has its sha256.
  if (meta === null || typeof meta !== 'object' || (meta.format !== FORMAT_NAME && typeof meta.sha256 !== 'string')) {
    throw notOurs(`a safetensors file without __metadata__.format "${FORMAT_NAME}"`);
  }
  const tensors = PARAM_NAMES.map((name) => ({ name, entry: header[name] as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | undefined }));
  const extra = Object.keys(header).filter((k) => k !== '__metadata__' && !(PARAM_NAMES as readonly string[]).includes(k));
  let offset = 0;
  for (const { entry } of tensors) {
    const ok = entry && entry.dtype === 'F32' && isShape(entry.shape) && Array.isArray(entry.data_offsets) && entry.data_offsets[0] === offset && entry.data_offsets[1] === offset + 4 * numel(entry.shape);
    if (!ok || extra.length) throw bad(`is corrupt (its header does not list the five float32 tensors ${PARAM_NAMES.join(', ')} end to end${extra.length ? `; it also lists ${extra.join(', ')}` : ''})`);
    offset += 4 * numel(entry.shape as number[]);
  }
  const expected = 8 + headerBytes + offset;
  if (bytes.length < expected) throw bad(`is truncated (${bytes.length} bytes, expected ${expected})`);
  if (bytes.length > expected) throw bad(`is corrupt (${bytes.length} bytes, expected ${expected}: something was appended)`);
  const digest = meta.sha256;
  const field = Buffer.from(`"sha256":"${String(digest)}"`, 'utf8');
  const at = bytes.indexOf(field, 8);
  if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest) || at < 0 || at + field.length > 8 + headerBytes || bytes.indexOf(field, at + 1) !== -1) {
    throw bad('is corrupt (its header has no sha256 of its contents)');
  }
  const zeroed = Buffer.from(bytes);
  zeroed.write(ZERO_DIGEST, at + '"sha256":"'.length, 'latin1');
  if (createHash('sha256').update(zeroed).digest('hex') !== digest) throw bad('is corrupt (its sha256 does not match its contents)');
  if (meta.format !== FORMAT_NAME) throw notOurs(`a safetensors file without __metadata__.format "${FORMAT_NAME}"`);
  if (meta.version !== String(CHECKPOINT_VERSION)) {
    throw bad(`has format version ${String(meta.version)}, but this rnn-workbook reads versions 1 and ${CHECKPOINT_VERSION}`, 'use the rnn-workbook that wrote it, or train again');
  }
  const fields: Record<string, unknown> = {};
  for (const key of JSON_FIELDS) {
    if (typeof meta[key] !== 'string') throw bad(`has no ${key} in its metadata`, 'it was not written by this rnn-workbook; train again with --save');
    try {
      fields[key] = JSON.parse(meta[key] as string);
    } catch {
      throw bad(`is corrupt (its metadata field ${key} is not valid JSON)`);
    }
  }
  const listed = tensors.map(({ name, entry }) => ({ name, shape: entry!.shape as number[] }));
  return checkHeader(fields, listed, bytes.subarray(8 + headerBytes), (what) => bad(what, 'it was not written by this rnn-workbook; train again with --save'));
}

/** Fewer than 8 bytes that could begin a header length below MAX_HEADER_BYTES (its high bytes are zero). */
function couldStartHeaderLength(bytes: Buffer): boolean {
  return bytes.every((b, i) => i < 3 || (i === 3 ? b < 0x08 : b === 0));
}

/** Version 1: magic, version, header length, sha256, JSON header, float32 data (see the top of this file). */
function decodeV1(bytes: Buffer, bad: (what: string, fix?: string) => CheckpointError): Checkpoint {
  if (bytes.length < V1_PREFIX_BYTES) throw bad(`is truncated (${bytes.length} bytes, shorter than its ${V1_PREFIX_BYTES}-byte prefix)`);
  const version = bytes.readUInt32LE(8);
  if (version !== 1) throw bad(`has format version ${version}, but this rnn-workbook reads versions 1 and ${CHECKPOINT_VERSION}`, 'use the rnn-workbook that wrote it, or train again');
  const headerBytes = bytes.readUInt32LE(12);
  if (bytes.length < V1_PREFIX_BYTES + headerBytes) throw bad(`is truncated (${bytes.length} bytes, its header alone needs ${V1_PREFIX_BYTES + headerBytes})`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.toString('utf8', V1_PREFIX_BYTES, V1_PREFIX_BYTES + headerBytes));
  } catch {
    throw bad('is corrupt (its header is not valid JSON)');
  }
  const listed = Array.isArray(header.params) ? (header.params as { name?: unknown; shape?: unknown }[]) : [];
  if (listed.length !== PARAM_NAMES.length || !listed.every((p) => isShape(p?.shape))) throw bad('is corrupt (its header lists no valid parameter shapes)');
  const expected = V1_PREFIX_BYTES + headerBytes + 4 * listed.reduce((n, p) => n + numel(p.shape as number[]), 0);
  if (bytes.length < expected) throw bad(`is truncated (${bytes.length} bytes, expected ${expected})`);
  if (bytes.length > expected) throw bad(`is corrupt (${bytes.length} bytes, expected ${expected}: something was appended)`);
  const digest = createHash('sha256').update(bytes.subarray(V1_PREFIX_BYTES)).digest();
  if (!digest.equals(bytes.subarray(16, V1_PREFIX_BYTES))) throw bad('is corrupt (its sha256 does not match its contents)');
  const fix = (what: string) => bad(what, 'it was not written by this rnn-workbook; train again with --save');
  if (header.format !== FORMAT_NAME) throw fix(`has format '${String(header.format)}', expected '${FORMAT_NAME}'`);
  return checkHeader(header, listed as { name: unknown; shape: number[] }[], bytes.subarray(V1_PREFIX_BYTES + headerBytes), fix);
}

/** The header's fields, checked one by one, and the data cut into parameters (listed in PARAM_NAMES order). */
function checkHeader(h: Record<string, unknown>, listed: { name: unknown; shape: number[] }[], data: Buffer, bad: (what: string) => CheckpointError): Checkpoint {
  const vocab = h.vocab;
  if (!Array.isArray(vocab) || vocab[0] !== '<unk>' || !vocab.every((t) => typeof t === 'string' && t.length > 0) || new Set(vocab).size !== vocab.length) {
    throw bad('has no valid vocabulary (a list of distinct tokens, <unk> first)');
  }
  if (h.config === null || typeof h.config !== 'object' || Array.isArray(h.config)) throw bad('has no config (an object of settings)');
  let config: RNNConfig;
  try {
    config = makeConfig(h.config as Partial<RNNConfig>);
  } catch (err) {
    throw bad(`has an invalid config (${err instanceof ConfigError ? err.message : String(err)})`);
  }
  const epoch = h.epoch;
  if (!Number.isInteger(epoch) || (epoch as number) < 0) throw bad(`has an invalid epoch count (${String(epoch)})`);
  const rng = h.rng as RngState | undefined;
  if (!rng || !Number.isInteger(rng.s) || rng.s < 0 || rng.s > 0xffffffff || !(rng.spare === null || Number.isFinite(rng.spare))) {
    throw bad('has an invalid RNG state');
  }
  if (!Array.isArray(h.history)) throw bad('has no metrics history');
  if (h.history.length !== epoch) throw bad(`has a metrics history of ${h.history.length} epochs for its ${String(epoch)} completed ones`);
  const broken = (h.history as unknown[]).findIndex((m, i) => !isEpochMetrics(m, i + 1));
  if (broken >= 0) throw bad(`has an invalid metrics history (entry ${broken + 1} is not the metrics of epoch ${broken + 1})`);
  const expected = paramShapes(vocab.length, config.numHiddens);
  const params = {} as ParamArrays;
  let offset = 0;
  listed.forEach((p, i) => {
    const name = PARAM_NAMES[i];
    if (p.name !== name || p.shape.join() !== expected[name].join()) {
      throw bad(`has parameter ${String(p.name)} of shape [${p.shape}] where ${name} [${expected[name]}] belongs (V = ${vocab.length}, H = ${config.numHiddens})`);
    }
    const values = new Float32Array(numel(p.shape));
    for (let j = 0; j < values.length; j++, offset += 4) values[j] = data.readFloatLE(offset);
    params[name] = values;
  });
  const nonFinite = nonFiniteParam(params);
  if (nonFinite) throw bad(`has non-finite values in ${nonFinite}`);
  return { config, vocab: Vocab.fromTokens(vocab), epoch: epoch as number, rng: { s: rng.s, spare: rng.spare }, history: h.history as EpochMetrics[], params };
}

/**
 * Writes a checkpoint atomically: to a temporary file beside it, flushed to disk, then renamed over
 * `file`, so a crash or a second Ctrl-C leaves either the old checkpoint or the new one, never half.
 * Refuses non-finite parameters, so a diverged run never replaces the last good checkpoint.
 */
export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  const bad = nonFiniteParam(ckpt.params);
  if (bad) throw new CheckpointError(`refusing to save epoch ${ckpt.epoch} to '${file}': parameter ${bad} is not finite (training diverged); the file keeps its last good checkpoint`);
  const bytes = encodeCheckpoint(ckpt);
  if (isReadOnly(file)) throw new CheckpointError(`refusing to save epoch ${ckpt.epoch} to '${file}': it is read-only; make it writable (chmod u+w) or save elsewhere`);
  removeStaleTemps(file);
  const tmp = tempName(file, process.pid);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new CheckpointError(`cannot write checkpoint '${file}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the folder exists and is writable`);
  }
}

/** `.NAME.PID.tmp` beside `file`: where process PID writes it before the rename. */
function tempName(file: string, pid: number): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`);
}

/** True when `file` exists and nobody may write it (its mode has no write bit; root could anyway). */
export function isReadOnly(file: string): boolean {
  try {
    return (fs.statSync(file).mode & 0o222) === 0;
  } catch {
    return false;
  }
}

/**
 * Removes temporary files of `file` left by processes that died while saving (kill -9): only
 * this target's `.NAME.PID.tmp`, and only when process PID is gone. Returns the names removed.
 */
export function removeStaleTemps(file: string): string[] {
  const dir = path.dirname(file);
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(file))}\\.(\\d+)\\.tmp$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, name));
      removed.push(name);
    } catch {
      // another process cleaned it up first, or the folder forbids it: harmless either way
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but someone else's
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Reads and checks a checkpoint file; anything wrong with it is one CheckpointError line. */
export function loadCheckpoint(file: string): Checkpoint {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new CheckpointError(`checkpoint '${file}' does not exist; pass a file written with --save`);
  }
  if (!stat.isFile()) throw new CheckpointError(`checkpoint '${file}' is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}; pass a file written with --save`);
  const head = readHead(file, headBytes(file, stat.size));
  if (head.length < stat.size && !looksLikeCheckpoint(head)) return decodeCheckpoint(head, file); // the right message without reading a large file whole
  try {
    return decodeCheckpoint(fs.readFileSync(file), file);
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`checkpoint '${file}' cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check its permissions`);
  }
}

/** How much of a file the header checks need: its header, when it could have one. */
function headBytes(file: string, size: number): number {
  const head = readHead(file, 8);
  if (head.length < 8 || head.toString('latin1') === V1_MAGIC) return Math.min(size, 8);
  const n = head.readBigUInt64LE(0);
  return n <= BigInt(MAX_HEADER_BYTES) ? Math.min(size, 8 + Number(n)) : 8;
}

/**
 * True when the start of a file (its header) says it is one of ours, perhaps damaged further on:
 * version 1's magic, or a safetensors header whose __metadata__ has our format name or a sha256.
 */
function looksLikeCheckpoint(head: Buffer): boolean {
  if (head.length < 8) return false;
  if (head.toString('latin1', 0, 8) === V1_MAGIC) return true;
  const n = head.readBigUInt64LE(0);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES) || head.length < 8 + Number(n) || head[8] !== 0x7b) return false;
  try {
    const meta = JSON.parse(head.toString('utf8', 8, 8 + Number(n)))?.__metadata__;
    return meta?.format === FORMAT_NAME || typeof meta?.sha256 === 'string';
  } catch {
    return false;
  }
}

/**
 * True when `file` is an rnn-workbook checkpoint as far as its header says (version 1's magic, or a
 * safetensors header with our metadata), so overwriting it loses no other kind of file.
 */
export function isCheckpointFile(file: string): boolean {
  try {
    return looksLikeCheckpoint(readHead(file, headBytes(file, fs.statSync(file).size)));
  } catch {
    return false;
  }
}

function readHead(file: string, n: number): Buffer {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(n);
    let got = 0;
    for (let r = -1; got < n && r !== 0; got += r) r = fs.readSync(fd, buf, got, n - got, got);
    return buf.subarray(0, got);
  } catch (err) {
    throw new CheckpointError(`checkpoint '${file}' cannot be read (${(err as NodeJS.ErrnoException).code}); check its permissions`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** One epoch's metrics as train() records them (a resumed run prints and extends them). */
function isEpochMetrics(m: unknown, epoch: number): m is EpochMetrics {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return false;
  const r = m as Record<string, unknown>;
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const g = r.gradNorm as Record<string, unknown> | null;
  return (
    r.epoch === epoch &&
    ['loss', 'perplexity', 'tokens', 'seconds', 'tokensPerSec', 'clippedFraction'].every((k) => finite(r[k])) &&
    g !== null &&
    typeof g === 'object' &&
    ['mean', 'min', 'max'].every((k) => finite(g[k])) &&
    (r.sample === undefined || typeof r.sample === 'string')
  );
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.length >= 1 && s.length <= 2 && s.every((d) => Number.isInteger(d) && d > 0);
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
