/**
 * elbo — a Deno-native research framework for latent-variable generative models.
 *
 * A model is a typed graph of nodes (encoder, reparameterize, decoder, forward-noise, ε-net)
 * feeding loss terms that add up to a (weighted) negative ELBO. The diffusion math is also usable
 * without the graph, exactly like improved-diffusion's `GaussianDiffusion`.
 *
 * @example The math core from a plain script
 * ```ts
 * import { betaSchedule, GaussianDiffusion, tf } from "./mod.ts";
 * const d = new GaussianDiffusion({
 *   betas: betaSchedule("cosine", 1000),
 *   meanType: "eps",
 *   varType: "fixed_large",
 *   lossType: "mse",
 * });
 * const x0 = tf.zeros([2, 784]);
 * const t = tf.tensor1d([0, 999], "int32");
 * d.qSample(x0, t).shape; // [2, 784]
 * ```
 *
 * @example A graph with one node and one loss
 * ```ts
 * import { compile, defineLoss, defineNode, graph, tf } from "./mod.ts";
 * const lin = defineNode({
 *   name: "linear",
 *   inputs: { x: "B,D" },
 *   outputs: { y: "B,1" },
 *   params: ({ dim }) => ({ w: { shape: [dim("D"), 1], init: "zeros" } }),
 *   fn: ({ x }, { params }) => ({ y: tf.matMul(x, params.w!) }),
 * });
 * const mse = defineLoss({
 *   name: "mse",
 *   inputs: { a: "B,1", b: "B,1" },
 *   fn: ({ a, b }) => tf.squaredDifference(a, b).mean(-1),
 * });
 * const g = graph({ x: "B,2", y: "B,1" })
 *   .add("f", lin, { x: "x" })
 *   .loss("mse", mse, { a: "f.y", b: "y" })
 *   .build();
 * compile(g).parameterCount; // 2
 * ```
 *
 * @module
 */

import * as tfjs from "@tensorflow/tfjs";

/**
 * The TensorFlow.js namespace: one tfjs instance for the framework, user nodes and scripts. For
 * tensor types, use the aliases exported here (`Tensor`, `Variable`, …).
 */
export const tf: typeof tfjs = tfjs;
export type * from "./lib/types.ts";
export * from "./lib/math/mod.ts";
export * from "./lib/diffusion/mod.ts";
/** The VAE-family math (reparameterize, KL, likelihoods, VQ, IWAE, HVAE) as pure functions. */
export * as vae from "./lib/vae/mod.ts";
/** Parameters of a discretized likelihood (also `vae.DiscretizedParams`). */
export type { DiscretizedParams } from "./lib/vae/mod.ts";
export * from "./lib/graph/mod.ts";
export * from "./lib/nodes/mod.ts";
export * from "./lib/train/mod.ts";
export * from "./lib/experiment/mod.ts";
export * from "./lib/data/mod.ts";
export * from "./lib/report/mod.ts";
export * from "./lib/sweep/mod.ts";
export {
  type AdapterInfo,
  type BackendInfo,
  type BackendName,
  type BackendOptions,
  initBackend,
  setBackend,
  type SetBackendOptions,
} from "./lib/backend/mod.ts";
