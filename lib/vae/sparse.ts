/**
 * Sparse autoencoders: the KL sparsity penalty on mean activations (Ng, "Sparse autoencoder",
 * CS294A notes, 2011) and the k-sparse bottleneck (Makhzani & Frey 2014, "k-Sparse
 * Autoencoders").
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertInRange, assertInteger, fmtShape, oneHotFloat } from "./_util.ts";

/** Options of {@linkcode sparsityKl}. */
export interface SparsityKlOptions {
  /**
   * Target mean activation ρ of every hidden unit.
   *
   * @default {0.05}
   */
  rho?: number;
  /**
   * ρ̂ is clamped to [eps, 1 − eps] before the logs so a saturated unit gives a large finite
   * penalty instead of ∞.
   *
   * @default {1e-6}
   */
  eps?: number;
}

/**
 * Sparsity penalty Σ_j KL(ρ ‖ ρ̂_j) = Σ_j ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j)), where
 * ρ̂_j is the mean over the batch of the sigmoid activation of hidden unit j (eq. 3 of the seed
 * notes; Ng 2011).
 *
 * ρ̂ is a **batch statistic**, so the penalty is one number for the whole batch. To fit the
 * per-example `[B]` loss convention it is returned broadcast to `[B]` (every entry equal):
 * the mean over the batch is the penalty, and its gradient is the penalty's gradient. Do not
 * sum it over the batch (that would scale it by B), and weight it with β as usual.
 *
 * @param activations sigmoid activations in (0, 1), `[B, H]` (or `[B, ...]`, units flattened)
 * @param options `{ rho, eps }`
 * @returns the penalty broadcast to `[B]`
 *
 * @example Units firing at the target rate cost nothing
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { sparsityKl } from "./mod.ts";
 *
 * const h = tf.fill([4, 3], 0.05);
 * const penalty = sparsityKl(h, { rho: 0.05 }); // [4]
 * console.log(penalty.shape); // [4]
 * ```
 */
export function sparsityKl(activations: Tensor, options: SparsityKlOptions = {}): Tensor {
  const what = "compute the sparsity penalty";
  const rho = options.rho ?? 0.05;
  const eps = options.eps ?? 1e-6;
  assertInRange(what, "rho", rho, { lo: 0, hi: 1, open: true });
  assertInRange(what, "eps", eps, { lo: 0, hi: 0.5, open: true });
  if (activations.rank < 2) {
    throw new TypeError(
      `Cannot ${what} as 'activations' must be [B, H]: current shape is ` +
        `${fmtShape(activations.shape)}`,
    );
  }
  const batch = activations.shape[0] ?? 0;
  return tf.tidy(() => {
    const flat = tf.reshape(activations, [batch, -1]); // [B, H]
    const rhoHat = tf.clipByValue(tf.mean(flat, 0), eps, 1 - eps); // [H]
    const kl = tf.add(
      tf.mul(rho, tf.log(tf.div(rho, rhoHat))),
      tf.mul(1 - rho, tf.log(tf.div(1 - rho, tf.sub(1, rhoHat)))),
    ); // [H]
    return tf.mul(tf.ones([batch]), tf.sum(kl)); // [B], every entry the batch penalty
  });
}

/**
 * k-sparse bottleneck: keeps the k largest activations of each example and sets the rest to 0
 * (Makhzani & Frey 2014). The kept set is a constant mask built from `tf.topk`
 * indices, so the gradient flows through the k kept units only and is exactly 0 elsewhere.
 *
 * @param z activations `[B, H]`
 * @param options `{ k }`: how many units to keep per example, 1 ≤ k ≤ H
 * @returns z with all but the top-k entries of each row zeroed, `[B, H]`
 *
 * @example Keep the 2 largest of 4
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { kSparse } from "./mod.ts";
 *
 * const z = kSparse(tf.tensor2d([[0.1, 0.9, 0.5, 0.3]]), { k: 2 }); // [1, 4]
 * console.log(await z.data()); // Float32Array [0, 0.9, 0.5, 0]
 * ```
 */
export function kSparse(z: Tensor, options: { k: number }): Tensor {
  const what = "apply the k-sparse bottleneck";
  if (z.rank !== 2) {
    throw new TypeError(
      `Cannot ${what} as 'z' must be [B, H]: current shape is ${fmtShape(z.shape)}`,
    );
  }
  const hidden = z.shape[1] ?? 0;
  assertInteger(what, "k", options.k, 1);
  if (options.k > hidden) {
    throw new RangeError(
      `Cannot ${what} as 'k' must be at most the number of units ${hidden}: current value is ` +
        `${options.k}`,
    );
  }
  // The mask is computed inside the custom op, off the gradient tape (TopK has no gradient).
  const op = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as Tensor; // [B, H]
    const save = args[1] as tf.GradSaveFunc;
    const { values, indices } = tf.topk(x, options.k); // [B, k], [B, k] int32
    const mask = tf.sum(oneHotFloat(indices, hidden), 1); // [B, H], 0/1
    values.dispose();
    indices.dispose();
    save([mask]);
    return {
      value: tf.where(tf.greater(mask, 0), x, tf.zerosLike(x)), // [B, H] (no −0 for negatives)
      gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.mul(dy, saved[0] as Tensor)],
    };
  });
  return op(z);
}
