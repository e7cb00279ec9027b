/**
 * VQ-VAE vector quantisation (van den Oord et al. 2017, "Neural Discrete Representation
 * Learning", §3.1–3.2): nearest-codebook lookup, the straight-through estimator, the codebook
 * and commitment losses, and codebook usage statistics.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { fmtShape, oneHotFloat, stopGradient, sumNonBatch, withoutGradient } from "./_util.ts";

/** Result of {@linkcode vectorQuantize}. */
export type Quantized = {
  /** The nearest codebook vectors e_k, shaped like `ze`; differentiable w.r.t. the codebook only. */
  zq: Tensor;
  /** Index k of the nearest code of every vector, int32, `ze.shape` without the last axis. */
  indices: Tensor;
  /**
   * The straight-through output ze + sg(zq − ze): equal to `zq` in value, with gradient identity
   * to `ze` and zero to the codebook. Feed this to the decoder.
   */
  zqST: Tensor;
};

function checkCodebook(what: string, ze: Tensor, codebook: Tensor): void {
  const dim = ze.shape[ze.rank - 1];
  if (ze.rank < 2 || codebook.rank !== 2 || codebook.shape[1] !== dim) {
    throw new TypeError(
      `Cannot ${what} as 'ze' must be [..., D] with rank >= 2 and 'codebook' [K, D]: current ` +
        `shapes are ${fmtShape(ze.shape)} and ${fmtShape(codebook.shape)}`,
    );
  }
}

/**
 * Nearest-neighbour indices of the rows of `flat` `[N, D]` in `codebook` `[K, D]`, using
 * ‖a − e‖² = ‖a‖² − 2 a·e + ‖e‖² (one matmul instead of an [N, K, D] difference; the transpose
 * is explicit because tfjs-wasm's transposed matmul is slow).
 */
function nearestCodes(flat: Tensor, codebook: Tensor): Tensor {
  const dist = tf.add(
    tf.sub(tf.sum(tf.square(flat), 1, true), tf.mul(tf.matMul(flat, tf.transpose(codebook)), 2)),
    tf.reshape(tf.sum(tf.square(codebook), 1), [1, -1]),
  ); // [N, K]
  return tf.argMin(dist, 1); // [N] int32
}

/**
 * Quantises every vector of `ze` (last axis) to its nearest codebook row in Euclidean distance
 * (van den Oord et al. 2017, eq. 1–2). Works on `[B, D]` and `[B, H, W, D]` (any rank ≥ 2).
 *
 * `zq` is gathered as one-hot · codebook, so it is differentiable w.r.t. the codebook on every
 * backend (no UnsortedSegmentSum); the index search runs off the gradient tape. Ties go to the
 * lowest index.
 *
 * @param ze encoder outputs `[..., D]`
 * @param codebook the K code vectors `[K, D]`
 * @returns `{ zq, indices, zqST }`
 *
 * @example Quantise two vectors to a 3-code book
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { vectorQuantize } from "./mod.ts";
 *
 * const codebook = tf.tensor2d([[0, 0], [1, 1], [-1, 1]]); // [3, 2]
 * const ze = tf.tensor2d([[0.9, 1.2], [-0.1, 0.2]]); // [2, 2]
 * const { indices } = vectorQuantize(ze, codebook);
 * console.log(await indices.data()); // Int32Array [1, 0]
 * ```
 */
export function vectorQuantize(ze: Tensor, codebook: Tensor): Quantized {
  checkCodebook("quantise", ze, codebook);
  const dim = codebook.shape[1] ?? 0;
  const numCodes = codebook.shape[0] ?? 0;
  return tf.tidy(() => {
    const flat = tf.reshape(ze, [-1, dim]); // [N, D]
    const idx = withoutGradient((f, c) => nearestCodes(f, c), flat, codebook); // [N] int32
    const encodings = oneHotFloat(idx, numCodes); // [N, K]
    const zq = tf.reshape(tf.matMul(encodings, codebook), ze.shape); // [..., D]
    const zqST = tf.add(ze, stopGradient(tf.sub(zq, ze))); // [..., D]
    const indices = tf.reshape(idx, ze.shape.slice(0, -1)); // [...]
    return { zq, indices, zqST };
  });
}

/** Options of {@linkcode vqLosses}. */
export interface VqLossOptions {
  /**
   * Commitment weight β (van den Oord et al. 2017 use 0.25).
   *
   * @default {0.25}
   */
  beta?: number;
}

/** Result of {@linkcode vqLosses}; both `[B]`. */
export type VqLosses = {
  /** Codebook loss ‖sg(ze) − e‖² per example: its gradient moves only the codebook. */
  codebook: Tensor;
  /** Commitment loss β‖ze − sg(e)‖² per example: its gradient moves only the encoder output. */
  commitment: Tensor;
};

/**
 * The VQ-VAE codebook and commitment losses per example (van den Oord et al. 2017, eq. 3):
 * codebook = ‖sg[ze] − e‖², commitment = β‖ze − sg[e]‖², each summed over every axis but the
 * first (so they add to a summed reconstruction NLL in nats). Sonnet's `VectorQuantizer`
 * averages over all elements instead: divide by the per-example element count to match it.
 * With the EMA codebook update ({@linkcode emaCodebookUpdate}) use only `commitment`.
 *
 * @param ze encoder outputs `[B, ..., D]`
 * @param zq the quantised vectors from {@linkcode vectorQuantize} (its `zq`, not `zqST`)
 * @param options `{ beta }`
 * @returns `{ codebook, commitment }`, both `[B]`
 *
 * @example The two losses of a quantised batch
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { vectorQuantize, vqLosses } from "./mod.ts";
 *
 * const codebook = tf.tensor2d([[0, 0], [1, 1]]);
 * const ze = tf.tensor2d([[0.9, 1.2], [-0.1, 0.2]]);
 * const { zq } = vectorQuantize(ze, codebook);
 * const { codebook: cb, commitment } = vqLosses(ze, zq, { beta: 0.25 }); // [2], [2]
 * console.log(cb.shape, commitment.shape); // [2] [2]
 * ```
 */
export function vqLosses(ze: Tensor, zq: Tensor, options: VqLossOptions = {}): VqLosses {
  const beta = options.beta ?? 0.25;
  if (!(Number.isFinite(beta) && beta >= 0)) {
    throw new RangeError(
      `Cannot compute the VQ losses as 'beta' must be a non-negative number: current value is ` +
        `${beta}`,
    );
  }
  if (ze.rank < 2 || ze.rank !== zq.rank || ze.shape.some((d, i) => d !== zq.shape[i])) {
    throw new TypeError(
      `Cannot compute the VQ losses as 'ze' and 'zq' must have the same shape [B, ..., D]: ` +
        `current shapes are ${fmtShape(ze.shape)} and ${fmtShape(zq.shape)}`,
    );
  }
  return tf.tidy(() => {
    const codebook = sumNonBatch(tf.square(tf.sub(stopGradient(ze), zq))); // [B]
    const commitment = tf.mul(sumNonBatch(tf.square(tf.sub(ze, stopGradient(zq)))), beta); // [B]
    return { codebook, commitment };
  });
}

/** Result of {@linkcode codebookUsage}. */
export type CodebookUsage = {
  /** How many vectors chose each code, `[K]` (float32). */
  counts: Tensor;
  /**
   * Perplexity exp(−Σ_k p_k log(p_k + 1e-10)) of the code frequencies p = counts / N, a scalar:
   * K when all codes are used equally, 1 when one code takes everything (as in Sonnet).
   */
  perplexity: Tensor;
  /** Fraction of the K codes chosen at least once, a scalar. */
  usedFraction: Tensor;
};

/**
 * Codebook usage of a batch of code indices: per-code counts, the perplexity of the code
 * frequencies, and the fraction of codes in use.
 *
 * @param indices code indices (int32, any shape), e.g. `vectorQuantize(...).indices`
 * @param numCodes the codebook size K
 * @returns `{ counts [K], perplexity, usedFraction }`
 *
 * @example Two codes used equally out of four
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { codebookUsage } from "./mod.ts";
 *
 * const { perplexity, usedFraction } = codebookUsage(tf.tensor1d([0, 1, 0, 1], "int32"), 4);
 * console.log(await perplexity.data(), await usedFraction.data()); // ≈ [2], [0.5]
 * ```
 */
export function codebookUsage(indices: Tensor, numCodes: number): CodebookUsage {
  if (!Number.isInteger(numCodes) || numCodes < 1) {
    throw new RangeError(
      `Cannot compute codebook usage as 'numCodes' must be a positive integer: current value ` +
        `is ${numCodes}`,
    );
  }
  if (indices.dtype !== "int32") {
    throw new TypeError(
      `Cannot compute codebook usage as 'indices' must be int32: current dtype is ` +
        `${indices.dtype}`,
    );
  }
  return tf.tidy(() => {
    const flat = tf.reshape(indices, [-1]); // [N]
    const counts = tf.sum(oneHotFloat(flat, numCodes), 0); // [K]
    const p = tf.div(counts, Math.max(flat.size, 1)); // [K]
    const perplexity = tf.exp(tf.neg(tf.sum(tf.mul(p, tf.log(tf.add(p, 1e-10)))))); // []
    const usedFraction = tf.mean(tf.where(tf.greater(counts, 0), tf.scalar(1), tf.scalar(0)));
    return { counts, perplexity, usedFraction };
  });
}
