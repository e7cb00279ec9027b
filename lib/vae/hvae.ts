/**
 * The ELBO of a two-level Markovian hierarchical VAE, split per level (Luo 2022,
 * "Understanding Diffusion Models: A Unified Perspective", §"Hierarchical Variational
 * Autoencoders"; seed notes 002):
 * p(x, z1, z2) = p(x | z1) p(z1 | z2) p(z2), q(z1, z2 | x) = q(z1 | x) q(z2 | z1), p(z2) = N(0, I).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertSameShape, sumNonBatch } from "./_util.ts";
import { type DiagGaussian, klStdNormal } from "./kl.ts";
import { gaussianLogProb, type Likelihood, logLikelihood } from "./likelihood.ts";

/**
 * How kl1 = E_q[log q(z1 | x) − log p(z1 | z2)] is estimated (both unbiased, one sample):
 * - `"mc"`: log q(z1 | x) − log p(z1 | z2) at the sampled z1, z2;
 * - `"analytic_entropy"`: −H[q(z1 | x)] − log p(z1 | z2), with the Gaussian entropy in closed
 *   form and only the cross term sampled.
 *
 * It cannot be fully analytic: z2 ~ q(z2 | z1) depends on z1, so the prior p(z1 | z2) moves
 * with the sample.
 */
export type Kl1Estimator = "mc" | "analytic_entropy";

/**
 * The per-level distributions of one forward pass, all evaluated at one sample
 * z1 ~ q(z1 | x), z2 ~ q(z2 | z1). Tensors are `[B, ...]`.
 */
export interface TwoLevelHvae {
  /** The decoder p(x | z1) at the sampled z1. */
  likelihood: Likelihood;
  /** The sample z1 ~ q(z1 | x), `[B, Z1]`. */
  z1: Tensor;
  /** The encoder q(z1 | x). */
  q1: DiagGaussian;
  /** The conditional prior p(z1 | z2) at the sampled z2, shaped like `q1`. */
  p1: DiagGaussian;
  /** The encoder q(z2 | z1) at the sampled z1. */
  q2: DiagGaussian;
}

/** Options of {@linkcode hvaeElbo}. */
export interface HvaeElboOptions {
  /**
   * Estimator of the first-level KL term.
   *
   * @default {"mc"}
   */
  kl1Estimator?: Kl1Estimator;
}

/** The negative ELBO split per level; every tensor is `[B]`, in nats. */
export type HvaeTerms = {
  /** Reconstruction loss −log p(x | z1). */
  rec: Tensor;
  /** First-level term, a one-sample estimate of E_q[log q(z1 | x) − log p(z1 | z2)]; may be negative. */
  kl1: Tensor;
  /** Second-level term KL(q(z2 | z1) ‖ N(0, I)), analytic given the sampled z1. */
  kl2: Tensor;
  /** rec + kl1 + kl2: an estimate of −ELBO ≥ −log p(x). */
  negElbo: Tensor;
};

/** log q(z) per example for a diagonal Gaussian q, `[B]`. */
function diagLogDensity(z: Tensor, q: DiagGaussian): Tensor {
  return sumNonBatch(gaussianLogProb(z, q)); // [B]
}

/** H[N(μ, diag σ²)] = ½ Σ (1 + log 2π + log σ²) per example, `[B]`. */
function diagEntropy(q: DiagGaussian): Tensor {
  return tf.mul(sumNonBatch(tf.add(q.logvar, 1 + Math.log(2 * Math.PI))), 0.5); // [B]
}

/**
 * Negative ELBO of a two-level Markovian HVAE, split per level:
 * −ELBO = E_q[−log p(x | z1)] + E_q[log q(z1 | x) − log p(z1 | z2)] + E_q[KL(q(z2 | z1) ‖ p(z2))]
 * (Luo 2022's Markovian HVAE ELBO with T = 2 levels). `rec` and `kl1` are one-sample Monte-Carlo
 * estimates at the given z1, z2; `kl2` is the analytic Gaussian KL given z1 (a one-sample
 * estimate of its expectation over z1). The sum is an unbiased estimate of −ELBO.
 *
 * @param x data `[B, ...]`
 * @param model the per-level distributions at one sample (see {@linkcode TwoLevelHvae})
 * @param options `{ kl1Estimator }`
 * @returns `{ rec, kl1, kl2, negElbo }`, each `[B]`, in nats
 *
 * @example The three terms of one forward pass
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { hvaeElbo } from "./mod.ts";
 *
 * const g = (b: number, d: number) => ({ mean: tf.zeros([b, d]), logvar: tf.zeros([b, d]) });
 * const x = tf.tensor2d([[0, 1, 1]]); // [1, 3]
 * const terms = hvaeElbo(x, {
 *   likelihood: { kind: "bernoulli", logits: tf.zeros([1, 3]) },
 *   z1: tf.zeros([1, 2]),
 *   q1: g(1, 2),
 *   p1: g(1, 2),
 *   q2: g(1, 2),
 * });
 * console.log(await terms.kl1.data(), await terms.kl2.data()); // [0], [0]
 * ```
 */
export function hvaeElbo(
  x: Tensor,
  model: TwoLevelHvae,
  options: HvaeElboOptions = {},
): HvaeTerms {
  const what = "compute the HVAE ELBO";
  const { z1, q1, p1, q2 } = model;
  assertSameShape(what, z1, "z1", q1.mean, "q1.mean");
  assertSameShape(what, z1, "z1", q1.logvar, "q1.logvar");
  assertSameShape(what, z1, "z1", p1.mean, "p1.mean");
  assertSameShape(what, z1, "z1", p1.logvar, "p1.logvar");
  const estimator = options.kl1Estimator ?? "mc";
  return tf.tidy(() => {
    const rec = tf.neg(logLikelihood(x, model.likelihood)); // [B]
    const logP1 = diagLogDensity(z1, p1); // [B] log p(z1 | z2)
    let kl1: Tensor;
    switch (estimator) {
      case "mc":
        kl1 = tf.sub(diagLogDensity(z1, q1), logP1); // [B]
        break;
      case "analytic_entropy":
        kl1 = tf.sub(tf.neg(diagEntropy(q1)), logP1); // [B]
        break;
      default: {
        const never: never = estimator;
        throw new TypeError(
          `Cannot ${what} as 'kl1Estimator' must be "mc" or "analytic_entropy": current value ` +
            `is ${never}`,
        );
      }
    }
    const kl2 = klStdNormal(q2.mean, q2.logvar); // [B]
    const negElbo = tf.add(tf.add(rec, kl1), kl2); // [B]
    return { rec, kl1, kl2, negElbo };
  });
}
