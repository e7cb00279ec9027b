/**
 * The float64 tables a Gaussian diffusion looks up at t, computed once from the betas with the
 * same float64 operations, in the same order, as improved-diffusion's
 * `GaussianDiffusion.__init__` (Ho et al. 2020, eqs. 4, 6, 7; Nichol & Dhariwal 2021, §3.1).
 *
 * Index t is 0-based: table[t] belongs to the step from x_t to x_{t+1} in the paper's 1-based
 * notation, exactly as in improved-diffusion.
 *
 * @module
 */

import { cumprod, map64, zip64 } from "./array.ts";

/** Every per-step table of a diffusion with T steps (each a Float64Array of length T). */
export interface ScheduleTables {
  /** Number of steps T. */
  numTimesteps: number;
  /** β_t. */
  betas: Float64Array;
  /** α_t = 1 − β_t. */
  alphas: Float64Array;
  /** ᾱ_t = ∏_{s ≤ t} α_s. */
  alphasCumprod: Float64Array;
  /** ᾱ_{t−1}, with ᾱ_{−1} = 1. */
  alphasCumprodPrev: Float64Array;
  /** ᾱ_{t+1}, with ᾱ_T = 0. */
  alphasCumprodNext: Float64Array;
  /** √ᾱ_t. */
  sqrtAlphasCumprod: Float64Array;
  /** √(1 − ᾱ_t). */
  sqrtOneMinusAlphasCumprod: Float64Array;
  /** log(1 − ᾱ_t). */
  logOneMinusAlphasCumprod: Float64Array;
  /** √(1/ᾱ_t). */
  sqrtRecipAlphasCumprod: Float64Array;
  /** √(1/ᾱ_t − 1). */
  sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃_t = β_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) (Ho et al. 2020, eq. 7); β̃_0 = 0. */
  posteriorVariance: Float64Array;
  /** log β̃_t with β̃_0 replaced by β̃_1 (the t = 0 value is 0 and its log −∞). */
  posteriorLogVarianceClipped: Float64Array;
  /** β_t √ᾱ_{t−1}/(1 − ᾱ_t): the x_0 coefficient of the posterior mean μ̃ (eq. 7). */
  posteriorMeanCoef1: Float64Array;
  /** (1 − ᾱ_{t−1}) √α_t/(1 − ᾱ_t): the x_t coefficient of μ̃ (eq. 7). */
  posteriorMeanCoef2: Float64Array;
  /** log β_t (the upper end of the `learned_range` interpolation). */
  logBetas: Float64Array;
  /** [β̃_1, β_1, …, β_{T−1}]: the `fixed_large` variance (β̃_1 at t = 0 for a better decoder). */
  fixedLargeVariance: Float64Array;
  /** log of {@linkcode ScheduleTables.fixedLargeVariance}. */
  fixedLargeLogVariance: Float64Array;
  /** 1/coef1: the x_{t−1} coefficient when recovering x_0 from a `prev_x` prediction. */
  recipPosteriorMeanCoef1: Float64Array;
  /** coef2/coef1: the x_t coefficient when recovering x_0 from a `prev_x` prediction. */
  posteriorMeanCoef2OverCoef1: Float64Array;
}

/**
 * Computes all schedule tables from the betas, in float64.
 *
 * @param betas β_0 … β_{T−1}, each in (0, 1], with T ≥ 2 (improved-diffusion indexes β̃_1).
 * @returns The tables.
 *
 * @example Tables of the linear schedule
 * ```ts
 * import { betaSchedule } from "./schedule.ts";
 * import { scheduleTables } from "./tables.ts";
 * const tables = scheduleTables(betaSchedule("linear", 1000));
 * console.log(tables.alphasCumprodPrev[0]); // 1
 * console.log(tables.posteriorVariance[0]); // 0
 * ```
 */
export function scheduleTables(betas: ArrayLike<number>): ScheduleTables {
  const T = betas.length;
  if (T < 2) {
    throw new RangeError(
      `Cannot build diffusion tables as at least 2 betas are needed: current length is ${T}`,
    );
  }
  for (let i = 0; i < T; i++) {
    const b = betas[i] as number;
    if (!(b > 0 && b <= 1)) {
      throw new RangeError(
        `Cannot build diffusion tables as every beta must be in (0, 1]: current value at ` +
          `index ${i} is ${b}`,
      );
    }
  }
  const b = Float64Array.from(betas);
  const alphas = map64(b, (x) => 1.0 - x);
  const ac = cumprod(alphas);
  const acPrev = map64(ac, (_, i) => (i === 0 ? 1.0 : ac[i - 1] as number));
  const acNext = map64(ac, (_, i) => (i === T - 1 ? 0.0 : ac[i + 1] as number));
  const posteriorVariance = map64(
    b,
    (beta, i) => (beta * (1.0 - (acPrev[i] as number))) / (1.0 - (ac[i] as number)),
  );
  const pv1 = posteriorVariance[1] as number;
  const coef1 = map64(
    b,
    (beta, i) => (beta * Math.sqrt(acPrev[i] as number)) / (1.0 - (ac[i] as number)),
  );
  const coef2 = map64(
    alphas,
    (a, i) => ((1.0 - (acPrev[i] as number)) * Math.sqrt(a)) / (1.0 - (ac[i] as number)),
  );
  const fixedLargeVariance = map64(b, (beta, i) => (i === 0 ? pv1 : beta));
  return {
    numTimesteps: T,
    betas: b,
    alphas,
    alphasCumprod: ac,
    alphasCumprodPrev: acPrev,
    alphasCumprodNext: acNext,
    sqrtAlphasCumprod: map64(ac, Math.sqrt),
    sqrtOneMinusAlphasCumprod: map64(ac, (x) => Math.sqrt(1.0 - x)),
    logOneMinusAlphasCumprod: map64(ac, (x) => Math.log(1.0 - x)),
    sqrtRecipAlphasCumprod: map64(ac, (x) => Math.sqrt(1.0 / x)),
    sqrtRecipm1AlphasCumprod: map64(ac, (x) => Math.sqrt(1.0 / x - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped: map64(
      posteriorVariance,
      (v, i) => Math.log(i === 0 ? pv1 : v),
    ),
    posteriorMeanCoef1: coef1,
    posteriorMeanCoef2: coef2,
    logBetas: map64(b, Math.log),
    fixedLargeVariance,
    fixedLargeLogVariance: map64(fixedLargeVariance, Math.log),
    recipPosteriorMeanCoef1: map64(coef1, (c) => 1.0 / c),
    posteriorMeanCoef2OverCoef1: zip64(coef2, coef1, (c2, c1) => c2 / c1),
  };
}
