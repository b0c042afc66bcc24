// `npm test`: every test/*.test.ts, two files at a time, the longest first.
//
// `node --test` sorts its files by name, which started test/notebooks.test.ts — by far the longest —
// only after the d2l recipes and a dozen others, and then left the second core to the few short
// files after it. Here the files start in the order below (every file not named runs after them,
// by name), so the long ones overlap each other and the short ones fill the gaps at the end.
// CI's machine has two cores; a lesson's kernel and the d2l recipes keep one or two busy each.
//
//   node --import tsx scripts/run-tests.ts [test/x.test.ts ...]   (default: every test/*.test.ts)
//
// Exit code 1 when a test fails. Output: node:test's spec reporter.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const ROOT = path.resolve(__dirname, '..');
const TEST_DIR = path.join(ROOT, 'test');
export const CONCURRENCY = 2; // files at a time

/** Longest first, from the per-file times of a fresh-clone CI run (see the README's timings). */
export const LONGEST_FIRST = [
  'notebooks', // the lessons: learner's copies, a zh twin, both sites in Chromium (and the lessons themselves without npm run lessons)
  'd2l-sequential', // d2l's recipe, 500 epochs on one thread
  'd2l-random',
  'cli',
  'lessons',
  'twin',
  'notes',
  'autograd',
].map((name) => `${name}.test.ts`);

/** The test files in the order they start: LONGEST_FIRST, then the rest by name. */
export function testOrder(files: string[]): string[] {
  const rank = (f: string) => {
    const i = LONGEST_FIRST.indexOf(path.basename(f));
    return i < 0 ? LONGEST_FIRST.length : i;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

if (require.main === module) {
  const given = process.argv.slice(2).map((f) => path.resolve(f));
  const all = readdirSync(TEST_DIR).filter((f) => f.endsWith('.test.ts')).map((f) => path.join(TEST_DIR, f));
  for (const name of LONGEST_FIRST) {
    if (!all.some((f) => path.basename(f) === name)) throw new Error(`scripts/run-tests.ts names test/${name}, which does not exist; update LONGEST_FIRST`);
  }
  const missing = given.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`no such test file: ${missing.join(', ')}`);
  const stream = run({ files: testOrder(given.length ? given : all), concurrency: CONCURRENCY });
  stream.on('test:fail', () => (process.exitCode = 1));
  stream.compose(new spec()).pipe(process.stdout);
}
