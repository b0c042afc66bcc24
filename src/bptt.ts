// Backpropagation through time derived by hand: the loss and gradients of autograd.ts, computed the
// way RNN libraries do. Taught in 07-implementation (the BPTT section; d2l's BPTT chapter).
//
// Only the recurrence runs step by step; everything else is one big matrix product over all T·B rows:
//   forward   a_t = x_t W_xh + b_h + h_{t-1} W_hh, h_t = tanh(a_t)        (x_t W_xh is a row of W_xh)
//   output    O = H W_hq + b_q, loss and dO = (softmax(O) − onehot(Y)) / N (N = T·B)
//   backward  dH_t = dO_t W_hqᵀ + dA_{t+1} W_hhᵀ, dA_t = dH_t ⊙ (1 − h_t²)
//   weights   dW_hh = H_prevᵀ dA, dW_xh[v] = Σ rows of dA whose input is v, dW_hq = Hᵀ dO, db = sums
// The softmax and the loss run in JS (float64) on the T·B·V logits read back once. On tfjs-wasm,
// slicing one step out of a big tensor copies all of it and gather is slow: so each step's inputs
// (x_t W_xh + b_h, dO_t) are uploaded from JS as small tensors. tfjs-wasm's own matMul is 10–30×
// slower with a transpose flag than without, so there the transposes are done once per minibatch;
// the native GEMM (native-gemm.ts) reads a transposed operand for free, so with it the products
// take the flags instead.
// dO_t W_hqᵀ stays one small product per step: as one [T·B, V]×[V, H] product before the loop, its
// [T·B, H] result must be read back to JS to hand each step its rows (slicing it costs a full copy
// per step), and that read-back costs as much as the 35 small products (bench/bptt-step.ts).
import * as tf from '@tensorflow/tfjs';
import type { LossResult, StepResult } from './autograd';
import type { Batch } from './batches';
import { timeMajorLabels } from './loss';
import { nativeGemmStatus } from './native-gemm';
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
  let loss = NaN;
  const out = tf.tidy(() => {
    const { hs, Hs, logits } = forward(params, tokens, state, B, T);
    const ce = softmaxCrossEntropy(logits.dataSync() as Float32Array, labels, V);
    loss = ce.loss;
    const h = hs[T - 1];

    const { timesT, Ttimes } = transposedProducts();
    const dAs: tf.Tensor2D[] = new Array(T); // dL/da_t, [B, H] each
    for (let t = T - 1; t >= 0; t--) {
      const dOt = tf.tensor2d(ce.dLogits.subarray(t * B * V, (t + 1) * B * V), [B, V]);
      let dH = timesT(dOt, params.W_hq); // dO_t W_hqᵀ, [B, H]
      if (t < T - 1) dH = tf.add(dH, timesT(dAs[t + 1], params.W_hh)); // + dA_{t+1} W_hhᵀ: the path through h_{t+1}
      dAs[t] = tf.mul(dH, tf.sub(1, tf.square(hs[t]))); // [B, H]; tanh' = 1 − tanh²
    }
    const dA = tf.concat(dAs, 0); // [T*B, H]
    const Hprev = tf.concat([state, ...hs.slice(0, T - 1)], 0); // [T*B, H]: h_0 … h_{T-1}
    const dW_hh = Ttimes(Hprev, dA); // H_prevᵀ dA, [H, H]
    const dW_xh = tf.scatterND(tf.tensor2d(tokens, [N, 1], 'int32'), dA, [V, H]) as tf.Tensor2D; // [V, H], sums repeats
    const db_h = tf.sum(dW_xh, 0); // [H]: every row of dA lands in exactly one row of dW_xh
    const dW_hq = Ttimes(Hs, tf.tensor2d(ce.dLogits, [N, V])); // Hᵀ dO, [H, V]
    const db_q = tf.tensor1d(ce.dBias); // [V]
    return { grads: { W_xh: dW_xh, W_hh: dW_hh, b_h: db_h, W_hq: dW_hq, b_q: db_q }, state: h };
  });
  return { loss, grads: out.grads, state: out.state };
}

/**
 * The loss of one minibatch and the final state, without gradients: bpttStep's forward pass alone
 * (validation perplexity). Does not dispose its inputs.
 */
export function bpttLoss(params: ParamTensors, batch: Batch, state: tf.Tensor2D): LossResult {
  const { batchSize: B, numSteps: T } = batch;
  const labels = timeMajorLabels(batch.Y, B, T); // [T*B]
  let loss = NaN;
  const h = tf.tidy(() => {
    const { hs, logits } = forward(params, timeMajorLabels(batch.X, B, T), state, B, T);
    loss = softmaxCrossEntropy(logits.dataSync() as Float32Array, labels, params.W_xh.shape[0]).loss;
    return hs[T - 1];
  });
  return { loss, state: h };
}

/**
 * The forward pass: h_t = tanh(x_t W_xh + b_h + h_{t-1} W_hh) for t = 1 … T, then every step's
 * logits in one product. tokens [T*B] time-major. Call inside a tidy (the tensors are the caller's).
 */
function forward(params: ParamTensors, tokens: Int32Array, state: tf.Tensor2D, B: number, T: number): { hs: tf.Tensor2D[]; Hs: tf.Tensor2D; logits: tf.Tensor2D } {
  const H = params.W_hh.shape[0];
  const inputs = inputProjection(params, tokens); // [T*B, H], flat
  const hs: tf.Tensor2D[] = []; // h_1 … h_T, [B, H] each
  let h = state; // [B, H]
  for (let t = 0; t < T; t++) {
    const xt = tf.tensor2d(inputs.subarray(t * B * H, (t + 1) * B * H), [B, H]); // x_t W_xh + b_h
    h = tf.tanh(tf.add(xt, tf.matMul(h, params.W_hh))) as tf.Tensor2D; // [B, H]
    hs.push(h);
  }
  const Hs = tf.concat(hs, 0); // [T*B, H]
  const logits = tf.fused.matMul({ a: Hs, b: params.W_hq, bias: params.b_q }) as tf.Tensor2D; // [T*B, V]
  return { hs, Hs, logits };
}

/**
 * a·bᵀ and aᵀ·b. With the native GEMM on this thread, matMul's transpose flags; otherwise explicit
 * transposes, each operand transposed once per minibatch (cached: W_hh is used T − 1 times).
 */
function transposedProducts(): { timesT: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D; Ttimes: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D } {
  if (nativeGemmStatus().on) return { timesT: (a, b) => tf.matMul(a, b, false, true), Ttimes: (a, b) => tf.matMul(a, b, true, false) };
  const transposed = new Map<tf.Tensor2D, tf.Tensor2D>();
  const T = (x: tf.Tensor2D) => transposed.get(x) ?? transposed.set(x, tf.transpose(x)).get(x)!;
  return { timesT: (a, b) => tf.matMul(a, T(b)), Ttimes: (a, b) => tf.matMul(T(a), b) };
}

/** x_t W_xh + b_h for every input: the row of W_xh + b_h picked by the token. [T*B, H] flat. */
function inputProjection(params: ParamTensors, tokens: Int32Array): Float32Array {
  const [V, H] = params.W_xh.shape;
  const table = params.W_xh.dataSync().slice(); // [V, H]: W_xh + b_h, row v for token v
  const b_h = params.b_h.dataSync();
  for (let v = 0; v < V; v++) for (let j = 0; j < H; j++) table[v * H + j] += b_h[j];
  const out = new Float32Array(tokens.length * H);
  for (let i = 0; i < tokens.length; i++) out.set(table.subarray(tokens[i] * H, (tokens[i] + 1) * H), i * H);
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
