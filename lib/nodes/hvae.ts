/**
 * The two-level Markovian hierarchical VAE (seed 002; Luo 2022, "Understanding Diffusion
 * Models", §Hierarchical VAEs) as graph pieces:
 * p(x, z1, z2) = p(x | z1) p(z1 | z2) N(z2; 0, I), q(z1, z2 | x) = q(z1 | x) q(z2 | z1).
 *
 * Every Gaussian conditional is an `mlpEncoder` (`./vae.ts`) wired to its parent, and every
 * sample a `reparameterize`; this file adds the one term those do not cover, the first-level
 * KL estimate. The negative ELBO splits per level into three loss terms:
 *
 * ```text
 * rec = −log p(x | z1)                                  decoderNll
 * kl1 = log q(z1 | x) − log p(z1 | z2)   (one sample)    hvaeKl1
 * kl2 = KL(q(z2 | z1) ‖ N(0, I))         (analytic)      klStdNormal
 * ```
 *
 * @example The wiring (MLP sizes for binarised MNIST)
 * ```ts
 * import { graph } from "../graph/mod.ts";
 * import { decoderNll, hvaeKl1, klStdNormal, mlp, mlpEncoder, reparameterize } from "./mod.ts";
 * const g = graph({ x: "B,784" })
 *   .add("enc1", mlpEncoder({ hidden: [256], latent: 32 }), { x: "x" }) // q(z1 | x)
 *   .add("z1", reparameterize(), { mu: "enc1.mu", logvar: "enc1.logvar" })
 *   .add("enc2", mlpEncoder({ hidden: [128], latent: 16 }), { x: "z1.z" }) // q(z2 | z1)
 *   .add("z2", reparameterize(), { mu: "enc2.mu", logvar: "enc2.logvar" })
 *   .add("prior1", mlpEncoder({ hidden: [128], latent: 32 }), { x: "z2.z" }) // p(z1 | z2)
 *   .add("dec", mlp({ hidden: [256], out: 784 }), { x: "z1.z" }) // p(x | z1) logits
 *   .loss("rec", decoderNll({ kind: "bernoulli" }), { x: "x", params: "dec.y" })
 *   .loss("kl1", hvaeKl1(), {
 *     z: "z1.z", qMu: "enc1.mu", qLogvar: "enc1.logvar", pMu: "prior1.mu", pLogvar: "prior1.logvar",
 *   })
 *   .loss("kl2", klStdNormal, { mu: "enc2.mu", logvar: "enc2.logvar" })
 *   .build();
 * g.losses.length; // 3
 * ```
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { defineLoss, type Node } from "../graph/node.ts";
import type { Kl1Estimator } from "../vae/hvae.ts";
import { gaussianLogProb } from "../vae/likelihood.ts";
import type { Tensor } from "../types.ts";

/** The estimator type of lib/vae that {@linkcode HvaeKl1Options} uses. */
export type { Kl1Estimator } from "../vae/hvae.ts";

/** Options of {@linkcode hvaeKl1}. */
export interface HvaeKl1Options {
  /** How the term is estimated (see `Kl1Estimator` in `lib/vae`). @default "mc" */
  estimator?: Kl1Estimator;
}

/** Σ over the latent axis of log N(z; μ, diag exp(logvar)), `[B]`. */
function logDensity(z: Tensor, mean: Tensor, logvar: Tensor): Tensor {
  return tf.sum(gaussianLogProb(z, { mean, logvar }), -1); // [B]
}

/**
 * The first-level term of the two-level HVAE's negative ELBO, one-sample:
 * kl1 = E_q[log q(z1 | x) − log p(z1 | z2)] (Luo 2022, eq. 31 with T = 2), with q(z1 | x) =
 * N(qMu, diag e^qLogvar) and the conditional prior p(z1 | z2) = N(pMu, diag e^pLogvar) evaluated at
 * the sampled z2. `"mc"` evaluates both log-densities at the sample z1; `"analytic_entropy"`
 * replaces log q(z1 | x) by −H[q(z1 | x)] in closed form. It cannot be fully analytic since
 * p(z1 | z2) moves with z2 ~ q(z2 | z1); a single estimate may be negative. Same math as
 * `hvaeElbo(...).kl1` in `lib/vae`.
 *
 * @param options The estimator.
 * @returns A loss node `z, qMu, qLogvar, pMu, pLogvar: [B, Z]` → `[B]` nats.
 *
 * @example With the closed-form entropy
 * ```ts
 * import { hvaeKl1 } from "./hvae.ts";
 * hvaeKl1({ estimator: "analytic_entropy" }).spec.config; // { estimator: "analytic_entropy" }
 * ```
 */
export function hvaeKl1(
  options: HvaeKl1Options = {},
): Node<"z" | "qMu" | "qLogvar" | "pMu" | "pLogvar", never, "loss"> {
  const estimator = options.estimator ?? "mc";
  return defineLoss({
    name: "hvaeKl1",
    inputs: { z: "B,Z", qMu: "B,Z", qLogvar: "B,Z", pMu: "B,Z", pLogvar: "B,Z" },
    config: { estimator },
    fn: ({ z, qMu, qLogvar, pMu, pLogvar }) => {
      const logP = logDensity(z, pMu, pLogvar); // [B] log p(z1 | z2)
      switch (estimator) {
        case "mc":
          return tf.sub(logDensity(z, qMu, qLogvar), logP); // [B]
        case "analytic_entropy": {
          const negEntropy = tf.mul(tf.sum(tf.add(qLogvar, 1 + Math.log(2 * Math.PI)), -1), -0.5);
          return tf.sub(negEntropy, logP); // [B]
        }
        default: {
          const never: never = estimator;
          throw new TypeError(
            `Cannot compute hvaeKl1 as 'estimator' must be "mc" or "analytic_entropy": current value is "${never}"`,
          );
        }
      }
    },
  });
}
