// One typed configuration for the whole workbook, with d2l's recipe as the defaults
// (d2l-zh 8.5 / d2l-en 9.5). Every lesson, the CLI and the tests build theirs with makeConfig().

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

/** Small presets for fast iteration (nanoGPT-style): tests use `tiny`, lessons start from `lesson`. */
export const PRESETS = {
  d2l: {},
  lesson: { numHiddens: 256, numEpochs: 100 },
  tiny: { numHiddens: 32, batchSize: 8, numSteps: 10, maxTokens: 2000, numEpochs: 5, sampleEvery: 0 },
} satisfies Record<string, Partial<RNNConfig>>;

/** A bad setting, with what was wrong and how to fix it. The CLI turns it into exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Merges overrides into DEFAULTS and validates. `resetState` follows the partition unless given:
 * random partitioning has no continuity to carry a state across, sequential does.
 */
export function makeConfig(overrides: Partial<RNNConfig> = {}): RNNConfig {
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
    ['numHiddens', '--hidden 512'],
    ['batchSize', '--batch-size 32'],
    ['numSteps', '--num-steps 35'],
    ['numEpochs', '--epochs 500'],
  ];
  for (const [key, example] of positiveInt) {
    const v = c[key] as number;
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`${key} must be a positive integer (got ${v}); e.g. ${example}`);
  }
  const nonNegativeInt: [keyof RNNConfig, string][] = [
    ['maxTokens', 'use 0 for the whole corpus, e.g. --max-tokens 10000'],
    ['numVal', 'use 0 to train without validation, e.g. --num-val 5000'],
    ['seed', 'e.g. --seed 0'],
    ['sampleEvery', 'use 0 to turn samples off'],
    ['numPreds', 'e.g. 50'],
  ];
  for (const [key, hint] of nonNegativeInt) {
    const v = c[key] as number;
    if (!Number.isInteger(v) || v < 0) throw new ConfigError(`${key} must be a whole number ≥ 0 (got ${v}); ${hint}`);
  }
  if (!Number.isFinite(c.lr) || c.lr <= 0) throw new ConfigError(`lr must be a finite number > 0 (got ${c.lr}); d2l uses --lr 1`);
  if (!Number.isFinite(c.theta) || c.theta < 0) throw new ConfigError(`theta (the clipping threshold) must be ≥ 0 (got ${c.theta}); use --clip 1, or --clip 0 to turn clipping off`);
  if (c.partition !== 'sequential' && c.partition !== 'random') throw new ConfigError(`partition must be 'sequential' or 'random' (got '${c.partition}')`);
  if (c.path !== 'fast' && c.path !== 'autograd') throw new ConfigError(`path must be 'fast' or 'autograd' (got '${c.path}')`);
  if (!['global', 'value', 'per-tensor'].includes(c.clipMode)) throw new ConfigError(`clipMode must be 'global', 'value' or 'per-tensor' (got '${c.clipMode}')`);
  if (c.partition === 'random' && !c.resetState) {
    throw new ConfigError('random partitioning needs resetState: neighbouring minibatches are unrelated, so a carried state would be meaningless');
  }
  if (typeof c.resetState !== 'boolean') throw new ConfigError(`resetState must be true or false (got ${JSON.stringify(c.resetState)})`);
  if (typeof c.prefix !== 'string') throw new ConfigError('prefix must be a string, e.g. --prefix "time traveller"');
}

/**
 * The configuration a lesson runs with: `full` on top of DEFAULTS, or — when the notebook tests
 * execute it with RNN_WORKBOOK_PRESET=test — `quick` on top of that, so every cell still runs
 * but in seconds. The HTML lessons are built with `full`.
 */
export function lessonConfig(full: Partial<RNNConfig> = {}, quick: Partial<RNNConfig> = {}): RNNConfig {
  const testing = process.env.RNN_WORKBOOK_PRESET === 'test';
  return makeConfig({ ...full, ...(testing ? quick : {}) });
}

/** True when the notebook tests run the lessons with their quick settings. */
export function isQuickRun(): boolean {
  return process.env.RNN_WORKBOOK_PRESET === 'test';
}
