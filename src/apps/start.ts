// `npm start -- [flags]`: trains d2l's recipe on The Time Machine and prints predictions; --save
// keeps checkpoints (periodically, at the end, on Ctrl-C) and --resume continues one exactly.
// Bad input exits with code 2 and one line saying what is wrong; nothing is written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend';
import { loadDataTimeMachine, type SeqDataLoader } from '../batches';
import {
  assertSameVocab,
  checkpointOf,
  isCheckpointFile,
  isReadOnly,
  loadCheckpoint,
  modelFromCheckpoint,
  nonFiniteParam,
  progressFromCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from '../checkpoint';
import { ConfigError, DEFAULTS, makeConfig, type RNNConfig } from '../config';
import { preprocessLine } from '../corpus';
import { RNNModelScratch } from '../model';
import { predict, preparePrefix } from '../predict';
import {
  DivergenceError,
  startProgress,
  train,
  type EpochMetrics,
  type StepMetrics,
  type TrainCallbacks,
  type TrainProgress,
  type TrainResult,
} from '../train';
import { checkEnvironment, choice, exitCodeFor, filePath, flagLines, num, parseFlags, runAsMain, UsageError, type FlagHelp } from './args';
import { catchStopSignals, runInWorker, say, StopFlag } from './interrupt';

/** The prefixes samples start from unless --prefix is given. */
const DEFAULT_PREFIXES = [DEFAULTS.prefix, 'traveller'];
/** Epochs between checkpoints unless --save-every is given. */
const SAVE_EVERY = 10;

/** The flags that set a config key, in --help's order: the ConfigError of a key names its flag. */
const CONFIG_FLAGS: (FlagHelp & { key: keyof RNNConfig })[] = [
  { flag: 'epochs', arg: 'N', key: 'numEpochs', help: 'epochs to train (in all, counting resumed ones)' },
  { flag: 'hidden', arg: 'N', key: 'numHiddens', help: 'hidden units H' },
  { flag: 'batch-size', arg: 'N', key: 'batchSize', help: 'sequences per minibatch B' },
  { flag: 'num-steps', arg: 'N', key: 'numSteps', help: 'time steps per sequence T' },
  { flag: 'lr', arg: 'X', key: 'lr', help: 'SGD learning rate' },
  { flag: 'clip', arg: 'X', key: 'theta', help: 'clip gradients to global norm X; 0 = off' },
  { flag: 'partition', arg: 'P', key: 'partition', help: 'sequential | random' },
  { flag: 'path', arg: 'P', key: 'path', help: 'fast (hand-derived BPTT) | autograd' },
  { flag: 'max-tokens', arg: 'N', key: 'maxTokens', help: 'characters of the corpus used; 0 = all' },
  { flag: 'num-val', arg: 'N', key: 'numVal', help: 'characters after the training ones held out for validation;\nvalidation perplexity is printed every epoch; 0 = none' },
  { flag: 'seed', arg: 'N', key: 'seed', help: 'seed for init, batching and sampling' },
  { flag: 'prefix', arg: 'TEXT', key: 'prefix', help: 'prefix for samples; repeat for several' },
  { flag: 'num-preds', arg: 'N', key: 'numPreds', help: 'characters generated per prediction' },
];

export const HELP = `Train a character-level RNN from scratch (d2l's recipe) and generate text.

Usage: npm start -- [flags]

${flagLines([
  ...CONFIG_FLAGS.filter((f) => f.key !== 'seed' && f.key !== 'prefix' && f.key !== 'numPreds').map((f) => ({ ...f, default: DEFAULTS[f.key] as string | number })),
  { flag: 'corpus', arg: 'FILE', help: 'train on this text file instead of The Time Machine' },
  ...CONFIG_FLAGS.filter((f) => f.key === 'seed' || f.key === 'prefix' || f.key === 'numPreds').map((f) => ({
    ...f,
    default: f.key === 'prefix' ? DEFAULT_PREFIXES.map((p) => JSON.stringify(p)).join(', ') : (DEFAULTS[f.key] as string | number),
  })),
  { flag: 'save', arg: 'FILE', help: "keep checkpoints in FILE: every --save-every epochs, at the end, on Ctrl-C;\nnever replaces another run's checkpoint (see --overwrite) or a read-only file" },
  { flag: 'save-every', arg: 'N', help: 'epochs between checkpoints; 0 = only at the end and when stopped', default: SAVE_EVERY },
  { flag: 'overwrite', help: 'let --save replace a checkpoint of another run' },
  { flag: 'resume', arg: 'FILE', help: 'continue the run saved in FILE (its model, vocab, RNG state and history);\nits settings apply unless given as flags, e.g. --epochs 1000 --lr 0.5' },
  { flag: 'json', help: 'last stdout line is one JSON object with the results' },
  { flag: 'help', help: 'this text' },
])}

Ctrl-C, SIGTERM and SIGHUP stop at the end of the current minibatch and, with --save, write the
last completed epoch to FILE; a second one quits at once (FILE keeps its last good checkpoint).
A closed or full stdout (| head, > /dev/full) only silences the output: training goes on and saves.
Generate from a checkpoint: npm run generate -- --checkpoint FILE --prefix "${DEFAULTS.prefix}"

Exit codes: 0 done, 2 bad input (one line on stderr says what to fix; nothing is written),
            3 training diverged (the last good checkpoint is kept),
            130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP: stopped, after saving with --save

Environment: RNN_WORKBOOK_DATA  folder holding timemachine.txt (downloaded there if missing)
             RNN_BACKEND        force tensorflow | wasm | cpu
             RNN_PARALLEL       0 keeps the fast path on one thread, 1 (default) uses two
             RNN_NATIVE         on wasm: 0 = XNNPACK matrix products, 1 = the native GEMM (required),
                                onednn | openblas; unset = the native GEMM when built`;

interface CliOptions {
  config: RNNConfig; // the flags over DEFAULTS
  overrides: Partial<RNNConfig>; // only the settings given as flags: they win over a resumed checkpoint's
  prefixes: string[];
  corpusFile?: string;
  prefixGiven: boolean; // false: the default prefixes, which a user's corpus may not spell
  save?: string;
  saveEvery: number;
  overwrite: boolean;
  resume?: string;
  json: boolean;
  help: boolean;
}

/** The flag behind each config key, so a ConfigError names what the user typed. */
export const FLAG_OF: Partial<Record<keyof RNNConfig, string>> = Object.fromEntries(CONFIG_FLAGS.map((f) => [f.key, `--${f.flag}`]));

/** makeConfig, with its errors naming the flag instead of the config key. */
function configFromFlags(settings: Partial<RNNConfig>): RNNConfig {
  try {
    return makeConfig(settings);
  } catch (err) {
    const flag = err instanceof ConfigError && err.key ? FLAG_OF[err.key] : undefined;
    if (flag) throw new UsageError(`${flag} ${err instanceof ConfigError ? err.detail : ''}`);
    throw err;
  }
}

/** Parses and validates argv (without node and the script) into options; throws UsageError/ConfigError. */
function parseCli(argv: string[]): CliOptions {
  const values = parseFlags(argv, {
    epochs: { type: 'string' },
    hidden: { type: 'string' },
    'batch-size': { type: 'string' },
    'num-steps': { type: 'string' },
    lr: { type: 'string' },
    clip: { type: 'string' },
    partition: { type: 'string' },
    path: { type: 'string' },
    'max-tokens': { type: 'string' },
    'num-val': { type: 'string' },
    corpus: { type: 'string' },
    seed: { type: 'string' },
    prefix: { type: 'string', multiple: true },
    'num-preds': { type: 'string' },
    save: { type: 'string' },
    'save-every': { type: 'string' },
    overwrite: { type: 'boolean' },
    resume: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  const prefixes = values.prefix ?? DEFAULT_PREFIXES;
  for (const p of prefixes) if (p.trim() === '') throw new UsageError('--prefix is empty; give some text, e.g. --prefix "time traveller"');
  const given: Partial<RNNConfig> = {
    numEpochs: num('epochs', values.epochs),
    numHiddens: num('hidden', values.hidden),
    batchSize: num('batch-size', values['batch-size']),
    numSteps: num('num-steps', values['num-steps']),
    lr: num('lr', values.lr),
    theta: num('clip', values.clip),
    partition: choice('partition', values.partition, ['sequential', 'random'] as const),
    path: choice('path', values.path, ['fast', 'autograd'] as const),
    maxTokens: num('max-tokens', values['max-tokens']),
    numVal: num('num-val', values['num-val']),
    seed: num('seed', values.seed),
    numPreds: num('num-preds', values['num-preds']),
    prefix: values.prefix?.[0],
  };
  const overrides = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<RNNConfig>;
  const config = configFromFlags({ ...overrides, prefix: prefixes[0] });
  const save = filePath('save', values.save);
  const saveEvery = num('save-every', values['save-every']) ?? SAVE_EVERY;
  if (!Number.isInteger(saveEvery) || saveEvery < 0) {
    throw new UsageError(`--save-every must be a whole number ≥ 0 (got ${values['save-every']}); e.g. --save-every 10, or 0 to save only at the end`);
  }
  if (values['save-every'] !== undefined && save === undefined) throw new UsageError('--save-every needs --save FILE to say where the checkpoints go');
  return {
    config,
    overrides,
    prefixes,
    prefixGiven: values.prefix !== undefined,
    corpusFile: filePath('corpus', values.corpus),
    save,
    saveEvery,
    overwrite: values.overwrite ?? false,
    resume: filePath('resume', values.resume),
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

/** A resumed run's config: the checkpoint's, with the flags given on top. The model's shape cannot change. */
function resumeConfig(ckpt: Checkpoint, overrides: Partial<RNNConfig>, file: string): RNNConfig {
  const H = ckpt.config.numHiddens;
  if (overrides.numHiddens !== undefined && overrides.numHiddens !== H) {
    throw new UsageError(`--hidden ${overrides.numHiddens} conflicts with checkpoint '${file}', whose model has ${H} hidden units; drop --hidden to resume it, or drop --resume to start afresh`);
  }
  const base: Partial<RNNConfig> = { ...ckpt.config };
  if (overrides.partition !== undefined) delete base.resetState; // let it follow the new partition
  const cfg = configFromFlags({ ...base, ...overrides });
  if (cfg.numEpochs < ckpt.epoch) {
    throw new UsageError(`--epochs ${cfg.numEpochs} is fewer than the ${ckpt.epoch} epochs checkpoint '${file}' has completed; pass --epochs ${ckpt.epoch} or more`);
  }
  return cfg;
}

/**
 * Refuses a --save target that cannot be written, or whose file would be lost: something other
 * than a checkpoint, a read-only file, or another run's checkpoint (unless `resuming` it or told
 * to `overwrite`).
 */
function checkSaveTarget(file: string, resuming: string | undefined, overwrite: boolean): void {
  const stat = statOrNull(file);
  if (stat?.isDirectory()) throw new UsageError(`--save '${file}' is a directory; give a file name, e.g. --save ${path.join(file, 'rnn.ckpt')}`);
  if (stat) {
    if (!stat.isFile()) throw new UsageError(`--save '${file}' exists and is not a regular file; choose another file name`);
    if (!isCheckpointFile(file)) {
      if (!readable(file)) throw new UsageError(`--save '${file}' exists and cannot be read (EACCES), so it cannot be checked before overwriting; choose another file name`);
      throw new UsageError(`--save '${file}' exists and is not a checkpoint; refusing to overwrite it, choose another file name`);
    }
    if (isReadOnly(file)) throw new UsageError(`--save '${file}' is read-only; choose another file name, or make it writable first (chmod u+w '${file}')`);
    if (!sameFile(file, resuming) && !overwrite) {
      throw new UsageError(`--save '${file}' already holds a checkpoint of another run; continue that run with --resume '${file}', choose another file name, or pass --overwrite to replace it`);
    }
  }
  const dir = path.dirname(path.resolve(file));
  let existing = dir;
  while (!statOrNull(existing)) existing = path.dirname(existing);
  if (!statOrNull(existing)!.isDirectory()) throw new UsageError(`--save '${file}': '${existing}' is a file, not a folder; give a path inside a folder, e.g. --save rnn.ckpt`);
  if (existing !== dir) throw new UsageError(`--save '${file}': the folder '${dir}' does not exist; create it first (mkdir -p '${dir}')`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`--save '${file}': the folder '${dir}' is not writable; choose another place`);
  }
}

function readable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether two paths name the same existing file (through symlinks and `./`). */
function sameFile(a: string, b: string | undefined): boolean {
  if (b === undefined) return false;
  const [sa, sb] = [statOrNull(a), statOrNull(b)];
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/**
 * Holds the run as it was at the last completed epoch (the only point a run can resume from
 * exactly) and writes it to --save when due. An epoch's snapshot is ~4 bytes per parameter.
 */
class CheckpointKeeper {
  private latest: Checkpoint | null = null;

  constructor(
    readonly file: string,
    readonly every: number,
    public savedEpoch: number | null, // the epoch `file` holds from this run (or the resume point)
  ) {}

  snapshot(ckpt: Checkpoint): void {
    this.latest = ckpt;
  }

  /** At the end of an epoch: keep it, and write it every `every` epochs. */
  epochDone(ckpt: Checkpoint): void {
    this.latest = ckpt;
    if (this.every > 0 && ckpt.epoch % this.every === 0) this.save();
  }

  /** Writes the latest snapshot unless `file` already holds it. */
  save(): void {
    if (!this.latest || this.latest.epoch === this.savedEpoch) return;
    saveCheckpoint(this.file, this.latest);
    this.savedEpoch = this.latest.epoch;
    say(`checkpoint: saved epoch ${this.latest.epoch} to ${this.file}\n`);
  }

  /** One line on what `file` holds now. */
  describe(): string {
    if (this.savedEpoch === null) return `nothing was saved to ${this.file}: no checkpoint was due yet (see --save-every)`;
    return `${this.file} holds epoch ${this.savedEpoch}; continue with --resume ${this.file}`;
  }
}

function progressBar(cfg: RNNConfig, terminal: boolean): ((m: EpochMetrics) => void) | undefined {
  if (!terminal || process.env.CI) return undefined;
  return (m) => {
    const width = 30;
    const done = Math.round((m.epoch / cfg.numEpochs) * width);
    const bar = '#'.repeat(done) + '.'.repeat(width - done);
    process.stderr.write(`\r[${bar}] epoch ${m.epoch}/${cfg.numEpochs}  perplexity ${m.perplexity.toFixed(2)}${valPart(m)}  ${Math.round(m.tokensPerSec)} tokens/s `);
    if (m.epoch === cfg.numEpochs) process.stderr.write('\n');
  };
}

/** ", validation 7.12" when the epoch was validated, else nothing. */
function valPart(m: EpochMetrics): string {
  return m.valPerplexity === undefined ? '' : `, validation ${m.valPerplexity.toFixed(2)}`;
}

/** Epochs to the terminal; with --save, a snapshot of every epoch boundary (refusing non-finite parameters). */
function callbacks(
  model: RNNModelScratch,
  data: SeqDataLoader,
  cfg: RNNConfig,
  progress: TrainProgress,
  keeper: CheckpointKeeper | null,
  shouldStop: () => boolean,
  terminal: boolean,
): TrainCallbacks {
  const bar = progressBar(cfg, terminal);
  let lastStep: StepMetrics | null = null;
  return {
    onStep: (m) => (lastStep = m),
    onEpoch: (m) => {
      bar?.(m);
      if (m.sample !== undefined) {
        const line = `epoch ${m.epoch}: perplexity ${m.perplexity.toFixed(2)}${valPart(m)}, ${m.sample}`;
        if (bar) process.stderr.write(`\r${line}\n`);
        else console.log(line);
      } else if (!bar && m.valPerplexity !== undefined) {
        console.log(`epoch ${m.epoch}: perplexity ${m.perplexity.toFixed(2)}${valPart(m)}`);
      }
      if (!keeper) return;
      const ckpt = checkpointOf(model, data.vocab, cfg, progress);
      if (nonFiniteParam(ckpt.params)) {
        // The epoch's last SGD step overflowed: its loss and gradient were finite, the parameters are not.
        const s = lastStep!;
        throw new DivergenceError(m.epoch, s.step, s.loss, s.gradNorm, s.gradNorm);
      }
      keeper.epochDone(ckpt);
    },
    shouldStop,
  };
}

/** A run whose every input has been checked: nothing has been written yet. */
interface RunPlan {
  opts: CliOptions;
  resumed: Checkpoint | null;
  cfg: RNNConfig;
  data: SeqDataLoader;
}

/** Everything the run needs, checked before the first write (exit 2 and one line otherwise). */
async function prepareRun(opts: CliOptions): Promise<RunPlan> {
  checkEnvironment();
  const resumed = opts.resume === undefined ? null : loadCheckpoint(opts.resume);
  const cfg = resumed ? resumeConfig(resumed, opts.overrides, opts.resume!) : opts.config;
  if (opts.save !== undefined) checkSaveTarget(opts.save, opts.resume, opts.overwrite);
  const data: SeqDataLoader = await loadDataTimeMachine({ ...cfg, corpusFile: opts.corpusFile });
  if (resumed) assertSameVocab(resumed, data.vocab, opts.resume!);
  for (const p of opts.prefixes) checkPrefix(p, data, opts.prefixGiven);
  return { opts, resumed, cfg, data };
}

/** Refuses a prefix the corpus cannot spell before training; the default one is named as such. */
function checkPrefix(prefix: string, data: SeqDataLoader, given: boolean): void {
  if (given) {
    preparePrefix(prefix, data.vocab);
    return;
  }
  const missing = [...new Set(Array.from(preprocessLine(prefix)).filter((c) => !data.vocab.has(c)))];
  if (missing.length) {
    const letters = data.vocab.idxToToken.filter((t) => /^[a-z]$/.test(t)).slice(0, 6).join('');
    throw new UsageError(
      `the default prefix '${prefix}' has characters this corpus lacks (${missing.map((c) => `'${c}'`).join(', ')}); ` +
        `pass --prefix with text from your corpus, e.g. --prefix "${letters}"`,
    );
  }
}

/** The words after "stopping at the end of this minibatch" when a signal comes. */
function whatHappens(opts: CliOptions): string {
  return opts.save !== undefined ? `, then saving the last completed epoch to ${opts.save}` : ' (nothing is saved without --save FILE)';
}

/** Parses, checks and trains; `stop` is raised by a signal (in the main thread) to stop at the next minibatch. */
async function main(argv: string[], stop = new StopFlag(), terminal = Boolean(process.stderr.isTTY)): Promise<number> {
  const opts = parseCli(argv);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  return trainRun(await prepareRun(opts), stop, terminal);
}

/** Trains a checked plan: checkpoints, divergence, a requested stop (its exit code), predictions. */
async function trainRun({ opts, resumed, cfg, data }: RunPlan, stop: StopFlag, terminal: boolean): Promise<number> {
  if (resumed && resumed.epoch === cfg.numEpochs) say(`${opts.resume} has completed its ${cfg.numEpochs} epochs; pass --epochs N to train on\n`);
  const backend = await initBackend({ log: (line) => console.log(line) });
  const model = resumed ? modelFromCheckpoint(resumed) : new RNNModelScratch(data.vocab.size, cfg.numHiddens, { seed: cfg.seed });
  const progress = resumed ? progressFromCheckpoint(resumed) : startProgress(cfg);
  const keeper = opts.save === undefined ? null : new CheckpointKeeper(opts.save, opts.saveEvery, sameFile(opts.save, opts.resume) ? resumed!.epoch : null);
  try {
    keeper?.snapshot(checkpointOf(model, data.vocab, cfg, progress)); // where a stop in the first epoch goes back to
    let result: TrainResult;
    try {
      result = await train(model, data, cfg, callbacks(model, data, cfg, progress, keeper, () => stop.requested, terminal), progress);
    } catch (err) {
      if (!(err instanceof DivergenceError)) throw err;
      say(`error: ${err.message}\n`);
      if (keeper) say(`${keeper.describe()}\n`);
      return 3;
    }
    if (result.stopped === 'interrupted') {
      keeper?.save();
      say(`stopped after epoch ${progress.epoch} of ${cfg.numEpochs}; ${keeper ? keeper.describe() : 'nothing was saved (use --save FILE to keep the work)'}\n`);
      return stop.code;
    }
    keeper?.save();

    const val = result.valPerplexity === undefined ? '' : `, validation perplexity ${result.valPerplexity.toFixed(1)}`;
    console.log(`perplexity ${result.perplexity.toFixed(1)}${val}, ${result.tokensPerSec.toFixed(1)} tokens/sec on ${backend}`);
    const samples: Record<string, string> = {};
    for (const p of opts.prefixes) {
      samples[p] = predict(p, cfg.numPreds, model, data.vocab);
      console.log(samples[p]);
    }
    if (opts.json) {
      console.log(
        JSON.stringify({
          perplexity: result.perplexity,
          tokensPerSec: result.tokensPerSec,
          epochs: result.epochs,
          backend,
          samples,
          config: cfg,
          perplexities: result.history.map((m) => m.perplexity),
          valPerplexity: result.valPerplexity ?? null, // null when --num-val 0
          valPerplexities: result.history.map((m) => m.valPerplexity ?? null),
        }),
      );
    }
    return 0;
  } finally {
    model.dispose();
  }
}

/**
 * `npm start` as a process: checks everything here (bad input exits 2 before any thread starts),
 * then trains in a worker thread while this thread answers signals at once (interrupt.ts).
 */
async function cliProcess(argv: string[]): Promise<number> {
  const opts = parseCli(argv);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  await prepareRun(opts);
  const stop = new StopFlag();
  const signals = catchStopSignals(whatHappens(opts), stop);
  try {
    return await runInWorker(__filename, 'trainingThread', stop, { argv, terminal: Boolean(process.stderr.isTTY) });
  } finally {
    signals.release();
  }
}

/** The worker thread's side of cliProcess: main() with the shared stop flag; posts its exit code. */
export function trainingThread(): void {
  const { argv, stop, terminal } = workerData as { argv: string[]; stop: Int32Array; terminal: boolean };
  main(argv, new StopFlag(stop), terminal).then(
    (code) => parentPort!.postMessage({ code }),
    (err) => {
      const known = exitCodeFor(err);
      if (!known) throw err; // a bug: the main thread prints its stack
      say(`${known.line}\n`);
      parentPort!.postMessage({ code: known.code });
    },
  );
}

if (require.main === module && isMainThread) runAsMain(cliProcess);
