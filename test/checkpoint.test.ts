// Checkpoints: the documented byte layout (safetensors), an exact round trip, version-1 files still
// read, an exact resume (10 + 10 epochs equal 20 straight), and one clear line for every file that
// cannot be trusted. test/safetensors.test.ts opens one in PyTorch.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { loadDataTimeMachine, type SeqDataLoader } from '../src/batches';
import {
  assertSameVocab,
  CheckpointError,
  checkpointOf,
  loadCheckpoint,
  modelFromCheckpoint,
  progressFromCheckpoint,
  removeStaleTemps,
  saveCheckpoint,
  type Checkpoint,
} from '../src/checkpoint';
import { makeConfig, type RNNConfig } from '../src/config';
import { RNNModelScratch } from '../src/model';
import { PARAM_NAMES } from '../src/params';
import { startProgress, train, type TrainProgress } from '../src/train';
import { Vocab } from '../src/vocab';
import { joinSafetensors, splitSafetensors, toVersion1, withMetadata } from './checkpoint-bytes';

// Tiny, so 40 epochs take seconds. The autograd path is the reference; resuming is exact on either.
const TINY: RNNConfig = makeConfig({ numHiddens: 16, batchSize: 4, numSteps: 8, maxTokens: 1000, numEpochs: 20, path: 'autograd', sampleEvery: 0 });

let data: SeqDataLoader;
before(async () => {
  assert.ok(process.env.RNN_WORKBOOK_DATA, 'run the tests with RNN_WORKBOOK_DATA=../shared/data');
  await initBackend({ log: () => {} });
  data = await loadDataTimeMachine(TINY);
});

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-checkpoint-'));

async function trainTo(epochs: number, cfg = TINY, model = new RNNModelScratch(data.vocab.size, cfg.numHiddens, { seed: cfg.seed }), progress: TrainProgress = startProgress(cfg)) {
  await train(model, data, { ...cfg, numEpochs: epochs }, {}, progress);
  return { model, progress };
}

/** A saved checkpoint after two epochs, and its bytes. */
async function savedCheckpoint(): Promise<{ file: string; bytes: Buffer; ckpt: Checkpoint }> {
  const { model, progress } = await trainTo(2);
  const ckpt = checkpointOf(model, data.vocab, TINY, progress);
  model.dispose();
  const file = path.join(tmpDir(), 'tiny.ckpt');
  saveCheckpoint(file, ckpt);
  return { file, bytes: fs.readFileSync(file), ckpt };
}

/** Loading `bytes` fails with one CheckpointError line matching `pattern`. */
function assertRefused(bytes: Buffer, pattern: RegExp): void {
  const file = path.join(tmpDir(), 'bad.ckpt');
  fs.writeFileSync(file, bytes);
  assert.throws(
    () => loadCheckpoint(file),
    (err: Error) => {
      assert.ok(err instanceof CheckpointError, `${err.name}: ${err.message}`);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    },
  );
}

/** Everything a checkpoint holds, read back equal: parameters, vocab, config, epoch, RNG state, history. */
function assertSameCheckpoint(back: Checkpoint, ckpt: Checkpoint): void {
    for (const name of PARAM_NAMES) assert.deepEqual(back.params[name], ckpt.params[name], name);
    assert.deepEqual(back.vocab.idxToToken, ckpt.vocab.idxToToken);
    assert.deepEqual(back.config, ckpt.config);
    assert.equal(back.epoch, ckpt.epoch);
    assert.deepEqual(back.rng, ckpt.rng);
    assert.deepEqual(back.history, ckpt.history);
}

describe('checkpoint file', () => {
  it('follows the documented layout: safetensors, metadata as strings, sha256, float32 LE data in PARAM_NAMES order', async () => {
    const { bytes, ckpt } = await savedCheckpoint();
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0, 'the data starts 8-byte aligned');
    assert.equal(bytes[8], '{'.charCodeAt(0));
    const { header, data: raw } = splitSafetensors(bytes);
    const [V, H] = [data.vocab.size, TINY.numHiddens];
    assert.deepEqual(Object.keys(header).sort(), ['W_hh', 'W_hq', 'W_xh', '__metadata__', 'b_h', 'b_q']);
    let offset = 0;
    const shapes: Record<string, number[]> = { W_xh: [V, H], W_hh: [H, H], b_h: [H], W_hq: [H, V], b_q: [V] };
    for (const name of PARAM_NAMES) {
      const size = shapes[name].reduce((a, b) => a * b, 1);
      assert.deepEqual(header[name], { dtype: 'F32', shape: shapes[name], data_offsets: [offset, offset + 4 * size] }, name);
      const values = Float32Array.from({ length: size }, (_, i) => raw.readFloatLE(offset + 4 * i));
      assert.deepEqual(values, ckpt.params[name], name);
      offset += 4 * size;
    }
    assert.equal(offset, raw.length, 'the file ends with the last parameter');
    const meta = header.__metadata__;
    assert.ok(Object.values(meta).every((v) => typeof v === 'string'), 'safetensors metadata is a string → string map');
    assert.equal(meta.format, 'rnn-workbook checkpoint');
    assert.equal(meta.version, '2');
    assert.deepEqual(JSON.parse(meta.vocab), data.vocab.idxToToken);
    assert.deepEqual(JSON.parse(meta.config), TINY);
    assert.equal(JSON.parse(meta.epoch), 2);
    assert.equal(JSON.parse(meta.history).length, 2);
    assert.deepEqual(Object.keys(JSON.parse(meta.rng)).sort(), ['s', 'spare']);
    const zeroed = Buffer.from(bytes);
    zeroed.write('0'.repeat(64), bytes.indexOf(meta.sha256), 'latin1');
    assert.equal(createHash('sha256').update(zeroed).digest('hex'), meta.sha256, 'sha256 of the file with its own digest zeroed');
    assert.deepEqual(joinSafetensors(header, raw), bytes, 'the test’s own encoder of the documented layout gives the same bytes');
  });

  it('reads a checkpoint of version 1 (magic "RNNCKPT"), the format before safetensors, to the same values', async () => {
    const { file, bytes, ckpt } = await savedCheckpoint();
    const old = path.join(path.dirname(file), 'old.ckpt');
    fs.writeFileSync(old, toVersion1(bytes));
    const back = loadCheckpoint(old);
    assertSameCheckpoint(back, ckpt);
    const v1 = toVersion1(bytes);
    v1[60] ^= 0x10;
    assertRefused(v1, /is corrupt \(its sha256 does not match/);
    const v3 = toVersion1(bytes);
    v3.writeUInt32LE(3, 8);
    assertRefused(v3, /format version 3, but this rnn-workbook reads versions 1 and 2/);
  });

  it('round-trips parameters, vocab, config, epoch, RNG state and history exactly', async () => {
    const { file, ckpt } = await savedCheckpoint();
    const back = loadCheckpoint(file);
    assertSameCheckpoint(back, ckpt);
  });

  it('rebuilds a model with the saved values, leaving no more tensors behind than a new model does', async () => {
    const { file, ckpt } = await savedCheckpoint();
    const tensorsLeftBy = (make: () => RNNModelScratch) => {
      const before = tf.memory().numTensors;
      make().dispose();
      return tf.memory().numTensors - before;
    };
    const model = modelFromCheckpoint(loadCheckpoint(file));
    for (const name of PARAM_NAMES) assert.deepEqual(model.params[name].dataSync(), ckpt.params[name], name);
    const before = tf.memory().numTensors;
    checkpointOf(model, data.vocab, TINY, startProgress(TINY));
    assert.equal(tf.memory().numTensors, before, 'a snapshot holds no tensors');
    model.dispose();
    // Compared with a new model rather than with 0: the constructor's own bookkeeping is model.ts's to test.
    const fresh = tensorsLeftBy(() => new RNNModelScratch(data.vocab.size, TINY.numHiddens));
    assert.equal(tensorsLeftBy(() => modelFromCheckpoint(ckpt)), fresh);
  });
});

describe('resuming', () => {
  for (const [partition, half] of [['sequential', 10], ['random', 3]] as const) {
    it(`is exact: ${half} epochs, save, load, ${half} more equals ${2 * half} straight (${partition} partitioning)`, async () => {
      const cfg = makeConfig({ ...TINY, partition, resetState: undefined });
      const straight = await trainTo(2 * half, cfg);

      const first = await trainTo(half, cfg);
      const file = path.join(tmpDir(), 'half.ckpt');
      saveCheckpoint(file, checkpointOf(first.model, data.vocab, cfg, first.progress));
      first.model.dispose();
      const ckpt = loadCheckpoint(file);
      const resumed = await trainTo(2 * half, ckpt.config, modelFromCheckpoint(ckpt), progressFromCheckpoint(ckpt));

      for (const name of PARAM_NAMES) {
        assert.deepEqual(resumed.model.params[name].dataSync(), straight.model.params[name].dataSync(), `${name} bit for bit`);
      }
      const ppl = (p: TrainProgress) => p.history.map((m) => m.perplexity);
      assert.deepEqual(ppl(resumed.progress), ppl(straight.progress));
      assert.deepEqual(resumed.progress.rng.getState(), straight.progress.rng.getState());
      straight.model.dispose();
      resumed.model.dispose();
    });
  }

  it('refuses a corpus whose vocabulary differs from the checkpoint’s', async () => {
    const { file } = await savedCheckpoint();
    const ckpt = loadCheckpoint(file);
    assert.doesNotThrow(() => assertSameVocab(ckpt, data.vocab, file));
    const other = new Vocab(Array.from('the quick brown fox'));
    assert.throws(() => assertSameVocab(ckpt, other, file), /another vocabulary \(28 tokens.*\) than this corpus \(\d+ tokens/);
    const reordered = Vocab.fromTokens([...data.vocab.idxToToken].reverse());
    assert.throws(() => assertSameVocab(ckpt, reordered, file), CheckpointError);
  });
});

describe('a checkpoint that cannot be trusted is refused with one line', () => {
  let good: Buffer;
  let headerEnd: number;
  before(async () => {
    good = (await savedCheckpoint()).bytes;
    headerEnd = 8 + Number(good.readBigUInt64LE(0));
  });

  it('when truncated anywhere', () => {
    for (const length of [0, 3, 7, 8, 20, 47, 48, 200, headerEnd - 1, headerEnd, headerEnd + 17, good.length - 1]) {
      assertRefused(good.subarray(0, length), /is (truncated|empty)/);
    }
  });

  it('when a byte of the header or the data is flipped, or bytes are appended', () => {
    for (const at of [50, headerEnd - 20, headerEnd + 3, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      assertRefused(bad, /is corrupt/);
    }
    assertRefused(Buffer.concat([good, Buffer.from('more')]), /is corrupt .*appended/);
  });

  it('when it is not a checkpoint: text, binary, another safetensors file, another format version', () => {
    assertRefused(Buffer.from('The Time Machine, by H. G. Wells\n'), /is not an rnn-workbook checkpoint/);
    assertRefused(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3]), /is not an rnn-workbook checkpoint/);
    const { header, data } = splitSafetensors(good);
    const model = { ...header, __metadata__: { format: 'pt' } }; // what safetensors.torch.save_file writes
    assertRefused(joinSafetensors(model, data), /'.*' is not an rnn-workbook checkpoint \(a safetensors file without __metadata__\.format "rnn-workbook checkpoint"\)/);
    assertRefused(joinSafetensors({ ...header, __metadata__: { ...header.__metadata__, version: '3' } }, data), /format version 3, but this rnn-workbook reads versions 1 and 2/);
  });

  it('when its tensors are not the five float32 parameters end to end', () => {
    const { header, data } = splitSafetensors(good);
    const refused = (h: Record<string, any>) => assertRefused(joinSafetensors(h, data), /is corrupt \(its header does not list the five float32 tensors W_xh, W_hh, b_h, W_hq, b_q end to end/);
    refused({ ...header, W_xh: { ...header.W_xh, dtype: 'F64' } });
    refused({ ...header, b_h: { ...header.b_h, data_offsets: [header.b_h.data_offsets[0] + 4, header.b_h.data_offsets[1] + 4] } });
    const { b_q: _dropped, ...four } = header;
    refused(four);
    refused({ ...header, extra: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  });

  it('when its header does not fit its data: shapes, vocab, config, RNG state', () => {
    assertRefused(withMetadata(good, (h) => (h.config.numHiddens = 32)), /shape \[\d+,16\] where W_xh \[\d+,32\] belongs/);
    assertRefused(withMetadata(good, (h) => h.vocab.pop()), /where W_xh \[27,16\] belongs/);
    assertRefused(withMetadata(good, (h) => (h.vocab[1] = h.vocab[2])), /no valid vocabulary/);
    assertRefused(withMetadata(good, (h) => (h.config.lr = -1)), /invalid config \(lr must be/);
    assertRefused(withMetadata(good, (h) => (h.rng = { s: 'x' })), /invalid RNG state/);
    assertRefused(withMetadata(good, (h) => (h.epoch = 1.5)), /invalid epoch count/);
    assertRefused(withMetadata(good, (h) => (h.config = null)), /has no config/);
    assertRefused(withMetadata(good, (h) => (h.config = [])), /has no config/);
    assertRefused(withMetadata(good, (h) => h.vocab.reverse()), /no valid vocabulary \(a list of distinct tokens, <unk> first\)/);
  });

  it('when its metrics history is not one entry per completed epoch', () => {
    assertRefused(withMetadata(good, (h) => (h.history = [1, 'x'])), /invalid metrics history \(entry 1 is not the metrics of epoch 1\)/);
    assertRefused(withMetadata(good, (h) => (h.history = [null, null])), /invalid metrics history \(entry 1/);
    assertRefused(withMetadata(good, (h) => (h.history[1].loss = 'low')), /invalid metrics history \(entry 2 is not the metrics of epoch 2\)/);
    assertRefused(withMetadata(good, (h) => delete h.history[0].gradNorm), /invalid metrics history \(entry 1/);
    assertRefused(withMetadata(good, (h) => h.history.pop()), /metrics history of 1 epochs for its 2 completed ones/);
    assertRefused(withMetadata(good, (h) => (h.history = {})), /has no metrics history/);
  });

  it('when it is missing or a directory', () => {
    const dir = tmpDir();
    assert.throws(() => loadCheckpoint(path.join(dir, 'none.ckpt')), /does not exist/);
    assert.throws(() => loadCheckpoint(dir), /is a directory/);
  });
});

describe('saving', () => {
  it('never replaces a good checkpoint with non-finite parameters, and leaves no temporary file', async () => {
    const { file, bytes, ckpt } = await savedCheckpoint();
    const diverged = { ...ckpt, epoch: 3, params: { ...ckpt.params, W_hh: ckpt.params.W_hh.map((x, i) => (i === 7 ? NaN : x)) } };
    assert.throws(() => saveCheckpoint(file, diverged), /refusing to save epoch 3 .* W_hh is not finite/);
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['tiny.ckpt']);
  });

  it('fails with one line, and cleans up, when the file cannot be written', async () => {
    const { ckpt } = await savedCheckpoint();
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'taken'));
    assert.throws(() => saveCheckpoint(path.join(dir, 'taken'), ckpt), /cannot write checkpoint .*taken/); // rename onto a directory
    assert.throws(() => saveCheckpoint(path.join(dir, 'no', 'such', 'folder.ckpt'), ckpt), /cannot write checkpoint/);
    assert.deepEqual(fs.readdirSync(dir), ['taken']);
  });
});

describe('saving next to others', () => {
  it('refuses a read-only target and leaves it unchanged', async () => {
    const { file, bytes, ckpt } = await savedCheckpoint();
    fs.chmodSync(file, 0o444);
    assert.throws(() => saveCheckpoint(file, { ...ckpt, epoch: 3 }), /refusing to save epoch 3 to '.*tiny\.ckpt': it is read-only; make it writable/);
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['tiny.ckpt']);
  });

  it("removes its own target's temporary files left by dead processes, and nobody else's", async () => {
    const { file, ckpt } = await savedCheckpoint();
    const dir = path.dirname(file);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
    const stale = `.tiny.ckpt.${dead}.tmp`;
    const alive = `.tiny.ckpt.${process.ppid}.tmp`; // a live process may still be writing it
    const other = `.other.ckpt.${dead}.tmp`; // another target's
    for (const name of [stale, alive, other]) fs.writeFileSync(path.join(dir, name), 'half a checkpoint');
    saveCheckpoint(file, ckpt);
    assert.deepEqual(fs.readdirSync(dir).sort(), [alive, other, 'tiny.ckpt'].sort());
    assert.deepEqual(removeStaleTemps(file), []);
  });
});
