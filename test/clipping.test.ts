// Gradient clipping: the global norm, d2l's grad_clipping and the two alternatives lesson 04 compares.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { clipByValue, clipGradients, clipPerTensor, globalNorm, gradClipping } from '../src/clipping';

before(async () => {
  await initBackend({ log: () => {} });
});

// Entries chosen so the norms are exact: ‖[3, 4]‖ = 5, ‖[[12]]‖ = 12, global sqrt(25 + 144) = 13.
const makeGrads = () => [tf.tensor1d([3, -4]), tf.tensor2d([[12]]), tf.tensor2d([[0, 0]])];
const values = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

function near(actual: number[][], expected: number[][], tol = 1e-6) {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, i) =>
    row.forEach((x, j) => assert.ok(Math.abs(x - expected[i][j]) <= tol, `entry [${i}][${j}]: ${x} vs ${expected[i][j]}`)),
  );
}

describe('globalNorm', () => {
  it('is the L2 norm over every entry of every gradient', () => {
    const grads = makeGrads();
    assert.ok(Math.abs(globalNorm(grads) - 13) < 1e-5);
    tf.dispose(grads);
  });
});

describe('gradClipping', () => {
  it('scales every gradient by θ/‖g‖ when the norm is above θ, leaving a clipped norm of exactly θ', () => {
    const grads = makeGrads();
    const r = gradClipping(grads, 2.6);
    assert.equal(r.clipped, true);
    near(values(r.grads), [[0.6, -0.8], [2.4], [0, 0]]); // × 2.6/13 = 0.2
    assert.ok(Math.abs(globalNorm(r.grads) - 2.6) < 1e-5);
    tf.dispose([...grads, ...r.grads]);
  });

  it('returns the norm from before clipping', () => {
    const grads = makeGrads();
    const r = gradClipping(grads, 1);
    assert.ok(Math.abs(r.norm - 13) < 1e-5, `norm ${r.norm}`);
    tf.dispose([...grads, ...r.grads]);
  });

  it('leaves gradients below θ unchanged, as new tensors', () => {
    const grads = makeGrads();
    const r = gradClipping(grads, 20);
    assert.equal(r.clipped, false);
    assert.ok(Math.abs(r.norm - 13) < 1e-5);
    near(values(r.grads), values(grads), 0);
    r.grads.forEach((g, i) => assert.notEqual(g, grads[i], 'the caller disposes both sets, so they must be distinct'));
    tf.dispose([...grads, ...r.grads]);
  });

  it('turns clipping off with θ = 0, however large the gradient', () => {
    const grads = [tf.tensor1d([3e6, -4e6])];
    const r = gradClipping(grads, 0);
    assert.equal(r.clipped, false);
    near(values(r.grads), [[3e6, -4e6]], 0);
    assert.ok(Math.abs(r.norm - 5e6) / 5e6 < 1e-6);
    tf.dispose([...grads, ...r.grads]);
  });

  for (const theta of [1, 20, 0]) {
    it(`leaves no tensors behind once both sets are disposed (θ = ${theta})`, () => {
      const grads = makeGrads();
      const before = tf.memory().numTensors;
      const r = gradClipping(grads, theta);
      tf.dispose(r.grads);
      assert.equal(tf.memory().numTensors, before);
      assert.ok(grads.every((g) => !g.isDisposed), 'the input gradients are the caller’s to dispose');
      tf.dispose(grads);
    });
  }
});

describe('clipByValue', () => {
  it('clamps every entry to [−limit, limit], changing the direction of the step', () => {
    const grads = makeGrads();
    const out = clipByValue(grads, 3.5);
    near(values(out), [[3, -3.5], [3.5], [0, 0]]);
    tf.dispose([...grads, ...out]);
  });

  it('leaves no tensors behind once its results are disposed', () => {
    const grads = makeGrads();
    const before = tf.memory().numTensors;
    tf.dispose(clipByValue(grads, 1));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(grads);
  });
});

describe('clipPerTensor', () => {
  it('clips each tensor to norm θ on its own and leaves smaller ones unchanged', () => {
    const grads = makeGrads();
    const out = clipPerTensor(grads, 6);
    // [3, −4] has norm 5 ≤ 6: unchanged; [[12]] has norm 12: scaled to 6; zeros stay zeros.
    near(values(out), [[3, -4], [6], [0, 0]]);
    tf.dispose([...grads, ...out]);
  });

  it('leaves no tensors behind once its results are disposed', () => {
    const grads = makeGrads();
    const before = tf.memory().numTensors;
    tf.dispose(clipPerTensor(grads, 6));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(grads);
  });
});

describe('clipGradients', () => {
  it('clips by the global norm by default, as gradClipping does', () => {
    const grads = makeGrads();
    const r = clipGradients(grads, 2.6);
    assert.equal(r.clipped, true);
    assert.ok(Math.abs(r.norm - 13) < 1e-5);
    near(values(r.grads), [[0.6, -0.8], [2.4], [0, 0]]);
    tf.dispose([...grads, ...r.grads]);
  });

  it('clamps entries in value mode, reporting the global norm from before clipping', () => {
    const grads = makeGrads();
    const r = clipGradients(grads, 3.5, 'value');
    near(values(r.grads), [[3, -3.5], [3.5], [0, 0]]);
    assert.ok(Math.abs(r.norm - 13) < 1e-5);
    assert.equal(r.clipped, true);
    const small = clipGradients(grads, 100, 'value');
    assert.equal(small.clipped, false);
    near(values(small.grads), values(grads), 0);
    tf.dispose([...grads, ...r.grads, ...small.grads]);
  });

  it('clips each tensor on its own in per-tensor mode, saying whether any was clipped', () => {
    const grads = makeGrads();
    const r = clipGradients(grads, 6, 'per-tensor');
    near(values(r.grads), [[3, -4], [6], [0, 0]]);
    assert.equal(r.clipped, true);
    const small = clipGradients(grads, 12.5, 'per-tensor');
    assert.equal(small.clipped, false);
    tf.dispose([...grads, ...r.grads, ...small.grads]);
  });

  for (const mode of ['global', 'value', 'per-tensor'] as const) {
    it(`changes nothing with θ = 0 and leaves no tensors behind (${mode} mode)`, () => {
      const grads = makeGrads();
      const before = tf.memory().numTensors;
      const off = clipGradients(grads, 0, mode);
      assert.equal(off.clipped, false);
      near(values(off.grads), values(grads), 0);
      tf.dispose(off.grads);
      const on = clipGradients(grads, 1, mode);
      assert.equal(on.clipped, true);
      tf.dispose(on.grads);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose(grads);
    });
  }
});
