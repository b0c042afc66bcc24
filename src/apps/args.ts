// What the command-line programs (start.ts: `npm start`, generate.ts: `npm run generate`) share:
// flag parsing with one-line errors, help text built from the flags' own defaults, the checks of
// the environment, and the exit codes. Bad input exits with code 2 and one line saying what is
// wrong; a diverged run with 3; anything else is a bug and keeps its stack (exit 1).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BackendError, checkBackendEnv } from '../backend';
import { CheckpointError } from '../checkpoint';
import { ConfigError } from '../config';
import { checkDataDirEnv, CorpusError } from '../corpus';
import { PRESET_ENV } from '../notebook';
import { PredictError } from '../predict';
import { DivergenceError } from '../train';
import { guardOutput, say } from './interrupt';

/** A command line that cannot run: exit code 2, one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One flag as --help shows it: `--name ARG   help (default)`. */
export interface FlagHelp {
  flag: string; // without the dashes
  arg?: string; // e.g. 'N', 'FILE'; none for a switch
  help: string; // may span lines ('\n')
  default?: string | number; // shown in parentheses after the help, as the program uses it
}

const FLAG_COLUMN = 24; // where the help starts
const DEFAULT_COLUMN = 41; // where a default starts, counted from the help, when the help's last line leaves room

/** The flags' lines of a --help text, each default taken from where the program reads it. */
export function flagLines(flags: readonly FlagHelp[]): string {
  return flags
    .map(({ flag, arg, help, default: d }) => {
      const left = `  --${flag}${arg ? ` ${arg}` : ''}`;
      const lines = help.split('\n');
      const last = lines.length - 1;
      if (d !== undefined) lines[last] = `${lines[last].length < DEFAULT_COLUMN ? lines[last].padEnd(DEFAULT_COLUMN) : `${lines[last]} `}(${d})`;
      const [first, ...rest] = lines;
      return [`${left.padEnd(FLAG_COLUMN - 1)} ${first}`, ...rest.map((l) => `${' '.repeat(FLAG_COLUMN)}${l}`)].join('\n');
    })
    .join('\n');
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A numeric flag's value, or a UsageError naming the flag. */
export function num(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!NUMBER.test(raw.trim())) throw new UsageError(`--${flag} needs a number (got '${raw}'); see --help`);
  return Number(raw);
}

/** A flag whose value is one of `allowed`, or a UsageError listing them. */
export function choice<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got '${raw}')`);
  return raw as T;
}

/** A file-path flag's value: absent, or not blank. */
export function filePath(flag: string, raw: string | undefined): string | undefined {
  if (raw !== undefined && raw.trim() === '') throw new UsageError(`--${flag} needs a file path`);
  return raw;
}

/** node's parseArgs, strict, with its errors turned into one UsageError line. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  // parseArgs reads `--lr -1` as a flag missing its value; glue negative numbers on, so the range check names them.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') && !argv[i].includes('=') ? argv[i].slice(2) : '';
    if (options[name]?.type === 'string' && /^-(\d|\.\d)/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    const line = (err as Error).message.split('\n')[0].replace(/\.$/, '');
    const noValue = /^Option '(--[\w-]+)[^']*' argument (missing|is ambiguous)/.exec(line); // e.g. `--lr --save f`
    if (!noValue) throw new UsageError(`${line}; see --help`);
    const next = args[args.indexOf(noValue[1]) + 1];
    const glued = next?.startsWith('-') && !(next.slice(2) in options) ? `; to pass '${next}' itself, write ${noValue[1]}=${next}` : '; see --help';
    throw new UsageError(`${noValue[1]} needs a value${glued}`);
  }
}

/** The environment variables the programs read, checked before any work: one line each. */
export function checkEnvironment(): void {
  checkBackendEnv();
  checkDataDirEnv();
  const preset = process.env[PRESET_ENV];
  if (preset && preset !== 'test') throw new UsageError(`${PRESET_ENV} must be 'test' or unset (got '${preset}'); it only shortens the notebooks' runs`);
}

/** Errors a learner can act on become one line and exit code 2 (3 for divergence); anything else is a bug and keeps its stack. */
export function exitCodeFor(err: unknown): { code: number; line: string } | null {
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof CorpusError ||
    err instanceof PredictError ||
    err instanceof CheckpointError ||
    err instanceof BackendError
  ) {
    return { code: 2, line: `error: ${err.message}` };
  }
  if (err instanceof DivergenceError) return { code: 3, line: `error: ${err.message}` };
  return null;
}

/** Runs a program's entry point as the process: its exit code, or exitCodeFor's line for a known error. */
export function runAsMain(entry: (argv: string[]) => Promise<number>): void {
  guardOutput();
  entry(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      // Print here: an uncaught error would go to the wasm module's handler, which dumps its source.
      const known = exitCodeFor(err);
      say(`${known ? known.line : ((err as Error).stack ?? String(err))}\n`);
      process.exit(known ? known.code : 1);
    },
  );
}
