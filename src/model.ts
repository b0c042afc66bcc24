// The RNN of the notes, fixed: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), o_t = h_t W_hq + b_q.
// Taught in 01-rnn-overview. Shapes: B batch, T steps, V vocab, H hidden.
import * as tf from '@tensorflow/tfjs';
import { PARAM_NAMES, type RNNParams } from './params';
import { Rng } from './random';
import { initRNNState } from './state';

/** The variables in PARAM_NAMES order: the list tf.variableGrads differentiates with respect to. */
export function paramList(p: RNNParams): tf.Variable[] {
  return PARAM_NAMES.map((n) => p[n] as tf.Variable);
}

/** d2l's get_params, drawn from our seeded Rng so a seed gives the same model on every backend. */
export function getParams(vocabSize: number, numHiddens: number, rng: Rng): RNNParams {
  const normal = (rows: number, cols: number) => {
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 0.01;
    return tf.tidy(() => tf.variable(tf.tensor2d(data, [rows, cols]))); // tidy frees the initial tensor
  };
  return {
    W_xh: normal(vocabSize, numHiddens),
    W_hh: normal(numHiddens, numHiddens),
    b_h: tf.tidy(() => tf.variable(tf.zeros([numHiddens]))),
    W_hq: normal(numHiddens, vocabSize),
    b_q: tf.tidy(() => tf.variable(tf.zeros([vocabSize]))),
  };
}

/** One time step: the new hidden state from one input column and the previous state. */
export function rnnStep(p: RNNParams, x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  // x [B, V], h [B, H] → [B, H]
  return tf.tidy(() => tf.tanh(tf.add(tf.add(tf.matMul(x, p.W_xh), tf.matMul(h, p.W_hh)), p.b_h)) as tf.Tensor2D);
}

/**
 * d2l's `rnn`: runs the recurrence over time-major one-hot inputs and returns every step's logits
 * stacked time-major, plus the final state. Pure tensor ops all the way, so autograd sees through it.
 */
export function rnn(inputs: tf.Tensor3D, state: tf.Tensor2D, p: RNNParams): { logits: tf.Tensor2D; state: tf.Tensor2D } {
  // inputs [T, B, V], state [B, H]
  return tf.tidy(() => {
    let h = state;
    const outputs: tf.Tensor2D[] = [];
    for (const x of tf.unstack(inputs) as tf.Tensor2D[]) {
      h = rnnStep(p, x, h); // [B, H]
      outputs.push(tf.tidy(() => tf.add(tf.matMul(h, p.W_hq), p.b_q))); // [B, V]
    }
    return { logits: tf.concat(outputs, 0), state: h }; // [T*B, V], [B, H]
  });
}

/** Token indices [B, T] → time-major one-hot [T, B, V] (d2l: F.one_hot(X.T, vocab_size)). */
export function oneHotTimeMajor(X: tf.Tensor2D, vocabSize: number): tf.Tensor3D {
  return tf.tidy(() => tf.oneHot(tf.transpose(X).toInt(), vocabSize).toFloat() as tf.Tensor3D);
}

/** d2l's RNNModelScratch: parameters plus the forward pass over token indices. */
export class RNNModelScratch {
  readonly params: RNNParams;

  constructor(
    readonly vocabSize: number,
    readonly numHiddens: number,
    opts: { seed?: number; rng?: Rng } = {},
  ) {
    this.params = getParams(vocabSize, numHiddens, opts.rng ?? new Rng(opts.seed ?? 0));
  }

  /** X [B, T] token indices, state [B, H] → logits [T*B, V] (time-major rows), new state [B, H]. */
  forward(X: tf.Tensor2D, state: tf.Tensor2D): { logits: tf.Tensor2D; state: tf.Tensor2D } {
    return tf.tidy(() => rnn(oneHotTimeMajor(X, this.vocabSize), state, this.params));
  }

  beginState(batchSize: number): tf.Tensor2D {
    return initRNNState(batchSize, this.numHiddens);
  }

  get paramList(): tf.Variable[] {
    return paramList(this.params);
  }

  /** V·H + H·H + H + H·V + V: 291,356 for d2l's V = 28, H = 512. */
  get numParams(): number {
    return this.paramList.reduce((n, p) => n + p.size, 0);
  }

  dispose(): void {
    for (const p of this.paramList) p.dispose();
  }
}
