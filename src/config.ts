// One typed configuration for the whole workbook, with d2l's recipe as the defaults
// (d2l-zh 8.5 / d2l-en 9.5). Every lesson, the CLI and the tests build theirs with makeConfig()
// (the lessons through notebook.ts's lessonConfig, which shortens them under the notebook tests).

export type Partition = 'sequential' | 'random';
export type TrainPath = 'fast' | 'autograd';
export type ClipMode = 'global' | 'value' | 'per-tensor';

export interface RNNConfig {
  numHiddens: number; // H: size of the hidden state h_t
  batchSize: number; // B: sequences trained side by side
  numSteps: number; // T: time steps per sequence (how far BPTT reaches back)
  maxTokens: number; // characters of the corpus trained on, from its start; 0 = all of it (minus numVal)
  // Characters held out for validation, right after the training ones (d2l-en 9.5's num_val = 5000);
  // never trained on, scored every epoch as validation perplexity. 0 = no validation.
  numVal: number;
  numEpochs: number;
  lr: number; // SGD step size; d2l uses 1 with the mean loss
  theta: number; // gradient-clipping threshold on the global L2 norm; 0 = no clipping
  clipMode: ClipMode; // 'global' (d2l), 'value' (min-char-rnn's ±θ per entry) or 'per-tensor' norms
  partition: Partition; // how minibatches are cut from the corpus (05-state-initialization)
  resetState: boolean; // fresh zero state per minibatch; false carries it over (sequential only)
  path: TrainPath; // 'fast' = hand-derived BPTT, 'autograd' = tf.variableGrads through every step
  seed: number; // seeds parameter init, batch offsets, shuffles and sampling
  sampleEvery: number; // print a sample every N epochs (0 = never)
  prefix: string; // what the samples start from
  numPreds: number; // characters generated per sample
}

/** d2l's recipe: 500 epochs of 35-step sequences, batch 32, 512 hidden units, lr 1, θ 1. */
export const DEFAULTS: Readonly<RNNConfig> = Object.freeze({
  numHiddens: 512,
  batchSize: 32,
  numSteps: 35,
  maxTokens: 10000, // d2l-zh 8.5's recipe trains on the first 10,000 characters; the validation text follows them
  numVal: 5000,
  numEpochs: 500,
  lr: 1,
  theta: 1,
  clipMode: 'global',
  partition: 'sequential',
  resetState: false,
  path: 'fast',
  seed: 0,
  sampleEvery: 10,
  prefix: 'time traveller',
  numPreds: 50,
});

/** Small presets for fast iteration (nanoGPT-style): tests use `tiny`; `d2l` is the recipe itself. */
export const PRESETS = {
  d2l: {},
  tiny: { numHiddens: 32, batchSize: 8, numSteps: 10, maxTokens: 2000, numEpochs: 5, sampleEvery: 0 },
} satisfies Record<string, Partial<RNNConfig>>;

/**
 * A bad setting, with what was wrong and how to fix it. The CLI turns it into exit code 2, naming
 * the flag instead of `key`: the message is `${key} ${detail}`, so it can swap the first word.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly detail: string,
    readonly key: keyof RNNConfig | null = null,
  ) {
    super(key ? `${key} ${detail}` : detail);
  }
}

/** Characters generated per sample at most (generate's --length has the same bound): it never looks hung. */
export const MAX_PREDS = 100_000;
/** Seeds are 32-bit (random.ts keeps 32 bits of state): larger ones would silently wrap. */
export const MAX_SEED = 2 ** 32 - 1;
/** The largest vocabulary preprocessing can produce: <unk>, space and a–z. */
export const MAX_VOCAB = 28;
/** The wasm backend addresses at most 4 GiB; the other backends are held to the same budget. */
export const MEMORY_BUDGET_BYTES = 4 * 2 ** 30;

/**
 * Bytes a training run of this size needs at least, for vocabularies up to MAX_VOCAB. The P
 * parameters exist about eight times over (parameters, gradients, clipped gradients, SGD
 * temporaries, the helper thread's copy and shared buffer, the checkpoint snapshot and its bytes);
 * one minibatch keeps its states, their gradients, logits, probabilities and one-hot inputs for
 * BPTT: about 3·H + 3·V floats per prediction, T·B predictions, doubled for the autograd tape.
 */
export function memoryNeeded(c: Pick<RNNConfig, 'numHiddens' | 'batchSize' | 'numSteps'>, V = MAX_VOCAB): number {
  const H = c.numHiddens;
  const P = 2 * V * H + H * H + H + V;
  const perPrediction = 2 * (3 * H + 3 * V);
  return 4 * (8 * P + c.numSteps * c.batchSize * perPrediction);
}

export function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(n / 2 ** 20)} MiB`;
}

/**
 * Merges overrides into DEFAULTS and validates. `resetState` follows the partition unless given:
 * random partitioning has no continuity to carry a state across, sequential does.
 */
export function makeConfig(overrides: Partial<RNNConfig> = {}): RNNConfig {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new ConfigError(`a config is an object of settings, e.g. { numHiddens: 256 } (got ${JSON.stringify(overrides)})`);
  }
  const unknown = Object.keys(overrides).filter((k) => !Object.hasOwn(DEFAULTS, k)); // not `in`: it would accept "constructor"
  if (unknown.length) {
    throw new ConfigError(`unknown config key ${unknown.map((k) => `'${k}'`).join(', ')}; known keys: ${Object.keys(DEFAULTS).join(', ')}`);
  }
  const partition = overrides.partition ?? DEFAULTS.partition;
  const cfg: RNNConfig = { ...DEFAULTS, resetState: partition === 'random', ...stripUndefined(overrides) };
  validate(cfg);
  return cfg;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(c: RNNConfig): void {
  const positiveInt: [keyof RNNConfig, string][] = [
    ['numHiddens', `--hidden ${DEFAULTS.numHiddens}`],
    ['batchSize', `--batch-size ${DEFAULTS.batchSize}`],
    ['numSteps', `--num-steps ${DEFAULTS.numSteps}`],
    ['numEpochs', `--epochs ${DEFAULTS.numEpochs}`],
  ];
  for (const [key, example] of positiveInt) {
    const v = c[key] as number;
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`must be a positive integer (got ${v}); e.g. ${example}`, key);
  }
  const nonNegativeInt: [keyof RNNConfig, string][] = [
    ['maxTokens', `use 0 for the whole corpus, e.g. --max-tokens ${DEFAULTS.maxTokens}`],
    ['numVal', `use 0 to train without validation, e.g. --num-val ${DEFAULTS.numVal}`],
    ['seed', `e.g. --seed ${DEFAULTS.seed}`],
    ['sampleEvery', 'use 0 to turn samples off'],
    ['numPreds', `e.g. --num-preds ${DEFAULTS.numPreds}`],
  ];
  for (const [key, hint] of nonNegativeInt) {
    const v = c[key] as number;
    if (!Number.isInteger(v) || v < 0) throw new ConfigError(`must be a whole number ≥ 0 (got ${v}); ${hint}`, key);
  }
  if (c.seed > MAX_SEED) throw new ConfigError(`must be below 2^32 = ${MAX_SEED + 1} (got ${c.seed}): seeds are 32-bit; e.g. --seed ${DEFAULTS.seed}`, 'seed');
  if (c.numPreds > MAX_PREDS) throw new ConfigError(`must be at most ${MAX_PREDS} (got ${c.numPreds}), like generate's --length; e.g. --num-preds ${DEFAULTS.numPreds}`, 'numPreds');
  checkMemory(c);
  if (typeof c.lr !== 'number' || !Number.isFinite(c.lr) || c.lr <= 0) throw new ConfigError(`must be a finite number > 0 (got ${c.lr}); d2l uses --lr ${DEFAULTS.lr}`, 'lr');
  if (typeof c.theta !== 'number' || !Number.isFinite(c.theta) || c.theta < 0) {
    throw new ConfigError(`(the clipping threshold) must be ≥ 0 (got ${c.theta}); use --clip ${DEFAULTS.theta}, or --clip 0 to turn clipping off`, 'theta');
  }
  if (c.partition !== 'sequential' && c.partition !== 'random') throw new ConfigError(`must be 'sequential' or 'random' (got '${c.partition}')`, 'partition');
  if (c.path !== 'fast' && c.path !== 'autograd') throw new ConfigError(`must be 'fast' or 'autograd' (got '${c.path}')`, 'path');
  if (!['global', 'value', 'per-tensor'].includes(c.clipMode)) throw new ConfigError(`must be 'global', 'value' or 'per-tensor' (got '${c.clipMode}')`, 'clipMode');
  if (c.partition === 'random' && !c.resetState) {
    throw new ConfigError('random partitioning needs resetState: neighbouring minibatches are unrelated, so a carried state would be meaningless');
  }
  if (typeof c.resetState !== 'boolean') throw new ConfigError(`must be true or false (got ${JSON.stringify(c.resetState)})`, 'resetState');
  if (typeof c.prefix !== 'string') throw new ConfigError(`must be a string, e.g. --prefix "${DEFAULTS.prefix}"`, 'prefix');
}

/** Refuses, before anything is allocated, a model or minibatch that would not fit in memory. */
function checkMemory(c: RNNConfig): void {
  const need = memoryNeeded(c);
  if (need <= MEMORY_BUDGET_BYTES) return;
  const fits = (H: number) => memoryNeeded({ ...c, numHiddens: H }) <= MEMORY_BUDGET_BYTES;
  let [lo, hi] = [0, c.numHiddens]; // the largest H that fits, by bisection: fits(lo), !fits(hi)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  const fix = lo === 0 ? 'a smaller --batch-size or --num-steps' : `--hidden ${lo >= 1024 ? lo - (lo % 256) : lo} or less`;
  throw new ConfigError(
    `a model of H = ${c.numHiddens} hidden units trained on minibatches of B × T = ${c.batchSize} × ${c.numSteps} needs about ${formatBytes(need)} ` +
      `of memory, over the ${formatBytes(MEMORY_BUDGET_BYTES)} tfjs can use; try ${fix}`,
  );
}
