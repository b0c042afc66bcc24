// Every notebook in notebooks/ runs headless on the tslab kernel: no cell fails, nothing lands on
// stderr, every chart carries the full plotly bundle and, as committed, every exercise's check
// prints ✓. When `npm run lessons` already executed a lesson cleanly with exactly today's content
// (same source, dist/, lock, keyed environment: the key of scripts/notebook-cache.ts), that
// execution — with the lessons' own settings, which also run the assertion cells a quick run skips
// — is checked and used instead of executing the lesson again; otherwise (say `npm test` without
// `npm run lessons`) the lesson is executed here with its quick settings (RNN_WORKBOOK_PRESET=test).
// Each test says which in a diagnostic line. The learner's copy of each lesson (scripts/exercises.ts,
// stubs instead of solutions) is always executed, with the quick settings: it runs to the end with
// one "✗ … not written yet" per exercise (and keeps the quick settings proven on every lesson).
// The runner's own failure detection is checked first, on notebooks made up here. Last, the
// lessons' site is built from those executions and checked in headless Chromium (the checks of
// test/site-checks.ts, the same as for test/lessons.test.ts's sample site).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { availableParallelism } from 'os';
import { basename, join } from 'path';
import { buildSite, lessonNames, zhExecuted } from '../scripts/build-site';
import { FIGURES_SUFFIX, readFigureDictionary } from '../src/figure-text';
import {
  defaultOutDir,
  executeNotebook,
  figureCalls,
  figureProblems,
  keptRun,
  missingFigures,
  listNotebooks,
  NOTEBOOKS_DIR,
  prepare,
  report,
  type NotebookJson,
  type NotebookRun,
  type Prepared,
} from '../scripts/execute-notebooks';
import { CHECK_TAG, EXERCISE_TAG, learnerCopies, tagsOf, type LearnerCopy, type NotebookCell } from '../scripts/exercises';
import { KERNEL_NAME, ROOT } from '../scripts/notebook-env';
import { forget, libraryDigest } from '../scripts/notebook-cache';
import { EMBED_CLASS, FIGURE_CLASS, PLOTLY_MIME } from '../src/plot';
import { CHROMIUM, JUPYTER } from '../scripts/prerequisites';
import { missing, skipWithout } from './needs';
import { browserHooks, checkEditions, checkSite, copyNotebookAssets, removeTmpDirs, siteBuiltBefore, snapshotNotebooks, tmpDir } from './site-checks';
import { ZH_DIR } from '../scripts/zh-sync';
import { existsSync } from 'fs';

const PRESET = 'test';
let prepared: Prepared;
let library: string; // the key's digest of dist/ and the lock, once dist/ is built

before(() => {
  if (missing(JUPYTER)) return;
  prepared = prepare(); // links the package, builds dist/, writes the kernel spec
  library = libraryDigest();
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

  it('counts the charts a cell should show against the plotly outputs it has', () => {
    const figure = { output_type: 'display_data', data: { [PLOTLY_MIME]: {}, 'text/html': '', 'text/plain': 'F' } };
    const printed = { output_type: 'stream', text: 'x' };
    const cell = (source: string, ...outputs: object[]) => ({ cell_type: 'code', source: [source], outputs });
    assert.equal(figureCalls("rw.plot(a);\nconst c = new rw.LiveChart({});\n// rw.plot(b) in a comment\nrw.plotSetup();"), 2);
    const nb = {
      metadata: {},
      cells: [cell('rw.plot(a);', figure), cell('rw.plot(a);\nrw.plot(b);', figure), cell('for (const f of fs) rw.plot(f);', figure, figure), cell('new rw.LiveChart({});', printed)],
    } as NotebookJson;
    assert.deepEqual(missingFigures(nb), ['cell 1: 2 chart call(s) in the code, 1 figure(s) shown', 'cell 3: 1 chart call(s) in the code, 0 figure(s) shown']);
  });
});

/** The one-line verdicts printed by the cells tagged "check": ✓ name, ✗ name not written yet, other ✗ lines. */
function verdicts(file: string): { passed: string[]; notWritten: string[]; failed: string[] } {
  type Stream = { name?: string; text?: string | string[] };
  const nb = JSON.parse(readFileSync(file, 'utf8')) as { cells: NotebookCell[] };
  const out = { passed: [] as string[], notWritten: [] as string[], failed: [] as string[] };
  for (const cell of nb.cells.filter((c) => tagsOf(c).includes(CHECK_TAG))) {
    const outputs = (cell.outputs ?? []) as Stream[];
    const printed = outputs.filter((o) => o.name === 'stdout').map((o) => [o.text ?? ''].flat().join('')).join('');
    for (const line of printed.split('\n')) {
      const m = /^([✓✗]) (\S+) \(exercise [^)]*\)( is not written yet)?/.exec(line);
      if (m?.[1] === '✓') out.passed.push(m[2]!);
      else if (m?.[3]) out.notWritten.push(m[2]!);
      else if (line.startsWith('✗')) out.failed.push(line);
    }
  }
  return out;
}

const notebooks = listNotebooks();
// The learner's copies, written where `rnn-workbook` resolves as it does from lessons/exercises/
// (up the folders to the project's node_modules), and executed into a folder of their own.
const exercisesDir = join(ROOT, '.cache', 'exercises-test');
const exercisesOut = join(ROOT, '.cache', `executed-${PRESET}-exercises`);
let copies: Map<string, LearnerCopy> | Error | undefined;
function learnerCopy(file: string): LearnerCopy {
  if (!copies) {
    try {
      rmSync(exercisesDir, { recursive: true, force: true });
      mkdirSync(exercisesDir, { recursive: true });
      const made = learnerCopies(NOTEBOOKS_DIR, notebooks.map((f) => basename(f, '.ipynb')));
      for (const c of made) writeFileSync(join(exercisesDir, `${c.name}.ipynb`), c.json);
      copies = new Map(made.map((c) => [c.name, c]));
    } catch (e) {
      copies = e as Error;
    }
  }
  if (copies instanceof Error) throw copies;
  return copies.get(basename(file, '.ipynb'))!;
}
const stubNames = (file: string) => learnerCopy(file).stubs.map((s) => s.name);
const sorted = (names: string[]) => [...names].sort();
// What the notebook tests below leave for the site: each notebook's source as it was checked, and
// its executed copy (kept from .cache/executed/, or as the runner just wrote it to
// .cache/executed-test/), both in temp dirs.
const snapshot = { notebooksDir: tmpDir(), executedDir: tmpDir() };
const runs = new Map<string, NotebookRun | Error>(); // by file name
after(removeTmpDirs);

// A kernel's training already keeps two cores busy (the data-parallel fast path), so two kernels
// side by side only pay off with four cores or more: on two, lesson 04's two versions took 43 s
// each side by side against 20 s for one alone.
const KERNELS_AT_ONCE = availableParallelism() >= 4 ? 2 : 1;

describe('notebooks/', { concurrency: KERNELS_AT_ONCE }, () => {
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

  it('every lesson has at least 3 exercises, each an exercise cell followed by the cell that checks it', () => {
    for (const file of notebooks.filter((f) => lessonNames(NOTEBOOKS_DIR).includes(basename(f, '.ipynb')))) {
      const { stubs } = learnerCopy(file);
      assert.ok(stubs.length >= 3, `${basename(file)} has ${stubs.length} exercise(s) (// BEGIN SOLUTION regions); the workbook wants at least 3 per lesson`);
      const cells = (read(file).cells as NotebookCell[]);
      for (const s of stubs) {
        const next = cells.slice(s.cell + 1).find((c) => c.cell_type === 'code');
        const where = `${basename(file)} cell ${s.cell + 1} (${s.name})`;
        assert.ok(next && tagsOf(next).includes(CHECK_TAG), `${where}: the next code cell should be tagged "${CHECK_TAG}"`);
        assert.match([next.source].flat().join(''), new RegExp(`rw\\.check\\.${s.name}\\(${s.name}\\)`), `${where}: the check cell calls rw.check.${s.name}(${s.name})`);
        assert.ok(tagsOf(cells[s.cell]!).includes(EXERCISE_TAG));
      }
    }
  });

  if (skipWithout(JUPYTER)) return;
  for (const file of notebooks) {
    it(`${basename(file)} runs cleanly and every exercise's check prints ✓ (npm run lessons' execution of this content, else executed with RNN_WORKBOOK_PRESET=${PRESET})`, async (t) => {
      const name = basename(file);
      const source = join(snapshot.notebooksDir, name); // the source as checked; the key is computed from it
      writeFileSync(source, readFileSync(file, 'utf8'));
      let r: NotebookRun;
      try {
        const kept = keptRun(source, snapshot.executedDir, library);
        if (kept) {
          r = kept;
          t.diagnostic(`${name}: not executed again: npm run lessons' clean execution of this very content (lessons' own settings) from ${kept.kept}`);
        } else {
          forget(join(defaultOutDir(PRESET), name)); // this run replaces what RNN_WORKBOOK_PRESET=test npm run lessons kept there
          r = await executeNotebook(file, prepared, { preset: PRESET });
          copyFileSync(r.output, join(snapshot.executedDir, name));
          t.diagnostic(`${name}: executed now with RNN_WORKBOOK_PRESET=${PRESET} in ${r.seconds.toFixed(1)} s (npm run lessons has no clean execution of this content)`);
        }
      } catch (e) {
        runs.set(name, e as Error);
        throw e;
      }
      runs.set(name, r);
      assert.ok(r.ok, report(r));
      assert.equal(r.executed, r.cells);
      assert.deepEqual(missingFigures(read(r.output)), [], 'every rw.plot and LiveChart shows its figure');
      const v = verdicts(r.output);
      assert.deepEqual(v.failed, [], 'no check prints ✗');
      assert.deepEqual(v.notWritten, [], 'no check finds a stub');
      assert.deepEqual(sorted(v.passed), sorted(stubNames(file)), 'one ✓ per solution region, named after its function');
    });

    it(`the learner's copy of ${basename(file)} runs to the end with one "✗ … not written yet" per exercise`, async () => {
      const copy = learnerCopy(file);
      const r = await executeNotebook(join(exercisesDir, `${copy.name}.ipynb`), prepared, { preset: PRESET, outDir: exercisesOut });
      assert.ok(r.ok, report(r)); // no error status, nothing on stderr
      assert.equal(r.executed, r.cells);
      const v = verdicts(r.output);
      assert.deepEqual(v.passed, [], 'a stub never passes its check');
      assert.deepEqual(v.failed, [], 'every check says "not written yet", nothing else');
      assert.deepEqual(sorted(v.notWritten), sorted(stubNames(file)), 'one "not written yet" per stub, named after its function');
    });
  }
});

// The Chinese edition (notebooks/zh/). Its code is the English code byte for byte, and its learner's
// copies run the English learner's code (test/zh.test.ts); its pages show the English executions'
// outputs, their charts translated by the figures.json beside each twin (scripts/build-site.ts
// zhExecuted), checked in Chromium below. Executing all seven twins would run the same code on the
// same data again; what only a kernel running in notebooks/zh shows is that a lesson runs from that
// folder (the package resolves, the checks print ✓) and that the live rw.plot finds the figures.json
// there and draws the charts with the Chinese the zh page shows. One twin proves that: the first
// lesson with a non-empty dictionary (01, which trains nothing: seconds), run with the
// settings its English execution above had, and compared chart by chart with that page's charts.
const zhNotebooks = existsSync(ZH_DIR) ? listNotebooks(ZH_DIR).filter((f) => existsSync(join(NOTEBOOKS_DIR, basename(f)))) : [];
const dictionary = (zhFile: string): Record<string, string> => {
  const file = zhFile.replace(/\.ipynb$/, FIGURES_SUFFIX);
  return existsSync(file) ? readFigureDictionary(file) : {};
};
const zhKernelTwin = zhNotebooks.find((f) => Object.keys(dictionary(f)).length > 0); // its keys are text its code shows (test/zh.test.ts)

/** Per code cell, the text of each chart it shows: title, axis titles, trace names (what a figures.json translates). */
function chartTexts(nb: NotebookJson): (string | undefined)[][][] {
  type Text = { text?: string } | undefined;
  type Fig = { layout?: { title?: Text; xaxis?: { title?: Text }; yaxis?: { title?: Text } }; data?: { name?: string }[] };
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (c.outputs ?? []).flatMap((o) => {
      const fig = o.data?.[PLOTLY_MIME] as Fig | undefined;
      return fig ? [[fig.layout?.title?.text, fig.layout?.xaxis?.title?.text, fig.layout?.yaxis?.title?.text, ...(fig.data ?? []).map((d) => d.name)]] : [];
    }));
}

describe('notebooks/zh/', () => {
  if (skipWithout(JUPYTER)) return;
  it('has a twin with a figures.json to run on the kernel', () => {
    assert.ok(zhKernelTwin, `no notebook in ${ZH_DIR} has a non-empty NN-name${FIGURES_SUFFIX} beside it`);
  });
  if (!zhKernelTwin) return;
  const name = basename(zhKernelTwin);
  it(`zh/${name} runs cleanly from notebooks/zh, every check prints ✓, and its kernel draws the charts in the Chinese of the zh page`, async (t) => {
    const english = runs.get(name);
    assert.ok(english && !(english instanceof Error) && english.ok, `the English ${name} did not run cleanly above, so its twin is not compared`);
    const preset = english.kept ? undefined : PRESET; // the English execution's settings, so the charts compare one to one
    const r = await executeNotebook(zhKernelTwin, prepared, { preset, outDir: join(ROOT, '.cache', 'executed-test-zh') });
    t.diagnostic(`zh/${name}: executed from notebooks/zh ${preset ? `with RNN_WORKBOOK_PRESET=${preset}` : "with the lessons' own settings, as its English execution"} in ${r.seconds.toFixed(1)} s`);
    assert.ok(r.ok, report(r));
    assert.equal(r.executed, r.cells);
    const v = verdicts(r.output);
    assert.deepEqual([v.failed, v.notWritten], [[], []]);
    assert.deepEqual(sorted(v.passed), sorted(stubNames(join(NOTEBOOKS_DIR, name))), 'one ✓ per exercise, as in English');
    assert.ok(r.figures > 0, 'the twin draws charts');
    assert.deepEqual(missingFigures(read(r.output)), [], 'every rw.plot and LiveChart shows its figure');
    const live = chartTexts(read(r.output));
    assert.match(JSON.stringify(live), /[\u4e00-\u9fff]/, 'the kernel translated the chart text with the figures.json beside the notebook');
    const page = zhExecuted(english.output, zhKernelTwin);
    assert.deepEqual(page.problems, []);
    assert.deepEqual(live, chartTexts(page.notebook as NotebookJson), 'cell by cell, the kernel in notebooks/zh draws the charts with the text the zh page gives the English execution');
  });
});

// The lessons' site, from the notebooks executed above: never from older copies, so a lesson that
// failed (or did not run) fails every check here with its name, rather than skipping them.
describe('lessons site from the executed notebooks', () => {
  if (skipWithout(CHROMIUM, JUPYTER)) return;
  const names = notebooks.map((f) => basename(f));
  const isLesson = new Set(lessonNames(NOTEBOOKS_DIR));
  const lessons = names.map((f) => f.slice(0, -'.ipynb'.length)).filter((name) => isLesson.has(name));
  const zhSnapshot = join(snapshot.notebooksDir, 'zh'); // copyNotebookAssets brings the figures.json and glossary.md
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
    snapshotNotebooks(ZH_DIR, zhSnapshot); // the Chinese pages: these notebooks' markdown, the English executions above
    return buildSite({ ...snapshot, zhNotebooksDir: zhSnapshot, outDir: tmpDir(), title: 'rnn-workbook', log: () => undefined });
  });
  checkSite({ label: 'lessons', lessons, site, ...snapshot });
  describe('the Chinese edition (zh/)', () => {
    const zhLessons = lessons.filter((name) => zhNotebooks.some((f) => basename(f, '.ipynb') === name));
    checkSite({ label: 'lessons-zh', lessons: zhLessons, site: () => site().zh!, notebooksDir: zhSnapshot, executedDir: snapshot.executedDir });
    checkEditions({ label: 'lessons', site });
  });
});
