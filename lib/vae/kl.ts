/**
 * Analytic KL divergences between diagonal Gaussians, per example.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertMinRank, assertSameShape, sumNonBatch } from "./_util.ts";

/** A diagonal Gaussian N(mean, diag exp(logvar)); both tensors `[B, ...]`, same shape. */
export type DiagGaussian = {
  /** The mean μ, `[B, ...]`. */
  mean: Tensor;
  /** The elementwise log-variance log σ², same shape as `mean`. */
  logvar: Tensor;
};

/**
 * KL(N(μ, diag σ²) ‖ N(0, I)) per example, in nats:
 * −½ Σ (1 + log σ² − μ² − σ²), summed over every axis but the first
 * (Kingma & Welling 2014, Appendix B).
 *
 * @param mu mean μ, `[B, ...]`
 * @param logvar log-variance log σ², same shape as `mu`
 * @returns the KL divergence per example, `[B]`
 *
 * @example The KL of the prior to itself is 0
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { klStdNormal } from "./mod.ts";
 *
 * const kl = klStdNormal(tf.zeros([2, 4]), tf.zeros([2, 4])); // [2]
 * console.log(await kl.data()); // Float32Array [0, 0]
 * ```
 */
export function klStdNormal(mu: Tensor, logvar: Tensor): Tensor {
  const what = "compute KL(q || N(0, I))";
  assertSameShape(what, mu, "mu", logvar, "logvar");
  assertMinRank(what, mu, "mu", 1);
  return tf.tidy(() => {
    const inner = tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar)); // [B, ...]
    return tf.mul(sumNonBatch(inner), -0.5); // [B]
  });
}

/**
 * KL(q ‖ p) between two diagonal Gaussians per example, in nats:
 * ½ Σ (−1 + log σ²_p − log σ²_q + σ²_q / σ²_p + (μ_q − μ_p)² / σ²_p), summed over every axis but
 * the first. Elementwise this is improved-diffusion's `normal_kl`; it is the per-level KL of a
 * hierarchical VAE.
 *
 * @param q the first distribution (usually the posterior), tensors `[B, ...]`
 * @param p the second distribution (usually the prior), same shapes as `q`
 * @returns the KL divergence per example, `[B]`
 *
 * @example KL between two 1-D Gaussians
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gaussianKl } from "./mod.ts";
 *
 * const q = { mean: tf.tensor2d([[1]]), logvar: tf.tensor2d([[0]]) };
 * const p = { mean: tf.tensor2d([[0]]), logvar: tf.tensor2d([[0]]) };
 * const kl = gaussianKl(q, p); // [1]
 * console.log(await kl.data()); // Float32Array [0.5]
 * ```
 */
export function gaussianKl(q: DiagGaussian, p: DiagGaussian): Tensor {
  const what = "compute KL(q || p)";
  assertSameShape(what, q.mean, "q.mean", q.logvar, "q.logvar");
  assertSameShape(what, q.mean, "q.mean", p.mean, "p.mean");
  assertSameShape(what, p.mean, "p.mean", p.logvar, "p.logvar");
  assertMinRank(what, q.mean, "q.mean", 1);
  return tf.tidy(() => {
    const varRatio = tf.exp(tf.sub(q.logvar, p.logvar)); // [B, ...] σ²_q / σ²_p
    const meanTerm = tf.mul(tf.square(tf.sub(q.mean, p.mean)), tf.exp(tf.neg(p.logvar))); // [B, ...]
    const inner = tf.add(tf.add(tf.sub(tf.sub(p.logvar, q.logvar), 1), varRatio), meanTerm);
    return tf.mul(sumNonBatch(inner), 0.5); // [B]
  });
}
