// Loss and gradients of one minibatch by automatic differentiation through every time step —
// the way d2l (and the notes) compute them. Taught in 07-implementation; the fast hand-derived
// BPTT in bptt.ts must agree with it to 1e-5.
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './batches';
import { crossEntropy, timeMajorLabels } from './loss';
import { oneHotTimeMajor, paramList, rnn } from './model';
import { mapParams, type Grads, type RNNParams } from './params';

/** What one training step hands back: the mean loss, one gradient per parameter by name, the final state. */
export interface StepResult {
  loss: number;
  grads: Grads; // caller disposes
  state: tf.Tensor2D; // [B, H], caller disposes
}

/** What a loss-only pass hands back (validation): the mean loss and the final state. */
export interface LossResult {
  loss: number;
  state: tf.Tensor2D; // [B, H], caller disposes
}

export function autogradStep(params: RNNParams, batch: Batch, state: tf.Tensor2D): StepResult {
  const { batchSize: B, numSteps: T } = batch;
  let finalState: tf.Tensor2D | null = null;
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.tidy(() => {
      const X = tf.tensor2d(batch.X, [B, T], 'int32');
      const labels = tf.tensor1d(timeMajorLabels(batch.Y, B, T), 'int32'); // [T*B]
      return tf.variableGrads(() => {
        const out = rnn(oneHotTimeMajor(X, params.W_xh.shape[0]), state, params);
        finalState = tf.keep(out.state);
        return crossEntropy(out.logits, labels);
      }, paramList(params));
    });
  } catch (err) {
    (finalState as tf.Tensor2D | null)?.dispose(); // kept past the tidy, so it would leak
    throw err;
  }
  const { value, grads } = result;
  const loss = value.dataSync()[0];
  value.dispose();
  // tf.variableGrads keys the gradients by each variable's internal name ('0', '1', …): rename them W_xh, W_hh, …
  return { loss, grads: mapParams(params, (v) => grads[v.name]), state: finalState! };
}

/** The loss-only pass of the autograd path: the model's forward (d2l's), then the cross-entropy. */
export function autogradLoss(params: RNNParams, batch: Batch, state: tf.Tensor2D): LossResult {
  const { batchSize: B, numSteps: T } = batch;
  const out = tf.tidy(() => {
    const X = tf.tensor2d(batch.X, [B, T], 'int32');
    const labels = tf.tensor1d(timeMajorLabels(batch.Y, B, T), 'int32'); // [T*B], the logits' row order
    const { logits, state: next } = rnn(oneHotTimeMajor(X, params.W_xh.shape[0]), state, params); // [T*B, V], [B, H]
    return { loss: crossEntropy(logits, labels), state: next };
  });
  const loss = out.loss.dataSync()[0];
  out.loss.dispose();
  return { loss, state: out.state };
}
