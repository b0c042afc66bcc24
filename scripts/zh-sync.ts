// The Chinese edition (notebooks/zh/NN-name.ipynb) stays in step with the English notebooks it
// translates. The code is one copy: the English. For each English notebook with a zh twin:
//   - every code cell's source and metadata are copied from English by cell id (outputs emptied);
//   - English cells the twin lacks are added, in English, marked metadata.rnn_workbook.untranslated;
//   - cells deleted in English are dropped, and the cells take the English order;
//   - each markdown cell records in metadata.rnn_workbook.en_sha256 the sha256 of the English source
//     it was translated from (first recorded when missing: the translation is taken to be of today's
//     English), so `--check` can list the cells whose English changed since.
// An untranslated cell follows its English until someone edits it; then the flag is dropped.
//
//   npm run zh-sync                      rewrite the twins that are out of step (idempotent)
//   npm run zh-sync -- --check           list the zh cells whose English changed since translation (exit 0)
//   npm run zh-sync -- --accept ID ...   after updating a translation: record today's English for these cell ids
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { notebookJson, type Notebook, type NotebookCell } from './exercises';

const ROOT = path.resolve(__dirname, '..');
export const EN_DIR = path.join(ROOT, 'notebooks');
export const ZH_DIR = path.join(EN_DIR, 'zh');
export const META = 'rnn_workbook';

export interface ZhMeta {
  en_sha256?: string;
  untranslated?: boolean;
}

const sourceText = (s: string | string[] | undefined): string => (Array.isArray(s) ? s.join('') : (s ?? ''));
export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const idOf = (cell: NotebookCell): string => String(cell.id ?? '');
export const zhMeta = (cell: NotebookCell): ZhMeta => (cell.metadata?.[META] as ZhMeta | undefined) ?? {};

/** The English notebooks that have a zh twin, by name (without .ipynb). */
export function twinNames(enDir = EN_DIR, zhDir = path.join(enDir, 'zh')): string[] {
  if (!fs.existsSync(zhDir)) return [];
  return fs
    .readdirSync(zhDir)
    .filter((f) => f.endsWith('.ipynb') && fs.existsSync(path.join(enDir, f)))
    .sort()
    .map((f) => f.slice(0, -'.ipynb'.length));
}

export interface SyncResult {
  notebook: Notebook;
  added: string[]; // ids of English cells added untranslated
  dropped: string[]; // ids of zh cells whose English is gone
  code: string[]; // ids of code cells whose source or metadata changed
}

/** The twin brought in step with `en` (pure). Cells are matched by id; English cells need ids (nbformat 4.5). */
export function syncTwin(en: Notebook, zh: Notebook): SyncResult {
  const byId = new Map(zh.cells.map((c) => [idOf(c), c]));
  const result: SyncResult = { notebook: { ...structuredClone(zh), metadata: structuredClone(en.metadata), cells: [] }, added: [], dropped: [], code: [] };
  for (const [k, v] of Object.entries(en)) if (k !== 'cells' && k !== 'metadata') result.notebook[k] = structuredClone(v);
  const enIds = new Set(en.cells.map(idOf));
  result.dropped = zh.cells.map(idOf).filter((id) => !enIds.has(id));
  for (const enCell of en.cells) {
    const id = idOf(enCell);
    if (!id) throw new Error('an English cell has no id: save the notebook with nbformat 4.5 (Jupyter adds ids)');
    const twin = byId.get(id);
    const enSource = sourceText(enCell.source);
    if (enCell.cell_type === 'code') {
      const cell: NotebookCell = { ...structuredClone(enCell), outputs: [], execution_count: null };
      if (!twin || sourceText(twin.source) !== enSource || JSON.stringify(twin.metadata ?? {}) !== JSON.stringify(enCell.metadata ?? {})) result.code.push(id);
      if (!twin) result.added.push(id);
      result.notebook.cells.push(cell);
      continue;
    }
    if (!twin || twin.cell_type !== enCell.cell_type) {
      result.added.push(id);
      result.notebook.cells.push({ ...structuredClone(enCell), metadata: { ...structuredClone(enCell.metadata ?? {}), [META]: { en_sha256: sha256(enSource), untranslated: true } } });
      continue;
    }
    const meta = zhMeta(twin);
    let next: ZhMeta;
    let source = twin.source;
    if (meta.untranslated && meta.en_sha256 === sha256(sourceText(twin.source))) {
      source = structuredClone(enCell.source); // still the English it was given: follow the English
      next = { en_sha256: sha256(enSource), untranslated: true };
    } else {
      next = { en_sha256: meta.en_sha256 ?? sha256(enSource) }; // edited (translated), or translated before any record
    }
    const { [META]: _old, ...rest } = twin.metadata ?? {};
    const metadata = { ...structuredClone(enCell.metadata ?? {}), ...rest, [META]: next };
    if (enCell.metadata?.tags) metadata.tags = [...enCell.metadata.tags];
    result.notebook.cells.push({ ...structuredClone(twin), id, source, metadata });
  }
  return result;
}

export interface StaleCell {
  id: string;
  index: number; // in the twin, 0-based
  reason: 'changed' | 'untranslated' | 'unrecorded';
  heading: string; // first line of the zh cell
}

/** The zh markdown cells whose English changed since they were translated, or that are not translated yet. */
export function staleCells(en: Notebook, zh: Notebook): StaleCell[] {
  const english = new Map(en.cells.map((c) => [idOf(c), sha256(sourceText(c.source))]));
  const out: StaleCell[] = [];
  zh.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'markdown') return;
    const meta = zhMeta(cell);
    const heading = sourceText(cell.source).split('\n', 1)[0]!.slice(0, 60);
    const now = english.get(idOf(cell));
    if (meta.untranslated) out.push({ id: idOf(cell), index, reason: 'untranslated', heading });
    else if (!meta.en_sha256) out.push({ id: idOf(cell), index, reason: 'unrecorded', heading });
    else if (now !== undefined && now !== meta.en_sha256) out.push({ id: idOf(cell), index, reason: 'changed', heading });
  });
  return out;
}

/** Records today's English as the source of the translation of the given cells (after updating them). */
export function accept(en: Notebook, zh: Notebook, ids: Set<string>): string[] {
  const english = new Map(en.cells.map((c) => [idOf(c), sha256(sourceText(c.source))]));
  const done: string[] = [];
  for (const cell of zh.cells) {
    const id = idOf(cell);
    if (cell.cell_type !== 'markdown' || !ids.has(id) || !english.has(id)) continue;
    cell.metadata = { ...cell.metadata, [META]: { en_sha256: english.get(id) } };
    done.push(id);
  }
  return done;
}

const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;

/** Writes `text` to `file` through a temporary file and a rename, so a reader never sees half of it. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function main(): number {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      accept: { type: 'string', multiple: true },
      en: { type: 'string', default: EN_DIR },
      zh: { type: 'string' },
    },
  });
  const enDir = values.en!;
  const zhDir = values.zh ?? path.join(enDir, 'zh');
  const names = twinNames(enDir, zhDir);
  if (!names.length) {
    console.log(`zh-sync: no zh twins in ${path.relative(process.cwd(), zhDir) || zhDir} (notebooks/zh/NN-name.ipynb beside notebooks/NN-name.ipynb)`);
    return 0;
  }
  let total = 0;
  for (const name of names) {
    const en = read(path.join(enDir, `${name}.ipynb`));
    const file = path.join(zhDir, `${name}.ipynb`);
    const zh = read(file);
    if (values.check) {
      const stale = staleCells(en, zh);
      total += stale.length;
      for (const s of stale) console.log(`${name}.ipynb cell ${s.index + 1} (id ${s.id}): ${s.reason === 'changed' ? 'English changed since translation' : s.reason === 'untranslated' ? 'not translated yet' : 'no record of its English (run npm run zh-sync)'} · ${s.heading}`);
      continue;
    }
    if (values.accept?.length) {
      const done = accept(en, zh, new Set(values.accept));
      if (done.length) writeAtomic(file, notebookJson(zh));
      for (const id of done) console.log(`${name}.ipynb: cell ${id} now records today's English`);
      continue;
    }
    const r = syncTwin(en, zh);
    const text = notebookJson(r.notebook);
    const changed = text !== fs.readFileSync(file, 'utf8');
    if (changed) writeAtomic(file, text);
    const parts = [
      r.code.length && `${r.code.length} code cell(s) copied from English`,
      r.added.length && `${r.added.length} cell(s) added (untranslated)`,
      r.dropped.length && `${r.dropped.length} cell(s) dropped`,
    ].filter(Boolean);
    console.log(`${name}.ipynb: ${changed ? `updated${parts.length ? `: ${parts.join(', ')}` : ' (metadata, order)'}` : 'in step'}`);
  }
  if (values.check) console.log(total ? `${total} zh cell(s) to review (a report, not a failure).` : 'Every zh markdown cell was translated from the current English.');
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(`zh-sync: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
