// npm run lessons keeps an executed notebook exactly when nothing it depends on changed, and npm test
// uses that execution (keptRun) under the same condition.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { cacheKey, forget, isCached, libraryDigest, nativeGemmDigest, remember } from '../scripts/notebook-cache';
import { keptRun } from '../scripts/execute-notebooks';

function project(): { root: string; notebook: string; output: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'rw-cache-'));
  mkdirSync(join(root, 'dist', 'src'), { recursive: true });
  writeFileSync(join(root, 'dist', 'src', 'index.js'), 'exports.train = () => 1;\n');
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  writeFileSync(join(root, 'lesson.ipynb'), '{"cells": []}\n');
  return { root, notebook: join(root, 'lesson.ipynb'), output: join(root, 'executed.ipynb'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

describe('the notebook cache key', () => {
  it('stays the same when the library is rebuilt unchanged, and changes with each of its inputs', () => {
    const p = project();
    try {
      const key = () => cacheKey(p.notebook, libraryDigest(p.root), undefined, {});
      const first = key();
      writeFileSync(join(p.root, 'dist', 'src', 'index.js'), 'exports.train = () => 1;\n'); // rebuilt, same content
      writeFileSync(join(p.root, 'dist', 'tsconfig.build.tsbuildinfo'), 'timestamps');
      assert.equal(key(), first);

      writeFileSync(join(p.root, 'dist', 'src', 'index.js'), 'exports.train = () => 2;\n');
      const libraryChanged = key();
      assert.notEqual(libraryChanged, first);
      writeFileSync(join(p.root, 'lesson.ipynb'), '{"cells": [1]}\n');
      const sourceChanged = key();
      assert.notEqual(sourceChanged, libraryChanged);
      writeFileSync(join(p.root, 'package-lock.json'), '{"lockfileVersion": 3, "x": 1}\n');
      const depsChanged = key();
      assert.notEqual(depsChanged, sourceChanged);

      const library = libraryDigest(p.root);
      assert.notEqual(cacheKey(p.notebook, library, 'test', {}), depsChanged, 'the preset');
      assert.notEqual(cacheKey(p.notebook, library, undefined, { RNN_BACKEND: 'cpu' }), depsChanged, 'RNN_BACKEND');
      assert.notEqual(cacheKey(p.notebook, library, undefined, { RNN_NATIVE: '0' }), depsChanged, 'RNN_NATIVE');
      assert.equal(cacheKey(p.notebook, library, undefined, { HOME: '/elsewhere' }), depsChanged, 'other variables do not count');
      const gemm = (built: string) => cacheKey(p.notebook, library, undefined, {}, built);
      assert.notEqual(gemm('onednn 2.6.3, openblas 0.3.21'), gemm(''), 'a native GEMM built');
      assert.notEqual(gemm('onednn 2.6.3'), gemm('onednn 2.7.0'), "the GEMM library's version");
    } finally {
      p.cleanup();
    }
  });

  it("reads which native GEMM is built from the build's record", () => {
    const p = project();
    try {
      const record = join(p.root, 'gemm.json');
      assert.equal(nativeGemmDigest(record), '', 'never built');
      writeFileSync(record, JSON.stringify({ built: ['onednn', 'openblas'], versions: { onednn: '2.6.3', openblas: '0.3.21' } }));
      assert.equal(nativeGemmDigest(record), 'onednn 2.6.3, openblas 0.3.21');
      writeFileSync(record, JSON.stringify({ built: [], versions: {}, reason: 'no CPU BLAS' }));
      assert.equal(nativeGemmDigest(record), '', 'built nothing');
    } finally {
      p.cleanup();
    }
  });

  it('keeps an executed copy only while its stored key matches and the copy exists', () => {
    const p = project();
    try {
      const key = cacheKey(p.notebook, libraryDigest(p.root), undefined, {});
      assert.equal(isCached(p.output, key), false, 'never executed');
      writeFileSync(p.output, '{"cells": []}\n');
      remember(p.output, key);
      assert.equal(isCached(p.output, key), true);
      assert.equal(isCached(p.output, key.replace(/^./, (c) => (c === '0' ? '1' : '0'))), false, 'another key');
      forget(p.output); // a run starts: a crash must not leave the old key standing
      assert.equal(isCached(p.output, key), false);
      remember(p.output, key);
      rmSync(p.output);
      assert.equal(isCached(p.output, key), false, 'copy deleted');
    } finally {
      p.cleanup();
    }
  });
});

describe('keptRun: npm test uses the clean execution npm run lessons keeps', () => {
  const cell = (source: string, n: number | null, outputs: object[] = []) => ({ cell_type: 'code', execution_count: n, metadata: {}, source, outputs });
  const nb = (cells: object[]) => JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });
  function setup(executed: object[]) {
    const p = project();
    const keptDir = join(p.root, 'executed');
    const outDir = join(p.root, 'snapshot');
    mkdirSync(keptDir);
    writeFileSync(p.notebook, nb([cell('const a = 1;', null), cell('', null)]));
    const library = libraryDigest(p.root);
    const copy = join(keptDir, 'lesson.ipynb');
    writeFileSync(copy, nb(executed));
    remember(copy, cacheKey(p.notebook, library, undefined));
    return { ...p, keptDir, outDir, library, run: () => keptRun(p.notebook, outDir, library, keptDir) };
  }

  it('copies a kept execution whose key is this content, and summarises it', () => {
    const s = setup([cell('const a = 1;', 1, [{ output_type: 'stream', name: 'stdout', text: 'ok\n' }]), cell('', null)]);
    try {
      const r = s.run();
      assert.ok(r);
      assert.deepEqual([r.ok, r.cells, r.executed, r.figures, r.problems], [true, 1, 1, 0, []]);
      assert.equal(r.kept, join(s.keptDir, 'lesson.ipynb'));
      assert.equal(r.output, join(s.outDir, 'lesson.ipynb'));
      assert.equal(readFileSync(r.output, 'utf8'), readFileSync(r.kept, 'utf8'));
    } finally {
      s.cleanup();
    }
  });

  it('is null when the notebook, the library or the environment changed, or no key was kept', () => {
    const s = setup([cell('const a = 1;', 1), cell('', null)]);
    try {
      assert.equal(keptRun(s.notebook, s.outDir, 'another library', s.keptDir), null, 'the library');
      const backend = process.env.RNN_BACKEND;
      process.env.RNN_BACKEND = backend === 'cpu' ? 'wasm' : 'cpu';
      try {
        assert.equal(s.run(), null, 'RNN_BACKEND');
      } finally {
        if (backend === undefined) delete process.env.RNN_BACKEND;
        else process.env.RNN_BACKEND = backend;
      }
      assert.ok(s.run(), 'unchanged: kept');
      writeFileSync(s.notebook, nb([cell('const a = 2;', null)]));
      assert.equal(s.run(), null, 'the source');
      forget(join(s.keptDir, 'lesson.ipynb'));
      assert.equal(s.run(), null, 'no key');
    } finally {
      s.cleanup();
    }
  });

  it('reports what the kept copy shows went wrong: stderr, an error, a cell that did not run', () => {
    const s = setup([cell('const a = 1;', null, [{ output_type: 'stream', name: 'stderr', text: 'a warning\n' }]), cell('', null)]);
    try {
      const r = s.run();
      assert.ok(r);
      assert.equal(r.ok, false);
      assert.deepEqual(r.problems.map((p) => [p.cell, p.kind, p.message]), [[0, 'stderr', 'a warning']]);
      assert.equal(r.executed, 0);
    } finally {
      s.cleanup();
    }
    const e = setup([cell('const a = 1;', 1, [{ output_type: 'error', ename: 'Error', evalue: 'boom', traceback: [] }]), cell('', null)]);
    try {
      assert.deepEqual(e.run()?.problems.map((p) => [p.kind, p.message]), [['error', 'Error: boom']]);
    } finally {
      e.cleanup();
    }
    const n = setup([cell('const a = 1;', null), cell('', null)]);
    try {
      assert.deepEqual(n.run()?.problems.map((p) => [p.kind, p.message]), [['incomplete', '0 of 1 cells ran']]);
    } finally {
      n.cleanup();
    }
  });
});
