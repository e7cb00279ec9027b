/**
 * Diffusion nodes: the forward process q(x_t | x_0) with a timestep sampler, classifier-free label
 * dropout, the ε-MLP with a sinusoidal time embedding, and the loss node (L_simple, L_hybrid,
 * L_vlb) built on `GaussianDiffusion.trainingLosses` — so training and the exact bound share one
 * implementation of the math.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { defineLoss, defineNode, type Json, type Node } from "../graph/node.ts";
import { betaSchedule, type BetaScheduleName } from "../math/mod.ts";
import {
  GaussianDiffusion,
  LossSecondMomentResampler,
  type LossType,
  type MeanType,
  sampleTimesteps,
  type ScheduleSampler,
  UniformSampler,
  type VarType,
} from "../diffusion/mod.ts";
import {
  activate,
  type Activation,
  dense,
  denseParams,
  hiddenAddingTime,
  sharedTimestep,
  timestepEmbedding,
} from "./layers.ts";
import type { Tensor } from "../types.ts";

/** A diffusion process as JSON: what a node's config (and so work sharing) records. */
export interface DiffusionSpec {
  /** β schedule. */
  schedule: BetaScheduleName;
  /** Number of steps T. */
  T: number;
  /** What the network predicts. */
  meanType: MeanType;
  /** How the reverse variance is set. */
  varType: VarType;
  /** Training objective: mse = L_simple, rescaled_mse = L_hybrid, kl / rescaled_kl = L_vlb. */
  lossType: LossType;
}

const cache = new Map<string, GaussianDiffusion>();

/**
 * The `GaussianDiffusion` of a spec (built once per process).
 *
 * @param spec The process.
 * @returns The diffusion with its float64 tables.
 *
 * @example The DDPM baseline
 * ```ts
 * import { diffusionOf } from "./diffusion.ts";
 * const d = diffusionOf({ schedule: "linear", T: 1000, meanType: "eps", varType: "fixed_large", lossType: "mse" });
 * d.betas.length; // 1000
 * ```
 */
export function diffusionOf(spec: DiffusionSpec): GaussianDiffusion {
  const key = JSON.stringify([spec.schedule, spec.T, spec.meanType, spec.varType, spec.lossType]);
  let d = cache.get(key);
  if (d === undefined) {
    d = new GaussianDiffusion({
      betas: betaSchedule(spec.schedule, spec.T),
      meanType: spec.meanType,
      varType: spec.varType,
      lossType: spec.lossType,
    });
    cache.set(key, d);
  }
  return d;
}

/**
 * The forward process: t ~ sampler, ε ~ N(0, I), x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε. Optional inputs
 * `t` and `noise` pin them (tests, evaluation). `diffusionLoss` derives its own target (ε, x₀ or
 * v = √ᾱ_t ε − √(1 − ᾱ_t) x₀) from these; a custom loss that wants v computes it with
 * `diffusionOf(spec).convertPrediction(eps, xt, t, { from: "eps", to: "v" })`.
 *
 * The timesteps are drawn from `sampler`'s current weights with the node's step-keyed random
 * stream, so a resumed run draws what the uninterrupted one drew.
 *
 * @param spec The diffusion process.
 * @param sampler Timestep distribution (a `LossSecondMomentResampler` learns from the losses;
 *   feed it with `importanceHook`). @default uniform
 * @returns A node `x0: [B, ...]` → `xt, eps: [B, ...]`, `t: [B]` (int32), `weights: [B]`.
 *
 * @example Forward noise for 784-dim data
 * ```ts
 * import { forwardNoise } from "./diffusion.ts";
 * const n = forwardNoise({ schedule: "cosine", T: 1000, meanType: "eps", varType: "fixed_large", lossType: "mse" });
 * n.spec.outputs.t; // "B"
 * ```
 */
export function forwardNoise(
  spec: DiffusionSpec,
  sampler?: ScheduleSampler,
): Node<"x0", "t" | "noise", "xt" | "eps" | "t" | "weights"> {
  const d = diffusionOf(spec);
  const ts = sampler ?? new UniformSampler(spec.T);
  const samplerName = ts instanceof LossSecondMomentResampler ? "loss-second-moment" : "uniform";
  return defineNode({
    name: "forwardNoise",
    inputs: { x0: "B,..." },
    optionalInputs: { t: "B", noise: "B,..." },
    outputs: { xt: "B,...", eps: "B,...", t: "B", weights: "B" },
    config: { ...spec, sampler: samplerName } as unknown as Json,
    fn: ({ x0, t, noise }, { rng }) => {
      const b = x0.shape[0]!;
      let tt = t, w: Tensor;
      if (tt === undefined) {
        const s = sampleTimesteps(ts.weights(), b, rng.host());
        tt = tf.tensor1d(s.t, "int32");
        w = tf.tensor1d(Float32Array.from(s.weights), "float32");
      } else w = tf.ones([b]);
      const eps = noise ?? rng.normal([...x0.shape]);
      const xt = d.qSample(x0, tt, { noise: eps }) as Tensor;
      return { xt, eps, t: tt, weights: w };
    },
  });
}

/**
 * Classifier-free guidance's label dropout (Ho & Salimans 2022): while training, each label is
 * replaced by the null class with probability `p`.
 *
 * @param options `p` and the null class id (the number of classes).
 * @returns A node `y: [B]` → `y: [B]`.
 *
 * @example Drop 10 % of MNIST labels
 * ```ts
 * import { labelDropout } from "./diffusion.ts";
 * labelDropout({ p: 0.1, nullClass: 10 }).spec.config; // { p: 0.1, nullClass: 10 }
 * ```
 */
export function labelDropout(options: { p: number; nullClass: number }): Node<"y", never, "y"> {
  const { p, nullClass } = options;
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`Cannot drop labels as 'p' must be in [0, 1]: current value is ${p}`);
  }
  return defineNode({
    name: "labelDropout",
    inputs: { y: "B" },
    outputs: { y: "B" },
    config: { p, nullClass },
    fn: ({ y }, { rng, training }) => {
      if (!training || p === 0) return { y: tf.clone(y) };
      const drop = tf.less(rng.uniform([y.shape[0]!]), p);
      return { y: tf.where(drop, tf.fill(y.shape, nullClass, "int32"), tf.cast(y, "int32")) };
    },
  });
}

/** Options of {@linkcode epsMlp}. */
export interface EpsMlpOptions {
  /** Hidden width H. */
  hidden: number;
  /** Number of hidden layers. @default 3 */
  layers?: number;
  /** Size of the sinusoidal embedding. @default 128 */
  timeEmbed?: number;
  /** Number of classes for a class-conditional net (the embedding gets one more: the null class). */
  numClasses?: number;
  /** Output the learned variance too (2·D outputs, improved-diffusion's convention). @default false */
  learnSigma?: boolean;
  /** Hidden nonlinearity. @default "silu" */
  activation?: Activation;
}

/**
 * The ε-network MLP of the reference workload A: temb = Linear(SiLU(Linear(emb(t)))) (+ class
 * embedding), hᵢ = SiLU(Linear(hᵢ₋₁) + temb), out = Linear(h_L). With `learnSigma` the output
 * carries the variance values after the mean on the last axis.
 *
 * @param options Width, depth, embeddings.
 * @returns A node `xt: [B, D]`, `t: [B]` (+ optional `y: [B]`) → `out: [B, D or 2D]`.
 *
 * @example Workload A's network
 * ```ts
 * import { epsMlp } from "./diffusion.ts";
 * epsMlp({ hidden: 1024 }).spec.inputs; // { xt: "B,D", t: "B" }
 * ```
 */
export function epsMlp(options: EpsMlpOptions): Node<"xt" | "t", "y", "out"> {
  const H = options.hidden, L = options.layers ?? 3, E = options.timeEmbed ?? 128;
  const act = options.activation ?? "silu";
  const learnSigma = options.learnSigma ?? false;
  const classes = options.numClasses ?? 0;
  return defineNode({
    name: "epsMlp",
    inputs: { xt: "B,D", t: "B" },
    optionalInputs: { y: "B" },
    outputs: { out: "B,O" },
    config: {
      hidden: H,
      layers: L,
      timeEmbed: E,
      numClasses: classes,
      learnSigma,
      activation: act,
    },
    params: ({ dim }) => {
      const D = dim("D");
      let p = { ...denseParams("te0_", E, H), ...denseParams("te1_", H, H) };
      p = { ...p, ...denseParams("in_", D, H) };
      for (let i = 1; i < L; i++) p = { ...p, ...denseParams(`h${i}_`, H, H) };
      p = { ...p, ...denseParams("out_", H, learnSigma ? 2 * D : D) };
      if (classes > 0) p = { ...p, classEmb: { shape: [classes + 1, H], init: { normal: 1 } } };
      return p;
    },
    outputDims: ({ dim }) => ({ O: learnSigma ? 2 * dim("D") : dim("D") }),
    fn: ({ xt, t, y }, { params }) => {
      // One t for the whole batch (exact NLL, sampling): embed it once, [1, H], into the biases.
      let temb = dense(
        activate(dense(timestepEmbedding(sharedTimestep(t), E), params, "te0_"), act),
        params,
        "te1_",
      ); // [B or 1, H]
      if (classes > 0 && y !== undefined) {
        temb = tf.add(temb, tf.gather(params.classEmb!, tf.cast(y, "int32"))); // [B, H]
      }
      const h = hiddenAddingTime(xt, params, L, temb, act); // [B, H]
      return { out: dense(h, params, "out_") }; // [B, D or 2D]
    },
  });
}

/**
 * The diffusion training loss, per example `[B]`, from `GaussianDiffusion.trainingLosses` with the
 * network output given: L_simple (`mse`), L_hybrid (`rescaled_mse` with learned variance:
 * mse + λ·L_vlb, the mean detached in the vlb term), or L_vlb (`kl` / `rescaled_kl`). Multiplied by
 * the optional importance `weights` 1/(T·p_t). Wire the optional `xt` to `forwardNoise`'s x_t
 * (made from the same x0, t and eps) so it is not computed twice.
 *
 * @param spec The diffusion process (its `lossType` picks the objective).
 * @returns A loss node.
 *
 * @example L_simple
 * ```ts
 * import { diffusionLoss } from "./diffusion.ts";
 * diffusionLoss({ schedule: "linear", T: 1000, meanType: "eps", varType: "fixed_large", lossType: "mse" }).role; // "loss"
 * ```
 */
export function diffusionLoss(
  spec: DiffusionSpec,
): Node<"x0" | "t" | "eps" | "out", "weights" | "xt", "loss"> {
  const d = diffusionOf(spec);
  // A learned-variance net emits [mean, variance] on the last axis: [B, …, 2C] for x0's [B, …, C].
  const learned = spec.varType === "learned" || spec.varType === "learned_range";
  return defineLoss({
    name: "diffusionLoss",
    inputs: { x0: "B,...,C", t: "B", eps: "B,...,C", out: learned ? "B,...,O" : "B,...,C" },
    optionalInputs: { weights: "B", xt: "B,...,C" },
    config: spec as unknown as Json,
    fn: ({ x0, t, eps, out, weights, xt }) => {
      const c = x0.shape.at(-1)!, o = out.shape.at(-1)!;
      if (learned && o !== 2 * c) {
        throw new RangeError(
          `Cannot compute the ${spec.varType} diffusion loss as the net's last axis must be 2·${c} (mean and variance): current value is ${o}; build the net with learnSigma: true`,
        );
      }
      const noised = xt === undefined ? { noise: eps } : { noise: eps, xt };
      const r = d.trainingLosses(() => out, x0, t, noised) as { loss: Tensor };
      return weights === undefined ? r.loss : tf.mul(r.loss, weights);
    },
  });
}

/**
 * Training hooks that feed a loss-aware timestep sampler with each step's per-example losses
 * (improved-diffusion's `update_with_local_losses`), and keep its history in checkpoints.
 *
 * @param sampler The resampler used by `forwardNoise`.
 * @param refs The refs of the sampled timesteps, their weights, and the (weighted) loss.
 * @returns Hooks for `defineExperiment`'s `hooks`.
 *
 * @example L_vlb with importance sampling
 * ```ts ignore
 * hooks: () => importanceHook(resampler, { t: "noise.t", weights: "noise.weights", loss: "vlb.loss" }),
 * ```
 */
export function importanceHook(
  sampler: LossSecondMomentResampler,
  refs: { t: string; weights: string; loss: string },
): {
  keep: string[];
  afterStep: (step: number, kept: Record<string, Tensor>) => Promise<void>;
  parts: Record<string, { save(): Json; restore(s: Json): void }>;
} {
  return {
    keep: [refs.t, refs.weights, refs.loss],
    afterStep: async (_step, kept) => {
      const t = await kept[refs.t]!.data(), w = await kept[refs.weights]!.data();
      const l = await kept[refs.loss]!.data();
      // The loss node multiplies by the importance weight; the sampler wants the raw loss.
      sampler.update(t, Float64Array.from(l, (v, i) => v / w[i]!));
    },
    parts: {
      resampler: {
        save: () => sampler.getState() as unknown as Json,
        restore: (s) => sampler.setState(s as unknown as ReturnType<typeof sampler.getState>),
      },
    },
  };
}
