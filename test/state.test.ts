// The hidden state between minibatches (carried or reset), and memory that stays flat while training.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { loadDataTimeMachine, type SeqDataLoader } from '../src/batches';
import { makeConfig, PRESETS, type RNNConfig } from '../src/config';
import { RNNModelScratch } from '../src/model';
import { predict } from '../src/predict';
import { Rng } from '../src/random';
import { initRNNState, nextState } from '../src/state';
import { STEP_FNS, train, trainEpoch } from '../src/train';

let sequential: SeqDataLoader;
let random: SeqDataLoader;

before(async () => {
  await initBackend({ log: () => {} });
  sequential = await loadDataTimeMachine({ batchSize: 4, numSteps: 6, maxTokens: 400, partition: 'sequential' });
  random = await loadDataTimeMachine({ batchSize: 4, numSteps: 6, maxTokens: 400, partition: 'random' });
});

const tinyConfig = (overrides: Partial<RNNConfig> = {}) =>
  makeConfig({ ...PRESETS.tiny, numHiddens: 16, batchSize: 4, numSteps: 6, maxTokens: 400, path: 'autograd', ...overrides });

/** Records the state each training step starts from and the state it ends with. */
function recordSteps() {
  const original = STEP_FNS.autograd;
  const steps: { input: Float32Array; output: Float32Array }[] = [];
  STEP_FNS.autograd = (params, batch, state) => {
    const input = Float32Array.from(state.dataSync());
    const out = original(params, batch, state);
    steps.push({ input, output: Float32Array.from(out.state.dataSync()) });
    return out;
  };
  return { steps, restore: () => void (STEP_FNS.autograd = original) };
}

const maxAbs = (xs: ArrayLike<number>) => Math.max(...Array.from(xs, Math.abs));

describe('nextState', () => {
  it('starts from zeros [B, H] when there is no state yet', () => {
    const s = nextState(null, 3, 5, false);
    assert.deepEqual(s.shape, [3, 5]);
    assert.equal(maxAbs(s.dataSync()), 0);
    s.dispose();
  });

  it('carries the previous state when not resetting', () => {
    const prev = tf.fill([3, 5], 0.25) as tf.Tensor2D;
    const s = nextState(prev, 3, 5, false);
    assert.equal(s, prev);
    s.dispose();
  });

  it('resets to zeros and disposes the previous state when asked', () => {
    const prev = tf.fill([3, 5], 0.25) as tf.Tensor2D;
    const s = nextState(prev, 3, 5, true);
    assert.notEqual(s, prev);
    assert.equal(prev.isDisposed, true);
    assert.equal(maxAbs(s.dataSync()), 0);
    s.dispose();
  });

  it('resets when the batch size changed, since the old rows cannot continue', () => {
    const prev = tf.fill([3, 5], 0.25) as tf.Tensor2D;
    const s = nextState(prev, 2, 5, false);
    assert.deepEqual(s.shape, [2, 5]);
    assert.equal(prev.isDisposed, true);
    assert.equal(maxAbs(s.dataSync()), 0);
    s.dispose();
  });

  it('leaves the number of tensors unchanged when it swaps one state for another', () => {
    const prev = initRNNState(3, 5);
    const before = tf.memory().numTensors;
    const s = nextState(prev, 3, 5, true);
    assert.equal(tf.memory().numTensors, before);
    s.dispose();
  });
});

describe('trainEpoch and the state', () => {
  it('carries each minibatch\u2019s final state into the next one with sequential partitioning', async () => {
    const model = new RNNModelScratch(sequential.vocab.size, 16, { seed: 1 });
    const rec = recordSteps();
    try {
      await trainEpoch(model, sequential, tinyConfig(), 1, new Rng(2));
    } finally {
      rec.restore();
      model.dispose();
    }
    assert.ok(rec.steps.length >= 3, `only ${rec.steps.length} minibatches`);
    assert.equal(maxAbs(rec.steps[0].input), 0, 'an epoch starts from zeros');
    for (let i = 1; i < rec.steps.length; i++) {
      assert.ok(maxAbs(rec.steps[i].input) > 0, `minibatch ${i} starts from a non-zero state`);
      assert.deepEqual(rec.steps[i].input, rec.steps[i - 1].output, `minibatch ${i} starts where ${i - 1} ended`);
    }
  });

  for (const [what, data, overrides] of [
    ['random partitioning', () => random, { partition: 'random' }],
    ['sequential partitioning with resetState', () => sequential, { resetState: true }],
  ] as const) {
    it(`starts every minibatch from zeros with ${what}`, async () => {
      const model = new RNNModelScratch(sequential.vocab.size, 16, { seed: 1 });
      const rec = recordSteps();
      try {
        await trainEpoch(model, data(), tinyConfig(overrides), 1, new Rng(2));
      } finally {
        rec.restore();
        model.dispose();
      }
      assert.ok(rec.steps.length >= 3);
      rec.steps.forEach((s, i) => assert.equal(maxAbs(s.input), 0, `minibatch ${i}`));
      assert.ok(rec.steps.every((s) => maxAbs(s.output) > 0));
    });
  }

  it('trains to different parameters with the state carried than with it reset, on the same sequential data', async () => {
    const run = async (resetState: boolean) => {
      const cfg = tinyConfig({ resetState });
      const model = new RNNModelScratch(sequential.vocab.size, 16, { seed: 3 });
      const rng = new Rng(4);
      for (let epoch = 1; epoch <= 2; epoch++) await trainEpoch(model, sequential, cfg, epoch, rng);
      const W_hh = Float32Array.from(model.params.W_hh.dataSync());
      model.dispose();
      return W_hh;
    };
    const carried = await run(false);
    assert.deepEqual(await run(false), carried, 'training is deterministic for a fixed seed');
    const reset = await run(true);
    let diff = 0;
    for (let i = 0; i < carried.length; i++) diff = Math.max(diff, Math.abs(carried[i] - reset[i]));
    assert.ok(diff > 1e-6, `W_hh differs by at most ${diff}`);
  });
});

describe('memory', () => {
  const cases: [string, () => SeqDataLoader, Partial<RNNConfig>][] = [
    ['sequential, carried state', () => sequential, {}],
    ['random partitioning', () => random, { partition: 'random' }],
    ['clipping every step', () => sequential, { theta: 1e-3 }],
    ['clipping entries by value', () => sequential, { theta: 1e-3, clipMode: 'value' }],
    ['clipping each tensor', () => sequential, { theta: 1e-3, clipMode: 'per-tensor' }],
  ];
  for (const [what, data, overrides] of cases) {
    it(`keeps the number of tensors constant across epochs of train (${what})`, async () => {
      const cfg = tinyConfig({ numEpochs: 3, sampleEvery: 2, numPreds: 5, ...overrides });
      const model = new RNNModelScratch(data().vocab.size, 16, { seed: 5 });
      const counts: number[] = [];
      let clipped = 0;
      const start = tf.memory().numTensors;
      await train(model, data(), cfg, {
        onStep: (m) => void (clipped += m.clipped ? 1 : 0),
        onEpoch: () => void counts.push(tf.memory().numTensors),
      });
      assert.deepEqual(counts, [start, start, start]);
      assert.equal(tf.memory().numTensors, start);
      if (cfg.theta < 0.01) assert.ok(clipped > 0, 'the clipping branch ran');
      model.dispose();
    });
  }

  it('keeps the number of tensors constant across predict, greedy and sampled', () => {
    const model = new RNNModelScratch(sequential.vocab.size, 16, { seed: 6 });
    const start = tf.memory().numTensors;
    predict('time traveller', 20, model, sequential.vocab);
    assert.equal(tf.memory().numTensors, start);
    predict('time traveller', 20, model, sequential.vocab, { temperature: 1, rng: new Rng(1) });
    predict('time traveller', 20, model, sequential.vocab, { warmUp: false });
    assert.equal(tf.memory().numTensors, start);
    model.dispose();
  });
});
