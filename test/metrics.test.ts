// What train.ts reports per epoch, and the unigram baseline, on examples small enough to work by hand.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { gradClipping } from '../src/clipping';
import { crossEntropy } from '../src/loss';
import { epochLoss, epochPerplexity, summarizeGradNorms, unigramPerplexity } from '../src/metrics';

before(async () => {
  await initBackend({ log: () => {} });
});

describe('epochLoss and epochPerplexity', () => {
  it('weight each minibatch by its tokens, so a short last minibatch counts for less', () => {
    // 3 tokens at loss 1 and 1 token at loss 3: (3·1 + 1·3) / 4 = 1.5, not the unweighted (1 + 3) / 2 = 2.
    assert.equal(epochLoss([1, 3], [3, 1]), 1.5);
    assert.equal(epochPerplexity([1, 3], [3, 1]), Math.exp(1.5));
  });

  it('equal the perplexity of all the epoch\u2019s predictions taken as one minibatch', () => {
    const logits = tf.tensor2d([[2, 0, -1], [0.5, 0.5, 0], [-1, 3, 0], [0, 0, 1], [1, 1, 1]]);
    const labels = [0, 2, 1, 1, 0];
    const meanOf = (rows: number[]) =>
      tf.tidy(() => crossEntropy(tf.gather(logits, rows) as tf.Tensor2D, tf.tensor1d(rows.map((r) => labels[r]), 'int32')).dataSync()[0]);
    const whole = meanOf([0, 1, 2, 3, 4]);
    const split = epochPerplexity([meanOf([0, 1, 2]), meanOf([3, 4])], [3, 2]);
    assert.ok(Math.abs(split - Math.exp(whole)) < 1e-5, `${split} vs ${Math.exp(whole)}`);
    logits.dispose();
  });
});

describe('summarizeGradNorms', () => {
  it('gives the mean, min and max, and counts as clipped only the norms strictly above θ', () => {
    assert.deepEqual(summarizeGradNorms([0.5, 1, 2, 4.5], 1), { mean: 2, min: 0.5, max: 4.5, clippedFraction: 0.5 });
  });

  it('counts nothing as clipped when θ = 0 turns clipping off', () => {
    assert.equal(summarizeGradNorms([0.5, 3], 0).clippedFraction, 0);
  });

  it('agrees with gradClipping on which gradients it scales down', () => {
    const sets = [[tf.tensor1d([3, 4])], [tf.tensor1d([0.3, 0.4])], [tf.tensor1d([0.6]), tf.tensor1d([0.8])], [tf.tensor1d([2])]];
    const results = sets.map((g) => gradClipping(g, 1));
    const summary = summarizeGradNorms(results.map((r) => r.norm), 1);
    assert.equal(summary.clippedFraction, results.filter((r) => r.clipped).length / results.length);
    tf.dispose([...sets.flat(), ...results.flatMap((r) => r.grads)]);
  });
});

describe('unigramPerplexity', () => {
  it('is V for a text where all V characters are equally frequent, and 1 for one repeated character', () => {
    assert.ok(Math.abs(unigramPerplexity([0, 1, 2, 3, 3, 2, 1, 0], 4) - 4) < 1e-12);
    assert.equal(unigramPerplexity([5, 5, 5], 7), 1);
  });

  it('ignores characters of the vocabulary the text never uses', () => {
    // p = (1/2, 1/4, 1/4) over the 3 used characters of V = 10: entropy 1.5 ln 2, perplexity 2^1.5.
    assert.ok(Math.abs(unigramPerplexity([0, 0, 1, 2], 10) - 2 ** 1.5) < 1e-12);
  });

  it('equals exp of the cross-entropy of constant logits log p(c) against the text itself', () => {
    const corpus = [0, 1, 1, 2, 2, 2, 0, 1];
    const p = [2 / 8, 3 / 8, 3 / 8];
    const loss = tf.tidy(() => crossEntropy(tf.tile(tf.tensor2d([p.map(Math.log)]), [corpus.length, 1]) as tf.Tensor2D, tf.tensor1d(corpus, 'int32')).dataSync()[0]);
    assert.ok(Math.abs(unigramPerplexity(corpus, 3) - Math.exp(loss)) < 1e-5);
  });
});
