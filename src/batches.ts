// Cutting a long token sequence into minibatches of (X, Y) with Y shifted one step ahead:
// random and sequential partitioning, as d2l's seq_data_iter_random / seq_data_iter_sequential.
// Taught in 05-state-initialization (which partition allows carrying the hidden state).
import type { Partition } from './config';
import { CorpusError, readCorpusLines } from './corpus';
import { Rng } from './random';
import { tokenize, Vocab } from './vocab';

/** One minibatch, row-major: X[b*numSteps + t] is token t of sequence b; Y is X one step later. */
export interface Batch {
  X: Int32Array; // [B, T] token indices
  Y: Int32Array; // [B, T] the next token of each position
  batchSize: number; // B
  numSteps: number; // T
}

/**
 * Random partitioning: a random start offset, then non-overlapping subsequences in shuffled order.
 * Neighbouring minibatches are unrelated, so each one starts from a fresh state.
 */
export function* seqDataIterRandom(corpus: ArrayLike<number>, batchSize: number, numSteps: number, rng: Rng): Generator<Batch> {
  const offset = rng.int(0, numSteps - 1);
  const numSubseqs = Math.floor((corpus.length - offset - 1) / numSteps);
  const starts = rng.shuffle(Array.from({ length: numSubseqs }, (_, i) => offset + i * numSteps));
  const numBatches = Math.floor(numSubseqs / batchSize);
  for (let i = 0; i < numBatches; i++) {
    const X = new Int32Array(batchSize * numSteps);
    const Y = new Int32Array(batchSize * numSteps);
    for (let b = 0; b < batchSize; b++) {
      const s = starts[i * batchSize + b];
      for (let t = 0; t < numSteps; t++) {
        X[b * numSteps + t] = corpus[s + t];
        Y[b * numSteps + t] = corpus[s + t + 1];
      }
    }
    yield { X, Y, batchSize, numSteps };
  }
}

/**
 * Sequential partitioning: the corpus is cut into B parallel streams; minibatch i+1 continues
 * exactly where minibatch i stopped, row by row, so the final state of one is the right start
 * of the next.
 */
export function* seqDataIterSequential(corpus: ArrayLike<number>, batchSize: number, numSteps: number, rng: Rng): Generator<Batch> {
  yield* sequentialFrom(corpus, batchSize, numSteps, rng.int(0, numSteps));
}

/** Sequential partitioning from a given start offset (validation starts at 0: no randomness). */
function* sequentialFrom(corpus: ArrayLike<number>, batchSize: number, numSteps: number, offset: number): Generator<Batch> {
  const numTokens = Math.floor((corpus.length - offset - 1) / batchSize) * batchSize;
  const rowLen = numTokens / batchSize; // each of the B streams
  const numBatches = Math.floor(rowLen / numSteps);
  for (let i = 0; i < numBatches; i++) {
    const X = new Int32Array(batchSize * numSteps);
    const Y = new Int32Array(batchSize * numSteps);
    for (let b = 0; b < batchSize; b++) {
      const s = offset + b * rowLen + i * numSteps;
      for (let t = 0; t < numSteps; t++) {
        X[b * numSteps + t] = corpus[s + t];
        Y[b * numSteps + t] = corpus[s + t + 1];
      }
    }
    yield { X, Y, batchSize, numSteps };
  }
}

/**
 * Corpus + vocab + partitioning: `epoch(rng)` yields one epoch's training minibatches. With a
 * validation corpus (held-out text the training never sees), `validation()` yields its minibatches.
 */
export class SeqDataLoader {
  constructor(
    readonly corpus: Int32Array,
    readonly vocab: Vocab,
    readonly batchSize: number,
    readonly numSteps: number,
    readonly partition: Partition,
    readonly valCorpus: Int32Array | null = null,
  ) {
    if (corpus.length < batchSize * numSteps + numSteps + 1) {
      throw new CorpusError(
        `the corpus has ${corpus.length} tokens, too few for one minibatch of ${batchSize} × ${numSteps} steps ` +
          `(needs at least ${batchSize * numSteps + numSteps + 1}); use a longer text, a smaller --batch-size or --num-steps, or a larger --max-tokens`,
      );
    }
    if (valCorpus && valCorpus.length < batchSize * numSteps + 1) {
      throw new CorpusError(
        `only ${valCorpus.length} tokens are left after the ${corpus.length} training tokens for validation, too few for one ` +
          `minibatch of ${batchSize} × ${numSteps} steps (needs at least ${batchSize * numSteps + 1}); ` +
          `use a longer text or a smaller --max-tokens, or --num-val 0 to train without validation`,
      );
    }
  }

  epoch(rng: Rng): Generator<Batch> {
    const iter = this.partition === 'random' ? seqDataIterRandom : seqDataIterSequential;
    return iter(this.corpus, this.batchSize, this.numSteps, rng);
  }

  /**
   * The validation minibatches: the held-out text cut sequentially from its first token, the same
   * every epoch (no offset, no shuffle), so one epoch's validation perplexity compares with the next.
   * Row b of minibatch i+1 continues row b of minibatch i, so a state can be carried as in training.
   */
  validation(): Generator<Batch> {
    if (!this.valCorpus) throw new Error('this loader has no validation text (load it with numVal > 0)');
    return sequentialFrom(this.valCorpus, this.batchSize, this.numSteps, 0);
  }
}

/**
 * The held-out split: the training tokens are the first maxTokens (with maxTokens 0: all but the
 * last numVal), the validation tokens the numVal that follow them (fewer if the text ends sooner).
 * Like d2l-en's TimeMachine(num_train, num_val), validation text comes after the training text and
 * is never trained on; unlike it, the two do not share a window at the boundary.
 */
export function splitCorpus(all: Int32Array, maxTokens: number, numVal: number): { train: Int32Array; val: Int32Array | null } {
  const numTrain = maxTokens > 0 ? Math.min(maxTokens, all.length) : Math.max(all.length - numVal, 0);
  const train = all.slice(0, numTrain);
  return { train, val: numVal > 0 ? all.slice(numTrain, Math.min(all.length, numTrain + numVal)) : null };
}

/** d2l's load_corpus_time_machine: character indices of the whole book (or the first maxTokens). */
export function buildCorpus(lines: string[], maxTokens = 0): { corpus: Int32Array; vocab: Vocab } {
  const tokens = tokenize(lines, 'char');
  const vocab = new Vocab(tokens);
  const all = tokens.flat();
  const n = maxTokens > 0 ? Math.min(maxTokens, all.length) : all.length;
  const corpus = new Int32Array(n);
  for (let i = 0; i < n; i++) corpus[i] = vocab.indexOf(all[i]);
  return { corpus, vocab };
}

export async function loadCorpusTimeMachine(maxTokens = 0, opts: { dataDir?: string } = {}) {
  return buildCorpus(await readCorpusLines(opts), maxTokens);
}

export interface DataOptions {
  batchSize: number;
  numSteps: number;
  partition?: Partition;
  maxTokens?: number; // training tokens, from the start of the text; 0 = whole corpus (minus numVal)
  numVal?: number; // validation tokens held out right after the training tokens; 0 (the default) = none
  corpusFile?: string; // train on this text instead of The Time Machine
  dataDir?: string;
}

/** d2l's load_data_time_machine: the loader and its vocab, with a validation split when numVal > 0. */
export async function loadDataTimeMachine(opts: DataOptions): Promise<SeqDataLoader> {
  const maxTokens = opts.maxTokens ?? 10000;
  const numVal = opts.numVal ?? 0;
  const { corpus: all, vocab } = buildCorpus(await readCorpusLines(opts), maxTokens > 0 ? maxTokens + numVal : 0);
  const { train, val } = splitCorpus(all, maxTokens, numVal);
  return new SeqDataLoader(train, vocab, opts.batchSize, opts.numSteps, opts.partition ?? 'sequential', val);
}
