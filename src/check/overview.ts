// Checks for 01-rnn-overview's exercises.
import * as tf from '@tensorflow/tfjs';
import { RNNModelScratch, oneHotTimeMajor, rnn, rnnStep } from '../model';
import type { RNNParams } from '../params';
import { Rng } from '../random';
import { defineCheck, diff, type CheckCase } from './core';

type StepArgs = [params: RNNParams, x: tf.Tensor2D, h: tf.Tensor2D];

/** A model of V × H with weights scaled by `scale`, a one-hot input of B random characters and a random state. */
function stepCase(name: string, B: number, V: number, H: number, seed: number, scale = 1): CheckCase<StepArgs> {
  return {
    name,
    args: () => {
      const model = new RNNModelScratch(V, H, { seed });
      const rng = new Rng(seed + 1);
      const params: RNNParams = scale === 1 ? model.params : scaled(model.params, scale);
      if (scale !== 1) model.dispose();
      const tokens = Array.from({ length: B }, () => rng.int(0, V - 1));
      const x = tf.oneHot(tf.tensor1d(tokens, 'int32'), V).toFloat() as tf.Tensor2D; // [B, V]
      const h = tf.tensor2d(Array.from({ length: B * H }, () => rng.normal() * 0.5), [B, H]); // [B, H]
      return [params, x, h];
    },
  };
}

/** The same parameters with the weights times `scale` and the biases set to 0.1 (so a missing bias shows). */
function scaled(p: RNNParams, scale: number): RNNParams {
  return {
    W_xh: tf.variable(tf.mul(p.W_xh, scale)),
    W_hh: tf.variable(tf.mul(p.W_hh, scale)),
    b_h: tf.variable(tf.fill(p.b_h.shape, 0.1)),
    W_hq: tf.variable(tf.mul(p.W_hq, scale)),
    b_q: tf.variable(tf.fill(p.b_q.shape, 0.1)),
  };
}

const linear = (p: RNNParams, x: tf.Tensor2D, h: tf.Tensor2D) => tf.add(tf.add(tf.matMul(x, p.W_xh), tf.matMul(h, p.W_hh)), p.b_h) as tf.Tensor2D;

export const rnnStepCheck = defineCheck<StepArgs, tf.Tensor2D>({
  name: 'rnnStep',
  exercise: '1.3',
  reference: rnnStep,
  referenceName: 'rw.rnnStep',
  cases: [
    stepCase('B = 2, V = 5, H = 3', 2, 5, 3, 1),
    stepCase('B = 4, V = 28, H = 16, weights × 100 and biases 0.1', 4, 28, 16, 2, 100),
    stepCase('B = 1, V = 28, H = 512 (d2l\'s H)', 1, 28, 512, 3),
    stepCase('B = 7, V = 11, H = 9', 7, 11, 9, 4),
  ],
  mistakes: [
    {
      id: 'no-tanh',
      message: "your step is the notes' linear update: with large weights the state leaves (−1, 1) and grows without bound. Squash the sum with the nonlinearity from 'Why tanh?'",
      wrong: (p, x, h) => linear(p, x, h),
    },
    {
      id: 'no-bias',
      message: 'the bias b_h is missing: the values are off by the same amount in every row. Add b_h (shape [H]) inside the nonlinearity',
      wrong: (p, x, h) => tf.tanh(tf.add(tf.matMul(x, p.W_xh), tf.matMul(h, p.W_hh))) as tf.Tensor2D,
    },
    {
      id: 'sigmoid',
      message: 'every entry of your state is positive: that nonlinearity maps into (0, 1). The state should be centred on zero, in (−1, 1)',
      wrong: (p, x, h) => tf.sigmoid(linear(p, x, h)) as tf.Tensor2D,
    },
    {
      id: 'bias-outside',
      message: 'b_h is added after the nonlinearity, so the state can leave (−1, 1). The bias belongs inside, with the two products',
      wrong: (p, x, h) => tf.add(tf.tanh(tf.add(tf.matMul(x, p.W_xh), tf.matMul(h, p.W_hh))), p.b_h) as tf.Tensor2D,
    },
    {
      id: 'previous-state-ignored',
      message: 'the previous state H_{t-1} has no effect on your result, so nothing is remembered from step to step. The recurrence term H_{t-1} W_hh is missing',
      wrong: (p, x) => tf.tanh(tf.add(tf.matMul(x, p.W_xh), p.b_h)) as tf.Tensor2D,
    },
  ],
  advice: "Compare with the equation H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h) term by term",
});

// ---------------------------------------------------------------------------------------------
// 1.1 · oneHotTimeMajor: token indices [B, T] → time-major one-hot inputs [T, B, V]

type OneHotArgs = [X: tf.Tensor2D, vocabSize: number];

/** B sequences of T random tokens below V, as the int32 [B, T] tensor the data loader's X becomes. */
function indicesCase(name: string, B: number, T: number, V: number, seed: number): CheckCase<OneHotArgs> {
  return {
    name,
    args: () => {
      const rng = new Rng(seed);
      const tokens = Array.from({ length: B * T }, () => rng.int(0, V - 1));
      return [tf.tensor2d(tokens, [B, T], 'int32'), V];
    },
  };
}

export const oneHotTimeMajorCheck = defineCheck<OneHotArgs, tf.Tensor3D>({
  name: 'oneHotTimeMajor',
  exercise: '1.1',
  reference: oneHotTimeMajor,
  referenceName: 'rw.oneHotTimeMajor',
  cases: [
    indicesCase('B = 3, T = 5, V = 11', 3, 5, 11, 11),
    indicesCase("B = 2, T = 35, V = 28 (d2l's T and V)", 2, 35, 28, 12),
    indicesCase('B = 4, T = 4, V = 7 (as many sequences as steps)', 4, 4, 7, 13),
    indicesCase('B = 1, T = 6, V = 5 (one sequence)', 1, 6, 5, 14),
    indicesCase('B = 5, T = 1, V = 28 (one step)', 5, 1, 28, 15),
  ],
  mistakes: [
    {
      id: 'batch-major',
      message: 'your inputs are batch-major, [B, T, V]: inputs[t] must hold all B sequences at step t, so the time axis has to come first. Swap the two axes of X before encoding',
      wrong: (X, V) => tf.oneHot(X, V).toFloat() as tf.Tensor3D,
    },
    {
      id: 'reshape-not-transpose',
      message: 'the shape is [T, B, V] but the characters are scrambled: a reshape keeps the order of the entries, it does not swap axes. inputs[t][b] must encode X[b][t]',
      wrong: (X, V) => tf.oneHot(tf.reshape(X, [X.shape[1], X.shape[0]]), V).toFloat() as tf.Tensor3D,
    },
    {
      id: 'int-dtype',
      message: 'the ones and zeros are in the right places, but the tensor is int32: one-hot encoding gives integers, and the products with the float32 weights need float32. Convert the result',
      wrong: (X, V) => tf.oneHot(tf.transpose(X), V) as tf.Tensor3D,
    },
    {
      id: 'all-axes-reversed',
      message: 'the vocabulary axis came first, [V, T, B]: a transpose without a permutation reverses every axis. Only B and T swap; the V one-hot entries stay last',
      wrong: (X, V) => tf.transpose(tf.oneHot(X, V).toFloat()) as tf.Tensor3D,
    },
  ],
  compare: (got, want) => (got instanceof tf.Tensor && got.dtype !== want.dtype ? `the result is a ${got.dtype} tensor, expected ${want.dtype}` : diff(got, want)),
  advice: 'inputs[t][b] should be the one-hot row of X[b][t]',
});

// ---------------------------------------------------------------------------------------------
// 1.2 · rnn: the forward pass over time, inputs [T, B, V] and state [B, H] → logits [T·B, V], state [B, H]

type ForwardArgs = [inputs: tf.Tensor3D, state: tf.Tensor2D, params: RNNParams];
type Forward = { logits: tf.Tensor2D; state: tf.Tensor2D };

/** T steps of B random characters over V, a model of H hidden units (weights × scale), a zero or random state. */
function forwardCase(name: string, T: number, B: number, V: number, H: number, seed: number, opts: { scale?: number; zeroState?: boolean } = {}): CheckCase<ForwardArgs> {
  return {
    name,
    args: () => {
      const model = new RNNModelScratch(V, H, { seed });
      const scale = opts.scale ?? 1;
      const params: RNNParams = scale === 1 ? model.params : scaled(model.params, scale);
      if (scale !== 1) model.dispose();
      const rng = new Rng(seed + 1);
      const tokens = Array.from({ length: B * T }, () => rng.int(0, V - 1));
      const inputs = oneHotTimeMajor(tf.tensor2d(tokens, [B, T], 'int32'), V); // [T, B, V]
      const state = opts.zeroState ? tf.zeros([B, H]) as tf.Tensor2D : tf.tensor2d(Array.from({ length: B * H }, () => rng.normal() * 0.5), [B, H]);
      return [inputs, state, params];
    },
  };
}

/** The forward pass with one thing changed, for the catalogue of mistakes. */
function forwardVariant(inputs: tf.Tensor3D, state: tf.Tensor2D, p: RNNParams, v: { tanh?: boolean; outputBias?: boolean; outputBeforeUpdate?: boolean; batchMajor?: boolean }): Forward {
  return tf.tidy(() => {
    let h = state;
    const outputs: tf.Tensor2D[] = [];
    for (const x of tf.unstack(inputs) as tf.Tensor2D[]) {
      const previous = h;
      h = v.tanh === false ? linear(p, x, h) : rnnStep(p, x, h);
      const o = tf.matMul(v.outputBeforeUpdate ? previous : h, p.W_hq) as tf.Tensor2D; // [B, V]
      outputs.push(v.outputBias === false ? o : (tf.add(o, p.b_q) as tf.Tensor2D));
    }
    const logits = v.batchMajor ? tf.reshape(tf.stack(outputs, 1), [-1, p.b_q.shape[0]]) : tf.concat(outputs, 0);
    return { logits: logits as tf.Tensor2D, state: h };
  });
}

export const rnnCheck = defineCheck<ForwardArgs, Forward>({
  name: 'rnn',
  exercise: '1.2',
  reference: rnn,
  referenceName: 'rw.rnn',
  cases: [
    forwardCase('T = 4, B = 3, V = 11, H = 7, random state, weights × 100 and biases 0.1', 4, 3, 11, 7, 21, { scale: 100 }),
    forwardCase("T = 35, B = 2, V = 28, H = 16, zero state, d2l's initialisation", 35, 2, 28, 16, 22, { zeroState: true }),
    forwardCase('T = 1, B = 1, V = 5, H = 3, random state, weights × 10', 1, 1, 5, 3, 23, { scale: 10 }),
    forwardCase('T = 6, B = 5, V = 28, H = 32, random state, weights × 10', 6, 5, 28, 32, 24, { scale: 10 }),
  ],
  mistakes: [
    {
      id: 'no-tanh',
      message: "your state update is the notes' linear one: with these weights the state leaves (−1, 1) and the logits grow. Each step must squash its sum with tanh, as in the equation at the top of the lesson",
      wrong: (inputs, state, p) => forwardVariant(inputs, state, p, { tanh: false }),
    },
    {
      id: 'state-reset',
      message: "your result is what a zero initial state gives: the state passed in is ignored. The notes' forward calls init_state inside, so every minibatch forgets the one before — start the loop from the state you are given",
      wrong: (inputs, state, p) => forwardVariant(inputs, tf.zerosLike(state), p, {}),
    },
    {
      id: 'batch-major-logits',
      message: 'your logits are stacked batch-major: row b·T + t holds step t of sequence b. The rows must be time-major, row t·B + b — all B sequences of step 0 first, then step 1, …',
      wrong: (inputs, state, p) => forwardVariant(inputs, state, p, { batchMajor: true }),
    },
    {
      id: 'no-output-bias',
      message: 'the output bias b_q is missing: every row of logits is off by the same vector. O_t = H_t W_hq + b_q',
      wrong: (inputs, state, p) => forwardVariant(inputs, state, p, { outputBias: false }),
    },
    {
      id: 'initial-state-returned',
      message: 'the logits are right but the state you return is the one you were given: return the state after the last step, so the next minibatch can continue from it',
      wrong: (inputs, state, p) => ({ logits: rnn(inputs, state, p).logits, state }),
    },
    {
      id: 'output-before-update',
      message: 'the logits of step t come from H_{t−1}, the state before reading X_t: update the state first, then compute the output from the new state',
      wrong: (inputs, state, p) => forwardVariant(inputs, state, p, { outputBeforeUpdate: true }),
    },
  ],
  advice: 'Loop over the T steps: H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h), O_t = H_t W_hq + b_q; stack the O_t time-major',
});

/** Lesson 01's checks, by the names the notebook calls them: rw.check.rnnStep(rnnStep). */
export const overviewChecks = { oneHotTimeMajor: oneHotTimeMajorCheck, rnn: rnnCheck, rnnStep: rnnStepCheck };
