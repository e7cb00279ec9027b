/**
 * The reparameterization trick for a diagonal Gaussian posterior.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertSameShape } from "./_util.ts";
import { drawNoise, type NoiseSource } from "./random.ts";

/** Result of {@linkcode reparameterize}. */
export type Reparameterized = {
  /** The sample z = μ + exp(½ log σ²) ⊙ ε, same shape as `mu`. */
  z: Tensor;
  /** The standard normal noise ε that was used, same shape as `mu`. */
  eps: Tensor;
};

/**
 * Draws z ~ N(μ, diag σ²) as a differentiable function of (μ, log σ²): z = μ + exp(½ log σ²) ⊙ ε,
 * ε ~ N(0, I) (Kingma & Welling 2014, "Auto-Encoding Variational Bayes", §2.4). The encoder
 * emits log σ² (any real number) rather than σ².
 *
 * @param mu posterior mean μ, `[B, ...]`
 * @param logvar posterior log-variance log σ², same shape as `mu`
 * @param source the random stream: `{ seed }` or injected standard normal `{ noise }`
 * @returns `{ z, eps }`, both shaped like `mu`
 *
 * @example A seeded draw
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { reparameterize } from "./mod.ts";
 *
 * const mu = tf.zeros([2, 3]);
 * const logvar = tf.zeros([2, 3]);
 * const { z } = reparameterize(mu, logvar, { seed: 1 }); // [2, 3]
 * console.log(z.shape); // [2, 3]
 * ```
 */
export function reparameterize(
  mu: Tensor,
  logvar: Tensor,
  source: NoiseSource,
): Reparameterized {
  const what = "reparameterize";
  assertSameShape(what, mu, "mu", logvar, "logvar");
  const eps = drawNoise(source, mu.shape, { kind: "normal", what }); // [B, ...]
  const z = tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps))); // [B, ...]
  return { z, eps };
}
