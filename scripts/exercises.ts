// The learner's copies of the lessons: every `// BEGIN SOLUTION` … `// END SOLUTION` region of a
// code cell becomes `throw rw.notWrittenYet("<function>");`, outputs are emptied, nothing runs
// (nbgrader's convention). The committed notebooks keep the solutions; WORKBOOK.md describes the
// four cells of an exercise (task, hint, exercise cell tagged "exercise", check cell tagged "check").
//
//   npm run exercises [-- --notebooks notebooks] [--out lessons/exercises]
//   (the Chinese edition, notebooks/zh/, is written to <out>/zh/)
//
// A malformed region (unbalanced or nested markers, no function name above it, a region outside a
// cell tagged "exercise") stops the script with exit code 1 and one line naming the notebook, the
// cell and the line, both counted from 1.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..');

export const BEGIN = '// BEGIN SOLUTION';
export const END = '// END SOLUTION';
export const EXERCISE_TAG = 'exercise';
export const CHECK_TAG = 'check';

/** The parts of an .ipynb file the transform reads; everything else is carried over untouched. */
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  outputs?: unknown[];
  execution_count?: number | null;
  [key: string]: unknown;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  [key: string]: unknown;
}

/** A solution region: where it was, the function it is the body of, and the lines it held. */
export interface Stub {
  cell: number; // index in the notebook's cells (0-based)
  line: number; // the BEGIN marker's line in the cell (0-based)
  name: string; // the function the region is the body of: 'rnnStep'
  removed: string[]; // the solution lines, markers excluded
}

/** A malformed exercise cell; `message` is the one line the script prints. */
export class ExerciseError extends Error {
  override name = 'ExerciseError';
}

const sourceText = (source: string | string[]): string => (Array.isArray(source) ? source.join('') : source);

/** Jupyter stores a cell's source as lines that keep their '\n' (the last one has none). */
export const sourceLines = (text: string): string[] => (text === '' ? [] : text.split(/(?<=\n)/));

export const tagsOf = (cell: NotebookCell): string[] => cell.metadata?.tags ?? [];

const MARKER = /^([ \t]*)(\/\/ (?:BEGIN|END) SOLUTION)[ \t]*$/;
const DECLARATION = [
  /\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)\s*[<(]/, // function NAME( · async function NAME<T>(
  /\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=(?!=)/, // const NAME = · let NAME: Type =
];

function nameDeclaredOn(line: string): string | null {
  for (const re of DECLARATION) {
    const m = re.exec(line);
    if (m?.[1]) return m[1];
  }
  return null;
}

/**
 * One code cell's stub version. Each region becomes the throw line at the BEGIN marker's
 * indentation; the name is the nearest `function NAME(` / `const NAME =` / `let NAME =` above the
 * region and below the previous one. `where(line, message)` builds the error for a line (0-based).
 */
export function stubSource(text: string, where: (line: number, message: string) => ExerciseError = (l, m) => new ExerciseError(`line ${l + 1}: ${m}`)): { source: string; stubs: Omit<Stub, 'cell'>[] } {
  const lines = text.split('\n');
  const out: string[] = [];
  const stubs: Omit<Stub, 'cell'>[] = [];
  let open: { line: number; indent: string; name: string; removed: string[] } | null = null;
  let searchFrom = 0; // a region's name is looked for below the previous region
  for (const [i, line] of lines.entries()) {
    const marker = MARKER.exec(line);
    if (!marker) {
      if (/\b(BEGIN|END) SOLUTION\b/.test(line)) throw where(i, `a solution marker must be alone on its line, exactly "${BEGIN}" or "${END}"`);
      (open ? open.removed : out).push(line);
      continue;
    }
    const [, indent = '', kind] = marker;
    if (kind === BEGIN) {
      if (open) throw where(i, `"${BEGIN}" inside the region opened on line ${open.line + 1}; regions cannot nest (close it with "${END}" first)`);
      let name: string | null = null;
      for (let j = i - 1; j >= searchFrom && !name; j--) name = nameDeclaredOn(lines[j] ?? '');
      if (!name) throw where(i, `no "function NAME(" or "const NAME =" above this region, so its stub cannot say what is not written yet`);
      open = { line: i, indent, name, removed: [] };
      continue;
    }
    if (!open) throw where(i, `"${END}" without a "${BEGIN}" above it`);
    out.push(`${open.indent}throw rw.notWrittenYet(${JSON.stringify(open.name)});`);
    stubs.push({ line: open.line, name: open.name, removed: open.removed });
    searchFrom = i + 1;
    open = null;
  }
  if (open) throw where(open.line, `"${BEGIN}" is never closed by "${END}"`);
  return { source: out.join('\n'), stubs };
}

/** The reference code the site shows under "Solution": the cell without its marker lines. */
export function solutionSource(text: string): string {
  return text
    .split('\n')
    .filter((line) => !MARKER.test(line))
    .join('\n');
}

/**
 * The learner's copy of a notebook (pure: `nb` is not modified). Code cells lose their outputs and
 * execution counts; solution regions become stubs. `label` names the notebook in error messages.
 */
export function learnerCopy(nb: Notebook, label: string): { notebook: Notebook; stubs: Stub[] } {
  const stubs: Stub[] = [];
  const cells = nb.cells.map((cell, c) => {
    if (cell.cell_type !== 'code') return structuredClone(cell);
    const where = (line: number, message: string) => new ExerciseError(`${label}, cell ${c + 1}, line ${line + 1}: ${message}`);
    const text = sourceText(cell.source);
    const result = stubSource(text, where);
    const isExercise = tagsOf(cell).includes(EXERCISE_TAG);
    if (result.stubs.length && !isExercise) throw where(result.stubs[0]!.line, `a solution region in a cell not tagged "${EXERCISE_TAG}" (add the tag, so the site shows the stub and a folded solution)`);
    if (isExercise && !result.stubs.length) throw where(0, `a cell tagged "${EXERCISE_TAG}" without a "${BEGIN}" … "${END}" region`);
    stubs.push(...result.stubs.map((s) => ({ ...s, cell: c })));
    return { ...structuredClone(cell), source: sourceLines(result.source), outputs: [], execution_count: null };
  });
  return { notebook: { ...structuredClone(nb), cells }, stubs };
}

/**
 * The lessons in `dir`, by name without '.ipynb', in file-name order. Notebooks named 00-* (the
 * infrastructure smoke test) or _* are run by the tests but are not lessons.
 */
export function lessonNames(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !/^(00-|_)/.test(f))
    .sort()
    .map((f) => f.slice(0, -'.ipynb'.length));
}

/** Serialised as Jupyter writes notebooks: one-space indent, a final newline. */
export const notebookJson = (nb: Notebook): string => `${JSON.stringify(nb, null, 1)}\n`;

export interface LearnerCopy {
  name: string; // '03-loss'
  json: string; // the .ipynb text
  stubs: Stub[];
}

/** The learner's copies of the named notebooks in `notebooksDir`; throws ExerciseError on the first malformed cell. */
export function learnerCopies(notebooksDir: string, names: string[] = lessonNames(notebooksDir)): LearnerCopy[] {
  return names.map((name) => {
    const file = path.join(notebooksDir, `${name}.ipynb`);
    const label = path.relative(ROOT, file).startsWith('..') ? file : path.relative(ROOT, file);
    const { notebook, stubs } = learnerCopy(JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook, label);
    return { name, json: notebookJson(notebook), stubs };
  });
}

/**
 * Files beside the notebooks (images, data a lesson reads by relative path) that a copy in
 * another folder needs: everything but notebooks, checkpoints and dotfiles, as [relative path, file].
 */
export function notebookAssets(notebooksDir: string): [string, string][] {
  const found: [string, string][] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(notebooksDir, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.name.startsWith('.') || entry.name.endsWith('.ipynb')) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) found.push([child, path.join(notebooksDir, child)]);
    }
  };
  if (fs.existsSync(notebooksDir)) walk('');
  return found;
}

/** Writes the learner's copies (and the assets beside the notebooks) into `outDir`; returns the copies. */
export function writeExercises(notebooksDir: string, outDir: string, names?: string[]): LearnerCopy[] {
  const copies = learnerCopies(notebooksDir, names);
  fs.mkdirSync(outDir, { recursive: true });
  for (const copy of copies) fs.writeFileSync(path.join(outDir, `${copy.name}.ipynb`), copy.json);
  for (const [rel, from] of notebookAssets(notebooksDir)) {
    fs.mkdirSync(path.dirname(path.join(outDir, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(outDir, rel));
  }
  return copies;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      notebooks: { type: 'string', default: path.join(ROOT, 'notebooks') },
      out: { type: 'string', default: path.join(ROOT, 'lessons', 'exercises') },
    },
  });
  // The Chinese edition (notebooks/zh/) gets its copies in <out>/zh/, beside its figures.json files.
  const editions: [string, string][] = [[values.notebooks!, values.out!]];
  const zh = path.join(values.notebooks!, 'zh');
  if (lessonNames(zh).length) editions.push([zh, path.join(values.out!, 'zh')]);
  for (const [notebooks, out] of editions) {
    const copies = writeExercises(notebooks, out);
    const rel = path.relative(process.cwd(), out) || '.';
    for (const c of copies) console.log(`${c.name}.ipynb  ${c.stubs.length} exercise${c.stubs.length === 1 ? '' : 's'}: ${c.stubs.map((s) => s.name).join(', ') || '—'}`);
    const total = copies.reduce((n, c) => n + c.stubs.length, 0);
    console.log(`Wrote ${copies.length} learner notebook${copies.length === 1 ? '' : 's'} (${total} exercise${total === 1 ? "" : "s"} to write) to ${rel}/. Open them with: jupyter notebook --notebook-dir=${rel}`);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof ExerciseError ? `exercises: ${err.message}` : `exercises: ${(err as Error).stack ?? err}`);
    process.exit(1);
  }
}
