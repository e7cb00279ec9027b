/**
 * Input corruptions of the denoising autoencoder (Vincent et al. 2010, "Stacked Denoising
 * Autoencoders"): masking noise and additive isotropic Gaussian noise.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertInRange } from "./_util.ts";
import { drawNoise, type NoiseSource } from "./random.ts";

/** Options of {@linkcode maskingNoise}: the random stream plus the masking rate. */
export type MaskingNoiseOptions = NoiseSource & {
  /**
   * Probability ν that an element is forced to 0 (independently per element).
   *
   * @default {0.25}
   */
  rate?: number;
};

/** Result of {@linkcode maskingNoise}. */
export type Masked = {
  /** The corrupted input x̃: x with the dropped elements set to 0, shaped like x. */
  corrupted: Tensor;
  /** 1 where an element was dropped, 0 where it was kept, shaped like x. */
  dropped: Tensor;
};

/**
 * Masking noise: each element of x is independently set to 0 with probability `rate`
 * (Vincent et al. 2010). Injected `noise` must hold uniform draws on [0, 1); an element
 * is dropped where its draw is below `rate`.
 *
 * @param x clean input `[B, ...]`
 * @param options the random stream (`{ seed }` or `{ noise }`) and `rate`
 * @returns `{ corrupted, dropped }`, both shaped like `x`
 *
 * @example Drop a quarter of the pixels
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { maskingNoise } from "./mod.ts";
 *
 * const { corrupted } = maskingNoise(tf.ones([2, 8]), { seed: 3, rate: 0.25 }); // [2, 8]
 * console.log(corrupted.shape); // [2, 8]
 * ```
 */
export function maskingNoise(x: Tensor, options: MaskingNoiseOptions): Masked {
  const what = "apply masking noise";
  const rate = options.rate ?? 0.25;
  assertInRange(what, "rate", rate, { lo: 0, hi: 1 });
  const u = drawNoise(options, x.shape, { kind: "uniform", what }); // [B, ...]
  const out = tf.tidy(() => {
    const dropped = tf.where(tf.less(u, rate), tf.onesLike(u), tf.zerosLike(u)); // [B, ...] 0/1
    const corrupted = tf.mul(x, tf.sub(1, dropped)); // [B, ...]
    return { corrupted, dropped };
  });
  u.dispose();
  return out;
}

/** Options of {@linkcode gaussianNoise}: the random stream plus the noise level. */
export type GaussianNoiseOptions = NoiseSource & {
  /**
   * Standard deviation σ of the additive noise.
   *
   * @default {0.1}
   */
  sigma?: number;
};

/** Result of {@linkcode gaussianNoise}. */
export type Noised = {
  /** The corrupted input x̃ = x + σ ε, shaped like x. */
  corrupted: Tensor;
  /** The standard normal draws ε, shaped like x. */
  noise: Tensor;
};

/**
 * Additive isotropic Gaussian corruption x̃ = x + σ ε, ε ~ N(0, I) (Vincent et al. 2010).
 * Injected `noise` must hold standard normal draws.
 *
 * @param x clean input `[B, ...]`
 * @param options the random stream (`{ seed }` or `{ noise }`) and `sigma`
 * @returns `{ corrupted, noise }`, both shaped like `x`
 *
 * @example Corrupt with σ = 0.3
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gaussianNoise } from "./mod.ts";
 *
 * const { corrupted } = gaussianNoise(tf.zeros([2, 8]), { seed: 3, sigma: 0.3 }); // [2, 8]
 * console.log(corrupted.shape); // [2, 8]
 * ```
 */
export function gaussianNoise(x: Tensor, options: GaussianNoiseOptions): Noised {
  const what = "apply Gaussian noise";
  const sigma = options.sigma ?? 0.1;
  assertInRange(what, "sigma", sigma, { lo: 0, hi: Number.MAX_VALUE });
  const noise = drawNoise(options, x.shape, { kind: "normal", what }); // [B, ...]
  const corrupted = tf.tidy(() => tf.add(x, tf.mul(noise, sigma))); // [B, ...]
  return { corrupted, noise };
}
