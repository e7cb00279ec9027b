/**
 * Respaced diffusions (improved-diffusion `SpacedDiffusion`): the same math on a subset of the
 * steps, with the model still receiving the ORIGINAL timesteps.
 *
 * @module
 */

import { respacedBetas, spaceTimesteps } from "../math/mod.ts";
import { GaussianDiffusion } from "./gaussian_diffusion.ts";
import type { GaussianDiffusionOptions } from "./types.ts";

/**
 * Builds a diffusion that keeps only some steps of a base diffusion: betas from
 * {@linkcode respacedBetas} (ᾱ unchanged at every kept step) and a `timestepMap` so the model
 * receives the original t (improved-diffusion `SpacedDiffusion` + `_WrappedModel`). With
 * `rescaleTimesteps: true` in the base options the model receives t · 1000/T_original; the default
 * is false, as in improved-diffusion's `GaussianDiffusion` (its scripts pass true).
 *
 * @param base The options of the full diffusion (its betas are the original chain; a base with
 *   its own `timestepMap` is respaced again, composing the maps).
 * @param kept The kept steps, or a `spaceTimesteps` request such as `"ddim50"` or `"10,15,20"`.
 * @returns The respaced diffusion.
 *
 * @example 50 DDIM steps of a 1000-step cosine diffusion
 * ```ts
 * import { betaSchedule } from "../math/mod.ts";
 * import { spacedDiffusion } from "./respace.ts";
 * const d = spacedDiffusion({
 *   betas: betaSchedule("cosine", 1000), meanType: "eps", varType: "learned_range",
 *   lossType: "rescaled_mse",
 * }, "ddim50");
 * console.log(d.numTimesteps, d.timestepMap?.[1]); // 50 20
 * ```
 */
export function spacedDiffusion(
  base: GaussianDiffusionOptions,
  kept: string | Iterable<number>,
): GaussianDiffusion {
  const T = base.betas.length;
  const steps = typeof kept === "string"
    ? spaceTimesteps(T, kept)
    : [...new Set(kept)].sort((a, b) => a - b);
  const betas = respacedBetas(base.betas, steps);
  const baseMap = base.timestepMap;
  const timestepMap = baseMap === undefined ? steps : steps.map((s) => baseMap[s] as number);
  return new GaussianDiffusion({
    ...base,
    betas,
    timestepMap,
    originalNumSteps: base.originalNumSteps ?? T,
  });
}
