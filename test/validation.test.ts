// The held-out validation split (d2l-en 9.5 trains and validates): which tokens it holds, that
// training never sees them, and that validation perplexity is exp(mean cross-entropy) over them.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { buildCorpus, loadDataTimeMachine, SeqDataLoader, splitCorpus, type Batch } from '../src/batches';
import { makeConfig } from '../src/config';
import { CorpusError, readCorpusLines } from '../src/corpus';
import { RNNModelScratch } from '../src/model';
import { Rng } from '../src/random';
import { train, validationPerplexity } from '../src/train';
import { Vocab } from '../src/vocab';

const positions = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const tokensOf = (batches: Batch[]) => new Set(batches.flatMap((b) => [...b.X, ...b.Y]));

before(async () => {
  await initBackend({ log: () => {} });
});

describe('splitCorpus: the validation tokens follow the training tokens', () => {
  it('trains on the first maxTokens and holds out the numVal after them, with no token in both', () => {
    const { train: tr, val } = splitCorpus(positions(1000), 600, 300);
    assert.deepEqual([...tr], [...positions(600)]);
    assert.deepEqual([...val!], Array.from({ length: 300 }, (_, i) => 600 + i));
  });

  it('with maxTokens 0 holds out the last numVal tokens and trains on the rest', () => {
    const { train: tr, val } = splitCorpus(positions(1000), 0, 250);
    assert.equal(tr.length, 750);
    assert.equal(val!.length, 250);
    assert.equal(val![0], 750);
    assert.equal(val![249], 999);
  });

  it('gives fewer validation tokens when the text ends sooner, and none with numVal 0', () => {
    assert.equal(splitCorpus(positions(700), 600, 300).val!.length, 100);
    assert.equal(splitCorpus(positions(700), 600, 0).val, null);
  });
});

describe('the loader with a validation split', () => {
  const vocab = new Vocab(['a', 'b']);
  const B = 3;
  const T = 4;

  it('never puts a validation token into a training minibatch, whatever the seed or partition', () => {
    const { train: tr, val } = splitCorpus(positions(400), 250, 150);
    for (const partition of ['sequential', 'random'] as const) {
      const loader = new SeqDataLoader(tr, vocab, B, T, partition, val);
      const valTokens = tokensOf([...loader.validation()]);
      for (const seed of [0, 1, 2, 3, 4]) {
        for (const t of tokensOf([...loader.epoch(new Rng(seed))])) assert.ok(t < 250 && !valTokens.has(t), `${partition}, seed ${seed}: token ${t}`);
      }
      for (const t of valTokens) assert.ok(t >= 250 && t < 400, `validation token ${t}`);
    }
  });

  it('cuts the same validation minibatches every time, sequentially from its first token', () => {
    const { train: tr, val } = splitCorpus(positions(400), 250, 150);
    const loader = new SeqDataLoader(tr, vocab, B, T, 'random', val);
    const a = [...loader.validation()];
    assert.deepEqual([...loader.validation()], a);
    // 149 usable positions / 3 rows = 49 per row, 12 minibatches of 4 steps; row b starts at 250 + 49b.
    assert.equal(a.length, 12);
    assert.deepEqual([a[0].X[0], a[0].X[T], a[0].X[2 * T]], [250, 299, 348]);
    assert.equal(a[1].X[0], 250 + T, 'minibatch i+1 continues minibatch i row by row');
  });

  it('refuses validation text shorter than one minibatch with a CorpusError naming --num-val 0', () => {
    const { train: tr, val } = splitCorpus(positions(400), 390, 10); // one minibatch needs 3 × 4 + 1 = 13
    assert.throws(
      () => new SeqDataLoader(tr, vocab, B, T, 'sequential', val),
      (err: Error) => err instanceof CorpusError && /only 10 tokens are left after the 390 training tokens/.test(err.message) && /--num-val 0/.test(err.message),
    );
  });

  it('keeps d2l-zh 8.5\u2019s training text (the first 10,000 characters) and validates on the next 5,000', async () => {
    const withVal = await loadDataTimeMachine({ batchSize: 32, numSteps: 35, maxTokens: 10000, numVal: 5000 });
    const without = await loadDataTimeMachine({ batchSize: 32, numSteps: 35, maxTokens: 10000 });
    const book = buildCorpus(await readCorpusLines({})).corpus;
    assert.deepEqual(withVal.corpus, without.corpus);
    assert.equal(without.valCorpus, null);
    assert.deepEqual(withVal.valCorpus, book.slice(10000, 15000));
    assert.equal([...withVal.validation()].length, 4); // 4,999 usable tokens / 32 rows = 156 per row: 4 × 35 steps
  });
});

/** The RNN by hand in float64: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), o_t = h_t W_hq + b_q. */
function handPerplexity(model: RNNModelScratch, batches: Batch[], resetState: boolean): number {
  const p = model.params;
  const [W_xh, W_hh, b_h, W_hq, b_q] = [p.W_xh, p.W_hh, p.b_h, p.W_hq, p.b_q].map((t) => Array.from(t.dataSync()));
  const V = model.vocabSize;
  const H = model.numHiddens;
  let h: number[][] = [];
  let lossSum = 0;
  let count = 0;
  for (const { X, Y, batchSize: B, numSteps: T } of batches) {
    if (resetState || h.length !== B) h = Array.from({ length: B }, () => new Array<number>(H).fill(0));
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const x = X[b * T + t];
        const next = Array.from({ length: H }, (_, j) => {
          let a = W_xh[x * H + j] + b_h[j];
          for (let k = 0; k < H; k++) a += h[b][k] * W_hh[k * H + j];
          return Math.tanh(a);
        });
        h[b] = next;
        const o = Array.from({ length: V }, (_, v) => next.reduce((s, hk, k) => s + hk * W_hq[k * V + v], b_q[v]));
        const max = Math.max(...o);
        const logSumExp = max + Math.log(o.reduce((s, ov) => s + Math.exp(ov - max), 0));
        lossSum += logSumExp - o[Y[b * T + t]];
        count++;
      }
    }
  }
  return Math.exp(lossSum / count);
}

describe('validation perplexity', () => {
  const V = 5;
  const rng = new Rng(7);
  const text = Int32Array.from({ length: 300 }, () => rng.int(0, V - 1));
  const vocab = new Vocab(['a', 'b', 'c', 'd', 'e']);
  const loader = () => {
    const { train: tr, val } = splitCorpus(text, 200, 100);
    return new SeqDataLoader(tr, vocab, 2, 6, 'sequential', val);
  };
  /** A small model with larger weights than the N(0, 0.01²) init, so the carried state makes a measurable difference. */
  const scaledModel = () => {
    const model = new RNNModelScratch(V, 4, { seed: 3 });
    tf.tidy(() => {
      for (const w of [model.params.W_xh, model.params.W_hh, model.params.W_hq]) w.assign(tf.mul(w, 100));
    });
    return model;
  };

  it('equals exp(mean cross-entropy) over the validation minibatches, computed by hand, with the state carried or reset', () => {
    const data = loader();
    const model = scaledModel();
    const batches = [...data.validation()];
    const carried = validationPerplexity(model, data, false);
    const reset = validationPerplexity(model, data, true);
    assert.ok(Math.abs(carried - handPerplexity(model, batches, false)) < 1e-4 * carried, `carried ${carried}`);
    assert.ok(Math.abs(reset - handPerplexity(model, batches, true)) < 1e-4 * reset, `reset ${reset}`);
    assert.ok(Math.abs(carried - reset) > 1e-3, 'carrying the state changes the result, so both branches were tested');
    model.dispose();
  });

  it('gives the same value on the fast path (bpttLoss) and the autograd path (the model\u2019s forward), to float rounding', () => {
    const data = loader();
    const model = scaledModel();
    for (const reset of [false, true]) {
      const fast = validationPerplexity(model, data, reset, 'fast');
      const slow = validationPerplexity(model, data, reset, 'autograd');
      assert.ok(Math.abs(fast - slow) < 1e-5 * slow, `reset ${reset}: fast ${fast}, autograd ${slow}`);
      assert.ok(Math.abs(fast - handPerplexity(model, [...data.validation()], reset)) < 1e-4 * fast);
    }
    model.dispose();
  });

  it('leaves no tensor behind and does not change the parameters', () => {
    const data = loader();
    const model = new RNNModelScratch(V, 4, { seed: 3 });
    const before = model.params.W_hh.dataSync().slice();
    validationPerplexity(model, data, false); // warm-up: the backend may keep one-off tensors
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) validationPerplexity(model, data, false);
    assert.equal(tf.memory().numTensors, n);
    assert.deepEqual(model.params.W_hh.dataSync(), before);
    model.dispose();
  });
});

describe('train with a validation split', () => {
  it('records validation perplexity every epoch and trains exactly as without it', async () => {
    const cfg = makeConfig({ numHiddens: 16, batchSize: 4, numSteps: 8, maxTokens: 1000, numEpochs: 3, path: 'autograd', sampleEvery: 0 });
    const opts = { batchSize: cfg.batchSize, numSteps: cfg.numSteps, maxTokens: cfg.maxTokens };
    const withVal = await loadDataTimeMachine({ ...opts, numVal: 400 });
    const without = await loadDataTimeMachine(opts);
    const a = new RNNModelScratch(withVal.vocab.size, cfg.numHiddens, { seed: 0 });
    const b = new RNNModelScratch(without.vocab.size, cfg.numHiddens, { seed: 0 });
    const ra = await train(a, withVal, cfg);
    const rb = await train(b, without, cfg);
    assert.deepEqual(ra.history.map((m) => m.perplexity), rb.history.map((m) => m.perplexity));
    assert.ok(rb.history.every((m) => m.valPerplexity === undefined));
    assert.equal(rb.valPerplexity, undefined);
    for (const m of ra.history) assert.ok(Number.isFinite(m.valPerplexity) && m.valPerplexity! > 1, `epoch ${m.epoch}: ${m.valPerplexity}`);
    assert.equal(ra.valPerplexity, ra.history[2].valPerplexity);
    assert.equal(ra.valPerplexity, validationPerplexity(a, withVal, cfg.resetState, cfg.path), 'the last epoch\u2019s value is the trained model\u2019s');
    a.dispose();
    b.dispose();
  });
});
