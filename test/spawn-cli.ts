// Runs src/apps/start.ts or src/apps/generate.ts as a child process, the way a learner runs them, so the tests
// see real exit codes, stdout, stderr and signals.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

/** d2l's recipe shrunk to run in about a second (the autograd path until the fast one is the default everywhere). */
export const TINY = ['--path', 'autograd', '--hidden', '16', '--max-tokens', '2000', '--batch-size', '4', '--num-steps', '8'];

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  finished: Promise<Finished>;
  /** Resolves once stdout or stderr has printed something matching `pattern`. */
  printed(pattern: RegExp): Promise<void>;
}

export interface StartOptions {
  asNobody?: boolean; // run the child as uid/gid 65534 when we are root, so file permissions apply to it
  env?: Record<string, string>; // on top of ours
  stdout?: 'pipe' | 'closed' | 'full'; // 'closed': its reader is gone (EPIPE); 'full': /dev/full (ENOSPC)
}

/** Starts `node --import tsx script args` in the repo; killed (and the test failed) after `timeoutMs` (generous: test machines are shared). */
export function start(script: 'src/apps/start.ts' | 'src/apps/generate.ts', args: string[], timeoutMs = 180_000, opts: StartOptions = {}): Running {
  const dataDir = process.env.RNN_WORKBOOK_DATA;
  if (!dataDir) throw new Error('run the tests with RNN_WORKBOOK_DATA=../shared/data');
  const full = opts.stdout === 'full' ? fs.openSync('/dev/full', 'w') : null;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, RNN_WORKBOOK_DATA: path.resolve(dataDir), CI: '1', ...opts.env },
    stdio: ['ignore', full ?? 'pipe', 'pipe'],
    ...(opts.asNobody && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
  });
  if (full !== null) fs.closeSync(full);
  if (opts.stdout === 'closed') child.stdout!.destroy(); // like `| head -1` after its line: every later write fails
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of [...watchers]) {
      if (!w.pattern.test(stdout + stderr)) continue;
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout?.on('data', (d) => {
    stdout += d;
    wake();
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    wake();
  });
  const finished = new Promise<Finished>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} still running after ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(stdout + stderr)) return resolve();
      watchers.push({ pattern, resolve });
      finished.then(() => reject(new Error(`the process ended before printing ${pattern}; stderr: ${stderr}`)), reject);
    });
  return { child, finished, printed };
}

export function run(script: 'src/apps/start.ts' | 'src/apps/generate.ts', args: string[], timeoutMs?: number, opts: StartOptions = {}): Promise<Finished> {
  return start(script, args, timeoutMs, opts).finished;
}

/** Name, size, modification time and mode of every entry in `dir`: "nothing written" means this does not change. */
export function listing(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .map((e) => {
      const s = fs.lstatSync(path.join(dir, e.name));
      return `${e.name} ${s.size} ${s.mtimeMs} ${s.mode.toString(8)}`;
    })
    .sort();
}
