// Backpropagation through time derived by hand: the loss and gradients of autograd.ts, computed the
// way RNN libraries do. Taught in 07-implementation (the BPTT section; d2l's BPTT chapter).
//
// Only the recurrence runs step by step; everything else is one big matrix product over all T·B rows:
//   forward   a_t = x_t W_xh + b_h + h_{t-1} W_hh, h_t = tanh(a_t)        (x_t W_xh is a row of W_xh)
//   output    O = H W_hq + b_q, loss and dO = (softmax(O) − onehot(Y)) / N (N = T·B)
//   backward  dH_t = dO_t W_hqᵀ + dA_{t+1} W_hhᵀ, dA_t = dH_t ⊙ (1 − h_t²)
//   weights   dW_hh = H_prevᵀ dA, dW_xh[v] = Σ rows of dA whose input is v, dW_hq = Hᵀ dO, db = sums
// The softmax and the loss run in JS (float64) on the T·B·V logits read back once. On tfjs-wasm,
// slicing one step out of a big tensor copies all of it, gather is slow, and matMul with a
// transpose flag is 10–30× slower than without: so each step's inputs (x_t W_xh + b_h, dO_t) are
// uploaded from JS as small tensors, and transposes are done once per minibatch.
// dO_t W_hqᵀ stays one small product per step: as one [T·B, V]×[V, H] product before the loop, its
// [T·B, H] result must be read back to JS to hand each step its rows (slicing it costs a full copy
// per step), and that read-back costs as much as the 35 small products (bench/bptt-step.ts).
import * as tf from '@tensorflow/tfjs';
import type { StepResult } from './autograd';
import type { Batch } from './batches';
import { timeMajorLabels } from './loss';
import type { ParamTensors } from './params';

/**
 * One minibatch: forward over the sequence, then BPTT, on this thread. Does not dispose its inputs.
 * (The training loop runs it as `dataParallel(bpttStep)`, which may hand half of the rows to a second thread.)
 */
export function bpttStep(params: ParamTensors, batch: Batch, state: tf.Tensor2D): StepResult {
  const { batchSize: B, numSteps: T } = batch;
  const [V, H] = params.W_xh.shape;
  const N = T * B;
  const tokens = timeMajorLabels(batch.X, B, T); // [T*B], row t*B + b is step t of sequence b
  const labels = timeMajorLabels(batch.Y, B, T); // [T*B]
  const inputs = inputProjection(params, tokens); // [T*B, H], flat
  let loss = NaN;
  const out = tf.tidy(() => {
    const hs: tf.Tensor2D[] = []; // h_1 … h_T, [B, H] each
    let h = state; // [B, H]
    for (let t = 0; t < T; t++) {
      const xt = tf.tensor2d(inputs.subarray(t * B * H, (t + 1) * B * H), [B, H]); // x_t W_xh + b_h
      h = tf.tanh(tf.add(xt, tf.matMul(h, params.W_hh))) as tf.Tensor2D; // [B, H]
      hs.push(h);
    }
    const Hs = tf.concat(hs, 0); // [T*B, H]
    const logits = tf.fused.matMul({ a: Hs, b: params.W_hq, bias: params.b_q }); // [T*B, V]
    const ce = softmaxCrossEntropy(logits.dataSync() as Float32Array, labels, V);
    loss = ce.loss;

    const W_hhT = tf.transpose(params.W_hh); // [H, H]
    const W_hqT = tf.transpose(params.W_hq); // [V, H]
    const dAs: tf.Tensor2D[] = new Array(T); // dL/da_t, [B, H] each
    for (let t = T - 1; t >= 0; t--) {
      const dOt = tf.tensor2d(ce.dLogits.subarray(t * B * V, (t + 1) * B * V), [B, V]);
      let dH = tf.matMul(dOt, W_hqT); // [B, H]
      if (t < T - 1) dH = tf.add(dH, tf.matMul(dAs[t + 1], W_hhT)); // the path through h_{t+1}
      dAs[t] = tf.mul(dH, tf.sub(1, tf.square(hs[t]))); // [B, H]; tanh' = 1 − tanh²
    }
    const dA = tf.concat(dAs, 0); // [T*B, H]
    const Hprev = tf.concat([state, ...hs.slice(0, T - 1)], 0); // [T*B, H]: h_0 … h_{T-1}
    const dW_hh = tf.matMul(tf.transpose(Hprev), dA); // [H, H]
    const dW_xh = tf.scatterND(tf.tensor2d(tokens, [N, 1], 'int32'), dA, [V, H]) as tf.Tensor2D; // [V, H], sums repeats
    const db_h = tf.sum(dW_xh, 0); // [H]: every row of dA lands in exactly one row of dW_xh
    const dW_hq = tf.matMul(tf.transpose(Hs), tf.tensor2d(ce.dLogits, [N, V])); // [H, V]
    const db_q = tf.tensor1d(ce.dBias); // [V]
    return { grads: { W_xh: dW_xh, W_hh: dW_hh, b_h: db_h, W_hq: dW_hq, b_q: db_q }, state: h };
  });
  return { loss, grads: out.grads, state: out.state };
}

/** x_t W_xh + b_h for every input: the row of W_xh picked by the token, plus b_h. [T*B, H] flat. */
function inputProjection(params: ParamTensors, tokens: Int32Array): Float32Array {
  const H = params.W_hh.shape[0];
  const W_xh = params.W_xh.dataSync();
  const b_h = params.b_h.dataSync();
  const out = new Float32Array(tokens.length * H);
  for (let i = 0; i < tokens.length; i++) {
    const row = tokens[i] * H;
    for (let j = 0; j < H; j++) out[i * H + j] = W_xh[row + j] + b_h[j];
  }
  return out;
}

/**
 * Mean cross-entropy of N rows of logits [N, V] against labels [N], its gradient with respect to the
 * logits, dO = (softmax − onehot) / N, and dO summed over rows (the gradient of b_q). Sums in float64.
 */
export function softmaxCrossEntropy(logits: Float32Array, labels: Int32Array, V: number): { loss: number; dLogits: Float32Array; dBias: Float32Array } {
  const N = labels.length;
  const dLogits = new Float32Array(N * V);
  const dBias = new Float64Array(V);
  const p = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < N; i++) {
    const row = i * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[row + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += p[v] = Math.exp(logits[row + v] - max);
    const y = labels[i];
    total += Math.log(sum) - (logits[row + y] - max); // −log softmax(o)_y
    for (let v = 0; v < V; v++) {
      const g = (p[v] / sum - (v === y ? 1 : 0)) / N;
      dLogits[row + v] = g;
      dBias[v] += g;
    }
  }
  return { loss: total / N, dLogits, dBias: Float32Array.from(dBias) };
}
