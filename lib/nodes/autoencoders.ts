/**
 * Autoencoder-family nodes (seed 003 §1.1) and the decoder likelihood shared by every VAE-type
 * graph:
 *
 * - corruption of the denoising AE as its own node (masking or Gaussian noise; Vincent et al.
 *   2010) — {@linkcode corrupt};
 * - a one-layer sigmoid encoder that exposes its weight, so penalties can use it —
 *   {@linkcode sigmoidEncoder};
 * - the sparse AE's KL(ρ ‖ ρ̂ⱼ) penalty (Ng 2011) — {@linkcode sparsityPenalty};
 * - the k-sparse bottleneck (Makhzani & Frey 2014) — {@linkcode kSparse};
 * - the contractive AE penalty ‖∂h/∂x‖²_F (Rifai et al. 2011), in its **exact closed form for a
 *   sigmoid layer** (no gradients through gradients) — {@linkcode contractivePenalty};
 * - a decoder likelihood node over a parameter tensor laid out `[..., P·D]` (P parameters per
 *   data dimension on the last axis, e.g. `[means | logScales]`, as improved-diffusion lays out a
 *   learned variance) — {@linkcode decoderNll}, with {@linkcode decoderLikelihood} and
 *   {@linkcode decoderMean} for evaluation code.
 *
 * The plain AE is `mlp` → `mlp` with `squaredError` (`./vae.ts`); the nodes here add what the
 * variants need.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { GraphError } from "../graph/graph.ts";
import { defineLoss, defineNode, type Node } from "../graph/node.ts";
import { contractivePenalty as contractivePenaltyFn } from "../vae/contractive.ts";
import { gaussianNoise, maskingNoise } from "../vae/corruption.ts";
import { type Likelihood, type LikelihoodKind, negLogLikelihood } from "../vae/likelihood.ts";
import { kSparse as kSparseFn, sparsityKl } from "../vae/sparse.ts";
import { dense, denseParams } from "./layers.ts";
import type { Tensor } from "../types.ts";

/** The likelihood types of lib/vae that this module's signatures use. */
export type { Likelihood, LikelihoodKind } from "../vae/likelihood.ts";

/** Which corruption a denoising autoencoder applies. */
export type CorruptionKind = "masking" | "gaussian";

/** Options of {@linkcode corrupt}: the corruption kind and its level. */
export type CorruptionOptions =
  | {
    /** Masking noise: each element is replaced by `fill` with probability `rate`. */
    kind: "masking";
    /** Probability ν that an element is dropped. @default 0.25 */
    rate?: number;
    /** The value a dropped element takes (0 for [0, 1] data, −1 for black in [−1, 1]). @default 0 */
    fill?: number;
  }
  | {
    /** Additive isotropic Gaussian noise x̃ = x + σ ε. */
    kind: "gaussian";
    /** Noise standard deviation σ. @default 0.1 */
    sigma?: number;
  };

/**
 * The corruption x → x̃ of a denoising autoencoder (Vincent et al. 2010; seed 003 eq. 2), as its
 * own node. It corrupts in training and evaluation alike (the DAE objective is a denoising
 * loss); to reconstruct clean inputs, feed `x` to the ref `<name>.corrupted`. Noise comes from
 * the node's random stream, or from the optional input `noise` (uniform draws on [0, 1) for
 * masking, standard normal draws for Gaussian noise).
 *
 * @param options The kind and its level.
 * @returns A node `x: [B, ...]` (+ optional `noise`) → `corrupted: [B, ...]`.
 *
 * @example Masking noise that drops 30% of the pixels to black in [−1, 1]
 * ```ts
 * import { corrupt } from "./autoencoders.ts";
 * corrupt({ kind: "masking", rate: 0.3, fill: -1 }).spec.config; // { kind: "masking", rate: 0.3, fill: -1 }
 * ```
 */
export function corrupt(options: CorruptionOptions): Node<"x", "noise", "corrupted"> {
  switch (options.kind) {
    case "masking": {
      const kind = options.kind, rate = options.rate ?? 0.25, fill = options.fill ?? 0;
      return defineNode({
        name: "corrupt",
        inputs: { x: "B,..." },
        optionalInputs: { noise: "B,..." },
        outputs: { corrupted: "B,..." },
        config: { kind, rate, fill },
        fn: ({ x, noise }, { rng }) => {
          const { corrupted, dropped } = maskingNoise(
            x,
            noise ? { noise, rate } : { seed: rng.nextSeed(), rate },
          );
          return { corrupted: fill === 0 ? corrupted : tf.add(corrupted, tf.mul(dropped, fill)) };
        },
      });
    }
    case "gaussian": {
      const kind = options.kind, sigma = options.sigma ?? 0.1;
      return defineNode({
        name: "corrupt",
        inputs: { x: "B,..." },
        optionalInputs: { noise: "B,..." },
        outputs: { corrupted: "B,..." },
        config: { kind, sigma },
        fn: ({ x, noise }, { rng }) => ({
          corrupted: gaussianNoise(x, noise ? { noise, sigma } : { seed: rng.nextSeed(), sigma })
            .corrupted,
        }),
      });
    }
    default: {
      const never: never = options;
      throw new TypeError(
        `Cannot build corruption node as 'kind' must be "masking" or "gaussian": current value is "${
          (never as { kind: string }).kind
        }"`,
      );
    }
  }
}

/** Options of {@linkcode sigmoidEncoder}. */
export interface SigmoidEncoderOptions {
  /** Number of hidden units H of the code. */
  latent: number;
}

/**
 * A one-layer sigmoid encoder h = σ(x W + b) (the code layer of the sparse and contractive
 * autoencoders). It also outputs its weight W, so {@linkcode contractivePenalty} can evaluate
 * the Jacobian norm in closed form.
 *
 * @param options The code size.
 * @returns A node `x: [B, D]` → `h: [B, H]` in (0, 1), `weight: [D, H]`.
 *
 * @example A 784 → 64 sigmoid code
 * ```ts
 * import { sigmoidEncoder } from "./autoencoders.ts";
 * sigmoidEncoder({ latent: 64 }).spec.outputs; // { h: "B,H", weight: "D,H" }
 * ```
 */
export function sigmoidEncoder(options: SigmoidEncoderOptions): Node<"x", never, "h" | "weight"> {
  const H = options.latent;
  return defineNode({
    name: "sigmoidEncoder",
    inputs: { x: "B,D" },
    outputs: { h: "B,H", weight: "D,H" },
    dims: { H },
    config: { latent: H },
    params: ({ dim }) => denseParams("l0_", dim("D"), H),
    fn: ({ x }, { params }) => ({
      h: tf.sigmoid(dense(x, params, "l0_")), // [B, H]
      weight: params.l0_W!, // [D, H]
    }),
  });
}

/** Options of {@linkcode kSparse}. */
export interface KSparseOptions {
  /** Units kept per example (1 ≤ k ≤ H). */
  k: number;
}

/**
 * The k-sparse bottleneck (Makhzani & Frey 2014): keeps the k largest activations of each
 * example, zeroes the rest; the gradient flows through the kept units only.
 *
 * @param options `k`.
 * @returns A node `z: [B, H]` → `z: [B, H]`.
 *
 * @example Keep 10 units
 * ```ts
 * import { kSparse } from "./autoencoders.ts";
 * kSparse({ k: 10 }).spec.config; // { k: 10 }
 * ```
 */
export function kSparse(options: KSparseOptions): Node<"z", never, "z"> {
  const k = options.k;
  return defineNode({
    name: "kSparse",
    inputs: { z: "B,H" },
    outputs: { z: "B,H" },
    config: { k },
    outputDims: ({ dim }) => {
      if (!Number.isInteger(k) || k < 1 || k > dim("H")) {
        throw new GraphError(
          "shape-mismatch",
          `Cannot build kSparse as 'k' must be an integer in [1, ${
            dim("H")
          }] (the code size): current value is ${k}`,
        );
      }
      return {};
    },
    fn: ({ z }) => ({ z: kSparseFn(z, { k }) }),
  });
}

/** Options of {@linkcode sparsityPenalty}. */
export interface SparsityPenaltyOptions {
  /** Target mean activation ρ. @default 0.05 */
  rho?: number;
}

/**
 * The sparse autoencoder penalty Σⱼ KL(ρ ‖ ρ̂ⱼ), ρ̂ⱼ the batch mean of sigmoid unit j (Ng 2011;
 * seed 003 eq. 3). ρ̂ is a batch statistic: the penalty is returned broadcast to `[B]`, so the
 * framework's batch mean is the penalty itself. Weight it with β in `loss(..., { weight })`.
 *
 * @param options `rho`.
 * @returns A loss node `h: [B, H]` → `[B]` nats.
 *
 * @example ρ = 0.05
 * ```ts
 * import { sparsityPenalty } from "./autoencoders.ts";
 * sparsityPenalty({ rho: 0.05 }).role; // "loss"
 * ```
 */
export function sparsityPenalty(options: SparsityPenaltyOptions = {}): Node<"h", never, "loss"> {
  const rho = options.rho ?? 0.05;
  return defineLoss({
    name: "sparsityPenalty",
    inputs: { h: "B,H" },
    config: { rho },
    fn: ({ h }) => sparsityKl(h, { rho }),
  });
}

/**
 * The contractive autoencoder penalty ‖∂h/∂x‖²_F = Σⱼ (hⱼ(1 − hⱼ))² Σᵢ Wᵢⱼ² per example (Rifai et
 * al. 2011; seed 003 eq. 4): the **exact** squared Frobenius norm of the encoder Jacobian for a
 * sigmoid layer h = σ(x W + b), wired to {@linkcode sigmoidEncoder}'s `h` and `weight`. (A
 * general encoder would need one backward pass per code unit; elbo does not do that.)
 *
 * @example Wire it to a sigmoid encoder
 * ```ts
 * import { contractivePenalty } from "./autoencoders.ts";
 * contractivePenalty.spec.inputs; // { h: "B,H", weight: "D,H" }
 * ```
 */
export const contractivePenalty: Node<"h" | "weight", never, "loss"> = defineLoss({
  name: "contractivePenalty",
  inputs: { h: "B,H", weight: "D,H" },
  fn: ({ h, weight }) => contractivePenaltyFn(h, weight),
});

/** A decoder likelihood: its kind, and σ for `gaussian_fixed`. */
export interface LikelihoodOptions {
  /** The distribution p(x | z). */
  kind: LikelihoodKind;
  /** The fixed standard deviation of `gaussian_fixed`. @default 1 */
  sigma?: number;
}

/**
 * How many parameters per data dimension a likelihood takes from the decoder: 1 for
 * `bernoulli` (logits) and `gaussian_fixed` (mean), 2 for `gaussian` (mean, log-variance) and the
 * discretized likelihoods (means, log-scales).
 *
 * @param kind The likelihood.
 * @returns P, so the decoder emits P·D values.
 *
 * @example
 * ```ts
 * import { likelihoodParamCount } from "./autoencoders.ts";
 * likelihoodParamCount("discretized_logistic"); // 2
 * ```
 */
export function likelihoodParamCount(kind: LikelihoodKind): number {
  switch (kind) {
    case "bernoulli":
    case "gaussian_fixed":
      return 1;
    case "gaussian":
    case "discretized_logistic":
    case "discretized_gaussian":
      return 2;
    default: {
      const never: never = kind;
      throw new TypeError(
        `Cannot count likelihood parameters as the kind is unknown: current value is "${never}"`,
      );
    }
  }
}

/**
 * Reads a decoder's parameter tensor as a likelihood: the last axis holds P blocks of D values
 * (`[logits]`, `[mean]`, `[mean | logvar]` or `[means | logScales]`).
 *
 * @param params The decoder output `[B, ..., P·D]`.
 * @param options The likelihood kind (and σ).
 * @returns The likelihood, ready for `negLogLikelihood(x, ·)` with x `[B, ..., D]`.
 *
 * @example A discretized logistic over 3 dimensions
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { decoderLikelihood } from "./autoencoders.ts";
 * const l = decoderLikelihood(tf.zeros([2, 6]), { kind: "discretized_logistic" });
 * l.kind; // "discretized_logistic"
 * ```
 */
export function decoderLikelihood(params: Tensor, options: LikelihoodOptions): Likelihood {
  const kind = options.kind;
  const p = likelihoodParamCount(kind);
  const last = params.shape[params.rank - 1] ?? 0;
  if (params.rank < 2 || last % p !== 0) {
    throw new TypeError(
      `Cannot read decoder output as a ${kind} likelihood as its last axis must hold ${p} blocks: current shape is [${params.shape}]`,
    );
  }
  const parts = p === 1 ? [params] : tf.split(params, p, -1);
  const a = parts[0]!, b = parts[1]!;
  switch (kind) {
    case "bernoulli":
      return { kind, logits: a };
    case "gaussian_fixed":
      return { kind, mean: a, sigma: options.sigma ?? 1 };
    case "gaussian":
      return { kind, mean: a, logvar: b };
    case "discretized_logistic":
    case "discretized_gaussian":
      return { kind, means: a, logScales: b };
    default: {
      const never: never = kind;
      throw new TypeError(`Cannot read decoder output: unknown likelihood "${never}"`);
    }
  }
}

/**
 * The mean of p(x | z) in data units, for reconstructions and sample grids: σ(logits) for
 * `bernoulli`, the mean for the Gaussians, the location clipped to [−1, 1] for the discretized
 * likelihoods.
 *
 * @param params The decoder output `[B, ..., P·D]`.
 * @param options The likelihood kind.
 * @returns `[B, ..., D]`.
 *
 * @example Bernoulli means
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { decoderMean } from "./autoencoders.ts";
 * decoderMean(tf.zeros([1, 4]), { kind: "bernoulli" }).shape; // [1, 4]
 * ```
 */
export function decoderMean(params: Tensor, options: LikelihoodOptions): Tensor {
  return tf.tidy(() => {
    const l = decoderLikelihood(params, options);
    switch (l.kind) {
      case "bernoulli":
        return tf.sigmoid(l.logits);
      case "gaussian":
      case "gaussian_fixed":
        return tf.clone(l.mean);
      case "discretized_logistic":
      case "discretized_gaussian":
        return tf.clipByValue(l.means, -1, 1);
      default: {
        const never: never = l;
        throw new TypeError(`Cannot take the decoder mean of ${JSON.stringify(never)}`);
      }
    }
  });
}

/**
 * The reconstruction term −log p(x | z) of a VAE-type graph, summed over dimensions (`[B]`
 * nats), for any {@linkcode LikelihoodKind}. The decoder output `params` carries P values per data
 * dimension on its last axis ({@linkcode likelihoodParamCount}); the build fails when the sizes
 * disagree. Data: binarised for `bernoulli`, 8-bit on [−1, 1] for the discretized likelihoods
 * (then the NLL is discrete over 256 levels and its bits/dim compare with diffusion's).
 *
 * @param options The likelihood (and σ for `gaussian_fixed`).
 * @returns A loss node `x: [B, ..., D]`, `params: [B, ..., P·D]` → `[B]`.
 *
 * @example A discretized-logistic decoder on flat MNIST
 * ```ts
 * import { decoderNll } from "./autoencoders.ts";
 * decoderNll({ kind: "discretized_logistic" }).spec.config; // { kind: "discretized_logistic", sigma: 1 }
 * ```
 */
export function decoderNll(options: LikelihoodOptions): Node<"x" | "params", never, "loss"> {
  const kind = options.kind;
  const sigma = options.sigma ?? 1;
  const p = likelihoodParamCount(kind);
  return defineLoss({
    name: "decoderNll",
    inputs: { x: "B,...,D", params: "B,...,Q" },
    config: { kind, sigma },
    outputDims: ({ dim }) => {
      if (dim("Q") !== p * dim("D")) {
        throw new GraphError(
          "shape-mismatch",
          `Cannot wire decoderNll (${kind}) as 'params' must hold ${p} × ${dim("D")} = ${
            p * dim("D")
          } values on its last axis (${p} per data dimension): current value is ${
            dim("Q")
          }; size the decoder's output with likelihoodParamCount("${kind}")`,
        );
      }
      return {};
    },
    fn: ({ x, params }) => negLogLikelihood(x, decoderLikelihood(params, { kind, sigma })),
  });
}
