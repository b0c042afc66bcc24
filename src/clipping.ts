// Gradient clipping. Taught in 04-gradient-clipping.
// BPTT multiplies T Jacobians together, so one unlucky minibatch can produce a gradient large
// enough to undo an epoch of training; clipping bounds the step without changing its direction.
//
// Every function takes the gradients either as a list (d2l's list of parameters; lesson 04's
// exercises) or by parameter name (what autogradStep and bpttStep return), and gives back the same kind.
import * as tf from '@tensorflow/tfjs';
import type { ClipMode } from './config';

/** Gradients as a list of tensors, or as a record of them by name (`Grads`). */
export type GradientSet = tf.Tensor[] | { [name: string]: tf.Tensor };

/** A gradient set of the same kind as G: a list stays a list, a record keeps its names. */
export type SameKind<G extends GradientSet> = G extends tf.Tensor[] ? tf.Tensor[] : { [K in keyof G]: tf.Tensor };

/** The tensors of a gradient set, in order. */
function tensorsOf(grads: GradientSet): tf.Tensor[] {
  return Array.isArray(grads) ? grads : Object.values(grads);
}

/** f applied to every tensor, in a set of the same kind. */
function mapGrads<G extends GradientSet>(grads: G, f: (g: tf.Tensor) => tf.Tensor): SameKind<G> {
  if (Array.isArray(grads)) return grads.map(f) as SameKind<G>;
  return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, f(g)])) as SameKind<G>;
}

/** Global L2 norm over all gradients: sqrt(Σ_p Σ g_p²). */
export function globalNorm(grads: GradientSet): number {
  return tf.tidy(() => tf.sqrt(tf.addN(tensorsOf(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
}

/**
 * d2l's grad_clipping: if ‖g‖ > θ, scale every gradient by θ/‖g‖. Returns new gradient tensors
 * (the caller disposes both sets) and the norm *before* clipping, so lessons can plot it.
 * θ = 0 turns clipping off.
 */
export function gradClipping<G extends GradientSet>(grads: G, theta: number): { grads: SameKind<G>; norm: number; clipped: boolean } {
  const norm = globalNorm(grads);
  if (theta > 0 && norm > theta) {
    const scale = theta / norm;
    return { grads: mapGrads(grads, (g) => tf.mul(g, scale)), norm, clipped: true };
  }
  return { grads: mapGrads(grads, (g) => g.clone()), norm, clipped: false };
}

/** min-char-rnn's alternative: clamp every entry to [−limit, limit]. Changes the direction. */
export function clipByValue<G extends GradientSet>(grads: G, limit: number): SameKind<G> {
  return mapGrads(grads, (g) => tf.clipByValue(g, -limit, limit));
}

/** Each tensor clipped to norm θ on its own; also changes the direction of the whole step. */
export function clipPerTensor<G extends GradientSet>(grads: G, theta: number): SameKind<G> {
  return mapGrads(grads, (g) =>
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
export function clipGradients<G extends GradientSet>(grads: G, theta: number, mode: ClipMode = 'global'): { grads: SameKind<G>; norm: number; clipped: boolean } {
  if (mode === 'global' || theta === 0) return gradClipping(grads, theta);
  const norm = globalNorm(grads);
  const out = mode === 'value' ? clipByValue(grads, theta) : clipPerTensor(grads, theta);
  const each = tensorsOf(grads);
  const clipped = mode === 'value' ? each.some((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > theta) : each.some((g) => tf.tidy(() => tf.norm(g).dataSync()[0]) > theta);
  return { grads: out, norm, clipped };
}
