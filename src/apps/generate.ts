// `npm run generate -- --checkpoint FILE [flags]`: text from a saved model, nothing else on stdout.
// Taught in 06-prediction (greedy decoding, and sampling at a temperature).
import { initBackend } from '../backend';
import { loadCheckpoint, modelFromCheckpoint } from '../checkpoint';
import { DEFAULTS, MAX_PREDS, MAX_SEED } from '../config';
import { MIN_TEMPERATURE, predict, preparePrefix } from '../predict';
import { Rng } from '../random';
import { checkEnvironment, filePath, flagLines, num, parseFlags, runAsMain, UsageError } from './args';

const MAX_LENGTH = MAX_PREDS; // characters per run: enough for any lesson, and it never looks hung
/** What a run does unless told otherwise: d2l's prefix, 200 characters, greedy (as d2l), seed 0. */
const GENERATE_DEFAULTS = { prefix: DEFAULTS.prefix, length: 200, temperature: 0, seed: 0 } as const;

export const HELP = `Generate text from a checkpoint written by npm start -- --save FILE.

Usage: npm run generate -- --checkpoint FILE [flags]

${flagLines([
  { flag: 'checkpoint', arg: 'FILE', help: 'the trained model (required)' },
  { flag: 'prefix', arg: 'TEXT', help: 'what the text starts from', default: JSON.stringify(GENERATE_DEFAULTS.prefix) },
  { flag: 'length', arg: 'N', help: `characters generated after the prefix, 1–${MAX_LENGTH}`, default: GENERATE_DEFAULTS.length },
  {
    flag: 'temperature',
    arg: 'T',
    help: `0 = greedy, as d2l; from ${MIN_TEMPERATURE} up samples softmax(o / T):\nbelow 1 safer, above 1 wilder`,
    default: GENERATE_DEFAULTS.temperature,
  },
  { flag: 'seed', arg: 'N', help: 'seed for sampling, 0 to 2^32 − 1: the same seed, the same text', default: GENERATE_DEFAULTS.seed },
  { flag: 'help', help: 'this text' },
])}

Exit codes: 0 done, 2 bad input (one line on stderr says what to fix)
Environment: RNN_BACKEND (tensorflow | wasm | cpu), RNN_PARALLEL (0 | 1), RNN_NATIVE (0 | 1 | onednn | openblas), as for npm start`;

interface GenerateOptions {
  checkpoint: string;
  prefix: string;
  length: number;
  temperature: number;
  seed: number;
  help: boolean;
}

/** Parses and validates argv into options; throws UsageError. */
function parseGenerate(argv: string[]): GenerateOptions {
  const values = parseFlags(argv, {
    checkpoint: { type: 'string' },
    prefix: { type: 'string' },
    length: { type: 'string' },
    temperature: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean' },
  });
  const opts = {
    checkpoint: filePath('checkpoint', values.checkpoint) ?? '',
    prefix: values.prefix ?? GENERATE_DEFAULTS.prefix,
    length: num('length', values.length) ?? GENERATE_DEFAULTS.length,
    temperature: num('temperature', values.temperature) ?? GENERATE_DEFAULTS.temperature,
    seed: num('seed', values.seed) ?? GENERATE_DEFAULTS.seed,
    help: values.help ?? false,
  };
  if (opts.help) return opts;
  if (!opts.checkpoint) throw new UsageError('--checkpoint FILE is required: a model saved with npm start -- --save FILE');
  if (opts.prefix.trim() === '') throw new UsageError('--prefix is empty; give some text, e.g. --prefix "time traveller"');
  if (!Number.isInteger(opts.length) || opts.length < 1 || opts.length > MAX_LENGTH) {
    throw new UsageError(`--length must be a whole number from 1 to ${MAX_LENGTH} (got ${values.length}); e.g. --length 200`);
  }
  const T = opts.temperature;
  if (!Number.isFinite(T) || T < 0 || (T > 0 && T < MIN_TEMPERATURE)) {
    const why = T > 0 && T < MIN_TEMPERATURE ? `; below ${MIN_TEMPERATURE} sampling is greedy anyway, so use --temperature 0` : '';
    throw new UsageError(`--temperature must be 0 (greedy) or at least ${MIN_TEMPERATURE} (got ${values.temperature})${why}; 1 samples the model's own distribution`);
  }
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > MAX_SEED) {
    throw new UsageError(`--seed must be a whole number from 0 to 2^32 − 1 = ${MAX_SEED} (got ${values.seed}); e.g. --seed 1`);
  }
  return opts;
}

async function generate(argv: string[]): Promise<number> {
  const opts = parseGenerate(argv);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  checkEnvironment();
  const ckpt = loadCheckpoint(opts.checkpoint);
  preparePrefix(opts.prefix, ckpt.vocab); // a bad prefix is refused before any work
  await initBackend({ log: (line) => process.stderr.write(`${line}\n`) }); // stdout carries only the text
  const model = modelFromCheckpoint(ckpt);
  try {
    console.log(predict(opts.prefix, opts.length, model, ckpt.vocab, { temperature: opts.temperature, rng: new Rng(opts.seed) }));
  } finally {
    model.dispose();
  }
  return 0;
}

if (require.main === module) runAsMain(generate);
