// The system tools the tests need are there, and scripts/prerequisites.ts decides right what to do
// when one is not: install it (root with apt-get) or stop with one line naming it and the command.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { join } from 'path';
import { CHROMIUM, FOR, PYTORCH, ensure, plan, type Prerequisite } from '../scripts/prerequisites';
import { ROOT } from '../scripts/notebook-env';
import { missing } from './needs';

describe('the tools the tests need', () => {
  for (const p of FOR.test) {
    it(`has ${p.name}, for ${p.why}`, () => {
      const line = missing(p);
      if (line) assert.fail(line); // the one line: what is missing and the command that installs it
    });
  }
});

const fake = (name: string, packages: string[], present = false): Prerequisite => ({ name, why: `the ${name} tests`, packages, present: () => present });

describe('plan', () => {
  it('does nothing when nothing is missing', () => {
    assert.deepEqual(plan([], { root: false, apt: false }), { action: 'none' });
  });

  it('installs the missing packages as root with apt-get, after apt-get update, each package once', () => {
    const p = plan([fake('A', ['pkg-a', 'pkg-shared']), fake('B', ['pkg-shared'])], { root: true, apt: true });
    assert.deepEqual(p, {
      action: 'install',
      packages: ['pkg-a', 'pkg-shared'],
      commands: [['apt-get', 'update'], ['apt-get', 'install', '-y', '--no-install-recommends', 'pkg-a', 'pkg-shared']],
    });
  });

  it('stops with one line naming each missing tool and the exact command when not root', () => {
    const p = plan([CHROMIUM, PYTORCH], { root: false, apt: true });
    assert.equal(p.action, 'fail');
    assert.equal(
      p.action === 'fail' && p.line,
      'missing: Chromium (the lesson-page browser tests), PyTorch (the reference the gradient tests compare against); ' +
        'run: sudo apt-get install -y --no-install-recommends chromium python3-torch',
    );
  });

  it('names the Debian packages to look for where there is no apt-get, even as root', () => {
    const p = plan([fake('A', ['pkg-a'])], { root: true, apt: false });
    assert.equal(p.action === 'fail' && p.line, "missing: A (the A tests); run: install the equivalent of Debian's pkg-a");
  });
});

describe('ensure', () => {
  it('returns null without installing when everything is present', () => {
    const logged: string[] = [];
    assert.equal(ensure([fake('A', ['pkg-a'], true)], { log: (l) => logged.push(l), host: { root: true, apt: true } }), null);
    assert.deepEqual(logged, []);
  });

  it('returns the line to print, and installs nothing, when not root', () => {
    const logged: string[] = [];
    const line = ensure([fake('A', ['pkg-a']), fake('B', ['pkg-b'], true)], { log: (l) => logged.push(l), host: { root: false, apt: true } });
    assert.equal(line, 'missing: A (the A tests); run: sudo apt-get install -y --no-install-recommends pkg-a');
    assert.deepEqual(logged, []);
  });

  it('the pretest step fails at once with that line when a tool is missing and it may not install', () => {
    // CHROMIUM and TORCH_PYTHON point at nothing; --check is what a user who is not root gets.
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'prerequisites.ts'), 'test', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CHROMIUM: '/nonexistent/chromium', TORCH_PYTHON: '/nonexistent/python3' },
    });
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.trim(),
      'missing: Chromium (the lesson-page browser tests), PyTorch (the reference the gradient tests compare against); ' +
        'run: sudo apt-get install -y --no-install-recommends chromium python3-torch',
    );
  });
});
