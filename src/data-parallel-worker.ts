// The helper thread of data-parallel.ts: runs bpttStep (or, for validation, bpttLoss) on its rows of
// every minibatch, on its own tfjs backend, and writes loss, gradients and final state back to shared memory.
// Taught in 07-implementation (training speed).
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { bpttLoss, bpttStep } from './bptt';
import { CTRL, DONE, FAILED, layout, MODE_LOSS, sharedParams, STOP, tensorsOf, WORK } from './data-parallel';
import type { LossResult } from './autograd';
import { mapParams, numParams, packParams, type Grads, type ParamTensors } from './params';
import { enableNativeGemm } from './native-gemm';

const { ctrl, port, backend } = workerData as { ctrl: Int32Array; port: MessagePort; backend: string };

async function start(): Promise<void> {
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' did not start in the helper thread`);
    await tf.ready();
    enableNativeGemm(); // on wasm, the same native GEMM as the main thread when built (RNN_NATIVE)
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message });
    return;
  }
  parentPort!.postMessage({ backend: tf.getBackend() });
  serve();
}

/** Waits for work and does it, until told to stop. Blocks this thread between steps, on purpose. */
function serve(): void {
  let data: SharedArrayBuffer | null = null;
  let generation = 0;
  for (;;) {
    const command = Atomics.load(ctrl, CTRL.state);
    if (command === STOP) return;
    if (command !== WORK) {
      Atomics.wait(ctrl, CTRL.state, command); // sleeps until the main thread changes it (never spins)
      continue;
    }
    try {
      while (generation !== Atomics.load(ctrl, CTRL.generation)) {
        const msg = receiveMessageOnPort(port);
        if (!msg) throw new Error('the shared buffer for a new minibatch shape did not arrive');
        data = msg.message as SharedArrayBuffer;
        generation++;
      }
      work(data!);
      Atomics.store(ctrl, CTRL.numTensors, tf.memory().numTensors);
      Atomics.store(ctrl, CTRL.state, DONE);
    } catch (e) {
      port.postMessage((e as Error).stack ?? String(e));
      Atomics.store(ctrl, CTRL.state, FAILED);
    }
    Atomics.notify(ctrl, CTRL.state);
  }
}

function work(data: SharedArrayBuffer): void {
  const [B, T, V, H] = [ctrl[CTRL.B], ctrl[CTRL.T], ctrl[CTRL.V], ctrl[CTRL.H]];
  const L = layout(B, T, V, H);
  const f32 = new Float32Array(data);
  const i32 = new Int32Array(data);
  const p = tensorsOf(sharedParams(f32, L, L.params), V, H);
  const params = p as unknown as ParamTensors; // shaped by paramShapes: [V, H], [H, H], [H], [H, V], [V]
  const state = tf.tensor2d(f32.subarray(L.state, L.state + B * H), [B, H]);
  const batch = { X: i32.slice(L.X, L.X + B * T), Y: i32.slice(L.Y, L.Y + B * T), batchSize: B, numSteps: T };
  try {
    const out: LossResult & { grads?: Grads } = ctrl[CTRL.mode] === MODE_LOSS ? bpttLoss(params, batch, state) : bpttStep(params, batch, state);
    new Float64Array(data, 0, 1)[0] = out.loss;
    if (out.grads) {
      packParams(mapParams(out.grads, (g) => g.dataSync()), f32.subarray(L.grads, L.grads + numParams(V, H))); // packed like the parameters
      tf.dispose(out.grads);
    }
    f32.set(out.state.dataSync(), L.finalState);
    out.state.dispose();
  } finally {
    tf.dispose([p, state]);
  }
}

void start();
