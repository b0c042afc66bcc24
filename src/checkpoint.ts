// Checkpoints: everything a run needs to resume exactly, or a trained model to generate text, in
// one file. Taught in 07-implementation (keeping a model worth keeping).
//
// File format, version 1. Integers are little-endian uint32.
//   offset  0   8 bytes  magic "RNNCKPT\0"
//   offset  8   uint32   format version (1)
//   offset 12   uint32   N: byte length of the JSON header, padded with spaces to a multiple of 4
//   offset 16  32 bytes  sha256 of everything after it (header and data), to detect corruption
//   offset 48   N bytes  UTF-8 JSON header: { format, params: [{name, shape}], vocab (idxToToken),
//                        config (RNNConfig), epoch (completed), rng (RngState at that epoch
//                        boundary), history (EpochMetrics[]), savedAt (ISO time) }
//   offset 48+N          float32 little-endian parameter data, row-major, in PARAM_NAMES order:
//                        W_xh [V,H], W_hh [H,H], b_h [H], W_hq [H,V], b_q [V]; the file ends there.
// A run's exact position is an epoch boundary: every epoch starts from a zero state, and the RNG
// state there replays the epoch's batch order, so (params, rng, epoch) is all a resume needs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, makeConfig, type RNNConfig } from './config';
import { RNNModelScratch } from './model';
import { mapParams, PARAM_NAMES, paramShapes, type ParamName } from './params';
import { Rng, type RngState } from './random';
import type { EpochMetrics, TrainProgress } from './train';
import { Vocab } from './vocab';

export const CHECKPOINT_MAGIC = 'RNNCKPT\0';
export const CHECKPOINT_VERSION = 1;
const FORMAT_NAME = 'rnn-workbook checkpoint';
const PREFIX_BYTES = 48; // magic, version, header length, sha256

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

/** The bytes of a checkpoint file (format above). */
export function encodeCheckpoint(ckpt: Checkpoint, savedAt = new Date()): Buffer {
  const shapes = paramShapes(ckpt.vocab.size, ckpt.config.numHiddens);
  for (const name of PARAM_NAMES) {
    if (ckpt.params[name].length !== numel(shapes[name])) {
      throw new CheckpointError(`parameter ${name} has ${ckpt.params[name].length} values, expected [${shapes[name]}] for V = ${ckpt.vocab.size}, H = ${ckpt.config.numHiddens}`);
    }
  }
  const header = {
    format: FORMAT_NAME,
    params: PARAM_NAMES.map((name) => ({ name, shape: shapes[name] })),
    vocab: ckpt.vocab.idxToToken,
    config: ckpt.config,
    epoch: ckpt.epoch,
    rng: ckpt.rng,
    history: ckpt.history,
    savedAt: savedAt.toISOString(),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, ' ')]); // data starts 4-byte aligned
  const data = Buffer.alloc(4 * PARAM_NAMES.reduce((n, name) => n + ckpt.params[name].length, 0));
  let offset = 0;
  for (const name of PARAM_NAMES) for (const x of ckpt.params[name]) offset = data.writeFloatLE(x, offset);
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(CHECKPOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  createHash('sha256').update(json).update(data).digest().copy(prefix, 16);
  return Buffer.concat([prefix, json, data]);
}

/**
 * Parses and checks checkpoint bytes: magic, version, length, sha256, then that shapes, vocab,
 * config, epoch, RNG state and values make sense. `file` names the source in error messages.
 */
export function decodeCheckpoint(bytes: Buffer, file: string): Checkpoint {
  const bad = (what: string, fix = 'use an intact copy, or train again with --save') => new CheckpointError(`checkpoint '${file}' ${what}; ${fix}`);
  if (bytes.length === 0) throw bad('is empty');
  if (bytes.length < 8 || bytes.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) {
    if (bytes.length < 8 && CHECKPOINT_MAGIC.startsWith(bytes.toString('latin1'))) throw bad(`is truncated (${bytes.length} bytes)`);
    throw new CheckpointError(`'${file}' is not an rnn-workbook checkpoint (it does not start with "RNNCKPT"); pass a file written with --save`);
  }
  if (bytes.length < PREFIX_BYTES) throw bad(`is truncated (${bytes.length} bytes, shorter than its ${PREFIX_BYTES}-byte prefix)`);
  const version = bytes.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) {
    throw bad(`has format version ${version}, but this rnn-workbook reads version ${CHECKPOINT_VERSION}`, 'use the rnn-workbook that wrote it, or train again');
  }
  const headerBytes = bytes.readUInt32LE(12);
  if (bytes.length < PREFIX_BYTES + headerBytes) throw bad(`is truncated (${bytes.length} bytes, its header alone needs ${PREFIX_BYTES + headerBytes})`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes));
  } catch {
    throw bad('is corrupt (its header is not valid JSON)');
  }
  const shapes = Array.isArray(header.params) ? (header.params as { shape?: unknown }[]).map((p) => p?.shape) : [];
  if (shapes.length !== PARAM_NAMES.length || !shapes.every(isShape)) throw bad('is corrupt (its header lists no valid parameter shapes)');
  const expected = PREFIX_BYTES + headerBytes + 4 * (shapes as number[][]).reduce((n, s) => n + numel(s), 0);
  if (bytes.length < expected) throw bad(`is truncated (${bytes.length} bytes, expected ${expected})`);
  if (bytes.length > expected) throw bad(`is corrupt (${bytes.length} bytes, expected ${expected}: something was appended)`);
  const digest = createHash('sha256').update(bytes.subarray(PREFIX_BYTES)).digest();
  if (!digest.equals(bytes.subarray(16, PREFIX_BYTES))) throw bad('is corrupt (its sha256 does not match its contents)');
  return checkHeader(header, bytes.subarray(PREFIX_BYTES + headerBytes), (what) => bad(what, 'it was not written by this rnn-workbook; train again with --save'));
}

/** The header's fields, checked one by one, and the data cut into parameters. */
function checkHeader(h: Record<string, unknown>, data: Buffer, bad: (what: string) => CheckpointError): Checkpoint {
  if (h.format !== FORMAT_NAME) throw bad(`has format '${String(h.format)}', expected '${FORMAT_NAME}'`);
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
  (h.params as { name: unknown; shape: number[] }[]).forEach((p, i) => {
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
  if (!isCheckpointFile(file)) return decodeCheckpoint(readHead(file, 8), file); // throws the right message without reading a large file whole
  try {
    return decodeCheckpoint(fs.readFileSync(file), file);
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`checkpoint '${file}' cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check its permissions`);
  }
}

/** True when `file` starts with the checkpoint magic (so overwriting it loses no other kind of file). */
export function isCheckpointFile(file: string): boolean {
  try {
    return readHead(file, 8).toString('latin1') === CHECKPOINT_MAGIC;
  } catch {
    return false;
  }
}

function readHead(file: string, n: number): Buffer {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(n);
    return buf.subarray(0, fs.readSync(fd, buf, 0, n, 0));
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
