// Checkpoints: the documented byte layout, an exact round trip, an exact resume (10 + 10 epochs
// equal 20 straight), and one clear line for every file that cannot be trusted.
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

/** The checkpoint's bytes with its header changed and the sha256 recomputed: the layout, read by hand. */
function withHeader(bytes: Buffer, change: (h: Record<string, any>) => void): Buffer {
  const n = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.toString('utf8', 48, 48 + n));
  change(header);
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, ' ')]);
  const rest = Buffer.concat([json, bytes.subarray(48 + n)]);
  const prefix = Buffer.from(bytes.subarray(0, 48));
  prefix.writeUInt32LE(json.length, 12);
  createHash('sha256').update(rest).digest().copy(prefix, 16);
  return Buffer.concat([prefix, rest]);
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

describe('checkpoint file', () => {
  it('follows the documented layout: magic, version, header length, sha256, JSON header, float32 LE data in PARAM_NAMES order', async () => {
    const { bytes, ckpt } = await savedCheckpoint();
    assert.equal(bytes.toString('latin1', 0, 8), 'RNNCKPT\0');
    assert.equal(bytes.readUInt32LE(8), 1);
    const n = bytes.readUInt32LE(12);
    assert.equal((48 + n) % 4, 0, 'the data starts 4-byte aligned');
    assert.deepEqual(bytes.subarray(16, 48), createHash('sha256').update(bytes.subarray(48)).digest());
    const header = JSON.parse(bytes.toString('utf8', 48, 48 + n));
    const [V, H] = [data.vocab.size, TINY.numHiddens];
    assert.deepEqual(header.params, [
      { name: 'W_xh', shape: [V, H] },
      { name: 'W_hh', shape: [H, H] },
      { name: 'b_h', shape: [H] },
      { name: 'W_hq', shape: [H, V] },
      { name: 'b_q', shape: [V] },
    ]);
    assert.deepEqual(header.vocab, data.vocab.idxToToken);
    assert.deepEqual(header.config, TINY);
    assert.equal(header.epoch, 2);
    assert.equal(header.history.length, 2);
    assert.deepEqual(Object.keys(header.rng).sort(), ['s', 'spare']);
    let offset = 48 + n;
    for (const name of PARAM_NAMES) {
      const values = Float32Array.from({ length: ckpt.params[name].length }, (_, i) => bytes.readFloatLE(offset + 4 * i));
      assert.deepEqual(values, ckpt.params[name], name);
      offset += 4 * values.length;
    }
    assert.equal(offset, bytes.length, 'the file ends with the last parameter');
  });

  it('round-trips parameters, vocab, config, epoch, RNG state and history exactly', async () => {
    const { file, ckpt } = await savedCheckpoint();
    const back = loadCheckpoint(file);
    for (const name of PARAM_NAMES) assert.deepEqual(back.params[name], ckpt.params[name], name);
    assert.deepEqual(back.vocab.idxToToken, ckpt.vocab.idxToToken);
    assert.deepEqual(back.config, ckpt.config);
    assert.equal(back.epoch, ckpt.epoch);
    assert.deepEqual(back.rng, ckpt.rng);
    assert.deepEqual(back.history, ckpt.history);
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
    headerEnd = 48 + good.readUInt32LE(12);
  });

  it('when truncated anywhere', () => {
    for (const length of [0, 3, 8, 20, 47, 48, 200, headerEnd - 1, headerEnd, headerEnd + 17, good.length - 1]) {
      assertRefused(good.subarray(0, length), /is (truncated|empty)/);
    }
  });

  it('when a byte of the header or the data is flipped, or bytes are appended', () => {
    for (const at of [50, headerEnd - 8, headerEnd + 3, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      assertRefused(bad, /is corrupt/);
    }
    assertRefused(Buffer.concat([good, Buffer.from('more')]), /is corrupt .*appended/);
  });

  it('when it is not a checkpoint: text, binary, another format version', () => {
    assertRefused(Buffer.from('The Time Machine, by H. G. Wells\n'), /is not an rnn-workbook checkpoint/);
    assertRefused(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3]), /is not an rnn-workbook checkpoint/);
    const v2 = Buffer.from(good);
    v2.writeUInt32LE(2, 8);
    assertRefused(v2, /format version 2, but this rnn-workbook reads version 1/);
  });

  it('when its header does not fit its data: shapes, vocab, config, RNG state', () => {
    assertRefused(withHeader(good, (h) => (h.config.numHiddens = 32)), /shape \[\d+,16\] where W_xh \[\d+,32\] belongs/);
    assertRefused(withHeader(good, (h) => h.vocab.pop()), /where W_xh \[27,16\] belongs/);
    assertRefused(withHeader(good, (h) => (h.vocab[1] = h.vocab[2])), /no valid vocabulary/);
    assertRefused(withHeader(good, (h) => (h.config.lr = -1)), /invalid config \(lr must be/);
    assertRefused(withHeader(good, (h) => (h.rng = { s: 'x' })), /invalid RNG state/);
    assertRefused(withHeader(good, (h) => (h.epoch = 1.5)), /invalid epoch count/);
    assertRefused(withHeader(good, (h) => (h.config = null)), /has no config/);
    assertRefused(withHeader(good, (h) => (h.config = [])), /has no config/);
    assertRefused(withHeader(good, (h) => h.vocab.reverse()), /no valid vocabulary \(a list of distinct tokens, <unk> first\)/);
  });

  it('when its metrics history is not one entry per completed epoch', () => {
    assertRefused(withHeader(good, (h) => (h.history = [1, 'x'])), /invalid metrics history \(entry 1 is not the metrics of epoch 1\)/);
    assertRefused(withHeader(good, (h) => (h.history = [null, null])), /invalid metrics history \(entry 1/);
    assertRefused(withHeader(good, (h) => (h.history[1].loss = 'low')), /invalid metrics history \(entry 2 is not the metrics of epoch 2\)/);
    assertRefused(withHeader(good, (h) => delete h.history[0].gradNorm), /invalid metrics history \(entry 1/);
    assertRefused(withHeader(good, (h) => h.history.pop()), /metrics history of 1 epochs for its 2 completed ones/);
    assertRefused(withHeader(good, (h) => (h.history = {})), /has no metrics history/);
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
