// The fast path against autogradStep, the reference it must equal to 1e-5 (relative, per tensor):
// single steps on random parameters and minibatches, on one thread and split across the helper
// thread; a few epochs of training on both partitions, with and without clipping; and the number of
// tensors over thousands of steps, in this thread and in the helper.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { autogradLoss, autogradStep, type LossResult, type StepResult } from '../src/autograd';
import { initBackend } from '../src/backend';
import { buildCorpus, SeqDataLoader, type Batch } from '../src/batches';
import { bpttLoss, bpttStep } from '../src/bptt';
import { makeConfig, type RNNConfig } from '../src/config';
import { availableCores, dataParallel, dataParallelHelper, dataParallelLoss } from '../src/data-parallel';
import { RNNModelScratch } from '../src/model';
import { PARAM_NAMES, type RNNParams } from '../src/params';
import { Rng } from '../src/random';
import { fastLoss, fastStep, train } from '../src/train';
import { randomRefBatch, randomRefParams, relativeError, type RefBatch, type RefParams } from './reference';

const TOL = 1e-5;

before(async () => {
  await initBackend({ log: () => {}, parallel: true });
});

function toParams(p: RefParams): RNNParams {
  const v = (data: Float64Array, shape: number[]) => tf.variable(tf.tensor(Float32Array.from(data), shape));
  return {
    W_xh: v(p.W_xh, [p.V, p.H]) as tf.Variable<tf.Rank.R2>,
    W_hh: v(p.W_hh, [p.H, p.H]) as tf.Variable<tf.Rank.R2>,
    b_h: v(p.b_h, [p.H]) as tf.Variable<tf.Rank.R1>,
    W_hq: v(p.W_hq, [p.H, p.V]) as tf.Variable<tf.Rank.R2>,
    b_q: v(p.b_q, [p.V]) as tf.Variable<tf.Rank.R1>,
  };
}

function toBatch(b: RefBatch): Batch {
  return { X: b.X, Y: b.Y, batchSize: b.B, numSteps: b.T };
}

/** Runs a step function and returns plain arrays, freeing its outputs. */
function run(step: (p: RNNParams, b: Batch, s: tf.Tensor2D) => StepResult, params: RNNParams, batch: Batch, state: tf.Tensor2D) {
  const out = step(params, batch, state);
  const result = {
    loss: out.loss,
    grads: PARAM_NAMES.map((n) => out.grads[n].dataSync() as Float32Array),
    shapes: PARAM_NAMES.map((n) => out.grads[n].shape),
    state: out.state.dataSync() as Float32Array,
  };
  tf.dispose([out.grads, out.state]);
  return result;
}

/** Asserts that a step function gives autogradStep's loss, gradients (shapes and values) and final state. */
function assertMatchesAutograd(step: (p: RNNParams, b: Batch, s: tf.Tensor2D) => StepResult, p: RefParams, b: RefBatch): void {
  const params = toParams(p);
  const batch = toBatch(b);
  const state = tf.tensor2d(Float32Array.from(b.h0), [b.B, p.H]);
  const want = run(autogradStep, params, batch, state);
  const got = run(step, params, batch, state);
  assert.ok(Math.abs(got.loss - want.loss) / want.loss < TOL, `loss ${got.loss} vs autograd ${want.loss}`);
  assert.deepEqual(got.shapes, want.shapes);
  PARAM_NAMES.forEach((name, i) => {
    const err = relativeError(got.grads[i], want.grads[i]);
    assert.ok(err < TOL, `${name}: relative error ${err}`);
  });
  assert.ok(relativeError(got.state, want.state) < TOL, 'final state');
  assert.equal(state.isDisposed, false, 'the caller owns the state passed in');
  assert.ok(PARAM_NAMES.every((n) => !params[n].isDisposed), 'the parameters are not disposed');
  state.dispose();
  for (const n of PARAM_NAMES) params[n].dispose();
}

const CASES = [
  { name: 'a small batch', V: 7, H: 10, B: 3, T: 6, scale: 0.5, seed: 1 },
  { name: 'd2l-like shapes (V 28, T 35)', V: 28, H: 24, B: 4, T: 35, scale: 0.3, seed: 2 },
  { name: 'a wider layer in the linear range of tanh', V: 28, H: 128, B: 8, T: 20, scale: 0.01, seed: 3 },
  { name: 'one sequence of one step', V: 5, H: 6, B: 1, T: 1, scale: 0.8, seed: 4 },
];

describe('bpttStep (one thread)', () => {
  for (const c of CASES) {
    it(`matches autogradStep's loss, gradients and final state on ${c.name}`, () => {
      assertMatchesAutograd(bpttStep, randomRefParams(c.V, c.H, c.scale, c.seed), randomRefBatch(c.V, c.H, c.B, c.T, c.seed + 100));
    });
  }
});

describe('dataParallel', () => {
  it('wraps bpttStep only: the helper thread runs bpttStep, so another step would compute something else there', () => {
    assert.equal(typeof dataParallel(bpttStep), 'function');
    assert.throws(() => dataParallel((p, b, s) => bpttStep(p, b, s)), /the helper thread runs bpttStep/);
  });
});

describe('fastStep = dataParallel(bpttStep) (split across the helper thread)', () => {
  it('has a helper thread to split across on a machine with two cores or more', (t) => {
    if (availableCores() < 2) return t.skip('this machine has one core');
    assert.ok(dataParallelHelper(), 'initBackend({ parallel: true }) should have started the helper thread');
  });

  for (const c of [...CASES, { name: 'an odd batch (2 rows here, 3 on the helper)', V: 11, H: 16, B: 5, T: 7, scale: 0.4, seed: 5 }]) {
    it(`matches autogradStep's loss, gradients and final state on ${c.name}`, () => {
      assertMatchesAutograd(fastStep, randomRefParams(c.V, c.H, c.scale, c.seed), randomRefBatch(c.V, c.H, c.B, c.T, c.seed + 100));
    });
  }

  it('agrees with itself when the minibatch shape changes between steps', () => {
    for (const [B, T] of [[4, 6], [6, 3], [4, 6]]) {
      assertMatchesAutograd(fastStep, randomRefParams(9, 12, 0.3, B), randomRefBatch(9, 12, B, T, T));
    }
  });
});

/** Asserts that a loss-only pass gives autogradLoss's loss and final state (and autogradStep's loss). */
function assertLossMatchesAutograd(lossFn: (p: RNNParams, b: Batch, s: tf.Tensor2D) => LossResult, p: RefParams, b: RefBatch): void {
  const params = toParams(p);
  const batch = toBatch(b);
  const state = tf.tensor2d(Float32Array.from(b.h0), [b.B, p.H]);
  const want = autogradLoss(params, batch, state);
  const got = lossFn(params, batch, state);
  const step = run(autogradStep, params, batch, state);
  assert.ok(Math.abs(got.loss - want.loss) / want.loss < TOL, `loss ${got.loss} vs autograd ${want.loss}`);
  assert.ok(Math.abs(step.loss - want.loss) / want.loss < TOL, 'autogradLoss is autogradStep without the gradients');
  assert.deepEqual(got.state.shape, [b.B, p.H]);
  assert.ok(relativeError(got.state.dataSync() as Float32Array, want.state.dataSync() as Float32Array) < TOL, 'final state');
  assert.equal(state.isDisposed, false, 'the caller owns the state passed in');
  tf.dispose([got.state, want.state, state]);
  for (const n of PARAM_NAMES) params[n].dispose();
}

describe('bpttLoss and fastLoss = dataParallelLoss(bpttLoss): the loss without gradients (validation)', () => {
  it('wraps bpttLoss only, as dataParallel wraps bpttStep only', () => {
    assert.throws(() => dataParallelLoss((p, b, s) => bpttLoss(p, b, s)), /the helper thread runs bpttLoss/);
  });

  for (const c of [...CASES, { name: 'an odd batch (2 rows here, 3 on the helper)', V: 11, H: 16, B: 5, T: 7, scale: 0.4, seed: 5 }]) {
    it(`match the autograd forward's loss and final state on ${c.name}, on one thread and split`, () => {
      assertLossMatchesAutograd(bpttLoss, randomRefParams(c.V, c.H, c.scale, c.seed), randomRefBatch(c.V, c.H, c.B, c.T, c.seed + 100));
      assertLossMatchesAutograd(fastLoss, randomRefParams(c.V, c.H, c.scale, c.seed), randomRefBatch(c.V, c.H, c.B, c.T, c.seed + 100));
    });
  }

  it('interleave with split training steps without mixing them up (the helper runs whichever it is asked)', () => {
    for (let i = 0; i < 3; i++) {
      assertMatchesAutograd(fastStep, randomRefParams(9, 12, 0.3, i), randomRefBatch(9, 12, 4, 6, i + 10));
      assertLossMatchesAutograd(fastLoss, randomRefParams(9, 12, 0.3, i + 20), randomRefBatch(9, 12, 4, 6, i + 30));
    }
  });
});

// A made-up text with a vocabulary and enough structure to learn from, so the test needs no corpus.
function syntheticLoader(cfg: RNNConfig): SeqDataLoader {
  const rng = new Rng(7);
  const words = ['the', 'time', 'traveller', 'said', 'machine', 'of', 'a', 'and', 'it', 'was'];
  const lines = Array.from({ length: 60 }, () => Array.from({ length: 8 }, () => words[rng.int(0, words.length - 1)]).join(' '));
  const { corpus, vocab } = buildCorpus(lines, cfg.maxTokens);
  return new SeqDataLoader(corpus, vocab, cfg.batchSize, cfg.numSteps, cfg.partition);
}

async function trainWith(path: 'fast' | 'autograd', cfg: RNNConfig) {
  const c = { ...cfg, path };
  const data = syntheticLoader(c);
  const model = new RNNModelScratch(data.vocab.size, c.numHiddens, { seed: c.seed });
  const result = await train(model, data, c);
  const params = PARAM_NAMES.map((n) => model.params[n].dataSync() as Float32Array);
  model.dispose();
  return { history: result.history, params };
}

describe('training with the fast path', () => {
  const settings = [
    { partition: 'sequential' as const, theta: 0.05 },
    { partition: 'sequential' as const, theta: 0 },
    { partition: 'random' as const, theta: 0.05 },
    { partition: 'random' as const, theta: 0 },
  ];
  for (const { partition, theta } of settings) {
    it(`follows the autograd path for 3 epochs: ${partition} partitioning, ${theta ? `clipping at θ = ${theta}` : 'no clipping'}`, async () => {
      const cfg = makeConfig({ numHiddens: 24, batchSize: 6, numSteps: 7, maxTokens: 600, numEpochs: 3, sampleEvery: 0, partition, theta, lr: 1 });
      const fast = await trainWith('fast', cfg);
      const auto = await trainWith('autograd', cfg);
      assert.equal(fast.history.length, 3);
      fast.history.forEach((m, i) => {
        const want = auto.history[i];
        assert.ok(Math.abs(m.loss - want.loss) / want.loss < TOL, `epoch ${m.epoch}: loss ${m.loss} vs autograd ${want.loss}`);
        assert.equal(m.clippedFraction, want.clippedFraction, `epoch ${m.epoch}: share of clipped minibatches`);
      });
      const clipped = fast.history.reduce((a, m) => a + m.clippedFraction, 0);
      if (theta > 0) assert.ok(clipped > 0, 'θ this small should clip some minibatches');
      else assert.equal(clipped, 0);
      PARAM_NAMES.forEach((name, i) => {
        const err = relativeError(fast.params[i], auto.params[i]);
        assert.ok(err < TOL, `${name} after training: relative error ${err}`);
      });
    });
  }
});

describe('memory', () => {
  /** Steps carrying the state, as sequential training does; returns tensors in this thread before and after. */
  function manySteps(step: typeof fastStep, steps: number) {
    const p = toParams(randomRefParams(6, 8, 0.5, 9));
    const b = randomRefBatch(6, 8, 4, 5, 10);
    let state = tf.tensor2d(Float32Array.from(b.h0), [4, 8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < steps; i++) {
      const out = step(p, toBatch(b), state);
      tf.dispose(out.grads);
      state.dispose();
      state = out.state;
    }
    const after = tf.memory().numTensors;
    state.dispose();
    for (const n of PARAM_NAMES) p[n].dispose();
    return { before, after };
  }

  it('keeps the number of tensors constant over 2,000 one-thread steps', () => {
    const { before, after } = manySteps(bpttStep, 2000);
    assert.equal(after, before);
  });

  it('keeps the number of tensors constant over 2,000 split steps, here and in the helper thread', (t) => {
    const helper = dataParallelHelper();
    if (!helper) return t.skip('no helper thread');
    manySteps(fastStep, 1);
    const helperBefore = helper.helperNumTensors();
    const { before, after } = manySteps(fastStep, 2000);
    assert.equal(after, before);
    assert.equal(helper.helperNumTensors(), helperBefore, 'tensors left in the helper thread');
  });

  it('keeps the number of tensors constant over 2,000 split loss-only passes, here and in the helper thread', (t) => {
    const helper = dataParallelHelper();
    if (!helper) return t.skip('no helper thread');
    const lossAsStep = (p: RNNParams, b: Batch, s: tf.Tensor2D): StepResult => ({ ...fastLoss(p, b, s), grads: {} as StepResult['grads'] });
    manySteps(lossAsStep, 1);
    const helperBefore = helper.helperNumTensors();
    const { before, after } = manySteps(lossAsStep, 2000);
    assert.equal(after, before);
    assert.equal(helper.helperNumTensors(), helperBefore, 'tensors left in the helper thread');
  });
});
