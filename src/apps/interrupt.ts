// How a command-line run stops, and what never stops it. Ctrl-C (SIGINT), SIGTERM (kill, timeout,
// docker stop, a CI cancel) and SIGHUP (a closed terminal) ask training to stop at the next
// minibatch and save; a second signal quits at once. A closed or full stdout (`| head -1`,
// `> /dev/full`) only makes the output go quiet. Not part of the library: the CLI's edge.
//
// Training runs in a worker thread so that this, the main thread, stays free to react: a
// minibatch is one synchronous wasm call, and a busy thread runs no signal handler until it ends.
import { Worker } from 'node:worker_threads';

/** The shell's convention: 128 + the signal's number. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

/**
 * One key press can arrive twice, from the terminal and forwarded by npm (or tsx), so repeats
 * within SAME_PRESS_MS of the first count as the same press.
 */
export const SAME_PRESS_MS = 500;

/** A stop request both threads see: 0 = train on, else the exit code to stop with. */
export class StopFlag {
  constructor(readonly cell = new Int32Array(new SharedArrayBuffer(4))) {}

  /** The first request wins: its exit code is the run's. */
  request(code: number): void {
    Atomics.compareExchange(this.cell, 0, 0, code);
  }

  get code(): number {
    return Atomics.load(this.cell, 0);
  }

  get requested(): boolean {
    return this.code !== 0;
  }
}

/**
 * First SIGINT, SIGTERM or SIGHUP: request a stop with its exit code and say what happens next.
 * A later one (after SAME_PRESS_MS): quit at once, by that signal. Checkpoints are renamed into
 * place, so quitting mid-save leaves the last good one (and a temporary file the next save removes).
 */
export function catchStopSignals(
  whatHappens: string,
  flag: StopFlag,
  opts: { clock?: () => number; exit?: (code: number, signal: StopSignal) => void } = {},
): { release: () => void } {
  const clock = opts.clock ?? (() => performance.now());
  let first: number | null = null;
  const release = () => offs.forEach((off) => off());
  const exit = opts.exit ?? ((code: number, signal: StopSignal) => dieBy(signal, code, release));
  const offs = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map((signal) => {
    const code = SIGNAL_EXIT_CODES[signal];
    const handler = () => {
      if (first === null) {
        first = clock();
        flag.request(code);
        const name = signal === 'SIGINT' ? 'interrupted' : `${signal} received`;
        const again = signal === 'SIGINT' ? 'Ctrl-C again' : `a second ${signal}`;
        say(`\n${name}: stopping at the end of this minibatch${whatHappens}; ${again} quits at once\n`);
      } else if (clock() - first > SAME_PRESS_MS) {
        say(`\n${signal} again: quitting now\n`);
        exit(code, signal);
      }
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return { release };
}

/**
 * Ends the process by `signal` itself, as a shell expects of a program that caught it (the shell
 * then reports 128 + its number, and a script running it stops too). Without our handlers the
 * default action applies and the kernel ends the process at once, whatever the training thread is
 * doing; process.exit would first wait for that thread to stop. Falls back to exit(code).
 */
function dieBy(signal: StopSignal, code: number, release: () => void): void {
  release();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  setTimeout(() => process.exit(code), 100).unref();
}

let stdoutClosed = false;
let guarded = false;

/**
 * Output errors never stop training: an EPIPE or ENOSPC on stdout makes it quiet (one note on
 * stderr), one on stderr is ignored. Without a listener the error would be uncaught, and the wasm
 * module's handler would print its own minified source.
 */
export function guardOutput(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (stdoutClosed) return;
    stdoutClosed = true;
    say(`note: stdout cannot be written (${err.code ?? err.message}); output stops here, the run goes on\n`);
  });
  process.stderr.on('error', () => undefined);
}

/** Writes to stderr, and never throws: a closed terminal must not stop a run that is saving. */
export function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // stderr is gone; nothing else can carry the message
  }
}

/** What the thread posts when its entry point returns. */
export interface ThreadResult {
  code: number;
}

/**
 * Runs `exportName` of module `file` in a worker thread with `workerData` (the flag's cell added as
 * `stop`); resolves to the exit code it posts. The worker's stdout and stderr flow into ours.
 */
export function runInWorker(file: string, exportName: string, flag: StopFlag, workerData: Record<string, unknown>): Promise<number> {
  // tsx's loader does not reach worker threads' entry files: its require hook does (as in data-parallel.ts).
  const hook = file.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
  const source = `${hook}require(${JSON.stringify(file)})[${JSON.stringify(exportName)}]();`;
  const worker = new Worker(source, { eval: true, workerData: { ...workerData, stop: flag.cell } });
  // An output error unpipes the thread's stream from ours: keep draining it, into nothing.
  process.stdout.once('error', () => worker.stdout.resume());
  process.stderr.once('error', () => worker.stderr.resume());
  return new Promise((resolve, reject) => {
    let result: ThreadResult | null = null;
    worker.on('message', (m: ThreadResult) => (result = m));
    worker.on('error', reject); // an uncaught error in the thread: a bug, reported with its stack
    worker.on('exit', (code) => (result ? resolve(result.code) : reject(new Error(`the training thread exited with code ${code} before finishing`))));
  });
}
