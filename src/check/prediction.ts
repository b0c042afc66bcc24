// Checks for 06-prediction's exercises: warm-up, greedy prediction, softmax with a temperature, the next character.
import * as tf from '@tensorflow/tfjs';
import { RNNModelScratch, rnnStep } from '../model';
import type { RNNParams } from '../params';
import { chooseNext, predict, softmax, warmUp } from '../predict';
import { Rng } from '../random';
import { initRNNState } from '../state';
import { tokenize, Vocab } from '../vocab';
import { defineCheck, diff, type CheckCase } from './core';

/**
 * A model with large random weights instead of d2l's tiny initial ones, so that its state and its
 * predictions depend strongly on what it read — the way a trained model's do.
 */
function livelyModel(V: number, H: number, seed: number): RNNModelScratch {
  const model = new RNNModelScratch(V, H, { seed });
  const rng = new Rng(seed + 100);
  const draw = (v: tf.Variable, sd: number, edit?: (xs: number[]) => void) => {
    const xs = Array.from({ length: v.size }, () => rng.normal() * sd);
    edit?.(xs);
    const t = tf.tensor(xs, v.shape);
    v.assign(t);
    t.dispose();
  };
  const { W_xh, W_hh, b_h, W_hq, b_q } = model.params;
  draw(W_xh, 1); // each input character moves the state a lot
  draw(W_hh, 1.5 / Math.sqrt(H)); // stretches the state by about 1.5: the past matters
  draw(b_h, 0.1);
  draw(W_hq, 3 / Math.sqrt(H));
  draw(b_q, 0.1, (xs) => void (xs[0] = -10)); // never predicts <unk> (index 0), as a trained model would not
  return model;
}

/** The state after reading `tokens` from zeros with `step` (the reference step unless a mistake swaps it). */
function readAll(p: RNNParams, tokens: number[], step: (x: tf.Tensor2D, h: tf.Tensor2D) => tf.Tensor2D, h0?: tf.Tensor2D): tf.Tensor2D {
  const V = p.W_xh.shape[0];
  return tf.tidy(() => {
    let h = h0 ?? initRNNState(1, p.W_hh.shape[0]);
    for (const t of tokens) h = step(tf.oneHot(tf.tensor1d([t], 'int32'), V).toFloat() as tf.Tensor2D, h);
    return h;
  });
}

const linearStep = (p: RNNParams) => (x: tf.Tensor2D, h: tf.Tensor2D) => tf.add(tf.add(tf.matMul(x, p.W_xh), tf.matMul(h, p.W_hh)), p.b_h) as tf.Tensor2D;

// ---------------------------------------------------------------------------------------------
// 6.1 warmUp(params, tokens) → H_n [1, H]

type WarmArgs = [params: RNNParams, tokens: number[]];

function warmCase(name: string, V: number, H: number, n: number, seed: number): CheckCase<WarmArgs> {
  return {
    name,
    args: () => {
      const rng = new Rng(seed + 7);
      return [livelyModel(V, H, seed).params, Array.from({ length: n }, () => rng.int(1, V - 1))];
    },
  };
}

export const warmUpCheck = defineCheck<WarmArgs, tf.Tensor2D>({
  name: 'warmUp',
  exercise: '6.1',
  reference: warmUp,
  referenceName: 'rw.warmUp',
  cases: [
    warmCase('a prefix of 6 tokens, V = 11, H = 7', 11, 7, 6, 1),
    warmCase("a prefix of 14 tokens ('time traveller' long), V = 28, H = 32", 28, 32, 14, 2),
    warmCase('a prefix of 1 token, V = 11, H = 9', 11, 9, 1, 3),
    warmCase('a prefix of 25 tokens, V = 5, H = 3', 5, 3, 25, 4),
  ],
  mistakes: [
    {
      id: 'no-tanh',
      message: "your state is the notes' warm-up, h = h W_hh + x W_xh + b_h, without the tanh: nothing keeps its entries inside (−1, 1). Each warm-up step is the model's own step, rnnStep, nonlinearity included",
      wrong: (p, tokens) => readAll(p, tokens, linearStep(p)),
    },
    {
      id: 'last-token-only',
      message: 'your state has read only the last token of the prefix, from zeros (the state was not carried from step to step, or the warm-up was skipped). Feed every token in order, each step starting from the state the previous one returned',
      wrong: (p, tokens) => readAll(p, tokens.slice(-1), (x, h) => rnnStep(p, x, h)),
    },
    {
      id: 'last-token-skipped',
      message: 'the last token of the prefix was not read: your state is the one before it. Here warm-up reads the WHOLE prefix, so the state is ready to predict the character after it',
      wrong: (p, tokens) => readAll(p, tokens.slice(0, -1), (x, h) => rnnStep(p, x, h)),
    },
    {
      id: 'state-never-updated',
      message: 'your state is all zeros: the loop computed new states but never kept them. Assign each step’s result to the state the next step reads',
      wrong: (p) => initRNNState(1, p.W_hh.shape[0]),
    },
  ],
  advice: 'Start from zeros [1, H] and apply rnnStep once per token, in order, to the one-hot row [1, V] of that token',
});

// ---------------------------------------------------------------------------------------------
// 6.2 predict(prefix, numPreds, model, vocab) → prefix + numPreds greedy characters

type PredictArgs = [prefix: string, numPreds: number, model: RNNModelScratch, vocab: Vocab];

// A made-up sentence (no corpus text is copied into the project) with every character of the prefixes below.
const TEXT = 'a time traveller will speak of the recurrent state it keeps between the letters it reads';
const textVocab = () => new Vocab(tokenize([TEXT]));

function predictCase(name: string, prefix: string, numPreds: number, H: number, seed: number): CheckCase<PredictArgs> {
  return {
    name,
    args: () => {
      const vocab = textVocab();
      return [prefix, numPreds, livelyModel(vocab.size, H, seed), vocab];
    },
  };
}

const argmax = (xs: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};

/** A greedy generator built from parts, so each mistake swaps one part. */
function greedy(
  prefix: string,
  numPreds: number,
  model: RNNModelScratch,
  vocab: Vocab,
  opts: { step?: (p: RNNParams) => (x: tf.Tensor2D, h: tf.Tensor2D) => tf.Tensor2D; warm?: (tokens: number[]) => number[]; feedBack?: boolean; advance?: boolean; count?: number; keepPrefix?: boolean } = {},
): string {
  const p = model.params;
  const step = (opts.step ?? ((q: RNNParams) => (x: tf.Tensor2D, h: tf.Tensor2D) => rnnStep(q, x, h)))(p);
  const tokens = vocab.toIndices(Array.from(prefix));
  let h = readAll(p, (opts.warm ?? ((t) => t))(tokens), step);
  const generated: number[] = [];
  for (let k = 0; k < (opts.count ?? numPreds); k++) {
    const o = tf.tidy(() => tf.add(tf.matMul(h, p.W_hq), p.b_q).dataSync());
    const next = argmax(o);
    generated.push(next);
    if (opts.advance === false) continue;
    const input = opts.feedBack === false ? tokens[tokens.length - 1] : next;
    const h2 = readAll(p, [input], step, h);
    h.dispose();
    h = h2;
  }
  h.dispose();
  return (opts.keepPrefix === false ? '' : prefix) + vocab.toTokens(generated).join('');
}

export const predictCheck = defineCheck<PredictArgs, string>({
  name: 'predict',
  exercise: '6.2',
  reference: predict,
  referenceName: 'rw.predict',
  cases: [
    predictCase("'time traveller' + 20, H = 16", 'time traveller', 20, 16, 1),
    predictCase("'the' + 30, H = 32", 'the', 30, 32, 2),
    predictCase("one character 'a' + 10, H = 8", 'a', 10, 8, 3),
    predictCase("'it will be' + 1, H = 16", 'it will be', 1, 16, 4),
    predictCase("'speak' + 0 (nothing to generate), H = 16", 'speak', 0, 16, 5),
  ],
  mistakes: [
    {
      id: 'not-fed-back',
      message: 'after each prediction you fed the last prefix character again instead of the character just predicted. The prediction is the next input: that is how the text continues',
      wrong: (prefix, n, model, vocab) => greedy(prefix, n, model, vocab, { feedBack: false }),
    },
    {
      id: 'state-frozen',
      message: 'every step predicts from the warmed-up state, which never moves on, so you get the same character over and over. Run one step of the model on each prediction before the next one',
      wrong: (prefix, n, model, vocab) => greedy(prefix, n, model, vocab, { advance: false }),
    },
    {
      id: 'no-warm-up',
      message: 'the text matches generation from the last prefix character alone: the rest of the prefix was never read. Warm the state up on the prefix first (exercise 6.1)',
      wrong: (prefix, n, model, vocab) => greedy(prefix, n, model, vocab, { warm: (t) => t.slice(-1) }),
    },
    {
      id: 'no-tanh',
      message: "your steps have no tanh, like the notes' prefict: the state is not kept inside (−1, 1), grows from step to step, and the predictions drift. Use the model's own step, rnnStep, for warm-up and for every prediction",
      wrong: (prefix, n, model, vocab) => greedy(prefix, n, model, vocab, { step: linearStep }),
    },
    {
      id: 'without-prefix',
      message: 'your text is only the generated characters. Like d2l’s predict_ch8, return the prefix followed by them',
      wrong: (prefix, n, model, vocab) => greedy(prefix, n, model, vocab, { keepPrefix: false }),
    },
    {
      id: 'one-too-many',
      message: 'your text is one character too long: the loop generates numPreds + 1 characters. It should add exactly numPreds',
      wrong: (prefix, n, model, vocab) => greedy(prefix, n, model, vocab, { count: n + 1 }),
    },
  ],
  compare: (got, want) => {
    if (typeof got !== 'string') return diff(got, want);
    if (got === want) return null;
    if (got.length !== want.length) return `your text has ${got.length} characters, expected ${want.length} (${JSON.stringify(got)} instead of ${JSON.stringify(want)})`;
    const at = Array.from(want).findIndex((c, i) => got[i] !== c);
    return `your text ${JSON.stringify(got)} first differs from ${JSON.stringify(want)} at character ${at}`;
  },
  advice: 'Warm up on the whole prefix, then numPreds times: take the argmax of the logits H W_hq + b_q, append it, and run one rnnStep on it',
});

// ---------------------------------------------------------------------------------------------
// 6.3 softmax(o, temperature) → P_τ

type SoftmaxArgs = [o: number[], temperature: number];

export const softmaxCheck = defineCheck<SoftmaxArgs, Float32Array>({
  name: 'softmax',
  exercise: '6.3',
  reference: softmax,
  referenceName: 'rw.softmax',
  cases: [
    { name: 'o = [2, 1, 0.5, −1], τ = 0.5', args: () => [[2, 1, 0.5, -1], 0.5] },
    { name: 'o = [2, 1, 0.5, −1], τ = 1', args: () => [[2, 1, 0.5, -1], 1] },
    { name: 'o = [0.3, −0.2, 1.1, 0, 0.7], τ = 2', args: () => [[0.3, -0.2, 1.1, 0, 0.7], 2] },
    { name: 'large logits o = [1000, 999, 995], τ = 1', args: () => [[1000, 999, 995], 1] },
    { name: 'o = [10, 9.5, 8, 2], τ = 0.01 (almost greedy)', args: () => [[10, 9.5, 8, 2], 0.01] },
  ],
  mistakes: [
    {
      id: 'times-temperature',
      message: 'the logits were multiplied by τ instead of divided: a low temperature flattened the distribution and a high one sharpened it. P_τ(c) ∝ exp(o_c / τ)',
      wrong: (o, tau) => softmax(o.map((x) => x * tau * tau), tau),
    },
    {
      id: 'no-max-subtraction',
      message: 'your probabilities are NaN for large logits or a small τ: exp(1000) overflows to Infinity, and Infinity/Infinity is NaN. Subtract the largest o_c/τ before exponentiating — it cancels in the ratio',
      wrong: (o, tau) => {
        const e = o.map((x) => Math.exp(x / tau));
        const sum = e.reduce((a, b) => a + b, 0);
        return Float32Array.from(e, (x) => x / sum);
      },
    },
    {
      id: 'temperature-ignored',
      message: 'the temperature has no effect on your result: you computed softmax(o). Divide every logit by τ first',
      wrong: (o) => softmax(o, 1),
    },
    {
      id: 'divided-after',
      message: 'your probabilities do not sum to 1: τ was applied to the probabilities after the softmax. Apply it to the logits, before exponentiating',
      wrong: (o, tau) => softmax(o, 1).map((p) => p / tau),
    },
    {
      id: 'not-normalised',
      message: 'your numbers do not sum to 1: they are exp(o_c/τ) (shifted) without dividing by their sum',
      wrong: (o, tau) => {
        const m = Math.max(...o.map((x) => x / tau));
        return Float32Array.from(o, (x) => Math.exp(x / tau - m));
      },
    },
  ],
  advice: 'Compare with P_τ(c) = exp(o_c/τ − m) / Σ_j exp(o_j/τ − m), where m = max_j o_j/τ',
});

// ---------------------------------------------------------------------------------------------
// 6.4 chooseNext(o, temperature, rng) → the next token

type ChooseArgs = [o: number[], temperature: number, rng: Rng];

/** One draw from weights with <unk> (index 0) left in, as a sampler that forgot to leave it out. */
const drawWithUnk = (o: number[], tau: number, rng: Rng): number => rng.categorical(softmax(o, tau));

const UNK_LIKELY = [2.5, 1, 0.2, 1.4, -0.5, 0.8]; // <unk> (index 0) is the most likely: it must never be drawn
const SPREAD = [-1, 2, 1.2, 0.3, 1.7, -0.4, 0.9];

export const chooseNextCheck = defineCheck<ChooseArgs, number>({
  name: 'chooseNext',
  exercise: '6.4',
  reference: chooseNext,
  referenceName: 'rw.chooseNext',
  cases: [
    { name: 'τ = 0 (greedy), o = [0.5, 2, −1, 1.9]', args: () => [[0.5, 2, -1, 1.9], 0, new Rng(1)] },
    { name: 'τ = 1, <unk> the most likely, Rng(2)', args: () => [UNK_LIKELY, 1, new Rng(2)] },
    { name: 'τ = 0.5, Rng(3)', args: () => [SPREAD, 0.5, new Rng(3)] },
    { name: 'τ = 2, Rng(4)', args: () => [SPREAD, 2, new Rng(4)] },
    { name: 'τ = 1, <unk> the most likely, Rng(5)', args: () => [UNK_LIKELY, 1, new Rng(5)] },
    { name: 'τ = 0.5, Rng(6)', args: () => [SPREAD, 0.5, new Rng(6)] },
    { name: 'τ = 2, Rng(7)', args: () => [SPREAD, 2, new Rng(7)] },
  ],
  mistakes: [
    {
      id: 'zero-not-greedy',
      message: 'at τ = 0 your choice is not the most likely character: o/0 is infinite and the probabilities become NaN. Temperature 0 means greedy — take the index of the largest logit, without drawing',
      wrong: (o, tau, rng) => rng.categorical(Float32Array.from(softmax(o, tau), (p, i) => (i === 0 ? 0 : p))),
    },
    {
      id: 'unk-drawn',
      message: 'you drew index 0, <unk>: it stands for characters the vocabulary dropped, and drawing it would print "<unk>" itself. Set its probability to 0 before drawing',
      wrong: (o, tau, rng) => (tau === 0 ? chooseNext(o, 0, rng) : drawWithUnk(o, tau, rng)),
    },
    {
      id: 'always-greedy',
      message: 'you took the most likely character although τ > 0: only τ = 0 is greedy. Otherwise draw from P_τ with rng.categorical',
      wrong: (o, _tau, rng) => chooseNext(o, 0, rng),
    },
    {
      id: 'temperature-ignored',
      message: 'your draws follow softmax(o), whatever τ is. Draw from P_τ = softmax(o/τ) (rw.softmax(o, temperature))',
      wrong: (o, tau, rng) => chooseNext(o, tau === 0 ? 0 : 1, rng),
    },
    {
      id: 'times-temperature',
      message: 'your draws follow softmax(o·τ): a small τ flattened the distribution instead of sharpening it. The logits are divided by τ',
      wrong: (o, tau, rng) => (tau === 0 ? chooseNext(o, 0, rng) : chooseNext(o.map((x) => x * tau * tau), tau, rng)),
    },
  ],
  advice: 'τ = 0: the argmax of o. τ > 0: rw.softmax(o, τ), the entry of <unk> (index 0) set to 0, then one rng.categorical draw',
});

/** Lesson 06's checks, by the names the notebook calls them: rw.check.predict(predict). */
export const predictionChecks = { warmUp: warmUpCheck, predict: predictCheck, softmax: softmaxCheck, chooseNext: chooseNextCheck };
