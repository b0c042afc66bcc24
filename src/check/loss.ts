// Checks for 03-loss's exercises: time-major labels, cross-entropy and perplexity (src/loss.ts).
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, perplexity, timeMajorLabels } from '../loss';
import { Rng } from '../random';
import { defineCheck, type CheckCase } from './core';

// ---------------------------------------------------------------------------------------------
// 3.1 · crossEntropy: logits [N, V] and labels [N] → the mean of −log softmax(logits)[label]

type LossArgs = [logits: tf.Tensor2D, labels: tf.Tensor1D];

function lossCase(name: string, N: number, V: number, seed: number, scale: number): CheckCase<LossArgs> {
  return {
    name,
    args: () => {
      const rng = new Rng(seed);
      const logits = tf.tensor2d(Array.from({ length: N * V }, () => rng.normal() * scale), [N, V]);
      return [logits, tf.tensor1d(Array.from({ length: N }, () => rng.int(0, V - 1)), 'int32')];
    },
  };
}

/** log p of each row's label, [N]; with `columns` the softmax normalises each column instead of each row. */
function logProbsAt(logits: tf.Tensor2D, labels: tf.Tensor1D, columns = false): tf.Tensor1D {
  const logProbs = columns ? tf.transpose(tf.logSoftmax(tf.transpose(logits))) : tf.logSoftmax(logits); // [N, V]
  return tf.sum(tf.mul(logProbs, tf.oneHot(labels, logits.shape[1])), 1) as tf.Tensor1D;
}
const pickedAt = (t: tf.Tensor2D, labels: tf.Tensor1D) => tf.sum(tf.mul(t, tf.oneHot(labels, t.shape[1])), 1) as tf.Tensor1D;

export const crossEntropyCheck = defineCheck<LossArgs, tf.Scalar>({
  name: 'crossEntropy',
  exercise: '3.1',
  reference: crossEntropy,
  referenceName: 'rw.crossEntropy',
  cases: [
    {
      name: "the lesson's T·B = 4 rows over V = 4",
      args: () => [tf.tensor2d([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4], [-1.0, 3.0, 0.0, 0.5], [0.0, 0.0, 0.0, 5.0]]), tf.tensor1d([0, 3, 1, 2], 'int32')],
    },
    lossCase('N = 15, V = 11, random logits', 15, 11, 51, 2),
    lossCase('N = 1, V = 28 (one prediction)', 1, 28, 52, 1),
    { name: 'N = 6, V = 28, all logits 0 (uniform: the loss is log V)', args: () => [tf.zeros([6, 28]) as tf.Tensor2D, tf.tensor1d([0, 5, 9, 27, 3, 3], 'int32')] },
    lossCase('N = 8, V = 28, large logits (up to a few hundred)', 8, 28, 53, 150),
  ],
  mistakes: [
    {
      id: 'sum-not-mean',
      message: 'your loss is the sum over the rows, N times the mean: the loss is the mean over all T·B predictions, so it does not grow with the minibatch',
      wrong: (logits, labels) => tf.neg(tf.sum(logProbsAt(logits, labels))) as tf.Scalar,
    },
    {
      id: 'probabilities-not-log',
      message: 'your loss is minus the mean probability of the true characters: take the log of each probability first (the log turns the product of the per-character probabilities into a sum)',
      wrong: (logits, labels) => tf.neg(tf.mean(pickedAt(tf.softmax(logits) as tf.Tensor2D, labels))) as tf.Scalar,
    },
    {
      id: 'raw-logits',
      message: 'you used the logits as if they were log-probabilities: they are unnormalised scores. Subtract log Σ_j exp(o_j) from each row (log-softmax) before picking the label',
      wrong: (logits, labels) => tf.neg(tf.mean(pickedAt(logits, labels))) as tf.Scalar,
    },
    {
      id: 'wrong-sign',
      message: 'your loss is negative: it is the mean log-probability, and the loss is its negative (−log p ≥ 0, 0 only for a certain correct prediction)',
      wrong: (logits, labels) => tf.mean(logProbsAt(logits, labels)) as tf.Scalar,
    },
    {
      id: 'softmax-wrong-axis',
      message: 'your softmax normalises each column (over the N predictions) instead of each row: a row of V logits is one prediction, and its probabilities must sum to 1',
      wrong: (logits, labels) => tf.neg(tf.mean(logProbsAt(logits, labels, true))) as tf.Scalar,
    },
    {
      id: 'no-max-subtraction',
      message: 'with large logits your loss is Infinity or NaN: exp overflows float32 above about 88. Subtract each row\u2019s maximum before exponentiating (the log-sum-exp trick)',
      wrong: (logits, labels) => tf.neg(tf.mean(tf.sub(pickedAt(logits, labels), tf.log(tf.sum(tf.exp(logits), 1))))) as tf.Scalar,
    },
  ],
  advice: 'The loss is the mean over the N rows of −o_y + log Σ_j exp(o_j)',
});

// ---------------------------------------------------------------------------------------------
// 3.2 · timeMajorLabels: Y [B, T] row-major → [T·B] in the logits' order, row t·B + b

type LabelArgs = [Y: Int32Array, batchSize: number, numSteps: number];

/** B sequences of T random labels below 28 (every entry distinct where B·T ≤ 28, so any misplacement shows). */
function labelCase(name: string, B: number, T: number, seed: number): CheckCase<LabelArgs> {
  return {
    name,
    args: () => {
      const rng = new Rng(seed);
      const Y = B * T <= 28 ? Int32Array.from(rng.shuffle(Array.from({ length: 28 }, (_, i) => i)).slice(0, B * T)) : Int32Array.from({ length: B * T }, () => rng.int(0, 27));
      return [Y, B, T];
    },
  };
}

/** out[t·B + b] = Y[b·T + t + shift] for the steps t < T − skipLast, zeros elsewhere (the catalogue's variants). */
function labelsVariant(Y: Int32Array, B: number, T: number, v: { shift?: number; skipLast?: number } = {}): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T - (v.skipLast ?? 0); t++) out[t * B + b] = Y[b * T + t + (v.shift ?? 0)] ?? 0;
  }
  return out;
}

export const timeMajorLabelsCheck = defineCheck<LabelArgs, Int32Array>({
  name: 'timeMajorLabels',
  exercise: '3.2',
  reference: timeMajorLabels,
  referenceName: 'rw.timeMajorLabels',
  cases: [
    labelCase('B = 3, T = 4', 3, 4, 41),
    labelCase("B = 32, T = 35 (d2l's minibatch)", 32, 35, 42),
    labelCase('B = 5, T = 2', 5, 2, 43),
    labelCase('B = 1, T = 7 (one sequence)', 1, 7, 44),
    labelCase('B = 6, T = 1 (one step)', 6, 1, 45),
  ],
  mistakes: [
    {
      id: 'batch-major',
      message: "your labels are Y flattened as it is, batch-major: row b·T + t. The logits' row t·B + b is step t of sequence b, so the labels must be read column by column. This is the notes' (and d2l-en #1349's) bug: training stalls near the unigram perplexity",
      wrong: (Y) => Int32Array.from(Y),
    },
    {
      id: 'read-as-time-major',
      message: 'you read Y as if it were already [T, B] and transposed it to batch-major: Y is [B, T], row b holds sequence b. Label t·B + b is Y[b][t]',
      wrong: (Y, B, T) => {
        const out = new Int32Array(B * T);
        for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[b * T + t] = Y[t * B + b];
        return out;
      },
    },
    {
      id: 'shifted-again',
      message: 'your labels are one step too far ahead: Y is already X shifted by one character, so label t·B + b is Y[b][t] itself, not the character after it',
      wrong: (Y, B, T) => labelsVariant(Y, B, T, { shift: 1 }),
    },
    {
      id: 'last-step-missing',
      message: 'the last B labels (step T − 1) are all 0: your loop over the steps stops one step early',
      wrong: (Y, B, T) => labelsVariant(Y, B, T, { skipLast: 1 }),
    },
  ],
  advice: 'Entry t·B + b of the result is Y[b·T + t]',
});

// ---------------------------------------------------------------------------------------------
// 3.3 · perplexity: a mean loss per token → exp of it

export const perplexityCheck = defineCheck<[meanLoss: number], number>({
  name: 'perplexity',
  exercise: '3.3',
  reference: perplexity,
  referenceName: 'rw.perplexity',
  cases: [
    { name: 'loss log 28 (a uniform guess over V = 28)', args: () => [Math.log(28)] },
    { name: 'loss 0 (a perfect model)', args: () => [0] },
    { name: 'loss 2.5', args: () => [2.5] },
    { name: 'loss 20 (confidently wrong)', args: () => [20] },
  ],
  mistakes: [
    {
      id: 'no-exp',
      message: 'your perplexity is the loss itself: the perplexity is its exponential, so that a uniform guess over V characters gives exactly V',
      wrong: (loss) => loss,
    },
    {
      id: 'base-2',
      message: 'you raised 2 to the loss: the loss is in nats (natural log), so its perplexity is e to the loss. 2^loss would need a loss in bits',
      wrong: (loss) => 2 ** loss,
    },
    {
      id: 'negated',
      message: 'your perplexity is below 1, the geometric mean probability itself: perplexity is its inverse, exp(+loss)',
      wrong: (loss) => Math.exp(-loss),
    },
  ],
  advice: 'A loss of log V should give V',
});

/** Lesson 03's checks, by the names the notebook calls them. */
export const lossChecks = { crossEntropy: crossEntropyCheck, timeMajorLabels: timeMajorLabelsCheck, perplexity: perplexityCheck };
