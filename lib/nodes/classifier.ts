/**
 * Classifier nodes: softmax cross-entropy, and the noisy classifier p(y | x_t, t) of classifier
 * guidance (Dhariwal & Nichol 2021), trained on the forward process's x_t.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { defineLoss, defineNode, type Node } from "../graph/node.ts";
import {
  type Activation,
  dense,
  denseParams,
  hiddenAddingTime,
  sharedTimestep,
  timestepEmbedding,
} from "./layers.ts";

/**
 * Softmax cross-entropy −log softmax(logits)[y], per example `[B]` (nats).
 *
 * @example A classifier's loss
 * ```ts
 * import { crossEntropy } from "./classifier.ts";
 * crossEntropy.spec.inputs; // { logits: "B,K", y: "B" }
 * ```
 */
export const crossEntropy: Node<"logits" | "y", never, "loss"> = defineLoss({
  name: "crossEntropy",
  inputs: { logits: "B,K", y: "B" },
  fn: ({ logits, y }) => {
    const k = logits.shape[1]!;
    const logp = tf.logSoftmax(logits); // [B, K]
    return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(tf.cast(y, "int32"), k)), -1)); // [B]
  },
});

/** Options of {@linkcode noisyClassifier}. */
export interface NoisyClassifierOptions {
  /** Hidden width. */
  hidden: number;
  /** Number of classes K. */
  numClasses: number;
  /** Hidden layers. @default 2 */
  layers?: number;
  /** Time-embedding size. @default 64 */
  timeEmbed?: number;
  /** Nonlinearity. @default "silu" */
  activation?: Activation;
}

/**
 * A classifier of noisy inputs p(y | x_t, t): an MLP on x_t with the sinusoidal time embedding
 * added to every hidden layer. Its gradient ∇_{x_t} log p(y | x_t) guides sampling.
 *
 * @param options Sizes.
 * @returns A node `xt: [B, D]`, `t: [B]` → `logits: [B, K]`.
 *
 * @example A 10-class classifier
 * ```ts
 * import { noisyClassifier } from "./classifier.ts";
 * noisyClassifier({ hidden: 256, numClasses: 10 }).spec.outputs; // { logits: "B,K" }
 * ```
 */
export function noisyClassifier(
  options: NoisyClassifierOptions,
): Node<"xt" | "t", never, "logits"> {
  const H = options.hidden, K = options.numClasses, L = options.layers ?? 2;
  const E = options.timeEmbed ?? 64, act = options.activation ?? "silu";
  return defineNode({
    name: "noisyClassifier",
    inputs: { xt: "B,D", t: "B" },
    outputs: { logits: "B,K" },
    dims: { K },
    config: { hidden: H, numClasses: K, layers: L, timeEmbed: E, activation: act },
    params: ({ dim }) => {
      let p = { ...denseParams("te_", E, H), ...denseParams("in_", dim("D"), H) };
      for (let i = 1; i < L; i++) p = { ...p, ...denseParams(`h${i}_`, H, H) };
      return { ...p, ...denseParams("out_", H, K) };
    },
    fn: ({ xt, t }, { params }) => {
      const temb = dense(timestepEmbedding(sharedTimestep(t), E), params, "te_"); // [B or 1, H]
      const h = hiddenAddingTime(xt, params, L, temb, act); // [B, H]
      return { logits: dense(h, params, "out_") }; // [B, K]
    },
  });
}
