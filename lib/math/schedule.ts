/**
 * Named β schedules in float64.
 *
 * `linear` and `cosine` reproduce improved-diffusion's `get_named_beta_schedule` bit for bit
 * (same float64 operations in the same order). `sigmoid` and `scaled_linear` follow the code
 * that introduced them; see {@linkcode betaSchedule} for the exact formulas.
 *
 * @module
 */

import { linspace, map64 } from "./array.ts";

/** The β schedules elbo knows by name. */
export type BetaScheduleName = "linear" | "cosine" | "sigmoid" | "scaled_linear";

/** All schedule names, for validation and sweeps. */
export const BETA_SCHEDULE_NAMES: readonly BetaScheduleName[] = [
  "linear",
  "cosine",
  "sigmoid",
  "scaled_linear",
];

/**
 * Options of {@linkcode betasForAlphaBar}.
 */
export interface BetasForAlphaBarOptions {
  /**
   * The largest β allowed (avoids a singular last step when ᾱ(1) = 0).
   * @default {0.999}
   */
  maxBeta?: number;
}

/**
 * Discretises a continuous ᾱ(s), s ∈ [0, 1], into `steps` betas:
 * β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), maxBeta) (Nichol & Dhariwal 2021, eq. 17 and §3.2;
 * improved-diffusion `betas_for_alpha_bar`).
 *
 * @param steps The number of betas T (a positive integer).
 * @param alphaBar ᾱ as a function of s ∈ [0, 1].
 * @param options The β clip.
 * @returns T betas.
 *
 * @example A constant-rate ᾱ(s) = exp(−s)
 * ```ts
 * import { betasForAlphaBar } from "./schedule.ts";
 * const betas = betasForAlphaBar(4, (s) => Math.exp(-s));
 * console.log(betas.length); // 4
 * ```
 */
export function betasForAlphaBar(
  steps: number,
  alphaBar: (s: number) => number,
  options: BetasForAlphaBarOptions = {},
): Float64Array {
  checkSteps("alpha-bar", steps);
  const { maxBeta = 0.999 } = options;
  const betas = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const t1 = i / steps;
    const t2 = (i + 1) / steps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/**
 * The cosine ᾱ(s) = cos(((s + 0.008)/1.008) · π/2)² of Nichol & Dhariwal (2021, eq. 17), written
 * with the same operation order as improved-diffusion.
 *
 * @param s Diffusion time in [0, 1].
 * @returns ᾱ(s) (not normalised by ᾱ(0): only ratios are used).
 *
 * @example ᾱ is 0 at the end
 * ```ts
 * import { cosineAlphaBar } from "./schedule.ts";
 * console.log(cosineAlphaBar(1) < 1e-30); // true
 * ```
 */
export function cosineAlphaBar(s: number): number {
  const c = Math.cos((((s + 0.008) / 1.008) * Math.PI) / 2);
  return c * c;
}

/**
 * Builds a named β schedule of `steps` values, in float64.
 *
 * - `linear`: Ho et al. (2020) 1e-4 → 0.02, rescaled by 1000/T so the ᾱ curve stays similar for
 *   any T (improved-diffusion): `linspace(s · 1e-4, s · 0.02, T)` with s = 1000/T. The last β
 *   is 20/T, so T must exceed 20 for a usable chain (`scheduleTables` checks β ≤ 1).
 * - `cosine`: Nichol & Dhariwal (2021, eq. 17) with offset 0.008 and β clipped at 0.999
 *   ({@linkcode betasForAlphaBar} of {@linkcode cosineAlphaBar}).
 * - `sigmoid`: GeoDiff (Xu et al. 2022) / Jabri et al.: β_i = σ(linspace(−6, 6, T)_i) ·
 *   (0.02 − 1e-4) + 1e-4 with σ(x) = 1/(exp(−x) + 1). **Not** rescaled by 1000/T (as in GeoDiff).
 * - `scaled_linear`: Stable Diffusion (Rombach et al. 2022; diffusers):
 *   β_i = linspace(√0.00085, √0.012, T)_i², computed in float64 (diffusers uses float32).
 *   **Not** rescaled by 1000/T (as in diffusers).
 *
 * @param name The schedule name.
 * @param steps The number of diffusion steps T (a positive integer).
 * @returns T betas, β_0 … β_{T−1} (0-based like improved-diffusion).
 *
 * @example The linear schedule at T = 1000
 * ```ts
 * import { betaSchedule } from "./schedule.ts";
 * const betas = betaSchedule("linear", 1000);
 * console.log(betas[0], betas[999]); // 0.0001 0.02
 * ```
 */
export function betaSchedule(name: BetaScheduleName, steps: number): Float64Array {
  checkSteps(name, steps);
  switch (name) {
    case "linear": {
      const scale = 1000 / steps;
      return linspace(scale * 0.0001, scale * 0.02, steps);
    }
    case "cosine":
      return betasForAlphaBar(steps, cosineAlphaBar, { maxBeta: 0.999 });
    case "sigmoid": {
      const lo = 1e-4;
      const hi = 0.02;
      return map64(linspace(-6, 6, steps), (x) => (1 / (Math.exp(-x) + 1)) * (hi - lo) + lo);
    }
    case "scaled_linear":
      return map64(linspace(Math.sqrt(0.00085), Math.sqrt(0.012), steps), (x) => x * x);
    default: {
      const unknown: never = name;
      throw new TypeError(
        `Cannot build a beta schedule as the name is unknown: current value is ${
          JSON.stringify(unknown)
        }; use one of ${BETA_SCHEDULE_NAMES.join(", ")}`,
      );
    }
  }
}

function checkSteps(name: string, steps: number): void {
  if (!Number.isInteger(steps) || steps <= 0) {
    throw new RangeError(
      `Cannot build ${name} schedule as 'steps' must be a positive integer: current value is ${steps}`,
    );
  }
}
