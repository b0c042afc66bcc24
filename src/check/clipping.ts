// Checks for 04-gradient-clipping's exercises: the global norm, global-norm clipping, per-tensor clipping.
import * as tf from '@tensorflow/tfjs';
import { clipByValue, clipPerTensor, globalNorm, gradClipping } from '../clipping';
import { Rng } from '../random';
import { defineCheck, type CheckCase } from './core';

type Grads = tf.Tensor[];
type Clipped = { grads: tf.Tensor[]; norm: number; clipped: boolean };

/** The notebook's example: [[3, 4]] and [12], global norm √(9 + 16 + 144) = 13. */
const threeFourTwelve = (): Grads => [tf.tensor2d([[3, 4]]), tf.tensor1d([12])];

/** Five random "gradients" shaped like an RNN's (W_xh [V, H], W_hh [H, H], b_h [H], W_hq [H, V], b_q [V]), entries ~ N(0, scale²). */
function rnnShapedGrads(V: number, H: number, seed: number, scale = 1): Grads {
  const rng = new Rng(seed);
  const draw = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), shape);
  return [draw([V, H]), draw([H, H]), draw([H]), draw([H, V]), draw([V])];
}

/** ‖g_p‖ of one tensor, as a number. */
const tensorNorm = (g: tf.Tensor): number => tf.tidy(() => tf.norm(g).dataSync()[0]);

// ---------------------------------------------------------------------------------------------
// 4.1 globalNorm(grads) → ‖g‖

const normCase = (name: string, args: () => Grads): CheckCase<[Grads]> => ({ name, args: () => [args()] });

export const globalNormCheck = defineCheck<[Grads], number>({
  name: 'globalNorm',
  exercise: '4.1',
  reference: globalNorm,
  referenceName: 'rw.globalNorm',
  cases: [
    normCase('[[3, 4]] and [12] (‖g‖ = 13)', threeFourTwelve),
    normCase('five RNN-shaped gradients, V = 11, H = 7', () => rnnShapedGrads(11, 7, 1)),
    normCase('one tensor [5, 3]', () => [tf.tensor2d(Array.from({ length: 15 }, (_, i) => i - 7), [5, 3])]),
    normCase('all gradients zero', () => [tf.zeros([3, 2]), tf.zeros([2])]),
    normCase('large entries (× 1000), V = 28, H = 16', () => rnnShapedGrads(28, 16, 2, 1000)),
  ],
  mistakes: [
    {
      id: 'sum-of-norms',
      message: 'your number is the sum of the five tensors’ own lengths, which is longer than the whole vector. Square and add every entry of every tensor first, and take one square root at the end',
      wrong: (grads) => grads.reduce((s, g) => s + tensorNorm(g), 0),
    },
    {
      id: 'max-norm',
      message: 'your number is the length of the longest single tensor, not of all of them together. The global norm treats the five gradients as one long vector',
      wrong: (grads) => Math.max(...grads.map(tensorNorm)),
    },
    {
      id: 'no-sqrt',
      message: 'your number is the squared length (on [[3, 4]] and [12] it is 169, not 13). The norm is the square root of the sum of squares',
      wrong: (grads) => tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]),
    },
    {
      id: 'weights-only',
      message: 'the biases are missing from your norm: only the matrices were counted. Every parameter’s gradient belongs in the sum, b_h and b_q too',
      wrong: (grads) => tf.tidy(() => tf.sqrt(tf.addN(grads.filter((g) => g.rank >= 2).map((g) => tf.sum(tf.square(g))))).dataSync()[0]),
    },
    {
      id: 'l1-norm',
      message: 'your number is the sum of absolute values (the L1 norm). The rule uses the Euclidean length: square, sum, square root',
      wrong: (grads) => tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.abs(g)))).dataSync()[0]),
    },
  ],
  advice: 'Compare with ‖g‖ = √(Σ_p Σ_i g_{p,i}²): every entry of every tensor, squared, summed, one square root',
});

// ---------------------------------------------------------------------------------------------
// 4.2 gradClipping(grads, theta) → { grads, norm, clipped }

type ClipArgs = [grads: Grads, theta: number];

/** Random RNN-shaped gradients with θ = `fraction` of their global norm (computed in float64, so no tie with the norm). */
function clipCase(name: string, V: number, H: number, seed: number, fraction: number): CheckCase<ClipArgs> {
  return {
    name,
    args: () => {
      const grads = rnnShapedGrads(V, H, seed);
      const norm = Math.sqrt(grads.reduce((s, g) => s + Array.from(g.dataSync()).reduce((a, v) => a + v * v, 0), 0));
      return [grads, Number((fraction * norm).toPrecision(4))];
    },
  };
}

/** Every gradient times the same factor. */
const scaleAll = (grads: Grads, factor: number): Grads => grads.map((g) => tf.mul(g, factor));

export const gradClippingCheck = defineCheck<ClipArgs, Clipped>({
  name: 'gradClipping',
  exercise: '4.2',
  reference: gradClipping,
  referenceName: 'rw.gradClipping',
  cases: [
    { name: '[[3, 4]] and [12], θ = 1', args: () => [threeFourTwelve(), 1] },
    clipCase('five RNN-shaped gradients, V = 11, H = 7, θ = ‖g‖/2', 11, 7, 3, 0.5),
    clipCase('V = 28, H = 16, θ = 2‖g‖ (shorter than θ: left alone)', 28, 16, 4, 2),
    { name: '[[3, 4]] and [12], θ = 13, exactly the norm', args: () => [threeFourTwelve(), 13] },
    { name: '[[3, 4]] and [12], θ = 0 (clipping off)', args: () => [threeFourTwelve(), 0] },
  ],
  mistakes: [
    {
      id: 'per-tensor',
      message: 'each tensor was clipped to length θ on its own, so the tensors were scaled by different factors and the step points somewhere else. Use ONE factor, from the global norm, for all of them',
      wrong: (grads, theta) => ({ grads: theta > 0 ? clipPerTensor(grads, theta) : grads.map((g) => g.clone()), norm: globalNorm(grads), clipped: theta > 0 && grads.some((g) => tensorNorm(g) > theta) }),
    },
    {
      id: 'inverted-scale',
      message: 'your clipped gradients are longer than before: the factor is upside down. Shrinking a vector of length ‖g‖ to length θ multiplies it by a number below 1',
      wrong: (grads, theta) => {
        const norm = globalNorm(grads);
        return theta > 0 && norm > theta ? { grads: scaleAll(grads, norm / theta), norm, clipped: true } : { grads: grads.map((g) => g.clone()), norm, clipped: false };
      },
    },
    {
      id: 'always-rescale',
      message: 'short gradients were stretched up to length θ: the factor must be min(1, θ/‖g‖), so a gradient shorter than θ passes untouched',
      wrong: (grads, theta) => {
        const norm = globalNorm(grads);
        return theta > 0 ? { grads: scaleAll(grads, theta / norm), norm, clipped: true } : { grads: grads.map((g) => g.clone()), norm, clipped: false };
      },
    },
    {
      id: 'clip-below',
      message: 'the comparison is the wrong way round: you clip gradients that are already shorter than θ and let the long ones through. Clip only when ‖g‖ > θ',
      wrong: (grads, theta) => {
        const norm = globalNorm(grads);
        return theta > 0 && norm < theta ? { grads: scaleAll(grads, theta / norm), norm, clipped: true } : { grads: grads.map((g) => g.clone()), norm, clipped: false };
      },
    },
    {
      id: 'by-value',
      message: 'each entry was clamped to [−θ, θ] (value clipping): the big entries are flattened and the small ones kept, which turns the direction. Scale the whole vector instead',
      wrong: (grads, theta) => {
        const norm = globalNorm(grads);
        return { grads: theta > 0 ? clipByValue(grads, theta) : grads.map((g) => g.clone()), norm, clipped: theta > 0 && norm > theta };
      },
    },
    {
      id: 'norm-after',
      message: 'the gradients are right, but norm is the length AFTER clipping (θ). Report the norm before clipping: that is what the lesson plots to see the spikes',
      wrong: (grads, theta) => {
        const r = gradClipping(grads, theta);
        return { ...r, norm: r.clipped ? globalNorm(r.grads) : r.norm };
      },
    },
    {
      id: 'theta-zero-clips',
      message: 'with θ = 0 every gradient became zero. θ = 0 means "no clipping" here (the lesson trains with theta: 0 for the unclipped runs): return the gradients unchanged',
      wrong: (grads, theta) => {
        const norm = globalNorm(grads);
        return norm > theta ? { grads: scaleAll(grads, theta / norm), norm, clipped: true } : { grads: grads.map((g) => g.clone()), norm, clipped: false };
      },
    },
  ],
  advice: 'Compare with g ← min(1, θ/‖g‖) g, one factor for all tensors, and norm = ‖g‖ before clipping',
});

// ---------------------------------------------------------------------------------------------
// 4.3 clipPerTensor(grads, theta) → grads

export const clipPerTensorCheck = defineCheck<ClipArgs, Grads>({
  name: 'clipPerTensor',
  exercise: '4.3',
  reference: clipPerTensor,
  referenceName: 'rw.clipPerTensor',
  cases: [
    { name: '[[3, 4]] and [12], θ = 1 (both clipped)', args: () => [threeFourTwelve(), 1] },
    { name: '[[1, 2]] and [12], θ = 5 (only the second is longer than θ)', args: () => [[tf.tensor2d([[1, 2]]), tf.tensor1d([12])], 5] },
    { name: '[[3, 4]] and [12], θ = 5, exactly the first tensor’s norm', args: () => [threeFourTwelve(), 5] },
    clipCase('five RNN-shaped gradients, V = 11, H = 7, θ = ‖g‖/4', 11, 7, 5, 0.25),
    clipCase('V = 28, H = 16, θ = 2‖g‖ (nothing clipped)', 28, 16, 6, 2),
  ],
  mistakes: [
    {
      id: 'global',
      message: 'every tensor was scaled by the same factor — that is the global rule of exercise 4.2. Here each tensor gets its own factor, min(1, θ/‖g_p‖), from its own norm',
      wrong: (grads, theta) => {
        const r = gradClipping(grads, theta);
        return r.grads;
      },
    },
    {
      id: 'inverted-scale',
      message: 'the tensors you clipped got longer: the factor is upside down. A tensor of length ‖g_p‖ > θ is multiplied by θ/‖g_p‖, a number below 1',
      wrong: (grads, theta) => grads.map((g) => {
        const n = tensorNorm(g);
        return n > theta ? tf.mul(g, n / theta) : g.clone();
      }),
    },
    {
      id: 'clip-below',
      message: 'the comparison is the wrong way round: tensors shorter than θ were changed and the long ones let through. Clip a tensor only when ‖g_p‖ > θ',
      wrong: (grads, theta) => grads.map((g) => {
        const n = tensorNorm(g);
        return n < theta ? tf.mul(g, theta / n) : g.clone();
      }),
    },
    {
      id: 'always-rescale',
      message: 'tensors shorter than θ were stretched up to length θ: the factor is min(1, θ/‖g_p‖), so a short tensor passes untouched',
      wrong: (grads, theta) => grads.map((g) => tf.mul(g, theta / tensorNorm(g))),
    },
    {
      id: 'by-value',
      message: 'each entry was clamped to [−θ, θ]: that is value clipping. Per-tensor clipping scales a whole tensor, keeping its direction',
      wrong: (grads, theta) => clipByValue(grads, theta),
    },
  ],
  advice: 'Compare with g_p ← min(1, θ/‖g_p‖) g_p, for each tensor p with its own norm',
});

/** Lesson 04's checks, by the names the notebook calls them: rw.check.gradClipping(gradClipping). */
export const clippingChecks = { globalNorm: globalNormCheck, gradClipping: gradClippingCheck, clipPerTensor: clipPerTensorCheck };
