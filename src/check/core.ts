// The workbook's checks: a learner writes a function in an exercise cell, and the cell after it calls
// `rw.check.<name>(theirFunction)`. The check runs it against the library's reference on several
// cases (random shapes, edge cases) and prints ONE line: `✓ …` when it matches, otherwise `✗ …` with
// a diagnosis that helps without giving the answer away. It never throws, so a learner's copy runs
// top to bottom with Run All and shows ✗ wherever work remains (nbgrader's stubs, makemore's cmp()).
//
// Typical wrong answers are catalogued per check as *implementations* (`Mistake.wrong`): when the
// learner's output differs from the reference, it is compared with each catalogued mistake's output on
// the same case, and a match prints that mistake's own message. The unit tests run every catalogued
// mistake through its check, so each one is proven to be caught with its own message.
import * as tf from '@tensorflow/tfjs';

/** Thrown by an exercise stub until the learner writes the function (`npm run exercises` writes the stubs). */
export class NotWrittenYet extends Error {
  override name = 'NotWrittenYet';
  constructor(readonly exercise: string) {
    super(`not written yet: ${exercise} — replace the line that throws this with your code`);
  }
}

/** What an exercise stub throws: `throw rw.notWrittenYet("rnnStep");`. */
export function notWrittenYet(exercise: string): NotWrittenYet {
  return new NotWrittenYet(exercise);
}

/** One case a check runs: fresh arguments for every call (the check disposes the tensors in them). */
export interface CheckCase<A extends unknown[]> {
  name: string; // shown in the diagnosis: 'B = 3, H = 5, random state'
  args: () => A;
}

/** A typical wrong answer: an implementation of it, and what to say when the learner's code behaves like it. */
export interface Mistake<F> {
  id: string; // 'no-tanh'
  message: string; // the symptom and what to rethink — never the answer itself
  wrong: F;
}

export interface CheckSpec<A extends unknown[], R> {
  name: string; // the learner's function, as the notebook names it: 'rnnStep'
  exercise: string; // '1.2': lesson 1, second exercise
  reference: (...args: A) => R; // the library's function (or a thin wrapper around it)
  referenceName: string; // how the ✓ line names it: 'rw.rnnStep'
  cases: CheckCase<A>[];
  mistakes: Mistake<(...args: A) => R>[];
  /** Compares one output; returns null when equal, else what differs (defaults to `diff`, tolerance 1e-5). */
  compare?: (got: R, want: R, args: A) => string | null;
  /** A hint for the generic diagnosis when no catalogued mistake matches. */
  advice?: string;
}

export interface CheckResult {
  ok: boolean;
  line: string; // the line printed
  exercise: string;
  name: string;
  status: 'pass' | 'not-written' | 'mistake' | 'threw' | 'differs';
  mistake?: string; // the id of the catalogued mistake recognised
  case?: string; // the case that failed
}

/** A check as notebooks call it (prints its line), plus what the unit tests need. */
export interface Check<A extends unknown[] = any, R = any> {
  (fn: (...args: A) => R): void;
  run(fn: (...args: A) => R): CheckResult;
  readonly spec: CheckSpec<A, R>;
}

/** The async twin, for exercises whose function returns a promise (the training epoch): `await rw.check.x(fn)`. */
export interface AsyncCheck<A extends unknown[] = any, R = any> {
  (fn: (...args: A) => Promise<R>): Promise<void>;
  run(fn: (...args: A) => Promise<R>): Promise<CheckResult>;
  readonly spec: CheckSpec<A, Promise<R>>;
  readonly async: true;
}

export function defineCheck<A extends unknown[], R>(spec: CheckSpec<A, R>): Check<A, R> {
  const run = (fn: (...args: A) => R): CheckResult => judge(spec, fn);
  return Object.assign((fn: (...args: A) => R) => void console.log(run(fn).line), { run, spec });
}

export function defineAsyncCheck<A extends unknown[], R>(spec: CheckSpec<A, Promise<R>>): AsyncCheck<A, R> {
  const run = (fn: (...args: A) => Promise<R>): Promise<CheckResult> => judgeAsync(spec, fn);
  const check = async (fn: (...args: A) => Promise<R>) => void console.log((await run(fn)).line);
  return Object.assign(check, { run, spec, async: true as const });
}

type Outcome<R> = { value: R } | { error: unknown };

function attempt<A extends unknown[], R>(fn: (...args: A) => R, args: A): Outcome<R> {
  try {
    return { value: fn(...args) };
  } catch (error) {
    return { error };
  }
}

async function attemptAsync<A extends unknown[], R>(fn: (...args: A) => Promise<R>, args: A): Promise<Outcome<R>> {
  try {
    return { value: await fn(...args) };
  } catch (error) {
    return { error };
  }
}

function judge<A extends unknown[], R>(spec: CheckSpec<A, R>, fn: (...args: A) => R): CheckResult {
  if (typeof fn !== 'function') return notAFunction(spec, fn);
  const compare = spec.compare ?? defaultCompare;
  for (const c of spec.cases) {
    const verdict = inScope(() => {
      const got = attempt(fn, c.args());
      if ('error' in got) return failed(spec, c.name, got.error);
      const want = spec.reference(...c.args());
      const args = c.args();
      const difference = compare(got.value, want, args);
      if (difference === null) return null;
      const mistake = spec.mistakes.find((m) => {
        const theirs = attempt(m.wrong, c.args());
        return 'value' in theirs && compare(got.value, theirs.value, args) === null;
      });
      return differs(spec, c.name, difference, mistake);
    });
    if (verdict) return verdict;
  }
  return passed(spec);
}

async function judgeAsync<A extends unknown[], R>(spec: CheckSpec<A, Promise<R>>, fn: (...args: A) => Promise<R>): Promise<CheckResult> {
  if (typeof fn !== 'function') return notAFunction(spec, fn);
  const compare = (spec.compare ?? defaultCompare) as unknown as (got: R, want: R, args: A) => string | null;
  for (const c of spec.cases) {
    const verdict = await inScopeAsync(async () => {
      const got = await attemptAsync(fn, c.args());
      if ('error' in got) return failed(spec, c.name, got.error);
      const want = await spec.reference(...c.args());
      const args = c.args();
      const difference = compare(got.value, want, args);
      if (difference === null) return null;
      for (const m of spec.mistakes) {
        const theirs = await attemptAsync(m.wrong, c.args());
        if ('value' in theirs && compare(got.value, theirs.value, args) === null) return differs(spec, c.name, difference, m);
      }
      return differs(spec, c.name, difference, undefined);
    });
    if (verdict) return verdict;
  }
  return passed(spec);
}

/**
 * Runs one case and frees every tensor and variable it made — the case's arguments, the learner's
 * outputs, the references' — so a check leaves tf.memory() as it found it. (tf.tidy frees tensors
 * but not variables, and cannot wait for a promise.)
 */
function inScope<T>(body: () => T): T {
  const vars = variableNames();
  tf.engine().startScope();
  try {
    return body();
  } finally {
    tf.engine().endScope();
    disposeVariablesAfter(vars);
  }
}

async function inScopeAsync<T>(body: () => Promise<T>): Promise<T> {
  const vars = variableNames();
  tf.engine().startScope();
  try {
    return await body();
  } finally {
    tf.engine().endScope();
    disposeVariablesAfter(vars);
  }
}

function variableNames(): Set<string> {
  return new Set(Object.keys(tf.engine().registeredVariables));
}

function disposeVariablesAfter(before: Set<string>): void {
  for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!before.has(name)) v.dispose();
}

function passed(spec: CheckSpec<any, any>): CheckResult {
  const n = spec.cases.length;
  const line = `✓ ${spec.name} (exercise ${spec.exercise}) matches ${spec.referenceName} on all ${n} case${n === 1 ? '' : 's'}`;
  return { ok: true, line, exercise: spec.exercise, name: spec.name, status: 'pass' };
}

function failed(spec: CheckSpec<any, any>, caseName: string, error: unknown): CheckResult {
  const base = { ok: false, exercise: spec.exercise, name: spec.name, case: caseName };
  if (error instanceof NotWrittenYet && error.exercise !== spec.name) {
    const line = `✗ ${spec.name} (exercise ${spec.exercise}) calls ${error.exercise}, which is not written yet: write ${error.exercise} first, or call the library's rw.${error.exercise} instead`;
    return { ...base, line, status: 'threw' };
  }
  if (error instanceof NotWrittenYet) {
    const line = `✗ ${spec.name} (exercise ${spec.exercise}) is not written yet: replace the line \`throw rw.notWrittenYet(…)\` in the cell above with your code, run that cell, then this one`;
    return { ...base, line, status: 'not-written' };
  }
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const line = `✗ ${spec.name} (exercise ${spec.exercise}) threw on case "${caseName}": ${firstLine(what)}`;
  return { ...base, line, status: 'threw' };
}

function differs(spec: CheckSpec<any, any>, caseName: string, difference: string, mistake: Mistake<unknown> | undefined): CheckResult {
  const base = { ok: false, exercise: spec.exercise, name: spec.name, case: caseName };
  if (mistake) {
    const line = `✗ ${spec.name} (exercise ${spec.exercise}), case "${caseName}": ${mistake.message}`;
    return { ...base, line, status: 'mistake', mistake: mistake.id };
  }
  const advice = spec.advice ? ` ${spec.advice}` : '';
  const line = `✗ ${spec.name} (exercise ${spec.exercise}), case "${caseName}": ${difference}.${advice}`;
  return { ...base, line, status: 'differs' };
}

function notAFunction(spec: CheckSpec<any, any>, fn: unknown): CheckResult {
  const line = `✗ ${spec.name} (exercise ${spec.exercise}): pass your function itself, e.g. rw.check.${spec.name}(${spec.name}) — got ${describeValue(fn)}`;
  return { ok: false, line, exercise: spec.exercise, name: spec.name, status: 'threw' };
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

// ---------------------------------------------------------------------------------------------
// Comparing outputs: numbers, tensors, arrays and plain objects, with a diagnosis a learner can use.

export interface Tolerance {
  atol: number; // absolute
  rtol: number; // relative to |expected|
}
export const DEFAULT_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-5 };

function defaultCompare(got: unknown, want: unknown): string | null {
  return diff(got, want);
}

/** null when `got` equals `want` within the tolerance, else one sentence saying what differs and where. */
export function diff(got: unknown, want: unknown, tol: Tolerance = DEFAULT_TOLERANCE, path = 'the result'): string | null {
  if (want instanceof tf.Tensor) return diffTensor(got, want, tol, path);
  if (typeof want === 'number') {
    if (typeof got !== 'number') return `${path} should be a number, got ${describeValue(got)}`;
    return close(got, want, tol) ? null : `${path} is ${fmt(got)}, expected ${fmt(want)}`;
  }
  if (typeof want === 'string' || typeof want === 'boolean' || want === null || want === undefined) {
    return got === want ? null : `${path} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
  }
  if (ArrayBuffer.isView(want) || Array.isArray(want)) {
    const w = Array.from(want as ArrayLike<unknown>);
    if (!(ArrayBuffer.isView(got) || Array.isArray(got))) return `${path} should be an array of ${w.length}, got ${describeValue(got)}`;
    const g = Array.from(got as ArrayLike<unknown>);
    if (g.length !== w.length) return `${path} has ${g.length} entries, expected ${w.length}`;
    for (let i = 0; i < w.length; i++) {
      const d = diff(g[i], w[i], tol, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (typeof want === 'object') {
    if (typeof got !== 'object' || got === null) return `${path} should be an object with ${Object.keys(want).join(', ')}, got ${describeValue(got)}`;
    for (const key of Object.keys(want)) {
      if (!(key in got)) return `${path} has no field '${key}'`;
      const d = diff((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], tol, `${path === 'the result' ? '' : `${path}.`}${key}`);
      if (d) return d;
    }
    return null;
  }
  return null;
}

function diffTensor(got: unknown, want: tf.Tensor, tol: Tolerance, path: string): string | null {
  if (!(got instanceof tf.Tensor)) return `${path} should be a tensor of shape [${want.shape}], got ${describeValue(got)}`;
  if (got.isDisposed) return `${path} was disposed before the check could read it (return a tensor the caller owns: keep it out of tf.dispose)`;
  if (got.rank !== want.rank || got.shape.some((d: number, i: number) => d !== want.shape[i])) {
    const transposed = got.rank === 2 && want.rank === 2 && got.shape[0] === want.shape[1] && got.shape[1] === want.shape[0];
    return `${path} has shape [${got.shape}], expected [${want.shape}]${transposed ? ' — the two axes are swapped' : ''}`;
  }
  const g = got.dataSync();
  const w = want.dataSync();
  let worst = -1;
  let count = 0;
  for (let i = 0; i < w.length; i++) {
    if (close(g[i] as number, w[i] as number, tol)) continue;
    count++;
    if (worst < 0 || !(Math.abs((g[i] as number) - (w[i] as number)) <= Math.abs((g[worst] as number) - (w[worst] as number)))) worst = i;
  }
  if (worst < 0) return null;
  const at = indexOf(worst, want.shape);
  return `${path}[${at.join(', ')}] is ${fmt(g[worst] as number)}, expected ${fmt(w[worst] as number)} (${count} of ${w.length} entries differ)`;
}

function close(a: number, b: number, tol: Tolerance): boolean {
  if (Number.isNaN(b)) return Number.isNaN(a);
  if (!Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b);
}

function indexOf(flat: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = flat % (shape[d] ?? 1);
    flat = Math.floor(flat / (shape[d] ?? 1));
  }
  return out;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(5)));
}

/** A short description of any value, for "got …". */
export function describeValue(v: unknown): string {
  if (v instanceof tf.Tensor) return `a ${v.dtype} tensor of shape [${v.shape}]`;
  if (v === undefined) return 'undefined (did the function forget to return?)';
  if (v === null) return 'null';
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as unknown as ArrayLike<number>).length}`;
  if (v instanceof Promise) return 'a Promise (add await, or pass a function that is not async)';
  if (typeof v === 'object') return `an object with ${Object.keys(v).join(', ') || 'no fields'}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}
