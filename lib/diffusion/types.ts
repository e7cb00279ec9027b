/**
 * The design choices of a Gaussian diffusion as string unions, the function types the math core
 * calls (models, classifier gradients), and the option and result records of `GaussianDiffusion`.
 *
 * @module
 */

import type { Tensor, Tensor1D, Tensor2D } from "../types.ts";

/**
 * What the network predicts (improved-diffusion `ModelMeanType`, plus `v`):
 * `eps` the noise ε, `x0` the clean data x_0, `prev_x` the posterior mean x_{t−1}, `v` the
 * velocity v = √ᾱ_t ε − √(1−ᾱ_t) x_0 (Salimans & Ho 2022, §4).
 */
export type MeanType = "eps" | "x0" | "prev_x" | "v";

/**
 * How the reverse-process variance is chosen (improved-diffusion `ModelVarType`):
 * `fixed_small` β̃_t, `fixed_large` β_t (β̃_1 at t = 0), `learned` the network outputs log Σ,
 * `learned_range` the network outputs v ∈ [−1, 1] and log Σ = frac·log β_t + (1 − frac)·log β̃_t
 * with frac = (v + 1)/2 (Nichol & Dhariwal 2021, eq. 15).
 */
export type VarType = "fixed_small" | "fixed_large" | "learned" | "learned_range";

/**
 * The training objective (improved-diffusion `LossType`): `mse` L_simple (plus the VB term, unscaled,
 * when the variance is learned), `rescaled_mse` L_hybrid (VB term × T/1000, i.e. λ = 0.001),
 * `kl` the single-t VLB term, `rescaled_kl` that term × T (an unbiased estimate of L_vlb).
 */
export type LossType = "mse" | "rescaled_mse" | "kl" | "rescaled_kl";

/** Every mean type, for validation and sweeps. */
export const MEAN_TYPES: readonly MeanType[] = ["eps", "x0", "prev_x", "v"];
/** Every variance type, for validation and sweeps. */
export const VAR_TYPES: readonly VarType[] = [
  "fixed_small",
  "fixed_large",
  "learned",
  "learned_range",
];
/** Every loss type, for validation and sweeps. */
export const LOSS_TYPES: readonly LossType[] = ["mse", "rescaled_mse", "kl", "rescaled_kl"];

/**
 * A network called synchronously: `(x_t, t) => output`. `t` is an int32 `[B]` tensor of (original)
 * timesteps, or float32 when timesteps are rescaled. For learned variance types the output carries
 * the variance values after the mean output on the last axis (`[..., 2C]`).
 */
export type SyncModel = (xt: Tensor, t: Tensor) => Tensor;

/**
 * A network that returns a Promise. It must be declared `async` (elbo detects async functions to
 * avoid running them inside `tf.tidy`) and should tidy its own intermediates. Its output is
 * disposed once used if the call created it.
 */
export type AsyncModel = (xt: Tensor, t: Tensor) => Promise<Tensor>;

/** A network, synchronous or `async`. */
export type Model = SyncModel | AsyncModel;

/**
 * A classifier-gradient function `(x_t, t) => ∇_{x_t} log p(y | x_t)` (already multiplied by the
 * guidance scale, like guided-diffusion's `cond_fn`). Same calling convention as {@linkcode Model}.
 */
export type CondFn = Model;

/**
 * The result type of a method that calls `F`: the plain result when `F` is synchronous, a Promise
 * of it when `F` is async.
 */
export type Returned<F, R> = F extends SyncModel ? R : Promise<R>;

/** A value or a Promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Options of `GaussianDiffusion`. */
export interface GaussianDiffusionOptions {
  /** β_0 … β_{T−1} (e.g. from `betaSchedule` or `respacedBetas`), each in (0, 1], T ≥ 2. */
  betas: ArrayLike<number>;
  /** What the network predicts. */
  meanType: MeanType;
  /** How the reverse variance is chosen. */
  varType: VarType;
  /** The training objective. */
  lossType: LossType;
  /**
   * Pass t · 1000/T_original (float32) to the model instead of the integer t, like
   * improved-diffusion's `rescale_timesteps` (whose scripts default to true; the class defaults to
   * false, as here).
   * @default {false}
   */
  rescaleTimesteps?: boolean;
  /**
   * For a respaced chain: the original timestep of each step, so the model receives the
   * ORIGINAL t (improved-diffusion `_WrappedModel`). Omit for a full chain.
   * @default {undefined} (identity)
   */
  timestepMap?: readonly number[];
  /**
   * The number of steps of the original chain, used by `rescaleTimesteps` on a respaced chain.
   * @default {betas.length}
   */
  originalNumSteps?: number;
}

/** The forward posterior q(x_{t−1} | x_t, x_0), or q(x_t | x_0): tensors of x's shape. */
export interface MeanVariance {
  /** The mean. */
  mean: Tensor;
  /** The variance. */
  variance: Tensor;
  /** The log variance (clipped at t = 0 for the posterior). */
  logVariance: Tensor;
}

/** p_θ(x_{t−1} | x_t) and the model's x_0 prediction, all of x_t's shape. */
export interface PMeanVariance extends MeanVariance {
  /** The (processed, possibly clipped) prediction of x_0. */
  predXstart: Tensor;
}

/** Options of `GaussianDiffusion.pMeanVariance`. */
export interface PMeanVarianceOptions {
  /**
   * Clamp the x_0 prediction to [−1, 1].
   * @default {true}
   */
  clipDenoised?: boolean;
  /**
   * Applied to the x_0 prediction before clipping (improved-diffusion `denoised_fn`).
   * @default {undefined}
   */
  denoisedFn?: (x0: Tensor) => Tensor;
}

/** Options that supply or seed Gaussian noise. */
export interface NoiseOptions {
  /**
   * The noise to use (same shape as the data).
   * @default {undefined} (fresh N(0, I) noise)
   */
  noise?: Tensor;
  /**
   * Seed for the fresh noise when `noise` is not given.
   * @default {undefined} (unseeded)
   */
  seed?: number;
}

/** Options of `GaussianDiffusion.trainingLosses`: the noise, and x_t when already computed. */
export interface TrainingLossOptions extends NoiseOptions {
  /**
   * x_t = `qSample(x0, t, { noise })`, when the caller has it already (e.g. `forwardNoise`'s
   * output): it is used as is, not recomputed. Requires `noise`, the ε it was made with.
   * @default {undefined} (computed from x0, t and the noise)
   */
  xt?: Tensor;
}

/** Per-example training losses, each `[B]`. */
export interface TrainingLosses {
  /** The loss to minimise. */
  loss: Tensor1D;
  /** The mean-squared error term (mse loss types). */
  mse?: Tensor1D;
  /** The VLB term in bits/dim (mse loss types with a learned variance). */
  vb?: Tensor1D;
}

/** One VLB term (improved-diffusion `_vb_terms_bpd`). */
export interface VbTerms {
  /** Bits per dimension: the decoder NLL at t = 0, KL(q ‖ p) otherwise. `[B]`. */
  output: Tensor1D;
  /** The model's x_0 prediction. */
  predXstart: Tensor;
}

/** Options of `GaussianDiffusion.calcBpdLoop`. */
export interface CalcBpdOptions {
  /**
   * Clamp x_0 predictions to [−1, 1] (improved-diffusion's `image_nll.py` default).
   * @default {true}
   */
  clipDenoised?: boolean;
  /**
   * The noise used at step t (x_0's shape). A tensor the callback creates is disposed after use;
   * one that already existed (e.g. from a precomputed array) is left alone.
   * @default {undefined} (fresh N(0, I) noise per step)
   */
  noise?: (t: number) => Tensor;
  /**
   * Seed of the default per-step noise.
   * @default {undefined} (unseeded)
   */
  seed?: number;
  /**
   * Called after each step with (steps done, T).
   * @default {undefined}
   */
  progress?: (done: number, total: number) => void;
}

/**
 * The full variational bound in bits per dimension (improved-diffusion `calc_bpd_loop`).
 *
 * The `[B, T]` breakdowns are stacked in loop order exactly like improved-diffusion: column j
 * holds step t = T − 1 − j (see `timesteps`).
 */
export interface BpdResult {
  /** Σ_t vb + prior, per example. `[B]`. */
  totalBpd: Tensor1D;
  /** KL(q(x_{T}|x_0) ‖ N(0, I)) in bits/dim. `[B]`. */
  priorBpd: Tensor1D;
  /** VLB terms in bits/dim. `[B, T]`, column j ↔ t = timesteps[j]. */
  vb: Tensor2D;
  /** Mean squared error of the x_0 prediction. `[B, T]`. */
  xstartMse: Tensor2D;
  /** Mean squared error of the ε derived from the x_0 prediction. `[B, T]`. */
  mse: Tensor2D;
  /** The step of each column: [T − 1, …, 0]. */
  timesteps: number[];
}

/** Options of `GaussianDiffusion.pSample`. */
export interface PSampleOptions<C extends CondFn = SyncModel> extends PMeanVarianceOptions {
  /**
   * The Gaussian noise z of this step.
   * @default {undefined} (fresh N(0, I))
   */
  noise?: Tensor;
  /**
   * Seed for fresh noise.
   * @default {undefined} (unseeded)
   */
  seed?: number;
  /**
   * Classifier gradient ∇ log p(y | x_t) (scaled), as guided-diffusion's `cond_fn`.
   * @default {undefined} (no guidance)
   */
  condFn?: C;
}

/** Options of `GaussianDiffusion.ddimSample`. */
export interface DdimSampleOptions<C extends CondFn = SyncModel> extends PSampleOptions<C> {
  /**
   * η: 0 is deterministic DDIM, 1 matches the DDPM posterior variance (Song et al. 2021, eq. 16).
   * @default {0}
   */
  eta?: number;
}

/** One reverse step: the sample x_{t−1} and the x_0 prediction used. */
export interface SampleResult {
  /** x_{t−1}. */
  sample: Tensor;
  /** The x_0 prediction. */
  predXstart: Tensor;
}

/** Options of the sampling loops. */
export interface SampleLoopOptions<C extends CondFn = SyncModel> extends PMeanVarianceOptions {
  /**
   * The starting x_T (not disposed).
   * @default {undefined} (fresh N(0, I))
   */
  noise?: Tensor;
  /**
   * The noise z used at step t. A tensor the callback creates is disposed after use; one that
   * already existed is left alone.
   * @default {undefined} (fresh N(0, I))
   */
  stepNoise?: (t: number) => Tensor;
  /**
   * Seed for x_T and every step's noise (each drawn with a seed derived from it).
   * @default {undefined} (unseeded)
   */
  seed?: number;
  /**
   * Classifier gradient, as in {@linkcode PSampleOptions.condFn}.
   * @default {undefined}
   */
  condFn?: C;
  /**
   * Called after each step with (steps done, T).
   * @default {undefined}
   */
  progress?: (done: number, total: number) => void;
}

/** Options of `GaussianDiffusion.ddimSampleLoop`. */
export interface DdimSampleLoopOptions<C extends CondFn = SyncModel> extends SampleLoopOptions<C> {
  /**
   * η of every step.
   * @default {0}
   */
  eta?: number;
}
