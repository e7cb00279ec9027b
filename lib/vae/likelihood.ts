/**
 * Decoder likelihoods p(x | z): elementwise log-probabilities and the per-example
 * log-likelihood `[B]` (summed over every axis but the first, in nats).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertMinRank, assertSameShape, fmtShape, sumNonBatch } from "./_util.ts";
import {
  discretizedGaussianLogProb,
  discretizedLogisticLogProb,
  type DiscretizedParams,
} from "./discretized.ts";

/**
 * Elementwise Bernoulli log-probability with logits l: log p(x) = x·l − softplus(l), the negated
 * binary cross-entropy with logits (Kingma & Welling 2014, Appendix C.1). Stable for any l;
 * x may be binary or in [0, 1].
 *
 * @param x data in [0, 1]
 * @param params `{ logits }`, shaped like `x`
 * @returns log p(x) in nats, shaped like `x`
 *
 * @example One pixel that is on
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { bernoulliLogProb } from "./mod.ts";
 *
 * const lp = bernoulliLogProb(tf.tensor1d([1]), { logits: tf.tensor1d([0]) });
 * console.log(await lp.data()); // Float32Array [-0.6931...] = log ½
 * ```
 */
export function bernoulliLogProb(x: Tensor, params: { logits: Tensor }): Tensor {
  assertSameShape("compute the Bernoulli log-probability", x, "x", params.logits, "logits");
  return bernoulliKernel(x, params.logits);
}

// x·l − softplus(l) as relu(l) − x·l + log1p(e^−|l|) (tfjs-wasm's Softplus is slow), with the
// gradient written out: ∂/∂l = x − σ(l) (exact at l = 0, where relu and |·| would give 0), ∂/∂x = l.
const bernoulliKernel = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
  const [x, l, save] = args as [Tensor, Tensor, tf.GradSaveFunc];
  save([x, l]);
  return {
    value: tf.sub(tf.sub(tf.mul(x, l), tf.relu(l)), tf.log1p(tf.exp(tf.neg(tf.abs(l))))),
    gradFunc: (dy, [xs, ls]) => [tf.mul(dy, ls!), tf.mul(dy, tf.sub(xs!, tf.sigmoid(ls!)))],
  };
}) as (x: Tensor, l: Tensor) => Tensor;

/**
 * Elementwise Gaussian log-density: log N(x; μ, σ²) = −½ (log 2π + log σ² + (x − μ)² / σ²).
 * `logvar` may be a learned tensor (shaped like `x`, or broadcastable to it) or a number
 * (fixed σ: logvar = 2 log σ).
 *
 * @param x data
 * @param params `{ mean, logvar }`: mean shaped like `x`; logvar a tensor broadcastable to `x`
 * or a number
 * @returns log N(x; μ, σ²) in nats, shaped like `x`
 *
 * @example The density at the mean of N(0, 1)
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gaussianLogProb } from "./mod.ts";
 *
 * const lp = gaussianLogProb(tf.tensor1d([0]), { mean: tf.tensor1d([0]), logvar: 0 });
 * console.log(await lp.data()); // Float32Array [-0.9189...] = −½ log 2π
 * ```
 */
export function gaussianLogProb(
  x: Tensor,
  params: { mean: Tensor; logvar: Tensor | number },
): Tensor {
  const what = "compute the Gaussian log-density";
  assertSameShape(what, x, "x", params.mean, "mean");
  const logvar = params.logvar;
  if (typeof logvar !== "number") {
    const offset = x.rank - logvar.rank;
    const broadcasts = offset >= 0 &&
      logvar.shape.every((d, i) => d === 1 || d === x.shape[i + offset]);
    if (!broadcasts) {
      throw new TypeError(
        `Cannot ${what} as 'logvar' of shape ${fmtShape(logvar.shape)} does not broadcast to ` +
          `'x' of shape ${fmtShape(x.shape)}; pass a logvar shaped like x or broadcastable to it`,
      );
    }
  } else if (!Number.isFinite(logvar)) {
    throw new RangeError(`Cannot ${what} as 'logvar' must be finite: current value is ${logvar}`);
  }
  return tf.tidy(() => {
    const lv = typeof logvar === "number" ? tf.scalar(logvar) : logvar;
    const sq = tf.mul(tf.square(tf.sub(x, params.mean)), tf.exp(tf.neg(lv))); // [B, ...]
    return tf.mul(tf.add(tf.add(sq, lv), Math.log(2 * Math.PI)), -0.5); // [B, ...]
  });
}

/** Which decoder likelihood p(x | z) a VAE uses (a sweepable design choice). */
export type LikelihoodKind =
  | "bernoulli"
  | "gaussian"
  | "gaussian_fixed"
  | "discretized_logistic"
  | "discretized_gaussian";

/**
 * A decoder distribution with its parameters, tagged by `kind`:
 * - `bernoulli`: `logits` (binary or [0, 1] data);
 * - `gaussian`: `mean` and a learned elementwise `logvar` (continuous data);
 * - `gaussian_fixed`: `mean` and a fixed standard deviation `sigma` (continuous data);
 * - `discretized_logistic` / `discretized_gaussian`: `means` and `logScales` (8-bit data in
 *   [−1, 1]; a proper discrete likelihood over 256 levels).
 */
export type Likelihood =
  | {
    /** Tag. */
    kind: "bernoulli";
    /** Logits, shaped like the data. */
    logits: Tensor;
  }
  | {
    /** Tag. */
    kind: "gaussian";
    /** Mean, shaped like the data. */
    mean: Tensor;
    /** Learned log-variance, shaped like the data or broadcastable to it. */
    logvar: Tensor;
  }
  | {
    /** Tag. */
    kind: "gaussian_fixed";
    /** Mean, shaped like the data. */
    mean: Tensor;
    /** Fixed standard deviation σ > 0. */
    sigma: number;
  }
  | ({
    /** Tag. */
    kind: "discretized_logistic" | "discretized_gaussian";
  } & DiscretizedParams);

/**
 * Elementwise log-probability of `x` under `likelihood`, shaped like `x` (nats).
 *
 * @param x data `[B, ...]`
 * @param likelihood the decoder distribution (see {@linkcode Likelihood})
 * @returns log p(x) per element, shaped like `x`
 *
 * @example A per-pixel log-probability map
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { logProb } from "./mod.ts";
 *
 * const x = tf.tensor2d([[0, 1]]);
 * const lp = logProb(x, { kind: "bernoulli", logits: tf.zeros([1, 2]) }); // [1, 2]
 * console.log(lp.shape); // [1, 2]
 * ```
 */
export function logProb(x: Tensor, likelihood: Likelihood): Tensor {
  switch (likelihood.kind) {
    case "bernoulli":
      return bernoulliLogProb(x, likelihood);
    case "gaussian":
      return gaussianLogProb(x, likelihood);
    case "gaussian_fixed": {
      const sigma = likelihood.sigma;
      if (!(Number.isFinite(sigma) && sigma > 0)) {
        throw new RangeError(
          `Cannot compute the Gaussian log-density as 'sigma' must be a positive number: ` +
            `current value is ${sigma}`,
        );
      }
      return gaussianLogProb(x, { mean: likelihood.mean, logvar: 2 * Math.log(sigma) });
    }
    case "discretized_logistic":
      return discretizedLogisticLogProb(x, likelihood);
    case "discretized_gaussian":
      return discretizedGaussianLogProb(x, likelihood);
    default: {
      const never: never = likelihood;
      throw new TypeError(
        `Cannot compute a log-likelihood of unknown kind '${(never as { kind: string }).kind}': ` +
          `use one of bernoulli, gaussian, gaussian_fixed, discretized_logistic, ` +
          `discretized_gaussian`,
      );
    }
  }
}

/**
 * Per-example log-likelihood log p(x | ·) = Σ over every axis but the first of the elementwise
 * log-probability, in nats — the reconstruction term of the ELBO (Kingma & Welling 2014, eq. 3).
 *
 * @param x data `[B, ...]`
 * @param likelihood the decoder distribution (see {@linkcode Likelihood})
 * @returns log p(x) per example, `[B]`
 *
 * @example Bernoulli likelihood of a batch of binary images
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { logLikelihood } from "./mod.ts";
 *
 * const x = tf.tensor2d([[0, 1], [1, 1]]);
 * const ll = logLikelihood(x, { kind: "bernoulli", logits: tf.zeros([2, 2]) }); // [2]
 * console.log(await ll.data()); // Float32Array [-1.386..., -1.386...] = 2 log ½
 * ```
 */
export function logLikelihood(x: Tensor, likelihood: Likelihood): Tensor {
  assertMinRank("compute a log-likelihood", x, "x", 1);
  return tf.tidy(() => sumNonBatch(logProb(x, likelihood))); // [B]
}

/**
 * Per-example negative log-likelihood −log p(x | ·) in nats: the negation of
 * {@linkcode logLikelihood}, i.e. the reconstruction loss of a VAE.
 *
 * @param x data `[B, ...]`
 * @param likelihood the decoder distribution (see {@linkcode Likelihood})
 * @returns −log p(x) per example, `[B]`
 *
 * @example Gaussian reconstruction loss with fixed σ
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { negLogLikelihood } from "./mod.ts";
 *
 * const x = tf.tensor2d([[0.5, 0.2]]);
 * const nll = negLogLikelihood(x, { kind: "gaussian_fixed", mean: tf.zeros([1, 2]), sigma: 1 });
 * console.log(nll.shape); // [1]
 * ```
 */
export function negLogLikelihood(x: Tensor, likelihood: Likelihood): Tensor {
  return tf.tidy(() => tf.neg(logLikelihood(x, likelihood))); // [B]
}
