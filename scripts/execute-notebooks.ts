// Runs notebooks headless on the tslab kernel and writes executed copies to .cache/ (notebooks/
// stays committed without outputs). A notebook fails on any cell error and on anything written
// to stderr. RNN_WORKBOOK_PRESET is passed to the kernel so notebooks can pick a small config.
// Before any notebook runs, the corpus and the kernel are checked once (scripts/preflight.ts); a
// notebook whose source and library did not change since its last clean run is not executed
// again (scripts/notebook-cache.ts; --force runs it anyway). Progress: a line per cell.
//
//   node --import tsx scripts/execute-notebooks.ts [--preset test] [--timeout 3600] [--out DIR] [--no-build] [--force] [file.ipynb ...]
//   Output: .cache/executed/ (no preset; what the lesson pages are built from) or .cache/executed-<preset>/.
import { spawn } from 'child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'fs';
import { basename, delimiter, dirname, join, resolve } from 'path';
import { EMBED_CLASS, FIGURE_CLASS, PLOTLY_MIME } from '../src/plot';
import { cacheKey, forget, isCached, libraryDigest, remember } from './notebook-cache';
import { KERNEL_NAME, ROOT, buildLibrary, jupyterPython, linkPackage, writeKernelSpec } from './notebook-env';
import { corpusProblem, writeKernelCheck } from './preflight';

export interface Problem {
  cell: number | null; // index in the notebook's cells; null when the run itself failed
  kind: string; // 'error' | 'stderr' | 'CellTimeoutError' | 'DeadKernelError' | ...
  message: string;
  source?: string; // first lines of the cell
}

export interface NotebookRun {
  notebook: string;
  output: string; // the executed copy
  ok: boolean;
  seconds: number;
  cells: number; // non-empty code cells
  executed: number;
  figures: number; // outputs drawn by src/plot.ts
  problems: Problem[];
  kept?: string; // not executed now: the clean execution of `npm run lessons` it was copied from (keptRun)
}

/** The parts of an .ipynb file the checks read. */
export interface NotebookJson {
  metadata: { kernelspec?: { name?: string } };
  cells: { cell_type: string; source?: string | string[]; execution_count?: number | null; outputs?: { output_type: string; data?: Record<string, unknown> }[] }[];
}

const text = (v: unknown): string => (Array.isArray(v) ? v.join('') : typeof v === 'string' ? v : '');

/**
 * Every figure must carry the whole bundle (JupyterLab and VS Code read the plotly JSON, classic
 * Notebook and exported HTML the text/html), and plotly.js must be embedded exactly once, before
 * the first figure, or the figures in classic Notebook and exported HTML stay blank.
 */
export function figureProblems(nb: NotebookJson): { figures: number; problems: Problem[] } {
  const problems: Problem[] = [];
  let figures = 0;
  let embeds = 0;
  nb.cells.forEach((cell, i) => {
    for (const out of cell.outputs ?? []) {
      const data = out.data ?? {};
      const html = text(data['text/html']);
      if (html.includes(`class="${EMBED_CLASS}"`)) {
        embeds++;
        continue;
      }
      if (!(PLOTLY_MIME in data) && !html.includes(`class="${FIGURE_CLASS}"`)) continue;
      figures++;
      const missing = [PLOTLY_MIME, 'text/html', 'text/plain'].filter((m) => !(m in data));
      if (missing.length) problems.push({ cell: i, kind: 'figure', message: `figure output lacks ${missing.join(', ')}` });
      if (!embeds) problems.push({ cell: i, kind: 'figure', message: 'figure shown before plotly.js was embedded; call rw.plotSetup() first' });
    }
  });
  if (embeds > 1) problems.push({ cell: null, kind: 'figure', message: `plotly.js embedded ${embeds} times; call rw.plotSetup() once` });
  return { figures, problems };
}

/** Call sites that show a figure in a cell's code: `rw.plot(` and `new rw.LiveChart(`, outside line comments. */
export function figureCalls(source: string): number {
  const code = source.replace(/\/\/.*$/gm, '');
  return (code.match(/\brw\.plot\s*\(|\bnew\s+rw\.LiveChart\s*\(/g) ?? []).length;
}

/**
 * Cells of an executed notebook that show fewer figures (plotly outputs) than they have call sites:
 * charts that vanished, e.g. because the kernel's display writer was not found. Empty when every
 * chart came out.
 */
export function missingFigures(nb: NotebookJson): string[] {
  return nb.cells.flatMap((cell, i) => {
    if (cell.cell_type !== 'code') return [];
    const calls = figureCalls(text(cell.source));
    const shown = (cell.outputs ?? []).filter((o) => o.data && PLOTLY_MIME in o.data).length;
    return shown < calls ? [`cell ${i}: ${calls} chart call(s) in the code, ${shown} figure(s) shown`] : [];
  });
}

export interface RunOptions {
  preset?: string; // → RNN_WORKBOOK_PRESET in the kernel
  timeoutSec?: number; // per cell; lessons train for minutes
  outDir?: string;
  onProgress?: (line: string) => void; // a line per finished cell, while the notebook runs
}

export const NOTEBOOKS_DIR = join(ROOT, 'notebooks');

/** notebooks/*.ipynb in lesson order. */
export function listNotebooks(dir = NOTEBOOKS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()
    .map((f) => join(dir, f));
}

export function defaultOutDir(preset?: string): string {
  return join(ROOT, '.cache', preset ? `executed-${preset}` : 'executed');
}

export interface Prepared {
  python: string;
  jupyterPath: string;
}

/**
 * Links the package, builds dist/ (so notebooks never run a stale build) and writes a private
 * kernel spec under .cache/jupyter, first on JUPYTER_PATH, so runs don't depend on what
 * `npm run setup` installed for the user (or on another checkout's spec).
 */
export function prepare(opts: { build?: boolean } = {}): Prepared {
  linkPackage();
  if (opts.build ?? true) buildLibrary();
  const jupyterPath = join(ROOT, '.cache', 'jupyter');
  writeKernelSpec(join(jupyterPath, 'kernels'));
  const python = jupyterPython();
  if (!python) throw new Error('no Python with nbclient found; run npm run setup (or set JUPYTER_PYTHON)');
  return { python, jupyterPath };
}

const PROGRESS = 'progress: ';

export function executeNotebook(file: string, prepared: Prepared, opts: RunOptions = {}): Promise<NotebookRun> {
  const notebook = resolve(file);
  const outDir = opts.outDir ?? defaultOutDir(opts.preset);
  mkdirSync(outDir, { recursive: true });
  const output = join(outDir, basename(notebook));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: [prepared.jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
  };
  delete env.NODE_TEST_CONTEXT; // set by node --test; the kernel is not a test process
  // The kernel runs in notebooks/, so a data folder given relative to where we were started must be made absolute.
  if (env.RNN_WORKBOOK_DATA) env.RNN_WORKBOOK_DATA = resolve(env.RNN_WORKBOOK_DATA);
  if (opts.preset) env.RNN_WORKBOOK_PRESET = opts.preset;
  else delete env.RNN_WORKBOOK_PRESET; // the options decide, so outDir and the kernel agree
  const args = [join(__dirname, 'run_notebook.py'), notebook, output, '--kernel', KERNEL_NAME];
  args.push('--timeout', String(opts.timeoutSec ?? 3600), '--cwd', dirname(notebook));
  if (opts.onProgress) args.push('--progress');

  return new Promise((done, fail) => {
    const child = spawn(prepared.python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    let partial = ''; // stderr up to its last newline is split into progress lines and the rest
    child.stderr.on('data', (b: Buffer) => {
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(PROGRESS) && opts.onProgress) opts.onProgress(line.slice(PROGRESS.length));
        else stderr += `${line}\n`;
      }
    });
    child.on('error', fail);
    child.on('close', (code) => {
      stderr += partial;
      const last = stdout.trim().split('\n').pop() ?? '';
      let summary: Omit<NotebookRun, 'notebook' | 'output' | 'ok' | 'figures'>;
      try {
        summary = JSON.parse(last) as typeof summary;
      } catch {
        return fail(new Error(`run_notebook.py exited ${code} without a summary:\n${stdout}\n${stderr}`.trim()));
      }
      const problems = [...summary.problems];
      if (!problems.length && summary.executed < summary.cells) {
        problems.push({ cell: null, kind: 'incomplete', message: `${summary.executed} of ${summary.cells} cells ran` });
      }
      const figures = figureProblems(JSON.parse(readFileSync(output, 'utf8')) as NotebookJson);
      problems.push(...figures.problems);
      done({ ...summary, problems, figures: figures.figures, notebook, output, ok: problems.length === 0 });
    });
  });
}

/**
 * The clean execution `npm run lessons` keeps of `notebook` (lessons' own settings, in
 * .cache/executed/), when its key (scripts/notebook-cache.ts) is the key of this notebook now:
 * same source, same dist/ (build it first), same locked dependencies, same keyed environment, same
 * Node. The copy is written to `outDir` and summarised from what it holds — every non-empty code
 * cell executed, no error or stderr output, every figure a full bundle (figureProblems) — while
 * the key itself attests what the copy cannot show: every cell's execute_reply was ok (the key is
 * only remembered after a clean run, and forgotten before a run starts). null when there is no
 * such execution; the caller executes the notebook then.
 */
export function keptRun(notebook: string, outDir: string, library = libraryDigest(), keptDir = defaultOutDir(undefined)): NotebookRun | null {
  const kept = join(keptDir, basename(notebook));
  const key = cacheKey(notebook, library, undefined);
  if (!isCached(kept, key)) return null;
  mkdirSync(outDir, { recursive: true });
  const output = join(outDir, basename(notebook));
  copyFileSync(kept, output);
  if (!isCached(kept, key)) return null; // a run started meanwhile: the copy may be half-written
  const nb = JSON.parse(readFileSync(output, 'utf8')) as NotebookJson;
  const problems: Problem[] = [];
  let cells = 0;
  let executed = 0;
  (nb.cells as (NotebookJson['cells'][number] & { source?: string | string[] })[]).forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const nonEmpty = text(cell.source).trim() !== ''; // counted as run_notebook.py does: nbclient skips empty cells
    if (nonEmpty) cells++;
    if (nonEmpty && cell.execution_count != null) executed++;
    for (const out of (cell.outputs ?? []) as { output_type: string; name?: string; text?: unknown; ename?: string; evalue?: string }[]) {
      if (out.output_type === 'stream' && out.name === 'stderr') problems.push({ cell: i, kind: 'stderr', message: text(out.text).trim() });
      else if (out.output_type === 'error') problems.push({ cell: i, kind: 'error', message: `${out.ename}: ${out.evalue}` });
    }
  });
  if (!problems.length && executed < cells) problems.push({ cell: null, kind: 'incomplete', message: `${executed} of ${cells} cells ran` });
  const figures = figureProblems(nb);
  problems.push(...figures.problems);
  return { notebook: resolve(notebook), output, ok: problems.length === 0, seconds: 0, cells, executed, figures: figures.figures, problems, kept };
}

/** One line per notebook, then what went wrong. */
export function report(r: NotebookRun): string {
  const took = r.kept ? '   kept ' : `${r.seconds.toFixed(1).padStart(7)}s`;
  const head = `${r.ok ? 'ok  ' : 'FAIL'} ${basename(r.notebook).padEnd(36)} ${took}  ${r.executed}/${r.cells} cells, ${r.figures} figures`;
  const details = r.problems.map((p) => {
    const where = p.cell === null ? '' : ` in cell ${p.cell}`;
    const source = p.source ? `\n      | ${p.source.split('\n').join('\n      | ')}` : '';
    return `    ${p.kind}${where}: ${p.message.split('\n').join('\n      ')}${source}`;
  });
  return [head, ...details].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const opts: RunOptions = { preset: process.env.RNN_WORKBOOK_PRESET || undefined };
  let build = true;
  let force = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--preset') opts.preset = argv[++i];
    else if (a === '--timeout') opts.timeoutSec = Number(argv[++i]);
    else if (a === '--out') opts.outDir = resolve(argv[++i] ?? '');
    else if (a === '--no-build') build = false;
    else if (a === '--force') force = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}; see the header of scripts/execute-notebooks.ts`);
    else files.push(a);
  }
  if (opts.timeoutSec !== undefined && !(opts.timeoutSec > 0)) throw new Error('--timeout takes seconds per cell, e.g. --timeout 600');
  const corpus = await corpusProblem(); // first: offline without a corpus must fail in seconds
  if (corpus) throw new Error(corpus);
  const prepared = prepare({ build });
  const notebooks = files.length ? files : listNotebooks();
  const outDir = opts.outDir ?? defaultOutDir(opts.preset);
  const library = libraryDigest();
  const todo = notebooks.map((nb) => {
    const output = join(outDir, basename(nb));
    const key = cacheKey(nb, library, opts.preset);
    return { nb, output, key, cached: !force && isCached(output, key) };
  });
  const stale = todo.filter((t) => !t.cached).length;
  console.log(`${notebooks.length} notebook(s) → ${outDir}${opts.preset ? ` (preset ${opts.preset})` : ''}: ${stale} to execute, ${notebooks.length - stale} unchanged`);
  if (stale) {
    const check = await executeNotebook(writeKernelCheck(), prepared, { outDir: join(ROOT, '.cache', 'preflight', 'executed'), timeoutSec: 120 });
    if (!check.ok) throw new Error(`kernel '${KERNEL_NAME}' cannot run the library; run npm run setup. ${check.problems.map((p) => `${p.kind}: ${p.message}`).join('; ')}`);
  }
  let failed = 0;
  for (const [i, t] of todo.entries()) {
    const head = `[${i + 1}/${todo.length}] ${basename(t.nb)}`;
    if (t.cached) {
      console.log(`${head}: unchanged since its last clean run, kept`);
      continue;
    }
    console.log(`${head}: executing`);
    forget(t.output);
    const r = await executeNotebook(t.nb, prepared, { ...opts, onProgress: (line) => console.log(`    ${line}`) });
    console.log(report(r));
    if (r.ok) remember(t.output, t.key);
    else failed++;
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      console.error(e.message);
      process.exitCode = 1;
    },
  );
}
