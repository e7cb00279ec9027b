/**
 * The contractive autoencoder penalty (Rifai et al. 2011, "Contractive Auto-Encoders").
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { fmtShape } from "./_util.ts";

/**
 * Exact squared Frobenius norm of the Jacobian of a sigmoid layer h = σ(x W + b) with respect to
 * its input, per example: ‖∂h/∂x‖²_F = Σ_j (h_j (1 − h_j))² Σ_i W_ij² (Rifai et al. 2011;
 * eq. 4 of the seed notes). Computed from the layer's output and weights in O(B·H + D·H), with
 * no Jacobian materialised.
 *
 * @param h the layer's sigmoid output σ(x W + b), `[B, H]`
 * @param weight the layer's weight W (row-vector convention x W), `[D, H]`
 * @returns ‖J‖²_F per example, `[B]`
 *
 * @example Penalty of a 3 → 2 sigmoid layer
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { contractivePenalty } from "./mod.ts";
 *
 * const w = tf.tensor2d([[1, 0], [0, 1], [1, 1]]); // [3, 2]
 * const h = tf.sigmoid(tf.matMul(tf.ones([4, 3]), w)); // [4, 2]
 * const penalty = contractivePenalty(h, w); // [4]
 * console.log(penalty.shape); // [4]
 * ```
 */
export function contractivePenalty(h: Tensor, weight: Tensor): Tensor {
  const what = "compute the contractive penalty";
  if (h.rank !== 2 || weight.rank !== 2 || h.shape[1] !== weight.shape[1]) {
    throw new TypeError(
      `Cannot ${what} as 'h' must be [B, H] and 'weight' [D, H]: current shapes are ` +
        `${fmtShape(h.shape)} and ${fmtShape(weight.shape)}`,
    );
  }
  return tf.tidy(() => {
    const dh = tf.square(tf.mul(h, tf.sub(1, h))); // [B, H] (σ'(a_j))²
    const wNorms = tf.sum(tf.square(weight), 0); // [H] Σ_i W_ij²
    return tf.sum(tf.mul(dh, wNorms), 1); // [B]
  });
}
