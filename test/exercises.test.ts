// scripts/exercises.ts: the learner's copies of the lessons. Solution regions become stubs that throw
// "not written yet" (named after the nearest function above them), outputs go, metadata stays, no
// solution text remains, and a malformed region stops the script with one line naming where.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ExerciseError,
  lessonNames,
  learnerCopy,
  solutionSource,
  stubSource,
  writeExercises,
  type Notebook,
} from '../scripts/exercises';

const ROOT = path.resolve(__dirname, '..');
const tmpDirs: string[] = [];
const tmpDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exercises-test-'));
  tmpDirs.push(dir);
  return dir;
};
after(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const lines = (s: string) => s.split(/(?<=\n)/);
const md = (s: string) => ({ cell_type: 'markdown', metadata: {}, source: lines(s) });
const code = (s: string, tags: string[] = [], outputs: object[] = [], n: number | null = null) =>
  ({ cell_type: 'code', execution_count: n, metadata: { tags }, outputs, source: lines(s) });
const exercise = (s: string) => code(s, ['exercise']);
const text = (source: string | string[]) => (Array.isArray(source) ? source.join('') : source);

const RNN_STEP = `/** H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h): x [B, V], h [B, H] → [B, H]. */
function rnnStep(params: rw.RNNParams, x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  // BEGIN SOLUTION
  const z = tf.add(tf.add(tf.matMul(x, params.W_xh), tf.matMul(h, params.W_hh)), params.b_h);
  return tf.tanh(z) as tf.Tensor2D;
  // END SOLUTION
}`;

/** A lesson shaped as WORKBOOK.md says: task, hint, exercise cell, check cell; executed, with outputs. */
function sampleNotebook(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'rnn-workbook', display_name: 'TypeScript (rnn-workbook)', language: 'typescript' },
      language_info: { name: 'typescript', file_extension: '.ts' },
    },
    cells: [
      md('# Lesson\n\nIntro.'),
      code('import * as rw from "rnn-workbook";\nconsole.log("ready");', [], [{ output_type: 'stream', name: 'stdout', text: ['ready\n'] }], 1),
      md('### Exercise 1.1 · One step\n\nWrite `rnnStep`.'),
      md('<details class="hint"><summary>Hint</summary>\n\nTwo products, a bias, a squash.\n\n</details>'),
      exercise(RNN_STEP),
      code('rw.check.rnnStep(rnnStep);', ['check'], [{ output_type: 'stream', name: 'stdout', text: ['✓ rnnStep (exercise 1.1) matches rw.rnnStep on all 4 cases\n'] }], 2),
      exercise(`const perplexity = (meanLoss: number): number => {
    // BEGIN SOLUTION
    return Math.exp(meanLoss);
    // END SOLUTION
};

export async function trainEpoch<T>(
  model: T,
  lr: number,
): Promise<{ loss: number }> {
  // BEGIN SOLUTION
  const gradientsOfTheSecretKind = await Promise.resolve(lr * 2);
  return { loss: gradientsOfTheSecretKind };
  // END SOLUTION
}`),
    ],
  };
}

describe('stubSource', () => {
  test('replaces a region with the throw line at the region\'s indentation and keeps the signature', () => {
    const { source, stubs } = stubSource(RNN_STEP);
    assert.equal(source, [
      '/** H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h): x [B, V], h [B, H] → [B, H]. */',
      'function rnnStep(params: rw.RNNParams, x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {',
      '  throw rw.notWrittenYet("rnnStep");',
      '}',
    ].join('\n'));
    assert.deepEqual(stubs, [{ line: 2, name: 'rnnStep', removed: RNN_STEP.split('\n').slice(3, 5) }]);
  });

  test('names the stub after the nearest declaration: function, async, generic, const and let arrows, typed consts', () => {
    const cases: [string, string][] = [
      ['function plain(a: number): number {', 'plain'],
      ['async function carry(state: tf.Tensor2D): Promise<number> {', 'carry'],
      ['export function generic<T extends object>(x: T): T {', 'generic'],
      ['const arrow = (x: number): number => {', 'arrow'],
      ['const later = async (x: number): Promise<number> => {', 'later'],
      ['let reassigned = function (x: number): number {', 'reassigned'],
      ['const typed: (x: number) => number = (x) => {', 'typed'],
    ];
    for (const [signature, name] of cases) {
      const { source, stubs } = stubSource(`${signature}\n\t// BEGIN SOLUTION\n\treturn x;\n\t// END SOLUTION\n}`);
      assert.deepEqual(stubs.map((s) => s.name), [name], signature);
      assert.equal(source, `${signature}\n\tthrow rw.notWrittenYet("${name}");\n}`, signature);
    }
  });

  test('gives each of several regions in a cell its own function, over multi-line signatures', () => {
    const cell = sampleNotebook().cells[6]!;
    const { source, stubs } = stubSource(text(cell.source));
    assert.deepEqual(stubs.map((s) => s.name), ['perplexity', 'trainEpoch']);
    assert.match(source, /^ {4}throw rw\.notWrittenYet\("perplexity"\);$/m);
    assert.match(source, /^ {2}throw rw\.notWrittenYet\("trainEpoch"\);$/m);
    assert.match(source, /\): Promise<\{ loss: number \}> \{\n {2}throw/);
  });

  test('never takes a name from inside an earlier region, and says so when no function is above', () => {
    const twoRegionsOneFunction = 'function f(): number {\n  // BEGIN SOLUTION\n  const g = 1;\n  // END SOLUTION\n  // BEGIN SOLUTION\n  return g;\n  // END SOLUTION\n}';
    assert.throws(() => stubSource(twoRegionsOneFunction), { name: 'ExerciseError', message: /^line 5: no "function NAME\(" or "const NAME =" above this region/ });
    assert.throws(() => stubSource('// BEGIN SOLUTION\nconsole.log(1);\n// END SOLUTION'), { message: /^line 1: no "function NAME\("/ });
  });

  test('refuses unbalanced, nested and inline markers, naming the line', () => {
    const f = (body: string) => `function f(): void {\n${body}\n}`;
    assert.throws(() => stubSource(f('  // BEGIN SOLUTION\n  return;')), { message: /^line 2: "\/\/ BEGIN SOLUTION" is never closed by "\/\/ END SOLUTION"$/ });
    assert.throws(() => stubSource(f('  return;\n  // END SOLUTION')), { message: /^line 3: "\/\/ END SOLUTION" without a "\/\/ BEGIN SOLUTION" above it$/ });
    assert.throws(() => stubSource(f('  // BEGIN SOLUTION\n  // BEGIN SOLUTION\n  return;\n  // END SOLUTION\n  // END SOLUTION')), { message: /^line 3: "\/\/ BEGIN SOLUTION" inside the region opened on line 2/ });
    assert.throws(() => stubSource(f('  return; // BEGIN SOLUTION')), { message: /^line 2: a solution marker must be alone on its line/ });
    assert.throws(() => stubSource(f('  //BEGIN SOLUTION\n  return;\n  // END SOLUTION')), { message: /^line 2: a solution marker must be alone on its line/ });
  });
});

test('solutionSource drops only the marker lines', () => {
  assert.equal(solutionSource(RNN_STEP), RNN_STEP.split('\n').filter((l) => !l.includes('SOLUTION')).join('\n'));
  assert.equal(solutionSource('const a = 1;'), 'const a = 1;');
});

describe('learnerCopy', () => {
  test('empties outputs and execution counts, keeps metadata, markdown and hints, and leaves the input alone', () => {
    const nb = sampleNotebook();
    const before = JSON.stringify(nb);
    const { notebook, stubs } = learnerCopy(nb, 'sample.ipynb');
    assert.equal(JSON.stringify(nb), before, 'the input notebook is not modified');
    assert.deepEqual(notebook.metadata, nb.metadata);
    assert.equal(notebook.cells.length, nb.cells.length);
    notebook.cells.forEach((cell, i) => {
      assert.deepEqual(cell.metadata, nb.cells[i]!.metadata, `cell ${i} keeps its metadata (tags)`);
      if (cell.cell_type !== 'code') return assert.deepEqual(cell, nb.cells[i], `markdown cell ${i} is unchanged`);
      assert.deepEqual(cell.outputs, [], `cell ${i} has no outputs`);
      assert.equal(cell.execution_count, null);
      assert.ok(Array.isArray(cell.source) && cell.source.slice(0, -1).every((l) => l.endsWith('\n')), 'source as Jupyter stores it: lines keeping their newline');
    });
    assert.deepEqual(stubs.map((s) => [s.cell, s.name]), [[4, 'rnnStep'], [6, 'perplexity'], [6, 'trainEpoch']]);
    assert.equal(text(notebook.cells[5]!.source), 'rw.check.rnnStep(rnnStep);', 'the check cell stays');
  });

  test('leaves no solution text and no marker in the copy', () => {
    const { notebook, stubs } = learnerCopy(sampleNotebook(), 'sample.ipynb');
    const json = JSON.stringify(notebook);
    const removed = stubs.flatMap((s) => s.removed).map((l) => l.trim());
    assert.equal(removed.length, 5, "2 lines of rnnStep, 1 of perplexity, 2 of trainEpoch");
    for (const line of removed) assert.ok(!json.includes(JSON.stringify(line).slice(1, -1)), `"${line}" is still in the copy`);
    assert.ok(!json.includes('gradientsOfTheSecretKind'));
    assert.ok(!/BEGIN SOLUTION|END SOLUTION|✓/.test(json));
  });

  test('fails on one line naming the notebook, the cell and the line', () => {
    const nb = sampleNotebook();
    nb.cells[6] = exercise('const a = 1;\nfunction f(): void {\n  // BEGIN SOLUTION\n  return;\n}');
    assert.throws(() => learnerCopy(nb, 'notebooks/09-x.ipynb'), (e: Error) => {
      assert.ok(e instanceof ExerciseError);
      assert.equal(e.message, 'notebooks/09-x.ipynb, cell 7, line 3: "// BEGIN SOLUTION" is never closed by "// END SOLUTION"');
      return true;
    });
  });

  test('requires the "exercise" tag on a cell with a region, and a region in a cell with the tag', () => {
    const untagged = sampleNotebook();
    untagged.cells[4] = code(RNN_STEP);
    assert.throws(() => learnerCopy(untagged, 'a.ipynb'), { message: /^a\.ipynb, cell 5, line 3: a solution region in a cell not tagged "exercise"/ });
    const empty = sampleNotebook();
    empty.cells[4] = exercise('function rnnStep(): void {}');
    assert.throws(() => learnerCopy(empty, 'a.ipynb'), { message: /^a\.ipynb, cell 5, line 1: a cell tagged "exercise" without a "\/\/ BEGIN SOLUTION"/ });
  });
});

describe('writeExercises and npm run exercises', () => {
  /** A notebooks folder: two lessons, a non-lesson 00-smoke, and an image the lessons show. */
  function notebooksDir(): string {
    const dir = path.join(tmpDir(), 'notebooks');
    fs.mkdirSync(path.join(dir, 'img'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'img', 'figure.png'), 'png');
    for (const name of ['01-a', '02-b', '00-smoke']) fs.writeFileSync(path.join(dir, `${name}.ipynb`), JSON.stringify(sampleNotebook()));
    return dir;
  }

  test('writes one copy per lesson, with the files beside the notebooks, as Jupyter formats them', () => {
    const dir = notebooksDir();
    const out = path.join(path.dirname(dir), 'exercises');
    const copies = writeExercises(dir, out);
    assert.deepEqual(copies.map((c) => c.name), ['01-a', '02-b']);
    assert.deepEqual(fs.readdirSync(out).sort(), ['01-a.ipynb', '02-b.ipynb', 'img']);
    assert.equal(fs.readFileSync(path.join(out, 'img', 'figure.png'), 'utf8'), 'png');
    const written = fs.readFileSync(path.join(out, '01-a.ipynb'), 'utf8');
    assert.equal(written, `${JSON.stringify(learnerCopy(sampleNotebook(), 'x').notebook, null, 1)}\n`);
  });

  test('the script writes the copies and exits 0, or exits 1 with one line naming the malformed cell', () => {
    const dir = notebooksDir();
    const out = path.join(path.dirname(dir), 'out');
    const run = () => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'exercises.ts'), '--notebooks', dir, '--out', out], { encoding: 'utf8', cwd: ROOT });
    const ok = run();
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /01-a\.ipynb {2}3 exercises: rnnStep, perplexity, trainEpoch/);
    assert.match(ok.stdout, /Wrote 2 learner notebooks \(6 exercises to write\)/);
    const bad = sampleNotebook();
    bad.cells[4] = exercise(RNN_STEP.replace('  // END SOLUTION\n', ''));
    fs.writeFileSync(path.join(dir, '02-b.ipynb'), JSON.stringify(bad));
    const failed = run();
    assert.equal(failed.status, 1);
    assert.equal(failed.stderr, `exercises: ${path.join(dir, '02-b.ipynb')}, cell 5, line 3: "// BEGIN SOLUTION" is never closed by "// END SOLUTION"\n`);
  });

  test('the lessons in notebooks/ transform without error into copies without outputs or solution text', () => {
    const names = lessonNames(path.join(ROOT, 'notebooks'));
    assert.equal(names.length, 7);
    const out = tmpDir();
    const copies = writeExercises(path.join(ROOT, 'notebooks'), out);
    for (const copy of copies) {
      const nb = JSON.parse(fs.readFileSync(path.join(out, `${copy.name}.ipynb`), 'utf8')) as Notebook;
      assert.ok(nb.cells.every((c) => c.cell_type !== 'code' || (c.outputs?.length === 0 && c.execution_count === null)), `${copy.name}: no outputs`);
      assert.ok(!/BEGIN SOLUTION|END SOLUTION/.test(JSON.stringify(nb)), `${copy.name}: no markers`);
      for (const s of copy.stubs) {
        const stubCell = text(nb.cells[s.cell]!.source);
        for (const line of s.removed.map((l) => l.trim()).filter((l) => l.length > 3)) {
          assert.ok(!stubCell.includes(line), `${copy.name} cell ${s.cell + 1}: solution line "${line}" remains`);
        }
      }
    }
  });
});
