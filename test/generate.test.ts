// `npm run generate`: text from a checkpoint on stdout, the same as the library's predict(); bad
// input is exit code 2 and one line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../src/backend';
import { loadCheckpoint, modelFromCheckpoint } from '../src/checkpoint';
import { predict } from '../src/predict';
import { Rng } from '../src/random';
import { run, TINY } from './spawn-cli';

let dir: string;
let ckpt: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-generate-'));
  ckpt = path.join(dir, 'tiny.ckpt');
  const made = await run('src/apps/start.ts', [...TINY, '--epochs', '3', '--save', ckpt]);
  assert.equal(made.code, 0, made.stderr);
  fs.writeFileSync(path.join(dir, 'truncated.ckpt'), fs.readFileSync(ckpt).subarray(0, 100));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'the time machine\n');
  await initBackend({ log: () => {} });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What the library generates from the same checkpoint. */
function library(prefix: string, length: number, temperature = 0, seed = 0): string {
  const saved = loadCheckpoint(ckpt);
  const model = modelFromCheckpoint(saved);
  try {
    return predict(prefix, length, model, saved.vocab, { temperature, rng: new Rng(seed) });
  } finally {
    model.dispose();
  }
}

describe('npm run generate', () => {
  it('prints the prefix and --length greedy characters, as predict() does, and nothing else on stdout', async () => {
    const r = await run('src/apps/generate.ts', ['--checkpoint', ckpt, '--prefix', 'time traveller', '--length', '60']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${library('time traveller', 60)}\n`);
    assert.equal(r.stdout.length, 'time traveller'.length + 60 + 1);
    assert.match(r.stderr, /^backend: /);
  });

  it('samples at a temperature: the same seed gives the same text, another seed other text', async () => {
    const args = ['--checkpoint', ckpt, '--length', '80', '--temperature', '1'];
    const [a, b, c] = await Promise.all([run('src/apps/generate.ts', [...args, '--seed', '7']), run('src/apps/generate.ts', [...args, '--seed', '7']), run('src/apps/generate.ts', [...args, '--seed', '8'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
    assert.equal(a.stdout, `${library('time traveller', 80, 1, 7)}\n`);
  });

  it('--help documents the flags, exit 0', async () => {
    const r = await run('src/apps/generate.ts', ['--help']);
    assert.equal(r.code, 0);
    for (const s of ['--checkpoint FILE', '--prefix TEXT', '--length N', '--temperature T', '--seed N', 'Exit codes']) assert.ok(r.stdout.includes(s), s);
  });
});

const BAD: [string, () => string[], RegExp][] = [
  ['no --checkpoint', () => ['--prefix', 'time'], /--checkpoint FILE is required/],
  ['a missing checkpoint', () => ['--checkpoint', path.join(dir, 'none.ckpt')], /checkpoint '.*none\.ckpt' does not exist/],
  ['a truncated checkpoint', () => ['--checkpoint', path.join(dir, 'truncated.ckpt')], /checkpoint '.*truncated\.ckpt' is truncated/],
  ['a text file as checkpoint', () => ['--checkpoint', path.join(dir, 'notes.txt')], /is not an rnn-workbook checkpoint/],
  ['a directory as checkpoint', () => ['--checkpoint', dir], /is a directory/],
  ['an empty prefix', () => ['--checkpoint', ckpt, '--prefix', ''], /--prefix is empty/],
  ['a prefix without letters', () => ['--checkpoint', ckpt, '--prefix', '時間 1895'], /the prefix '時間 1895' is empty after preprocessing/],
  ['a negative temperature', () => ['--checkpoint', ckpt, '--temperature', '-1'], /--temperature must be 0 \(greedy\) or at least 0\.01 \(got -1\)/],
  ['a non-numeric temperature', () => ['--checkpoint', ckpt, '--temperature', 'hot'], /--temperature needs a number \(got 'hot'\)/],
  ['temperature NaN', () => ['--checkpoint', ckpt, '--temperature', 'NaN'], /--temperature needs a number/],
  ['length 0', () => ['--checkpoint', ckpt, '--length', '0'], /--length must be a whole number from 1 to 100000 \(got 0\)/],
  ['a fractional length', () => ['--checkpoint', ckpt, '--length', '2.5'], /--length must be a whole number/],
  ['a huge length', () => ['--checkpoint', ckpt, '--length', '1e9'], /--length must be a whole number from 1 to 100000 \(got 1e9\)/],
  ['a negative seed', () => ['--checkpoint', ckpt, '--seed', '-1'], /--seed must be a whole number from 0 to 2\^32 − 1 = 4294967295 \(got -1\)/],
  ['an unknown flag', () => ['--checkpoint', ckpt, '--lenght', '5'], /Unknown option '--lenght'/],
];

describe('generate, bad input: exit code 2, one line on stderr, nothing on stdout', { concurrency: 2 }, () => {
  for (const [what, args, says] of BAD) {
    it(what, async () => {
      const r = await run('src/apps/generate.ts', args(), 20_000);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: [^\n]+\n$/);
      assert.match(r.stderr, says);
      assert.equal(r.stdout, '');
    });
  }
});
