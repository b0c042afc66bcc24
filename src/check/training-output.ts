// Checks for 02-training-output's exercises: what train.ts reports after every epoch (src/metrics.ts).
import { epochPerplexity, summarizeGradNorms, unigramPerplexity, type GradNormSummary } from '../metrics';
import { Rng } from '../random';
import { defineCheck, type CheckCase } from './core';

// ---------------------------------------------------------------------------------------------
// 2.1 · epochPerplexity: the minibatches' mean losses and token counts → the epoch's perplexity

type EpochArgs = [batchLosses: number[], batchTokens: number[]];

const epochCase = (name: string, losses: number[], tokens: number[]): CheckCase<EpochArgs> => ({ name, args: () => [[...losses], [...tokens]] });

const weightedMeanLoss = (losses: number[], tokens: number[]) => losses.reduce((s, l, i) => s + l * tokens[i], 0) / tokens.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export const epochPerplexityCheck = defineCheck<EpochArgs, number>({
  name: 'epochPerplexity',
  exercise: '2.1',
  reference: epochPerplexity,
  referenceName: 'rw.epochPerplexity',
  cases: [
    epochCase('3 minibatches of 1120, 1120 and 280 tokens (a short last one)', [2.9, 2.5, 3.3], [1120, 1120, 280]),
    epochCase('one minibatch', [3.1], [1120]),
    epochCase("8 equal minibatches of d2l's 32 × 35 tokens, the loss falling from log 28", [3.332, 3.1, 2.95, 2.9, 2.86, 2.8, 2.81, 2.75], Array(8).fill(1120)),
    epochCase('minibatches of 35, 70 and 1120 tokens with losses 0.5, 4 and 1.2', [0.5, 4, 1.2], [35, 70, 1120]),
  ],
  mistakes: [
    {
      id: 'mean-of-perplexities',
      message: 'you averaged the minibatches\u2019 perplexities: exp is convex, so that overshoots the perplexity of the epoch. Average the losses (per token), then take exp once',
      wrong: (losses) => mean(losses.map(Math.exp)),
    },
    {
      id: 'unweighted-mean',
      message: 'every minibatch counts the same in your mean, whatever its size: a short minibatch must count for its tokens only. Weight each mean loss by its token count',
      wrong: (losses) => Math.exp(mean(losses)),
    },
    {
      id: 'no-exp',
      message: 'your result is the epoch\u2019s mean loss per token (nats), not its perplexity: perplexity is the exponential of that loss',
      wrong: (losses, tokens) => weightedMeanLoss(losses, tokens),
    },
    {
      id: 'not-divided',
      message: 'your result is far too large (or Infinity): the summed loss of all tokens is the loss of the whole text, not per token. Divide by the number of tokens before taking exp',
      wrong: (losses, tokens) => Math.exp(losses.reduce((s, l, i) => s + l * tokens[i], 0)),
    },
  ],
  advice: 'The epoch\u2019s loss is Σ loss_i · tokens_i / Σ tokens_i, its perplexity the exp of that',
});

// ---------------------------------------------------------------------------------------------
// 2.2 · unigramPerplexity: a text's character frequencies → exp of their entropy

type UnigramArgs = [corpus: Int32Array, vocabSize: number];

/** Indices of a lower-case English text over a V = 28 vocabulary (space 1, a–z 2–27; 0 stays unused). */
function indicesOf(text: string): Int32Array {
  return Int32Array.from(text, (c) => (c === ' ' ? 1 : 2 + c.charCodeAt(0) - 97));
}

/** Entropy −Σ_c p(c) log p(c) over the characters that occur, and their frequencies. */
function frequencies(corpus: Int32Array, V: number): number[] {
  const counts = new Array<number>(V).fill(0);
  corpus.forEach((c) => counts[c]++);
  return counts.map((n) => n / corpus.length);
}
const entropyOf = (ps: number[]) => -ps.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);

export const unigramPerplexityCheck = defineCheck<UnigramArgs, number>({
  name: 'unigramPerplexity',
  exercise: '2.2',
  reference: unigramPerplexity,
  referenceName: 'rw.unigramPerplexity',
  cases: [
    {
      name: 'a skewed text of 500 characters over V = 11, two of them never used',
      args: () => {
        const rng = new Rng(31);
        return [Int32Array.from({ length: 500 }, () => rng.int(0, rng.int(0, 8))), 11];
      },
    },
    { name: 'all V = 4 characters equally often: the perplexity is V', args: () => [Int32Array.from([0, 1, 2, 3, 3, 1, 0, 2, 2, 3, 1, 0]), 4] },
    { name: 'one character repeated, V = 28: the perplexity is 1', args: () => [new Int32Array(50).fill(5), 28] },
    { name: 'an English sentence, V = 28', args: () => [indicesOf('a small recurrent net reads one letter at a time and keeps a state that remembers what it has read'), 28] },
  ],
  mistakes: [
    {
      id: 'no-exp',
      message: 'your result is the entropy of the frequencies (in nats), not the perplexity: the perplexity is its exponential',
      wrong: (corpus, V) => entropyOf(frequencies(corpus, V)),
    },
    {
      id: 'unseen-nan',
      message: 'your result is NaN: a character that never occurs has p = 0, and 0 · log 0 is NaN in floating point. In the limit its term is 0 — leave it out',
      wrong: (corpus, V) => Math.exp(-frequencies(corpus, V).reduce((s, p) => s + p * Math.log(p), 0)),
    },
    {
      id: 'sign',
      message: 'your result is below 1: the entropy −Σ p log p is never negative (each log p ≤ 0), so a perplexity is at least 1. Check the sign',
      wrong: (corpus, V) => Math.exp(-entropyOf(frequencies(corpus, V))),
    },
    {
      id: 'unweighted',
      message: 'you averaged log p(c) over the distinct characters, each counting once: average over the positions of the text instead, so a frequent character counts as often as it occurs',
      wrong: (corpus, V) => {
        const used = frequencies(corpus, V).filter((p) => p > 0);
        return Math.exp(-mean(used.map(Math.log)));
      },
    },
    {
      id: 'arithmetic-mean',
      message: 'your result is 1 / (the mean probability of the true characters): perplexity uses the geometric mean of the probabilities — exp of the mean log-probability — not the arithmetic mean',
      wrong: (corpus, V) => 1 / frequencies(corpus, V).reduce((s, p) => s + p * p, 0),
    },
  ],
  advice: 'Count each character, turn the counts into frequencies p(c), and return exp(−Σ_c p(c) log p(c))',
});

// ---------------------------------------------------------------------------------------------
// 2.3 · summarizeGradNorms: an epoch's gradient norms and θ → mean, min, max and the clipped share

type NormArgs = [norms: number[], theta: number];

const normCase = (name: string, norms: number[], theta: number): CheckCase<NormArgs> => ({ name, args: () => [[...norms], theta] });

export const summarizeGradNormsCheck = defineCheck<NormArgs, GradNormSummary>({
  name: 'summarizeGradNorms',
  exercise: '2.3',
  reference: summarizeGradNorms,
  referenceName: 'rw.summarizeGradNorms',
  cases: [
    normCase('8 minibatches, θ = 1, three norms above it', [0.4, 1.7, 0.9, 2.3, 0.6, 1.2, 0.8, 0.95], 1),
    normCase('norms exactly at θ = 1 are left alone', [1, 0.5, 1, 2], 1),
    normCase('θ = 0 turns clipping off', [0.3, 2, 5], 0),
    normCase('one minibatch, θ = 5', [0.18], 5),
  ],
  mistakes: [
    {
      id: 'min-from-zero',
      message: 'your min is 0 though no norm is 0: a minimum that starts from 0 never goes up. Start from the first norm (or from Infinity)',
      wrong: (norms, theta) => ({ ...summarizeGradNorms(norms, theta), min: norms.reduce((m, n) => Math.min(m, n), 0) }),
    },
    {
      id: 'sum-not-mean',
      message: 'your mean is the sum of the norms: divide by the number of minibatches',
      wrong: (norms, theta) => ({ ...summarizeGradNorms(norms, theta), mean: norms.reduce((a, b) => a + b, 0) }),
    },
    {
      id: 'count-not-fraction',
      message: 'clippedFraction is the number of clipped minibatches: it should be their share, between 0 and 1',
      wrong: (norms, theta) => ({ ...summarizeGradNorms(norms, theta), clippedFraction: theta > 0 ? norms.filter((n) => n > theta).length : 0 }),
    },
    {
      id: 'at-threshold-clipped',
      message: 'a norm exactly equal to θ counts as clipped in yours: clipping only scales a gradient whose norm is strictly above θ (θ/‖g‖ = 1 would change nothing)',
      wrong: (norms, theta) => ({ ...summarizeGradNorms(norms, theta), clippedFraction: theta > 0 ? norms.filter((n) => n >= theta).length / norms.length : 0 }),
    },
    {
      id: 'theta-zero-clips-all',
      message: 'with θ = 0 you count every minibatch as clipped: θ = 0 means clipping is off, so none is',
      wrong: (norms, theta) => ({ ...summarizeGradNorms(norms, theta), clippedFraction: norms.filter((n) => n > theta).length / norms.length }),
    },
  ],
  advice: 'mean, min and max of the norms; clippedFraction = share of norms with ‖g‖ > θ, and 0 when θ = 0',
});

/** Lesson 02's checks, by the names the notebook calls them. */
export const trainingOutputChecks = {
  epochPerplexity: epochPerplexityCheck,
  unigramPerplexity: unigramPerplexityCheck,
  summarizeGradNorms: summarizeGradNormsCheck,
};
