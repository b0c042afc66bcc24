// Which tfjs backend runs the numbers. Order of preference: tfjs-node (native TensorFlow) when it
// is installed and loads, else WebAssembly with SIMD, else the pure-JS cpu backend.
// RNN_BACKEND=tensorflow|wasm|cpu forces one. The choice is reported once, in one line.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let chosen: Promise<BackendName> | null = null;

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
 */
export function initBackend(opts: { wanted?: BackendName; log?: (line: string) => void } = {}): Promise<BackendName> {
  if (!chosen) chosen = choose(opts.wanted ?? envBackend(), opts.log ?? console.log);
  return chosen;
}

function envBackend(): BackendName | undefined {
  const v = process.env.RNN_BACKEND;
  if (v === undefined || v === '') return undefined;
  if (!(BACKENDS as readonly string[]).includes(v)) {
    throw new Error(`RNN_BACKEND must be one of ${BACKENDS.join(', ')} (got '${v}')`);
  }
  return v as BackendName;
}

async function choose(wanted: BackendName | undefined, log: (line: string) => void): Promise<BackendName> {
  const order = wanted ? [wanted] : BACKENDS;
  for (const name of order) {
    if (await tryBackend(name)) {
      await tf.ready();
      log(`backend: ${describeBackend(name)}${wanted ? ' (forced by RNN_BACKEND)' : ''}`);
      return name;
    }
  }
  throw new Error(`backend '${wanted}' could not start here; unset RNN_BACKEND or choose one of ${BACKENDS.join(', ')}`);
}

function describeBackend(name: BackendName): string {
  if (name !== 'wasm') return name;
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  return `wasm (${simd ? 'SIMD' : 'no SIMD'})`;
}

/** Switches backend at run time (benchmarks compare them); returns false when it cannot start. */
export async function switchBackend(name: BackendName): Promise<boolean> {
  const ok = await tryBackend(name);
  if (ok) await tf.ready();
  return ok;
}
