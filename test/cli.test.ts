// `npm start` as a learner meets it, run as a child process: bad input is exit code 2 and one line
// with nothing written; --json results; exact resume; Ctrl-C (exit 130) and divergence (exit 3)
// keeping the last good checkpoint.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCheckpoint } from '../src/checkpoint';
import { catchCtrlC, SAME_PRESS_MS } from '../src/cli';
import { listing, run, start, TINY } from './spawn-cli';

let dir: string; // every file the cases read or might wrongly write
const at = (name: string) => path.join(dir, name);

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-cli-'));
  fs.writeFileSync(at('empty.txt'), '');
  fs.writeFileSync(at('binary.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x3e, 0]));
  fs.writeFileSync(at('big.txt'), Buffer.alloc(50 * 2 ** 20, 'the time traveller smiled '));
  fs.writeFileSync(at('unicode.txt'), '时间机器。\nМашина времени — ☃ 🕰️\n');
  fs.writeFileSync(at('short.txt'), 'the time machine\n');
  fs.writeFileSync(at('other.txt'), 'Café über naïve façade; '.repeat(400)); // letters, but another vocabulary
  fs.writeFileSync(at('notes.txt'), 'my notes, not a checkpoint\n');
  fs.writeFileSync(at('noperm.txt'), 'the time machine '.repeat(200), { mode: 0o000 });
  fs.mkdirSync(at('folder'));
  if (spawnSync('mkfifo', [at('fifo')]).status !== 0) throw new Error('mkfifo failed');
  const made = await run('src/cli.ts', [...TINY, '--epochs', '2', '--save', at('good.ckpt')]);
  assert.equal(made.code, 0, made.stderr);
  const good = fs.readFileSync(at('good.ckpt'));
  fs.writeFileSync(at('victim.ckpt'), good); // the --save target of every bad command line below
  fs.writeFileSync(at('truncated.ckpt'), good.subarray(0, good.length >> 1));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface BadCase {
  what: string;
  args: () => string[];
  says: RegExp;
  save?: false; // the case is about --save itself: do not add --save victim.ckpt
  asNobody?: boolean; // run the CLI as an unprivileged user, so permissions apply
}

const corpus = (name: string) => () => ['--corpus', at(name)];
const BAD: BadCase[] = [
  { what: 'an unknown flag', args: () => ['--hiden', '16'], says: /Unknown option '--hiden'.*see --help/ },
  { what: 'an unknown partition', args: () => ['--partition', 'diagonal'], says: /--partition must be one of sequential, random \(got 'diagonal'\)/ },
  { what: 'an unknown path', args: () => ['--path', 'quick'], says: /--path must be one of fast, autograd/ },
  { what: 'a flag missing its value', args: () => ['--lr'], says: /--lr needs a value; see --help/ },
  { what: 'a non-numeric size', args: () => ['--epochs', 'ten'], says: /--epochs needs a number \(got 'ten'\)/ },
  { what: 'a size with trailing junk', args: () => ['--hidden', '16abc'], says: /--hidden needs a number/ },
  { what: 'a zero size', args: () => ['--hidden', '0'], says: /numHiddens must be a positive integer \(got 0\); e\.g\. --hidden 512/ },
  { what: 'a negative size', args: () => ['--batch-size', '-4'], says: /batchSize must be a positive integer \(got -4\)/ },
  { what: 'a fractional size', args: () => ['--num-steps', '1.5'], says: /numSteps must be a positive integer \(got 1\.5\)/ },
  { what: 'lr 0', args: () => ['--lr', '0'], says: /lr must be a finite number > 0 \(got 0\)/ },
  { what: 'a negative lr', args: () => ['--lr', '-1'], says: /lr must be a finite number > 0 \(got -1\)/ },
  { what: 'lr NaN', args: () => ['--lr', 'NaN'], says: /--lr needs a number \(got 'NaN'\)/ },
  { what: 'a negative --num-val', args: () => ['--num-val', '-5'], says: /numVal must be a whole number ≥ 0 \(got -5\); use 0 to train without validation/ },
  { what: 'a negative clip', args: () => ['--clip', '-0.5'], says: /theta \(the clipping threshold\) must be ≥ 0 \(got -0\.5\)/ },
  { what: 'a negative --save-every', args: () => ['--save-every', '-1'], says: /--save-every must be a whole number ≥ 0 \(got -1\)/ },
  { what: '--save-every without --save', args: () => ['--save-every', '5'], says: /--save-every needs --save FILE/, save: false },
  { what: 'an empty prefix', args: () => ['--prefix', ''], says: /--prefix is empty/ },
  { what: 'a prefix without letters', args: () => ['--prefix', '1984', '--epochs', '1'], says: /the prefix '1984' is empty after preprocessing/ },
  { what: 'a missing corpus', args: corpus('nowhere.txt'), says: /corpus file '.*nowhere\.txt' does not exist/ },
  { what: 'an empty corpus', args: corpus('empty.txt'), says: /corpus file '.*empty\.txt' is empty/ },
  { what: 'a corpus that is a directory', args: corpus('folder'), says: /corpus '.*folder' is a directory/ },
  { what: 'a binary corpus', args: corpus('binary.bin'), says: /looks binary \(it has NUL bytes\)/ },
  { what: 'a 50 MB corpus', args: corpus('big.txt'), says: /is 50\.0 MiB, over the 32 MiB limit/ },
  { what: 'a unicode corpus without letters A–Z', args: corpus('unicode.txt'), says: /has no letters A–Z after preprocessing/ },
  { what: 'a corpus shorter than one minibatch', args: corpus('short.txt'), says: /the corpus has 16 tokens, too few for one minibatch of 4 × 8 steps \(needs at least 41\)/ },
  { what: 'a FIFO as corpus (never read, so never hangs)', args: corpus('fifo'), says: /corpus file '.*fifo' is empty/ },
  // Root reads files whatever their mode, so as root (CI) this case runs the CLI as user nobody.
  { what: 'an unreadable corpus', args: corpus('noperm.txt'), says: /cannot be read \(EACCES\)/, asNobody: true, save: false },
  { what: 'a missing checkpoint', args: () => ['--resume', at('none.ckpt')], says: /checkpoint '.*none\.ckpt' does not exist/ },
  { what: 'a truncated checkpoint', args: () => ['--resume', at('truncated.ckpt')], says: /checkpoint '.*truncated\.ckpt' is truncated \(\d+ bytes, expected \d+\)/ },
  { what: 'a text file as checkpoint', args: () => ['--resume', at('notes.txt')], says: /'.*notes\.txt' is not an rnn-workbook checkpoint/ },
  { what: 'a directory as checkpoint', args: () => ['--resume', at('folder')], says: /checkpoint '.*folder' is a directory/ },
  {
    what: 'a checkpoint from another vocabulary',
    args: () => ['--resume', at('good.ckpt'), '--corpus', at('other.txt')],
    says: /checkpoint '.*good\.ckpt' was trained on another vocabulary \(28 tokens: .*\) than this corpus \(\d+ tokens/,
  },
  { what: '--hidden changing a resumed model', args: () => ['--resume', at('good.ckpt'), '--hidden', '32'], says: /--hidden 32 conflicts with checkpoint '.*', whose model has 16 hidden units/ },
  { what: '--epochs below a checkpoint’s', args: () => ['--resume', at('good.ckpt'), '--epochs', '1'], says: /--epochs 1 is fewer than the 2 epochs checkpoint/ },
  { what: '--save into a missing folder', args: () => ['--save', at('no/such/run.ckpt')], says: /the folder '.*no\/such' does not exist/, save: false },
  { what: '--save onto a directory', args: () => ['--save', at('folder')], says: /--save '.*folder' is a directory/, save: false },
  { what: '--save onto a file that is not a checkpoint', args: () => ['--save', at('notes.txt')], says: /exists and is not a checkpoint; refusing to overwrite it/, save: false },
];

describe('bad input: exit code 2, one line on stderr, nothing on stdout, nothing written', { concurrency: 2 }, () => {
  for (const c of BAD) {
    it(c.what, async () => {
      const args = [...TINY, ...c.args(), ...(c.save === false ? [] : ['--save', at('victim.ckpt')])];
      const files = listing(dir);
      const r = await run('src/cli.ts', args, 20_000, { asNobody: c.asNobody }); // killed (and failed) if it hangs
      assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
      assert.match(r.stderr, /^error: [^\n]+\n$/, 'exactly one line');
      assert.match(r.stderr, c.says);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
      assert.deepEqual(listing(dir), files, 'no file created, changed or removed');
    });
  }
});

describe('npm start', () => {
  it('--help documents the flags and the exit codes, exit 0', async () => {
    const r = await run('src/cli.ts', ['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    for (const s of ['--save FILE', '--save-every N', '--resume FILE', 'Exit codes: 0 done, 2 bad input', '3 training diverged', '130 interrupted']) {
      assert.ok(r.stdout.includes(s), s);
    }
  });

  it('--json ends stdout with one line of results', async () => {
    const r = await run('src/cli.ts', [...TINY, '--epochs', '2', '--json', '--prefix', 'time', '--prefix', 'the']);
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
    const r = await run('src/cli.ts', [...TINY, '--epochs', '1', '--num-val', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trimEnd().split('\n').pop()!);
    assert.equal(out.valPerplexity, null);
    assert.deepEqual(out.valPerplexities, [null]);
    assert.doesNotMatch(r.stdout, /validation/);
  });

  it('resumes exactly: 3 epochs saved, resumed to 6, equal 6 straight', async () => {
    const file = at('resume.ckpt');
    const [straight, first] = await Promise.all([
      run('src/cli.ts', [...TINY, '--epochs', '6', '--json']),
      run('src/cli.ts', [...TINY, '--epochs', '3', '--save', file]),
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /checkpoint: saved epoch 3 to .*resume\.ckpt/);
    const resumed = await run('src/cli.ts', ['--resume', file, '--epochs', '6', '--json']); // the model, data and seed come from the checkpoint
    assert.equal(resumed.code, 0, resumed.stderr);
    const [a, b] = [straight, resumed].map((r) => JSON.parse(r.stdout.trimEnd().split('\n').pop()!));
    assert.deepEqual(b.perplexities, a.perplexities);
    assert.deepEqual(b.samples, a.samples);
    assert.equal(b.epochs, 6);
  });
});

describe('Ctrl-C', () => {
  it('stops at a minibatch, saves the last completed epoch, exits 130; resuming ends where an uninterrupted run does', async () => {
    const file = at('interrupted.ckpt');
    const straight = run('src/cli.ts', [...TINY, '--epochs', '20', '--json']);
    const p = start('src/cli.ts', [...TINY, '--epochs', '20', '--save', file, '--save-every', '0']); // only the Ctrl-C writes
    await p.printed(/^backend: /m);
    await new Promise((r) => setTimeout(r, 150)); // an epoch or so in; any epoch, even 0, must resume exactly
    p.child.kill('SIGINT');
    const stopped = await p.finished;
    assert.equal(stopped.code, 130, stopped.stderr);
    const m = /stopped after epoch (\d+) of 20; .*interrupted\.ckpt holds epoch (\d+); continue with --resume /.exec(stopped.stderr);
    assert.ok(m, stopped.stderr);
    assert.equal(m[1], m[2]);
    assert.match(stopped.stderr, new RegExp(`checkpoint: saved epoch ${m[1]} to `));
    const ckpt = loadCheckpoint(file);
    assert.equal(ckpt.epoch, Number(m[1]));
    assert.ok(ckpt.epoch < 20, `interrupted before the end (epoch ${ckpt.epoch})`);

    const resumed = await run('src/cli.ts', ['--resume', file, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const [a, b] = [await straight, resumed].map((r) => JSON.parse(r.stdout.trimEnd().split('\n').pop()!));
    assert.equal(b.perplexity, a.perplexity);
    assert.deepEqual(b.perplexities, a.perplexities);
  });

  it('arriving twice at once (the terminal’s and npm’s copy of one press) counts once: exit 130, checkpoint intact', async () => {
    const file = at('twice.ckpt');
    const p = start('src/cli.ts', [...TINY, '--epochs', '40', '--save', file, '--save-every', '1']);
    await p.printed(/checkpoint: saved epoch 1 /);
    p.child.kill('SIGINT');
    p.child.kill('SIGINT');
    const r = await p.finished;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stopped after epoch \d+ of 40/);
    assert.ok(loadCheckpoint(file).epoch >= 1);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary file left');
  });

  it('a second press, later, quits at once with exit 130', (t) => {
    // In-process with a fake clock: a real run stops within one minibatch of the first press, too soon to press again.
    const exit = t.mock.method(process, 'exit', () => undefined as never);
    t.mock.method(process.stderr, 'write', () => true);
    let now = 0;
    const ctrlC = catchCtrlC('', () => now);
    try {
      assert.equal(ctrlC.requested(), false);
      process.emit('SIGINT', 'SIGINT');
      assert.equal(ctrlC.requested(), true);
      now += SAME_PRESS_MS / 2;
      process.emit('SIGINT', 'SIGINT');
      assert.equal(exit.mock.callCount(), 0, 'a forwarded copy of the same press');
      now += SAME_PRESS_MS;
      process.emit('SIGINT', 'SIGINT');
      assert.deepEqual(exit.mock.calls.map((c) => c.arguments), [[130]]);
    } finally {
      ctrlC.release();
    }
  });
});

describe('divergence', () => {
  it('stops with exit 3 and a message naming epoch, minibatch, gradient norm and the fix', async () => {
    const r = await run('src/cli.ts', [...TINY, '--epochs', '2', '--lr', '1e38', '--clip', '0']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: training diverged at epoch 1, minibatch \d+: loss \S+, gradient norm \S+ \(last finite norm [\d.]+\); lower --lr or enable clipping with --clip 1\n$/);
  });

  it('never overwrites the last good checkpoint', async () => {
    const file = at('diverging.ckpt');
    fs.copyFileSync(at('good.ckpt'), file);
    const good = fs.readFileSync(file);
    const r = await run('src/cli.ts', ['--resume', file, '--save', file, '--save-every', '1', '--epochs', '4', '--lr', '1e38', '--clip', '0']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /training diverged at epoch 3, minibatch/);
    assert.match(r.stderr, /diverging\.ckpt holds epoch 2; continue with --resume /);
    assert.deepEqual(fs.readFileSync(file), good);
  });
});
