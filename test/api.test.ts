// The library's API is chosen: src/index.ts names every export by hand, with a one-line doc each.
// It must offer every `rw.X` the notebooks (English and Chinese) and the scripts' kernel code use,
// and none of the internals a learner should not meet in `rw.` completion.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const INDEX = path.join(ROOT, 'src', 'index.ts');

interface Exported {
  name: string;
  typeOnly: boolean;
  documented: boolean;
}

/** The export declarations of src/index.ts, read by the TypeScript parser. */
function indexExports(): { names: Exported[]; star: string[]; other: string[] } {
  const text = fs.readFileSync(INDEX, 'utf8');
  const file = ts.createSourceFile(INDEX, text, ts.ScriptTarget.ES2022, true);
  const names: Exported[] = [];
  const star: string[] = [];
  const other: string[] = [];
  for (const stmt of file.statements) {
    if (!ts.isExportDeclaration(stmt)) {
      other.push(stmt.getText().slice(0, 60)); // the index only re-exports: no code of its own
      continue;
    }
    if (!stmt.exportClause || ts.isNamespaceExport(stmt.exportClause)) {
      star.push(stmt.getText());
      continue;
    }
    const comments = ts.getLeadingCommentRanges(text, stmt.getFullStart()) ?? [];
    const last = comments[comments.length - 1];
    const documented = last !== undefined && text.slice(last.pos, last.end).startsWith('/**');
    for (const el of stmt.exportClause.elements) names.push({ name: el.name.text, typeOnly: stmt.isTypeOnly || el.isTypeOnly, documented });
  }
  return { names, star, other };
}

/** Every `rw.X` in the code cells of the notebooks (notebooks/ and notebooks/zh/). */
function notebookNames(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const dir of ['notebooks', path.join('notebooks', 'zh')]) {
    for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((n) => n.endsWith('.ipynb'))) {
      const nb = JSON.parse(fs.readFileSync(path.join(ROOT, dir, f), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
      for (const cell of nb.cells.filter((c) => c.cell_type === 'code')) {
        for (const m of [cell.source].flat().join('').matchAll(/\brw\.([A-Za-z_$][\w$]*)/g)) used.set(m[1]!, [...(used.get(m[1]!) ?? []), path.join(dir, f)]);
      }
    }
  }
  return used;
}

/** Every `rw.X` in kernel code the scripts and tests send (preflight, the notebook tests' cells). */
function scriptNames(): Set<string> {
  const used = new Set<string>();
  for (const dir of ['scripts', 'test']) {
    for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((n) => n.endsWith('.ts') && n !== 'api.test.ts')) {
      for (const m of fs.readFileSync(path.join(ROOT, dir, f), 'utf8').matchAll(/\brw\.([A-Za-z_$][\w$]*)/g)) used.add(m[1]!);
    }
  }
  return used;
}

/** Internals: machinery of checkpoints, plotly embedding, threads, backends, the CLI and the tests. */
const INTERNALS = [
  'CHECKPOINT_MAGIC',
  'CHECKPOINT_VERSION',
  'encodeCheckpoint',
  'decodeCheckpoint',
  'isCheckpointFile',
  'removeStaleTemps',
  'nonFiniteParam',
  'EMBED_CLASS',
  'FIGURE_CLASS',
  'PLOTLY_MIME',
  'scriptJson',
  'plotlyEmbedBundle',
  'figureBundle',
  'shownFigure',
  'translateFigure',
  'folderDictionary',
  'sha1',
  'downloadTimeMachine',
  'TIME_MACHINE_SHA1',
  'STEP_FNS',
  'switchBackend',
  'checkBackendEnv',
  'isDataParallel',
  'dataParallelHelper',
  'startDataParallel',
  'softmaxCrossEntropy',
  'PRESETS',
  'MEMORY_BUDGET_BYTES',
  'ALL_CHECKS',
  'UsageError',
  'parseCli',
  'runAsMain',
  'StopFlag',
  'catchStopSignals',
  'PRESET_ENV',
];

describe('src/index.ts, the chosen API', () => {
  const { names, star, other } = indexExports();
  const runtime = new Set(Object.keys(require('../src/index') as object));
  const all = new Set(names.map((n) => n.name));

  it('lists its exports by hand: no `export *`, no code of its own', () => {
    assert.deepEqual(star, []);
    assert.deepEqual(other, []);
    assert.ok(names.length > 40, `only ${names.length} names: the parse found too few export lists`);
  });

  it('documents every export list with a one-line /** */ comment', () => {
    assert.deepEqual(names.filter((n) => !n.documented).map((n) => n.name), []);
  });

  it('exports every value it lists at runtime, and nothing it does not list', () => {
    const values = names.filter((n) => !n.typeOnly).map((n) => n.name);
    assert.deepEqual(values.filter((n) => !runtime.has(n)), []);
    assert.deepEqual([...runtime].filter((n) => !all.has(n) && n !== '__esModule'), []);
  });

  it('offers every rw.X the notebooks use (English and Chinese), at runtime or as a type', () => {
    const used = notebookNames();
    assert.ok(used.size > 40, `only ${used.size} rw. names found in the notebooks' code cells`);
    const missing = [...used].filter(([n]) => !all.has(n)).map(([n, where]) => `${n} (${[...new Set(where)].join(', ')})`);
    assert.deepEqual(missing, []);
  });

  it("offers every rw.X in the scripts' and tests' kernel code", () => {
    assert.deepEqual([...scriptNames()].filter((n) => !all.has(n)), []);
  });

  it('exports none of the internals', () => {
    assert.deepEqual(INTERNALS.filter((n) => all.has(n) || runtime.has(n)), []);
  });
});
