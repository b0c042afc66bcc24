// Checks for 01-rnn-overview's exercises.
import * as tf from '@tensorflow/tfjs';
import { RNNModelScratch, rnnStep, type RNNParams } from '../model';
import { Rng } from '../random';
import { defineCheck, type CheckCase } from './core';

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
  exercise: '1.2',
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

/** Lesson 01's checks, by the names the notebook calls them: rw.check.rnnStep(rnnStep). */
export const overviewChecks = { rnnStep: rnnStepCheck };
