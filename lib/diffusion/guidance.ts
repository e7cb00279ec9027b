/**
 * Guidance math as pure tensor functions; the networks live elsewhere.
 *
 * Conventions (stated because papers and libraries differ):
 * - Classifier-free guidance (Ho & Salimans 2021, eq. 6) with guidance weight w:
 *   ε̃ = (1 + w)·ε(x, c) − w·ε(x). diffusers and Stable Diffusion use the scale s = w + 1:
 *   ε̃ = ε(x) + s·(ε(x, c) − ε(x)). Both are accepted, explicitly: `{ w }` or `{ scale }`.
 *   w = 0 (s = 1) is the conditional model alone.
 * - Classifier guidance (Dhariwal & Nichol 2021, Algorithms 1 and 2; guided-diffusion
 *   `condition_mean`, `condition_score`): DDPM shifts the mean, μ̃ = μ + s·Σ·∇ log p(y | x_t); DDIM
 *   shifts the noise, ε̃ = ε̂ − s·√(1−ᾱ_t)·∇ log p(y | x_t). As in guided-diffusion, the gradient
 *   function may already include s; the `scale` option (default 1) multiplies it again.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";

/** The classifier-free guidance strength: Ho & Salimans' weight `w`, or diffusers' `scale` = w + 1. */
export type GuidanceStrength = { w: number; scale?: undefined } | {
  scale: number;
  w?: undefined;
};

/**
 * Combines conditional and unconditional noise predictions (classifier-free guidance).
 *
 * With `{ w }`: ε̃ = (1 + w)·ε_c − w·ε_u (Ho & Salimans 2021, eq. 6).
 * With `{ scale }`: ε̃ = ε_u + scale·(ε_c − ε_u) (diffusers); scale = w + 1 gives the same value.
 *
 * @param epsCond ε(x_t, c).
 * @param epsUncond ε(x_t) (same shape).
 * @param strength Exactly one of `{ w }` or `{ scale }`.
 * @returns The guided prediction ε̃.
 *
 * @example w = 1 is scale = 2
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { classifierFreeGuidance } from "./guidance.ts";
 * const c = tf.tensor1d([1]);
 * const u = tf.tensor1d([0.5]);
 * console.log(await classifierFreeGuidance(c, u, { w: 1 }).data()); // Float32Array [1.5]
 * console.log(await classifierFreeGuidance(c, u, { scale: 2 }).data()); // Float32Array [1.5]
 * ```
 */
export function classifierFreeGuidance(
  epsCond: Tensor,
  epsUncond: Tensor,
  strength: GuidanceStrength,
): Tensor {
  const { w, scale } = strength as { w?: number | undefined; scale?: number | undefined };
  if ((w === undefined) === (scale === undefined)) {
    throw new TypeError(
      `Cannot combine guidance predictions as exactly one of 'w' (Ho & Salimans) or 'scale' ` +
        `(diffusers, scale = w + 1) must be given: current value is ${JSON.stringify(strength)}`,
    );
  }
  const value = (w ?? scale) as number;
  if (!Number.isFinite(value)) {
    throw new RangeError(
      `Cannot combine guidance predictions as the strength must be finite: current value is ${value}`,
    );
  }
  return tf.tidy(() =>
    w !== undefined
      ? tf.sub(tf.mul(1 + w, epsCond), tf.mul(w, epsUncond))
      : tf.add(epsUncond, tf.mul(value, tf.sub(epsCond, epsUncond)))
  );
}

/** Options of the classifier-guidance functions. */
export interface ClassifierGuidanceOptions {
  /**
   * Extra multiplier s of the gradient (guided-diffusion folds s into `cond_fn`; keep 1 then).
   * @default {1}
   */
  scale?: number;
}

/**
 * DDPM classifier guidance: μ̃ = μ + Σ·(s·∇ log p(y | x_t)) (Dhariwal & Nichol 2021, Algorithm 1;
 * guided-diffusion `condition_mean`).
 *
 * @param mean The model mean μ_θ(x_t).
 * @param variance The model variance Σ_θ(x_t) (broadcastable to the mean).
 * @param grad ∇_{x_t} log p(y | x_t), same shape as the mean.
 * @param options The extra scale.
 * @returns The shifted mean.
 *
 * @example Shift by Σ·∇
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { classifierGuidedMean } from "./guidance.ts";
 * const m = classifierGuidedMean(tf.tensor1d([1]), tf.tensor1d([0.5]), tf.tensor1d([2]));
 * console.log(await m.data()); // Float32Array [2]
 * ```
 */
export function classifierGuidedMean(
  mean: Tensor,
  variance: Tensor,
  grad: Tensor,
  options: ClassifierGuidanceOptions = {},
): Tensor {
  const { scale = 1 } = options;
  return tf.tidy(() => tf.add(mean, tf.mul(variance, scale === 1 ? grad : tf.mul(scale, grad))));
}

/**
 * DDIM (score) classifier guidance: ε̃ = ε̂ − √(1−ᾱ_t)·(s·∇ log p(y | x_t)) (Dhariwal & Nichol
 * 2021, Algorithm 2; guided-diffusion `condition_score`).
 *
 * @param eps The model's ε̂.
 * @param grad ∇_{x_t} log p(y | x_t), same shape.
 * @param sqrtOneMinusAlphaBar √(1−ᾱ_t), broadcastable (guided-diffusion computes it in float32).
 * @param options The extra scale.
 * @returns The guided ε̃.
 *
 * @example Shift by √(1−ᾱ)·∇
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { classifierGuidedEps } from "./guidance.ts";
 * const e = classifierGuidedEps(tf.tensor1d([1]), tf.tensor1d([2]), tf.scalar(0.25));
 * console.log(await e.data()); // Float32Array [0.5]
 * ```
 */
export function classifierGuidedEps(
  eps: Tensor,
  grad: Tensor,
  sqrtOneMinusAlphaBar: Tensor,
  options: ClassifierGuidanceOptions = {},
): Tensor {
  const { scale = 1 } = options;
  return tf.tidy(() =>
    tf.sub(eps, tf.mul(sqrtOneMinusAlphaBar, scale === 1 ? grad : tf.mul(scale, grad)))
  );
}
