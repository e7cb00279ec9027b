/**
 * The diffusion math core: `GaussianDiffusion` with openai/improved-diffusion's numbers
 * (forward process, p(x_{t−1} | x_t) for every mean and variance type, training losses including
 * L_hybrid, the exact bound in bits/dim, DDPM and DDIM samplers), respacing, importance sampling
 * of t, parameterization conversions and guidance.
 *
 * @example Train-step losses and a 10-step DDIM sample
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { betaSchedule } from "../math/mod.ts";
 * import { GaussianDiffusion, spacedDiffusion, UniformSampler } from "./mod.ts";
 * const base = {
 *   betas: betaSchedule("cosine", 100), meanType: "eps", varType: "fixed_large", lossType: "mse",
 * } as const;
 * const d = new GaussianDiffusion(base);
 * const model = (xt: tf.Tensor) => tf.mul(xt, 0.5);
 * const { t, weights } = new UniformSampler(d.numTimesteps, { seed: 0 }).sample(4);
 * const x0 = tf.zeros([4, 8]);
 * const losses = d.trainingLosses(model, x0, tf.tensor1d(t, "int32"), { seed: 1 });
 * const loss = tf.mean(tf.mul(losses.loss, tf.tensor1d(Float32Array.from(weights))));
 * const fast = spacedDiffusion(base, "ddim10");
 * const samples = await fast.ddimSampleLoop(model, [4, 8], { seed: 2 });
 * console.log(loss.shape, samples.shape); // [] [4, 8]
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./gaussian_diffusion.ts";
export * from "./respace.ts";
export * from "./losses.ts";
export * from "./parameterization.ts";
export * from "./guidance.ts";
export * from "./resample.ts";
export { meanFlat, stopGradient } from "./tensor_util.ts";
export type { ScheduleTables } from "../math/mod.ts";
