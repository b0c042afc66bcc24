// The Chinese edition (issue 15): notebooks/zh/ holds a twin of every English lesson with the same
// cells (ids, types, order, tags), the English code byte for byte, at least 1,500 Chinese characters
// of prose, no outputs, the project kernel, folded hints kept, and figure dictionaries whose keys
// are strings the code shows. The sync (scripts/zh-sync.ts) and the site's merge of the English
// execution with the zh markdown (scripts/build-site.ts zhExecuted) are checked on made-up notebooks.
// Executing a zh notebook on the kernel (one twin, compared with its page) is test/notebooks.test.ts's job.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lessonNames, zhExecuted } from '../scripts/build-site';
import { learnerCopy, notebookJson, type Notebook, type NotebookCell } from '../scripts/exercises';
import { KERNEL_NAME } from '../scripts/notebook-env';
import { accept, EN_DIR, sha256, staleCells, syncTwin, ZH_DIR, zhMeta } from '../scripts/zh-sync';
import { readFigureDictionary } from '../src/figure-text';
import { PLOTLY_MIME, lineChart, type Figure } from '../src/plot';

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : (s ?? ''));
const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
const cjk = (s: string) => (s.match(/[\u4e00-\u9fff]/g) ?? []).length;
const HINT = /<details class="hint">/g;

const lessons = lessonNames(EN_DIR);

describe('notebooks/zh/', () => {
  it('holds a zh twin of every English lesson', () => {
    assert.equal(lessons.length, 7, 'seven English lessons');
    assert.deepEqual(lessonNames(ZH_DIR), lessons, 'notebooks/zh/NN-name.ipynb for each notebooks/NN-name.ipynb');
  });

  for (const name of lessons) {
    const zhFile = path.join(ZH_DIR, `${name}.ipynb`);
    it(`zh/${name}.ipynb has the English cells (ids, types, order), its code byte for byte, and no outputs`, () => {
      assert.ok(fs.existsSync(zhFile), `${zhFile} is missing`);
      const en = read(path.join(EN_DIR, `${name}.ipynb`));
      const zh = read(zhFile);
      assert.deepEqual(zh.cells.map((c) => [c.id, c.cell_type]), en.cells.map((c) => [c.id, c.cell_type]), 'same cell ids and types in the same order');
      zh.cells.forEach((cell, i) => {
        const twin = en.cells[i]!;
        assert.deepEqual(cell.metadata?.tags ?? [], twin.metadata?.tags ?? [], `cell ${i + 1} (${cell.id}): same tags`);
        if (cell.cell_type !== 'code') return;
        assert.equal(text(cell.source), text(twin.source), `cell ${i + 1} (${cell.id}): the code is the English code (run npm run zh-sync)`);
        assert.deepEqual(cell.metadata ?? {}, twin.metadata ?? {}, `cell ${i + 1} (${cell.id}): same metadata`);
        assert.ok((cell.outputs ?? []).length === 0 && cell.execution_count == null, `cell ${i + 1} was saved with outputs; clear them before committing`);
      });
      assert.equal((zh.metadata.kernelspec as { name?: string } | undefined)?.name, KERNEL_NAME);
    });

    it(`zh/${name}.ipynb is in Chinese: at least 1,500 CJK characters of prose, hints folded as in English`, () => {
      const en = read(path.join(EN_DIR, `${name}.ipynb`));
      const zh = read(zhFile);
      const prose = zh.cells.filter((c) => c.cell_type === 'markdown').map((c) => text(c.source)).join('\n');
      assert.ok(cjk(prose) >= 1500, `${cjk(prose)} CJK characters (U+4E00–U+9FFF) in the markdown; at least 1,500`);
      en.cells.forEach((cell, i) => {
        const hints = (text(cell.source).match(HINT) ?? []).length;
        if (!hints) return;
        const twin = zh.cells.find((c) => c.id === cell.id);
        const source = text(twin?.source);
        assert.equal((source.match(HINT) ?? []).length, hints, `cell ${i + 1} (${cell.id}): ${hints} <details class="hint"> like the English`);
        assert.equal((source.match(/<\/details>/g) ?? []).length, hints, `cell ${i + 1} (${cell.id}): every hint closed`);
      });
    });

    it(`zh/${name}.figures.json is an object of strings whose keys the code shows`, () => {
      const file = path.join(ZH_DIR, `${name}.figures.json`);
      if (!fs.existsSync(file)) return; // a lesson without charts needs none
      const dict = readFigureDictionary(file);
      const code = read(path.join(EN_DIR, `${name}.ipynb`)).cells.filter((c) => c.cell_type === 'code').map((c) => text(c.source)).join('\n');
      for (const [key, value] of Object.entries(dict)) {
        assert.ok(key.length > 0 && code.includes(key), `${JSON.stringify(key)} is not a string in ${name}'s code`);
        assert.ok(cjk(value) > 0 || value === key, `${JSON.stringify(key)} → ${JSON.stringify(value)} is not Chinese`);
      }
    });

    it(`zh/${name}.ipynb is in step: npm run zh-sync would change nothing, and its learner's copy runs the English learner's code`, () => {
      const en = read(path.join(EN_DIR, `${name}.ipynb`));
      const zh = read(zhFile);
      const r = syncTwin(en, zh);
      assert.deepEqual([r.added, r.dropped, r.code], [[], [], []], 'run npm run zh-sync');
      // The learner's copies differ only in markdown, so executing the English one (test/notebooks.test.ts) covers both.
      const code = (nb: Notebook) => nb.cells.filter((c) => c.cell_type === 'code').map((c) => text(c.source));
      assert.deepEqual(code(learnerCopy(zh, name).notebook), code(learnerCopy(en, name).notebook));
    });
  }

  it('notebooks/zh/glossary.md is a table linking the notes\u2019 words, d2l-zh terms, English and code names', () => {
    const glossary = fs.readFileSync(path.join(ZH_DIR, 'glossary.md'), 'utf8');
    const rows = glossary.split('\n').filter((l) => /^\|/.test(l) && !/^\|\s*-/.test(l));
    assert.ok(rows.length - 1 >= 25, `${rows.length - 1} rows; 25–40 wanted`);
    assert.match(rows[0]!, /笔记中的说法.*d2l-zh.*English.*代码/);
    assert.match(glossary, /潜变量/);
  });
});

// ---------------------------------------------------------------------------------------------
// The sync, on made-up notebooks.

const md = (id: string, source: string, metadata: Record<string, unknown> = {}): NotebookCell => ({ id, cell_type: 'markdown', metadata, source });
const code = (id: string, source: string, tags: string[] = []): NotebookCell => ({ id, cell_type: 'code', metadata: { tags }, source, outputs: [], execution_count: null });
const notebook = (cells: NotebookCell[]): Notebook => ({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: KERNEL_NAME } }, cells });

describe('zh-sync', () => {
  const en = notebook([md('a', '# Title'), code('b', 'const x = 1;', ['exercise']), md('c', 'Prose.'), code('d', 'rw.check.x(x);')]);
  const zh = notebook([md('c', '正文。'), md('a', '# 标题'), code('b', 'const x = 0; // old'), md('gone', '删掉的')]);

  it('copies the code, adds new English cells untranslated, drops deleted ones and takes the English order', () => {
    const r = syncTwin(en, zh);
    assert.deepEqual(r.notebook.cells.map((c) => c.id), ['a', 'b', 'c', 'd']);
    assert.deepEqual(r.notebook.cells.map((c) => text(c.source)), ['# 标题', 'const x = 1;', '正文。', 'rw.check.x(x);']);
    assert.deepEqual(r.notebook.cells[1]!.metadata, { tags: ['exercise'] });
    assert.deepEqual([r.added, r.dropped, r.code], [['d'], ['gone'], ['b', 'd']]);
    assert.equal(zhMeta(r.notebook.cells[0]!).en_sha256, sha256('# Title'), 'records the English it was translated from');
    assert.equal(notebookJson(syncTwin(en, r.notebook).notebook), notebookJson(r.notebook), 'idempotent');
  });

  it('--check lists the cells whose English changed since translation, and the untranslated ones', () => {
    const synced = syncTwin(notebook([...en.cells, md('e', 'New prose.')]), zh).notebook;
    assert.deepEqual(staleCells(en, synced).map((s) => [s.id, s.reason]), [['e', 'untranslated']]);
    const changed = notebook(en.cells.map((c) => (c.id === 'c' ? md('c', 'Prose, rewritten.') : c)));
    assert.deepEqual(staleCells(changed, synced).map((s) => [s.id, s.reason]), [['c', 'changed'], ['e', 'untranslated']]);
    assert.deepEqual(accept(changed, synced, new Set(['c'])), ['c']);
    assert.deepEqual(staleCells(changed, synced).map((s) => s.id), ['e'], 'accepted: records today\u2019s English');
  });

  it('an untranslated cell follows its English until someone translates it', () => {
    const v1 = notebook([md('a', 'One.')]);
    const v2 = notebook([md('a', 'One, rewritten.')]);
    const added = syncTwin(v1, notebook([])).notebook;
    assert.equal(zhMeta(added.cells[0]!).untranslated, true);
    const followed = syncTwin(v2, added).notebook;
    assert.equal(text(followed.cells[0]!.source), 'One, rewritten.');
    const translated = structuredClone(followed);
    translated.cells[0]!.source = '一，重写了。';
    const kept = syncTwin(v2, translated).notebook;
    assert.equal(text(kept.cells[0]!.source), '一，重写了。');
    assert.deepEqual(zhMeta(kept.cells[0]!), { en_sha256: sha256('One, rewritten.') }, 'translated: the flag is gone');
  });
});

describe('the Chinese pages from the English execution', () => {
  it('take the zh markdown and the English outputs by cell id, charts translated; refuse code that differs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zh-merge-'));
    try {
      const fig = { ...{ output_type: 'display_data', metadata: {} }, data: { [PLOTLY_MIME]: lineChart({ train: [3, 2] }, { title: 'Training perplexity (θ = 1)', xTitle: 'epoch' }), 'text/plain': 'F' } };
      const executed = notebook([md('a', '# Title'), { ...code('b', 'plot();'), outputs: [fig], execution_count: 1 }]);
      fs.writeFileSync(path.join(dir, 'en.ipynb'), JSON.stringify(executed));
      fs.writeFileSync(path.join(dir, '02-x.ipynb'), JSON.stringify(notebook([md('a', '# 标题'), code('b', 'plot();')])));
      fs.writeFileSync(path.join(dir, '02-x.figures.json'), JSON.stringify({ 'Training perplexity': '训练困惑度', epoch: '迭代周期' }));
      const { notebook: merged, problems } = zhExecuted(path.join(dir, 'en.ipynb'), path.join(dir, '02-x.ipynb'));
      assert.deepEqual(problems, []);
      assert.equal(text(merged.cells[0]!.source), '# 标题');
      const shown = (merged.cells[1]!.outputs as { data: Record<string, Figure> }[])[0]!.data[PLOTLY_MIME]!;
      assert.equal(shown.layout.title?.text, '训练困惑度 (θ = 1)');
      assert.equal(shown.layout.xaxis?.title?.text, '迭代周期');
      assert.deepEqual(shown.data[0]!.y, [3, 2]);
      assert.equal(merged.cells[1]!.execution_count, 1);

      fs.writeFileSync(path.join(dir, '02-x.ipynb'), JSON.stringify(notebook([md('a', '# 标题'), code('b', 'plot(); // 改过')])));
      assert.match(zhExecuted(path.join(dir, 'en.ipynb'), path.join(dir, '02-x.ipynb')).problems.join('\n'), /code cell 2 \(id b\) is not the English notebook's code/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
