// The forward pass, mean cross-entropy and perplexity on an example small enough to work by hand.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { crossEntropy, perplexity, timeMajorLabels } from '../src/loss';
import { RNNModelScratch } from '../src/model';

before(async () => {
  await initBackend({ log: () => {} });
});

// V = 3 tokens, H = 2 hidden units, B = 2 sequences of T = 2 steps, zero initial state.
const W_xh = [
  [0.5, -0.3],
  [0.2, 0.8],
  [-0.6, 0.1],
];
const W_hh = [
  [0.4, -0.2],
  [0.3, 0.5],
];
const b_h = [0.1, -0.1];
const W_hq = [
  [1.0, -0.5, 0.2],
  [-0.7, 0.3, 0.9],
];
const b_q = [0.05, -0.05, 0.0];
const X = [0, 1, 2, 0]; // row-major [B, T]: sequence 0 reads 0 then 1, sequence 1 reads 2 then 0
const Y = [1, 2, 0, 1]; // sequence 0 should predict 1 then 2, sequence 1 predicts 0 then 1

// Worked by hand, one step at a time.
// Step 1, sequence 0 (token 0): a = W_xh[0] + b_h = [0.6, −0.4].
const h1s0 = [Math.tanh(0.6), Math.tanh(-0.4)];
// Step 1, sequence 1 (token 2): a = W_xh[2] + b_h = [−0.5, 0].
const h1s1 = [Math.tanh(-0.5), Math.tanh(0)];
// Step 2, sequence 0 (token 1): a = W_xh[1] + h1s0·W_hh + b_h.
const h2s0 = [
  Math.tanh(0.2 + h1s0[0] * 0.4 + h1s0[1] * 0.3 + 0.1),
  Math.tanh(0.8 + h1s0[0] * -0.2 + h1s0[1] * 0.5 - 0.1),
];
// Step 2, sequence 1 (token 0): a = W_xh[0] + h1s1·W_hh + b_h.
const h2s1 = [
  Math.tanh(0.5 + h1s1[0] * 0.4 + h1s1[1] * 0.3 + 0.1),
  Math.tanh(-0.3 + h1s1[0] * -0.2 + h1s1[1] * 0.5 - 0.1),
];
// o = h·W_hq + b_q, written out column by column.
const out = (h: number[]) => [h[0] * 1.0 + h[1] * -0.7 + 0.05, h[0] * -0.5 + h[1] * 0.3 - 0.05, h[0] * 0.2 + h[1] * 0.9];
// Time-major rows: (t1, s0), (t1, s1), (t2, s0), (t2, s1); their labels Y[s][t] in the same order.
const expectedLogits = [out(h1s0), out(h1s1), out(h2s0), out(h2s1)];
const expectedLabels = [1, 0, 2, 1];
const nll = (o: number[], y: number) => -(o[y] - Math.log(Math.exp(o[0]) + Math.exp(o[1]) + Math.exp(o[2])));
const expectedLoss = (nll(expectedLogits[0], 1) + nll(expectedLogits[1], 0) + nll(expectedLogits[2], 2) + nll(expectedLogits[3], 1)) / 4;

function handModel(): RNNModelScratch {
  const model = new RNNModelScratch(3, 2);
  const p = model.params;
  tf.tidy(() => {
    p.W_xh.assign(tf.tensor2d(W_xh));
    p.W_hh.assign(tf.tensor2d(W_hh));
    p.b_h.assign(tf.tensor1d(b_h));
    p.W_hq.assign(tf.tensor2d(W_hq));
    p.b_q.assign(tf.tensor1d(b_q));
  });
  return model;
}

function closeTo(actual: ArrayLike<number>, expected: number[], tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('the forward pass and loss on a two-step example worked by hand', () => {
  it('gives the hand-computed logits, time-major, and the final state', () => {
    const model = handModel();
    const Xt = tf.tensor2d(X, [2, 2], 'int32');
    const state = model.beginState(2);
    const res = model.forward(Xt, state);
    assert.deepEqual(res.logits.shape, [4, 3]);
    closeTo(res.logits.dataSync(), expectedLogits.flat(), 1e-6, 'logits');
    closeTo(res.state.dataSync(), [...h2s0, ...h2s1], 1e-6, 'state');
    tf.dispose([Xt, state, res.logits, res.state]);
    model.dispose();
  });

  it('gives the hand-computed mean cross-entropy and its perplexity', () => {
    const model = handModel();
    const Xt = tf.tensor2d(X, [2, 2], 'int32');
    const state = model.beginState(2);
    const res = model.forward(Xt, state);
    const labels = timeMajorLabels(Int32Array.from(Y), 2, 2);
    assert.deepEqual(Array.from(labels), expectedLabels);
    const labelsT = tf.tensor1d(labels, 'int32');
    const lossT = crossEntropy(res.logits, labelsT);
    const loss = lossT.dataSync()[0];
    assert.ok(Math.abs(loss - expectedLoss) < 1e-6, `loss ${loss} vs ${expectedLoss}`);
    assert.ok(Math.abs(perplexity(loss) - Math.exp(expectedLoss)) < 1e-5);
    tf.dispose([Xt, state, res.logits, res.state, labelsT, lossT]);
    model.dispose();
  });

  it('gives a different loss when the labels are flattened without transposing (d2l-en #1349)', () => {
    const logits = tf.tensor2d(expectedLogits);
    const labels = tf.tensor1d(Y, 'int32'); // flattened row-major: the wrong pairing
    const lossT = crossEntropy(logits, labels);
    const wrong = lossT.dataSync()[0];
    const rowMajor = (nll(expectedLogits[0], 1) + nll(expectedLogits[1], 2) + nll(expectedLogits[2], 0) + nll(expectedLogits[3], 1)) / 4;
    assert.ok(Math.abs(wrong - rowMajor) < 1e-6, 'crossEntropy pairs row i with label i');
    assert.ok(Math.abs(wrong - expectedLoss) > 1e-3, 'the mis-paired loss must differ from the right one');
    tf.dispose([logits, labels, lossT]);
  });
});

describe('perplexity', () => {
  for (const V of [2, 28]) {
    it(`is exactly the vocabulary size (${V}) for uniform logits`, () => {
      const logits = tf.zeros([6, V]) as tf.Tensor2D;
      const labels = tf.tensor1d([0, 1, 1, 0, V - 1, 1], 'int32');
      const loss = crossEntropy(logits, labels);
      const ppl = perplexity(loss.dataSync()[0]);
      assert.ok(Math.abs(ppl - V) / V < 1e-6, `perplexity ${ppl}, expected ${V}`);
      tf.dispose([logits, labels, loss]);
    });
  }

  it('is 1 for a model that puts all its mass on the right token', () => {
    const logits = tf.tensor2d([
      [50, 0, 0],
      [0, 0, 50],
    ]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const loss = crossEntropy(logits, labels);
    assert.ok(Math.abs(perplexity(loss.dataSync()[0]) - 1) < 1e-6);
    tf.dispose([logits, labels, loss]);
  });
});

describe('timeMajorLabels', () => {
  it('orders the labels step by step, sequence by sequence: row t*B + b is step t of sequence b', () => {
    const Yrm = Int32Array.from([10, 11, 12, 20, 21, 22]); // B = 2 sequences of T = 3
    assert.deepEqual(Array.from(timeMajorLabels(Yrm, 2, 3)), [10, 20, 11, 21, 12, 22]);
    assert.notDeepEqual(Array.from(timeMajorLabels(Yrm, 2, 3)), Array.from(Yrm), 'flattening without transposing differs');
  });

  it('leaves a single sequence unchanged and a single step as the column of sequences', () => {
    assert.deepEqual(Array.from(timeMajorLabels(Int32Array.from([4, 5, 6]), 1, 3)), [4, 5, 6]);
    assert.deepEqual(Array.from(timeMajorLabels(Int32Array.from([4, 5, 6]), 3, 1)), [4, 5, 6]);
  });
});
