/**
 * Conversions between what a network can predict at step t: the noise ε, the clean data x_0,
 * the velocity v, the posterior mean x_{t−1}, and the score ∇ log q(x_t).
 *
 * With x_t = √ᾱ x_0 + √(1−ᾱ) ε (Ho et al. 2020, eq. 4):
 * - x_0 = √(1/ᾱ) x_t − √(1/ᾱ − 1) ε and ε = (√(1/ᾱ) x_t − x_0)/√(1/ᾱ − 1) (improved-diffusion
 *   `_predict_xstart_from_eps`, `_predict_eps_from_xstart`, same float32 operation order);
 * - v = √ᾱ ε − √(1−ᾱ) x_0, x_0 = √ᾱ x_t − √(1−ᾱ) v, ε = √(1−ᾱ) x_t + √ᾱ v (Salimans & Ho 2022, §4);
 * - x_{t−1} = coef1 x_0 + coef2 x_t and x_0 = x_{t−1}/coef1 − (coef2/coef1) x_t (eq. 7);
 * - score = −ε/√(1−ᾱ) (Song et al. 2021, eq. 11 with the DDPM marginal).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";

/** A quantity a network can predict. */
export type PredictionKind = "eps" | "x0" | "v" | "prev_x" | "score";

/** Every prediction kind, for validation. */
export const PREDICTION_KINDS: readonly PredictionKind[] = ["eps", "x0", "v", "prev_x", "score"];

/**
 * The float32 schedule coefficients at the batch's timesteps, each `[B, 1, …, 1]` (broadcastable
 * against x_t).
 */
export interface StepCoefficients {
  /** √ᾱ_t. */
  sqrtAlphasCumprod: Tensor;
  /** √(1 − ᾱ_t). */
  sqrtOneMinusAlphasCumprod: Tensor;
  /** √(1/ᾱ_t). */
  sqrtRecipAlphasCumprod: Tensor;
  /** √(1/ᾱ_t − 1). */
  sqrtRecipm1AlphasCumprod: Tensor;
  /** Posterior mean coefficient of x_0. */
  posteriorMeanCoef1: Tensor;
  /** Posterior mean coefficient of x_t. */
  posteriorMeanCoef2: Tensor;
  /** 1/coef1. */
  recipPosteriorMeanCoef1: Tensor;
  /** coef2/coef1. */
  posteriorMeanCoef2OverCoef1: Tensor;
}

/**
 * x̂_0 from ε̂: √(1/ᾱ) x_t − √(1/ᾱ − 1) ε̂ (improved-diffusion `_predict_xstart_from_eps`).
 *
 * @param xt x_t.
 * @param eps ε̂.
 * @param c The coefficients at t.
 * @returns x̂_0.
 *
 * @example At ᾱ = 1/4: x̂_0 = 2 x_t − √3 ε̂
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { xstartFromEps } from "./parameterization.ts";
 * const s = (v: number) => tf.scalar(v);
 * const c = { sqrtRecipAlphasCumprod: s(2), sqrtRecipm1AlphasCumprod: s(Math.sqrt(3)) };
 * console.log(await xstartFromEps(s(1), s(0), c).data()); // Float32Array [2]
 * ```
 */
export function xstartFromEps(
  xt: Tensor,
  eps: Tensor,
  c: Pick<StepCoefficients, "sqrtRecipAlphasCumprod" | "sqrtRecipm1AlphasCumprod">,
): Tensor {
  return tf.tidy(() =>
    tf.sub(tf.mul(c.sqrtRecipAlphasCumprod, xt), tf.mul(c.sqrtRecipm1AlphasCumprod, eps))
  );
}

/**
 * ε̂ from x̂_0: (√(1/ᾱ) x_t − x̂_0)/√(1/ᾱ − 1) (improved-diffusion `_predict_eps_from_xstart`).
 *
 * @param xt x_t.
 * @param x0 x̂_0.
 * @param c The coefficients at t.
 * @returns ε̂.
 *
 * @example Inverse of xstartFromEps
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { epsFromXstart } from "./parameterization.ts";
 * const s = (v: number) => tf.scalar(v);
 * const c = { sqrtRecipAlphasCumprod: s(2), sqrtRecipm1AlphasCumprod: s(Math.sqrt(3)) };
 * console.log(await epsFromXstart(s(1), s(2), c).data()); // Float32Array [0]
 * ```
 */
export function epsFromXstart(
  xt: Tensor,
  x0: Tensor,
  c: Pick<StepCoefficients, "sqrtRecipAlphasCumprod" | "sqrtRecipm1AlphasCumprod">,
): Tensor {
  return tf.tidy(() =>
    tf.div(tf.sub(tf.mul(c.sqrtRecipAlphasCumprod, xt), x0), c.sqrtRecipm1AlphasCumprod)
  );
}

/**
 * x̂_0 from a `prev_x` prediction: x_{t−1}/coef1 − (coef2/coef1) x_t (improved-diffusion
 * `_predict_xstart_from_xprev`).
 *
 * @param xt x_t.
 * @param xprev The predicted posterior mean x̂_{t−1}.
 * @param c The coefficients at t.
 * @returns x̂_0.
 *
 * @example With coef1 = ½, coef2 = ¼
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { xstartFromXprev } from "./parameterization.ts";
 * const s = (v: number) => tf.scalar(v);
 * const c = { recipPosteriorMeanCoef1: s(2), posteriorMeanCoef2OverCoef1: s(0.5) };
 * console.log(await xstartFromXprev(s(2), s(1), c).data()); // Float32Array [1]
 * ```
 */
export function xstartFromXprev(
  xt: Tensor,
  xprev: Tensor,
  c: Pick<StepCoefficients, "recipPosteriorMeanCoef1" | "posteriorMeanCoef2OverCoef1">,
): Tensor {
  return tf.tidy(() =>
    tf.sub(tf.mul(c.recipPosteriorMeanCoef1, xprev), tf.mul(c.posteriorMeanCoef2OverCoef1, xt))
  );
}

/**
 * x̂_0 from a v prediction: √ᾱ x_t − √(1−ᾱ) v̂ (Salimans & Ho 2022, §4).
 *
 * @param xt x_t.
 * @param v v̂.
 * @param c The coefficients at t.
 * @returns x̂_0.
 *
 * @example At ᾱ = ½
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { xstartFromV } from "./parameterization.ts";
 * const h = tf.scalar(Math.SQRT1_2);
 * const c = { sqrtAlphasCumprod: h, sqrtOneMinusAlphasCumprod: h };
 * console.log(await xstartFromV(tf.scalar(1), tf.scalar(1), c).data()); // Float32Array [0]
 * ```
 */
export function xstartFromV(
  xt: Tensor,
  v: Tensor,
  c: Pick<StepCoefficients, "sqrtAlphasCumprod" | "sqrtOneMinusAlphasCumprod">,
): Tensor {
  return tf.tidy(() =>
    tf.sub(tf.mul(c.sqrtAlphasCumprod, xt), tf.mul(c.sqrtOneMinusAlphasCumprod, v))
  );
}

/**
 * The v target: √ᾱ ε − √(1−ᾱ) x_0 (Salimans & Ho 2022, §4).
 *
 * @param x0 x_0.
 * @param eps ε.
 * @param c The coefficients at t.
 * @returns v.
 *
 * @example At ᾱ = ½
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { vFromXstartEps } from "./parameterization.ts";
 * const h = tf.scalar(Math.SQRT1_2);
 * const c = { sqrtAlphasCumprod: h, sqrtOneMinusAlphasCumprod: h };
 * console.log(await vFromXstartEps(tf.scalar(1), tf.scalar(1), c).data()); // Float32Array [0]
 * ```
 */
export function vFromXstartEps(
  x0: Tensor,
  eps: Tensor,
  c: Pick<StepCoefficients, "sqrtAlphasCumprod" | "sqrtOneMinusAlphasCumprod">,
): Tensor {
  return tf.tidy(() =>
    tf.sub(tf.mul(c.sqrtAlphasCumprod, eps), tf.mul(c.sqrtOneMinusAlphasCumprod, x0))
  );
}

/**
 * Converts a prediction of one kind into another at the same (x_t, t). Conversions go through
 * (x̂_0, ε̂), each derived from the source with the most direct formula in the module docs.
 *
 * @param value The prediction.
 * @param xt x_t.
 * @param c The coefficients at t.
 * @param kinds The source and target kinds.
 * @returns The prediction as `kinds.to` (a new tensor).
 *
 * @example ε → score
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { convertPrediction, type StepCoefficients } from "./parameterization.ts";
 * const s = (v: number) => tf.scalar(v);
 * const c: StepCoefficients = {
 *   sqrtAlphasCumprod: s(0.5), sqrtOneMinusAlphasCumprod: s(Math.sqrt(0.75)),
 *   sqrtRecipAlphasCumprod: s(2), sqrtRecipm1AlphasCumprod: s(Math.sqrt(3)),
 *   posteriorMeanCoef1: s(1), posteriorMeanCoef2: s(0), recipPosteriorMeanCoef1: s(1),
 *   posteriorMeanCoef2OverCoef1: s(0),
 * };
 * const score = convertPrediction(s(1), s(0), c, { from: "eps", to: "score" });
 * console.log(Math.abs((await score.data())[0]! + 1 / Math.sqrt(0.75)) < 1e-6); // true
 * ```
 */
export function convertPrediction(
  value: Tensor,
  xt: Tensor,
  c: StepCoefficients,
  kinds: { from: PredictionKind; to: PredictionKind },
): Tensor {
  const { from, to } = kinds;
  if (from === to) return tf.clone(value);
  return tf.tidy(() => {
    let x0: Tensor;
    let eps: Tensor;
    switch (from) {
      case "eps":
        eps = value;
        x0 = xstartFromEps(xt, eps, c);
        break;
      case "x0":
        x0 = value;
        eps = epsFromXstart(xt, x0, c);
        break;
      case "v":
        x0 = xstartFromV(xt, value, c);
        eps = tf.add(tf.mul(c.sqrtOneMinusAlphasCumprod, xt), tf.mul(c.sqrtAlphasCumprod, value));
        break;
      case "prev_x":
        x0 = xstartFromXprev(xt, value, c);
        eps = epsFromXstart(xt, x0, c);
        break;
      case "score":
        eps = tf.neg(tf.mul(c.sqrtOneMinusAlphasCumprod, value));
        x0 = xstartFromEps(xt, eps, c);
        break;
      default: {
        const unknown: never = from;
        throw new TypeError(unknownKind("from", unknown));
      }
    }
    switch (to) {
      case "eps":
        return tf.clone(eps);
      case "x0":
        return tf.clone(x0);
      case "v":
        return vFromXstartEps(x0, eps, c);
      case "prev_x":
        return tf.add(tf.mul(c.posteriorMeanCoef1, x0), tf.mul(c.posteriorMeanCoef2, xt));
      case "score":
        return tf.div(tf.neg(eps), c.sqrtOneMinusAlphasCumprod);
      default: {
        const unknown: never = to;
        throw new TypeError(unknownKind("to", unknown));
      }
    }
  });
}

function unknownKind(which: string, value: unknown): string {
  return `Cannot convert a prediction as '${which}' is unknown: current value is ${
    JSON.stringify(value)
  }; use one of ${PREDICTION_KINDS.join(", ")}`;
}
