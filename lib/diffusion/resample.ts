/**
 * Importance sampling of the training timestep t (Nichol & Dhariwal 2021, §3.3, eq. 18;
 * improved-diffusion `resample.py`). A sampler draws t with probability p_t and returns the
 * weight 1/(T·p_t), so `mean(weights · losses)` stays an unbiased estimate of the uniform-t loss.
 *
 * Pure TypeScript and seeded: no Math.random.
 *
 * @module
 */

import { Rng } from "../data/random.ts";

/** A batch of timesteps with their importance weights. */
export interface TimestepSample {
  /** The drawn steps, each in [0, T). */
  t: Int32Array;
  /** 1/(T·p_t) for each drawn step (float64). */
  weights: Float64Array;
}

/** Options of the samplers. */
export interface SamplerOptions {
  /**
   * Seed of the sampler's own xoshiro128** generator (ignored when `random` is given).
   * @default {0}
   */
  seed?: number;
  /**
   * A uniform [0, 1) generator to use instead of the seeded one.
   * @default {undefined}
   */
  random?: () => number;
}

/** A distribution over the timesteps of a diffusion. */
export interface ScheduleSampler {
  /** The number of steps T. */
  readonly numTimesteps: number;
  /** Unnormalised positive weights, one per step. */
  weights(): Float64Array;
  /** Draws `batchSize` steps and their importance weights. */
  sample(batchSize: number): TimestepSample;
}

/**
 * Draws from p = w/Σw by inverse CDF (numpy `choice`: cumulative sum normalised by its last
 * entry, then the first index whose CDF exceeds u) and weights each draw 1/(T·p_t).
 *
 * @param w Positive weights, one per step.
 * @param batchSize The number of draws.
 * @param random A uniform [0, 1) generator.
 * @returns The draws and weights.
 *
 * @example Weights of a uniform draw are 1
 * ```ts
 * import { sampleTimesteps } from "./resample.ts";
 * let u = 0;
 * const { t, weights } = sampleTimesteps(new Float64Array([1, 1, 1, 1]), 2, () => (u += 0.3) % 1);
 * console.log(Array.from(t), Array.from(weights)); // [1, 2] [1, 1]
 * ```
 */
export function sampleTimesteps(
  w: Float64Array,
  batchSize: number,
  random: () => number,
): TimestepSample {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(
      `Cannot sample timesteps as 'batchSize' must be a positive integer: current value is ${batchSize}`,
    );
  }
  let total = 0;
  for (const x of w) total += x;
  const p = w.map((x) => x / total);
  const cdf = new Float64Array(p.length);
  let acc = 0;
  p.forEach((x, i) => {
    acc += x;
    cdf[i] = acc;
  });
  const last = cdf[cdf.length - 1] as number;
  const t = new Int32Array(batchSize);
  const weights = new Float64Array(batchSize);
  for (let k = 0; k < batchSize; k++) {
    const u = random();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) { // first i with cdf[i]/last > u (searchsorted, side="right")
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) / last > u) hi = mid;
      else lo = mid + 1;
    }
    t[k] = lo;
    weights[k] = 1 / (p.length * (p[lo] as number));
  }
  return { t, weights };
}

/**
 * Uniform t: every step has weight 1 (improved-diffusion `UniformSampler`).
 *
 * @example Draw a batch
 * ```ts
 * import { UniformSampler } from "./resample.ts";
 * const s = new UniformSampler(1000, { seed: 1 });
 * const { t, weights } = s.sample(4);
 * console.log(t.length, weights[0]); // 4 1
 * ```
 */
export class UniformSampler implements ScheduleSampler {
  /** The number of steps T. */
  readonly numTimesteps: number;
  readonly #random: () => number;

  /**
   * Creates a uniform sampler over T steps.
   *
   * @param numTimesteps T.
   * @param options The seed or generator.
   */
  constructor(numTimesteps: number, options: SamplerOptions = {}) {
    checkT(numTimesteps);
    this.numTimesteps = numTimesteps;
    this.#random = makeRandom(options);
  }

  /**
   * All ones.
   *
   * @returns T ones.
   *
   * @example
   * ```ts
   * import { UniformSampler } from "./resample.ts";
   * console.log(new UniformSampler(3).weights()); // Float64Array(3) [1, 1, 1]
   * ```
   */
  weights(): Float64Array {
    return new Float64Array(this.numTimesteps).fill(1);
  }

  /**
   * Draws uniform steps.
   *
   * @param batchSize The number of steps.
   * @returns Steps and weights (all 1).
   *
   * @example
   * ```ts
   * import { UniformSampler } from "./resample.ts";
   * console.log(new UniformSampler(10, { seed: 2 }).sample(3).t.length); // 3
   * ```
   */
  sample(batchSize: number): TimestepSample {
    return sampleTimesteps(this.weights(), batchSize, this.#random);
  }
}

/** Options of {@linkcode LossSecondMomentResampler}. */
export interface LossSecondMomentOptions extends SamplerOptions {
  /**
   * Losses remembered per step.
   * @default {10}
   */
  historyPerTerm?: number;
  /**
   * Probability mass mixed in uniformly.
   * @default {0.001}
   */
  uniformProb?: number;
}

/** The JSON-serialisable loss history of a {@linkcode LossSecondMomentResampler}. */
export interface LossHistoryState {
  /** For each step, its remembered losses, oldest first. */
  history: number[][];
}

/**
 * p_t ∝ √E[L_t²] over the last `historyPerTerm` losses of each step, mixed with `uniformProb`
 * uniform mass; uniform until every step has a full history (improved-diffusion
 * `LossSecondMomentResampler`).
 *
 * @example Warm-up, then importance sampling
 * ```ts
 * import { LossSecondMomentResampler } from "./resample.ts";
 * const s = new LossSecondMomentResampler(2, { historyPerTerm: 1, seed: 0 });
 * s.update([0, 1], [1, 3]);
 * console.log(s.warmedUp(), s.weights()); // true, ≈ [0.25025, 0.74975]
 * ```
 */
export class LossSecondMomentResampler implements ScheduleSampler {
  /** The number of steps T. */
  readonly numTimesteps: number;
  /** Losses remembered per step. */
  readonly historyPerTerm: number;
  /** Uniform probability mass. */
  readonly uniformProb: number;
  readonly #random: () => number;
  #history: number[][];

  /**
   * Creates a resampler with an empty loss history (uniform until warmed up).
   *
   * @param numTimesteps T.
   * @param options History length, uniform mass, seed or generator.
   */
  constructor(numTimesteps: number, options: LossSecondMomentOptions = {}) {
    checkT(numTimesteps);
    const { historyPerTerm = 10, uniformProb = 0.001 } = options;
    if (!Number.isInteger(historyPerTerm) || historyPerTerm <= 0) {
      throw new RangeError(
        `Cannot build the resampler as 'historyPerTerm' must be a positive integer: current ` +
          `value is ${historyPerTerm}`,
      );
    }
    if (!(uniformProb >= 0 && uniformProb <= 1)) {
      throw new RangeError(
        `Cannot build the resampler as 'uniformProb' must be in [0, 1]: current value is ${uniformProb}`,
      );
    }
    this.numTimesteps = numTimesteps;
    this.historyPerTerm = historyPerTerm;
    this.uniformProb = uniformProb;
    this.#random = makeRandom(options);
    this.#history = Array.from({ length: numTimesteps }, () => []);
  }

  /**
   * True once every step has `historyPerTerm` losses.
   *
   * @returns Whether importance sampling is active.
   *
   * @example
   * ```ts
   * import { LossSecondMomentResampler } from "./resample.ts";
   * console.log(new LossSecondMomentResampler(4).warmedUp()); // false
   * ```
   */
  warmedUp(): boolean {
    return this.#history.every((h) => h.length === this.historyPerTerm);
  }

  /**
   * Ones during warm-up; then w_t = √mean(h_t²), normalised, × (1 − u) + u/T.
   *
   * @returns T weights.
   *
   * @example
   * ```ts
   * import { LossSecondMomentResampler } from "./resample.ts";
   * console.log(new LossSecondMomentResampler(2).weights()); // Float64Array(2) [1, 1]
   * ```
   */
  weights(): Float64Array {
    const T = this.numTimesteps;
    if (!this.warmedUp()) return new Float64Array(T).fill(1);
    const w = Float64Array.from(
      this.#history,
      (h) => Math.sqrt(h.reduce((a, x) => a + x * x, 0) / h.length),
    );
    let total = 0;
    for (const x of w) total += x;
    return w.map((x) => (x / total) * (1 - this.uniformProb) + this.uniformProb / T);
  }

  /**
   * Draws steps from {@linkcode LossSecondMomentResampler.weights}.
   *
   * @param batchSize The number of steps.
   * @returns Steps and importance weights.
   *
   * @example
   * ```ts
   * import { LossSecondMomentResampler } from "./resample.ts";
   * console.log(new LossSecondMomentResampler(5, { seed: 3 }).sample(2).t.length); // 2
   * ```
   */
  sample(batchSize: number): TimestepSample {
    return sampleTimesteps(this.weights(), batchSize, this.#random);
  }

  /**
   * Records per-example losses at their steps (FIFO of the last `historyPerTerm` per step;
   * improved-diffusion `update_with_all_losses`).
   *
   * @param ts The steps.
   * @param losses The losses, one per step.
   *
   * @example
   * ```ts
   * import { LossSecondMomentResampler } from "./resample.ts";
   * const s = new LossSecondMomentResampler(1, { historyPerTerm: 2 });
   * s.update([0, 0, 0], [1, 2, 3]);
   * console.log(s.getState().history[0]); // [2, 3]
   * ```
   */
  update(ts: ArrayLike<number>, losses: ArrayLike<number>): void {
    if (ts.length !== losses.length) {
      throw new TypeError(
        `Cannot update the resampler as 'ts' and 'losses' differ in length: current lengths ` +
          `are ${ts.length} and ${losses.length}`,
      );
    }
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i] as number;
      const loss = losses[i] as number;
      const h = this.#history[t];
      if (h === undefined || !Number.isInteger(t)) {
        throw new RangeError(
          `Cannot update the resampler as a step is outside [0, ${this.numTimesteps}): ` +
            `current value is ${t}`,
        );
      }
      if (h.length === this.historyPerTerm) h.shift();
      h.push(loss);
    }
  }

  /**
   * The loss history, for checkpoints.
   *
   * @returns A copy of the history.
   *
   * @example
   * ```ts
   * import { LossSecondMomentResampler } from "./resample.ts";
   * console.log(new LossSecondMomentResampler(2).getState().history.length); // 2
   * ```
   */
  getState(): LossHistoryState {
    return { history: this.#history.map((h) => [...h]) };
  }

  /**
   * Restores a history saved with {@linkcode LossSecondMomentResampler.getState}.
   *
   * @param state The saved history.
   *
   * @example
   * ```ts
   * import { LossSecondMomentResampler } from "./resample.ts";
   * const a = new LossSecondMomentResampler(1, { historyPerTerm: 1 });
   * a.update([0], [5]);
   * const b = new LossSecondMomentResampler(1, { historyPerTerm: 1 });
   * b.setState(a.getState());
   * console.log(b.warmedUp()); // true
   * ```
   */
  setState(state: LossHistoryState): void {
    const { history } = state;
    if (
      history.length !== this.numTimesteps ||
      history.some((h) => h.length > this.historyPerTerm || h.some((x) => !Number.isFinite(x)))
    ) {
      throw new TypeError(
        `Cannot restore the resampler as the history must have ${this.numTimesteps} lists of at ` +
          `most ${this.historyPerTerm} finite losses`,
      );
    }
    this.#history = history.map((h) => [...h]);
  }
}

function makeRandom(options: SamplerOptions): () => number {
  if (options.random !== undefined) return options.random;
  const rng = new Rng(options.seed ?? 0);
  return () => rng.next();
}

function checkT(T: number): void {
  if (!Number.isInteger(T) || T <= 0) {
    throw new RangeError(
      `Cannot build a timestep sampler as 'numTimesteps' must be a positive integer: current ` +
        `value is ${T}`,
    );
  }
}
