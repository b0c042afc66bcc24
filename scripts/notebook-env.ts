// What a notebook needs before its first cell runs: the library built into dist/, the package
// name `rnn-workbook` resolvable from notebooks/, a tslab kernel spec that starts this checkout's
// tslab by absolute path, and a Python that has Jupyter's nbclient. Used by setup and the runner.
import { spawnSync, type SpawnSyncOptions } from 'child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';

export const ROOT = resolve(__dirname, '..');
/** The kernel spec's name: notebooks' metadata.kernelspec.name must say this. Not 'tslab', so a
 * user's own tslab spec is left alone. */
export const KERNEL_NAME = 'rnn-workbook';
export const KERNEL_DISPLAY_NAME = 'TypeScript (rnn-workbook)';

/** Runs a command, capturing stdout and stderr; never throws (status null = could not start). */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { status: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...opts });
  return { status: r.error ? null : r.status, out: String(r.stdout ?? '').trim(), err: String(r.stderr ?? '').trim() };
}

/**
 * Makes `import ... from 'rnn-workbook'` work in notebooks: tslab compiles cells with rootDir set
 * to the notebook's folder, so '../src/...' fails (tslab#63); a package link to the project root
 * resolves to dist/ through package.json's main/types. npm keeps it if package.json lists
 * "rnn-workbook": "file:." and prunes it otherwise, hence re-creating it here.
 */
export function linkPackage(): string {
  const link = join(ROOT, 'node_modules', 'rnn-workbook');
  const exists = (() => {
    try {
      return lstatSync(link);
    } catch {
      return null;
    }
  })();
  if (exists?.isSymbolicLink() && resolve(join(ROOT, 'node_modules'), readlinkSync(link)) === ROOT) return 'unchanged';
  if (exists) throw new Error(`${link} exists but is not a link to the project root; remove it and run npm run setup again`);
  mkdirSync(join(ROOT, 'node_modules'), { recursive: true });
  symlinkSync('..', link, 'dir');
  return 'created';
}

/** Compiles the library into dist/ (what `npm run build` does); throws with tsc's errors. */
export function buildLibrary(): void {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const project = ['tsconfig.build.json', 'tsconfig.json'].find((f) => existsSync(join(ROOT, f))) ?? 'tsconfig.json';
  const r = run(process.execPath, [tsc, '-p', join(ROOT, project)]);
  if (r.status !== 0) throw new Error(`tsc -p ${project} failed, so notebooks would run a stale dist/:\n${r.out}\n${r.err}`.trim());
  if (!existsSync(join(ROOT, 'dist', 'src', 'index.js'))) throw new Error('tsc ran but dist/src/index.js is missing; is src/index.ts there?');
}

/**
 * The kernel spec: node and tslab by absolute path, because Jupyter (and VS Code) start kernels
 * with their own PATH, where a bare `tslab` is often missing (tslab#65, #101).
 */
export function kernelSpec(): { argv: string[]; display_name: string; language: string } {
  const tslab = join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!existsSync(tslab)) throw new Error(`${tslab} is missing; run npm install first`);
  return {
    argv: [process.execPath, tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
  };
}

/** Writes <kernelsDir>/rnn-workbook/kernel.json; returns whether it changed. */
export function writeKernelSpec(kernelsDir: string): 'created' | 'updated' | 'unchanged' {
  const file = join(kernelsDir, KERNEL_NAME, 'kernel.json');
  const text = `${JSON.stringify(kernelSpec(), null, 2)}\n`;
  const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (before === text) return 'unchanged';
  mkdirSync(join(kernelsDir, KERNEL_NAME), { recursive: true });
  writeFileSync(file, text);
  return before === null ? 'created' : 'updated';
}

/**
 * The Python that runs Jupyter and has nbclient. `python3` on PATH may be another one (pyenv,
 * a venv), so the interpreter named in the `jupyter` script's #! line is tried too.
 */
export function jupyterPython(): string | null {
  const candidates = [process.env.JUPYTER_PYTHON, shebangOf('jupyter'), 'python3', '/usr/bin/python3'];
  for (const py of candidates) {
    if (py && run(py, ['-c', 'import nbclient, nbformat, jupyter_client']).status === 0) return py;
  }
  return null;
}

function shebangOf(command: string): string | undefined {
  const where = run('sh', ['-c', `command -v ${command}`]);
  if (where.status !== 0 || !where.out) return undefined;
  const first = readFileSync(where.out, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) return undefined;
  return m[1]?.endsWith('/env') ? m[2] : m[1]; // '#!/usr/bin/env python3' → 'python3'
}
