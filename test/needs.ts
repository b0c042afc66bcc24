// Suites that need a system tool (scripts/prerequisites.ts) start with `if (skipWithout(TOOL)) return;`.
// When the tool is missing, the suite becomes one skipped test whose reason names the tool and the
// command that installs it (counted in the summary, unlike a skipped suite), and
// test/prerequisites.test.ts fails with the same line. `npm test` does not get this far without
// them: its pretest installs them (root) or stops with that line.
import { it } from 'node:test';
import { plan, type Prerequisite } from '../scripts/prerequisites';

const present = new Map<Prerequisite, boolean>();

/** One line naming the missing ones and how to install them; null when all are there. Checked once per process. */
export function missing(...prerequisites: Prerequisite[]): string | null {
  for (const p of prerequisites) if (!present.has(p)) present.set(p, p.present());
  const todo = plan(prerequisites.filter((p) => !present.get(p)), { root: false, apt: true });
  return todo.action === 'fail' ? todo.line : null;
}

/** In a suite: when a prerequisite is missing, one skipped test saying which, and true (return then). */
export function skipWithout(...prerequisites: Prerequisite[]): boolean {
  const line = missing(...prerequisites);
  if (line) it(`needs ${prerequisites.map((p) => p.name).join(' and ')}`, { skip: line }, () => undefined);
  return line !== null;
}
