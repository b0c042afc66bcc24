// An independent float64 RNN in plain TypeScript — no tfjs — for the tests to compare against:
// the forward pass, the mean cross-entropy and hand-derived BPTT, as in min-char-rnn.
// Same maths as src/model.ts: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), o_t = h_t W_hq + b_q,
// predictions stacked time-major (row t*B + b is step t of sequence b). All matrices row-major.

/** The five parameters as flat float64 arrays, plus their sizes. */
export interface RefParams {
  V: number; // vocabSize
  H: number; // numHiddens
  W_xh: Float64Array; // [V, H]
  W_hh: Float64Array; // [H, H]
  b_h: Float64Array; // [H]
  W_hq: Float64Array; // [H, V]
  b_q: Float64Array; // [V]
}
export const REF_PARAM_NAMES = ['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q'] as const;
export type RefParamName = (typeof REF_PARAM_NAMES)[number];

/** One minibatch as src/batches.ts yields it: X, Y row-major [B, T], h0 [B, H]. */
export interface RefBatch {
  X: Int32Array;
  Y: Int32Array;
  B: number;
  T: number;
  h0: Float64Array;
}

export interface RefResult {
  loss: number;
  logits: Float64Array; // [T*B, V], time-major rows
  state: Float64Array; // [B, H], h_T
  grads: Record<RefParamName, Float64Array>;
  dh0: Float64Array; // [B, H], gradient with respect to the initial state
}

/** Forward pass only: the mean cross-entropy (what the finite differences perturb). */
export function refLoss(p: RefParams, batch: RefBatch): number {
  return refForward(p, batch).loss;
}

function refForward(p: RefParams, { X, Y, B, T, h0 }: RefBatch) {
  const { V, H } = p;
  const hs: Float64Array[] = [Float64Array.from(h0)]; // hs[t+1] = h_t, [B, H] each
  const probs = new Float64Array(T * B * V);
  const logits = new Float64Array(T * B * V);
  let loss = 0;
  for (let t = 0; t < T; t++) {
    const prev = hs[t];
    const h = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      const x = X[b * T + t];
      for (let j = 0; j < H; j++) {
        let a = p.W_xh[x * H + j] + p.b_h[j];
        for (let k = 0; k < H; k++) a += prev[b * H + k] * p.W_hh[k * H + j];
        h[b * H + j] = Math.tanh(a);
      }
      const row = (t * B + b) * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) {
        let o = p.b_q[v];
        for (let j = 0; j < H; j++) o += h[b * H + j] * p.W_hq[j * V + v];
        logits[row + v] = o;
        max = Math.max(max, o);
      }
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[row + v] - max);
      for (let v = 0; v < V; v++) probs[row + v] = Math.exp(logits[row + v] - max) / sum;
      const y = Y[b * T + t];
      loss -= logits[row + y] - max - Math.log(sum);
    }
    hs.push(h);
  }
  return { loss: loss / (T * B), logits, probs, hs };
}

/** Loss, logits, final state and every gradient, by backpropagation through time written out by hand. */
export function refLossAndGrads(p: RefParams, batch: RefBatch): RefResult {
  const { V, H } = p;
  const { X, Y, B, T } = batch;
  const N = T * B;
  const { loss, logits, probs, hs } = refForward(p, batch);
  const grads = {
    W_xh: new Float64Array(V * H),
    W_hh: new Float64Array(H * H),
    b_h: new Float64Array(H),
    W_hq: new Float64Array(H * V),
    b_q: new Float64Array(V),
  };
  let dhNext = new Float64Array(B * H); // ∂L/∂h_t arriving from step t+1
  for (let t = T - 1; t >= 0; t--) {
    const h = hs[t + 1];
    const prev = hs[t];
    const dh = dhNext;
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * V;
      const y = Y[b * T + t];
      for (let v = 0; v < V; v++) {
        const dO = (probs[row + v] - (v === y ? 1 : 0)) / N; // ∂L/∂o, softmax + mean cross-entropy
        grads.b_q[v] += dO;
        for (let j = 0; j < H; j++) {
          grads.W_hq[j * V + v] += h[b * H + j] * dO;
          dh[b * H + j] += dO * p.W_hq[j * V + v];
        }
      }
    }
    const da = new Float64Array(B * H); // through tanh: ∂L/∂a = ∂L/∂h · (1 − h²)
    for (let i = 0; i < B * H; i++) da[i] = dh[i] * (1 - h[i] * h[i]);
    dhNext = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      const x = X[b * T + t];
      for (let j = 0; j < H; j++) {
        const d = da[b * H + j];
        grads.b_h[j] += d;
        grads.W_xh[x * H + j] += d; // one-hot input: only row x of W_xh was used
        for (let k = 0; k < H; k++) {
          grads.W_hh[k * H + j] += prev[b * H + k] * d;
          dhNext[b * H + k] += d * p.W_hh[k * H + j];
        }
      }
    }
  }
  return { loss, logits, state: hs[T], grads, dh0: dhNext };
}

/** Central differences (f(x+ε) − f(x−ε)) / 2ε for every entry of x, which is perturbed in place and restored. */
export function finiteDifferences(f: () => number, x: Float64Array, eps = 1e-6): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + eps;
    const plus = f();
    x[i] = saved - eps;
    const minus = f();
    x[i] = saved;
    out[i] = (plus - minus) / (2 * eps);
  }
  return out;
}

/** ‖a − b‖ / ‖b‖ (L2 over all entries); the tests' measure of agreement per tensor. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  if (norm === 0) return Math.sqrt(diff);
  return Math.sqrt(diff / norm);
}

/** Uniform draws in [0, 1) from a tiny LCG, so the reference shares no code with src/random.ts. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * Random parameters of the given scale, rounded to float32 so tfjs (float32) and this reference
 * (float64) start from exactly the same numbers. Scale ≫ 0.01 keeps tanh away from its linear part.
 */
export function randomRefParams(V: number, H: number, scale: number, seed: number): RefParams {
  const u = lcg(seed);
  const draw = (n: number) => Float64Array.from({ length: n }, () => Math.fround((2 * u() - 1) * scale));
  return { V, H, W_xh: draw(V * H), W_hh: draw(H * H), b_h: draw(H), W_hq: draw(H * V), b_q: draw(V) };
}

/** A random minibatch with token indices in [0, V) and a non-zero initial state in (−0.5, 0.5), float32-exact. */
export function randomRefBatch(V: number, H: number, B: number, T: number, seed: number): RefBatch {
  const u = lcg(seed);
  const tokens = (n: number) => Int32Array.from({ length: n }, () => Math.floor(u() * V));
  return {
    X: tokens(B * T),
    Y: tokens(B * T),
    B,
    T,
    h0: Float64Array.from({ length: B * H }, () => Math.fround(u() - 0.5)),
  };
}
