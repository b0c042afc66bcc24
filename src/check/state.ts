// Checks for 05-state-initialization's exercises: the two partitionings and the state between minibatches.
// The library's iterators are generators; the learner's versions return the whole list of minibatches,
// which is what the checks compare (the same minibatches, in the same order, from the same Rng).
import * as tf from '@tensorflow/tfjs';
import { seqDataIterRandom, seqDataIterSequential, type Batch } from '../batches';
import { Rng } from '../random';
import { initRNNState, nextState } from '../state';
import { defineCheck, diff, type CheckCase } from './core';

type IterArgs = [corpus: number[], batchSize: number, numSteps: number, rng: Rng];

/** The minibatches a cut makes, given the start of each row: X is the T tokens from there, Y the T after them. */
function batchesFromStarts(corpus: ArrayLike<number>, starts: number[][], B: number, T: number, shift = 1, timeMajor = false): Batch[] {
  return starts.map((rows) => {
    const X = new Int32Array(B * T);
    const Y = new Int32Array(B * T);
    rows.forEach((s, b) => {
      for (let t = 0; t < T; t++) {
        const at = timeMajor ? t * B + b : b * T + t;
        X[at] = corpus[s + t] ?? 0;
        Y[at] = corpus[s + t + shift] ?? 0;
      }
    });
    return { X, Y, batchSize: B, numSteps: T };
  });
}

/** Groups a list of row starts into minibatches of B (dropping the incomplete last one). */
function inBatches(starts: number[], B: number): number[][] {
  return Array.from({ length: Math.floor(starts.length / B) }, (_, i) => starts.slice(i * B, (i + 1) * B));
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A corpus of `n` tokens drawn from a vocabulary of 28, so a token rarely tells where it came from. */
function randomCorpus(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.int(0, 27));
}

function iterCase(name: string, corpus: () => number[], B: number, T: number, seed: number): CheckCase<IterArgs> {
  return { name, args: () => [corpus(), B, T, new Rng(seed)] };
}

/** Lists of minibatches: same count, then each one's X and Y, with where they first differ. */
function compareBatches(got: Batch[], want: Batch[]): string | null {
  if (!Array.isArray(got)) return `the result should be an array of minibatches (${want.length} here), got ${got === undefined ? 'undefined (did the function forget to return?)' : typeof got}`;
  if (got.length !== want.length) return `there are ${got.length} minibatches, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (typeof g !== 'object' || g === null) return `minibatch ${i} is not a { X, Y, batchSize, numSteps } object`;
    const d = diff(g.batchSize, w.batchSize, undefined, `minibatch ${i}'s batchSize`) ?? diff(g.numSteps, w.numSteps, undefined, `minibatch ${i}'s numSteps`);
    if (d) return d;
    for (const key of ['X', 'Y'] as const) {
      const a = g[key];
      if (!a || typeof (a as ArrayLike<number>).length !== 'number') return `minibatch ${i} has no array ${key}`;
      if (a.length !== w[key].length) return `minibatch ${i}'s ${key} has ${a.length} entries, expected B·T = ${w[key].length}`;
      for (let k = 0; k < a.length; k++) {
        if (a[k] !== w[key][k]) {
          const b = Math.floor(k / w.numSteps);
          const t = k % w.numSteps;
          return `minibatch ${i}, row ${b}, step ${t}: ${key} is ${a[k]}, expected ${w[key][k]}`;
        }
      }
    }
  }
  return null;
}

const iterCases = (extra: CheckCase<IterArgs>[] = []): CheckCase<IterArgs>[] => [
  iterCase("the numbers 0 to 34, B = 2, T = 5, Rng(0) (the lesson's example)", () => range(35), 2, 5, 0),
  iterCase('the numbers 0 to 99, B = 3, T = 4, Rng(1)', () => range(100), 3, 4, 1),
  iterCase('200 random tokens, B = 4, T = 7, Rng(2)', () => randomCorpus(200, 9), 4, 7, 2),
  ...extra,
  iterCase('the numbers 0 to 11, B = 1, T = 1, Rng(3)', () => range(12), 1, 1, 3),
];

// ---------------------------------------------------------------------------------------------
// 5.1 seqDataIterRandom(corpus, B, T, rng) → Batch[]

/** Random partitioning with the subsequence starts chosen by `starts(offset)`; `drawOffset` false skips the offset draw. */
function randomPartition(corpus: number[], B: number, T: number, rng: Rng, opts: { drawOffset?: boolean; shuffle?: boolean; stride?: number; shift?: number; roomForLabel?: boolean } = {}): Batch[] {
  const offset = opts.drawOffset === false ? 0 : rng.int(0, T - 1);
  const stride = opts.stride ?? T;
  const usable = corpus.length - offset - (opts.roomForLabel === false ? 0 : 1);
  const numSubseqs = stride === T ? Math.floor(usable / T) : usable - T + 1;
  const starts = Array.from({ length: numSubseqs }, (_, i) => offset + i * stride);
  if (opts.shuffle !== false) rng.shuffle(starts);
  return batchesFromStarts(corpus, inBatches(starts, B), B, T, opts.shift ?? 1);
}

export const seqDataIterRandomCheck = defineCheck<IterArgs, Batch[]>({
  name: 'seqDataIterRandom',
  exercise: '5.1',
  reference: (corpus, B, T, rng) => [...seqDataIterRandom(corpus, B, T, rng)],
  referenceName: 'rw.seqDataIterRandom',
  cases: iterCases(),
  compare: compareBatches,
  mistakes: [
    {
      id: 'no-shuffle',
      message: 'your minibatches take the subsequences in the order of the text, so neighbouring rows continue each other. Shuffle the list of subsequence starts (rng.shuffle) before filling the minibatches',
      wrong: (corpus, B, T, rng) => randomPartition(corpus, B, T, rng, { shuffle: false }),
    },
    {
      id: 'no-offset',
      message: 'your subsequences always start at token 0, so every epoch cuts the text at the same places. Draw a random offset first, rng.int(0, T − 1), then shuffle',
      wrong: (corpus, B, T, rng) => randomPartition(corpus, B, T, rng, { drawOffset: false }),
    },
    {
      id: 'overlapping',
      message: 'your subsequences overlap: a new one starts at every token instead of every T tokens, so each token is read up to T times per epoch. Cut the text into non-overlapping pieces of T',
      wrong: (corpus, B, T, rng) => randomPartition(corpus, B, T, rng, { stride: 1 }),
    },
    {
      id: 'y-not-shifted',
      message: 'Y equals X: the labels must be the inputs shifted one token ahead (Y[b, t] is the token after X[b, t])',
      wrong: (corpus, B, T, rng) => randomPartition(corpus, B, T, rng, { shift: 0 }),
    },
    {
      id: 'no-room-for-label',
      message: 'the number of subsequences ignores that the last one needs one more token for its label. Count them from corpus.length − offset − 1 tokens',
      wrong: (corpus, B, T, rng) => randomPartition(corpus, B, T, rng, { roomForLabel: false }),
    },
  ],
  advice: 'Draw exactly what the library draws, in the same order: offset = rng.int(0, T − 1), then rng.shuffle(starts)',
});

// ---------------------------------------------------------------------------------------------
// 5.2 seqDataIterSequential(corpus, B, T, rng) → Batch[]

function sequentialPartition(corpus: number[], B: number, T: number, rng: Rng, opts: { drawOffset?: boolean; continueRows?: boolean; shift?: number; timeMajor?: boolean } = {}): Batch[] {
  const offset = opts.drawOffset === false ? 0 : rng.int(0, T);
  const rowLen = Math.floor((corpus.length - offset - 1) / B);
  const numBatches = Math.floor(rowLen / T);
  const starts = range(numBatches).map((i) => range(B).map((b) => (opts.continueRows === false ? offset + (i * B + b) * T : offset + b * rowLen + i * T)));
  return batchesFromStarts(corpus, starts, B, T, opts.shift ?? 1, opts.timeMajor);
}

export const seqDataIterSequentialCheck = defineCheck<IterArgs, Batch[]>({
  name: 'seqDataIterSequential',
  exercise: '5.2',
  reference: (corpus, B, T, rng) => [...seqDataIterSequential(corpus, B, T, rng)],
  referenceName: 'rw.seqDataIterSequential',
  cases: iterCases(),
  compare: compareBatches,
  mistakes: [
    {
      id: 'rows-do-not-continue',
      message: 'the rows of a minibatch are neighbouring pieces of the text, so row b of the next minibatch does not continue row b of this one and a carried state would be wrong. Split the text into B long streams first, one per row',
      wrong: (corpus, B, T, rng) => sequentialPartition(corpus, B, T, rng, { continueRows: false }),
    },
    {
      id: 'no-offset',
      message: 'the first stream always starts at token 0. Draw a random offset first, rng.int(0, T) (both ends included), and start after it',
      wrong: (corpus, B, T, rng) => sequentialPartition(corpus, B, T, rng, { drawOffset: false }),
    },
    {
      id: 'y-not-shifted',
      message: 'Y equals X: the labels must be the inputs shifted one token ahead (Y[b, t] is the token after X[b, t])',
      wrong: (corpus, B, T, rng) => sequentialPartition(corpus, B, T, rng, { shift: 0 }),
    },
    {
      id: 'time-major',
      message: 'your X is laid out time-major (X[t·B + b]). A Batch is row-major: X[b·T + t] is token t of row b; the model transposes it itself',
      wrong: (corpus, B, T, rng) => sequentialPartition(corpus, B, T, rng, { timeMajor: true }),
    },
  ],
  advice: 'Row b of minibatch i starts at offset + b·rowLen + i·T, with rowLen = ⌊(corpus.length − offset − 1)/B⌋ and offset = rng.int(0, T)',
});

// ---------------------------------------------------------------------------------------------
// 5.3 nextState(prev, B, H, reset) → the state to start the next minibatch from

type StateArgs = [prev: tf.Tensor2D | null, batchSize: number, numHiddens: number, reset: boolean];

const randomState = (B: number, H: number, seed: number): tf.Tensor2D => {
  const rng = new Rng(seed);
  return tf.tensor2d(Array.from({ length: B * H }, () => Math.tanh(rng.normal())), [B, H]);
};

export const nextStateCheck = defineCheck<StateArgs, tf.Tensor2D>({
  name: 'nextState',
  exercise: '5.3',
  reference: nextState,
  referenceName: 'rw.nextState',
  cases: [
    { name: 'the first minibatch: no previous state, B = 3, H = 7', args: () => [null, 3, 7, false] },
    { name: 'sequential, carry: a previous state [3, 7]', args: () => [randomState(3, 7, 1), 3, 7, false] },
    { name: 'random partitioning, reset: a previous state [3, 7]', args: () => [randomState(3, 7, 2), 3, 7, true] },
    { name: 'the batch size changed from 4 to 3 (a short last minibatch)', args: () => [randomState(4, 7, 3), 3, 7, false] },
    { name: 'B = 1, H = 5, carry', args: () => [randomState(1, 5, 4), 1, 5, false] },
  ],
  mistakes: [
    {
      id: 'always-reset',
      message: "you start every minibatch from zeros, even when asked to carry — the notes' forward does this by calling init_state inside. With reset = false and a previous state of the right shape, return that state",
      wrong: (prev, B, H) => {
        prev?.dispose();
        return initRNNState(B, H);
      },
    },
    {
      id: 'carry-across-batch-size',
      message: 'you carried a state with a different number of rows than the new minibatch has. A state of the wrong batch size cannot be carried: start from zeros of [B, H]',
      wrong: (prev, B, H, reset) => (prev && !reset ? prev : initRNNState(B, H)),
    },
    {
      id: 'never-reset',
      message: 'you carried the previous state although reset is true. With random partitioning the next row comes from elsewhere in the book, so it must start from zeros',
      wrong: (prev, B, H) => prev ?? initRNNState(B, H),
    },
    {
      id: 'null-on-first',
      message: 'for the first minibatch there is no previous state (prev is null) and you returned it. Start from zeros of [B, H] then',
      wrong: (prev, B, H, reset) => (reset ? initRNNState(B, H) : (prev as tf.Tensor2D)),
    },
  ],
  advice: 'Carry prev only when reset is false and prev has B rows; otherwise return zeros of [B, H] (rw.initRNNState)',
});

/** Lesson 05's checks, by the names the notebook calls them: rw.check.nextState(nextState). */
export const stateChecks = { seqDataIterRandom: seqDataIterRandomCheck, seqDataIterSequential: seqDataIterSequentialCheck, nextState: nextStateCheck };
