// The hidden state between minibatches. Taught in 05-state-initialization.
// With no history the state starts at zero. Sequential partitioning may carry the final state into
// the next minibatch; the gradient is cut there, because each tfjs gradient computation only sees
// the ops of its own minibatch (PyTorch needs `state.detach_()` for the same effect).
import * as tf from '@tensorflow/tfjs';

/** d2l's init_rnn_state: zeros [B, H]. */
export function initRNNState(batchSize: number, numHiddens: number): tf.Tensor2D {
  return tf.zeros([batchSize, numHiddens]);
}

/**
 * The state to start the next minibatch from. Resets to zeros when asked or when there is none
 * (or its batch size changed); otherwise carries `prev`. Disposes `prev` when it is not carried.
 */
export function nextState(prev: tf.Tensor2D | null, batchSize: number, numHiddens: number, reset: boolean): tf.Tensor2D {
  if (prev && !reset && prev.shape[0] === batchSize) return prev;
  prev?.dispose();
  return initRNNState(batchSize, numHiddens);
}
