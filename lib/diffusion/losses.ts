/**
 * Likelihood helpers of the variational bound, written with the same float32 operations in the
 * same order as improved-diffusion's `losses.py` (itself ported from Ho et al.'s `utils.py`).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";

/** A tensor or a plain number (broadcast like a scalar). */
export type TensorLike = Tensor | number;

/**
 * KL(N(μ₁, e^{lv₁}) ‖ N(μ₂, e^{lv₂})) elementwise, in nats:
 * ½(−1 + lv₂ − lv₁ + e^{lv₁−lv₂} + (μ₁ − μ₂)² e^{−lv₂}).
 *
 * @param mean1 μ₁.
 * @param logvar1 log σ₁².
 * @param mean2 μ₂.
 * @param logvar2 log σ₂².
 * @returns The KL divergence, broadcast over the arguments (float32).
 *
 * @example Identical Gaussians have KL 0
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { normalKl } from "./losses.ts";
 * const kl = normalKl(tf.tensor1d([0.3]), tf.tensor1d([-1]), 0.3, -1);
 * console.log(await kl.data()); // Float32Array [0]
 * ```
 */
export function normalKl(
  mean1: TensorLike,
  logvar1: TensorLike,
  mean2: TensorLike,
  logvar2: TensorLike,
): Tensor {
  return tf.tidy(() => {
    const [m1, lv1, m2, lv2] = [mean1, logvar1, mean2, logvar2].map(asTensor) as [
      Tensor,
      Tensor,
      Tensor,
      Tensor,
    ];
    const sum = tf.add(
      tf.add(tf.sub(tf.add(-1.0, lv2), lv1), tf.exp(tf.sub(lv1, lv2))),
      tf.mul(tf.square(tf.sub(m1, m2)), tf.exp(tf.neg(lv2))),
    );
    return tf.mul(0.5, sum);
  });
}

/**
 * The fast tanh approximation of the standard normal CDF,
 * Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715 x³))) (Page 1977; used by improved-diffusion).
 *
 * @param x Any tensor.
 * @returns Φ(x), elementwise.
 *
 * @example Φ(0) = ½
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { approxStandardNormalCdf } from "./losses.ts";
 * console.log(await approxStandardNormalCdf(tf.scalar(0)).data()); // Float32Array [0.5]
 * ```
 */
export function approxStandardNormalCdf(x: Tensor): Tensor {
  return tf.tidy(() => {
    const cube = tf.mul(tf.mul(x, x), x); // torch.pow(x, 3) is x·x·x in float32
    const inner = tf.mul(Math.sqrt(2.0 / Math.PI), tf.add(x, tf.mul(0.044715, cube)));
    return tf.mul(0.5, tf.add(1.0, tf.tanh(inner)));
  });
}

/** Options of {@linkcode discretizedGaussianLogLikelihood}. */
export interface DiscretizedGaussianOptions {
  /** The Gaussian means, same shape as `x`. */
  means: Tensor;
  /** The Gaussian log standard deviations (½ log σ²), same shape as `x`. */
  logScales: Tensor;
}

/**
 * log P(x) of a Gaussian discretised to the 256 bins of 8-bit data scaled to [−1, 1]
 * (Ho et al. 2020, eq. 13; improved-diffusion `discretized_gaussian_log_likelihood`): bins are
 * x ± 1/255, the edge bins (x < −0.999, x > 0.999) extend to ∓∞, Φ is
 * {@linkcode approxStandardNormalCdf}, and every log argument is clamped at 1e-12.
 *
 * @param x Data on the 8-bit grid in [−1, 1].
 * @param options The Gaussian means and log scales (same shape as `x`).
 * @returns Log probabilities in nats, same shape as `x`.
 *
 * @example A narrow Gaussian on the pixel puts almost all mass in its bin
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { discretizedGaussianLogLikelihood } from "./losses.ts";
 * const x = tf.tensor1d([0]);
 * const lp = discretizedGaussianLogLikelihood(x, { means: x, logScales: tf.tensor1d([-8]) });
 * console.log((await lp.data())[0]! > -1e-6); // true
 * ```
 */
export function discretizedGaussianLogLikelihood(
  x: Tensor,
  options: DiscretizedGaussianOptions,
): Tensor {
  const { means, logScales } = options;
  for (const [name, t] of [["means", means], ["logScales", logScales]] as const) {
    if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
      throw new TypeError(
        `Cannot compute the discretized Gaussian log-likelihood as '${name}' has shape ` +
          `[${t.shape}] but x has shape [${x.shape}]: pass tensors of the same shape`,
      );
    }
  }
  return tf.tidy(() => {
    const centered = tf.sub(x, means);
    const invStdv = tf.exp(tf.neg(logScales));
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStdv, tf.add(centered, 1.0 / 255.0)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStdv, tf.sub(centered, 1.0 / 255.0)));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, 1e-12));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1.0, cdfMin), 1e-12));
    const logCdfDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), 1e-12));
    return tf.where(
      tf.less(x, -0.999),
      logCdfPlus,
      tf.where(tf.greater(x, 0.999), logOneMinusCdfMin, logCdfDelta),
    );
  });
}

function asTensor(v: TensorLike): Tensor {
  return typeof v === "number" ? tf.scalar(v, "float32") : v;
}
