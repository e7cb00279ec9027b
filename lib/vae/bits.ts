/**
 * Converting negative log-likelihoods in nats to bits per dimension.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertInteger } from "./_util.ts";

/** Options of {@linkcode bitsPerDim}. */
export interface BitsPerDimOptions {
  /**
   * Width of one quantisation bin of the data the density was evaluated on. Leave it at 1 when
   * `nats` already is a discrete NLL (Bernoulli, discretized logistic/Gaussian). For a
   * continuous density on dequantized 8-bit data, give the bin width in data units (1/256 on
   * [0, 1], 2/256 on [−1, 1]) and −D·ln(binWidth) nats are added: the change of variables
   * that makes the number an upper bound on the discrete NLL (Theis et al. 2016, "A note on
   * the evaluation of generative models").
   *
   * @default {1}
   */
  binWidth?: number;
}

/**
 * bits/dim = (nats − D·ln binWidth) / (D · ln 2), for a per-example NLL over D dimensions.
 *
 * @param nats negative log-likelihood per example (a number or a `[B]` tensor), in nats
 * @param dims the number of data dimensions D per example (e.g. 784 for 28×28 images)
 * @param options `{ binWidth }`
 * @returns bits per dimension, of the same kind as `nats`
 *
 * @example 543.4 nats on MNIST
 * ```ts
 * import { bitsPerDim } from "./mod.ts";
 *
 * console.log(bitsPerDim(543.4, 784).toFixed(3)); // "1.000"
 * ```
 */
export function bitsPerDim(nats: number, dims: number, options?: BitsPerDimOptions): number;
/**
 * bits/dim of a `[B]` tensor of per-example NLLs in nats (see the number overload).
 *
 * @param nats negative log-likelihood per example, `[B]`, in nats
 * @param dims the number of data dimensions D per example
 * @param options `{ binWidth }`
 * @returns bits per dimension, `[B]`
 *
 * @example Per-example bits/dim
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { bitsPerDim } from "./mod.ts";
 *
 * const bpd = bitsPerDim(tf.tensor1d([543.4, 600]), 784); // [2]
 * console.log(bpd.shape); // [2]
 * ```
 */
export function bitsPerDim(
  nats: Tensor,
  dims: number,
  options?: BitsPerDimOptions,
): Tensor;
export function bitsPerDim(
  nats: number | Tensor,
  dims: number,
  options: BitsPerDimOptions = {},
): number | Tensor {
  const what = "convert nats to bits/dim";
  assertInteger(what, "dims", dims, 1);
  const binWidth = options.binWidth ?? 1;
  if (!(Number.isFinite(binWidth) && binWidth > 0)) {
    throw new RangeError(
      `Cannot ${what} as 'binWidth' must be a positive number: current value is ${binWidth}`,
    );
  }
  const offset = -dims * Math.log(binWidth); // nats added by the change of variables
  const scale = 1 / (dims * Math.LN2);
  if (typeof nats === "number") return (nats + offset) * scale;
  return tf.tidy(() => tf.mul(tf.add(nats, offset), scale)); // [B]
}
