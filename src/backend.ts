// Which tfjs backend runs the numbers. Order of preference: tfjs-node (native TensorFlow) when it
// is installed and loads, else WebAssembly with SIMD, else the pure-JS cpu backend.
// RNN_BACKEND=tensorflow|wasm|cpu forces one. The choice is reported once, in one line.
// On wasm and cpu, which compute on one thread, a second core runs half of every fast-path
// minibatch (data-parallel.ts); RNN_PARALLEL=0 keeps everything on one thread.
// On wasm, matrix products go to a native BLAS when its addon is built (native-gemm.ts; RNN_NATIVE).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { availableCores, dataParallelHelper, startDataParallel, stopDataParallel } from './data-parallel';
import { enableNativeGemm, nativeGemmProblem, nativeWanted, type NativeGemmStatus } from './native-gemm';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

import { BackendError } from './backend-error';
export { BackendError };

let chosen: Promise<BackendName> | null = null;
let parallelWanted = true;

function loadNative(): boolean {
  try {
    // Optional dependency: its install downloads libtensorflow, which fails offline and npm drops it.
    require('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

async function tryBackend(name: BackendName): Promise<boolean> {
  if (name === 'tensorflow' && !loadNative()) return false;
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Selects the backend (once per process; later calls return the same choice).
 * `wanted` or the env var RNN_BACKEND forces one; a forced backend that cannot start is an error.
 * `parallel` (default: RNN_PARALLEL, else on) lets the fast path use a helper thread on wasm and
 * cpu; two trainings at once on two cores each run faster with it off (RNN_PARALLEL=0).
 */
export function initBackend(opts: { wanted?: BackendName; parallel?: boolean; log?: (line: string) => void } = {}): Promise<BackendName> {
  if (!chosen) {
    parallelWanted = opts.parallel ?? envParallel() ?? true;
    chosen = choose(opts.wanted ?? envBackend(), opts.log ?? console.log);
  }
  return chosen;
}

/**
 * Checks RNN_BACKEND, RNN_PARALLEL and RNN_NATIVE without starting anything (the CLI calls it before
 * any work): a BackendError names the variable, its value and the fix.
 */
export function checkBackendEnv(): void {
  envParallel();
  const backend = envBackend();
  if (backend === 'tensorflow' && !nativeInstalled()) {
    throw new BackendError(`RNN_BACKEND=tensorflow, but @tensorflow/tfjs-node is not installed; unset RNN_BACKEND, or set it to wasm or cpu`);
  }
  const gemm = nativeWanted();
  const problem = gemm === 'auto' || gemm === 'off' || (backend && backend !== 'wasm') ? null : nativeGemmProblem(gemm);
  if (problem) throw new BackendError(`RNN_NATIVE=${process.env.RNN_NATIVE}, but the native GEMM is ${problem}; unset RNN_NATIVE or set it to 0`);
}

function envParallel(): boolean | undefined {
  const v = process.env.RNN_PARALLEL;
  if (v === undefined || v === '') return undefined;
  if (v !== '0' && v !== '1') throw new BackendError(`RNN_PARALLEL must be 0 (one thread) or 1 (a helper thread for the fast path) (got '${v}'); e.g. RNN_PARALLEL=0, or unset it`);
  return v === '1';
}

function envBackend(): BackendName | undefined {
  const v = process.env.RNN_BACKEND;
  if (v === undefined || v === '') return undefined;
  if (!(BACKENDS as readonly string[]).includes(v)) {
    throw new BackendError(`RNN_BACKEND must be one of ${BACKENDS.join(', ')} (got '${v}'); e.g. RNN_BACKEND=wasm, or unset it`);
  }
  return v as BackendName;
}

function nativeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

async function choose(wanted: BackendName | undefined, log: (line: string) => void): Promise<BackendName> {
  const order = wanted ? [wanted] : BACKENDS;
  for (const name of order) {
    if (await tryBackend(name)) {
      await tf.ready();
      const gemm = name === 'wasm' ? enableNativeGemm() : null;
      const threads = await startHelper(name);
      const gemmOff = gemm && !gemm.on ? `; native GEMM off: ${gemm.reason}` : '';
      log(`backend: ${describeBackend(name, gemm)}${wanted ? ' (forced by RNN_BACKEND)' : ''}, ${threads}${gemmOff}`);
      return name;
    }
  }
  throw new BackendError(`backend '${wanted}' could not start here; unset RNN_BACKEND or choose one of ${BACKENDS.join(', ')}`);
}

/** e.g. `wasm (SIMD) + oneDNN GEMM`, or `wasm (SIMD) + XNNPACK GEMM` (the log line then says why). */
function describeBackend(name: BackendName, gemm: NativeGemmStatus | null): string {
  if (name !== 'wasm') return name;
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const products = !gemm ? '' : gemm.on ? ` + ${gemm.label} GEMM` : ' + XNNPACK GEMM';
  return `wasm (${simd ? 'SIMD' : 'no SIMD'})${products}`;
}

/**
 * Starts the fast path's helper thread when wanted and useful: tfjs-node already uses every core,
 * and one core has nothing to share. Returns how the fast path will run, for the log line.
 */
async function startHelper(name: BackendName): Promise<string> {
  await stopDataParallel();
  if (!parallelWanted) return 'fast path on 1 thread (data parallelism off)';
  if (name === 'tensorflow') return 'fast path on native TensorFlow threads';
  if (availableCores() < 2) return 'fast path on 1 thread (one core)';
  const failed = await startDataParallel(name);
  return failed === null ? 'fast path on 2 threads (data-parallel)' : `fast path on 1 thread (helper thread failed: ${failed})`;
}

/** Whether fast-path steps are currently split across two threads. */
export function isDataParallel(): boolean {
  return dataParallelHelper() !== null;
}

/**
 * Switches backend at run time (benchmarks compare them); returns false when it cannot start.
 * The fast path's helper thread follows, or stops when `parallel` is false.
 */
export async function switchBackend(name: BackendName, opts: { parallel?: boolean } = {}): Promise<boolean> {
  if (opts.parallel !== undefined) parallelWanted = opts.parallel;
  const ok = await tryBackend(name);
  if (ok) {
    await tf.ready();
    if (name === 'wasm') enableNativeGemm();
    await startHelper(name);
  }
  return ok;
}
