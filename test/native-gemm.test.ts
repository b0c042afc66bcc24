// The native GEMM (src/native-gemm.ts, native/gemm.cc): built wherever it can be; its kernels equal a
// float64 reference on plain, transposed, fused and batched products of odd sizes, and its tanh is
// within 2 ulp of float64's; what it leaves
// to tfjs-wasm's kernels is still right; training steps equal the autograd path with and without it
// and leak no tensors; it loads in a worker thread; RNN_NATIVE=0 turns it off; and without the addon
// everything trains and one line says why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { autogradStep } from '../src/autograd';
import { initBackend } from '../src/backend';
import { bpttStep } from '../src/bptt';
import { fastStep } from '../src/train';
import { dataParallelHelper } from '../src/data-parallel';
import { PARAM_NAMES, type RNNParams } from '../src/params';
import {
  builtGemmLibraries,
  disableNativeGemm,
  enableNativeGemm,
  nativeGemmCounts,
  nativeGemmDir,
  nativeGemmProblem,
  nativeGemmStatus,
  nativeWanted,
  preferredGemmLibraries,
  type GemmLibrary,
} from '../src/native-gemm';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNativeGemm, compilerProblem, describeRecord, locateLibraries, readRecord, timeLibraries } from '../scripts/native-gemm-build';
import { randomRefBatch, randomRefParams, relativeError, lcg } from './reference';
import { start, TINY } from './spawn-cli';

before(async () => {
  await initBackend({ log: () => {}, parallel: true });
  assert.equal(tf.getBackend(), 'wasm', 'these tests are about the wasm backend (RNN_BACKEND unset or wasm)');
});

after(() => {
  enableNativeGemm(); // as initBackend left it, for whatever runs next in this process
});

const BUILT = builtGemmLibraries();

describe('the native GEMM build', () => {
  it('is built for every CPU BLAS installed here, when a compiler is', () => {
    const noCompiler = compilerProblem();
    const { found } = locateLibraries();
    const missing = noCompiler ? [] : found.map((f) => f.lib).filter((lib) => !BUILT.includes(lib));
    if (missing.length) assert.fail(`the native GEMM for ${missing.join(', ')} is not built in ${nativeGemmDir()} though g++ and the library are here; run npm run setup`);
    if (BUILT.length === 0) {
      // Nothing to build with: the wasm path as before, and the status says why.
      assert.equal(nativeGemmStatus().on, false);
      assert.match((nativeGemmStatus() as { reason: string }).reason, /not built/);
    }
  });

  it('times every built library on the fast path\u2019s product and loads the fastest first', () => {
    const us = timeLibraries(BUILT, 1);
    for (const lib of BUILT) assert.ok(us[lib]! > 0 && us[lib]! < 1e5, `${lib}: ${us[lib]} µs per [16, 512]·[512, 512]`);
    const record = readRecord();
    if (BUILT.length > 1) {
      assert.ok(record?.microseconds, 'the build records its timings');
      const [first, second] = record!.built;
      assert.ok(record!.microseconds![first]! <= record!.microseconds![second]!, `ranked fastest first: ${JSON.stringify(record)}`);
      assert.match(describeRecord(record!), new RegExp(`µs\\) per \\[16, 512\\]·\\[512, 512\\] product in native/build/Release; .* is used, the faster here$`));
    }
    // The loader follows the record's ranking, whatever GEMM_LIBRARIES' default order.
    const dir = mkdtempSync(join(tmpdir(), 'rw-rank-'));
    try {
      mkdirSync(join(dir, 'Release'));
      assert.deepEqual(preferredGemmLibraries(join(dir, 'Release')), ['onednn', 'openblas'], 'no record: the default order');
      writeFileSync(join(dir, 'gemm.json'), JSON.stringify({ built: ['openblas', 'onednn'] }));
      assert.deepEqual(preferredGemmLibraries(join(dir, 'Release')), ['openblas', 'onednn']);
      writeFileSync(join(dir, 'gemm.json'), JSON.stringify({ built: ['openblas'] }));
      assert.deepEqual(preferredGemmLibraries(join(dir, 'Release')), ['openblas', 'onednn'], 'one built: it first, then the rest');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a compiler builds nothing, removes a stale addon, and says why in one line the loader repeats', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-gemm-'));
    const cxx = process.env.CXX;
    try {
      mkdirSync(join(dir, 'Release'));
      writeFileSync(join(dir, 'Release', 'gemm_onednn.node'), 'stale');
      process.env.CXX = '/nonexistent/g++';
      const record = buildNativeGemm({ buildDir: dir, log: () => assert.fail('nothing to log') });
      assert.deepEqual(record.built, []);
      assert.equal(existsSync(join(dir, 'Release', 'gemm_onednn.node')), false, 'a stale addon must not load');
      const line = describeRecord(record);
      assert.equal(line, "native GEMM: off, training uses tfjs-wasm's XNNPACK (no C++ compiler (/nonexistent/g++; Debian: apt-get install g++ make))");
      assert.equal(nativeGemmProblem('auto', join(dir, 'Release')), 'not built: no C++ compiler (/nonexistent/g++; Debian: apt-get install g++ make)');
    } finally {
      if (cxx === undefined) delete process.env.CXX;
      else process.env.CXX = cxx;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- a float64 reference --------------------------------------------------------------------------

interface Case {
  name: string;
  a: number[]; // shape of a as passed (before transposeA)
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: number[]; // shape
  activation?: 'linear' | 'relu' | 'relu6' | 'prelu' | 'leakyrelu' | 'sigmoid' | 'elu';
  prelu?: number[]; // shape of the prelu weights
  leakyreluAlpha?: number;
}

const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

function randomData(n: number, seed: number): Float32Array {
  const u = lcg(seed);
  return Float32Array.from({ length: n }, () => 2 * u() - 1);
}

/** Index into a tensor of `shape` broadcast to `outShape` (numpy rules) at the multi-index `idx` of the output. */
function broadcastIndex(shape: number[], outShape: number[], idx: number[]): number {
  let flat = 0;
  const offset = outShape.length - shape.length;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + (shape[d] === 1 ? 0 : idx[d + offset]);
  return flat;
}

/**
 * act(op(A)·op(B) + bias) in float64, batched with numpy broadcasting of the leading axes, and per
 * entry Σ|a·b| (the scale of its rounding error).
 */
function reference(c: Case, A: Float32Array, B: Float32Array, bias: Float32Array | null, prelu: Float32Array | null) {
  const [ra, rb] = [c.a.length, c.b.length];
  const M = c.transposeA ? c.a[ra - 1] : c.a[ra - 2];
  const K = c.transposeA ? c.a[ra - 2] : c.a[ra - 1];
  const N = c.transposeB ? c.b[rb - 2] : c.b[rb - 1];
  const outerA = c.a.slice(0, -2);
  const outerB = c.b.slice(0, -2);
  const rank = Math.max(outerA.length, outerB.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const outer = pad(outerA).map((d, i) => Math.max(d, pad(outerB)[i]));
  const outShape = [...outer, M, N];
  const out = new Float64Array(size(outShape));
  const scale = new Float64Array(out.length);
  for (let flat = 0; flat < out.length; flat++) {
    const idx: number[] = [];
    for (let d = outShape.length - 1, f = flat; d >= 0; d--) {
      idx[d] = f % outShape[d];
      f = Math.floor(f / outShape[d]);
    }
    const [i, j] = [idx[rank], idx[rank + 1]];
    const batchA = broadcastIndex(outerA, outer, idx.slice(0, rank));
    const batchB = broadcastIndex(outerB, outer, idx.slice(0, rank));
    let s = 0;
    let abs = 0;
    for (let k = 0; k < K; k++) {
      const x = A[batchA * M * K + (c.transposeA ? k * M + i : i * K + k)];
      const y = B[batchB * K * N + (c.transposeB ? j * K + k : k * N + j)];
      s += x * y;
      abs += Math.abs(x * y);
    }
    if (bias) {
      s += bias[broadcastIndex(c.bias!, outShape, idx)];
      abs += Math.abs(bias[broadcastIndex(c.bias!, outShape, idx)]);
    }
    const alpha = c.leakyreluAlpha ?? 0.2;
    switch (c.activation ?? 'linear') {
      case 'relu': s = Math.max(0, s); break;
      case 'relu6': s = Math.min(6, Math.max(0, s)); break;
      case 'prelu': s = s < 0 ? prelu![broadcastIndex(c.prelu!, outShape, idx)] * s : s; break;
      case 'leakyrelu': s = s < 0 ? alpha * s : s; break;
      case 'sigmoid': s = 1 / (1 + Math.exp(-s)); break;
      case 'elu': s = s >= 0 ? s : Math.exp(s) - 1; break;
      default: break;
    }
    out[flat] = s;
    scale[flat] = abs;
  }
  return { out, scale, shape: outShape };
}

/** Runs a case through tfjs (tf.matMul, or tf.fused.matMul when it has a bias or an activation) and checks it entry by entry. */
function check(c: Case, seed: number): void {
  const A = randomData(size(c.a), seed);
  const B = randomData(size(c.b), seed + 1);
  const bias = c.bias ? randomData(size(c.bias), seed + 2) : null;
  const prelu = c.prelu ? randomData(size(c.prelu), seed + 3) : null;
  const want = reference(c, A, B, bias, prelu);
  const fused = c.bias !== undefined || c.activation !== undefined;
  const got = tf.tidy(() => {
    const [a, b] = [tf.tensor(A, c.a), tf.tensor(B, c.b)];
    const y = fused
      ? tf.fused.matMul({
          a,
          b,
          transposeA: c.transposeA,
          transposeB: c.transposeB,
          bias: bias ? tf.tensor(bias, c.bias) : undefined,
          activation: c.activation,
          preluActivationWeights: prelu ? tf.tensor(prelu, c.prelu) : undefined,
          leakyreluAlpha: c.leakyreluAlpha,
        })
      : tf.matMul(a, b, c.transposeA, c.transposeB);
    return { shape: y.shape, data: y.dataSync() };
  });
  assert.deepEqual(got.shape, want.shape, `${c.name}: shape`);
  for (let i = 0; i < want.out.length; i++) {
    const err = Math.abs(got.data[i] - want.out[i]);
    // float32 products and sums: a few ulps of the largest partial sum; 1e-6 of Σ|a·b| is ~8 ulps
    assert.ok(err <= 1e-6 * want.scale[i] + 1e-7, `${c.name}: entry ${i} is ${got.data[i]}, the float64 reference ${want.out[i]} (error ${err})`);
  }
}

/** What the native kernels compute (counted in nativeGemmCounts().native). */
const NATIVE_CASES: Case[] = [
  { name: '[32,512]·[512,512], the recurrence of d2l\'s recipe', a: [32, 512], b: [512, 512] },
  { name: '1×1·1×1', a: [1, 1], b: [1, 1] },
  { name: '[3,1]·[1,35]: an outer product', a: [3, 1], b: [1, 35] },
  { name: '[35,3]·[3,1]', a: [35, 3], b: [3, 1] },
  { name: 'transposeA [7,3]ᵀ·[7,35]', a: [7, 3], b: [7, 35], transposeA: true },
  { name: 'transposeB [3,7]·[35,7]ᵀ', a: [3, 7], b: [35, 7], transposeB: true },
  { name: 'both transposed [7,3]ᵀ·[35,7]ᵀ', a: [7, 3], b: [35, 7], transposeA: true, transposeB: true },
  { name: 'an empty inner dimension [3,0]·[0,5]', a: [3, 0], b: [0, 5] },
  { name: 'batched [2,3,35]·[2,35,5]', a: [2, 3, 35], b: [2, 35, 5] },
  { name: 'batched, B broadcast [4,3,7]·[7,5]', a: [4, 3, 7], b: [7, 5] },
  { name: 'batched, A broadcast and transposed [1,7,3]ᵀ·[3,5,7]ᵀ', a: [1, 7, 3], b: [3, 5, 7], transposeA: true, transposeB: true },
  { name: 'rank 4 [2,3,5,7]·[2,3,7,1]', a: [2, 3, 5, 7], b: [2, 3, 7, 1] },
  { name: 'batch axes broadcast both ways [2,1,3,5]·[1,3,5,4] (tfjs\'s own kernels pair batches cyclically)', a: [2, 1, 3, 5], b: [1, 3, 5, 4] },
  { name: 'batch axes [6,1]·[1,6]: same count, broadcast to 36', a: [6, 1, 2, 3], b: [1, 6, 3, 2] },
  { name: 'fused bias [35,28]·[28,3] + [3]', a: [35, 28], b: [28, 3], bias: [3] },
  { name: 'fused bias with transposeB (wrong in tfjs-wasm 4.22\'s own kernel)', a: [5, 7], b: [3, 7], transposeB: true, bias: [3] },
  { name: 'fused scalar bias, transposeA', a: [7, 5], b: [7, 3], transposeA: true, bias: [1] },
  { name: 'fused bias [1,3] and relu', a: [5, 7], b: [7, 3], bias: [1, 3], activation: 'relu' },
  { name: 'fused relu6', a: [5, 7], b: [7, 3], activation: 'relu6' },
  { name: 'fused sigmoid, batched', a: [2, 5, 7], b: [2, 7, 3], bias: [3], activation: 'sigmoid' },
  { name: 'fused elu', a: [5, 7], b: [7, 3], activation: 'elu' },
  { name: 'fused leakyrelu (α 0.3)', a: [5, 7], b: [7, 3], activation: 'leakyrelu', leakyreluAlpha: 0.3 },
  { name: 'fused prelu, one weight per column', a: [5, 7], b: [7, 3], bias: [3], activation: 'prelu', prelu: [3] },
];

/** What the native kernels hand to tfjs-wasm's own (counted in nativeGemmCounts().fallback). */
const FALLBACK_CASES: Case[] = [
  { name: 'fused prelu with a weight per entry [5,3]', a: [5, 7], b: [7, 3], activation: 'prelu', prelu: [5, 3] },
];

function withLibrary(lib: GemmLibrary | 'off', body: () => void): void {
  if (lib === 'off') disableNativeGemm();
  else {
    const status = enableNativeGemm({ wanted: lib });
    assert.ok(status.on && status.library === lib, `${lib} should load: ${JSON.stringify(status)}`);
  }
  try {
    body();
  } finally {
    enableNativeGemm();
  }
}

describe('the native kernels', () => {
  for (const lib of BUILT) {
    it(`${lib}: plain, transposed, batched and fused products equal a float64 reference`, () => {
      withLibrary(lib, () => {
        const before = nativeGemmCounts();
        NATIVE_CASES.forEach((c, i) => check(c, 10 * i));
        const after = nativeGemmCounts();
        assert.equal(after.native - before.native, NATIVE_CASES.length, 'every case ran natively');
        assert.equal(after.fallback, before.fallback, 'none fell back');
      });
    });

    it(`${lib}: hands other shapes to tfjs-wasm's kernels, whose results equal the reference too`, () => {
      withLibrary(lib, () => {
        const before = nativeGemmCounts();
        FALLBACK_CASES.forEach((c, i) => check(c, 100 + 10 * i));
        assert.equal(nativeGemmCounts().fallback - before.fallback, FALLBACK_CASES.length);
        assert.throws(() => tf.tidy(() => tf.fused.matMul({ a: tf.ones([2, 3]), b: tf.ones([3, 4]), bias: tf.ones([2, 4]) })), /rank-1 bias/);
        assert.throws(() => tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]))), /inner shapes \(3\) and \(4\)/, "tfjs's own message for a shape mismatch");
      });
    });

    it(`${lib}: tanh is within 2 ulp of float64 Math.tanh (and exact at 0, ±∞, NaN), natively, for every size`, () => {
      withLibrary(lib, () => {
        const before = nativeGemmCounts();
        // Across the whole range: tiny values (tanh x ≈ x), the curve, saturation, and the vector loop's tails (sizes 1 … 17).
        const rand = lcg(42);
        const values = Float32Array.from({ length: 4099 }, (_, i) => (i % 3 === 0 ? (rand() - 0.5) * 1e-3 : (rand() - 0.5) * 40));
        for (const n of [0, 1, 7, 8, 9, 17, values.length]) {
          const x = values.subarray(0, n);
          const y = tf.tidy(() => tf.tanh(tf.tensor1d(x)).dataSync());
          assert.equal(y.length, n);
          for (let i = 0; i < n; i++) {
            const want = Math.tanh(x[i]);
            const ulp = Math.abs(Math.fround(want) - Math.fround(want * (1 + 2 ** -23))) || 2 ** -149;
            assert.ok(Math.abs(y[i] - want) <= 2 * ulp, `tanh(${x[i]}) = ${y[i]}, float64 ${want}`);
          }
        }
        const special = tf.tidy(() => tf.tanh(tf.tensor2d([0, -0, Infinity, -Infinity, NaN, 1e-30], [2, 3])).dataSync());
        assert.deepEqual([...special.subarray(0, 4)], [0, -0, 1, -1]);
        assert.ok(Number.isNaN(special[4]));
        assert.equal(special[5], Math.fround(1e-30));
        assert.equal(nativeGemmCounts().tanh - before.tanh, 8, 'every tanh ran natively');
      });
    });

    it(`${lib}: reads the wasm memory afresh after it grows`, () => {
      withLibrary(lib, () => {
        const buffers = new Set<ArrayBuffer>();
        const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer as ArrayBuffer;
        buffers.add(heap());
        const big = tf.zeros([heap().byteLength / 4 + (1 << 20)]); // more than the whole heap: it must grow
        try {
          buffers.add(heap());
          assert.ok(buffers.size === 2, 'the wasm memory should have grown (a new buffer)');
          check({ name: 'after growth [35,9]·[9,3]', a: [35, 9], b: [9, 3] }, 7);
        } finally {
          big.dispose();
        }
      });
    });
  }

  it("with the native GEMM off, tfjs-wasm's kernels compute the same products (XNNPACK)", () => {
    withLibrary('off', () => {
      const before = nativeGemmCounts();
      // Not the cases tfjs-wasm 4.22's own kernels get wrong (a fused bias with transposeB or with a
      // batch, an empty inner dimension: uninitialised memory, batch axes broadcast both ways) or
      // refuses (a bias of rank 2): the native kernel gets them right.
      const wrongInTfjs = (c: Case) =>
        (c.bias && (c.transposeB || c.a.length > 2 || c.bias.length > 1)) || c.a.includes(0) || c.name.startsWith('batch axes');
      [...NATIVE_CASES.filter((c) => !wrongInTfjs(c)), ...FALLBACK_CASES].forEach((c, i) => check(c, 10 * i));
      assert.deepEqual(nativeGemmCounts(), before, 'no product went through the native kernels');
    });
  });
});

// ---- training steps ---------------------------------------------------------------------------------

function toParams(V: number, H: number, seed: number): RNNParams {
  const p = randomRefParams(V, H, 0.3, seed);
  const v = (data: Float64Array, shape: number[]) => tf.variable(tf.tensor(Float32Array.from(data), shape));
  return {
    W_xh: v(p.W_xh, [V, H]) as tf.Variable<tf.Rank.R2>,
    W_hh: v(p.W_hh, [H, H]) as tf.Variable<tf.Rank.R2>,
    b_h: v(p.b_h, [H]) as tf.Variable<tf.Rank.R1>,
    W_hq: v(p.W_hq, [H, V]) as tf.Variable<tf.Rank.R2>,
    b_q: v(p.b_q, [V]) as tf.Variable<tf.Rank.R1>,
  };
}

type Step = typeof fastStep; // (params: RNNParams, …): bpttStep accepts these too

function runStep(step: Step, params: RNNParams, V: number, H: number, B: number, T: number, seed: number) {
  const b = randomRefBatch(V, H, B, T, seed);
  const state = tf.tensor2d(Float32Array.from(b.h0), [B, H]);
  const out = step(params, { X: b.X, Y: b.Y, batchSize: B, numSteps: T }, state);
  const result = { loss: out.loss, grads: PARAM_NAMES.map((name) => out.grads[name].dataSync() as Float32Array), state: out.state.dataSync() as Float32Array };
  tf.dispose([...Object.values(out.grads), out.state, state]);
  return result;
}

function assertSameStep(got: ReturnType<typeof runStep>, want: ReturnType<typeof runStep>, what: string): void {
  assert.ok(Math.abs(got.loss - want.loss) / want.loss < 1e-5, `${what}: loss ${got.loss} vs ${want.loss}`);
  PARAM_NAMES.forEach((name, i) => {
    const err = relativeError(got.grads[i], want.grads[i]);
    assert.ok(err < 1e-5, `${what}: ${name} relative error ${err}`);
  });
  assert.ok(relativeError(got.state, want.state) < 1e-5, `${what}: final state`);
}

describe('training steps', () => {
  const shapes = [
    { V: 28, H: 64, B: 8, T: 35 }, // d2l's V and T
    { V: 5, H: 3, B: 3, T: 1 },
    { V: 11, H: 35, B: 1, T: 7 },
  ];
  for (const lib of [...BUILT, 'off' as const]) {
    it(`the fast path's loss and gradients equal the autograd path's to 1e-5 (${lib === 'off' ? 'XNNPACK' : lib}, one thread)`, () => {
      withLibrary(lib, () => {
        for (const [i, { V, H, B, T }] of shapes.entries()) {
          const params = toParams(V, H, i);
          const before = nativeGemmCounts();
          const fast = runStep(bpttStep, params, V, H, B, T, 50 + i);
          const auto = runStep(autogradStep, params, V, H, B, T, 50 + i);
          const ran = nativeGemmCounts().native - before.native;
          if (lib === 'off') assert.equal(ran, 0, 'no native product with the native GEMM off');
          else assert.ok(ran > 2 * T, `the products should run natively (${ran})`);
          assertSameStep(fast, auto, `${V}×${H}, B ${B}, T ${T}`);
          for (const n of PARAM_NAMES) params[n].dispose();
        }
      });
    });
  }

  it('gives the same step with the native GEMM as with XNNPACK, split across the helper thread too', () => {
    const { V, H, B, T } = shapes[0];
    const params = toParams(V, H, 9);
    const xnnpack = (() => {
      let r: ReturnType<typeof runStep> | null = null;
      withLibrary('off', () => (r = runStep(bpttStep, params, V, H, B, T, 99)));
      return r!;
    })();
    const split = runStep(fastStep, params, V, H, B, T, 99); // main thread native (when built), helper per RNN_NATIVE
    const single = runStep(bpttStep, params, V, H, B, T, 99);
    assertSameStep(single, xnnpack, 'one thread, native vs XNNPACK');
    assertSameStep(split, xnnpack, 'split across the helper vs XNNPACK on one thread');
    for (const n of PARAM_NAMES) params[n].dispose();
  });

  it('keeps tf.memory().numTensors constant from epoch to epoch, here and in the helper thread', () => {
    const { V, H, B, T } = { V: 28, H: 32, B: 6, T: 35 };
    const params = toParams(V, H, 3);
    const helper = dataParallelHelper();
    const counts: number[] = [];
    const helperCounts: number[] = [];
    for (let epoch = 0; epoch < 4; epoch++) {
      for (let s = 0; s < 10; s++) runStep(fastStep, params, V, H, B, T, 200 + s);
      for (let s = 0; s < 10; s++) runStep(bpttStep, params, V, H, B, T, 300 + s);
      counts.push(tf.memory().numTensors);
      if (helper) helperCounts.push(helper.helperNumTensors());
    }
    assert.deepEqual(counts, Array(4).fill(counts[0]), 'tensors in this thread after each epoch');
    assert.deepEqual(helperCounts, Array(helperCounts.length).fill(helperCounts[0]), 'tensors in the helper thread after each epoch');
    for (const n of PARAM_NAMES) params[n].dispose();
  });
});

// ---- worker threads, RNN_NATIVE and a missing addon -------------------------------------------------

describe('in a worker thread', () => {
  it('loads and computes a product (Node-API addons are context-aware)', async () => {
    const src = `
      require(${JSON.stringify(require.resolve('tsx/cjs'))});
      const { parentPort } = require('node:worker_threads');
      const tf = require('@tensorflow/tfjs');
      require('@tensorflow/tfjs-backend-wasm');
      const g = require(${JSON.stringify(require.resolve('../src/native-gemm'))});
      (async () => {
        await tf.setBackend('wasm');
        await tf.ready();
        const status = g.enableNativeGemm();
        const y = tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([1, 0, 2, 1, 0, 3], [3, 2]), false, false).arraySync();
        parentPort.postMessage({ status, y, counts: g.nativeGemmCounts() });
      })().catch((e) => parentPort.postMessage({ error: e.stack }));`;
    const worker = new Worker(src, { eval: true });
    const msg = await new Promise<{ status: { on: boolean }; y: number[][]; counts: { native: number }; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(msg.error, undefined);
    assert.deepEqual(msg.y, [[5, 11], [14, 23]]); // [1 2 3; 4 5 6]·[1 0; 2 1; 0 3]
    assert.equal(msg.status.on, BUILT.length > 0, JSON.stringify(msg.status));
    assert.equal(msg.counts.native, BUILT.length > 0 ? 1 : 0, 'the product ran natively in the worker');
  });
});

describe('signals during a product', () => {
  // oneDNN runs its sgemm on a stack of its own on the heap; before the addon gave each thread an
  // alternate signal stack, node --cpu-prof's sampling signal corrupted the heap within seconds.
  for (const lib of BUILT) {
    it(`${lib}: training under node --cpu-prof (a signal every millisecond, both threads) runs to the end with the right products`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rw-prof-'));
      try {
        const src = `
          const tf = require('@tensorflow/tfjs');
          const { initBackend } = require(${JSON.stringify(require.resolve('../src/backend'))});
          const { fastStep } = require(${JSON.stringify(require.resolve('../src/train'))});
          const { getParams } = require(${JSON.stringify(require.resolve('../src/model'))});
          const { Rng } = require(${JSON.stringify(require.resolve('../src/random'))});
          (async () => {
            await initBackend({ log: () => {}, parallel: true });
            const a = tf.randomNormal([16, 512]), b = tf.randomNormal([512, 512]);
            const want = tf.matMul(a, b).dataSync().slice();
            const rng = new Rng(1), params = getParams(28, 512, rng);
            const X = Int32Array.from({ length: 32 * 35 }, () => rng.int(0, 27));
            const t0 = Date.now();
            let products = 0, steps = 0;
            while (Date.now() - t0 < 6000) {
              for (let i = 0; i < 50; i++, products++) {
                const got = tf.tidy(() => tf.matMul(a, b).dataSync());
                if (got.some((v, j) => v !== want[j])) throw new Error('product ' + products + ' differs');
              }
              const state = tf.zeros([32, 512]);
              const out = fastStep(params, { X, Y: X, batchSize: 32, numSteps: 35 }, state);
              tf.dispose([out.grads, out.state, state]);
              steps++;
            }
            console.log('ok ' + products + ' products, ' + steps + ' steps');
            process.exit(0);
          })().catch((e) => { console.error(e.stack); process.exit(1); });`;
        const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '1000', '--import', 'tsx', '-e', src], {
          env: { ...process.env, RNN_NATIVE: lib, RNN_BACKEND: 'wasm' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        assert.equal(code, 0, out);
        assert.match(out, /^ok \d+ products, \d+ steps$/m);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('RNN_NATIVE and the backend line', () => {
  it('accepts 0, 1, onednn and openblas and refuses anything else in one line', () => {
    assert.equal(nativeWanted({}), 'auto');
    assert.equal(nativeWanted({ RNN_NATIVE: '0' }), 'off');
    assert.equal(nativeWanted({ RNN_NATIVE: '1' }), 'on');
    assert.equal(nativeWanted({ RNN_NATIVE: 'openblas' }), 'openblas');
    assert.throws(() => nativeWanted({ RNN_NATIVE: 'yes' }), /^BackendError: RNN_NATIVE must be 0 .* \(got 'yes'\); e\.g\. RNN_NATIVE=0, or unset it$/);
  });

  const backendLine = async (env: Record<string, string>) => {
    const args = [...TINY.filter((a) => a !== '--path' && a !== 'autograd'), '--path', 'fast', '--epochs', '1', '--num-preds', '5'];
    const r = await start('src/apps/start.ts', args, 180_000, { env }).finished;
    return { ...r, line: r.stdout.split('\n').find((l) => l.startsWith('backend: ')) ?? '' };
  };

  it('names the GEMM library in the backend line when it is built', async () => {
    const r = await backendLine({ RNN_BACKEND: 'wasm' });
    assert.equal(r.code, 0, r.stderr);
    const label = { onednn: 'oneDNN', openblas: 'OpenBLAS' }[BUILT[0]];
    if (label) assert.match(r.line, new RegExp(`^backend: wasm \\(SIMD\\) \\+ ${label} GEMM \\(forced by RNN_BACKEND\\), fast path on \\d thread`));
    else assert.match(r.line, /^backend: wasm \(SIMD\) \+ XNNPACK GEMM.*; native GEMM off: not built/);
  });

  it('RNN_NATIVE=0 turns it off, and the backend line says so', async () => {
    const r = await backendLine({ RNN_NATIVE: '0' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.line, /^backend: wasm \(SIMD\) \+ XNNPACK GEMM, fast path on .*; native GEMM off: RNN_NATIVE=0$/);
  });

  it('without the addon, trains as before and says why in the one backend line', async () => {
    const r = await backendLine({ RNN_NATIVE_DIR: '/nonexistent/native-gemm' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.line, /^backend: wasm \(SIMD\) \+ XNNPACK GEMM, fast path on .*; native GEMM off: not built \(no gemm_onednn\.node or gemm_openblas\.node in \/nonexistent\/native-gemm; npm run setup builds it/);
    assert.match(r.stdout, /perplexity/);
    assert.equal(r.stderr, '');
  });

  it('RNN_NATIVE=1 without the addon is one line and exit code 2', async () => {
    const r = await backendLine({ RNN_NATIVE: '1', RNN_NATIVE_DIR: '/nonexistent/native-gemm' });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: RNN_NATIVE=1, but the native GEMM is not built \(no gemm_onednn\.node or gemm_openblas\.node in \/nonexistent\/native-gemm; .*\); unset RNN_NATIVE or set it to 0\n$/);
  });
});
