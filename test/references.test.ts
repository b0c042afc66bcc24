// The lessons cite d2l's exercises as "d2l-zh 8.5 ex. N" or "d2l-en 9.5 ex. N", with N a number the
// edition prints: d2l-zh 8.5 (rnn-scratch) has 6 exercises, d2l-en 9.5 (rnn-scratch) has 10. Any other
// form ("d2l 8.5, ex. 7", "d2l exercise 4") names no edition or the wrong number, and fails here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const NOTEBOOKS = join(__dirname, '..', 'notebooks');

/** How many exercises each edition's "RNN from scratch" section prints. */
export const EXERCISES: Record<string, number> = { 'd2l-zh 8.5': 6, 'd2l-en 9.5': 10 };

/** The one citation form the lessons use. */
const CITATION = /^(d2l-zh 8\.5|d2l-en 9\.5) ex\. (\d+)$/;
/** Anything that looks like a citation of a d2l exercise, in whatever form. */
const LOOSE = /\bd2l\b[^\n;()]{0,24}?\b(?:ex\b\.?|exercises?\b)\s*\d+/gi;
/** A d2l section number without the edition ("d2l 8.5"): the two editions number the chapter differently. */
const NO_EDITION = /\bd2l \d+\.\d+/gi;

export interface Citation {
  edition: string;
  number: number;
}

/** Every exercise citation in `text`, and a sentence for each one that is malformed or out of range. */
export function checkCitations(text: string): { citations: Citation[]; problems: string[] } {
  const citations: Citation[] = [];
  const problems: string[] = [];
  for (const [found] of text.matchAll(LOOSE)) {
    const m = CITATION.exec(found);
    if (!m) {
      problems.push(`'${found}' is not of the form 'd2l-zh 8.5 ex. N' or 'd2l-en 9.5 ex. N'`);
      continue;
    }
    const number = Number(m[2]);
    if (number < 1 || number > EXERCISES[m[1]]) problems.push(`'${found}': ${m[1]} has exercises 1 to ${EXERCISES[m[1]]}`);
    else citations.push({ edition: m[1], number });
  }
  for (const [found] of text.matchAll(NO_EDITION)) problems.push(`'${found}' names no edition (write d2l-zh 8.5 or d2l-en 9.5)`);
  return { citations, problems };
}

function notebookText(file: string, dir = NOTEBOOKS): string {
  const nb = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cells: { source: string | string[] }[] };
  return nb.cells.map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
}

const files = readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb')).sort();

describe('checkCitations', () => {
  it('accepts the two exact forms within each edition\u2019s range', () => {
    const r = checkCitations('(d2l-zh 8.5 ex. 6; d2l-en 9.5 ex. 10) and d2l-en 9.5 ex. 1');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.citations, [
      { edition: 'd2l-zh 8.5', number: 6 },
      { edition: 'd2l-en 9.5', number: 10 },
      { edition: 'd2l-en 9.5', number: 1 },
    ]);
  });

  it('refuses numbers the edition lacks', () => {
    assert.equal(checkCitations('(d2l-zh 8.5 ex. 7)').problems.length, 1);
    assert.equal(checkCitations('(d2l-en 9.5 ex. 11)').problems.length, 1);
    assert.equal(checkCitations('(d2l-zh 8.5 ex. 0)').problems.length, 1);
  });

  it('refuses every other form of citation', () => {
    for (const text of ['(d2l 8.5, ex. 7)', '(d2l 8.5, exercise 6)', 'd2l exercise 4', 'd2l-zh 8.5, ex. 2', 'd2l-en 9.5 exercise 3', 'd2l-en 8.5 ex. 1', 'd2l-zh 8.5 ex 2']) {
      assert.ok(checkCitations(text).problems.length > 0, text);
    }
  });

  it('leaves alone what is not an exercise citation', () => {
    assert.deepEqual(checkCitations("d2l's recipe, d2l-en issue #1349, d2l-zh 8.5 / d2l-en 9.5, d2l exercises them all").problems, []);
  });
});

describe('the lessons\u2019 d2l citations', () => {
  it('finds the seven lessons', () => assert.equal(files.length, 7));

  for (const file of files) {
    it(`${file} cites d2l exercises only as 'd2l-zh 8.5 ex. N' / 'd2l-en 9.5 ex. N' with numbers the edition has`, () => {
      assert.deepEqual(checkCitations(notebookText(file)).problems, []);
    });
  }

  it('poses every exercise of both editions somewhere in the lessons', () => {
    const cited = new Set(files.flatMap((f) => checkCitations(notebookText(f)).citations.map((c) => `${c.edition} ex. ${c.number}`)));
    const missing = Object.entries(EXERCISES).flatMap(([edition, n]) => Array.from({ length: n }, (_, i) => `${edition} ex. ${i + 1}`).filter((c) => !cited.has(c)));
    assert.deepEqual(missing, []);
  });
});

// The Chinese edition (notebooks/zh/) keeps the citations in the same form, with Chinese around them.
const ZH = join(NOTEBOOKS, 'zh');
const zhFiles = existsSync(ZH) ? readdirSync(ZH).filter((f) => f.endsWith('.ipynb')).sort() : [];

describe('the Chinese lessons\u2019 d2l citations', () => {
  it('finds a zh twin of each lesson', () => assert.deepEqual(zhFiles, files));

  for (const file of zhFiles) {
    it(`zh/${file} cites d2l exercises only as 'd2l-zh 8.5 ex. N' / 'd2l-en 9.5 ex. N', the same ones as the English`, () => {
      const zh = checkCitations(notebookText(file, ZH));
      assert.deepEqual(zh.problems, []);
      const cited = (r: { citations: Citation[] }) => [...new Set(r.citations.map((c) => `${c.edition} ex. ${c.number}`))].sort();
      assert.deepEqual(cited(zh), cited(checkCitations(notebookText(file))), 'the translation cites what the English cites');
    });
  }
});
