// rnn-workbook: a character-level RNN from scratch — the library the lessons import as `rw`.
// Its API is chosen, not collected: each lesson's vocabulary, in d2l's names, one line each.
// Everything else (checkpoint bytes, plotly embedding, threads, the command-line programs) is
// reached through its own module file (tests and scripts import src/<module>.ts directly).
// test/api.test.ts holds this list to the notebooks: every `rw.X` they use is here, no internal is.

// ---- Every lesson's first cells -------------------------------------------------------------------
/** Picks the fastest tfjs backend available (native, wasm, cpu) and says which, once. */
export { initBackend, type BackendName } from './backend';
/** Embeds plotly.js in the notebook once, so every later chart draws, online or not. */
export { plotSetup } from './notebook';
/** A lesson's settings: `full` over d2l's DEFAULTS, `quick` on top when the notebook tests run it. */
export { lessonConfig } from './notebook';
/** True when the notebook tests run the lessons with their quick settings. */
export { isQuickRun } from './notebook';
/** Every setting of a run, with d2l's recipe as the defaults (numHiddens, batchSize, numSteps, lr, θ …). */
export { DEFAULTS, type RNNConfig } from './config';
/** DEFAULTS with some settings changed, checked: a bad one throws ConfigError saying how to fix it. */
export { makeConfig, ConfigError } from './config';
/** The choices a config makes: how minibatches are cut, which gradient path, how gradients are clipped. */
export type { Partition, TrainPath, ClipMode } from './config';

// ---- 01 RNN overview: text → tokens → one-hot inputs → the recurrence → logits --------------------
/** The Time Machine's lines, lowercased to letters and spaces (downloaded once, checked). */
export { readTimeMachine } from './corpus';
/** A text file's lines (The Time Machine unless `corpusFile` is given), preprocessed the same way. */
export { readCorpusLines } from './corpus';
/** Lines → tokens: characters (the course's) or words, as d2l's `tokenize`. */
export { tokenize } from './vocab';
/** Tokens ↔ indices, most frequent first, with <unk> = 0, as d2l's `Vocab`. */
export { Vocab } from './vocab';
/** The corpus as token indices and its vocabulary, as d2l's `load_corpus_time_machine`. */
export { buildCorpus } from './batches';
/** Minibatches of the corpus with their vocabulary, as d2l's `load_data_time_machine`. */
export { loadDataTimeMachine, SeqDataLoader, type Batch } from './batches';
/** The seeded random numbers behind every draw (init, offsets, shuffles, sampling). */
export { Rng } from './random';
/** The five parameters W_xh, W_hh, b_h, W_hq, b_q, in that order, and their shapes for (V, H). */
export { PARAM_NAMES, paramShapes, paramSizes, numParams, type ParamName, type RNNParams, type ParamTensors } from './params';
/** Gradients by parameter name, as tf.variableGrads gives them; the same function applied to every parameter. */
export { mapParams, type Grads } from './params';
/** All five parameters as one flat Float32Array in PARAM_NAMES order, and back (views, no copies). */
export { packParams, unpackParams } from './params';
/** The parameters as a list, in PARAM_NAMES order. */
export { paramList } from './model';
/** Token indices (B, T) → one-hot inputs (T, B, V), time-major as d2l. */
export { oneHotTimeMajor } from './model';
/** One step of the recurrence: h_t = tanh(x_t W_xh + h_{t−1} W_hh + b_h). */
export { rnnStep } from './model';
/** The recurrence over T steps: logits (T·B, V) = h_t W_hq + b_q, and the final state. */
export { rnn } from './model';
/** The model: parameters, a forward pass and the initial state, as d2l's `RNNModelScratch`. */
export { RNNModelScratch } from './model';
/** Text after a prefix: warm the state up on it, then feed each prediction back in (06 explains). */
export { predict } from './predict';
/** Charts as plotly figures: lines (one per named series), bars, and matrices as colours. */
export { lineChart, barChart, heatmap, type Figure, type ChartOptions } from './plot';
/** Shows a figure below the running cell. */
export { plot } from './notebook';

// ---- 02 Training output: what to watch while a model learns ---------------------------------------
/** Trains a model with d2l's recipe, reporting every step and epoch through callbacks. */
export { train, type TrainCallbacks, type TrainResult, type EpochMetrics, type StepMetrics } from './train';
/** A chart redrawn in place as training goes, e.g. the perplexity curve. */
export { LiveChart } from './notebook';
/** An epoch's perplexity: exp of the token-weighted mean loss of its minibatches. */
export { epochPerplexity } from './metrics';
/** An epoch's gradient norms in a few numbers: mean, min, max, and the share clipping scales down. */
export { summarizeGradNorms, type GradNormSummary } from './metrics';
/** The perplexity of guessing by character frequency alone: the baseline a model must beat. */
export { unigramPerplexity } from './metrics';
/** Perplexity on the held-out text, which the model never trains on. */
export { validationPerplexity } from './train';

// ---- 03 Loss -----------------------------------------------------------------------------------------
/** Labels (B, T) in the logits' time-major order (T·B). */
export { timeMajorLabels } from './loss';
/** Mean cross-entropy of the logits against the labels. */
export { crossEntropy } from './loss';
/** exp(mean loss): the number of characters the model is as unsure as choosing among. */
export { perplexity } from './loss';
/** Loss and gradients of one minibatch by automatic differentiation through every step. */
export { autogradStep, type StepResult } from './autograd';
/** The same loss and gradients by backpropagation through time derived by hand (07 explains). */
export { fastStep } from './train';
/** What a training step is: (parameters, minibatch, state) → loss, gradients, final state. */
export type { StepFn } from './train';

// ---- 04 Gradient clipping --------------------------------------------------------------------------
/** The L2 norm of all gradients taken together. */
export { globalNorm } from './clipping';
/** d2l's clipping: scale every gradient by θ / ‖g‖ when the global norm exceeds θ. */
export { gradClipping } from './clipping';
/** min-char-rnn's clipping: each entry into [−limit, limit]. */
export { clipByValue } from './clipping';
/** Each parameter's gradient clipped to norm θ on its own. */
export { clipPerTensor } from './clipping';
/** The clipping a config names ('global', 'value' or 'per-tensor'). */
export { clipGradients } from './clipping';
/** Training stopped: a loss or gradient was no longer finite. */
export { DivergenceError } from './train';

// ---- 05 State initialization -----------------------------------------------------------------------
/** A zero state (B, H), as d2l's `init_rnn_state`. */
export { initRNNState } from './state';
/** The state a minibatch starts from: zero, or the previous one carried over with its gradient cut. */
export { nextState } from './state';
/** Minibatches from random offsets, as d2l's `seq_data_iter_random`. */
export { seqDataIterRandom } from './batches';
/** Minibatches that continue each other row by row, as d2l's `seq_data_iter_sequential`. */
export { seqDataIterSequential } from './batches';

// ---- 06 Prediction ---------------------------------------------------------------------------------
/** The state after reading a prefix, as d2l's warm-up loop. */
export { warmUp } from './predict';
/** Generation step by step: each step's input, probabilities and choice. */
export { predictSteps, type PredictOptions, type PredictionStep } from './predict';
/** The next token from logits: greedy at temperature 0, else sampled from softmax(o / T). */
export { chooseNext } from './predict';
/** softmax(o / T) as probabilities. */
export { softmax } from './predict';
/** A prefix or setting that cannot be predicted from, with what to change. */
export { PredictError } from './predict';

// ---- 07 Implementation: the whole recipe ------------------------------------------------------------
/** Hand-derived BPTT on plain tensors (what fastStep runs, on one thread or split across two). */
export { bpttStep } from './bptt';
/** Plain SGD: p ← p − lr · g. */
export { sgd } from './train';
/** One epoch over the minibatches: loss, gradients, clipping, SGD. */
export { trainEpoch } from './train';
/** A model saved by `npm start -- --save FILE`, and the model inside it. */
export { loadCheckpoint, modelFromCheckpoint, CheckpointError, type Checkpoint } from './checkpoint';

// ---- Checks: one per exercise ------------------------------------------------------------------------
/** `rw.check.<name>(yourFunction)`: tests an exercise and says what is wrong, not only that it is. */
export { check } from './check';
/** What an exercise stub throws until it is written, and the error it throws. */
export { notWrittenYet, NotWrittenYet } from './check';
