// Gradient clipping. Taught in 04-gradient-clipping.
// BPTT multiplies T Jacobians together, so one unlucky minibatch can produce a gradient large
// enough to undo an epoch of training; clipping bounds the step without changing its direction.
import * as tf from '@tensorflow/tfjs';
import type { ClipMode } from './config';

/** Global L2 norm over all gradients: sqrt(Σ_p Σ g_p²). */
export function globalNorm(grads: tf.Tensor[]): number {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
}

/**
 * d2l's grad_clipping: if ‖g‖ > θ, scale every gradient by θ/‖g‖. Returns new gradient tensors
 * (the caller disposes both sets) and the norm *before* clipping, so lessons can plot it.
 * θ = 0 turns clipping off.
 */
export function gradClipping(grads: tf.Tensor[], theta: number): { grads: tf.Tensor[]; norm: number; clipped: boolean } {
  const norm = globalNorm(grads);
  if (theta > 0 && norm > theta) {
    const scale = theta / norm;
    return { grads: grads.map((g) => tf.mul(g, scale)), norm, clipped: true };
  }
  return { grads: grads.map((g) => g.clone()), norm, clipped: false };
}

/** min-char-rnn's alternative: clamp every entry to [−limit, limit]. Changes the direction. */
export function clipByValue(grads: tf.Tensor[], limit: number): tf.Tensor[] {
  return grads.map((g) => tf.clipByValue(g, -limit, limit));
}

/** Each tensor clipped to norm θ on its own; also changes the direction of the whole step. */
export function clipPerTensor(grads: tf.Tensor[], theta: number): tf.Tensor[] {
  return grads.map((g) =>
    tf.tidy(() => {
      const n = tf.norm(g).dataSync()[0];
      return n > theta ? tf.mul(g, theta / n) : g.clone();
    }),
  );
}

/**
 * Clips by the chosen mode with threshold θ (θ = 0: no clipping). The reported norm is always the
 * global norm before clipping; `clipped` says whether anything changed.
 */
export function clipGradients(grads: tf.Tensor[], theta: number, mode: ClipMode = 'global'): { grads: tf.Tensor[]; norm: number; clipped: boolean } {
  if (mode === 'global' || theta === 0) return gradClipping(grads, theta);
  const norm = globalNorm(grads);
  const out = mode === 'value' ? clipByValue(grads, theta) : clipPerTensor(grads, theta);
  const clipped = mode === 'value' ? grads.some((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > theta) : grads.some((g) => tf.tidy(() => tf.norm(g).dataSync()[0]) > theta);
  return { grads: out, norm, clipped };
}
