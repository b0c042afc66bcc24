// Every notebook in notebooks/ runs headless on the tslab kernel with the small test preset:
// no cell fails, nothing lands on stderr, and every chart carries the full plotly bundle. Both
// versions of each lesson run: as committed, every exercise's check prints ✓; the learner's copy
// (scripts/exercises.ts, stubs instead of solutions) runs to the end too, with one "✗ … not written
// yet" per exercise. On machines with 4 or more cores the two versions of a lesson run side by side.
// The runner's own failure detection is checked first, on notebooks made up here. Last, the
// lessons' site is built from the executed copies just written and checked in headless Chromium
// (the checks of test/site-checks.ts, the same as for test/lessons.test.ts's sample site).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { availableParallelism } from 'os';
import { basename, join } from 'path';
import { buildSite, lessonNames } from '../scripts/build-site';
import {
  executeNotebook,
  figureCalls,
  figureProblems,
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
import { EMBED_CLASS, FIGURE_CLASS, PLOTLY_MIME } from '../src/plot';
import { CHROMIUM, JUPYTER } from '../scripts/prerequisites';
import { missing, skipWithout } from './needs';
import { browserHooks, checkEditions, checkSite, copyNotebookAssets, removeTmpDirs, siteBuiltBefore, snapshotNotebooks, tmpDir } from './site-checks';
import { ZH_DIR } from '../scripts/zh-sync';
import { existsSync } from 'fs';

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
// What the notebook tests below leave for the site: each notebook's source as it was executed, and
// its executed copy (.cache/executed-test/, as the runner wrote it), copied to temp dirs right away.
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
    it(`${basename(file)} runs cleanly with RNN_WORKBOOK_PRESET=${PRESET} and every exercise's check prints ✓`, async () => {
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

// The Chinese edition (notebooks/zh/): its code is the English code (test/zh.test.ts), so its learner's
// copies run the same code as the English ones executed above and are not executed again; the zh
// notebooks themselves run once each, from notebooks/zh (their figures.json beside them), with the
// same quick preset: that proves they run on the kernel from their folder and draw Chinese charts.
const zhNotebooks = existsSync(ZH_DIR) ? listNotebooks(ZH_DIR).filter((f) => existsSync(join(NOTEBOOKS_DIR, basename(f)))) : [];
describe('notebooks/zh/', () => {
  if (skipWithout(JUPYTER)) return;
  for (const file of zhNotebooks) {
    it(`zh/${basename(file)} runs cleanly from notebooks/zh with RNN_WORKBOOK_PRESET=${PRESET}, every check prints ✓, its charts in Chinese`, async () => {
      const r = await executeNotebook(file, prepared, { preset: PRESET, outDir: join(ROOT, '.cache', `executed-${PRESET}-zh`) });
      assert.ok(r.ok, report(r));
      assert.equal(r.executed, r.cells);
      const v = verdicts(r.output);
      assert.deepEqual([v.failed, v.notWritten], [[], []]);
      assert.deepEqual(missingFigures(read(r.output)), [], 'every rw.plot and LiveChart shows its figure');
      assert.deepEqual(sorted(v.passed), sorted(stubNames(join(NOTEBOOKS_DIR, basename(file)))), 'one ✓ per exercise, as in English');
      const dict = file.replace(/\.ipynb$/, '.figures.json');
      if (r.figures > 0 && existsSync(dict) && Object.keys(JSON.parse(readFileSync(dict, 'utf8'))).length) {
        const shown = JSON.stringify(read(r.output).cells.flatMap((c) => (c.outputs ?? []).map((o) => o.data?.[PLOTLY_MIME] ?? null)).filter(Boolean));
        assert.match(shown, /[\u4e00-\u9fff]/, 'the kernel translated the figure text with the figures.json beside the notebook');
      }
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
