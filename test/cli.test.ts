// `npm start` and `npm run generate` as a learner meets them, run as child processes: a table of
// hostile inputs (exit code 2, one line, nothing written or changed); --json results; exact resume;
// every way a run is stopped (SIGINT 130, SIGTERM 143, SIGHUP 129, a closed or full stdout) keeping
// what was trained; divergence (exit 3) keeping the last good checkpoint.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCheckpoint } from '../src/checkpoint';
import { catchStopSignals, SAME_PRESS_MS, StopFlag } from '../src/apps/interrupt';
import { withMetadata, type Fields } from './checkpoint-bytes';
import { listing, run, start, TINY, type StartOptions } from './spawn-cli';

let dir: string; // every file the cases read or might wrongly write
const at = (name: string) => path.join(dir, name);

/** A copy of good.ckpt with `change` applied to its metadata, with a valid length and sha256: only the checks of the header's contents can refuse it. */
function crafted(name: string, change: (fields: Fields) => void): void {
  fs.writeFileSync(at(name), withMetadata(fs.readFileSync(at('good.ckpt')), change));
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-cli-'));
  fs.chmodSync(dir, 0o755); // so the cases run as user nobody reach the files and meet their own modes
  fs.writeFileSync(at('empty.txt'), '');
  fs.writeFileSync(at('binary.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x3e, 0]));
  fs.writeFileSync(at('big.txt'), Buffer.alloc(50 * 2 ** 20, 'the time traveller smiled '));
  fs.writeFileSync(at('unicode.txt'), '时间机器。\nМашина времени — ☃ 🕰️\n');
  fs.writeFileSync(at('short.txt'), 'the time machine\n');
  fs.writeFileSync(at('other.txt'), 'Café über naïve façade; '.repeat(400)); // letters, but another vocabulary
  fs.writeFileSync(at('abc.txt'), 'abc cab bca bac '.repeat(400)); // none of the default prefix's letters but 'a', 'c'… and no 't'
  fs.writeFileSync(at('notes.txt'), 'my notes, not a checkpoint\n');
  fs.writeFileSync(at('noperm.txt'), 'the time machine '.repeat(200), { mode: 0o000 });
  fs.mkdirSync(at('folder'));
  fs.symlinkSync('loop-b', at('loop-a'));
  fs.symlinkSync('loop-a', at('loop-b'));
  if (spawnSync('mkfifo', [at('fifo')]).status !== 0) throw new Error('mkfifo failed');
  const made = await run('src/apps/start.ts', [...TINY, '--epochs', '2', '--save', at('good.ckpt')]);
  assert.equal(made.code, 0, made.stderr);
  const good = fs.readFileSync(at('good.ckpt'));
  fs.writeFileSync(at('victim.ckpt'), good); // the --save target of every bad command line below
  fs.writeFileSync(at('readonly.ckpt'), good, { mode: 0o444 });
  fs.writeFileSync(at('unreadable.ckpt'), good, { mode: 0o000 });
  fs.writeFileSync(at('truncated.ckpt'), good.subarray(0, good.length >> 1));
  crafted('history-numbers.ckpt', (h) => (h.history = [1, 2]));
  crafted('history-short.ckpt', (h) => (h.history = []));
  crafted('config-null.ckpt', (h) => (h.config = null));
  crafted('vocab-no-unk.ckpt', (h) => (h.vocab = [...(h.vocab as string[]).slice(1), '?']));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const nativeInstalled = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

interface HostileCase {
  what: string;
  args: () => string[];
  says: RegExp; // the one line on stderr
  script?: 'src/apps/start.ts' | 'src/apps/generate.ts'; // npm start unless said
  save?: false; // the case is about --save itself: do not add --save victim.ckpt --overwrite
  env?: Record<string, string>;
  asNobody?: boolean; // run as an unprivileged user, so permissions apply
}

const corpus = (name: string) => () => ['--corpus', at(name)];
const resume = (name: string) => () => ['--resume', at(name)];
const gen = (...args: string[]) => () => ['--checkpoint', at('good.ckpt'), ...args];
const G = { script: 'src/apps/generate.ts' as const, save: false as const };
const HOSTILE: HostileCase[] = [
  // flags
  { what: 'an unknown flag', args: () => ['--hiden', '16'], says: /Unknown option '--hiden'.*see --help/ },
  { what: 'an unknown partition', args: () => ['--partition', 'diagonal'], says: /--partition must be one of sequential, random \(got 'diagonal'\)/ },
  { what: 'an unknown path', args: () => ['--path', 'quick'], says: /--path must be one of fast, autograd/ },
  { what: 'a flag missing its value', args: () => ['--lr'], says: /--lr needs a value; see --help/ },
  { what: 'a value that looks like a flag', args: () => ['--prefix', '-time'], says: /--prefix needs a value; to pass '-time' itself, write --prefix=-time/ },
  { what: 'a value given to a switch', args: () => ['--json=yes'], says: /--json.*does not take an argument/ },
  { what: 'a non-numeric size', args: () => ['--epochs', 'ten'], says: /--epochs needs a number \(got 'ten'\)/ },
  { what: 'a size with trailing junk', args: () => ['--hidden', '16abc'], says: /--hidden needs a number/ },
  { what: 'a zero size', args: () => ['--hidden', '0'], says: /^error: --hidden must be a positive integer \(got 0\); e\.g\. --hidden 512/ },
  { what: 'a negative size', args: () => ['--batch-size', '-4'], says: /^error: --batch-size must be a positive integer \(got -4\)/ },
  { what: 'a fractional size', args: () => ['--num-steps', '1.5'], says: /^error: --num-steps must be a positive integer \(got 1\.5\)/ },
  { what: 'an infinite epoch count', args: () => ['--epochs', '1e400'], says: /^error: --epochs must be a positive integer \(got Infinity\)/ },
  { what: 'lr 0', args: () => ['--lr', '0'], says: /^error: --lr must be a finite number > 0 \(got 0\)/ },
  { what: 'a negative lr', args: () => ['--lr', '-1'], says: /^error: --lr must be a finite number > 0 \(got -1\)/ },
  { what: 'lr NaN', args: () => ['--lr', 'NaN'], says: /--lr needs a number \(got 'NaN'\)/ },
  { what: 'a negative --num-val', args: () => ['--num-val', '-5'], says: /^error: --num-val must be a whole number ≥ 0 \(got -5\); use 0 to train without validation/ },
  { what: 'a negative clip', args: () => ['--clip', '-0.5'], says: /^error: --clip \(the clipping threshold\) must be ≥ 0 \(got -0\.5\)/ },
  { what: 'negative --max-tokens', args: () => ['--max-tokens', '-5'], says: /^error: --max-tokens must be a whole number ≥ 0 \(got -5\)/ },
  { what: 'a negative --save-every', args: () => ['--save-every', '-1'], says: /--save-every must be a whole number ≥ 0 \(got -1\)/ },
  { what: '--save-every without --save', args: () => ['--save-every', '5'], says: /--save-every needs --save FILE/, save: false },
  { what: 'an empty prefix', args: () => ['--prefix', ''], says: /--prefix is empty/ },
  { what: 'a prefix without letters', args: () => ['--prefix', '1984', '--epochs', '1'], says: /the prefix '1984' is empty after preprocessing/ },
  // limits, checked before anything is allocated
  { what: '--hidden 100000', args: () => ['--hidden', '100000'], says: /^error: a model of H = 100000 hidden units .* needs about \d+\.\d GiB of memory, over the 4\.0 GiB tfjs can use; try --hidden \d+ or less$/m },
  { what: '--hidden 40000', args: () => ['--hidden', '40000'], says: /H = 40000 hidden units .* needs about \d+\.\d GiB of memory.*try --hidden \d+ or less/ },
  { what: '--hidden 24000', args: () => ['--hidden', '24000'], says: /H = 24000 hidden units .* needs about \d+\.\d GiB of memory.*try --hidden \d+ or less/ },
  { what: 'minibatches too large for memory at any size', args: () => ['--batch-size', '100000', '--num-steps', '100000'], says: /needs about .* GiB of memory.*try a smaller --batch-size or --num-steps/ },
  { what: '--num-preds 1e9', args: () => ['--num-preds', '1e9'], says: /^error: --num-preds must be at most 100000 \(got 1000000000\), like generate's --length/ },
  { what: 'a seed of 2^32', args: () => ['--seed', '4294967296'], says: /^error: --seed must be below 2\^32 = 4294967296 \(got 4294967296\)/ },
  { what: 'a negative seed', args: () => ['--seed', '-1'], says: /^error: --seed must be a whole number ≥ 0 \(got -1\)/ },
  // the corpus
  { what: 'a missing corpus', args: corpus('nowhere.txt'), says: /corpus file '.*nowhere\.txt' does not exist/ },
  { what: 'an empty corpus', args: corpus('empty.txt'), says: /corpus file '.*empty\.txt' is empty/ },
  { what: 'a corpus that is a directory', args: corpus('folder'), says: /corpus '.*folder' is a directory/ },
  { what: 'a binary corpus', args: corpus('binary.bin'), says: /looks binary \(it has NUL bytes\)/ },
  { what: 'a 50 MB corpus', args: corpus('big.txt'), says: /is 50\.0 MiB, over the 32 MiB limit/ },
  { what: 'a unicode corpus without letters A–Z', args: corpus('unicode.txt'), says: /has no letters A–Z after preprocessing/ },
  { what: 'a corpus shorter than one minibatch', args: corpus('short.txt'), says: /the corpus has 16 tokens, too few for one minibatch of 4 × 8 steps \(needs at least 41\)/ },
  { what: 'a FIFO as corpus (never opened, so never hangs)', args: corpus('fifo'), says: /corpus '.*fifo' is a FIFO \(named pipe\), not a regular file; save the text to a file/ },
  { what: '/dev/zero as corpus', args: () => ['--corpus', '/dev/zero'], says: /corpus '\/dev\/zero' is a character device, not a regular file/ },
  { what: 'a symlink loop as corpus', args: corpus('loop-a'), says: /corpus file '.*loop-a' is a loop of symbolic links \(ELOOP\); point --corpus at the real file/ },
  { what: 'an unreadable corpus', args: corpus('noperm.txt'), says: /corpus file '.*noperm\.txt' cannot be read \(EACCES\); check its permissions/, asNobody: true, save: false },
  { what: 'a corpus without the default prefix’s letters', args: corpus('abc.txt'), says: /the default prefix 'time traveller' has characters this corpus lacks \('t', .*\); pass --prefix with text from your corpus, e\.g\. --prefix "/ },
  // checkpoints to resume
  { what: 'a missing checkpoint', args: resume('none.ckpt'), says: /checkpoint '.*none\.ckpt' does not exist/ },
  { what: 'a truncated checkpoint', args: resume('truncated.ckpt'), says: /checkpoint '.*truncated\.ckpt' is truncated \(\d+ bytes, expected \d+\)/ },
  { what: 'a text file as checkpoint', args: resume('notes.txt'), says: /'.*notes\.txt' is not an rnn-workbook checkpoint/ },
  { what: 'a directory as checkpoint', args: resume('folder'), says: /checkpoint '.*folder' is a directory/ },
  { what: '/dev/zero as checkpoint', args: () => ['--resume', '/dev/zero'], says: /checkpoint '\/dev\/zero' is not a regular file/ },
  { what: 'a checkpoint whose history holds numbers', args: resume('history-numbers.ckpt'), says: /has an invalid metrics history \(entry 1 is not the metrics of epoch 1\)/ },
  { what: 'a checkpoint whose history is short', args: resume('history-short.ckpt'), says: /has a metrics history of 0 epochs for its 2 completed ones/ },
  { what: 'a checkpoint without a config', args: resume('config-null.ckpt'), says: /has no config \(an object of settings\)/ },
  { what: 'a checkpoint whose vocabulary lacks <unk>', args: resume('vocab-no-unk.ckpt'), says: /has no valid vocabulary \(a list of distinct tokens, <unk> first\)/ },
  {
    what: 'a checkpoint from another vocabulary',
    args: () => ['--resume', at('good.ckpt'), '--corpus', at('other.txt')],
    says: /checkpoint '.*good\.ckpt' was trained on another vocabulary \(28 tokens: .*\) than this corpus \(\d+ tokens/,
  },
  { what: '--hidden changing a resumed model', args: () => ['--resume', at('good.ckpt'), '--hidden', '32'], says: /--hidden 32 conflicts with checkpoint '.*', whose model has 16 hidden units/ },
  { what: '--epochs below a checkpoint’s', args: () => ['--resume', at('good.ckpt'), '--epochs', '1'], says: /--epochs 1 is fewer than the 2 epochs checkpoint/ },
  // --save targets
  { what: '--save onto another run’s checkpoint', args: () => ['--save', at('victim.ckpt')], says: /--save '.*victim\.ckpt' already holds a checkpoint of another run; continue that run with --resume '.*victim\.ckpt', choose another file name, or pass --overwrite/, save: false },
  { what: '--save onto a checkpoint other than the resumed one', args: () => ['--resume', at('good.ckpt'), '--save', at('victim.ckpt')], says: /--save '.*victim\.ckpt' already holds a checkpoint of another run/, save: false },
  { what: '--save onto a read-only checkpoint, even with --overwrite', args: () => ['--save', at('readonly.ckpt'), '--overwrite'], says: /--save '.*readonly\.ckpt' is read-only; choose another file name, or make it writable first/, save: false },
  { what: '--save onto an unreadable file', args: () => ['--save', at('unreadable.ckpt'), '--overwrite'], says: /--save '.*unreadable\.ckpt' exists and cannot be read \(EACCES\)/, save: false, asNobody: true },
  { what: '--save into a missing folder', args: () => ['--save', at('no/such/run.ckpt')], says: /the folder '.*no\/such' does not exist; create it first/, save: false },
  { what: '--save inside a file', args: () => ['--save', at('notes.txt/run.ckpt')], says: /--save '.*notes\.txt\/run\.ckpt': '.*notes\.txt' is a file, not a folder/, save: false },
  { what: '--save onto a directory', args: () => ['--save', at('folder')], says: /--save '.*folder' is a directory/, save: false },
  { what: '--save onto a file that is not a checkpoint, even with --overwrite', args: () => ['--save', at('notes.txt'), '--overwrite'], says: /exists and is not a checkpoint; refusing to overwrite it/, save: false },
  { what: '--save onto a FIFO', args: () => ['--save', at('fifo')], says: /--save '.*fifo' exists and is not a regular file/, save: false },
  { what: 'an empty --save', args: () => ['--save', ''], says: /--save needs a file path/, save: false },
  // the environment
  { what: 'RNN_BACKEND=bogus', args: () => [], env: { RNN_BACKEND: 'bogus' }, says: /^error: RNN_BACKEND must be one of tensorflow, wasm, cpu \(got 'bogus'\); e\.g\. RNN_BACKEND=wasm, or unset it$/m },
  ...(nativeInstalled ? [] : [{ what: 'RNN_BACKEND=tensorflow without tfjs-node', args: () => [], env: { RNN_BACKEND: 'tensorflow' }, says: /RNN_BACKEND=tensorflow, but @tensorflow\/tfjs-node is not installed/ }]),
  { what: 'RNN_PARALLEL=2', args: () => [], env: { RNN_PARALLEL: '2' }, says: /^error: RNN_PARALLEL must be 0 \(one thread\) or 1 .*\(got '2'\)/ },
  { what: 'RNN_WORKBOOK_DATA pointing at a file', args: () => [], env: { RNN_WORKBOOK_DATA: '/etc/hostname' }, says: /RNN_WORKBOOK_DATA='\/etc\/hostname' is a file, not a folder; point it at the folder holding timemachine\.txt/ },
  { what: 'an unknown RNN_WORKBOOK_PRESET', args: () => [], env: { RNN_WORKBOOK_PRESET: 'fast' }, says: /RNN_WORKBOOK_PRESET must be 'test' or unset \(got 'fast'\)/ },
  // npm run generate
  { ...G, what: 'generate: no --checkpoint', args: () => ['--prefix', 'time'], says: /--checkpoint FILE is required/ },
  { ...G, what: 'generate: a checkpoint whose history holds numbers', args: () => ['--checkpoint', at('history-numbers.ckpt')], says: /has an invalid metrics history/ },
  { ...G, what: 'generate: an unusably small temperature', args: gen('--temperature', '1e-320'), says: /--temperature must be 0 \(greedy\) or at least 0\.01 \(got 1e-320\); below 0\.01 sampling is greedy anyway, so use --temperature 0/ },
  { ...G, what: 'generate: a negative temperature', args: gen('--temperature', '-1'), says: /--temperature must be 0 \(greedy\) or at least 0\.01 \(got -1\)/ },
  { ...G, what: 'generate: a seed of 2^32', args: gen('--seed', '4294967296'), says: /--seed must be a whole number from 0 to 2\^32 − 1 = 4294967295 \(got 4294967296\)/ },
  { ...G, what: 'generate: a huge length', args: gen('--length', '1e9'), says: /--length must be a whole number from 1 to 100000 \(got 1e9\)/ },
  { ...G, what: 'generate: a value that looks like a flag', args: gen('--prefix', '-time'), says: /--prefix needs a value; to pass '-time' itself, write --prefix=-time/ },
  { ...G, what: 'generate: RNN_BACKEND=bogus', args: gen(), env: { RNN_BACKEND: 'bogus' }, says: /RNN_BACKEND must be one of tensorflow, wasm, cpu \(got 'bogus'\)/ },
  { ...G, what: 'generate: RNN_PARALLEL=2', args: gen(), env: { RNN_PARALLEL: '2' }, says: /RNN_PARALLEL must be 0 .*\(got '2'\)/ },
  { ...G, what: 'generate: RNN_WORKBOOK_DATA pointing at a file', args: gen(), env: { RNN_WORKBOOK_DATA: '/etc/hostname' }, says: /RNN_WORKBOOK_DATA='\/etc\/hostname' is a file, not a folder/ },
];

describe('hostile input: exit code 2, one line on stderr, nothing on stdout, nothing written or changed', { concurrency: 4 }, () => {
  it(`has at least 60 cases (${HOSTILE.length})`, () => assert.ok(HOSTILE.length >= 60));
  for (const c of HOSTILE) {
    it(c.what, async () => {
      const args = [...(c.script === 'src/apps/generate.ts' ? [] : TINY), ...c.args(), ...(c.save === false ? [] : ['--save', at('victim.ckpt'), '--overwrite'])];
      const files = listing(dir);
      const victim = fs.readFileSync(at('victim.ckpt'));
      const opts: StartOptions = { asNobody: c.asNobody, env: c.env };
      const r = await run(c.script ?? 'src/apps/start.ts', args, 90_000, opts); // killed (and failed) if it hangs; generous: CI machines are shared
      assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
      assert.match(r.stderr, /^error: [^\n]+\n$/, 'exactly one line');
      assert.match(r.stderr, c.says);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
      assert.deepEqual(listing(dir), files, 'no file created, changed or removed');
      assert.deepEqual(fs.readFileSync(at('victim.ckpt')), victim, 'the --save target is byte-for-byte unchanged');
    });
  }
});

describe('npm start', () => {
  it('--help documents the flags and the exit codes, exit 0', async () => {
    const r = await run('src/apps/start.ts', ['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    for (const s of ['--save FILE', '--save-every N', '--overwrite', '--resume FILE', 'Exit codes: 0 done, 2 bad input', '3 training diverged', '130 Ctrl-C', '143 SIGTERM', '129 SIGHUP', 'RNN_PARALLEL']) {
      assert.ok(r.stdout.includes(s), s);
    }
  });

  it('--json ends stdout with one line of results', async () => {
    const r = await run('src/apps/start.ts', [...TINY, '--epochs', '2', '--json', '--prefix', 'time', '--prefix', 'the']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trimEnd().split('\n').pop()!);
    assert.ok(Number.isFinite(out.perplexity) && out.perplexity > 1, `perplexity ${out.perplexity}`);
    assert.ok(out.tokensPerSec > 0);
    assert.equal(out.epochs, 2);
    assert.match(out.backend, /^(tensorflow|wasm|cpu)$/);
    assert.deepEqual(Object.keys(out.samples), ['time', 'the']);
    assert.ok(out.samples.time.startsWith('time'));
    // The default holds out 5,000 characters after the training text: validation perplexity every epoch.
    assert.equal(out.config.numVal, 5000);
    assert.equal(out.valPerplexities.length, 2);
    for (const v of out.valPerplexities) assert.ok(Number.isFinite(v) && v > 1, `validation perplexity ${v}`);
    assert.equal(out.valPerplexity, out.valPerplexities[1]);
    assert.match(r.stdout, /^epoch 1: perplexity \d+\.\d\d, validation \d+\.\d\d$/m);
  });

  it('--num-val 0 trains without validation: --json says null', async () => {
    const r = await run('src/apps/start.ts', [...TINY, '--epochs', '1', '--num-val', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trimEnd().split('\n').pop()!);
    assert.equal(out.valPerplexity, null);
    assert.deepEqual(out.valPerplexities, [null]);
    assert.doesNotMatch(r.stdout, /validation/);
  });

  it('resumes exactly: 3 epochs saved, resumed to 6, equal 6 straight', async () => {
    const file = at('resume.ckpt');
    const [straight, first] = await Promise.all([
      run('src/apps/start.ts', [...TINY, '--epochs', '6', '--json']),
      run('src/apps/start.ts', [...TINY, '--epochs', '3', '--save', file]),
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /checkpoint: saved epoch 3 to .*resume\.ckpt/);
    const resumed = await run('src/apps/start.ts', ['--resume', file, '--epochs', '6', '--json']); // the model, data and seed come from the checkpoint
    assert.equal(resumed.code, 0, resumed.stderr);
    const [a, b] = [straight, resumed].map((r) => JSON.parse(r.stdout.trimEnd().split('\n').pop()!));
    assert.deepEqual(b.perplexities, a.perplexities);
    assert.deepEqual(b.samples, a.samples);
    assert.equal(b.epochs, 6);
  });
});

interface StopCase {
  what: string;
  signals: NodeJS.Signals[]; // sent together once training has started
  code: number;
}

const STOPS: StopCase[] = [
  { what: 'Ctrl-C (SIGINT)', signals: ['SIGINT'], code: 130 },
  { what: 'SIGTERM (kill, timeout, docker stop, a CI cancel)', signals: ['SIGTERM'], code: 143 },
  { what: 'SIGHUP (a closed terminal)', signals: ['SIGHUP'], code: 129 },
];

describe('stopping a run: the last completed epoch is saved, even with --save-every 0, and resumes exactly', { concurrency: 3 }, () => {
  for (const c of STOPS) {
    it(`${c.what} exits ${c.code}`, async () => {
      const file = at(`stopped-${c.code}.ckpt`);
      const p = start('src/apps/start.ts', [...TINY, '--epochs', '200', '--save', file, '--save-every', '0'], 180_000); // only the stop writes
      await p.printed(/^backend: /m);
      await new Promise((r) => setTimeout(r, 300)); // an epoch or so in; any epoch, even 0, must resume exactly
      for (const signal of c.signals) p.child.kill(signal);
      const stopped = await p.finished;
      assert.equal(stopped.code, c.code, stopped.stderr);
      const m = /stopped after epoch (\d+) of 200; .*holds epoch (\d+); continue with --resume /.exec(stopped.stderr);
      assert.ok(m, stopped.stderr);
      assert.equal(m[1], m[2]);
      assert.match(stopped.stderr, new RegExp(`checkpoint: saved epoch ${m[1]} to `));
      const ckpt = loadCheckpoint(file);
      assert.equal(ckpt.epoch, Number(m[1]));
      assert.ok(ckpt.epoch < 200, `stopped before the end (epoch ${ckpt.epoch})`);
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes(`stopped-${c.code}.ckpt.`)), [], 'no temporary file left');
    });
  }

  it('resuming a stopped run ends where an uninterrupted run does', async () => {
    const file = at('interrupted.ckpt');
    const straight = run('src/apps/start.ts', [...TINY, '--epochs', '12', '--json']);
    const p = start('src/apps/start.ts', [...TINY, '--epochs', '12', '--save', file, '--save-every', '0']);
    await p.printed(/^backend: /m);
    await new Promise((r) => setTimeout(r, 150));
    p.child.kill('SIGTERM');
    assert.equal((await p.finished).code, 143);
    const resumed = await run('src/apps/start.ts', ['--resume', file, '--save', file, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const [a, b] = [await straight, resumed].map((r) => JSON.parse(r.stdout.trimEnd().split('\n').pop()!));
    assert.equal(b.perplexity, a.perplexity);
    assert.deepEqual(b.perplexities, a.perplexities);
    assert.equal(loadCheckpoint(file).epoch, 12);
  });

  it('a signal arriving twice at once (the terminal’s and npm’s copy of one press) counts once: exit 130, checkpoint intact', async () => {
    const file = at('twice.ckpt');
    const p = start('src/apps/start.ts', [...TINY, '--epochs', '40', '--save', file, '--save-every', '1']);
    await p.printed(/checkpoint: saved epoch 1 /);
    p.child.kill('SIGINT');
    p.child.kill('SIGINT');
    const r = await p.finished;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stopped after epoch \d+ of 40/);
    assert.ok(loadCheckpoint(file).epoch >= 1);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary file left');
  });

  it('a second Ctrl-C in the middle of a slow minibatch quits at once, by SIGINT (status 130), without finishing the minibatch, nothing half-written', async (t) => {
    // One minibatch of 64 × 100 steps with H = 2048 takes seconds on one thread: training runs in a
    // worker thread, so the main thread sees the second press at once.
    const file = at('slow.ckpt');
    const p = start('src/apps/start.ts', ['--hidden', '2048', '--batch-size', '64', '--num-steps', '100', '--num-val', '0', '--epochs', '1', '--save', file, '--save-every', '0'], 120_000, { env: { RNN_PARALLEL: '0' } });
    await p.printed(/^backend: /m);
    await new Promise((r) => setTimeout(r, 500));
    p.child.kill('SIGINT');
    await p.printed(/interrupted: stopping at the end of this minibatch/);
    await new Promise((r) => setTimeout(r, SAME_PRESS_MS + 200));
    const second = performance.now();
    p.child.kill('SIGINT');
    const r = await p.finished;
    const ms = performance.now() - second;
    // Ended by SIGINT itself, as a shell expects of a program that caught it: `$?` is 128 + 2 = 130.
    assert.equal(r.signal, 'SIGINT', `code ${r.code}; ${r.stderr}`);
    assert.match(r.stderr, /SIGINT again: quitting now/);
    assert.doesNotMatch(r.stderr, /stopped after epoch/, 'the minibatch was still running');
    t.diagnostic(`exited ${Math.round(ms)} ms after the second Ctrl-C`); // a timing, not a pass/fail bar: the test machine may be loaded
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('slow.ckpt')), [], 'no checkpoint and no temporary file: no epoch had completed');
  });

  it('the same press forwarded twice is one press; a later one quits with its signal’s code (in-process, fake clock)', (t) => {
    t.mock.method(process.stderr, 'write', () => true);
    const exits: number[] = [];
    const flag = new StopFlag();
    let now = 0;
    const signals = catchStopSignals('', flag, { clock: () => now, exit: (code) => exits.push(code) });
    try {
      assert.equal(flag.requested, false);
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(flag.code, 143);
      now += SAME_PRESS_MS / 2;
      process.emit('SIGINT', 'SIGINT');
      assert.deepEqual(exits, [], 'a forwarded copy of the same press');
      now += SAME_PRESS_MS;
      process.emit('SIGINT', 'SIGINT');
      assert.deepEqual(exits, [130]);
      assert.equal(flag.code, 143, 'the first signal decides the graceful exit code');
    } finally {
      signals.release();
    }
  });
});

describe('a closed or full stdout never stops training', { concurrency: 2 }, () => {
  for (const stdout of ['closed', 'full'] as const) {
    it(`stdout ${stdout === 'closed' ? 'closed (| head -1: EPIPE)' : 'full (> /dev/full: ENOSPC)'}: training finishes, saves every epoch, exit 0`, async () => {
      const file = at(`stdout-${stdout}.ckpt`);
      const r = await run('src/apps/start.ts', [...TINY, '--epochs', '4', '--save', file, '--save-every', '0', '--json'], 60_000, { stdout });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`note: stdout cannot be written \\(${stdout === 'closed' ? 'EPIPE' : 'ENOSPC'}\\); output stops here, the run goes on`));
      assert.match(r.stderr, /checkpoint: saved epoch 4 to /);
      assert.ok(r.stderr.length < 2000, `no source dump on stderr (${r.stderr.length} characters)`);
      assert.equal(loadCheckpoint(file).epoch, 4);
    });
  }
});

describe('divergence', () => {
  it('stops with exit 3 and a message naming epoch, minibatch, gradient norm and the fix', async () => {
    const r = await run('src/apps/start.ts', [...TINY, '--epochs', '2', '--lr', '1e38', '--clip', '0']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: training diverged at epoch 1, minibatch \d+: loss \S+, gradient norm \S+ \(last finite norm [\d.]+\); lower --lr or enable clipping with --clip 1\n$/);
  });

  it('never overwrites the last good checkpoint', async () => {
    const file = at('diverging.ckpt');
    fs.copyFileSync(at('good.ckpt'), file);
    const good = fs.readFileSync(file);
    const r = await run('src/apps/start.ts', ['--resume', file, '--save', file, '--save-every', '1', '--epochs', '4', '--lr', '1e38', '--clip', '0']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /training diverged at epoch 3, minibatch/);
    assert.match(r.stderr, /diverging\.ckpt holds epoch 2; continue with --resume /);
    assert.deepEqual(fs.readFileSync(file), good);
  });
});
