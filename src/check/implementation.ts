// Checks for 07-implementation's exercises: the SGD update (7.1), one minibatch's loss and
// gradients by autograd (7.2) and the training epoch itself (7.3).
//
// Two of the three functions work by side effect: sgd changes the variables it is given, and an
// epoch changes the model. So these checks judge what a call *leaves behind* as well as what it
// returns: each call is observed as { its result, the parameters after it, the tensors it leaked },
// and the observations of the learner's function, the reference and each catalogued mistake are
// compared as usual.
import * as tf from '@tensorflow/tfjs';
import { autogradStep, type StepResult } from '../autograd';
import { buildCorpus, SeqDataLoader, type Batch } from '../batches';
import { clipPerTensor, gradClipping } from '../clipping';
import { makeConfig, type Partition, type RNNConfig } from '../config';
import { crossEntropy, perplexity, timeMajorLabels } from '../loss';
import { oneHotTimeMajor, paramList, RNNModelScratch, rnn } from '../model';
import { mapParams, PARAM_NAMES, type Grads, type RNNParams } from '../params';
import { Rng } from '../random';
import { initRNNState } from '../state';
import { sgd, trainEpoch } from '../train';
import { defineAsyncCheck, defineCheck, diff, type AsyncCheck, type Check, type CheckCase, type CheckSpec } from './core';

// ---------------------------------------------------------------------------------------------
// Observing a call: result, parameters after it, tensors leaked.

/** Turns one call (its arguments, what it returned, how many tensors it added) into what the check compares. */
type Observe<A extends unknown[], R, O> = (args: A, result: R, added: number) => O;

function observed<A extends unknown[], R, O>(fn: (...args: A) => R, observe: Observe<A, R, O>): (...args: A) => O {
  return (...args: A) => {
    const before = tf.memory().numTensors;
    const result = fn(...args);
    return observe(args, result, tf.memory().numTensors - before);
  };
}

function observedAsync<A extends unknown[], R, O>(fn: (...args: A) => Promise<R>, observe: Observe<A, R, O>): (...args: A) => Promise<O> {
  return async (...args: A) => {
    const before = tf.memory().numTensors;
    const result = await fn(...args);
    return observe(args, result, tf.memory().numTensors - before);
  };
}

/**
 * A check whose cases compare observations of the calls, not only their return values. Its `spec`
 * keeps the plain functions (reference, mistakes), so the learner's function, the reference and the
 * mistakes are all observed the same way.
 */
function defineObservedCheck<A extends unknown[], R, O extends Observation>(spec: CheckSpec<A, R>, observe: Observe<A, R, O>): Check<A, R> {
  const inner = defineCheck<A, O>({
    ...spec,
    compare: compareObservations,
    reference: observed(spec.reference, observe),
    mistakes: spec.mistakes.map((m) => ({ ...m, wrong: observed(m.wrong, observe) })),
  });
  const run = (fn: (...args: A) => R) => inner.run(typeof fn === 'function' ? observed(fn, observe) : (fn as never));
  return Object.assign((fn: (...args: A) => R) => void console.log(run(fn).line), { run, spec });
}

function defineObservedAsyncCheck<A extends unknown[], R, O extends Observation>(spec: CheckSpec<A, Promise<R>>, observe: Observe<A, R, O>): AsyncCheck<A, R> {
  const inner = defineAsyncCheck<A, O>({
    ...spec,
    compare: compareObservations as unknown as CheckSpec<A, Promise<O>>['compare'], // an async check compares the awaited values
    reference: observedAsync(spec.reference, observe),
    mistakes: spec.mistakes.map((m) => ({ ...m, wrong: observedAsync(m.wrong, observe) })),
  });
  const run = (fn: (...args: A) => Promise<R>) => inner.run(typeof fn === 'function' ? observedAsync(fn, observe) : (fn as never));
  const check = async (fn: (...args: A) => Promise<R>) => void console.log((await run(fn)).line);
  return Object.assign(check, { run, spec, async: true as const });
}

/** Every observation counts the tensors a call left behind that its caller does not get back. */
interface Observation {
  leakedTensors: number;
}

/** The values first (where they differ, as `diff` says it); then the tensors left in memory. */
function compareObservations(got: Observation, want: Observation): string | null {
  const { leakedTensors: leaked, ...values } = got;
  const { leakedTensors: wantLeaked, ...wantValues } = want;
  const difference = diff(values, wantValues);
  if (difference !== null || leaked === wantLeaked) return difference;
  return `the values are right, but the call left ${leaked} tensor${leaked === 1 ? '' : 's'} in memory that nothing will free (expected ${wantLeaked}): dispose what you no longer need, or make it inside tf.tidy`;
}

/**
 * A tensor the learner returned, as the check keeps it: a plain copy, and the original disposed. A
 * tf.keep'd tensor (rw.autogradStep keeps the final state) outlives every scope, so the check's
 * scope could not free it.
 */
function take(t: unknown): unknown {
  if (!(t instanceof tf.Tensor) || t.isDisposed) return t;
  const copy = t.clone();
  t.dispose();
  return copy;
}

/**
 * The gradients a step returned, as the check compares them: taken like any returned tensor, and by
 * parameter name. A record keyed by tfjs's variable names (tf.variableGrads' own keys, different in
 * every call) is relabelled by the parameter each variable holds, so that the mistake can be recognised.
 */
function gradsObserved(grads: unknown, params: RNNParams): unknown {
  if (Array.isArray(grads)) return grads.map(take);
  if (grads === null || typeof grads !== 'object' || grads instanceof tf.Tensor) return take(grads);
  const byVariable = new Map<string, string>(PARAM_NAMES.map((n) => [params[n].name, n]));
  return Object.fromEntries(Object.entries(grads).map(([k, g]) => [byVariable.has(k) ? `(the variable name of ${byVariable.get(k)})` : k, take(g)]));
}

/** The values of the parameters now, by name: `params.W_hh[2, 3] is …` in a diagnosis. */
function snapshot(p: RNNParams): Record<string, tf.Tensor> {
  return mapParams(p, (v) => v.clone());
}

/** Tensors in a returned value that the call made (not ones it was given): the caller owns those. */
function returnedTensors(value: unknown, given: tf.Tensor[]): number {
  const found = new Set<tf.Tensor>();
  const visit = (v: unknown): void => {
    if (v instanceof tf.Tensor) {
      if (!given.includes(v) && !v.isDisposed) found.add(v);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit); // gradients by name
  };
  if (value && typeof value === 'object') Object.values(value).forEach(visit);
  return found.size;
}

/** A model of V × H with seeded N(0, 0.01²) weights, b_h = 0.1 and b_q = −0.1, so a wrong bias shows. */
function modelParams(V: number, H: number, seed: number): RNNParams {
  const model = new RNNModelScratch(V, H, { seed });
  tf.tidy(() => {
    model.params.b_h.assign(tf.fill([H], 0.1));
    model.params.b_q.assign(tf.fill([V], -0.1));
  });
  return model.params;
}

const randomNormal = (shape: number[], rng: Rng, scale: number): tf.Tensor => {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.normal() * scale), shape);
};

// ---------------------------------------------------------------------------------------------
// Exercise 7.1 · sgd(params, grads, lr): θ ← θ − lr·g for each parameter, in place.

type SgdArgs = [params: RNNParams, grads: Grads, lr: number];

function sgdCase(name: string, V: number, H: number, lr: number, seed: number, gradScale: number): CheckCase<SgdArgs> {
  return {
    name,
    args: () => {
      // Frozen, so that replacing an entry (params.W_hh = …) fails loudly instead of leaving the variables as they were.
      const params = Object.freeze(modelParams(V, H, seed)) as RNNParams;
      const rng = new Rng(seed + 1);
      return [params, mapParams(params, (p) => randomNormal(p.shape, rng, gradScale)), lr];
    },
  };
}

/** `f(θ, g)` for every parameter θ and its gradient g, inside a tidy or not. */
const eachParam = (params: RNNParams, grads: Grads, f: (p: tf.Variable, g: tf.Tensor) => void, tidy = true) => {
  const body = () => PARAM_NAMES.forEach((n) => f(params[n] as tf.Variable, grads[n]));
  if (tidy) tf.tidy(body);
  else body();
};

export const sgdCheck = defineObservedCheck<SgdArgs, void, { params: Record<string, tf.Tensor>; leakedTensors: number }>(
  {
    name: 'sgd',
    exercise: '7.1',
    reference: sgd,
    referenceName: 'rw.sgd',
    cases: [
      sgdCase("the five parameters of V = 5, H = 3, lr = 0.5", 5, 3, 0.5, 1, 1),
      sgdCase("V = 11, H = 7, d2l's lr = 1", 11, 7, 1, 2, 0.3),
      sgdCase('V = 4, H = 2, lr = 0.1, large gradients', 4, 2, 0.1, 3, 50),
      sgdCase('V = 6, H = 5, lr = 2, zero gradients (nothing may change)', 6, 5, 2, 4, 0),
    ],
    mistakes: [
      {
        id: 'ascent',
        message: 'your parameters moved up the gradient, so every step would make the loss larger. Gradient descent steps against the gradient',
        wrong: (params, grads, lr) => eachParam(params, grads, (p, g) => p.assign(tf.add(p, tf.mul(g, lr)))),
      },
      {
        id: 'no-lr',
        message: 'each parameter moved by its whole gradient, whatever lr was: the learning rate is missing from your step',
        wrong: (params, grads) => eachParam(params, grads, (p, g) => p.assign(tf.sub(p, g))),
      },
      {
        id: 'not-in-place',
        message: "the variables still hold their old values: computing p − lr·g makes a new tensor (and rebinding a name to it changes nothing the model sees). Write the new value into each variable",
        wrong: (params, grads, lr) => eachParam(params, grads, (p, g) => void tf.sub(p, tf.mul(g, lr))),
      },
      {
        id: 'assign-step-only',
        message: "each parameter now holds only the step −lr·g: a variable's assign replaces its value, it does not add to it (unlike PyTorch's `p -= …`). Assign the updated value",
        wrong: (params, grads, lr) => eachParam(params, grads, (p, g) => p.assign(tf.mul(g, -lr))),
      },
      {
        id: 'no-tidy',
        message: 'the values are right, but every call leaves tensors behind (each tf.mul and tf.sub makes one that nobody frees): over an epoch of minibatches memory keeps growing. Free the intermediates',
        wrong: (params, grads, lr) => eachParam(params, grads, (p, g) => p.assign(tf.sub(p, tf.mul(g, lr))), false),
      },
    ],
    advice: 'Compare with θ ← θ − η·g for every parameter θ and its gradient g of the same name',
  },
  ([params], _result, added) => ({ params: snapshot(params), leakedTensors: added }),
);

// ---------------------------------------------------------------------------------------------
// Exercise 7.2 · autogradStep(params, batch, state): one minibatch's loss and gradients by autograd.

type StepArgs = [params: RNNParams, batch: Batch, state: tf.Tensor2D];

function stepCase(name: string, B: number, T: number, V: number, H: number, seed: number, stateScale: number): CheckCase<StepArgs> {
  return {
    name,
    args: () => {
      const params = modelParams(V, H, seed);
      tf.tidy(() => params.W_hh.assign(tf.mul(params.W_hh, 30))); // a recurrence strong enough that the start state matters
      const rng = new Rng(seed + 1);
      const tokens = () => Int32Array.from({ length: B * T }, () => rng.int(0, V - 1));
      const batch: Batch = { X: tokens(), Y: tokens(), batchSize: B, numSteps: T };
      const state = tf.tidy(() => tf.tanh(randomNormal([B, H], rng, stateScale))) as tf.Tensor2D;
      return [params, batch, state];
    },
  };
}

/** `autogradStep` with its pieces swappable, for the catalogue of mistakes. */
function stepWith(opts: { labels?: 'time-major' | 'batch-major'; zeroState?: boolean; sum?: boolean }): (...args: StepArgs) => StepResult {
  return (params, batch, state) => {
    const { batchSize: B, numSteps: T } = batch;
    const vars = paramList(params);
    let finalState: tf.Tensor2D | null = null;
    const { value, grads } = tf.tidy(() => {
      const X = tf.tensor2d(batch.X, [B, T], 'int32');
      const Y = opts.labels === 'batch-major' ? batch.Y : timeMajorLabels(batch.Y, B, T);
      const labels = tf.tensor1d(Y, 'int32');
      return tf.variableGrads(() => {
        const start = opts.zeroState ? initRNNState(B, params.W_hh.shape[0]) : state;
        const out = rnn(oneHotTimeMajor(X, params.W_xh.shape[0]), start, params);
        finalState = tf.keep(out.state);
        const loss = crossEntropy(out.logits, labels);
        return opts.sum ? tf.mul(loss, B * T) : loss;
      }, vars);
    });
    const loss = value.dataSync()[0];
    value.dispose();
    return { loss, grads: mapParams(params, (v) => grads[v.name]), state: finalState! };
  };
}

type StepObservation = { loss: unknown; grads: unknown; state: unknown; leakedTensors: number };

export const autogradStepCheck = defineObservedCheck<StepArgs, StepResult, StepObservation>(
  {
    name: 'autogradStep',
    exercise: '7.2',
    reference: autogradStep,
    referenceName: 'rw.autogradStep',
    cases: [
      stepCase('B = 2, T = 3, V = 5, H = 4, zero state', 2, 3, 5, 4, 1, 0),
      stepCase('B = 3, T = 5, V = 11, H = 7, random state', 3, 5, 11, 7, 2, 1),
      stepCase('B = 1, T = 1, V = 6, H = 3, random state', 1, 1, 6, 3, 3, 1),
      stepCase("B = 4, T = 7, d2l's V = 28, H = 16, random state", 4, 7, 28, 16, 4, 1),
    ],
    mistakes: [
      {
        id: 'batch-major-labels',
        message: "the logits' rows are time-major (row t·B + b is step t of sequence b) but your labels are Y flattened row by row, so most predictions are scored against another position's character (lesson 03). Flatten Y in the logits' order",
        wrong: stepWith({ labels: 'batch-major' }),
      },
      {
        id: 'ignores-state',
        message: "your step ignores the state it is given and starts from zeros, like the notes' forward that calls init_state inside: nothing can be carried between minibatches (lesson 05). Run the recurrence from `state`",
        wrong: stepWith({ zeroState: true }),
      },
      {
        id: 'summed-loss',
        message: 'your loss and gradients are T·B times too large: that is the sum over the predictions, not the mean. The recipe (lr = 1, θ = 1) is tuned for the mean loss',
        wrong: stepWith({ sum: true }),
      },
      {
        id: 'state-before',
        message: 'the state you return is the one the minibatch started from: the next minibatch would begin where this one began. Return the state after the last time step',
        wrong: (params, batch, state) => {
          const r = autogradStep(params, batch, state);
          r.state.dispose();
          return { ...r, state };
        },
      },
      {
        id: 'variable-names',
        message: "your gradients are keyed by tfjs's internal variable names ('0', '1', …, what tf.variableGrads returns), so nothing can find the gradient of W_xh. Return them by parameter name: rw.mapParams(params, (v) => grads[v.name])",
        wrong: (params, batch, state) => {
          const r = autogradStep(params, batch, state);
          return { ...r, grads: Object.fromEntries(PARAM_NAMES.map((n) => [params[n].name, r.grads[n]])) as unknown as Grads };
        },
      },
      {
        id: 'list',
        message: 'your gradients are a list, so sgd and clipping cannot tell which is which. Return them by parameter name, { W_xh, W_hh, b_h, W_hq, b_q }: rw.mapParams(params, (v) => grads[v.name])',
        wrong: (params, batch, state) => {
          const r = autogradStep(params, batch, state);
          return { ...r, grads: PARAM_NAMES.map((n) => r.grads[n]) as unknown as Grads };
        },
      },
      {
        id: 'leaks-inputs',
        message: 'the numbers are right, but tensors made outside the gradient computation (the minibatch as tensors, the labels) are never freed, so every minibatch leaks a few. Create them inside a tf.tidy, or dispose them',
        wrong: (params, batch, state) => {
          const { batchSize: B, numSteps: T } = batch;
          const vars = paramList(params);
          const X = tf.tensor2d(batch.X, [B, T], 'int32');
          const labels = tf.tensor1d(timeMajorLabels(batch.Y, B, T), 'int32');
          let finalState: tf.Tensor2D | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const out = rnn(oneHotTimeMajor(X, params.W_xh.shape[0]), state, params);
            finalState = tf.keep(out.state);
            return crossEntropy(out.logits, labels);
          }, vars);
          const loss = value.dataSync()[0];
          value.dispose();
          return { loss, grads: mapParams(params, (v) => grads[v.name]), state: finalState! };
        },
      },
    ],
    advice: 'Compare with rw.autogradStep step by step: one-hot time-major inputs, rw.rnn from the given state, rw.crossEntropy with time-major labels, tf.variableGrads over rw.paramList(params), the gradients by parameter name',
  },
  ([params, , state], r, added) => {
    const leakedTensors = added - returnedTensors(r, [state, ...paramList(params)]);
    return { loss: r?.loss, grads: gradsObserved(r?.grads, params), state: take(r?.state), leakedTensors };
  },
);

// ---------------------------------------------------------------------------------------------
// Exercise 7.3 · trainEpoch(model, data, cfg, rng): one epoch of the recipe.

/** What the learner's epoch returns: the mean per-token loss over the epoch, and exp of it. */
export interface EpochResult {
  loss: number;
  perplexity: number;
}

/** The learner's signature: the library's trainEpoch without the epoch number, the callbacks and the timings. */
export type TrainEpochFn = (model: RNNModelScratch, data: SeqDataLoader, cfg: RNNConfig, rng: Rng) => Promise<EpochResult>;
type EpochArgs = Parameters<TrainEpochFn>;

/** rw.trainEpoch, seen through the learner's signature. */
async function referenceEpoch(model: RNNModelScratch, data: SeqDataLoader, cfg: RNNConfig, rng: Rng): Promise<EpochResult> {
  const m = await trainEpoch(model, data, cfg, 1, rng);
  if (m === null) throw new Error('rw.trainEpoch stopped part-way'); // only with a shouldStop callback, which the check never passes
  return { loss: m.loss, perplexity: m.perplexity };
}

// A made-up text of 147 characters (no corpus is copied into the project): enough for a few minibatches of a tiny model.
const TEXT = [
  'a small recurrent net reads one letter at a time and keeps a state that remembers',
  'what it has read so far so that the next letter is easier to guess',
];

function epochCase(name: string, overrides: Partial<RNNConfig> & { partition: Partition }, seed: number): CheckCase<EpochArgs> {
  return {
    name,
    args: () => {
      const cfg = makeConfig({ numHiddens: 8, batchSize: 3, numSteps: 5, path: 'autograd', seed, ...overrides });
      const { corpus, vocab } = buildCorpus(TEXT);
      const data = new SeqDataLoader(corpus, vocab, cfg.batchSize, cfg.numSteps, cfg.partition);
      const model = new RNNModelScratch(vocab.size, cfg.numHiddens, { seed });
      tf.tidy(() => model.params.W_hh.assign(tf.mul(model.params.W_hh, 30))); // a recurrence strong enough that the carried state matters
      return [model, data, cfg, new Rng(seed + 1)];
    },
  };
}

/** The epoch with its pieces swappable, for the catalogue of mistakes. Written like the solution. */
function epochWith(opts: {
  state?: 'reset-always' | 'never-reset';
  clip?: 'none' | 'per-tensor';
  lr?: 'none';
  report?: 'last-minibatch' | 'mean-of-perplexities';
  leak?: 'gradients';
}): TrainEpochFn {
  return async (model, data, cfg, rng) => {
    let state: tf.Tensor2D | null = null;
    let lossSum = 0;
    let tokens = 0;
    let lastLoss = NaN;
    const perplexities: number[] = [];
    for (const batch of data.epoch(rng)) {
      const reset = opts.state === 'reset-always' ? true : opts.state === 'never-reset' ? false : cfg.resetState;
      if (state === null || reset) {
        state?.dispose();
        state = initRNNState(batch.batchSize, model.numHiddens);
      }
      const out = autogradStep(model.params, batch, state);
      state.dispose();
      state = out.state;
      const clipped =
        opts.clip === 'none' ? mapParams(out.grads, (g) => g.clone()) : opts.clip === 'per-tensor' ? clipPerTensor(out.grads, cfg.theta) : gradClipping(out.grads, cfg.theta).grads;
      sgd(model.params, clipped, opts.lr === 'none' ? 1 : cfg.lr);
      if (opts.leak !== 'gradients') tf.dispose([out.grads, clipped]);
      const n = batch.batchSize * batch.numSteps;
      lossSum += out.loss * n;
      tokens += n;
      lastLoss = out.loss;
      perplexities.push(perplexity(out.loss));
    }
    state?.dispose();
    const loss = opts.report === 'last-minibatch' ? lastLoss : lossSum / tokens;
    const ppl = opts.report === 'mean-of-perplexities' ? perplexities.reduce((a, b) => a + b, 0) / perplexities.length : perplexity(loss);
    return { loss, perplexity: ppl };
  };
}

type EpochObservation = { loss: unknown; perplexity: unknown; params: Record<string, tf.Tensor>; leakedTensors: number };

export const trainEpochCheck = defineObservedAsyncCheck<EpochArgs, EpochResult, EpochObservation>(
  {
    name: 'trainEpoch',
    exercise: '7.3',
    reference: referenceEpoch,
    referenceName: 'rw.trainEpoch (loss, perplexity and the parameters after one epoch)',
    cases: [
      epochCase('sequential partition, state carried, lr = 0.5, θ = 1', { partition: 'sequential', lr: 0.5, theta: 1 }, 1),
      epochCase('random partition, state reset, lr = 0.5, θ = 1', { partition: 'random', lr: 0.5, theta: 1 }, 2),
      epochCase('sequential partition, lr = 4, θ = 0.1: clipping on every minibatch', { partition: 'sequential', lr: 4, theta: 0.1 }, 3),
    ],
    mistakes: [
      {
        id: 'reset-every-minibatch',
        message: "with sequential partitioning each minibatch continues the text where the previous one stopped, but your epoch starts every minibatch from zeros (the notes' forward does that too). Carry the state unless cfg.resetState says to reset it",
        wrong: epochWith({ state: 'reset-always' }),
      },
      {
        id: 'never-reset',
        message: 'with random partitioning neighbouring minibatches are unrelated, yet your epoch carries the state from one into the next. Start each minibatch from a zero state when cfg.resetState is true',
        wrong: epochWith({ state: 'never-reset' }),
      },
      {
        id: 'no-clipping',
        message: 'your updates used the gradients as they came out of backpropagation: clipping is missing, or it happens after the update, when it no longer changes anything. Clip between computing the gradients and sgd, with cfg.theta',
        wrong: epochWith({ clip: 'none' }),
      },
      {
        id: 'per-tensor-clipping',
        message: 'you clipped each gradient tensor to norm θ on its own, which changes the direction of the step (lesson 04). Clip by the global norm over all five gradients together',
        wrong: epochWith({ clip: 'per-tensor' }),
      },
      {
        id: 'no-lr',
        message: 'your updates ignore cfg.lr: the parameters moved as if the learning rate were 1. Pass the configured learning rate to the update',
        wrong: epochWith({ lr: 'none' }),
      },
      {
        id: 'last-minibatch-loss',
        message: "your loss is the last minibatch's, not the epoch's: it jumps around from one epoch to the next. Report the mean loss per token over every minibatch of the epoch",
        wrong: epochWith({ report: 'last-minibatch' }),
      },
      {
        id: 'mean-of-perplexities',
        message: 'your loss is right but your perplexity is the mean of the minibatches’ perplexities, which is always a little higher. Perplexity is exp of the mean loss per token over the epoch (lesson 02)',
        wrong: epochWith({ report: 'mean-of-perplexities' }),
      },
      {
        id: 'leaks-gradients',
        message: 'the numbers are right, but every minibatch leaves its gradients and their clipped copies in memory, so a long run slows down and finally runs out. Dispose both once the update is done',
        wrong: epochWith({ leak: 'gradients' }),
      },
    ],
    advice: 'Go through the recipe in order for each minibatch: state (reset or carry), rw.autogradStep, rw.gradClipping with cfg.theta, rw.sgd with cfg.lr, then add loss × tokens to the totals',
  },
  ([model], r, added) => ({
    loss: r?.loss,
    perplexity: r?.perplexity,
    params: snapshot(model.params),
    leakedTensors: added,
  }),
);

/** Lesson 07's checks, by the names the notebook calls them: rw.check.sgd(sgd), await rw.check.trainEpoch(trainEpoch). */
export const implementationChecks = { sgd: sgdCheck, autogradStep: autogradStepCheck, trainEpoch: trainEpochCheck };
