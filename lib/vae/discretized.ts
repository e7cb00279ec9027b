/**
 * Discrete likelihoods over the 256 levels of 8-bit data scaled to [−1, 1]: the discretized
 * logistic (PixelCNN++ / IAF) and the discretized Gaussian (improved-diffusion). Both put all
 * mass on the 256 bins [x − 1/255, x + 1/255] (the edge bins extend to ±∞), so they sum to 1
 * and their NLL in bits/dim is comparable with diffusion bits/dim.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertSameShape, withoutGradient } from "./_util.ts";

/** Parameters of a discretized logistic or Gaussian likelihood (names as in improved-diffusion). */
export interface DiscretizedParams {
  /** Location μ of the continuous distribution, shaped like the data. */
  means: Tensor;
  /** Log scale log s (logistic) or log standard deviation log σ (Gaussian), shaped like the data. */
  logScales: Tensor;
}

/** Half a bin: bins of 8-bit data on [−1, 1] are 2/255 wide. */
const HALF_BIN = 1 / 255;
/** Data below this are the lowest level (−1), above its negation the highest (+1). */
const EDGE = 0.999;
/** Below this d = (2/255)/s, log(1 − e^(−d)) uses its series instead of expm1. */
const SERIES_BELOW = 0.1;
/** Floor on d; binds only where exp(−logScale) underflows (logScale > ~100). */
const D_FLOOR = 1e-30;

function checkParams(what: string, x: Tensor, params: DiscretizedParams): void {
  assertSameShape(what, x, "x", params.means, "means");
  assertSameShape(what, x, "x", params.logScales, "logScales");
}

/** Masks of the lowest (x < −0.999) and highest (x > 0.999) level, off the gradient tape. */
function edgeMasks(x: Tensor): [Tensor, Tensor] {
  return [
    withoutGradient((t) => tf.less(t, -EDGE), x),
    withoutGradient((t) => tf.greater(t, EDGE), x),
  ];
}

/**
 * log(1 − e^(−d)) for d > 0, accurate for tiny and large d: the series
 * log d − d/2 + d²/24 − d⁴/2880 (error < 1e-11) for d < 0.1, log(−expm1(−d)) otherwise. Each
 * branch sees only inputs in its own range, so gradients stay finite in both.
 */
function log1mExpNeg(d: Tensor): Tensor {
  const small = tf.minimum(tf.maximum(d, D_FLOOR), SERIES_BELOW);
  const large = tf.maximum(d, SERIES_BELOW);
  const series = tf.add(
    tf.sub(tf.log(small), tf.mul(small, 0.5)),
    tf.sub(tf.div(tf.square(small), 24), tf.div(tf.pow(small, 4), 2880)),
  );
  const exact = tf.log(tf.neg(tf.expm1(tf.neg(large))));
  return tf.where(withoutGradient((t) => tf.less(t, SERIES_BELOW), d), series, exact);
}

/**
 * Elementwise log-probability of 8-bit data under a discretized logistic (Salimans et al. 2017,
 * "PixelCNN++", eq. 2, one component; Kingma et al. 2016, "IAF"): P(x) = σ((x − μ + 1/255)/s) −
 * σ((x − μ − 1/255)/s) for interior levels, σ((x − μ + 1/255)/s) for x = −1 (x < −0.999) and
 * 1 − σ((x − μ − 1/255)/s) for x = 1 (x > 0.999). With a = (x − μ + 1/255)/s,
 * b = (x − μ − 1/255)/s the log is computed as the stable sum
 * log σ(a) + log σ(−b) + log(1 − e^(b − a)) (softplus forms; no PixelCNN++ midpoint fallback is
 * needed), so it equals the exact bin probability for any scale.
 *
 * @param x data in [−1, 1] on the grid k/127.5 − 1, k = 0..255
 * @param params `{ means, logScales }`, shaped like `x`
 * @returns log P(x) in nats, shaped like `x`
 *
 * @example The log-probability of one pixel
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { discretizedLogisticLogProb } from "./mod.ts";
 *
 * const x = tf.tensor1d([0]);
 * const lp = discretizedLogisticLogProb(x, { means: tf.tensor1d([0]), logScales: tf.tensor1d([-3]) });
 * console.log(lp.shape); // [1]
 * ```
 */
export function discretizedLogisticLogProb(x: Tensor, params: DiscretizedParams): Tensor {
  checkParams("compute the discretized logistic log-probability", x, params);
  return tf.tidy(() => {
    const invS = tf.exp(tf.neg(params.logScales)); // [B, ...] 1/s
    const centered = tf.sub(x, params.means); // [B, ...]
    const a = tf.mul(invS, tf.add(centered, HALF_BIN)); // [B, ...] upper bin edge
    const b = tf.mul(invS, tf.sub(centered, HALF_BIN)); // [B, ...] lower bin edge
    const logCdfPlus = tf.neg(tf.softplus(tf.neg(a))); // log σ(a)
    const logOneMinusCdfMin = tf.neg(tf.softplus(b)); // log(1 − σ(b))
    const logDelta = tf.add(
      tf.add(logCdfPlus, logOneMinusCdfMin),
      log1mExpNeg(tf.mul(invS, 2 * HALF_BIN)),
    ); // log(σ(a) − σ(b))
    const [low, high] = edgeMasks(x);
    return tf.where(low, logCdfPlus, tf.where(high, logOneMinusCdfMin, logDelta));
  });
}

/** Φ(v) ≈ ½(1 + tanh(√(2/π)(v + 0.044715 v³))), improved-diffusion's `approx_standard_normal_cdf`. */
function approxStandardNormalCdf(v: Tensor): Tensor {
  const inner = tf.mul(tf.add(v, tf.mul(tf.pow(v, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.add(tf.tanh(inner), 1), 0.5);
}

/**
 * Elementwise log-probability of 8-bit data under a discretized Gaussian, identical in behaviour
 * to improved-diffusion's `discretized_gaussian_log_likelihood` (`improved_diffusion/losses.py`;
 * Ho et al. 2020, "DDPM", eq. 13): bins ±1/255 around x, Φ approximated through tanh, edge levels
 * at x < −0.999 and x > 0.999 take all mass to ∓∞, and every argument of a log is clamped at
 * 1e-12. `lib/diffusion` has its own copy under the name in DESIGN.md; the two must agree.
 *
 * @param x data in [−1, 1] on the grid k/127.5 − 1, k = 0..255
 * @param params `{ means, logScales }` (log standard deviations), shaped like `x`
 * @returns log P(x) in nats, shaped like `x`
 *
 * @example The log-probability of one pixel
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { discretizedGaussianLogProb } from "./mod.ts";
 *
 * const x = tf.tensor1d([1]);
 * const lp = discretizedGaussianLogProb(x, { means: tf.tensor1d([1]), logScales: tf.tensor1d([-3]) });
 * console.log(lp.shape); // [1]
 * ```
 */
export function discretizedGaussianLogProb(x: Tensor, params: DiscretizedParams): Tensor {
  checkParams("compute the discretized Gaussian log-probability", x, params);
  return tf.tidy(() => {
    const centered = tf.sub(x, params.means); // [B, ...]
    const invStdv = tf.exp(tf.neg(params.logScales)); // [B, ...]
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStdv, tf.add(centered, HALF_BIN)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStdv, tf.sub(centered, HALF_BIN)));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, 1e-12));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1, cdfMin), 1e-12));
    const logCdfDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), 1e-12));
    const [low, high] = edgeMasks(x);
    return tf.where(low, logCdfPlus, tf.where(high, logOneMinusCdfMin, logCdfDelta));
  });
}
