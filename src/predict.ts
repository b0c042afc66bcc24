// Generating text: warm the state up on the prefix, then feed each prediction back in.
// Taught in 06-prediction.
import * as tf from '@tensorflow/tfjs';
import { preprocessLine } from './corpus';
import type { RNNModelScratch } from './model';
import { rnnStep } from './model';
import type { RNNParams } from './params';
import { Rng } from './random';
import { initRNNState } from './state';
import { Vocab } from './vocab';

export class PredictError extends Error {
  override name = 'PredictError';
}

/**
 * The smallest temperature that samples: below it softmax(o / T) puts all its mass on the
 * largest logit anyway, so greedy decoding (T = 0) says what is meant without the arithmetic's edge.
 */
export const MIN_TEMPERATURE = 0.01;

export interface PredictOptions {
  temperature?: number; // 0 (default) = greedy argmax, as d2l; > 0 samples from softmax(o/T)
  rng?: Rng; // for sampling; a fixed seed gives the same text
  warmUp?: boolean; // false skips the prefix except its last character (lesson 06 compares)
}

export interface PredictionStep {
  probs: Float32Array; // [V] softmax of the logits (at temperature 1)
  chosen: number; // the token fed back in
}

/** The prefix as the model will see it: preprocessed like the corpus, every character in the vocab. */
export function preparePrefix(prefix: string, vocab: Vocab): number[] {
  const clean = preprocessLine(prefix);
  if (clean.length === 0) throw new PredictError(`the prefix '${prefix}' is empty after preprocessing; give at least one letter, e.g. --prefix "time traveller"`);
  const missing = [...new Set(Array.from(clean).filter((c) => !vocab.has(c)))];
  if (missing.length) throw new PredictError(`the prefix has characters the vocabulary cannot represent: ${missing.map((c) => `'${c}'`).join(', ')}; use characters from the training text`);
  return vocab.toIndices(Array.from(clean));
}

/**
 * d2l's predict_ch8 with sampling and a per-step record: returns the prefix followed by
 * numPreds generated characters, and for each generated one the distribution it came from.
 */
export function predictSteps(
  prefix: string,
  numPreds: number,
  model: RNNModelScratch,
  vocab: Vocab,
  opts: PredictOptions = {},
): { text: string; steps: PredictionStep[] } {
  const temperature = opts.temperature ?? 0;
  if (!Number.isFinite(temperature) || temperature < 0 || (temperature > 0 && temperature < MIN_TEMPERATURE)) {
    throw new PredictError(`temperature must be 0 (greedy) or at least ${MIN_TEMPERATURE} (got ${temperature}); 1 samples the model's own distribution`);
  }
  if (!Number.isInteger(numPreds) || numPreds < 0) throw new PredictError(`numPreds must be a whole number ≥ 0 (got ${numPreds})`);
  const rng = opts.rng ?? new Rng(0);
  const indices = preparePrefix(prefix, vocab);
  const { params, vocabSize } = model;
  const outputs = [...indices];
  const steps: PredictionStep[] = [];
  const feed = (h: tf.Tensor2D, token: number) => tf.tidy(() => rnnStep(params, tf.oneHot(tf.tensor1d([token], 'int32'), vocabSize).toFloat() as tf.Tensor2D, h));

  const warm = opts.warmUp === false ? indices.slice(-1) : indices;
  let h = warmUp(params, warm.slice(0, -1)); // [1, H]; the last prefix character is the loop's first input
  let token = warm[warm.length - 1];
  for (let i = 0; i < numPreds; i++) {
    h = swap(h, feed(h, token));
    const logits = tf.tidy(() => tf.add(tf.matMul(h, params.W_hq), params.b_q)); // [1, V]
    const o = logits.dataSync() as Float32Array;
    logits.dispose();
    const probs = softmax(o, 1);
    token = chooseNext(o, temperature, rng);
    steps.push({ probs, chosen: token });
    outputs.push(token);
  }
  h.dispose();
  return { text: vocab.toTokens(outputs).join(''), steps };
}

/**
 * Warm-up (预热): the state [1, H] after reading `tokens` one at a time from the zero state, the
 * outputs ignored — the prefix is given, there is nothing to predict. An empty list leaves the zeros.
 */
export function warmUp(params: RNNParams, tokens: number[]): tf.Tensor2D {
  const [vocabSize, numHiddens] = params.W_xh.shape; // [V, H]
  return tf.tidy(() => {
    let h = initRNNState(1, numHiddens); // [1, H]
    for (const token of tokens) h = rnnStep(params, tf.oneHot(tf.tensor1d([token], 'int32'), vocabSize).toFloat() as tf.Tensor2D, h);
    return h;
  });
}

/** The prefix plus numPreds generated characters (greedy unless a temperature is given). */
export function predict(prefix: string, numPreds: number, model: RNNModelScratch, vocab: Vocab, opts: PredictOptions = {}): string {
  return predictSteps(prefix, numPreds, model, vocab, opts).text;
}

function swap(old: tf.Tensor2D, next: tf.Tensor2D): tf.Tensor2D {
  old.dispose();
  return next;
}

/**
 * The next token from one step's logits o [V]: the argmax at temperature 0 (greedy, as d2l), otherwise one draw
 * from softmax(o / temperature) with `rng` — never `<unk>`, which would print the placeholder itself.
 */
export function chooseNext(o: ArrayLike<number>, temperature: number, rng: Rng): number {
  return temperature === 0 ? argmax(o) : rng.categorical(withoutUnk(softmax(o, temperature)));
}

/** `<unk>` stands for characters the vocab dropped; sampling it would print the placeholder itself. */
function withoutUnk(probs: Float32Array): Float32Array {
  probs[Vocab.UNK] = 0;
  return probs;
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** softmax(o / temperature), computed stably in float64. */
export function softmax(o: ArrayLike<number>, temperature = 1): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < o.length; i++) max = Math.max(max, o[i]);
  const out = new Float32Array(o.length);
  let sum = 0;
  // (o − max) / T, not o / T − max / T: the difference is ≤ 0, so a tiny T gives −∞ → 0, never ∞ − ∞.
  for (let i = 0; i < o.length; i++) sum += Math.exp((o[i] - max) / temperature);
  for (let i = 0; i < o.length; i++) out[i] = Math.exp((o[i] - max) / temperature) / sum;
  return out;
}
