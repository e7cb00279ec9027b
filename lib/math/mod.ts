/**
 * Pure float64 diffusion math, no TensorFlow.js: named β schedules, timestep respacing, and the
 * per-step tables of a Gaussian diffusion, all bit-compatible with openai/improved-diffusion.
 *
 * @example Respace the cosine schedule to 50 DDIM steps
 * ```ts
 * import { betaSchedule, respacedBetas, scheduleTables, spaceTimesteps } from "./mod.ts";
 * const betas = betaSchedule("cosine", 1000);
 * const kept = spaceTimesteps(1000, "ddim50");
 * const tables = scheduleTables(respacedBetas(betas, kept));
 * console.log(tables.numTimesteps); // 50
 * ```
 *
 * @module
 */

export * from "./array.ts";
export * from "./schedule.ts";
export * from "./respace.ts";
export * from "./tables.ts";
