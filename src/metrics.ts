// What to watch while training: the epoch's perplexity, the gradient norms, and the baseline a
// perplexity is read against. Taught in 02-training-output; train.ts reports these after every epoch.
import { perplexity } from './loss';

/**
 * The epoch's mean loss per token from its minibatches' mean losses and token counts (B·T each):
 * a token-weighted mean, so a short minibatch counts for its tokens, not as much as a full one.
 */
export function epochLoss(batchLosses: number[], batchTokens: number[]): number {
  let lossSum = 0;
  let tokens = 0;
  batchLosses.forEach((loss, i) => {
    lossSum += loss * batchTokens[i];
    tokens += batchTokens[i];
  });
  return lossSum / tokens;
}

/** exp of the epoch's mean loss per token — not the mean of the minibatches' perplexities. */
export function epochPerplexity(batchLosses: number[], batchTokens: number[]): number {
  return perplexity(epochLoss(batchLosses, batchTokens));
}

/** One epoch's gradient norms, summarised for the chart (lessons 02 and 04). */
export interface GradNormSummary {
  mean: number;
  min: number;
  max: number;
  clippedFraction: number; // share of minibatches global-norm clipping scales down: ‖g‖ > θ (θ = 0: none)
}

/** Mean, min and max of the global gradient norms (before clipping), and the share above θ. */
export function summarizeGradNorms(norms: number[], theta: number): GradNormSummary {
  const clipped = theta > 0 ? norms.filter((n) => n > theta).length : 0; // gradClipping's rule
  return {
    mean: norms.reduce((a, b) => a + b, 0) / norms.length,
    min: Math.min(...norms),
    max: Math.max(...norms),
    clippedFraction: clipped / norms.length,
  };
}

/**
 * The perplexity of the unigram model on a text: exp of the entropy −Σ_c p(c) log p(c) of its
 * character frequencies. What a model that ignores its input can reach at best; V for a text
 * where all V characters are equally frequent, 1 for a text of one repeated character.
 */
export function unigramPerplexity(corpus: ArrayLike<number>, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < corpus.length; i++) counts[corpus[i]]++;
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue; // p log p → 0 as p → 0: unseen characters add nothing
    const p = count / corpus.length;
    entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}
