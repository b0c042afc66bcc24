// Lesson 07's checks beyond the generic test of every check (test/check.test.ts): the epoch check
// judges behaviour, not code; it compares the parameters the epoch leaves, not only the numbers it
// returns; and it tells a learner how many tensors their epoch left in memory.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import type { SeqDataLoader } from '../src/batches';
import { check } from '../src/check';
import { clipGradients } from '../src/clipping';
import type { RNNConfig } from '../src/config';
import { perplexity } from '../src/loss';
import type { RNNModelScratch } from '../src/model';
import type { Rng } from '../src/random';
import { nextState } from '../src/state';
import { sgd, STEP_FNS } from '../src/train';

before(async () => {
  await initBackend({ log: () => {} });
});

type Epoch = (model: RNNModelScratch, data: SeqDataLoader, cfg: RNNConfig, rng: Rng) => Promise<{ loss: number; perplexity: number }>;

/** A correct epoch written another way than the notebook's solution: nextState, clipGradients, the step table. */
const otherwiseWritten: Epoch = async (model, data, cfg, rng) => {
  let state: tf.Tensor2D | null = null;
  const losses: number[] = [];
  for (const batch of data.epoch(rng)) {
    state = nextState(state, batch.batchSize, model.numHiddens, cfg.resetState);
    const out = STEP_FNS.autograd(model.params, batch, state);
    state.dispose();
    state = out.state;
    const clip = clipGradients(out.grads, cfg.theta, cfg.clipMode);
    sgd(model.params, clip.grads, cfg.lr);
    tf.dispose([out.grads, clip.grads]);
    losses.push(out.loss); // every minibatch has B·T tokens, so the plain mean is the per-token mean
  }
  state?.dispose();
  const loss = losses.reduce((a, b) => a + b, 0) / losses.length;
  return { loss, perplexity: perplexity(loss) };
};

describe('the training-epoch check (exercise 7.3)', () => {
  it('passes a correct epoch written differently from the solution', async () => {
    const r = await check.trainEpoch.run(otherwiseWritten);
    assert.equal(r.ok, true, r.line);
  });

  it('fails an epoch that reports the right numbers but leaves the model as it was', async () => {
    const onACopy: Epoch = async (model, data, cfg, rng) => {
      const saved = model.paramList.map((p) => p.clone());
      const result = await otherwiseWritten(model, data, cfg, rng);
      model.paramList.forEach((p, i) => p.assign(saved[i]));
      tf.dispose(saved);
      return result;
    };
    const r = await check.trainEpoch.run(onACopy);
    assert.equal(r.status, 'differs', r.line);
    assert.match(r.line, /params\.W_xh\[\d+, \d+\] is .*, expected /);
  });

  it('tells an epoch that never frees its states how many tensors it left in memory', async () => {
    const leaky: Epoch = async (model, data, cfg, rng) => {
      let state: tf.Tensor2D | null = null;
      let lossSum = 0;
      let tokens = 0;
      for (const batch of data.epoch(rng)) {
        if (state === null || cfg.resetState) state = tf.zeros([batch.batchSize, model.numHiddens]);
        const out = STEP_FNS.autograd(model.params, batch, state);
        state = out.state; // the old state is dropped, not disposed
        const clip = clipGradients(out.grads, cfg.theta);
        sgd(model.params, clip.grads, cfg.lr);
        tf.dispose([out.grads, clip.grads]);
        lossSum += out.loss * batch.batchSize * batch.numSteps;
        tokens += batch.batchSize * batch.numSteps;
      }
      return { loss: lossSum / tokens, perplexity: perplexity(lossSum / tokens) };
    };
    const r = await check.trainEpoch.run(leaky);
    assert.equal(r.status, 'differs', r.line);
    assert.match(r.line, /the values are right, but the call left \d+ tensors in memory/);
  });
});
