// Seeded randomness for everything the workbook draws: batch offsets, shuffles, parameter init,
// sampling. Taught in 05-state-initialization (offsets) and 06-prediction (sampling).
// Mulberry32: 32 bits of state, so a checkpoint can store it and a resumed run draws the same numbers.

export class Rng {
  private s: number;
  private spare: number | null = null; // second Box–Muller draw, kept for the next normal()

  /** `seed` is a whole number in [0, 2^32): anything else would silently wrap onto another seed. */
  constructor(seed = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`a seed is a whole number from 0 to 2^32 − 1 = 4294967295 (got ${seed})`);
    this.s = seed;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi], both ends included (like Python's random.randint). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal draw (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  /** Index drawn from unnormalised non-negative weights. */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** The whole state, for checkpoints: restoring it replays the same draws. */
  getState(): RngState {
    return { s: this.s, spare: this.spare };
  }

  setState(state: RngState): void {
    this.s = state.s >>> 0;
    this.spare = state.spare;
  }
}

export interface RngState {
  s: number;
  spare: number | null;
}
