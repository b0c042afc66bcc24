// npm test's runner (scripts/run-tests.ts) starts the long test files first, then the rest by name.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LONGEST_FIRST, testOrder } from '../scripts/run-tests';

const files = readdirSync(__dirname).filter((f) => f.endsWith('.test.ts'));

test('every file the runner starts first is a test file, named once', () => {
  assert.deepEqual(LONGEST_FIRST.filter((f) => !files.includes(f)), []);
  assert.equal(new Set(LONGEST_FIRST).size, LONGEST_FIRST.length);
});

test('the named files start first, in their order, then every other file by name; none is lost', () => {
  const given = ['test/zh.test.ts', 'test/d2l-random.test.ts', 'test/autograd.test.ts', 'test/notebooks.test.ts', 'test/batches.test.ts'];
  const order = testOrder(given).map((f) => path.basename(f));
  const named = LONGEST_FIRST.filter((f) => order.includes(f));
  assert.deepEqual(order.slice(0, named.length), named);
  assert.deepEqual(order.slice(named.length), ['batches.test.ts', 'zh.test.ts']);
  assert.equal(order[0], 'notebooks.test.ts');
  assert.deepEqual([...order].sort(), given.map((f) => path.basename(f)).sort());
});
