// The five parameters of the RNN: their names, shapes and order, defined once. The model, the two
// training steps, the data-parallel helper thread and checkpoints all take them from here.
// Taught in 01-rnn-overview (the shapes) and 07-implementation (gradients by name).
// V is the vocabulary size, H the number of hidden units.
import type * as tf from '@tensorflow/tfjs';

/** d2l's order: W_xh, W_hh, b_h, W_hq, b_q. Checkpoints and the flat layout below store them in this order. */
export const PARAM_NAMES = ['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

/** The parameters as tfjs variables: what the model holds and SGD updates. */
export interface RNNParams {
  W_xh: tf.Variable<tf.Rank.R2>; // [V, H] input → hidden
  W_hh: tf.Variable<tf.Rank.R2>; // [H, H] hidden → hidden (the recurrence)
  b_h: tf.Variable<tf.Rank.R1>; // [H]
  W_hq: tf.Variable<tf.Rank.R2>; // [H, V] hidden → output logits
  b_q: tf.Variable<tf.Rank.R1>; // [V]
}

/** The parameters as plain tensors, same names and shapes: what a training step reads (RNNParams qualify). */
export interface ParamTensors {
  W_xh: tf.Tensor2D; // [V, H]
  W_hh: tf.Tensor2D; // [H, H]
  b_h: tf.Tensor1D; // [H]
  W_hq: tf.Tensor2D; // [H, V]
  b_q: tf.Tensor1D; // [V]
}

/**
 * One gradient per parameter, by name, each shaped like its parameter: what the training steps return
 * (as tf.variableGrads does, by name), clipping keeps and sgd applies. The caller disposes them.
 */
export type Grads = Record<ParamName, tf.Tensor>;

/** The shape of each parameter for a vocabulary of V tokens and H hidden units. */
export function paramShapes(vocabSize: number, numHiddens: number): Record<ParamName, number[]> {
  const [V, H] = [vocabSize, numHiddens];
  return { W_xh: [V, H], W_hh: [H, H], b_h: [H], W_hq: [H, V], b_q: [V] };
}

/** Number of entries of each parameter: V·H, H·H, H, H·V, V. */
export function paramSizes(vocabSize: number, numHiddens: number): Record<ParamName, number> {
  return mapParams(paramShapes(vocabSize, numHiddens), (shape) => shape.reduce((a, b) => a * b, 1));
}

/** V·H + H·H + H + H·V + V: 291,356 for d2l's V = 28, H = 512. */
export function numParams(vocabSize: number, numHiddens: number): number {
  const sizes = paramSizes(vocabSize, numHiddens);
  return PARAM_NAMES.reduce((n, name) => n + sizes[name], 0);
}

/** A new record with f applied to each parameter's entry, in PARAM_NAMES order (like jax's tree_map). */
export function mapParams<P extends { readonly [K in ParamName]: unknown }, B>(p: P, f: (value: P[ParamName], name: ParamName) => B): Record<ParamName, B> {
  const out = {} as Record<ParamName, B>;
  for (const name of PARAM_NAMES) out[name] = f(p[name], name);
  return out;
}

/**
 * All parameters' values end to end in one Float32Array, in PARAM_NAMES order, each row-major: the
 * layout of checkpoints and of the data-parallel helper's shared memory. Writes into `out` when given
 * (it must have exactly the right length).
 */
export function packParams(values: { readonly [K in ParamName]: ArrayLike<number> }, out?: Float32Array): Float32Array {
  const total = PARAM_NAMES.reduce((n, name) => n + values[name].length, 0);
  if (out && out.length !== total) throw new RangeError(`packParams: ${total} values do not fit an array of ${out.length}`);
  const flat = out ?? new Float32Array(total);
  let offset = 0;
  for (const name of PARAM_NAMES) {
    flat.set(values[name], offset);
    offset += values[name].length;
  }
  return flat;
}

/** The inverse of packParams: each parameter's values as a view into `flat` (no copy), for V and H. */
export function unpackParams(flat: Float32Array, vocabSize: number, numHiddens: number): Record<ParamName, Float32Array> {
  const sizes = paramSizes(vocabSize, numHiddens);
  const total = numParams(vocabSize, numHiddens);
  if (flat.length !== total) throw new RangeError(`unpackParams: ${flat.length} values, expected ${total} for V = ${vocabSize}, H = ${numHiddens}`);
  let offset = 0;
  return mapParams(sizes, (size) => flat.subarray(offset, (offset += size)));
}
