/**
 * The importance-weighted bound (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted
 * Autoencoders", §3): a log-likelihood estimate for any latent-variable model with a
 * proposal q(z | x), computed in chunks of samples.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertInteger, assertMinRank, deriveSeed, fmtShape, withoutGradient } from "./_util.ts";

/**
 * A latent-variable model seen through its proposal. Every method works on a leading sample
 * axis S in front of the batch: z is `[S, B, ...]` and log-densities are `[S, B]`. (To run a
 * decoder that takes `[N, Z]`, reshape z to `[S·B, Z]` and the result back to `[S, B]`.)
 */
export interface ImportanceSampler {
  /**
   * Draws `samples` independent latents per example from q(z | x), seeded by `seed`.
   *
   * @param x the data `[B, ...]`
   * @param options `{ samples, seed }`: S and the seed of this draw
   * @returns z `[S, B, ...]`
   */
  sampleQ(x: Tensor, options: { samples: number; seed: number }): Tensor;
  /**
   * log q(z | x) of every sample.
   *
   * @param x the data `[B, ...]`
   * @param z latents `[S, B, ...]` from `sampleQ`
   * @returns `[S, B]` in nats
   */
  logQ(x: Tensor, z: Tensor): Tensor;
  /**
   * log p(x, z) = log p(x | z) + log p(z) of every sample.
   *
   * @param x the data `[B, ...]`
   * @param z latents `[S, B, ...]` from `sampleQ`
   * @returns `[S, B]` in nats
   */
  logJoint(x: Tensor, z: Tensor): Tensor;
}

/** Options of {@linkcode iwaeLogLikelihood}. */
export interface IwaeOptions {
  /** Number of importance samples k per example. */
  k: number;
  /** Seed of the sampling; chunk i draws with a seed derived from (seed, i). */
  seed: number;
  /**
   * Samples per chunk: bounds memory to one `[chunk, B, ...]` latent tensor at a time.
   *
   * @default {100}
   */
  chunk?: number;
}

/** Result of {@linkcode iwaeLogLikelihood}; every tensor is `[B]`, in nats. */
export type IwaeEstimate = {
  /** The IWAE estimate log (1/k) Σ_i w_i of log p(x), w_i = p(x, z_i) / q(z_i | x). */
  logLikelihood: Tensor;
  /** The ELBO E_q[log w] estimated by the mean of the k values log w_i (the k = 1 bound). */
  elbo: Tensor;
  /** Effective sample size (Σ w)² / Σ w², between 1 and k: how well q covers the posterior. */
  ess: Tensor;
};

/** log(e^a + e^b) elementwise, stable for large |a|, |b|; −∞ when both are −∞. */
function logAddExp(a: Tensor, b: Tensor): Tensor {
  const m = tf.maximum(a, b);
  const finite = withoutGradient((t) => tf.isFinite(t), m);
  const safeM = tf.where(finite, m, tf.zerosLike(m));
  const sum = tf.add(tf.exp(tf.sub(a, safeM)), tf.exp(tf.sub(b, safeM)));
  return tf.where(finite, tf.add(safeM, tf.log(sum)), m);
}

function checkLogDensity(name: string, t: Tensor, samples: number, batch: number): void {
  if (t.rank !== 2 || t.shape[0] !== samples || t.shape[1] !== batch) {
    throw new TypeError(
      `Cannot estimate the IWAE bound as '${name}' must return [S, B] = [${samples}, ${batch}]: ` +
        `current shape is ${fmtShape(t.shape)}`,
    );
  }
}

/**
 * IWAE estimate of log p(x) per example: draw z_1..z_k ~ q(z | x), take
 * log w_i = log p(x, z_i) − log q(z_i | x), and return logsumexp_i(log w_i) − log k (Burda et al.
 * 2016, §3). It is a lower bound in expectation that tightens monotonically in k and tends
 * to log p(x) (their Theorem 1). The k samples are drawn `chunk` at a time and combined with a
 * running log-sum-exp, so memory stays bounded and no weight is exponentiated unshifted.
 *
 * Also returns the ELBO estimate mean_i log w_i (what k = 1 estimates) and the effective sample
 * size of the weights. Published test NLLs of VAEs use k = 5000 (see the NLL tables).
 *
 * @param model `{ sampleQ, logQ, logJoint }` (see {@linkcode ImportanceSampler})
 * @param x the data `[B, ...]`
 * @param options `{ k, seed, chunk }`
 * @returns `{ logLikelihood, elbo, ess }`, each `[B]`, in nats
 *
 * @example A model whose proposal is its prior, with a Gaussian likelihood
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gaussianLogProb, iwaeLogLikelihood } from "./mod.ts";
 *
 * // z ~ N(0, 1), x | z ~ N(z, 1); q(z | x) = p(z). Then log p(x) = log N(x; 0, 2).
 * const model = {
 *   sampleQ: (x: tf.Tensor, o: { samples: number; seed: number }) =>
 *     tf.randomNormal([o.samples, x.shape[0]!, 1], 0, 1, "float32", o.seed),
 *   logQ: (_x: tf.Tensor, z: tf.Tensor) =>
 *     tf.sum(gaussianLogProb(z, { mean: tf.zerosLike(z), logvar: 0 }), 2),
 *   logJoint: (x: tf.Tensor, z: tf.Tensor) =>
 *     tf.sum(tf.add(
 *       gaussianLogProb(tf.broadcastTo(x, z.shape), { mean: z, logvar: 0 }),
 *       gaussianLogProb(z, { mean: tf.zerosLike(z), logvar: 0 }),
 *     ), 2),
 * };
 * const x = tf.tensor2d([[0.5], [-1]]); // [2, 1]
 * const { logLikelihood } = iwaeLogLikelihood(model, x, { k: 200, seed: 0 }); // [2]
 * console.log(logLikelihood.shape); // [2]
 * ```
 */
export function iwaeLogLikelihood(
  model: ImportanceSampler,
  x: Tensor,
  options: IwaeOptions,
): IwaeEstimate {
  const what = "estimate the IWAE bound";
  const { k, seed } = options;
  const chunk = options.chunk ?? 100;
  assertInteger(what, "k", k, 1);
  assertInteger(what, "chunk", chunk, 1);
  if (!Number.isFinite(seed)) {
    throw new RangeError(`Cannot ${what} as 'seed' must be finite: current value is ${seed}`);
  }
  assertMinRank(what, x, "x", 1);
  const batch = x.shape[0] ?? 0;

  // Running accumulators, all [B]: log Σ w, Σ log w, log Σ w².
  let lseW: Tensor | null = null;
  let sumLogW: Tensor | null = null;
  let lseW2: Tensor | null = null;
  for (let start = 0, i = 0; start < k; start += chunk, i++) {
    const samples = Math.min(chunk, k - start);
    const part = tf.tidy(() => {
      const z = model.sampleQ(x, { samples, seed: deriveSeed(seed, i) }); // [S, B, ...]
      const logJoint = model.logJoint(x, z); // [S, B]
      const logQ = model.logQ(x, z); // [S, B]
      checkLogDensity("logJoint", logJoint, samples, batch);
      checkLogDensity("logQ", logQ, samples, batch);
      const logW = tf.sub(logJoint, logQ); // [S, B]
      return {
        lse: tf.logSumExp(logW, 0), // [B]
        sum: tf.sum(logW, 0), // [B]
        lse2: tf.logSumExp(tf.mul(logW, 2), 0), // [B]
      };
    });
    if (lseW === null || sumLogW === null || lseW2 === null) {
      lseW = part.lse;
      sumLogW = part.sum;
      lseW2 = part.lse2;
    } else {
      const prev: Tensor[] = [lseW, sumLogW, lseW2];
      const acc = tf.tidy(() => ({
        lse: logAddExp(lseW as Tensor, part.lse),
        sum: tf.add(sumLogW as Tensor, part.sum),
        lse2: logAddExp(lseW2 as Tensor, part.lse2),
      }));
      tf.dispose([...prev, part.lse, part.sum, part.lse2]);
      lseW = acc.lse;
      sumLogW = acc.sum;
      lseW2 = acc.lse2;
    }
  }
  const [l, s, l2] = [lseW, sumLogW, lseW2] as [Tensor, Tensor, Tensor];
  const out = tf.tidy(() => ({
    logLikelihood: tf.sub(l, Math.log(k)), // [B]
    elbo: tf.div(s, k), // [B]
    ess: tf.exp(tf.sub(tf.mul(l, 2), l2)), // [B]
  }));
  tf.dispose([l, s, l2]);
  return out;
}
