// Mean cross-entropy over every prediction of a minibatch, and perplexity. Taught in 03-loss.
import * as tf from '@tensorflow/tfjs';

/**
 * Labels Y [B, T] (row-major) flattened time-major to [T*B], the order of the logits' rows:
 * row t*B + b is step t of sequence b. Flattening Y without transposing pairs logits with the
 * wrong labels (d2l-en #1349) and training stalls near perplexity 17.
 */
export function timeMajorLabels(Y: Int32Array, batchSize: number, numSteps: number): Int32Array {
  const out = new Int32Array(batchSize * numSteps);
  for (let b = 0; b < batchSize; b++) {
    for (let t = 0; t < numSteps; t++) out[t * batchSize + b] = Y[b * numSteps + t];
  }
  return out;
}

/** Mean over N rows of −log softmax(logits)[label]. logits [N, V], labels [N] int32 → scalar. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits); // [N, V]
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels.toInt(), logits.shape[1])), 1); // [N]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/** exp of the mean per-token loss: V for a uniform guess over V tokens, 1 for a perfect model. */
export function perplexity(meanLoss: number): number {
  return Math.exp(meanLoss);
}
