/**
 * VAE nodes (Kingma & Welling 2014): an MLP encoder emitting μ and log σ², the reparameterisation
 * z = μ + σ ⊙ ε, MLP decoders with Bernoulli-logit or Gaussian-mean outputs, a plain MLP, and
 * the loss terms of the negative ELBO (reconstruction NLL and analytic KL), each `[B]` in nats.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { defineLoss, defineNode, type Node } from "../graph/node.ts";
import { klStdNormal as klStdNormalFn } from "../vae/kl.ts";
import { negLogLikelihood } from "../vae/likelihood.ts";
import { reparameterize as reparameterizeFn } from "../vae/reparameterize.ts";
import { activate, type Activation, mlpForward as mlpApply, mlpParams } from "./layers.ts";
import type { Tensor } from "../types.ts";

/** Options of an MLP node. */
export interface MlpOptions {
  /** Hidden layer sizes. */
  hidden: number[];
  /** Output size. */
  out: number;
  /** Hidden nonlinearity. @default "relu" */
  activation?: Activation;
  /** Nonlinearity on the output. @default "linear" */
  outActivation?: Activation;
}

function mlpNode<I extends string, O extends string>(
  kind: string,
  input: I,
  output: O,
  o: MlpOptions,
): Node<I, never, O> {
  const act = o.activation ?? "relu";
  const outAct = o.outActivation ?? "linear";
  const layers = o.hidden.length + 1;
  return defineNode<I, O>({
    name: kind,
    inputs: { [input]: "B,D" } as Record<I, string>,
    outputs: { [output]: "B,O" } as Record<O, string>,
    dims: { O: o.out },
    config: { hidden: o.hidden, out: o.out, activation: act, outActivation: outAct },
    params: ({ dim }) => mlpParams([dim("D"), ...o.hidden, o.out]),
    fn: (inputs, { params }) =>
      ({
        [output]: activate(mlpApply(inputs[input] as Tensor, params, layers, act), outAct),
      }) as Record<O, Tensor>,
  });
}

/**
 * A multilayer perceptron `x → y` (autoencoder encoders and decoders, classifiers).
 *
 * @param options Sizes and activations.
 * @returns A node with input `x: [B, D]` and output `y: [B, out]`.
 *
 * @example An encoder to 16 units
 * ```ts
 * import { mlp } from "./vae.ts";
 * mlp({ hidden: [128], out: 16 }).spec.name; // "mlp"
 * ```
 */
export function mlp(options: MlpOptions): Node<"x", never, "y"> {
  return mlpNode("mlp", "x", "y", options);
}

/** Options of {@linkcode mlpEncoder}. */
export interface EncoderOptions {
  /** Hidden layer sizes. */
  hidden: number[];
  /** Latent size Z. */
  latent: number;
  /** Hidden nonlinearity. @default "relu" */
  activation?: Activation;
}

/**
 * A Gaussian encoder q(z|x) = N(μ, diag σ²): an MLP whose last layer emits [μ | log σ²]. Emitting
 * log σ² (not σ) keeps the variance positive without a constraint (seed 000).
 *
 * @param options Sizes and activation.
 * @returns A node `x: [B, D]` → `mu, logvar: [B, Z]`; `logvar` must be consumed.
 *
 * @example A 784 → 512 → 2×32 encoder
 * ```ts
 * import { mlpEncoder } from "./vae.ts";
 * mlpEncoder({ hidden: [512], latent: 32 }).spec.outputs; // { mu: "B,Z", logvar: "B,Z" }
 * ```
 */
export function mlpEncoder(options: EncoderOptions): Node<"x", never, "mu" | "logvar"> {
  const act = options.activation ?? "relu";
  const z = options.latent;
  const layers = options.hidden.length + 1;
  return defineNode({
    name: "mlpEncoder",
    inputs: { x: "B,D" },
    outputs: { mu: "B,Z", logvar: "B,Z" },
    dims: { Z: z },
    mustConsume: ["logvar"],
    config: { hidden: options.hidden, latent: z, activation: act },
    params: ({ dim }) => mlpParams([dim("D"), ...options.hidden, 2 * z]),
    fn: ({ x }, { params }) => {
      const h = mlpApply(x, params, layers, act); // [B, 2Z]
      const [mu, logvar] = tf.split(h, 2, -1);
      return { mu: mu!, logvar: logvar! };
    },
  });
}

/**
 * The reparameterisation z = μ + exp(½ log σ²) ⊙ ε, ε ~ N(0, I), drawn from the node's random
 * stream, or taken from the optional input `eps` (tests, common random numbers).
 *
 * @returns A node `mu, logvar: [B, Z]` (+ optional `eps`) → `z, eps: [B, Z]`.
 *
 * @example Wire it after an encoder
 * ```ts
 * import { reparameterize } from "./vae.ts";
 * reparameterize().spec.optionalInputs; // { eps: "B,Z" }
 * ```
 */
export function reparameterize(): Node<"mu" | "logvar", "eps", "z" | "eps"> {
  return defineNode({
    name: "reparameterize",
    inputs: { mu: "B,Z", logvar: "B,Z" },
    optionalInputs: { eps: "B,Z" },
    outputs: { z: "B,Z", eps: "B,Z" },
    fn: ({ mu, logvar, eps }, { rng }) =>
      reparameterizeFn(mu, logvar, eps ? { noise: eps } : { seed: rng.nextSeed() }),
  });
}

/** Options of the MLP decoders. */
export interface DecoderOptions {
  /** Hidden layer sizes. */
  hidden: number[];
  /** Output size D (e.g. 784). */
  out: number;
  /** Hidden nonlinearity. @default "relu" */
  activation?: Activation;
}

/**
 * An MLP decoder p(x|z) with Bernoulli outputs, given as logits.
 *
 * @param options Sizes and activation.
 * @returns A node `z: [B, Z]` → `logits: [B, out]`.
 *
 * @example A 32 → 512 → 784 decoder
 * ```ts
 * import { bernoulliDecoder } from "./vae.ts";
 * bernoulliDecoder({ hidden: [512], out: 784 }).spec.outputs; // { logits: "B,O" }
 * ```
 */
export function bernoulliDecoder(options: DecoderOptions): Node<"z", never, "logits"> {
  return mlpNode("bernoulliDecoder", "z", "logits", { ...options });
}

/**
 * An MLP decoder p(x|z) with Gaussian outputs: the mean (pair it with a fixed σ or a learned
 * log-variance in {@linkcode gaussianNll}).
 *
 * @param options Sizes and activation.
 * @returns A node `z: [B, Z]` → `mean: [B, out]`.
 *
 * @example A Gaussian decoder
 * ```ts
 * import { gaussianDecoder } from "./vae.ts";
 * gaussianDecoder({ hidden: [512], out: 784 }).spec.name; // "gaussianDecoder"
 * ```
 */
export function gaussianDecoder(options: DecoderOptions): Node<"z", never, "mean"> {
  return mlpNode("gaussianDecoder", "z", "mean", { ...options });
}

/**
 * Bernoulli negative log-likelihood −log p(x|logits), summed over dimensions: `[B]` nats.
 *
 * @example Wire it to a decoder
 * ```ts
 * import { bernoulliNll } from "./vae.ts";
 * bernoulliNll.role; // "loss"
 * ```
 */
export const bernoulliNll: Node<"x" | "logits", never, "loss"> = defineLoss({
  name: "bernoulliNll",
  inputs: { x: "B,...", logits: "B,..." },
  fn: ({ x, logits }) => negLogLikelihood(x, { kind: "bernoulli", logits }),
});

/**
 * Gaussian negative log-likelihood, summed over dimensions: `[B]` nats. With the optional input
 * `logvar` the variance is learned; otherwise σ is fixed.
 *
 * @param options `sigma`, the fixed standard deviation (default 1).
 * @returns A loss node.
 *
 * @example Fixed σ = 0.1
 * ```ts
 * import { gaussianNll } from "./vae.ts";
 * gaussianNll({ sigma: 0.1 }).spec.config; // { sigma: 0.1 }
 * ```
 */
export function gaussianNll(
  options: { sigma?: number } = {},
): Node<"x" | "mean", "logvar", "loss"> {
  const sigma = options.sigma ?? 1;
  return defineLoss({
    name: "gaussianNll",
    inputs: { x: "B,...", mean: "B,..." },
    optionalInputs: { logvar: "B,..." },
    config: { sigma },
    fn: ({ x, mean, logvar }) =>
      negLogLikelihood(
        x,
        logvar ? { kind: "gaussian", mean, logvar } : { kind: "gaussian_fixed", mean, sigma },
      ),
  });
}

/**
 * Squared error Σ_d (x − x̂)², per example `[B]` (a Gaussian NLL up to scale and constant).
 *
 * @example Autoencoder reconstruction
 * ```ts
 * import { squaredError } from "./vae.ts";
 * squaredError.spec.inputs; // { x: "B,...", xHat: "B,..." }
 * ```
 */
export const squaredError: Node<"x" | "xHat", never, "loss"> = defineLoss({
  name: "squaredError",
  inputs: { x: "B,...", xHat: "B,..." },
  fn: ({ x, xHat }) => {
    const d = tf.squaredDifference(x, xHat);
    return tf.sum(tf.reshape(d, [d.shape[0]!, -1]), -1);
  },
});

/**
 * Analytic KL(N(μ, diag σ²) ‖ N(0, I)) = −½ Σ(1 + log σ² − μ² − σ²): `[B]` nats.
 *
 * @example The VAE's prior term
 * ```ts
 * import { klStdNormal } from "./vae.ts";
 * klStdNormal.spec.name; // "klStdNormal"
 * ```
 */
export const klStdNormal: Node<"mu" | "logvar", never, "loss"> = defineLoss({
  name: "klStdNormal",
  inputs: { mu: "B,Z", logvar: "B,Z" },
  fn: ({ mu, logvar }) => klStdNormalFn(mu, logvar),
});
