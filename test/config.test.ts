// The one typed config: d2l's recipe as defaults, and a ConfigError a learner can act on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DEFAULTS, makeConfig, PRESETS, type RNNConfig } from '../src/config';
import { isQuickRun, lessonConfig } from '../src/notebook';

describe('makeConfig', () => {
  it('defaults to d2l\u2019s recipe: 512 hidden units, batch 32, 35 steps, 10,000 tokens, 500 epochs, lr 1, θ 1, sequential', () => {
    const cfg = makeConfig();
    assert.equal(cfg.numHiddens, 512);
    assert.equal(cfg.batchSize, 32);
    assert.equal(cfg.numSteps, 35);
    assert.equal(cfg.maxTokens, 10000);
    assert.equal(cfg.numEpochs, 500);
    assert.equal(cfg.lr, 1);
    assert.equal(cfg.theta, 1);
    assert.equal(cfg.clipMode, 'global', 'd2l clips by the global norm');
    assert.equal(cfg.partition, 'sequential');
    assert.equal(cfg.resetState, false, 'sequential partitioning carries the state, as d2l does');
    assert.equal(cfg.prefix, 'time traveller');
    assert.equal(cfg.numPreds, 50);
    assert.deepEqual(cfg, { ...DEFAULTS });
  });

  it('returns a fresh object, so changing one config leaves the defaults alone', () => {
    const cfg = makeConfig({ numHiddens: 8 });
    cfg.numSteps = 3;
    assert.equal(DEFAULTS.numSteps, 35);
    assert.equal(makeConfig().numSteps, 35);
    assert.ok(Object.isFrozen(DEFAULTS));
  });

  it('applies overrides and ignores keys given as undefined', () => {
    const cfg = makeConfig({ numHiddens: 64, lr: 0.5, theta: undefined });
    assert.equal(cfg.numHiddens, 64);
    assert.equal(cfg.lr, 0.5);
    assert.equal(cfg.theta, 1);
  });

  it('makes random partitioning reset the state, and refuses random partitioning with a carried state', () => {
    assert.equal(makeConfig({ partition: 'random' }).resetState, true);
    assert.equal(makeConfig({ partition: 'random', resetState: undefined }).resetState, true);
    assert.throws(() => makeConfig({ partition: 'random', resetState: false }), (e: Error) => e instanceof ConfigError && /random partitioning needs resetState/.test(e.message));
  });

  it('lets sequential partitioning reset the state when asked (lesson 05 compares both)', () => {
    assert.equal(makeConfig({ partition: 'sequential', resetState: true }).resetState, true);
  });

  it('accepts every preset', () => {
    for (const [name, preset] of Object.entries(PRESETS)) assert.doesNotThrow(() => makeConfig(preset), name);
    assert.equal(makeConfig(PRESETS.tiny).sampleEvery, 0);
  });

  const invalid: [string, Partial<RNNConfig>, RegExp][] = [
    ['zero hidden units', { numHiddens: 0 }, /numHiddens must be a positive integer \(got 0\); e\.g\. --hidden 512/],
    ['fractional hidden units', { numHiddens: 1.5 }, /numHiddens must be a positive integer \(got 1\.5\)/],
    ['NaN hidden units', { numHiddens: NaN }, /numHiddens .*got NaN/],
    ['a negative batch size', { batchSize: -2 }, /batchSize must be a positive integer \(got -2\); e\.g\. --batch-size 32/],
    ['fractional steps', { numSteps: 2.5 }, /numSteps must be a positive integer \(got 2\.5\); e\.g\. --num-steps 35/],
    ['zero epochs', { numEpochs: 0 }, /numEpochs must be a positive integer \(got 0\); e\.g\. --epochs 500/],
    ['negative maxTokens', { maxTokens: -1 }, /maxTokens must be a whole number ≥ 0 \(got -1\); use 0 for the whole corpus/],
    ['a fractional seed', { seed: 0.5 }, /seed must be a whole number ≥ 0 \(got 0\.5\)/],
    ['negative sampleEvery', { sampleEvery: -1 }, /sampleEvery .*got -1.*use 0 to turn samples off/],
    ['negative numPreds', { numPreds: -3 }, /numPreds .*got -3/],
    ['a zero learning rate', { lr: 0 }, /lr must be a finite number > 0 \(got 0\); d2l uses --lr 1/],
    ['an infinite learning rate', { lr: Infinity }, /lr .*got Infinity/],
    ['a NaN learning rate', { lr: NaN }, /lr .*got NaN/],
    ['a negative θ', { theta: -1 }, /theta .*must be ≥ 0 \(got -1\); use --clip 1, or --clip 0 to turn clipping off/],
    ['a NaN θ', { theta: NaN }, /theta .*got NaN/],
    ['an unknown partition', { partition: 'shuffled' as never }, /partition must be 'sequential' or 'random' \(got 'shuffled'\)/],
    ['an unknown path', { path: 'gpu' as never }, /path must be 'fast' or 'autograd' \(got 'gpu'\)/],
    ['an unknown clipping mode', { clipMode: 'norm' as never }, /clipMode must be 'global', 'value' or 'per-tensor' \(got 'norm'\)/],
    ['a prefix that is not a string', { prefix: 42 as never }, /prefix must be a string/],
  ];
  for (const [what, overrides, message] of invalid) {
    it(`refuses ${what} with a ConfigError that says how to fix it`, () => {
      assert.throws(() => makeConfig(overrides), (e: Error) => {
        assert.ok(e instanceof ConfigError, `${e.name}: ${e.message}`);
        assert.equal(e.name, 'ConfigError');
        assert.match(e.message, message);
        return true;
      });
    });
  }

  it('refuses unknown keys, naming them and listing the known ones', () => {
    assert.throws(
      () => makeConfig({ hidden: 256, epochs: 3 } as never),
      (e: Error) => e instanceof ConfigError && /unknown config key 'hidden', 'epochs'/.test(e.message) && /numHiddens/.test(e.message),
    );
  });

  it('refuses keys that only exist on Object.prototype', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
      assert.throws(() => makeConfig({ [key]: 1 } as never), ConfigError, key);
    }
  });
});

describe('lessonConfig (notebook.ts)', () => {
  it('is `full` over DEFAULTS, with `quick` on top only when the notebook tests set RNN_WORKBOOK_PRESET=test', () => {
    const saved = process.env.RNN_WORKBOOK_PRESET;
    try {
      delete process.env.RNN_WORKBOOK_PRESET;
      assert.equal(isQuickRun(), false);
      const full = lessonConfig({ numHiddens: 256, numEpochs: 100 }, { numEpochs: 3 });
      assert.deepEqual([full.numHiddens, full.numEpochs, full.batchSize], [256, 100, DEFAULTS.batchSize]);
      process.env.RNN_WORKBOOK_PRESET = 'test';
      assert.equal(isQuickRun(), true);
      const quick = lessonConfig({ numHiddens: 256, numEpochs: 100 }, { numEpochs: 3 });
      assert.deepEqual([quick.numHiddens, quick.numEpochs], [256, 3]);
      assert.throws(() => lessonConfig({}, { numEpochs: 0 }), ConfigError, 'the quick settings are checked too');
    } finally {
      if (saved === undefined) delete process.env.RNN_WORKBOOK_PRESET;
      else process.env.RNN_WORKBOOK_PRESET = saved;
    }
  });
});
