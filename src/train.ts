// The training loop: minibatches → loss and gradients → clipping → SGD, with metrics going out
// through callbacks so the loop knows nothing of printing or plotting (minGPT's trainer).
// Taught in 02-training-output (what to watch) and 07-implementation (the whole recipe).
import * as tf from '@tensorflow/tfjs';
import { autogradLoss, autogradStep, type LossResult, type StepResult } from './autograd';
import type { Batch, SeqDataLoader } from './batches';
import { bpttLoss, bpttStep } from './bptt';
import { clipGradients } from './clipping';
import type { RNNConfig, TrainPath } from './config';
import { perplexity } from './loss';
import { epochLoss, epochPerplexity, summarizeGradNorms } from './metrics';
import type { RNNModelScratch } from './model';
import { dataParallel, dataParallelLoss } from './data-parallel';
import { PARAM_NAMES, type Grads, type RNNParams } from './params';
import { predict } from './predict';
import { Rng } from './random';
import { nextState } from './state';

export type StepFn = (params: RNNParams, batch: Batch, state: tf.Tensor2D) => StepResult;
/** A loss-only pass over one minibatch (validation): no gradients, parameters untouched. */
export type LossFn = (params: RNNParams, batch: Batch, state: tf.Tensor2D) => LossResult;

/**
 * The training step of the fast path: bpttStep (the hand-derived BPTT), split across the
 * data-parallel helper thread when one is running (see backend.ts); the same result to float rounding.
 */
export const fastStep: StepFn = dataParallel(bpttStep);

/** The step each cfg.path trains with. */
export const STEP_FNS: Record<TrainPath, StepFn> = { fast: fastStep, autograd: autogradStep };

export interface StepMetrics {
  epoch: number; // 1-based
  step: number; // minibatch index within the epoch, 0-based
  loss: number; // mean cross-entropy of this minibatch
  gradNorm: number; // global L2 norm before clipping
  clipped: boolean;
}

export interface EpochMetrics {
  epoch: number; // 1-based
  loss: number; // mean per-token loss over the epoch
  perplexity: number; // exp(loss)
  tokens: number;
  seconds: number;
  tokensPerSec: number;
  gradNorm: { mean: number; min: number; max: number };
  clippedFraction: number; // share of minibatches whose gradient was clipped
  valPerplexity?: number; // on the held-out validation text after this epoch (when the loader has one)
  sample?: string; // every cfg.sampleEvery epochs: greedy continuation of cfg.prefix
}

export interface TrainCallbacks {
  onStep?: (m: StepMetrics) => void;
  onEpoch?: (m: EpochMetrics) => void | Promise<void>;
  /** Asked before every minibatch; true stops at the last epoch boundary (Ctrl-C, time budget). */
  shouldStop?: () => boolean;
  /** Replaces the minibatch step chosen by cfg.path (lesson 03 trains with deliberately wrong labels). */
  stepFn?: StepFn;
}

export interface TrainResult {
  history: EpochMetrics[];
  perplexity: number; // of the last epoch
  valPerplexity?: number; // of the last epoch, when the loader holds out validation text
  tokensPerSec: number; // over all epochs of this run
  epochs: number; // epochs completed, counting those before a resume
  backend: string;
  stopped: 'done' | 'interrupted';
}

/** Training stopped because the loss or gradient stopped being a finite number. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
    readonly lastGoodNorm: number,
  ) {
    super(
      `training diverged at epoch ${epoch}, minibatch ${step}: loss ${loss}, gradient norm ${gradNorm} ` +
        `(last finite norm ${lastGoodNorm.toFixed(3)}); lower --lr or enable clipping with --clip 1`,
    );
  }
}

/** d2l's sgd with batch_size 1 (the loss is already a mean): θ ← θ − lr·g for each parameter θ and its gradient g, in place. */
export function sgd(params: RNNParams, grads: Grads, lr: number): void {
  tf.tidy(() => {
    for (const name of PARAM_NAMES) params[name].assign(tf.sub(params[name], tf.mul(grads[name], lr)));
  });
}

/** Where a run is: what a checkpoint stores to resume it exactly (see checkpoint.ts). */
export interface TrainProgress {
  epoch: number; // epochs completed
  rng: Rng; // drawn from for offsets and shuffles; its state at an epoch boundary replays the rest
  history: EpochMetrics[];
}

/** A fresh run: no epochs done, batches drawn from their own RNG (seed + 1; the init draws from seed). */
export function startProgress(cfg: RNNConfig): TrainProgress {
  return { epoch: 0, rng: new Rng((cfg.seed + 1) % 2 ** 32), history: [] };
}

/**
 * One epoch (d2l's train_epoch_ch8): the state starts at zero, and is either carried from
 * minibatch to minibatch (sequential) or reset for every one (random partitioning).
 * Returns null when shouldStop() asked to stop part-way; the parameters then include the
 * minibatches already done, so callers that need an exact resume restore a snapshot.
 */
export async function trainEpoch(
  model: RNNModelScratch,
  data: SeqDataLoader,
  cfg: RNNConfig,
  epoch: number,
  rng: Rng,
  callbacks: TrainCallbacks = {},
): Promise<EpochMetrics | null> {
  const stepFn = callbacks.stepFn ?? STEP_FNS[cfg.path];
  let state: tf.Tensor2D | null = null;
  const batchLosses: number[] = [];
  const batchTokens: number[] = [];
  let clippedCount = 0;
  let lastGoodNorm = NaN;
  const norms: number[] = [];
  const start = performance.now();
  let step = 0;
  try {
    for (const batch of data.epoch(rng)) {
      if (callbacks.shouldStop?.()) return null;
      state = nextState(state, batch.batchSize, model.numHiddens, cfg.resetState);
      const out = stepFn(model.params, batch, state);
      state.dispose();
      state = out.state;
      const clip = clipGradients(out.grads, cfg.theta, cfg.clipMode);
      tf.dispose(out.grads);
      // exp(loss) overflowing (loss > ~709 nats per character) is divergence too: no usable model gives that.
      if (!Number.isFinite(perplexity(out.loss)) || !Number.isFinite(clip.norm)) {
        tf.dispose(clip.grads);
        throw new DivergenceError(epoch, step, out.loss, clip.norm, lastGoodNorm);
      }
      sgd(model.params, clip.grads, cfg.lr);
      tf.dispose(clip.grads);
      batchLosses.push(out.loss);
      batchTokens.push(batch.batchSize * batch.numSteps);
      lastGoodNorm = clip.norm;
      norms.push(clip.norm);
      if (clip.clipped) clippedCount++;
      callbacks.onStep?.({ epoch, step, loss: out.loss, gradNorm: clip.norm, clipped: clip.clipped });
      step++;
      await yieldToEventLoop(); // lets Ctrl-C handlers and notebook display messages through
    }
  } finally {
    state?.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const tokens = batchTokens.reduce((a, b) => a + b, 0);
  const { mean, min, max } = summarizeGradNorms(norms, cfg.theta);
  return {
    epoch,
    loss: epochLoss(batchLosses, batchTokens),
    perplexity: epochPerplexity(batchLosses, batchTokens),
    tokens,
    seconds,
    tokensPerSec: tokens / seconds,
    gradNorm: { mean, min, max },
    clippedFraction: clippedCount / norms.length, // what clipGradients did: per tensor or by value, too (lesson 04)
  };
}

/** The loss-only pass of the fast path: bpttLoss, split across the data-parallel helper like fastStep. */
export const fastLoss: LossFn = dataParallelLoss(bpttLoss);

/** The loss-only pass each cfg.path validates with (the same numbers to float rounding). */
export const LOSS_FNS: Record<TrainPath, LossFn> = { fast: fastLoss, autograd: autogradLoss };

/**
 * Perplexity on a loader's validation text: exp of the mean per-token cross-entropy over its
 * minibatches, forward only (no gradients, parameters untouched). The state follows the training's
 * rule: carried from minibatch to minibatch (sequential, resetState false) or zero for each one.
 * `path` picks the forward pass, as cfg.path picks the training step.
 */
export function validationPerplexity(model: RNNModelScratch, data: SeqDataLoader, resetState: boolean, path: TrainPath = 'fast'): number {
  const lossFn = LOSS_FNS[path];
  let state: tf.Tensor2D | null = null;
  let lossSum = 0;
  let tokens = 0;
  try {
    for (const batch of data.validation()) {
      state = nextState(state, batch.batchSize, model.numHiddens, resetState);
      const out = lossFn(model.params, batch, state);
      state.dispose();
      state = out.state;
      lossSum += out.loss * batch.batchSize * batch.numSteps;
      tokens += batch.batchSize * batch.numSteps;
    }
  } finally {
    state?.dispose();
  }
  return perplexity(lossSum / tokens);
}

/**
 * d2l's train_ch8: cfg.numEpochs epochs (counting any already in `progress`), a greedy sample of
 * cfg.prefix every cfg.sampleEvery epochs, metrics to the callbacks and into the history.
 */
export async function train(
  model: RNNModelScratch,
  data: SeqDataLoader,
  cfg: RNNConfig,
  callbacks: TrainCallbacks = {},
  progress: TrainProgress = startProgress(cfg),
): Promise<TrainResult> {
  let stopped: TrainResult['stopped'] = 'done';
  let seconds = 0;
  let tokens = 0;
  while (progress.epoch < cfg.numEpochs) {
    const epochNo = progress.epoch + 1;
    const rngAtStart = progress.rng.getState();
    const m = await trainEpoch(model, data, cfg, epochNo, progress.rng, callbacks);
    if (m === null) {
      progress.rng.setState(rngAtStart); // the interrupted epoch will be replayed from its start
      stopped = 'interrupted';
      break;
    }
    if (data.valCorpus) m.valPerplexity = validationPerplexity(model, data, cfg.resetState, cfg.path);
    if (cfg.sampleEvery > 0 && epochNo % cfg.sampleEvery === 0 && cfg.prefix) {
      m.sample = predict(cfg.prefix, cfg.numPreds, model, data.vocab);
    }
    seconds += m.seconds;
    tokens += m.tokens;
    progress.history.push(m);
    progress.epoch = epochNo;
    await callbacks.onEpoch?.(m);
  }
  const last = progress.history[progress.history.length - 1];
  return {
    history: progress.history,
    perplexity: last ? last.perplexity : NaN,
    valPerplexity: last?.valPerplexity,
    tokensPerSec: seconds > 0 ? tokens / seconds : 0,
    epochs: progress.epoch,
    backend: tf.getBackend(),
    stopped,
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
