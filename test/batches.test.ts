// Minibatches from a long sequence. The synthetic corpus holds each token's own position
// (corpus[i] = i), so every value in X and Y says exactly where in the corpus it came from.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCorpus, loadDataTimeMachine, SeqDataLoader, seqDataIterRandom, seqDataIterSequential, type Batch } from '../src/batches';
import { CorpusError } from '../src/corpus';
import { Rng } from '../src/random';
import { Vocab } from '../src/vocab';

const positions = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const row = (a: Int32Array, b: number, T: number) => Array.from(a.subarray(b * T, (b + 1) * T));
const SEEDS = Array.from({ length: 40 }, (_, i) => i);

const ITERS = { sequential: seqDataIterSequential, random: seqDataIterRandom } as const;

for (const [partition, iter] of Object.entries(ITERS)) {
  describe(`${partition} partitioning: shapes, labels and seeds`, () => {
    it('yields X and Y of shape [B, T] with every label the token after its input', () => {
      const batches = [...iter(positions(203), 4, 5, new Rng(3))];
      assert.ok(batches.length > 0);
      for (const { X, Y, batchSize, numSteps } of batches) {
        assert.equal(batchSize, 4);
        assert.equal(numSteps, 5);
        assert.equal(X.length, 20);
        assert.equal(Y.length, 20);
        for (let i = 0; i < X.length; i++) assert.equal(Y[i], X[i] + 1);
        for (let b = 0; b < 4; b++) {
          const r = row(X, b, 5);
          r.forEach((x, t) => assert.equal(x, r[0] + t, 'each row is a contiguous stretch of the corpus'));
        }
      }
    });

    it('draws the same minibatches from the same seed and different ones from another', () => {
      const run = (seed: number) => [...iter(positions(500), 3, 7, new Rng(seed))].map((b) => [...b.X]);
      assert.deepEqual(run(5), run(5));
      assert.notDeepEqual(run(5), run(6));
    });
  });
}

describe('sequential partitioning', () => {
  it('continues each row exactly where the previous minibatch stopped, for every seed', () => {
    for (const seed of SEEDS) {
      const batches = [...seqDataIterSequential(positions(307), 4, 6, new Rng(seed))];
      for (let i = 1; i < batches.length; i++) {
        for (let b = 0; b < 4; b++) {
          const prev = row(batches[i - 1].X, b, 6);
          assert.equal(batches[i].X[b * 6], prev[5] + 1, `seed ${seed}, minibatch ${i}, row ${b}`);
        }
      }
    }
  });

  it('covers B equal streams without overlap, leaving less than one minibatch unused', () => {
    const n = 307;
    const B = 4;
    const T = 6;
    const offsets = new Set<number>();
    for (const seed of SEEDS) {
      const batches = [...seqDataIterSequential(positions(n), B, T, new Rng(seed))];
      const seen = new Set<number>();
      for (const { X } of batches) for (const x of X) seen.add(x);
      assert.equal(seen.size, batches.length * B * T, 'no token is an input twice');
      const offset = batches[0].X[0];
      const rowLen = batches[0].X[T] - offset; // stream b starts at offset + b·rowLen
      offsets.add(offset);
      for (let b = 0; b < B; b++) assert.equal(batches[0].X[b * T], offset + b * rowLen);
      assert.ok(offset <= T, `offset ${offset} is at most numSteps`);
      assert.ok(rowLen - batches.length * T < T, 'the unused tail of each stream is shorter than one step window');
      assert.ok(offset + B * rowLen <= n - 1, 'the last label is inside the corpus');
      assert.ok(n - 1 - (offset + B * rowLen) < B, 'fewer than B tokens dropped at the end');
    }
    assert.ok(offsets.has(0) && offsets.has(T), `offsets drawn from 0..numSteps inclusive (saw ${[...offsets].sort((a, b) => a - b)})`);
  });
});

describe('random partitioning', () => {
  it('uses non-overlapping subsequences, all inside the corpus, leaving fewer than B unused', () => {
    const n = 311;
    const B = 3;
    const T = 7;
    for (const seed of SEEDS) {
      const batches = [...seqDataIterRandom(positions(n), B, T, new Rng(seed))];
      const starts = batches.flatMap((b: Batch) => Array.from({ length: B }, (_, r) => b.X[r * T])).sort((a, c) => a - c);
      const offset = starts[0] % T;
      assert.ok(starts.every((s) => s % T === offset), 'subsequences sit on one grid of step T');
      for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] >= T, 'no overlap');
      assert.ok(starts[0] >= 0 && starts[starts.length - 1] + T <= n - 1, 'every X and Y inside the corpus');
      const available = Math.floor((n - 1 - offset) / T); // whole windows on that grid (offset < T)
      assert.ok(available - starts.length < B, `only ${starts.length} of ${available} windows used`);
    }
  });

  it('puts unrelated subsequences side by side: the rows of a minibatch are shuffled', () => {
    const batches = [...seqDataIterRandom(positions(2000), 4, 5, new Rng(1))];
    const firstStarts = [0, 1, 2, 3].map((r) => batches[0].X[r * 5]);
    const sorted = [...firstStarts].sort((a, b) => a - b);
    const contiguous = sorted.every((s, i) => i === 0 || s - sorted[i - 1] === 5);
    assert.ok(!contiguous, `rows ${firstStarts} look like consecutive windows, not a shuffle`);
  });
});

describe('SeqDataLoader', () => {
  const vocab = new Vocab(['a', 'b']);

  it('refuses a corpus shorter than one minibatch with a CorpusError saying what to change', () => {
    const B = 4;
    const T = 5;
    assert.throws(
      () => new SeqDataLoader(new Int32Array(B * T + T), vocab, B, T, 'sequential'),
      (err: Error) => err instanceof CorpusError && /25 tokens/.test(err.message) && /--batch-size/.test(err.message),
    );
  });

  it('accepts the shortest corpus that yields at least one minibatch for every seed and partition', () => {
    const B = 4;
    const T = 5;
    for (const partition of ['sequential', 'random'] as const) {
      const loader = new SeqDataLoader(positions(B * T + T + 1), vocab, B, T, partition);
      for (const seed of SEEDS) assert.ok([...loader.epoch(new Rng(seed))].length >= 1, `${partition}, seed ${seed}`);
    }
  });

  it('gives d2l\u2019s 8 sequential minibatches per epoch for The Time Machine with 10,000 tokens, batch 32, 35 steps', async () => {
    const loader = await loadDataTimeMachine({ batchSize: 32, numSteps: 35, maxTokens: 10000 });
    assert.equal(loader.corpus.length, 10000);
    assert.equal(loader.vocab.size, 28);
    for (const seed of [0, 1, 2, 3]) assert.equal([...loader.epoch(new Rng(seed))].length, 8);
  });

  it('builds its corpus from the first maxTokens characters, line after line, without newlines', () => {
    const { corpus, vocab: v } = buildCorpus(['ab a', '', 'ba'], 5);
    assert.deepEqual(v.toTokens(corpus), ['a', 'b', ' ', 'a', 'b']);
    assert.equal(buildCorpus(['ab a', '', 'ba']).corpus.length, 6);
  });
});
