// Generating text: greedy and sampled continuations, the prefix warm-up, and refusals.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { loadDataTimeMachine, type SeqDataLoader } from '../src/batches';
import { makeConfig, PRESETS } from '../src/config';
import { RNNModelScratch } from '../src/model';
import { chooseNext, MIN_TEMPERATURE, predict, predictSteps, PredictError, softmax, warmUp } from '../src/predict';
import { Rng } from '../src/random';
import { train } from '../src/train';
import { tokenize, Vocab } from '../src/vocab';

let data: SeqDataLoader;
let model: RNNModelScratch; // trained for a few epochs, so its predictions depend on what it read

before(async () => {
  await initBackend({ log: () => {} });
  const cfg = makeConfig({ ...PRESETS.tiny, path: 'autograd', numEpochs: 4 });
  data = await loadDataTimeMachine({ batchSize: cfg.batchSize, numSteps: cfg.numSteps, maxTokens: cfg.maxTokens });
  model = new RNNModelScratch(data.vocab.size, cfg.numHiddens, { seed: 0 });
  await train(model, data, cfg);
});

/** Softmax of the last time step's logits when the model reads `text` from a zero state in one forward pass. */
function lastStepProbs(text: string): Float32Array {
  return tf.tidy(() => {
    const X = tf.tensor2d([data.vocab.toIndices(Array.from(text))], [1, text.length], 'int32');
    const { logits } = model.forward(X, model.beginState(1)); // [T, V]
    return softmax(logits.slice([text.length - 1, 0], [1, -1]).dataSync());
  });
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));

describe('predict', () => {
  it('is deterministic when greedy', () => {
    const a = predict('time traveller', 30, model, data.vocab);
    assert.equal(predict('time traveller', 30, model, data.vocab), a);
  });

  it('returns the preprocessed prefix followed by numPreds characters from the vocabulary', () => {
    const text = predict('The Time-Traveller!', 25, model, data.vocab);
    assert.ok(text.startsWith('the time traveller'), text);
    assert.equal(text.length, 'the time traveller'.length + 25);
    assert.ok(Array.from(text).every((c) => data.vocab.has(c)));
    assert.equal(predict('time', 0, model, data.vocab), 'time');
  });

  it('generates greedily: each new character is the argmax after reading everything before it', () => {
    const prefix = 'the time';
    const text = predict(prefix, 12, model, data.vocab);
    for (let t = prefix.length; t < text.length; t++) {
      const probs = lastStepProbs(text.slice(0, t));
      const best = probs.indexOf(Math.max(...probs));
      assert.equal(data.vocab.idxToToken[best], text[t], `character ${t} of '${text}'`);
    }
  });

  it('refuses a prefix that is empty after preprocessing', () => {
    for (const prefix of ['', '   ', '!?! 42 ...']) {
      assert.throws(() => predict(prefix, 5, model, data.vocab), (e: Error) => e instanceof PredictError && /empty after preprocessing/.test(e.message));
    }
  });

  it('refuses characters the vocabulary cannot represent, naming each of them once', () => {
    const vocab = new Vocab(tokenize(['abc ab'])); // no e, r or z
    const small = new RNNModelScratch(vocab.size, 4);
    try {
      assert.throws(
        () => predict('Zebra zebra', 5, small, vocab),
        (e: Error) => e instanceof PredictError && /'z', 'e', 'r'(?!,)/.test(e.message) && !/'a'|'b'/.test(e.message),
      );
    } finally {
      small.dispose();
    }
  });

  it('samples reproducibly with a seeded Rng, and differently with another seed', () => {
    const sample = (seed: number) => predict('time traveller', 40, model, data.vocab, { temperature: 1, rng: new Rng(seed) });
    assert.equal(sample(1), sample(1));
    assert.notEqual(sample(1), sample(2));
    assert.notEqual(sample(1), predict('time traveller', 40, model, data.vocab), 'sampling at temperature 1 is not greedy');
  });

  it('equals greedy decoding at the lowest usable temperature', () => {
    const greedy = predict('time traveller', 30, model, data.vocab);
    assert.equal(predict('time traveller', 30, model, data.vocab, { temperature: MIN_TEMPERATURE, rng: new Rng(3) }), greedy);
  });

  it('refuses a negative or non-finite temperature and a bad numPreds', () => {
    for (const temperature of [-0.5, NaN, Infinity, 1e-320, 0.009]) {
      assert.throws(() => predict('time', 5, model, data.vocab, { temperature }), (e: Error) => e instanceof PredictError && /temperature must be 0 \(greedy\) or at least 0\.01/.test(e.message));
    }
    for (const n of [-1, 2.5]) assert.throws(() => predict('time', n, model, data.vocab), PredictError);
  });
});

describe('predictSteps', () => {
  it('records for every generated character a distribution over the vocabulary that sums to 1', () => {
    const { text, steps } = predictSteps('time traveller', 15, model, data.vocab, { temperature: 0.8, rng: new Rng(5) });
    assert.equal(steps.length, 15);
    for (const [i, s] of steps.entries()) {
      assert.equal(s.probs.length, data.vocab.size);
      assert.ok(Math.abs(s.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, `step ${i}`);
      assert.ok(s.probs.every((p) => p >= 0));
      assert.equal(data.vocab.idxToToken[s.chosen], text['time traveller'.length + i]);
    }
  });

  it('starts from the state left by reading the whole prefix', () => {
    const { steps } = predictSteps('time traveller', 1, model, data.vocab);
    assert.ok(maxDiff(steps[0].probs, lastStepProbs('time traveller')) < 1e-5);
  });

  it('without warm-up, starts from the prefix\u2019s last character alone, and predicts differently', () => {
    const warm = predictSteps('time traveller', 1, model, data.vocab);
    const cold = predictSteps('time traveller', 1, model, data.vocab, { warmUp: false });
    assert.ok(maxDiff(cold.steps[0].probs, lastStepProbs('r')) < 1e-5);
    const diff = maxDiff(warm.steps[0].probs, cold.steps[0].probs);
    assert.ok(diff > 1e-3, `warm-up changed the next-character distribution by only ${diff}`);
  });
});

describe('warmUp', () => {
  it('ends in the state the forward pass ends in after reading the same tokens from zeros', () => {
    const tokens = data.vocab.toIndices(Array.from('time traveller'));
    const before = tf.memory().numTensors;
    const h = warmUp(model.params, tokens);
    assert.equal(tf.memory().numTensors, before + 1, 'only the returned state is left');
    const forwardState = tf.tidy(() => model.forward(tf.tensor2d([tokens], [1, tokens.length], 'int32'), model.beginState(1)).state);
    assert.deepEqual(h.shape, [1, model.numHiddens]);
    assert.ok(maxDiff(h.dataSync(), forwardState.dataSync()) < 1e-6);
    tf.dispose([h, forwardState]);
  });

  it('leaves the zero state when there is nothing to read', () => {
    const h = warmUp(model.params, []);
    assert.deepEqual(h.shape, [1, model.numHiddens]);
    assert.ok(h.dataSync().every((v) => v === 0));
    h.dispose();
  });
});

describe('chooseNext', () => {
  it('is the argmax at temperature 0, <unk> included, and draws nothing from the Rng', () => {
    const rng = new Rng(4);
    assert.equal(chooseNext([0.5, 2, -1, 1.9], 0, rng), 1);
    assert.equal(chooseNext([5, 2, -1], 0, rng), 0);
    assert.equal(rng.next(), new Rng(4).next());
  });

  it('draws from softmax(o / temperature) with <unk> left out', () => {
    const o = [3, 1, 0, Math.log(3)]; // index 0 is <unk>: the most likely, never drawn
    const rng = new Rng(11);
    const counts = [0, 0, 0, 0];
    const n = 4000;
    for (let i = 0; i < n; i++) counts[chooseNext(o, 1, rng)]++;
    assert.equal(counts[0], 0);
    const rest = [Math.E, 1, 3].map((w) => w / (Math.E + 1 + 3)); // exp(o) of indices 1..3, renormalised
    rest.forEach((p, i) => assert.ok(Math.abs(counts[i + 1] / n - p) < 0.03, `index ${i + 1}: ${counts[i + 1] / n} vs ${p}`));
  });
});

describe('softmax', () => {
  it('normalises exp(o / temperature), stably for large logits', () => {
    const p = softmax([0, Math.log(2)]);
    assert.ok(Math.abs(p[0] - 1 / 3) < 1e-7 && Math.abs(p[1] - 2 / 3) < 1e-7);
    const hot = softmax([0, Math.log(4)], 2); // exp(o/2): 1 and 2
    assert.ok(Math.abs(hot[1] - 2 / 3) < 1e-7);
    const big = softmax([1000, 1000 + Math.log(3)]);
    assert.ok(Math.abs(big[1] - 0.75) < 1e-7, `got ${big[1]}`);
  });
});

describe('softmax', () => {
  it('stays a distribution at temperatures far below the minimum: all mass on the largest logit, no NaN', () => {
    assert.deepEqual([...softmax([1, 3, 2], 1e-320)], [0, 1, 0]);
    assert.deepEqual([...softmax([-1e3, 5, 5], 1e-300)], [0, 0.5, 0.5]);
  });
});
