// An optional native matrix multiply under tfjs's wasm backend. tfjs-wasm multiplies matrices with
// XNNPACK on 128-bit SIMD (about 35 GFLOP/s on one core here, 1–3 with a transpose flag); a CPU BLAS
// does the same product 2.5–6× faster. So when the addon built from native/gemm.cc is there (by
// `npm run setup`, scripts/native-gemm-build.ts), this module replaces the wasm backend's
// BatchMatMul and _FusedMatMul kernels with ones that call oneDNN's (or OpenBLAS's) sgemm directly
// on tfjs-wasm's memory: no copies, the same tensors, the same results to float rounding.
// It also replaces Tanh, the RNN's activation: tfjs-wasm runs libc's scalar tanhf (about 30 ns a
// value, as slow per step as the [B, H]×[H, H] product it follows); the addon runs glibc's vector
// tanhf (libmvec, 8 values at once, within 1 ulp) where there is one, libm's tanhf elsewhere.
// Anything it does not handle (another dtype, an exotic broadcast) goes to the original kernel.
//
// RNN_NATIVE: unset = use it when built; 0 = off; 1 = required; onednn / openblas = that library.
// RNN_NATIVE_DIR: where the built addons are (default native/build/Release of this checkout).
// Hand-written because no npm or Debian package offers a BLAS-backed tfjs kernel that installs
// offline (tfjs-node downloads libtensorflow at install time).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from './backend-error';

export type GemmLibrary = 'onednn' | 'openblas';
/** The default order of preference (the build ranks them by speed on the machine: preferredGemmLibraries). */
export const GEMM_LIBRARIES: readonly GemmLibrary[] = ['onednn', 'openblas'];
const LABELS: Record<GemmLibrary, string> = { onednn: 'oneDNN', openblas: 'OpenBLAS' };

/** What RNN_NATIVE asks for. */
export type NativeWanted = 'auto' | 'off' | 'on' | GemmLibrary;

export type NativeGemmStatus =
  | { on: true; library: GemmLibrary; label: string; version: string }
  | { on: false; reason: string };

/** The addon's interface (native/gemm.cc). Offsets are bytes into `memory`, strides are elements. */
interface Addon {
  gemm(
    memory: ArrayBuffer,
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    batch: number,
    a: number,
    strideA: number,
    b: number,
    strideB: number,
    c: number,
    bias: number,
    biasSize: number,
    activation: number,
    alpha: number,
    prelu: number,
    preluSize: number,
  ): void;
  /** y = tanh(x) for n float32 values at byte offsets x and y of memory. */
  tanh(memory: ArrayBuffer, x: number, y: number, n: number): void;
  info(): { library: string; version: string; threads: number; tanh: string };
}

/** The parts of tfjs-wasm's BackendWasm the kernels use. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/** The activations _FusedMatMul may ask for, with native/gemm.cc's codes. */
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6 };
const KERNELS = ['BatchMatMul', '_FusedMatMul', 'Tanh'] as const;

/** Reads RNN_NATIVE; a bad value is a BackendError naming the variable, its value and the fix. */
export function nativeWanted(env: NodeJS.ProcessEnv = process.env): NativeWanted {
  const v = env.RNN_NATIVE;
  if (v === undefined || v === '') return 'auto';
  if (v === '0') return 'off';
  if (v === '1') return 'on';
  if ((GEMM_LIBRARIES as readonly string[]).includes(v)) return v as GemmLibrary;
  throw new BackendError(
    `RNN_NATIVE must be 0 (XNNPACK only), 1 (the native GEMM, required), ${GEMM_LIBRARIES.join(' or ')} (got '${v}'); e.g. RNN_NATIVE=0, or unset it`,
  );
}

/** The folder of the built addons: RNN_NATIVE_DIR, else native/build/Release of this checkout. */
export function nativeGemmDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RNN_NATIVE_DIR) return path.resolve(env.RNN_NATIVE_DIR);
  // src/ under tsx, dist/src/ when compiled (notebooks): the checkout is the first parent with native/.
  let dir = __dirname;
  for (let i = 0; i < 3 && !fs.existsSync(path.join(dir, 'native', 'binding.gyp')); i++) dir = path.dirname(dir);
  return path.join(dir, 'native', 'build', 'Release');
}

const addonFile = (dir: string, lib: GemmLibrary) => path.join(dir, `gemm_${lib}.node`);

/** What scripts/native-gemm-build.ts left beside the addons (native/build/gemm.json), or {} when never built. */
function buildRecord(dir: string): { built?: unknown; reason?: string } {
  try {
    return JSON.parse(fs.readFileSync(path.join(path.dirname(dir), 'gemm.json'), 'utf8')) as { built?: unknown; reason?: string };
  } catch {
    return {}; // no record (never built, or an addon folder given by hand)
  }
}

/**
 * The libraries in the order to try them: as the build ranked them (fastest first on this machine),
 * then the others in GEMM_LIBRARIES' order.
 */
export function preferredGemmLibraries(dir = nativeGemmDir()): GemmLibrary[] {
  const { built } = buildRecord(dir);
  const ranked = Array.isArray(built) ? GEMM_LIBRARIES.filter((lib) => built.includes(lib)).sort((a, b) => built.indexOf(a) - built.indexOf(b)) : [];
  return [...ranked, ...GEMM_LIBRARIES.filter((lib) => !ranked.includes(lib))];
}

/** Libraries whose addon file is in `dir` (built, not yet loaded), in order of preference. */
export function builtGemmLibraries(dir = nativeGemmDir()): GemmLibrary[] {
  return preferredGemmLibraries(dir).filter((lib) => fs.existsSync(addonFile(dir, lib)));
}

/** Why the addon cannot be used as `wanted` asks, from the files alone; null when it may load. */
export function nativeGemmProblem(wanted: NativeWanted = nativeWanted(), dir = nativeGemmDir()): string | null {
  if (wanted === 'off') return 'RNN_NATIVE=0';
  const candidates = wanted === 'auto' || wanted === 'on' ? preferredGemmLibraries(dir) : [wanted];
  if (candidates.some((lib) => fs.existsSync(addonFile(dir, lib)))) return null;
  return notBuiltReason(dir, candidates);
}

function notBuiltReason(dir: string, candidates: readonly GemmLibrary[]): string {
  const { reason } = buildRecord(dir); // the build's one-line reason, when it built nothing
  const why = reason ? `: ${reason}` : '';
  const names = candidates.map((lib) => `gemm_${lib}.node`).join(' or ');
  return why ? `not built${why}` : `not built (no ${names} in ${dir}; npm run setup builds it where g++ and libdnnl-dev or libopenblas-dev are installed)`;
}

interface Active {
  library: GemmLibrary;
  version: string;
  originals: Map<string, tf.KernelConfig>;
}

let active: Active | null = null;
let lastStatus: NativeGemmStatus = { on: false, reason: 'not enabled yet' };
const counts = { native: 0, fallback: 0, tanh: 0 };

/**
 * Products computed by the native kernels, calls handed to the original kernels, and tanh computed
 * natively, since the process started (tests use it to see which ran).
 */
export function nativeGemmCounts(): { native: number; fallback: number; tanh: number } {
  return { ...counts };
}

/** Whether the native kernels are registered, and with which library; or why not. */
export function nativeGemmStatus(): NativeGemmStatus {
  return lastStatus;
}

/**
 * Registers the native kernels on the wasm backend (call after tf.setBackend('wasm') and
 * tf.ready()). Returns what runs and, when off, why. RNN_NATIVE (or `wanted`) set to 1 or a
 * library that cannot load is a BackendError; unset, the fallback is XNNPACK and one reason.
 */
export function enableNativeGemm(opts: { wanted?: NativeWanted; dir?: string } = {}): NativeGemmStatus {
  const wanted = opts.wanted ?? nativeWanted();
  const dir = opts.dir ?? nativeGemmDir();
  if (wanted === 'off') {
    disableNativeGemm();
    return (lastStatus = { on: false, reason: 'RNN_NATIVE=0' });
  }
  if (tf.getBackend() !== 'wasm') return (lastStatus = { on: false, reason: `the backend is ${tf.getBackend()}, not wasm` });
  const candidates = wanted === 'auto' || wanted === 'on' ? preferredGemmLibraries(dir) : [wanted];
  if (active && candidates.includes(active.library)) return lastStatus;
  disableNativeGemm();
  const failures: string[] = [];
  for (const library of candidates) {
    const file = addonFile(dir, library);
    if (!fs.existsSync(file)) continue;
    let addon: Addon;
    try {
      addon = require(file) as Addon;
    } catch (e) {
      failures.push(`${path.basename(file)} did not load (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    const version = addon.info().version;
    active = { library, version: version.split(' ')[1] ?? version, originals: register(addon) };
    return (lastStatus = { on: true, library, label: LABELS[library], version: active.version });
  }
  const reason = failures.length ? failures.join('; ') : notBuiltReason(dir, candidates);
  if (wanted !== 'auto') throw new BackendError(`RNN_NATIVE=${process.env.RNN_NATIVE ?? wanted}, but the native GEMM is ${reason.startsWith('not built') ? reason : `off: ${reason}`}; unset RNN_NATIVE or set it to 0`);
  return (lastStatus = { on: false, reason });
}

/** Puts tfjs-wasm's own kernels back (XNNPACK). */
export function disableNativeGemm(): void {
  if (!active) return;
  for (const [name, config] of active.originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  active = null;
  lastStatus = { on: false, reason: 'disabled' };
}

/** Replaces the wasm backend's matrix-product kernels; returns the originals. */
function register(addon: Addon): Map<string, tf.KernelConfig> {
  const originals = new Map<string, tf.KernelConfig>();
  for (const name of KERNELS) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) throw new Error(`tfjs-wasm has no ${name} kernel to replace`);
    originals.set(name, original);
  }
  const batchMatMul = originals.get('BatchMatMul')!;
  const fusedMatMul = originals.get('_FusedMatMul')!;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...batchMatMul, // setupFunc stays: the original still serves what we leave to it
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      return product(addon, args.backend as unknown as WasmBackend, a, b, transposeA, transposeB, null) ?? fallback(batchMatMul, args);
    },
  });
  tf.unregisterKernel('_FusedMatMul', 'wasm');
  tf.registerKernel({
    ...fusedMatMul,
    kernelFunc: (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const attrs = args.attrs as { transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number };
      const act = ACTIVATIONS[attrs.activation];
      const epilogue = act === undefined ? null : { bias: bias ?? null, act, alpha: attrs.leakyreluAlpha ?? 0, prelu: preluActivationWeights ?? null };
      const out = epilogue && a && b ? product(addon, args.backend as unknown as WasmBackend, a, b, attrs.transposeA, attrs.transposeB, epilogue) : null;
      return out ?? fallback(fusedMatMul, args);
    },
  });
  const tanh = originals.get('Tanh')!;
  tf.unregisterKernel('Tanh', 'wasm');
  tf.registerKernel({
    ...tanh,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype !== 'float32') return fallback(tanh, args);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(x.shape, 'float32');
      try {
        addon.tanh(backend.wasm.HEAPU8.buffer as ArrayBuffer, offsetOf(backend, x), offsetOf(backend, out), sizeOf(x.shape)); // the buffer read after makeOutput's malloc
      } catch (e) {
        backend.disposeData(out.dataId);
        throw e;
      }
      counts.tanh++;
      return out;
    },
  });
  return originals;
}

function fallback(config: tf.KernelConfig, args: Parameters<tf.KernelFunc>[0]): ReturnType<tf.KernelFunc> {
  counts.fallback++;
  return config.kernelFunc(args);
}

interface Epilogue {
  bias: tf.TensorInfo | null;
  act: number;
  alpha: number;
  prelu: tf.TensorInfo | null;
}

const sizeOf = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/** Where a tensor's data starts in tfjs-wasm's memory, in bytes. */
const offsetOf = (backend: WasmBackend, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;

/**
 * A per-column vector for the epilogue: 1 element, or N along the last axis (bias [N], [1, N], …).
 * Returns its size, or null when it has another shape (the original kernel then decides).
 */
function columnVector(t: tf.TensorInfo, N: number): number | null {
  const size = sizeOf(t.shape);
  if (t.dtype !== 'float32') return null;
  if (size === 1) return 1;
  return size === N && t.shape[t.shape.length - 1] === N ? N : null;
}

/** The flat index into a batch of shape `shape` that broadcasting maps flat output index `i` of `outer` to. */
function broadcastSource(shape: number[], outer: number[], i: number): number {
  const idx = new Array<number>(outer.length);
  for (let d = outer.length - 1; d >= 0; d--) {
    idx[d] = i % outer[d];
    i = Math.floor(i / outer[d]);
  }
  const lead = outer.length - shape.length;
  return shape.reduce((flat, n, d) => flat * n + (n === 1 ? 0 : idx[d + lead]), 0);
}

/**
 * op(A)·op(B) for A [..., M, K] and B [..., K, N] (before the transposes), batched over the leading
 * axes with numpy's broadcasting; then bias and activation. Null when the shapes or dtypes are not
 * ones it handles, so the original kernel runs (and gives tfjs's own error where there is one).
 */
function product(
  addon: Addon,
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  epilogue: Epilogue | null,
): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const [ra, rb] = [a.shape.length, b.shape.length];
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== (transposeB ? b.shape[rb - 1] : b.shape[rb - 2])) return null; // the original says what is wrong
  const [outerA, outerB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const [batchA, batchB] = [sizeOf(outerA), sizeOf(outerB)];
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  const batch = sizeOf(outer);
  let [biasSize, preluSize] = [0, 0];
  if (epilogue?.bias) {
    const n = columnVector(epilogue.bias, N);
    if (n === null) return null;
    biasSize = n;
  }
  if (epilogue?.act === ACTIVATIONS.prelu) {
    const n = epilogue.prelu ? columnVector(epilogue.prelu, N) : null;
    if (n === null) return null;
    preluSize = n;
  }
  const offset = (t: tf.TensorInfo) => offsetOf(backend, t);
  const out = backend.makeOutput([...outer, M, N], 'float32');
  try {
    // Read after makeOutput: its malloc may have grown the wasm memory, which detaches the old buffer.
    const memory = backend.wasm.HEAPU8.buffer as ArrayBuffer;
    const [bias, prelu] = [epilogue?.bias ? offset(epilogue.bias) : -1, epilogue?.prelu && preluSize ? offset(epilogue.prelu) : -1];
    const gemm = (n: number, a: number, strideA: number, b: number, strideB: number, c: number) =>
      addon.gemm(memory, transposeA, transposeB, M, N, K, n, a, strideA, b, strideB, c, bias, biasSize, epilogue?.act ?? 0, epilogue?.alpha ?? 0, prelu, preluSize);
    if (batchA === batch && batchB === batch) gemm(batch, offset(a), M * K, offset(b), K * N, offset(out)); // same batch axes
    else if (batchA === 1 || batchB === 1) gemm(batch, offset(a), batchA === 1 ? 0 : M * K, offset(b), batchB === 1 ? 0 : K * N, offset(out));
    else {
      // Batch axes broadcast both ways ([2,1] with [1,3]): one product per output matrix. (tfjs's own
      // kernels, wasm and cpu, pair the flattened batches cyclically here, which is not broadcasting.)
      for (let i = 0; i < batch; i++) {
        const [ia, ib] = [broadcastSource(outerA, outer, i), broadcastSource(outerB, outer, i)];
        gemm(1, offset(a) + 4 * ia * M * K, 0, offset(b) + 4 * ib * K * N, 0, offset(out) + 4 * i * M * N);
      }
    }
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  }
  counts.native++;
  return out;
}
