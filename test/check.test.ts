// rw.check: every check passes the library's reference, cannot pass a stub, never throws, leaks no
// tensor, and recognises each catalogued mistake with that mistake's own message. The machinery of
// src/check/core.ts is tested on a made-up check first.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { ALL_CHECKS, type AsyncCheck, type Check, type CheckResult } from '../src/check';
import { defineAsyncCheck, defineCheck, diff, notWrittenYet } from '../src/check/core';

before(async () => {
  await initBackend({ log: () => {} });
});

const run = (c: Check | AsyncCheck, fn: unknown): CheckResult | Promise<CheckResult> => c.run(fn as never);

/** The lines a call prints, and its result. */
async function printed(call: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await call();
  } finally {
    console.log = log;
  }
  return lines;
}

describe('the check machinery', () => {
  const double = defineCheck<[tf.Tensor1D], tf.Tensor1D>({
    name: 'double',
    exercise: '0.1',
    reference: (x) => tf.mul(x, 2),
    referenceName: 'x·2',
    cases: [
      { name: 'small', args: () => [tf.tensor1d([1, 2, 3])] },
      { name: 'negative', args: () => [tf.tensor1d([-1, 0.5])] },
    ],
    mistakes: [
      { id: 'square', message: 'you squared it', wrong: (x) => tf.square(x) },
      { id: 'add-one', message: 'you added one', wrong: (x) => tf.add(x, 1) },
    ],
  });

  it('prints one ✓ line for a correct function and returns a passing result', async () => {
    const lines = await printed(() => double((x) => tf.add(x, x)));
    assert.deepEqual(lines, ['✓ double (exercise 0.1) matches x·2 on all 2 cases']);
    assert.equal(double.run((x) => tf.add(x, x)).ok, true);
  });

  it('names a catalogued mistake by its own message, on the first case where it differs', () => {
    const r = double.run((x) => tf.square(x));
    assert.equal(r.ok, false);
    assert.equal(r.status, 'mistake');
    assert.equal(r.mistake, 'square');
    assert.equal(r.case, 'small', 'x² and 2x differ on [1, 2, 3] already');
    assert.match(r.line, /^✗ double \(exercise 0\.1\), case "small": you squared it$/);
  });

  it('falls back to where and by how much the values differ when no mistake matches', () => {
    const r = double.run((x) => tf.mul(x, 3));
    assert.equal(r.status, 'differs');
    assert.match(r.line, /the result\[2\] is 9, expected 6 \(3 of 3 entries differ\)/);
  });

  it('says the shape is wrong, and when the axes are swapped', () => {
    assert.match(diff(tf.zeros([2, 3]), tf.zeros([3, 2])) ?? '', /shape \[2,3\], expected \[3,2\] — the two axes are swapped/);
    assert.match(diff(tf.zeros([6]), tf.zeros([3, 2])) ?? '', /shape \[6\], expected \[3,2\]$/);
  });

  it('says "not written yet" for a stub, and reports any other exception without throwing', () => {
    const stub = double.run(() => {
      throw notWrittenYet('double');
    });
    assert.equal(stub.status, 'not-written');
    assert.match(stub.line, /^✗ double \(exercise 0\.1\) is not written yet/);
    const threw = double.run(() => {
      throw new TypeError('x.foo is not a function');
    });
    assert.equal(threw.status, 'threw');
    assert.match(threw.line, /threw on case "small": TypeError: x\.foo is not a function/);
    assert.equal(double.run(undefined as never).ok, false, 'not a function at all');
    const callsAnother = double.run(() => {
      throw notWrittenYet('half');
    });
    assert.equal(callsAnother.status, 'threw', 'the learner wrote double, but it calls an unfinished exercise');
    assert.match(callsAnother.line, /double \(exercise 0\.1\) calls half, which is not written yet: write half first, or call the library's rw\.half instead/);
  });

  it('frees every tensor and variable a case makes, whatever the learner returns', () => {
    const before = tf.memory().numTensors;
    double.run((x) => tf.add(x, x));
    double.run((x) => tf.variable(tf.square(x)) as tf.Tensor1D);
    double.run(() => {
      tf.ones([5]);
      throw new Error('after allocating');
    });
    assert.equal(tf.memory().numTensors, before);
  });

  it('awaits async functions in an async check', async () => {
    const slowDouble = defineAsyncCheck<[number], number>({
      name: 'slowDouble',
      exercise: '0.2',
      reference: async (x) => 2 * x,
      referenceName: 'x·2',
      cases: [{ name: 'three', args: () => [3] }],
      mistakes: [{ id: 'square', message: 'you squared it', wrong: async (x) => x * x }],
    });
    assert.equal((await slowDouble.run(async (x) => x + x)).ok, true);
    assert.equal((await slowDouble.run(async (x) => x * x)).mistake, 'square');
    assert.deepEqual(await printed(() => slowDouble(async () => 1)), ['✗ slowDouble (exercise 0.2), case "three": the result is 1, expected 6.']);
  });
});

describe('every check of the workbook', () => {
  it('has at least 3 catalogued mistakes per check on average', () => {
    const mistakes = ALL_CHECKS.reduce((n, c) => n + c.spec.mistakes.length, 0);
    assert.ok(ALL_CHECKS.length > 0);
    assert.ok(mistakes / ALL_CHECKS.length >= 3, `${mistakes} mistakes over ${ALL_CHECKS.length} checks`);
  });

  for (const c of ALL_CHECKS) {
    const { name, exercise } = c.spec;
    describe(`${name} (exercise ${exercise})`, () => {
      it('passes the reference, with a ✓ line', async () => {
        const r = await run(c, c.spec.reference);
        assert.equal(r.ok, true, r.line);
        assert.match(r.line, /^✓ /);
      });

      it('cannot pass a stub: it says "not written yet"', async () => {
        const r = await run(c, () => {
          throw notWrittenYet(name);
        });
        assert.equal(r.status, 'not-written', r.line);
        assert.match(r.line, /^✗ .*not written yet/);
      });

      it('leaves the number of tensors as it found it', async () => {
        const before = tf.memory().numTensors;
        await run(c, c.spec.reference);
        for (const m of c.spec.mistakes) await run(c, m.wrong);
        assert.equal(tf.memory().numTensors, before);
      });

      const messages = new Set(c.spec.mistakes.map((m) => m.message));
      it('gives every catalogued mistake its own message', () => {
        assert.equal(messages.size, c.spec.mistakes.length);
      });

      for (const m of c.spec.mistakes) {
        it(`recognises the mistake '${m.id}' by its message`, async () => {
          const r = await run(c, m.wrong);
          assert.equal(r.ok, false, `the mistake '${m.id}' passed the check`);
          assert.equal(r.mistake, m.id, r.line);
          assert.ok(r.line.startsWith('✗ ') && r.line.endsWith(m.message), r.line);
        });
      }
    });
  }
});
