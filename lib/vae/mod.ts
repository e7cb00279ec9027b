/**
 * The VAE-family math of elbo: pure functions of tensors (plus an explicit random stream)
 * that return per-example `[B]` losses in nats where they are losses.
 *
 * - reparameterization: {@linkcode reparameterize}
 * - KL terms: {@linkcode klStdNormal}, {@linkcode gaussianKl}
 * - decoder likelihoods: {@linkcode logLikelihood} / {@linkcode negLogLikelihood} over a
 *   {@linkcode Likelihood} (Bernoulli, Gaussian, discretized logistic, discretized Gaussian),
 *   their elementwise forms, and {@linkcode bitsPerDim}
 * - autoencoder regularisers: {@linkcode maskingNoise}, {@linkcode gaussianNoise},
 *   {@linkcode sparsityKl}, {@linkcode kSparse}, {@linkcode contractivePenalty}
 * - VQ-VAE: {@linkcode vectorQuantize}, {@linkcode vqLosses}, {@linkcode codebookUsage},
 *   {@linkcode emaCodebookUpdate}, {@linkcode restartDeadCodes}
 * - bounds: {@linkcode iwaeLogLikelihood}, {@linkcode hvaeElbo}
 *
 * @example A VAE loss for one batch
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { klStdNormal, negLogLikelihood, reparameterize } from "./mod.ts";
 *
 * const x = tf.tensor2d([[0, 1, 1, 0]]); // [1, 4] binary data
 * const mu = tf.zeros([1, 2]); // encoder outputs
 * const logvar = tf.zeros([1, 2]);
 * const { z } = reparameterize(mu, logvar, { seed: 0 }); // [1, 2]
 * const logits = tf.matMul(z, tf.ones([2, 4])); // a stand-in decoder, [1, 4]
 * const loss = tf.add(
 *   negLogLikelihood(x, { kind: "bernoulli", logits }),
 *   klStdNormal(mu, logvar),
 * ); // [1] negative ELBO in nats
 * console.log(loss.shape); // [1]
 * ```
 *
 * @module
 */
export { type NoiseSource } from "./random.ts";
export { reparameterize, type Reparameterized } from "./reparameterize.ts";
export { type DiagGaussian, gaussianKl, klStdNormal } from "./kl.ts";
export {
  bernoulliLogProb,
  gaussianLogProb,
  type Likelihood,
  type LikelihoodKind,
  logLikelihood,
  logProb,
  negLogLikelihood,
} from "./likelihood.ts";
export {
  discretizedGaussianLogProb,
  discretizedLogisticLogProb,
  type DiscretizedParams,
} from "./discretized.ts";
export { bitsPerDim, type BitsPerDimOptions } from "./bits.ts";
export {
  gaussianNoise,
  type GaussianNoiseOptions,
  type Masked,
  maskingNoise,
  type MaskingNoiseOptions,
  type Noised,
} from "./corruption.ts";
export { kSparse, sparsityKl, type SparsityKlOptions } from "./sparse.ts";
export { contractivePenalty } from "./contractive.ts";
export {
  type CodebookUsage,
  codebookUsage,
  type Quantized,
  vectorQuantize,
  type VqLosses,
  vqLosses,
  type VqLossOptions,
} from "./vector_quantize.ts";
export {
  type CodeAssignment,
  type CodebookState,
  type EmaBiasCorrection,
  emaCodebookUpdate,
  type EmaCodebookUpdateOptions,
  initVqEmaState,
  restartDeadCodes,
  restartDeadCodesEma,
  type Restarted,
  type RestartOptions,
  updateUnusedSteps,
  type VqEmaState,
} from "./vq_ema.ts";
export {
  type ImportanceSampler,
  type IwaeEstimate,
  iwaeLogLikelihood,
  type IwaeOptions,
} from "./iwae.ts";
export {
  hvaeElbo,
  type HvaeElboOptions,
  type HvaeTerms,
  type Kl1Estimator,
  type TwoLevelHvae,
} from "./hvae.ts";
