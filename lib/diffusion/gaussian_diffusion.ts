/**
 * `GaussianDiffusion`: the forward process, the reverse process, the losses and the exact
 * variational bound of a DDPM, with the numbers of openai/improved-diffusion
 * (`improved_diffusion/gaussian_diffusion.py` at 1bc7bbb).
 *
 * Tables are float64 (see `lib/math/tables.ts`); a method gathers a table at t, casts it to
 * float32 and combines it with tensors in the same order as improved-diffusion, so results agree
 * to float32 rounding. t is 0-based everywhere.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { map64, type ScheduleTables, scheduleTables } from "../math/mod.ts";
import { hostValues } from "../backend/read.ts";
import { deriveSeed } from "../data/random.ts";
import { classifierGuidedEps, classifierGuidedMean } from "./guidance.ts";
import { discretizedGaussianLogLikelihood, normalKl } from "./losses.ts";
import {
  convertPrediction,
  epsFromXstart,
  type PredictionKind,
  type StepCoefficients,
  vFromXstartEps,
  xstartFromEps,
  xstartFromV,
  xstartFromXprev,
} from "./parameterization.ts";
import {
  andThen,
  applyModel,
  asReturned,
  checkSameShape,
  disposeIfCreatedSince,
  gaussian,
  meanFlat,
  nextTensorId,
  stopGradient,
  toBroadcast,
} from "./tensor_util.ts";
import {
  type BpdResult,
  type CalcBpdOptions,
  type CondFn,
  type DdimSampleLoopOptions,
  type DdimSampleOptions,
  type GaussianDiffusionOptions,
  LOSS_TYPES,
  type LossType,
  MEAN_TYPES,
  type MeanType,
  type MeanVariance,
  type Model,
  type NoiseOptions,
  type PMeanVariance,
  type PMeanVarianceOptions,
  type PSampleOptions,
  type Returned,
  type SampleLoopOptions,
  type SampleResult,
  type SyncModel,
  type TrainingLosses,
  type TrainingLossOptions,
  VAR_TYPES,
  type VarType,
  type VbTerms,
} from "./types.ts";
import type { Tensor, Tensor1D, Tensor2D } from "../types.ts";

/**
 * A Gaussian diffusion with fixed design choices, matching improved-diffusion's
 * `GaussianDiffusion` (Ho et al. 2020; Nichol & Dhariwal 2021).
 *
 * Methods that call a model return the result directly for a synchronous model and a Promise for
 * an `async` one; `await` works on both. Tensors may have any rank ≥ 2 with the batch first.
 *
 * @example Training loss of an ε-model on flat data
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { betaSchedule } from "../math/mod.ts";
 * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
 * const d = new GaussianDiffusion({
 *   betas: betaSchedule("cosine", 100), meanType: "eps", varType: "fixed_large", lossType: "mse",
 * });
 * const x0 = tf.zeros([2, 4]);
 * const t = tf.tensor1d([0, 99], "int32");
 * const { loss } = d.trainingLosses((xt) => tf.zerosLike(xt), x0, t, { seed: 1 });
 * console.log(loss.shape); // [2]
 * ```
 */
export class GaussianDiffusion {
  /** What the network predicts. */
  readonly meanType: MeanType;
  /** How the variance is chosen. */
  readonly varType: VarType;
  /** The training objective. */
  readonly lossType: LossType;
  /** Whether the model receives t · 1000/T_original. */
  readonly rescaleTimesteps: boolean;
  /** The number of steps T of this chain. */
  readonly numTimesteps: number;
  /** Original timestep of each step of a respaced chain (undefined for a full chain). */
  readonly timestepMap: readonly number[] | undefined;
  /** T of the original chain (equals `numTimesteps` for a full chain). */
  readonly originalNumSteps: number;
  /** Every float64 table. */
  readonly tables: ScheduleTables;
  /** β_t (float64). */
  readonly betas: Float64Array;
  /** ᾱ_t (float64). */
  readonly alphasCumprod: Float64Array;
  /** ᾱ_{t−1} (float64). */
  readonly alphasCumprodPrev: Float64Array;
  /** ᾱ_{t+1} (float64). */
  readonly alphasCumprodNext: Float64Array;
  /** β̃_t (float64). */
  readonly posteriorVariance: Float64Array;
  /** log β̃_t with index 0 set to log β̃_1 (float64). */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** Posterior mean coefficient of x_0 (float64). */
  readonly posteriorMeanCoef1: Float64Array;
  /** Posterior mean coefficient of x_t (float64). */
  readonly posteriorMeanCoef2: Float64Array;
  readonly #oneMinusAlphasCumprod: Float64Array;
  readonly #f32 = new Map<Float64Array, Float32Array>();

  /**
   * Builds the tables and checks the options.
   *
   * @param options Betas and design choices.
   */
  constructor(options: GaussianDiffusionOptions) {
    const { meanType, varType, lossType, rescaleTimesteps = false, timestepMap } = options;
    checkMember("meanType", meanType, MEAN_TYPES);
    checkMember("varType", varType, VAR_TYPES);
    checkMember("lossType", lossType, LOSS_TYPES);
    this.meanType = meanType;
    this.varType = varType;
    this.lossType = lossType;
    this.rescaleTimesteps = rescaleTimesteps;
    this.tables = scheduleTables(options.betas);
    this.numTimesteps = this.tables.numTimesteps;
    this.originalNumSteps = options.originalNumSteps ?? this.numTimesteps;
    if (timestepMap !== undefined) {
      if (timestepMap.length !== this.numTimesteps) {
        throw new TypeError(
          `Cannot build a diffusion as 'timestepMap' must have one entry per beta ` +
            `(${this.numTimesteps}): current length is ${timestepMap.length}`,
        );
      }
      if (timestepMap.some((s) => !Number.isInteger(s) || s < 0 || s >= this.originalNumSteps)) {
        throw new RangeError(
          `Cannot build a diffusion as every 'timestepMap' entry must be an integer in ` +
            `[0, ${this.originalNumSteps}): current value is [${timestepMap}]; pass ` +
            `'originalNumSteps' for a respaced chain`,
        );
      }
      this.timestepMap = [...timestepMap];
    } else {
      this.timestepMap = undefined;
    }
    const tb = this.tables;
    this.betas = tb.betas;
    this.alphasCumprod = tb.alphasCumprod;
    this.alphasCumprodPrev = tb.alphasCumprodPrev;
    this.alphasCumprodNext = tb.alphasCumprodNext;
    this.posteriorVariance = tb.posteriorVariance;
    this.posteriorLogVarianceClipped = tb.posteriorLogVarianceClipped;
    this.posteriorMeanCoef1 = tb.posteriorMeanCoef1;
    this.posteriorMeanCoef2 = tb.posteriorMeanCoef2;
    this.#oneMinusAlphasCumprod = map64(tb.alphasCumprod, (a) => 1.0 - a);
  }

  /**
   * The timesteps the model receives for t: `timestepMap[t]` on a respaced chain, times
   * 1000/T_original (float32) when `rescaleTimesteps` (improved-diffusion `_WrappedModel`,
   * `_scale_timesteps`). Returns `t` itself when neither applies.
   *
   * @param t int32 `[B]` steps of this chain.
   * @returns The model's timesteps.
   *
   * @example Identity on a full chain
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const t = tf.tensor1d([3], "int32");
   * console.log(d.modelTimesteps(t) === t); // true
   * ```
   */
  modelTimesteps(t: Tensor): Tensor {
    if (this.timestepMap === undefined && !this.rescaleTimesteps) return t;
    return tf.tidy(() => {
      const mapped = this.timestepMap === undefined
        ? t
        : tf.gather(tf.tensor1d(this.timestepMap as number[], "int32"), t);
      return this.rescaleTimesteps
        ? tf.mul(tf.cast(mapped, "float32"), 1000.0 / this.originalNumSteps)
        : mapped;
    });
  }

  /**
   * q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) (improved-diffusion `q_mean_variance`).
   *
   * @param x0 Data `[B, …]`.
   * @param t int32 `[B]`.
   * @returns Mean, variance and log variance, of x_0's shape.
   *
   * @example Mean at t
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const { mean } = d.qMeanVariance(tf.ones([1, 2]), tf.tensor1d([9], "int32"));
   * console.log(mean.shape); // [1, 2]
   * ```
   */
  qMeanVariance(x0: Tensor, t: Tensor): MeanVariance {
    this.#checkBatch("compute q(x_t | x_0)", x0, t);
    return tf.tidy(() => ({
      mean: tf.mul(this.#at(this.tables.sqrtAlphasCumprod, t, x0.rank), x0),
      variance: this.#full(this.#oneMinusAlphasCumprod, t, x0.shape),
      logVariance: this.#full(this.tables.logOneMinusAlphasCumprod, t, x0.shape),
    }));
  }

  /**
   * Samples x_t ~ q(x_t | x_0): √ᾱ_t x_0 + √(1 − ᾱ_t) ε (Ho et al. 2020, eq. 4).
   *
   * @param x0 Data `[B, …]`.
   * @param t int32 `[B]`.
   * @param options The noise ε (or a seed for it).
   * @returns x_t.
   *
   * @example Noise data
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const xt = d.qSample(tf.ones([2, 3]), tf.tensor1d([0, 9], "int32"), { seed: 0 });
   * console.log(xt.shape); // [2, 3]
   * ```
   */
  qSample(x0: Tensor, t: Tensor, options: NoiseOptions = {}): Tensor {
    this.#checkBatch("sample q(x_t | x_0)", x0, t);
    return tf.tidy(() => {
      const noise = options.noise ?? gaussian(x0.shape, options.seed);
      checkSameShape("sample q(x_t | x_0) with this noise", noise, x0);
      return tf.add(
        tf.mul(this.#at(this.tables.sqrtAlphasCumprod, t, x0.rank), x0),
        tf.mul(this.#at(this.tables.sqrtOneMinusAlphasCumprod, t, x0.rank), noise),
      );
    });
  }

  /**
   * The forward posterior q(x_{t−1} | x_t, x_0) = N(μ̃, β̃_t I) with
   * μ̃ = coef1·x_0 + coef2·x_t (Ho et al. 2020, eqs. 6–7). The log variance is clipped at t = 0.
   *
   * @param x0 Data `[B, …]`.
   * @param xt x_t, same shape.
   * @param t int32 `[B]`.
   * @returns Mean, variance and log variance, of x_0's shape.
   *
   * @example At t = 0 the posterior mean is x_0
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const x0 = tf.tensor2d([[0.5]]);
   * const q = d.qPosteriorMeanVariance(x0, tf.tensor2d([[3]]), tf.tensor1d([0], "int32"));
   * console.log(await q.mean.data()); // Float32Array [0.5]
   * ```
   */
  qPosteriorMeanVariance(x0: Tensor, xt: Tensor, t: Tensor): MeanVariance {
    this.#checkBatch("compute q(x_{t-1} | x_t, x_0)", x0, t);
    checkSameShape("compute q(x_{t-1} | x_t, x_0)", x0, xt);
    return tf.tidy(() => ({
      mean: this.#posteriorMean(x0, xt, t),
      variance: this.#full(this.tables.posteriorVariance, t, xt.shape),
      logVariance: this.#full(this.tables.posteriorLogVarianceClipped, t, xt.shape),
    }));
  }

  /**
   * Applies the model to get p_θ(x_{t−1} | x_t) and the x_0 prediction (improved-diffusion
   * `p_mean_variance`).
   *
   * @param model The network (its output has x_t's shape, or twice the last axis for learned
   *   variances).
   * @param xt x_t `[B, …]`.
   * @param t int32 `[B]`.
   * @param options Clipping of x̂_0.
   * @returns Mean, variance, log variance and x̂_0, each of x_t's shape.
   *
   * @example An x_0-model that predicts zeros
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "x0", varType: "fixed_small", lossType: "mse",
   * });
   * const out = d.pMeanVariance((x) => tf.zerosLike(x), tf.ones([1, 2]), tf.tensor1d([5], "int32"));
   * console.log(await out.predXstart.data()); // Float32Array [0, 0]
   * ```
   */
  pMeanVariance<M extends Model>(
    model: M,
    xt: Tensor,
    t: Tensor,
    options: PMeanVarianceOptions = {},
  ): Returned<M, PMeanVariance> {
    this.#checkBatch("compute p(x_{t-1} | x_t)", xt, t);
    return asReturned<M, PMeanVariance>(applyModel(
      model,
      xt,
      t,
      (s) => this.modelTimesteps(s),
      (out) => this.#pMeanVarianceFromOutput(out, xt, t, options),
    ));
  }

  /**
   * One term of the variational bound in bits per dimension (improved-diffusion
   * `_vb_terms_bpd`): −log p(x_0 | x_1) with the discretized Gaussian decoder at t = 0,
   * KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)) otherwise; each `mean_flat(·)/ln 2`.
   *
   * @param model The network.
   * @param x0 Data on the 8-bit grid in [−1, 1].
   * @param xt x_t ~ q(x_t | x_0).
   * @param t int32 `[B]`.
   * @param options `clipDenoised` (default true).
   * @returns The term `[B]` and x̂_0.
   *
   * @example A VLB term
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "kl",
   * });
   * const x0 = tf.zeros([1, 3]);
   * const t = tf.tensor1d([4], "int32");
   * const xt = d.qSample(x0, t, { seed: 0 });
   * const { output } = d.vbTermsBpd((x) => tf.zerosLike(x), x0, xt, t);
   * console.log(output.shape); // [1]
   * ```
   */
  vbTermsBpd<M extends Model>(
    model: M,
    x0: Tensor,
    xt: Tensor,
    t: Tensor,
    options: Pick<PMeanVarianceOptions, "clipDenoised"> = {},
  ): Returned<M, VbTerms> {
    const { clipDenoised = true } = options;
    this.#checkBatch("compute a VLB term", xt, t);
    checkSameShape("compute a VLB term", x0, xt);
    // Fixed log variances stay one value per row ([B, 1, …]) and broadcast where they meet the
    // data: the same numbers as improved-diffusion's full-shape tensors, without the exp and
    // arithmetic over every pixel.
    return asReturned<M, VbTerms>(andThen(
      applyModel(
        model as Model,
        xt,
        t,
        (s) => this.modelTimesteps(s),
        (raw) => this.#pMeanLogVariance(raw, xt, t, { clipDenoised }),
      ),
      (out) =>
        tf.tidy(() => {
          const kl = () => {
            const qMean = this.#posteriorMean(x0, xt, t);
            const qLogVariance = this.#at(this.tables.posteriorLogVarianceClipped, t, xt.rank);
            return tf.div( // [B] bits/dim
              meanFlat(normalKl(qMean, qLogVariance, out.mean, out.logVariance)),
              Math.log(2.0),
            );
          };
          const decoderNll = () =>
            tf.div( // [B] bits/dim
              meanFlat(
                tf.neg(
                  discretizedGaussianLogLikelihood(x0, {
                    means: out.mean,
                    logScales: tf.broadcastTo(tf.mul(0.5, out.logVariance), [...x0.shape]),
                  }),
                ),
              ),
              Math.log(2.0),
            );
          // Rows with t = 0 take the decoder NLL, the others the KL. Where t's values are known
          // cheaply, only the terms some row takes are computed: the discretized likelihood
          // (tanh CDFs, logs) is needed at 1 step in T of an NLL evaluation, by 1 row in T in
          // training. The output is the same either way.
          const tv = hostValues(t);
          let zeros: number | null = null;
          if (tv !== null) {
            zeros = 0;
            for (let i = 0; i < tv.length; i++) if (tv[i] === 0) zeros++;
          }
          const b = t.shape[0]!;
          const output = (zeros === 0
            ? kl()
            : zeros === b
            ? decoderNll()
            : tf.where(tf.equal(t, 0), decoderNll(), kl())) as Tensor1D; // [B]
          tf.dispose([out.mean, out.logVariance]);
          return { output, predXstart: out.predXstart };
        }),
    ));
  }

  /**
   * Training losses at the given timesteps (improved-diffusion `training_losses`), per example.
   *
   * - `kl` / `rescaled_kl`: the VLB term at t (× T for `rescaled_kl`), with `clipDenoised: false`.
   * - `mse` / `rescaled_mse`: mean over non-batch dims of (target − output)², the target being ε,
   *   x_0, the posterior mean, or v for the mean types eps, x0, prev_x, v. With a learned variance
   *   the VLB term is added with the mean **detached** (it trains only the variance), scaled by
   *   T/1000 for `rescaled_mse` (L_hybrid, Nichol & Dhariwal 2021, eq. 16).
   *
   * @param model The network.
   * @param x0 Data `[B, …]`.
   * @param t int32 `[B]`.
   * @param options The noise ε (or a seed), and x_t if already computed from it.
   * @returns `{ loss, mse?, vb? }`, each `[B]`.
   *
   * @example L_hybrid with a learned-range variance
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "learned_range",
   *   lossType: "rescaled_mse",
   * });
   * const model = (xt: tf.Tensor) => tf.concat([tf.zerosLike(xt), tf.zerosLike(xt)], -1);
   * const out = d.trainingLosses(model, tf.zeros([2, 3]), tf.tensor1d([0, 7], "int32"), { seed: 3 });
   * console.log(Object.keys(out).sort()); // ["loss", "mse", "vb"]
   * ```
   */
  trainingLosses<M extends Model>(
    model: M,
    x0: Tensor,
    t: Tensor,
    options: TrainingLossOptions = {},
  ): Returned<M, TrainingLosses> {
    this.#checkBatch("compute training losses", x0, t);
    if (options.xt !== undefined && options.noise === undefined) {
      throw new TypeError(
        "Cannot compute training losses from a given 'xt' without the 'noise' it was made with: " +
          "pass both, or neither",
      );
    }
    const noise = options.noise ?? gaussian(x0.shape, options.seed);
    checkSameShape("compute training losses with this noise", noise, x0);
    if (options.xt !== undefined) {
      checkSameShape("compute training losses with this xt", options.xt, x0);
    }
    const xt = options.xt ?? this.qSample(x0, t, { noise });
    const made = [
      ...(options.noise === undefined ? [noise] : []),
      ...(options.xt === undefined ? [xt] : []),
    ];
    const cleanup = () => tf.dispose(made);
    let result: TrainingLosses | Promise<TrainingLosses>;
    try {
      result = this.#trainingLossesAt(model, x0, xt, t, noise);
    } catch (e) {
      cleanup();
      throw e;
    }
    if (result instanceof Promise) return asReturned<M, TrainingLosses>(result.finally(cleanup));
    cleanup();
    return asReturned<M, TrainingLosses>(result);
  }

  /**
   * The prior term KL(q(x_T | x_0) ‖ N(0, I)) in bits per dimension (improved-diffusion
   * `_prior_bpd`).
   *
   * @param x0 Data `[B, …]`.
   * @returns `[B]`.
   *
   * @example The prior term is tiny for the linear schedule
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("linear", 1000), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * console.log((await d.priorBpd(tf.ones([1, 1])).data())[0]! < 1e-4); // true
   * ```
   */
  priorBpd(x0: Tensor): Tensor1D {
    return tf.tidy(() => {
      const b = x0.shape[0] as number;
      const t = tf.fill([b], this.numTimesteps - 1, "int32"); // [B]
      const q = this.qMeanVariance(x0, t);
      const kl = normalKl(q.mean, q.logVariance, 0.0, 0.0);
      return tf.div(meanFlat(kl), Math.log(2.0)) as Tensor1D;
    });
  }

  /**
   * The whole variational bound in bits per dimension, walking t = T − 1 … 0 with fresh noise per
   * step (improved-diffusion `calc_bpd_loop`). Use it on the full chain: a respaced chain's bound
   * is much looser.
   *
   * @param model The network.
   * @param x0 Data on the 8-bit grid in [−1, 1], `[B, …]`.
   * @param options Clipping, the per-step noise (or a seed), a progress callback.
   * @returns Totals `[B]` and `[B, T]` breakdowns (columns in loop order, t = T − 1 … 0).
   *
   * @example Bits per dim of a zero ε-model
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_large", lossType: "mse",
   * });
   * const r = await d.calcBpdLoop((x) => tf.zerosLike(x), tf.zeros([2, 4]), { seed: 0 });
   * console.log(r.vb.shape, r.timesteps[0]); // [2, 10] 9
   * ```
   */
  async calcBpdLoop(model: Model, x0: Tensor, options: CalcBpdOptions = {}): Promise<BpdResult> {
    const { clipDenoised = true, noise: noiseAt, seed, progress } = options;
    const b = x0.shape[0] as number;
    const T = this.numTimesteps;
    const vb: Tensor[] = [];
    const xstartMse: Tensor[] = [];
    const mse: Tensor[] = [];
    const timesteps: number[] = [];
    try {
      for (let step = T - 1; step >= 0; step--) {
        const t = tf.fill([b], step, "int32"); // [B]
        const mark = nextTensorId();
        const noise = noiseAt !== undefined
          ? noiseAt(step)
          : gaussian(x0.shape, seed === undefined ? undefined : deriveSeed(seed, ["bpd", step]));
        try {
          checkSameShape(`compute the VLB at t = ${step} with this noise`, noise, x0);
          const xt = this.qSample(x0, t, { noise });
          const out = await this.vbTermsBpd(model, x0, xt, t, { clipDenoised });
          const [xm, em] = tf.tidy(() => [
            meanFlat(tf.square(tf.sub(out.predXstart, x0))),
            meanFlat(tf.square(tf.sub(this.#epsFromXstart(xt, t, out.predXstart), noise))),
          ]);
          vb.push(out.output);
          xstartMse.push(xm as Tensor);
          mse.push(em as Tensor);
          timesteps.push(step);
          tf.dispose([xt, out.predXstart]);
        } finally {
          t.dispose();
          disposeIfCreatedSince(noise, mark);
        }
        progress?.(T - step, T);
      }
      return tf.tidy(() => {
        const vbAll = tf.stack(vb, 1) as Tensor2D; // [B, T]
        const prior = this.priorBpd(x0);
        return {
          totalBpd: tf.add(tf.sum(vbAll, 1), prior) as Tensor1D,
          priorBpd: prior,
          vb: vbAll,
          xstartMse: tf.stack(xstartMse, 1) as Tensor2D,
          mse: tf.stack(mse, 1) as Tensor2D,
          timesteps,
        };
      });
    } finally {
      tf.dispose([...vb, ...xstartMse, ...mse]);
    }
  }

  /**
   * Samples x_{t−1} ~ p_θ(x_{t−1} | x_t): μ + 1[t > 0]·exp(½ log Σ)·z (improved-diffusion
   * `p_sample`; with `condFn`, the mean is shifted as guided-diffusion `condition_mean`).
   *
   * @param model The network.
   * @param xt x_t `[B, …]`.
   * @param t int32 `[B]`.
   * @param options Clipping, the noise z (or a seed), a classifier gradient.
   * @returns x_{t−1} and x̂_0.
   *
   * @example One reverse step
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const { sample } = d.pSample((x) => tf.zerosLike(x), tf.ones([1, 2]), tf.tensor1d([9], "int32"), {
   *   seed: 0,
   * });
   * console.log(sample.shape); // [1, 2]
   * ```
   */
  pSample<M extends Model, C extends CondFn = SyncModel>(
    model: M,
    xt: Tensor,
    t: Tensor,
    options: PSampleOptions<C> = {},
  ): Returned<M | C, SampleResult> {
    const { condFn, noise, seed } = options;
    return asReturned<M | C, SampleResult>(
      andThen(this.pMeanVariance(model as Model, xt, t, options), (out) => {
        const guided = condFn === undefined
          ? out.mean
          : andThen(this.conditionMean(condFn as CondFn, out, xt, t), (m) => {
            out.mean.dispose();
            return m;
          });
        return andThen(guided, (mean) =>
          tf.tidy(() => {
            const z = noise ?? gaussian(xt.shape, seed);
            checkSameShape("sample p(x_{t-1} | x_t) with this noise", z, xt);
            const mask = toBroadcast(tf.cast(tf.notEqual(t, 0), "float32"), xt.rank); // [B, 1, …]
            const sample = tf.add( // [B, …]
              mean,
              tf.mul(tf.mul(mask, tf.exp(tf.mul(0.5, out.logVariance))), z),
            );
            tf.dispose([mean, out.variance, out.logVariance]);
            return { sample, predXstart: out.predXstart };
          }));
      }),
    );
  }

  /**
   * One DDIM step (Song et al. 2021, eq. 12; improved-diffusion `ddim_sample`):
   * x_{t−1} = √ᾱ_{t−1} x̂_0 + √(1 − ᾱ_{t−1} − σ²) ε̂ + 1[t > 0]·σ z with
   * σ = η √((1 − ᾱ_{t−1})/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_{t−1}) and ε̂ re-derived from x̂_0. With
   * `condFn`, ε̂ is shifted as guided-diffusion `condition_score`.
   *
   * @param model The network.
   * @param xt x_t `[B, …]`.
   * @param t int32 `[B]`.
   * @param options Clipping, η, the noise z (or a seed), a classifier gradient.
   * @returns x_{t−1} and x̂_0.
   *
   * @example A deterministic step
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const step = d.ddimSample((x) => tf.zerosLike(x), tf.ones([1, 2]), tf.tensor1d([9], "int32"));
   * console.log(step.sample.shape); // [1, 2]
   * ```
   */
  ddimSample<M extends Model, C extends CondFn = SyncModel>(
    model: M,
    xt: Tensor,
    t: Tensor,
    options: DdimSampleOptions<C> = {},
  ): Returned<M | C, SampleResult> {
    const { condFn, noise, seed, eta = 0.0 } = options;
    return asReturned<M | C, SampleResult>(
      andThen(this.pMeanVariance(model as Model, xt, t, options), (pmv) => {
        const guided = condFn === undefined
          ? pmv
          : andThen(this.conditionScore(condFn as CondFn, pmv, xt, t), (g) => {
            tf.dispose([pmv.mean, pmv.variance, pmv.logVariance, pmv.predXstart]);
            return g;
          });
        return andThen(guided, (out) =>
          tf.tidy(() => {
            const r = xt.rank;
            const eps = this.#epsFromXstart(xt, t, out.predXstart); // [B, …]
            const alphaBar = this.#at(this.alphasCumprod, t, r); // [B, 1, …]
            const alphaBarPrev = this.#at(this.alphasCumprodPrev, t, r); // [B, 1, …]
            const sigma = tf.mul( // [B, 1, …]
              tf.mul(eta, tf.sqrt(tf.div(tf.sub(1, alphaBarPrev), tf.sub(1, alphaBar)))),
              tf.sqrt(tf.sub(1, tf.div(alphaBar, alphaBarPrev))),
            );
            const z = noise ?? gaussian(xt.shape, seed);
            checkSameShape("take a DDIM step with this noise", z, xt);
            const meanPred = tf.add( // [B, …]
              tf.mul(out.predXstart, tf.sqrt(alphaBarPrev)),
              tf.mul(tf.sqrt(tf.sub(tf.sub(1, alphaBarPrev), tf.square(sigma))), eps),
            );
            const mask = toBroadcast(tf.cast(tf.notEqual(t, 0), "float32"), r); // [B, 1, …]
            const sample = tf.add(meanPred, tf.mul(tf.mul(mask, sigma), z)); // [B, …]
            tf.dispose([out.mean, out.variance, out.logVariance]);
            return { sample, predXstart: out.predXstart };
          }));
      }),
    );
  }

  /**
   * One deterministic reverse-ODE DDIM step x_t → x_{t+1} (improved-diffusion
   * `ddim_reverse_sample`, η = 0): √ᾱ_{t+1} x̂_0 + √(1 − ᾱ_{t+1}) ε̂.
   *
   * @param model The network.
   * @param xt x_t `[B, …]`.
   * @param t int32 `[B]`.
   * @param options Clipping of x̂_0.
   * @returns x_{t+1} (as `sample`) and x̂_0.
   *
   * @example Encode one step
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const up = d.ddimReverseSample((x) => tf.zerosLike(x), tf.ones([1, 2]), tf.tensor1d([0], "int32"));
   * console.log(up.sample.shape); // [1, 2]
   * ```
   */
  ddimReverseSample<M extends Model>(
    model: M,
    xt: Tensor,
    t: Tensor,
    options: PMeanVarianceOptions = {},
  ): Returned<M, SampleResult> {
    return asReturned<M, SampleResult>(
      andThen(this.pMeanVariance(model as Model, xt, t, options), (out) =>
        tf.tidy(() => {
          const r = xt.rank;
          const eps = this.#epsFromXstart(xt, t, out.predXstart); // [B, …]
          const alphaBarNext = this.#at(this.alphasCumprodNext, t, r);
          const sample = tf.add( // [B, …]
            tf.mul(out.predXstart, tf.sqrt(alphaBarNext)),
            tf.mul(tf.sqrt(tf.sub(1, alphaBarNext)), eps),
          );
          tf.dispose([out.mean, out.variance, out.logVariance]);
          return { sample, predXstart: out.predXstart };
        })),
    );
  }

  /**
   * Ancestral sampling from x_T ~ N(0, I) down to x_0 (improved-diffusion `p_sample_loop`).
   *
   * @param model The network.
   * @param shape The sample shape `[B, …]`.
   * @param options x_T, per-step noise (or a seed), clipping, guidance, progress.
   * @returns x_0 samples.
   *
   * @example Seeded samples
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const x = await d.pSampleLoop((xt) => tf.mul(xt, 0.1), [2, 3], { seed: 7 });
   * console.log(x.shape); // [2, 3]
   * ```
   */
  pSampleLoop<C extends CondFn = SyncModel>(
    model: Model,
    shape: readonly number[],
    options: SampleLoopOptions<C> = {},
  ): Promise<Tensor> {
    return this.#loop("p", model, shape, options);
  }

  /**
   * DDIM sampling from x_T down to x_0 (improved-diffusion `ddim_sample_loop`); on a respaced
   * chain (see `spacedDiffusion`) this is the usual few-step DDIM sampler.
   *
   * @param model The network.
   * @param shape The sample shape `[B, …]`.
   * @param options x_T, η, per-step noise (or a seed), clipping, guidance, progress.
   * @returns x_0 samples.
   *
   * @example Deterministic DDIM
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const x = await d.ddimSampleLoop((xt) => tf.mul(xt, 0.1), [2, 3], { seed: 7, eta: 0 });
   * console.log(x.shape); // [2, 3]
   * ```
   */
  ddimSampleLoop<C extends CondFn = SyncModel>(
    model: Model,
    shape: readonly number[],
    options: DdimSampleLoopOptions<C> = {},
  ): Promise<Tensor> {
    return this.#loop("ddim", model, shape, options);
  }

  /**
   * DDPM classifier guidance: the mean shifted by Σ·∇ log p(y | x_t) (guided-diffusion
   * `condition_mean`; `condFn` receives the model's timesteps).
   *
   * @param condFn The (scaled) classifier gradient.
   * @param pmv The output of {@linkcode GaussianDiffusion.pMeanVariance}.
   * @param xt x_t.
   * @param t int32 `[B]`.
   * @returns The new mean.
   *
   * @example Guidance by a constant gradient
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const xt = tf.ones([1, 2]);
   * const t = tf.tensor1d([5], "int32");
   * const pmv = d.pMeanVariance((x) => tf.zerosLike(x), xt, t);
   * const mean = d.conditionMean((x) => tf.onesLike(x), pmv, xt, t);
   * console.log(mean.shape); // [1, 2]
   * ```
   */
  conditionMean<C extends CondFn>(
    condFn: C,
    pmv: PMeanVariance,
    xt: Tensor,
    t: Tensor,
  ): Returned<C, Tensor> {
    return asReturned<C, Tensor>(applyModel(
      condFn,
      xt,
      t,
      (s) => this.modelTimesteps(s),
      (grad) => {
        checkSameShape("apply classifier guidance to the mean", grad, xt);
        return classifierGuidedMean(pmv.mean, pmv.variance, grad);
      },
    ));
  }

  /**
   * Score (DDIM) classifier guidance: ε̂ ← ε̂ − √(1 − ᾱ_t)·∇ log p(y | x_t), then x̂_0 and the mean
   * recomputed (guided-diffusion `condition_score`).
   *
   * @param condFn The (scaled) classifier gradient.
   * @param pmv The output of {@linkcode GaussianDiffusion.pMeanVariance}.
   * @param xt x_t.
   * @param t int32 `[B]`.
   * @returns A new record with the guided mean and x̂_0 (variance tensors are new copies).
   *
   * @example Guidance by a constant gradient
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const xt = tf.ones([1, 2]);
   * const t = tf.tensor1d([5], "int32");
   * const pmv = d.pMeanVariance((x) => tf.zerosLike(x), xt, t);
   * const guided = d.conditionScore((x) => tf.onesLike(x), pmv, xt, t);
   * console.log(guided.predXstart.shape); // [1, 2]
   * ```
   */
  conditionScore<C extends CondFn>(
    condFn: C,
    pmv: PMeanVariance,
    xt: Tensor,
    t: Tensor,
  ): Returned<C, PMeanVariance> {
    return asReturned<C, PMeanVariance>(applyModel(
      condFn,
      xt,
      t,
      (s) => this.modelTimesteps(s),
      (grad) => {
        checkSameShape("apply classifier guidance to the score", grad, xt);
        const alphaBar = this.#at(this.alphasCumprod, t, xt.rank); // [B, 1, …]
        const eps = classifierGuidedEps(
          this.#epsFromXstart(xt, t, pmv.predXstart),
          grad,
          tf.sqrt(tf.sub(1, alphaBar)),
        );
        const predXstart = this.#xstartFromEps(xt, t, eps);
        return {
          mean: this.#posteriorMean(predXstart, xt, t),
          variance: tf.clone(pmv.variance),
          logVariance: tf.clone(pmv.logVariance),
          predXstart,
        };
      },
    ));
  }

  /**
   * Converts a prediction between ε, x_0, v, x_{t−1} and the score at (x_t, t) with this chain's
   * coefficients (see `parameterization.ts`).
   *
   * @param value The prediction.
   * @param xt x_t.
   * @param t int32 `[B]`.
   * @param kinds The source and target kinds.
   * @returns The converted prediction.
   *
   * @example ε → x_0 → ε
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { GaussianDiffusion } from "./gaussian_diffusion.ts";
   * import { betaSchedule } from "../math/mod.ts";
   * const d = new GaussianDiffusion({
   *   betas: betaSchedule("cosine", 10), meanType: "eps", varType: "fixed_small", lossType: "mse",
   * });
   * const xt = tf.ones([1, 2]);
   * const t = tf.tensor1d([5], "int32");
   * const x0 = d.convertPrediction(tf.zeros([1, 2]), xt, t, { from: "eps", to: "x0" });
   * const eps = d.convertPrediction(x0, xt, t, { from: "x0", to: "eps" });
   * console.log(Math.abs((await eps.data())[0]!) < 1e-5); // true
   * ```
   */
  convertPrediction(
    value: Tensor,
    xt: Tensor,
    t: Tensor,
    kinds: { from: PredictionKind; to: PredictionKind },
  ): Tensor {
    this.#checkBatch("convert a prediction", xt, t);
    checkSameShape("convert a prediction", value, xt);
    return tf.tidy(() => convertPrediction(value, xt, this.#coefficients(t, xt.rank), kinds));
  }

  // ---------------------------------------------------------------------------------------------

  #trainingLossesAt(
    model: Model,
    x0: Tensor,
    xt: Tensor,
    t: Tensor,
    noise: Tensor,
  ): TrainingLosses | Promise<TrainingLosses> {
    switch (this.lossType) {
      case "kl":
      case "rescaled_kl":
        return andThen(
          this.vbTermsBpd(model, x0, xt, t, { clipDenoised: false }),
          (vb) => {
            vb.predXstart.dispose();
            if (this.lossType === "kl") return { loss: vb.output };
            const loss = tf.tidy(() => tf.mul(vb.output, this.numTimesteps) as Tensor1D);
            vb.output.dispose();
            return { loss };
          },
        );
      case "mse":
      case "rescaled_mse":
        return applyModel(model, xt, t, (s) => this.modelTimesteps(s), (raw) => {
          const [output, varValues] = this.#splitOutput(raw, xt);
          let vb: Tensor1D | undefined;
          if (varValues !== undefined) {
            // Learn the variance with the VLB without letting it move the mean prediction.
            const frozen = tf.concat([stopGradient(output), varValues], -1); // [B, …, 2C]
            const frozenModel: SyncModel = () => frozen;
            const out = this.vbTermsBpd(frozenModel, x0, xt, t, { clipDenoised: false });
            vb = this.lossType === "rescaled_mse"
              ? tf.mul(out.output, this.numTimesteps / 1000.0) as Tensor1D
              : out.output;
          }
          const target = this.#mseTarget(x0, xt, t, noise);
          checkSameShape("compute the mse loss", output, target);
          const mse = meanFlat(tf.square(tf.sub(target, output))); // [B]
          return vb === undefined
            ? { loss: tf.clone(mse), mse }
            : { loss: tf.add(mse, vb) as Tensor1D, mse, vb };
        });
      default: {
        const unknown: never = this.lossType;
        throw new TypeError(`Cannot compute training losses for loss type ${unknown}`);
      }
    }
  }

  #mseTarget(x0: Tensor, xt: Tensor, t: Tensor, noise: Tensor): Tensor {
    switch (this.meanType) {
      case "prev_x":
        return this.#posteriorMean(x0, xt, t);
      case "x0":
        return x0;
      case "eps":
        return noise;
      case "v":
        return vFromXstartEps(x0, noise, this.#coefficients(t, x0.rank));
      default: {
        const unknown: never = this.meanType;
        throw new TypeError(`Cannot build the mse target for mean type ${unknown}`);
      }
    }
  }

  #pMeanVarianceFromOutput(
    raw: Tensor,
    xt: Tensor,
    t: Tensor,
    options: PMeanVarianceOptions,
  ): PMeanVariance {
    return tf.tidy(() => {
      const p = this.#pMeanLogVariance(raw, xt, t, options);
      switch (this.varType) {
        case "learned":
        case "learned_range":
          return { ...p, variance: tf.exp(p.logVariance) };
        case "fixed_large":
          return {
            ...p,
            variance: this.#full(this.tables.fixedLargeVariance, t, xt.shape),
            logVariance: tf.broadcastTo(p.logVariance, [...xt.shape]),
          };
        case "fixed_small":
          return {
            ...p,
            variance: this.#full(this.tables.posteriorVariance, t, xt.shape),
            logVariance: tf.broadcastTo(p.logVariance, [...xt.shape]),
          };
        default: {
          const unknown: never = this.varType;
          throw new TypeError(`Cannot compute the variance for variance type ${unknown}`);
        }
      }
    });
  }

  /**
   * p_θ's mean, log variance and x̂_0 from the model output; the log variance of a fixed variance
   * type stays `[B, 1, …, 1]` (one value per row: the VLB needs no more), a learned one is full.
   */
  #pMeanLogVariance(
    raw: Tensor,
    xt: Tensor,
    t: Tensor,
    options: PMeanVarianceOptions,
  ): { mean: Tensor; logVariance: Tensor; predXstart: Tensor } {
    const { clipDenoised = true, denoisedFn } = options;
    const r = xt.rank;
    const [output, varValues] = this.#splitOutput(raw, xt);
    let logVariance: Tensor;
    switch (this.varType) {
      case "learned":
        logVariance = tf.clone(varValues as Tensor);
        break;
      case "learned_range": {
        const minLog = this.#at(this.tables.posteriorLogVarianceClipped, t, r);
        const maxLog = this.#at(this.tables.logBetas, t, r);
        // The model's value in [−1, 1] maps to [min_var, max_var] on the log scale.
        const frac = tf.div(tf.add(varValues as Tensor, 1), 2); // [B, …]
        logVariance = tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog));
        break;
      }
      case "fixed_large":
        logVariance = this.#at(this.tables.fixedLargeLogVariance, t, r); // [B, 1, …]
        break;
      case "fixed_small":
        logVariance = this.#at(this.tables.posteriorLogVarianceClipped, t, r); // [B, 1, …]
        break;
      default: {
        const unknown: never = this.varType;
        throw new TypeError(`Cannot compute the variance for variance type ${unknown}`);
      }
    }
    const processXstart = (x: Tensor): Tensor => {
      const y = denoisedFn === undefined ? x : denoisedFn(x);
      return clipDenoised ? tf.clipByValue(y, -1, 1) : tf.clone(y);
    };
    let predXstart: Tensor;
    let mean: Tensor;
    switch (this.meanType) {
      case "prev_x":
        predXstart = processXstart(this.#xstartFromXprev(xt, t, output));
        mean = tf.clone(output);
        break;
      case "x0":
        predXstart = processXstart(output);
        mean = this.#posteriorMean(predXstart, xt, t);
        break;
      case "eps":
        predXstart = processXstart(this.#xstartFromEps(xt, t, output));
        mean = this.#posteriorMean(predXstart, xt, t);
        break;
      case "v":
        predXstart = processXstart(xstartFromV(xt, output, this.#coefficients(t, r)));
        mean = this.#posteriorMean(predXstart, xt, t);
        break;
      default: {
        const unknown: never = this.meanType;
        throw new TypeError(`Cannot compute the mean for mean type ${unknown}`);
      }
    }
    return { mean, logVariance, predXstart };
  }

  /** Splits a model output into (mean output, variance values) for learned variances. */
  #splitOutput(raw: Tensor, xt: Tensor): [Tensor, Tensor | undefined] {
    const learned = this.varType === "learned" || this.varType === "learned_range";
    const last = xt.shape[xt.rank - 1] as number;
    const expected = [...xt.shape.slice(0, -1), learned ? 2 * last : last];
    if (raw.rank !== expected.length || raw.shape.some((d, i) => d !== expected[i])) {
      throw new TypeError(
        `Cannot use the model output as its shape is [${raw.shape}] but varType ` +
          `"${this.varType}" needs [${expected}]` +
          (learned ? ": concatenate the variance values after the mean on the last axis" : ""),
      );
    }
    if (!learned) return [raw, undefined];
    const [output, varValues] = tf.split(raw, 2, -1) as [Tensor, Tensor];
    return [output, varValues];
  }

  #posteriorMean(x0: Tensor, xt: Tensor, t: Tensor): Tensor {
    return tf.add(
      tf.mul(this.#at(this.tables.posteriorMeanCoef1, t, xt.rank), x0),
      tf.mul(this.#at(this.tables.posteriorMeanCoef2, t, xt.rank), xt),
    );
  }

  #xstartFromEps(xt: Tensor, t: Tensor, eps: Tensor): Tensor {
    return xstartFromEps(xt, eps, {
      sqrtRecipAlphasCumprod: this.#at(this.tables.sqrtRecipAlphasCumprod, t, xt.rank),
      sqrtRecipm1AlphasCumprod: this.#at(this.tables.sqrtRecipm1AlphasCumprod, t, xt.rank),
    });
  }

  #epsFromXstart(xt: Tensor, t: Tensor, x0: Tensor): Tensor {
    return epsFromXstart(xt, x0, {
      sqrtRecipAlphasCumprod: this.#at(this.tables.sqrtRecipAlphasCumprod, t, xt.rank),
      sqrtRecipm1AlphasCumprod: this.#at(this.tables.sqrtRecipm1AlphasCumprod, t, xt.rank),
    });
  }

  #xstartFromXprev(xt: Tensor, t: Tensor, xprev: Tensor): Tensor {
    return xstartFromXprev(xt, xprev, {
      recipPosteriorMeanCoef1: this.#at(this.tables.recipPosteriorMeanCoef1, t, xt.rank),
      posteriorMeanCoef2OverCoef1: this.#at(this.tables.posteriorMeanCoef2OverCoef1, t, xt.rank),
    });
  }

  #coefficients(t: Tensor, rank: number): StepCoefficients {
    const tb = this.tables;
    return {
      sqrtAlphasCumprod: this.#at(tb.sqrtAlphasCumprod, t, rank),
      sqrtOneMinusAlphasCumprod: this.#at(tb.sqrtOneMinusAlphasCumprod, t, rank),
      sqrtRecipAlphasCumprod: this.#at(tb.sqrtRecipAlphasCumprod, t, rank),
      sqrtRecipm1AlphasCumprod: this.#at(tb.sqrtRecipm1AlphasCumprod, t, rank),
      posteriorMeanCoef1: this.#at(tb.posteriorMeanCoef1, t, rank),
      posteriorMeanCoef2: this.#at(tb.posteriorMeanCoef2, t, rank),
      recipPosteriorMeanCoef1: this.#at(tb.recipPosteriorMeanCoef1, t, rank),
      posteriorMeanCoef2OverCoef1: this.#at(tb.posteriorMeanCoef2OverCoef1, t, rank),
    };
  }

  /**
   * table[t] as float32, shaped `[B, 1, …, 1]` (improved-diffusion `_extract_into_tensor`: the
   * float64 value is gathered, then cast to float32).
   */
  #at(table: Float64Array, t: Tensor, rank: number): Tensor {
    let f32 = this.#f32.get(table);
    if (f32 === undefined) {
      f32 = Float32Array.from(table);
      this.#f32.set(table, f32);
    }
    const values = f32;
    return tf.tidy(() => toBroadcast(tf.gather(tf.tensor1d(values, "float32"), t), rank));
  }

  /** table[t] broadcast to the full shape (improved-diffusion's `.expand(broadcast_shape)`). */
  #full(table: Float64Array, t: Tensor, shape: readonly number[]): Tensor {
    return tf.tidy(() => tf.broadcastTo(this.#at(table, t, shape.length), [...shape]));
  }

  #checkBatch(what: string, x: Tensor, t: Tensor): void {
    if (x.rank < 2) {
      throw new TypeError(
        `Cannot ${what} as the data must have rank >= 2 with the batch first: current shape ` +
          `is [${x.shape}]; reshape flat data to [B, D]`,
      );
    }
    if (t.rank !== 1 || t.dtype !== "int32" || t.shape[0] !== x.shape[0]) {
      throw new TypeError(
        `Cannot ${what} as t must be an int32 tensor of shape [${x.shape[0]}]: current value ` +
          `has dtype ${t.dtype} and shape [${t.shape}]; use tf.tensor1d(steps, "int32")`,
      );
    }
  }

  async #loop<C extends CondFn>(
    kind: "p" | "ddim",
    model: Model,
    shape: readonly number[],
    options: DdimSampleLoopOptions<C>,
  ): Promise<Tensor> {
    const { noise, stepNoise, seed, progress, ...stepOptions } = options;
    if (shape.length < 2 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new TypeError(
        `Cannot sample as the shape must have rank >= 2 and positive integer sizes: current ` +
          `value is [${shape}]`,
      );
    }
    const b = shape[0] as number;
    let img = noise !== undefined
      ? tf.clone(noise)
      : gaussian(shape, seed === undefined ? undefined : deriveSeed(seed, ["x_T"]));
    if (img.rank !== shape.length || img.shape.some((d, i) => d !== shape[i])) {
      img.dispose();
      throw new TypeError(
        `Cannot sample from this starting noise as its shape is [${noise?.shape}] but the ` +
          `sample shape is [${shape}]`,
      );
    }
    const T = this.numTimesteps;
    for (let step = T - 1; step >= 0; step--) {
      const t = tf.fill([b], step, "int32"); // [B]
      const mark = nextTensorId();
      const z = stepNoise !== undefined
        ? stepNoise(step)
        : gaussian(shape, seed === undefined ? undefined : deriveSeed(seed, [kind, step]));
      try {
        const out = kind === "p"
          ? await this.pSample(model, img, t, { ...stepOptions, noise: z })
          : await this.ddimSample(model, img, t, { ...stepOptions, noise: z });
        out.predXstart.dispose();
        img.dispose();
        img = out.sample;
      } finally {
        t.dispose();
        disposeIfCreatedSince(z, mark);
      }
      progress?.(T - step, T);
    }
    return img;
  }
}

function checkMember<T extends string>(name: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw new TypeError(
      `Cannot build a diffusion as '${name}' is unknown: current value is ${
        JSON.stringify(value)
      }; use one of ${allowed.join(", ")}`,
    );
  }
}
