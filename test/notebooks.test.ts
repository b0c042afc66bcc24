// Every notebook in notebooks/ runs headless on the tslab kernel with the small test preset:
// no cell fails, nothing lands on stderr, and every chart carries the full plotly bundle.
// The runner's own failure detection is checked first, on notebooks made up here. Last, the
// lessons' site is built from the executed copies just written and checked in headless Chromium
// (the checks of test/site-checks.ts, the same as for test/lessons.test.ts's sample site).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { basename, join } from 'path';
import { buildSite, lessonNames } from '../scripts/build-site';
import {
  executeNotebook,
  figureProblems,
  listNotebooks,
  NOTEBOOKS_DIR,
  prepare,
  report,
  type NotebookJson,
  type NotebookRun,
  type Prepared,
} from '../scripts/execute-notebooks';
import { KERNEL_NAME, ROOT } from '../scripts/notebook-env';
import { EMBED_CLASS, FIGURE_CLASS, PLOTLY_MIME } from '../src/plot';
import { CHROMIUM, JUPYTER } from '../scripts/prerequisites';
import { missing, skipWithout } from './needs';
import { browserHooks, checkSite, copyNotebookAssets, removeTmpDirs, siteBuiltBefore, tmpDir } from './site-checks';

const PRESET = 'test';
let prepared: Prepared;

before(() => {
  if (!missing(JUPYTER)) prepared = prepare(); // links the package, builds dist/, writes the kernel spec
});

const read = (file: string): NotebookJson => JSON.parse(readFileSync(file, 'utf8')) as NotebookJson;

/** A notebook made of code cells; a cell given as [source, tags] carries those tags. */
function makeNotebook(dir: string, name: string, cells: (string | [string, string[]])[]): string {
  const file = join(dir, `${name}.ipynb`);
  const nb = {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: 'TypeScript (rnn-workbook)', language: 'typescript' } },
    cells: cells.map((c) => {
      const [source, tags] = typeof c === 'string' ? [c, []] : c;
      return { cell_type: 'code', execution_count: null, metadata: { tags }, outputs: [], source };
    }),
  };
  writeFileSync(file, JSON.stringify(nb));
  return file;
}

describe('the notebook runner', () => {
  if (skipWithout(JUPYTER)) return;
  const dir = join(ROOT, '.cache', 'test-notebooks');
  const outDir = join(dir, 'executed');
  before(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  });

  it('fails on an exception, which tslab reports only in execute_reply, and stops there', async () => {
    // Even when tagged raises-exception: tslab would abort the cells after it in "Run All".
    const nb = makeNotebook(dir, 'throws', [["throw new Error('boom');", ['raises-exception']], "console.log('never');"]);
    const r = await executeNotebook(nb, prepared, { outDir, preset: PRESET });
    assert.equal(r.ok, false);
    assert.equal(r.executed, 1);
    assert.ok(r.problems.some((p) => p.cell === 0 && p.kind === 'error' && /raises-exception/.test(p.message)), report(r));
    assert.ok(r.problems.some((p) => p.cell === 0 && p.kind === 'stderr' && p.message.includes('boom')), report(r));
  });

  it('type-checks cells against the library\'s .d.ts (imported by package name) and fails on a type error', async () => {
    const nb = makeNotebook(dir, 'type-error', ["import * as rw from 'rnn-workbook';\nconst n: string = rw.DEFAULTS.numHiddens;"]);
    const r = await executeNotebook(nb, prepared, { outDir, preset: PRESET });
    assert.equal(r.ok, false);
    assert.ok(r.problems.some((p) => p.kind === 'error' && p.cell === 0), report(r));
    assert.ok(r.problems.some((p) => /Type 'number' is not assignable to type 'string'/.test(p.message)), report(r));
  });

  it('fails on stderr alone, and passes the preset and the notebook folder as cwd', async () => {
    const nb = makeNotebook(dir, 'stderr', [
      'console.log(JSON.stringify({ preset: process.env.RNN_WORKBOOK_PRESET, cwd: process.cwd() }));',
      "console.error('a warning');",
      "console.log('done');",
    ]);
    const r = await executeNotebook(nb, prepared, { outDir, preset: PRESET });
    assert.deepEqual(
      r.problems.map((p) => [p.cell, p.kind, p.message]),
      [[1, 'stderr', 'a warning']],
    );
    assert.equal(r.executed, 3);
    const first = read(r.output).cells[0]?.outputs?.[0] as { text?: string | string[] } | undefined;
    assert.deepEqual(JSON.parse([first?.text ?? ''].flat().join('')), { preset: PRESET, cwd: dir });
  });

  it('shows figures from the kernel as full bundles, and redraws a LiveChart in place', async () => {
    const nb = makeNotebook(dir, 'plots', [
      "import * as rw from 'rnn-workbook';\nrw.plotSetup();",
      "rw.plot(rw.barChart(['a', 'b'], [2, 1]));",
      "const chart = new rw.LiveChart({ title: 'ppl' });\nfor (let epoch = 1; epoch <= 3; epoch++) chart.append({ train: 10 / epoch }, epoch);",
    ]);
    const r = await executeNotebook(nb, prepared, { outDir, preset: PRESET });
    assert.ok(r.ok, report(r));
    assert.equal(r.figures, 2);
    const outputs = read(r.output).cells.map((c) => c.outputs ?? []);
    assert.deepEqual(outputs.map((o) => o.length), [1, 1, 1], 'one embed, one bar chart, one live chart (updated, not appended)');
    const live = outputs[2]?.[0]?.data?.[PLOTLY_MIME] as { data: { y: number[] }[] } | undefined;
    assert.deepEqual(live?.data[0]?.y, [10, 5, 10 / 3]);
  });

  it('flags figures without the full bundle, or shown before plotly.js is embedded', () => {
    const figure = { output_type: 'display_data', data: { [PLOTLY_MIME]: {}, 'text/html': `<div class="${FIGURE_CLASS}">`, 'text/plain': 'F' } };
    const embed = { output_type: 'display_data', data: { 'text/html': `<div class="${EMBED_CLASS}">`, 'text/plain': '' } };
    const htmlOnly = { output_type: 'display_data', data: { 'text/html': [`<div class="${FIGURE_CLASS}">`] } };
    const nb = (...outputs: object[]) => ({ metadata: {}, cells: [{ cell_type: 'code', outputs }] }) as NotebookJson;
    assert.deepEqual(figureProblems(nb(embed, figure)), { figures: 1, problems: [] });
    assert.match(figureProblems(nb(embed, htmlOnly)).problems[0]?.message ?? '', /lacks application\/vnd\.plotly\.v1\+json, text\/plain/);
    assert.match(figureProblems(nb(figure, embed)).problems[0]?.message ?? '', /before plotly\.js was embedded/);
    assert.match(figureProblems(nb(embed, embed, figure)).problems[0]?.message ?? '', /embedded 2 times/);
  });
});

const notebooks = listNotebooks();
// What the notebook tests below leave for the site: each notebook's source as it was executed, and
// its executed copy (.cache/executed-test/, as the runner wrote it), copied to temp dirs right away.
const snapshot = { notebooksDir: tmpDir(), executedDir: tmpDir() };
const runs = new Map<string, NotebookRun | Error>(); // by file name
after(removeTmpDirs);

describe('notebooks/', () => {
  it('has notebooks, committed without outputs, on the project kernel', () => {
    assert.ok(notebooks.length > 0, 'no .ipynb files in notebooks/');
    for (const file of notebooks) {
      const nb = read(file);
      assert.equal(nb.metadata.kernelspec?.name, KERNEL_NAME, `${basename(file)}: metadata.kernelspec.name`);
      nb.cells.forEach((cell, i) => {
        if (cell.cell_type !== 'code') return;
        const clean = (cell.outputs ?? []).length === 0 && cell.execution_count == null;
        assert.ok(clean, `${basename(file)} cell ${i} was saved with outputs; clear them before committing`);
      });
    }
  });

  if (skipWithout(JUPYTER)) return;
  for (const file of notebooks) {
    it(`${basename(file)} runs cleanly with RNN_WORKBOOK_PRESET=${PRESET}`, async () => {
      const name = basename(file);
      const source = readFileSync(file, 'utf8');
      let r: NotebookRun;
      try {
        r = await executeNotebook(file, prepared, { preset: PRESET });
      } catch (e) {
        runs.set(name, e as Error);
        throw e;
      }
      writeFileSync(join(snapshot.notebooksDir, name), source);
      copyFileSync(r.output, join(snapshot.executedDir, name));
      runs.set(name, r);
      assert.ok(r.ok, report(r));
      assert.equal(r.executed, r.cells);
    });
  }
});

// The lessons' site, from the notebooks executed above: never from older copies, so a lesson that
// failed (or did not run) fails every check here with its name, rather than skipping them.
describe('lessons site from the executed notebooks', () => {
  if (skipWithout(CHROMIUM, JUPYTER)) return;
  const names = notebooks.map((f) => basename(f));
  const isLesson = new Set(lessonNames(NOTEBOOKS_DIR));
  const lessons = names.map((f) => f.slice(0, -'.ipynb'.length)).filter((name) => isLesson.has(name));
  browserHooks();
  const site = siteBuiltBefore(() => {
    const failed = names.flatMap((name) => {
      const r = runs.get(name);
      if (!r) return [`${name}: not executed (its test above did not run)`];
      if (r instanceof Error) return [`${name}: the runner failed: ${r.message}`];
      return r.ok ? [] : [report(r)];
    });
    if (failed.length) throw new Error(`${failed.length} of ${names.length} notebooks did not execute cleanly, so the lessons' site is not checked:\n${failed.join('\n')}`);
    copyNotebookAssets(NOTEBOOKS_DIR, snapshot.notebooksDir);
    return buildSite({ ...snapshot, outDir: tmpDir(), title: 'rnn-workbook', log: () => undefined });
  });
  checkSite({ label: 'lessons', lessons, site, ...snapshot });
});
