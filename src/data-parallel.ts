// Data parallelism for the fast path: the second half of every minibatch goes to a helper thread that
// runs the same bpttStep on its own tfjs, and the two halves' gradients are averaged — what
// PyTorch's DistributedDataParallel does across machines, here across the two cores of one.
// Taught in 07-implementation (training speed). backend.ts starts the helper; the training loop runs
// its fast path as dataParallel(bpttStep), which uses the helper while one is running.
//
// In Node, tfjs-wasm runs every kernel on one thread (its multi-threaded build is switched off there,
// and when started by hand it splits each step's 32-row products less well than this), so this is
// how the fast path uses a second core. The threads talk through shared memory: the main thread
// writes the parameters, the helper's rows and state, wakes the helper, computes its own half
// meanwhile and waits (Atomics.wait) for the helper's gradients; the step stays synchronous.
// The split changes only the order of float additions: the same numbers as one thread to ~1e-7.
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { LossResult, StepResult } from './autograd';
import type { Batch } from './batches';
import { bpttLoss, bpttStep } from './bptt';
import { mapParams, numParams, packParams, paramShapes, unpackParams, type ParamName, type ParamTensors } from './params';

/** A training step on plain tensors, such as bpttStep. */
export type LocalStep = (params: ParamTensors, batch: Batch, state: tf.Tensor2D) => StepResult;

/** A loss-only pass on plain tensors, such as bpttLoss. */
export type LocalLoss = (params: ParamTensors, batch: Batch, state: tf.Tensor2D) => LossResult;

// Words of the control array shared by both threads.
export const CTRL = { state: 0, generation: 1, B: 2, T: 3, V: 4, H: 5, numTensors: 6, mode: 7, size: 8 } as const;
// Values of CTRL.mode: what the helper runs on its rows.
export const MODE_STEP = 0; // bpttStep: loss, gradients, final state
export const MODE_LOSS = 1; // bpttLoss: loss and final state
// Values of CTRL.state: what the helper should do, or what it has done.
export const IDLE = 0;
export const WORK = 1;
export const DONE = 2;
export const FAILED = 3;
export const STOP = 4;

const STEP_TIMEOUT_MS = 10 * 60 * 1000; // far above any step of this workbook; a stuck helper is a bug
const START_TIMEOUT_MS = 60 * 1000;

/** Where each array lives in the shared data buffer, in 4-byte words (the loss, a float64, is at word 0). */
export interface Layout {
  V: number;
  H: number;
  params: number; // float32, all parameters packed in PARAM_NAMES order (packParams)
  state: number; // float32 [B, H], the helper's rows of the initial state
  grads: number; // float32, the gradients packed like the parameters
  finalState: number; // float32 [B, H]
  X: number; // int32 [B, T]
  Y: number; // int32 [B, T]
  words: number;
}

/** The buffer layout for the helper's B rows of T steps, vocabulary V and H hidden units. */
export function layout(B: number, T: number, V: number, H: number): Layout {
  const P = numParams(V, H);
  const params = 2;
  const state = params + P;
  const grads = state + B * H;
  const finalState = grads + P;
  const X = finalState + B * H;
  const Y = X + B * T;
  return { V, H, params, state, grads, finalState, X, Y, words: Y + B * T };
}

/** The packed parameters (or gradients) at word `at` of the buffer, as views by name. */
export function sharedParams(f32: Float32Array, L: Layout, at: number): Record<ParamName, Float32Array> {
  return unpackParams(f32.subarray(at, at + numParams(L.V, L.H)), L.V, L.H);
}

/** Tensors of the parameters' shapes made from views by name (copies: the tensors own their data). */
export function tensorsOf(values: Record<ParamName, Float32Array>, V: number, H: number): Record<ParamName, tf.Tensor> {
  const shapes = paramShapes(V, H);
  return mapParams(values, (v, name) => tf.tensor(v, shapes[name]));
}

/** The helper thread, as the main thread sees it. */
export class DataParallelHelper {
  private data: SharedArrayBuffer | null = null;
  private geometry = '';
  private broken: string | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly ctrl: Int32Array,
    private readonly port: MessagePort,
    readonly backend: string,
  ) {}

  /**
   * One training step split by rows of the minibatch: the first ⌊B/2⌋ here, the rest on the helper.
   * Loss and gradients are means over all T·B predictions, as if computed in one piece.
   */
  step(params: ParamTensors, batch: Batch, state: tf.Tensor2D, local: LocalStep): StepResult {
    const { B, B1, B2, L, f32, ours } = this.split(MODE_STEP, params, batch, state, local);
    const [V, H] = [L.V, L.H];
    const theirs = sharedParams(f32, L, L.grads);
    const shapes = paramShapes(V, H);
    const out = tf.tidy(() => {
      // weighted by rows: the mean over all T·B predictions
      const grads = mapParams(ours.grads, (g, name) => tf.add(tf.mul(g, B1 / B), tf.mul(tf.tensor(theirs[name], shapes[name]), B2 / B)));
      return { grads, state: this.finalState(ours.state, f32, L, B2) };
    });
    tf.dispose([ours.grads, ours.state]);
    return { loss: this.meanLoss(ours.loss, B1, B2), grads: out.grads, state: out.state };
  }

  /** The loss of one minibatch without gradients (validation), split by rows like step(). */
  loss(params: ParamTensors, batch: Batch, state: tf.Tensor2D, local: LocalLoss): LossResult {
    const { B1, B2, L, f32, ours } = this.split(MODE_LOSS, params, batch, state, local);
    const finalState = tf.tidy(() => this.finalState(ours.state, f32, L, B2));
    ours.state.dispose();
    return { loss: this.meanLoss(ours.loss, B1, B2), state: finalState };
  }

  /**
   * Hands rows ⌊B/2⌋… of the minibatch to the helper (mode: what it runs on them), runs `local` on
   * the first ⌊B/2⌋ here meanwhile, and waits for the helper; its results are then in the buffer.
   */
  private split<R extends LossResult>(mode: number, params: ParamTensors, batch: Batch, state: tf.Tensor2D, local: (p: ParamTensors, b: Batch, s: tf.Tensor2D) => R) {
    if (this.broken) throw new Error(this.broken);
    const { batchSize: B, numSteps: T } = batch;
    const [V, H] = params.W_xh.shape;
    const B1 = Math.floor(B / 2); // rows computed here
    const B2 = B - B1; // rows computed by the helper
    const L = this.prepare(B2, T, V, H);
    const f32 = new Float32Array(this.data!);
    const i32 = new Int32Array(this.data!);
    packParams(mapParams(params, (t) => t.dataSync()), f32.subarray(L.params, L.params + numParams(V, H)));
    const h0 = state.dataSync(); // [B, H]
    f32.set(h0.subarray(B1 * H), L.state);
    i32.set(batch.X.subarray(B1 * T), L.X);
    i32.set(batch.Y.subarray(B1 * T), L.Y);
    this.ctrl[CTRL.B] = B2;
    this.ctrl[CTRL.T] = T;
    this.ctrl[CTRL.V] = V;
    this.ctrl[CTRL.H] = H;
    this.ctrl[CTRL.mode] = mode;
    Atomics.store(this.ctrl, CTRL.state, WORK);
    Atomics.notify(this.ctrl, CTRL.state);

    const myState = tf.tensor2d(h0.subarray(0, B1 * H), [B1, H]);
    const myBatch: Batch = { X: batch.X.subarray(0, B1 * T), Y: batch.Y.subarray(0, B1 * T), batchSize: B1, numSteps: T };
    let mine: R | null = null;
    try {
      mine = local(params, myBatch, myState);
    } finally {
      myState.dispose();
      try {
        this.waitForHelper(); // even when our half failed, so the next step starts from a quiet helper
      } catch (e) {
        if (mine) tf.dispose(mine as unknown as tf.TensorContainer);
        throw e;
      }
    }
    return { B, B1, B2, L, f32, ours: mine as R }; // assigned, or local() threw and we never get here
  }

  /** The mean loss over all rows: ours over B1 rows, the helper's (in the buffer) over B2. */
  private meanLoss(ours: number, B1: number, B2: number): number {
    return (B1 * ours + B2 * new Float64Array(this.data!, 0, 1)[0]) / (B1 + B2);
  }

  /** Our final state [B1, H] above the helper's [B2, H]: the whole minibatch's, [B, H]. */
  private finalState(ours: tf.Tensor2D, f32: Float32Array, L: Layout, B2: number): tf.Tensor2D {
    return tf.concat([ours, tf.tensor2d(f32.subarray(L.finalState, L.finalState + B2 * L.H), [B2, L.H])], 0);
  }

  /** tf.memory().numTensors in the helper after its last step (for leak tests). */
  helperNumTensors(): number {
    return Atomics.load(this.ctrl, CTRL.numTensors);
  }

  /** Ends the helper thread (it holds nothing worth saving) and waits until it is gone. */
  async stop(): Promise<void> {
    Atomics.store(this.ctrl, CTRL.state, STOP);
    Atomics.notify(this.ctrl, CTRL.state);
    await this.worker.terminate();
    this.port.close();
  }

  /** A shared buffer big enough for this geometry; a new one is handed to the helper over the port. */
  private prepare(B: number, T: number, V: number, H: number): Layout {
    const L = layout(B, T, V, H);
    const key = `${B},${T},${V},${H}`;
    if (key !== this.geometry) {
      this.data = new SharedArrayBuffer(L.words * 4);
      this.geometry = key;
      this.port.postMessage(this.data);
      this.ctrl[CTRL.generation]++;
    }
    return L;
  }

  private waitForHelper(): void {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (Atomics.load(this.ctrl, CTRL.state) === WORK) {
      Atomics.wait(this.ctrl, CTRL.state, WORK, 1000);
      if (Date.now() > deadline) {
        this.broken = `the data-parallel helper thread did not answer within ${STEP_TIMEOUT_MS / 1000} s; set RNN_PARALLEL=0 to train on one thread`;
        throw new Error(this.broken);
      }
    }
    const state = Atomics.load(this.ctrl, CTRL.state);
    Atomics.store(this.ctrl, CTRL.state, IDLE);
    if (state === FAILED) {
      const why = receiveMessageOnPort(this.port)?.message ?? 'no reason given';
      throw new Error(`the data-parallel helper thread failed: ${why}; set RNN_PARALLEL=0 to train on one thread`);
    }
  }
}

let active: DataParallelHelper | null = null;

/** The running helper, or null when the fast path runs on one thread. */
export function dataParallelHelper(): DataParallelHelper | null {
  return active;
}

/**
 * `step` made data-parallel: while a helper thread runs (startDataParallel) and the minibatch has at
 * least two rows, half of them go to the helper, and the loss, gradients and final state are those of
 * the whole minibatch to float rounding; otherwise it is `step` itself. The helper imports bpttStep
 * on its own (functions do not cross threads), so bpttStep is the step it accepts.
 */
export function dataParallel(step: LocalStep): LocalStep {
  if (step !== bpttStep) throw new TypeError('dataParallel: the helper thread runs bpttStep, so only dataParallel(bpttStep) computes the same thing on both threads');
  return splitWhileHelperRuns(step, (helper, params, batch, state) => helper.step(params, batch, state, step));
}

/** The loss-only pass made data-parallel, like dataParallel: only bpttLoss, which the helper also runs. */
export function dataParallelLoss(lossFn: LocalLoss): LocalLoss {
  if (lossFn !== bpttLoss) throw new TypeError('dataParallelLoss: the helper thread runs bpttLoss, so only dataParallelLoss(bpttLoss) computes the same thing on both threads');
  return splitWhileHelperRuns(lossFn, (helper, params, batch, state) => helper.loss(params, batch, state, lossFn));
}

/** `split` while a helper runs and the minibatch has two rows or more (one each), else `local` on this thread. */
function splitWhileHelperRuns<R>(
  local: (params: ParamTensors, batch: Batch, state: tf.Tensor2D) => R,
  split: (helper: DataParallelHelper, params: ParamTensors, batch: Batch, state: tf.Tensor2D) => R,
): (params: ParamTensors, batch: Batch, state: tf.Tensor2D) => R {
  return (params, batch, state) => {
    const helper = active;
    return helper && batch.batchSize >= 2 ? split(helper, params, batch, state) : local(params, batch, state);
  };
}

/** Cores this process may use (os.availableParallelism where Node has it). */
export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Starts a helper thread on the given tfjs backend, for every dataParallel step to use. Resolves to an error
 * message instead of throwing when the thread cannot start (the fast path then stays on one thread).
 */
export async function startDataParallel(backend: string): Promise<string | null> {
  await stopDataParallel();
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL.size * 4));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    worker = new Worker(workerSource(), { eval: true, workerData: { ctrl, port: port2, backend }, transferList: [port2] });
  } catch (e) {
    port1.close();
    return (e as Error).message;
  }
  const ready = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(`the helper thread did not start within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const done = (why: string | null) => {
      clearTimeout(timer);
      resolve(why);
    };
    worker.once('message', (m: { backend?: string; error?: string }) =>
      done(m.error ?? (m.backend === backend ? null : `the helper thread runs on '${m.backend}', not '${backend}'`)),
    );
    worker.once('error', (e) => done(e.message));
    worker.once('exit', (code) => done(`the helper thread exited with code ${code} while starting`));
  });
  worker.removeAllListeners('message');
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  if (ready !== null) {
    await worker.terminate();
    port1.close();
    return ready;
  }
  worker.unref(); // a waiting helper must not keep the process alive
  port1.unref();
  active = new DataParallelHelper(worker, ctrl, port1, backend);
  return null;
}

/** Stops the helper thread, if any; dataParallel steps then run on one thread. */
export async function stopDataParallel(): Promise<void> {
  const h = active;
  active = null;
  if (h) await h.stop();
}

/**
 * The code that starts the helper: its compiled .js, or its .ts source through tsx's require hook
 * (tsx's loader does not reach worker threads' entry files).
 */
function workerSource(): string {
  const file = path.join(__dirname, `data-parallel-worker${path.extname(__filename)}`);
  const hook = file.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
  return `${hook}require(${JSON.stringify(file)});`;
}
