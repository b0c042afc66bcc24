// autogradStep against two independent implementations: the float64 reference of test/reference.ts
// (itself checked against finite differences first) and PyTorch's float64 autograd.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { autogradStep } from '../src/autograd';
import { initBackend } from '../src/backend';
import type { Batch } from '../src/batches';
import { PARAM_NAMES, type RNNParams } from '../src/params';
import {
  finiteDifferences,
  randomRefBatch,
  randomRefParams,
  refLoss,
  refLossAndGrads,
  relativeError,
  REF_PARAM_NAMES,
  type RefBatch,
  type RefParams,
} from './reference';
import { PYTORCH, torchPython } from '../scripts/prerequisites';
import { skipWithout } from './needs';

const PYTHON = torchPython(); // Debian's python3 with python3-torch (TORCH_PYTHON overrides)
const TOL = 1e-5; // float32 tfjs against float64, relative per tensor

before(async () => {
  await initBackend({ log: () => {} });
});

function toTfParams(p: RefParams): RNNParams {
  const variable = <R extends tf.Rank>(data: Float64Array, shape: number[]) => {
    const t = tf.tensor(Float32Array.from(data), shape);
    const v = tf.variable(t);
    t.dispose();
    return v as unknown as tf.Variable<R>;
  };
  return {
    W_xh: variable<tf.Rank.R2>(p.W_xh, [p.V, p.H]),
    W_hh: variable<tf.Rank.R2>(p.W_hh, [p.H, p.H]),
    b_h: variable<tf.Rank.R1>(p.b_h, [p.H]),
    W_hq: variable<tf.Rank.R2>(p.W_hq, [p.H, p.V]),
    b_q: variable<tf.Rank.R1>(p.b_q, [p.V]),
  };
}

function disposeParams(p: RNNParams): void {
  for (const n of PARAM_NAMES) p[n].dispose();
}

function toBatch(b: RefBatch): Batch {
  return { X: b.X, Y: b.Y, batchSize: b.B, numSteps: b.T };
}

/** Runs autogradStep on the reference's params and batch; returns plain arrays and frees every tensor. */
function tfjsStep(p: RefParams, b: RefBatch) {
  const params = toTfParams(p);
  const state = tf.tensor2d(Float32Array.from(b.h0), [b.B, p.H]);
  const out = autogradStep(params, toBatch(b), state);
  const grads = Object.fromEntries(PARAM_NAMES.map((n) => [n, out.grads[n].dataSync() as Float32Array]));
  const result = { loss: out.loss, grads, state: out.state.dataSync() as Float32Array, shapes: PARAM_NAMES.map((n) => out.grads[n].shape) };
  tf.dispose(out.grads);
  out.state.dispose();
  state.dispose();
  disposeParams(params);
  return result;
}

const CASES = [
  { name: 'a small batch', V: 7, H: 10, B: 3, T: 6, scale: 0.5, seed: 1 },
  { name: 'd2l-like shapes (V 28, T 35)', V: 28, H: 24, B: 4, T: 35, scale: 0.3, seed: 2 },
];

describe('the float64 reference', () => {
  it('has hand-derived gradients equal to central finite differences of its own loss', () => {
    const p = randomRefParams(5, 4, 0.8, 11);
    const batch = randomRefBatch(5, 4, 2, 4, 12);
    const ref = refLossAndGrads(p, batch);
    for (const name of REF_PARAM_NAMES) {
      const fd = finiteDifferences(() => refLoss(p, batch), p[name]);
      const err = relativeError(ref.grads[name], fd);
      assert.ok(err < 1e-7, `${name}: analytic vs finite differences relative error ${err}`);
    }
    const fdState = finiteDifferences(() => refLoss(p, batch), batch.h0);
    assert.ok(relativeError(ref.dh0, fdState) < 1e-7, 'gradient with respect to the initial state');
  });

  it('works in the non-linear range of tanh on the test data', () => {
    const { V, H, B, T, scale, seed } = CASES[0];
    const ref = refLossAndGrads(randomRefParams(V, H, scale, seed), randomRefBatch(V, H, B, T, seed + 100));
    const maxAbs = Math.max(...Array.from(ref.state, Math.abs));
    assert.ok(maxAbs > 0.5, `final state peaks at ${maxAbs}; the comparison would only test the linear part`);
  });
});

describe('autogradStep', () => {
  for (const c of CASES) {
    it(`matches the float64 reference's loss, every gradient and the final state on ${c.name}`, () => {
      const p = randomRefParams(c.V, c.H, c.scale, c.seed);
      const batch = randomRefBatch(c.V, c.H, c.B, c.T, c.seed + 100);
      const ref = refLossAndGrads(p, batch);
      const got = tfjsStep(p, batch);
      assert.ok(Math.abs(got.loss - ref.loss) / ref.loss < TOL, `loss ${got.loss} vs reference ${ref.loss}`);
      assert.deepEqual(got.shapes, [
        [c.V, c.H],
        [c.H, c.H],
        [c.H],
        [c.H, c.V],
        [c.V],
      ]);
      for (const name of PARAM_NAMES) {
        const err = relativeError(got.grads[name], ref.grads[name]);
        assert.ok(err < TOL, `${name}: relative error ${err}`);
      }
      assert.ok(relativeError(got.state, ref.state) < TOL, 'final state');
    });
  }

  it('leaves no tensors behind once its gradients and state are disposed', () => {
    const p = randomRefParams(6, 5, 0.5, 3);
    const batch = randomRefBatch(6, 5, 2, 4, 4);
    const params = toTfParams(p);
    const state = tf.tensor2d(Float32Array.from(batch.h0), [2, 5]);
    const before = tf.memory().numTensors;
    const out = autogradStep(params, toBatch(batch), state);
    tf.dispose(out.grads);
    out.state.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.equal(state.isDisposed, false, 'the caller owns the state passed in');
    state.dispose();
    disposeParams(params);
  });
});

// PyTorch as a second, independent implementation (micrograd's check), in d2l's own formulation.
const TORCH_SCRIPT = String.raw`
import json, sys
import torch
import torch.nn.functional as F
d = json.load(open(sys.argv[1]))
V, H, B, T = d['V'], d['H'], d['B'], d['T']
def param(name, shape):
    return torch.tensor(d[name], dtype=torch.float64).reshape(shape).requires_grad_()
params = {'W_xh': param('W_xh', (V, H)), 'W_hh': param('W_hh', (H, H)), 'b_h': param('b_h', (H,)),
          'W_hq': param('W_hq', (H, V)), 'b_q': param('b_q', (V,))}
X = torch.tensor(d['X'], dtype=torch.long).reshape(B, T)
Y = torch.tensor(d['Y'], dtype=torch.long).reshape(B, T)
h = torch.tensor(d['h0'], dtype=torch.float64).reshape(B, H)
outputs = []
for x in F.one_hot(X.T, V).double():
    h = torch.tanh(torch.mm(x, params['W_xh']) + torch.mm(h, params['W_hh']) + params['b_h'])
    outputs.append(torch.mm(h, params['W_hq']) + params['b_q'])
loss = F.cross_entropy(torch.cat(outputs, dim=0), Y.T.reshape(-1))
loss.backward()
print(json.dumps({'loss': loss.item(), 'state': h.detach().reshape(-1).tolist(),
                  'grads': {n: p.grad.reshape(-1).tolist() for n, p in params.items()}}))
`;

function runTorch(p: RefParams, b: RefBatch): { loss: number; state: number[]; grads: Record<string, number[]> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-torch-'));
  try {
    const file = path.join(dir, 'case.json');
    const plain = (a: ArrayLike<number>) => Array.from(a);
    fs.writeFileSync(
      file,
      JSON.stringify({
        V: p.V, H: p.H, B: b.B, T: b.T,
        W_xh: plain(p.W_xh), W_hh: plain(p.W_hh), b_h: plain(p.b_h), W_hq: plain(p.W_hq), b_q: plain(p.b_q),
        X: plain(b.X), Y: plain(b.Y), h0: plain(b.h0),
      }),
    );
    const r = spawnSync(PYTHON, ['-c', TORCH_SCRIPT, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `PyTorch script failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('autogradStep against PyTorch', () => {
  if (skipWithout(PYTORCH)) return;

  for (const c of CASES) {
    it(`matches PyTorch float64 autograd's loss, gradients and final state on ${c.name}`, () => {
      const p = randomRefParams(c.V, c.H, c.scale, c.seed);
      const batch = randomRefBatch(c.V, c.H, c.B, c.T, c.seed + 100);
      const torch = runTorch(p, batch);
      const got = tfjsStep(p, batch);
      assert.ok(Math.abs(got.loss - torch.loss) / torch.loss < TOL, `loss ${got.loss} vs PyTorch ${torch.loss}`);
      for (const name of PARAM_NAMES) {
        const err = relativeError(got.grads[name], torch.grads[name]);
        assert.ok(err < TOL, `${name}: relative error ${err} against PyTorch`);
      }
      assert.ok(relativeError(got.state, torch.state) < TOL, 'final state');
      // The two float64 implementations agree to round-off, which vouches for the reference too.
      const ref = refLossAndGrads(p, batch);
      assert.ok(Math.abs(ref.loss - torch.loss) < 1e-12);
      for (const name of REF_PARAM_NAMES) assert.ok(relativeError(ref.grads[name], torch.grads[name]) < 1e-10, name);
    });
  }
});
