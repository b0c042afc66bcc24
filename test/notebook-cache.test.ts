// npm run lessons keeps an executed notebook exactly when nothing it depends on changed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { cacheKey, forget, isCached, libraryDigest, nativeGemmDigest, remember } from '../scripts/notebook-cache';

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
