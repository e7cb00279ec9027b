/**
 * The DDPM-on-images experiment family shared by `cosine-vs-linear`, `parameterization` and
 * `nll-table`: one config whose keys are the design choices of Improved DDPM (schedule, T, mean
 * and variance parameterisation, objective, timestep sampler, network), one graph builder, and
 * one evaluation (exact test NLL from the full chain, its rate/distortion split and per-t curve,
 * DDPM and DDIM sample grids, and a sample-quality proxy).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { type ImageDataset, loadDataset } from "../../lib/data/mod.ts";
import {
  LossSecondMomentResampler,
  type LossType,
  type MeanType,
  type VarType,
} from "../../lib/diffusion/mod.ts";
import {
  batchSource,
  defineExperiment,
  type ExperimentSpec,
  type ModelPlan,
} from "../../lib/experiment/mod.ts";
import { modelFn, sample, testNll } from "../../lib/experiment/diffusion.ts";
import { judgeScore } from "../../lib/experiment/judge.ts";
import { graph } from "../../lib/graph/mod.ts";
import type { BetaScheduleName } from "../../lib/math/mod.ts";
import {
  diffusionLoss,
  diffusionOf,
  type DiffusionSpec,
  epsMlp,
  forwardNoise,
  importanceHook,
  unet,
} from "../../lib/nodes/mod.ts";
import { imageGrid, linePlot } from "../../lib/report/mod.ts";
import type { Experiment } from "../../lib/sweep/types.ts";

/** The config of a DDPM experiment. Every key is sweepable. */
export const ddpmConfig = {
  /** Data set: mnist | fashion-mnist | cifar10. */
  data: "mnist" as string,
  /** β schedule: linear | cosine | sigmoid | scaled_linear. */
  schedule: "linear" as string,
  /** Diffusion steps T. */
  T: 1000,
  /** What the net predicts: eps | x0 | v | prev_x. */
  meanType: "eps" as string,
  /** Reverse variance: fixed_small | fixed_large | learned | learned_range. */
  varType: "fixed_large" as string,
  /** Objective: mse (L_simple) | rescaled_mse (L_hybrid) | kl | rescaled_kl (L_vlb). */
  lossType: "mse" as string,
  /** Timestep sampler: uniform | loss-second-moment (importance sampling, for L_vlb). */
  sampler: "uniform" as string,
  /** Network: mlp (the reference workload's ε-MLP) | unet. */
  net: "mlp" as string,
  /** Width: hidden units of the MLP, or base channels of the U-Net. */
  hidden: 1024,
  /** Hidden layers of the MLP (ignored by the U-Net). */
  layers: 3,
  steps: 3000,
  batch: 128,
  lr: 2e-4,
  /** EMA decay of the evaluated weights (0.9999 needs far more steps than a laptop run). */
  ema: 0.999,
  /** Clip the global gradient norm (L_vlb is noisy); 0 disables. */
  clipNorm: 1,
  seed: 0,
  /** Test images in the NLL; each costs T network evaluations. */
  evalImages: 200,
  /** Images in each sample grid. */
  samples: 64,
  /** DDIM steps of the fast sample grid. */
  ddimSteps: 50,
  /** Use at most this many training images (0: all). */
  limit: 0,
};

/** The config type. */
export type DdpmConfig = typeof ddpmConfig;

const choices = {
  data: ["mnist", "fashion-mnist", "cifar10"],
  schedule: ["linear", "cosine", "sigmoid", "scaled_linear"],
  meanType: ["eps", "x0", "v", "prev_x"],
  varType: ["fixed_small", "fixed_large", "learned", "learned_range"],
  lossType: ["mse", "rescaled_mse", "kl", "rescaled_kl"],
  sampler: ["uniform", "loss-second-moment"],
  net: ["mlp", "unet"],
};

/** The diffusion process a config describes. */
export function diffusionSpec(cfg: DdpmConfig): DiffusionSpec {
  return {
    schedule: cfg.schedule as BetaScheduleName,
    T: cfg.T,
    meanType: cfg.meanType as MeanType,
    varType: cfg.varType as VarType,
    lossType: cfg.lossType as LossType,
  };
}

const learned = (cfg: DdpmConfig) => cfg.varType === "learned" || cfg.varType === "learned_range";

// One resampler per training process; its history travels in checkpoints (importanceHook).
const resamplers = new Map<string, LossSecondMomentResampler>();
function resamplerOf(cfg: DdpmConfig): LossSecondMomentResampler {
  const key = JSON.stringify(cfg);
  let r = resamplers.get(key);
  if (r === undefined) resamplers.set(key, r = new LossSecondMomentResampler(cfg.T));
  return r;
}

/** The training graph: x → forwardNoise → ε-net → diffusion loss. */
export function ddpmModel(cfg: DdpmConfig, shape: readonly number[]): ModelPlan {
  const s = diffusionSpec(cfg);
  const flat = cfg.net === "mlp";
  const input = flat ? `B,${shape.reduce((a, b) => a * b, 1)}` : `B,${shape.join(",")}`;
  const net = flat
    ? epsMlp({ hidden: cfg.hidden, layers: cfg.layers, learnSigma: learned(cfg) })
    : unet({ channels: cfg.hidden, mult: [1, 2], learnSigma: learned(cfg) });
  const sampler = cfg.sampler === "loss-second-moment" ? resamplerOf(cfg) : undefined;
  const g = graph({ x: input })
    .add("noise", forwardNoise(s, sampler), { x0: "x" })
    .add("net", net, { xt: "noise.xt", t: "noise.t" })
    .loss("diffusion", diffusionLoss(s), {
      x0: "x",
      t: "noise.t",
      eps: "noise.eps",
      out: "net.out",
      weights: "noise.weights",
    })
    .build();
  return {
    graph: g,
    train: {
      steps: cfg.steps,
      batchSize: cfg.batch,
      lr: cfg.lr,
      seed: cfg.seed,
      ema: cfg.ema,
      clipNorm: cfg.clipNorm,
      data: { name: cfg.data, limit: cfg.limit, transform: "symmetric", net: cfg.net },
      logEvery: 50,
      checkpointEvery: 500,
    },
  };
}

const NET = { xt: "noise.xt", t: "noise.t", out: "net.out" };
const SHAPES: Record<string, [number, number, number]> = {
  mnist: [28, 28, 1],
  "fashion-mnist": [28, 28, 1],
  cifar10: [32, 32, 3],
};

/**
 * Builds a DDPM experiment from a name, description, presets and axes.
 *
 * @param spec What differs between the experiments of the family.
 * @returns The experiment.
 */
export function ddpmExperiment(
  spec: Pick<ExperimentSpec<DdpmConfig, ImageDataset>, "name" | "description" | "axes"> & {
    config?: Partial<DdpmConfig>;
    presets?: Partial<ExperimentSpec<DdpmConfig, ImageDataset>["presets"]>;
  },
): Experiment<DdpmConfig> {
  return defineExperiment<DdpmConfig, ImageDataset>({
    name: spec.name,
    description: spec.description,
    config: { ...ddpmConfig, ...spec.config },
    choices,
    presets: {
      smoke: {
        steps: 40,
        hidden: 64,
        T: 100,
        evalImages: 8,
        samples: 16,
        ddimSteps: 10,
        limit: 512,
        ...spec.presets?.smoke,
      },
      laptop: { ...spec.presets?.laptop },
      full: { steps: 100000, evalImages: 2000, T: 4000, ema: 0.9999, ...spec.presets?.full },
    },
    axes: spec.axes,
    summarize: {
      metrics: ["nllBpd", "nllBpdSE", "rateBpd", "decoderBpd", "judgeScore"],
      primary: "nllBpd",
      lowerIsBetter: true,
    },
    data: (cfg) => loadDataset(cfg.data as "mnist", cfg.limit > 0 ? { limit: cfg.limit } : {}),
    model: (cfg) => ddpmModel(cfg, SHAPES[cfg.data] ?? [28, 28, 1]),
    batches: (cfg, data, seed) =>
      batchSource(data, {
        batchSize: cfg.batch,
        seed,
        transform: "symmetric",
        flatten: cfg.net === "mlp",
      }),
    hooks: (cfg) =>
      cfg.sampler === "loss-second-moment"
        ? importanceHook(resamplerOf(cfg), {
          t: "noise.t",
          weights: "noise.weights",
          loss: "diffusion.loss",
        })
        : {},
    async evaluate(cfg, env) {
      const s = diffusionSpec(cfg);
      const d = diffusionOf(s);
      const model = modelFn(env.compiled, NET);
      const flat = cfg.net === "mlp";
      const nll = await testNll(d, model, env.data, {
        images: cfg.evalImages,
        flatten: flat,
        progress: (i, n) => env.progress(i, n, {}),
      });
      const base = {
        betas: d.betas,
        meanType: s.meanType,
        varType: s.varType,
        lossType: s.lossType,
      };
      const img = env.data.shape;
      const shape = flat ? [cfg.samples, img[0] * img[1] * img[2]] : [cfg.samples, ...img];
      const grid = (x: tf.Tensor) => imageGrid(x, { imageShape: img, range: "[-1,1]", scale: 2 });
      const ddpm = await sample(base, model, shape, { sampler: { kind: "ddpm" }, seed: 1 });
      await env.writeFile("samples/ddpm.png", await grid(ddpm));
      const score = await judgeScore(env.data, ddpm);
      const ddim = await sample(base, model, shape, {
        sampler: { kind: "ddim", steps: cfg.ddimSteps, eta: 0 },
        seed: 1,
      });
      await env.writeFile(`samples/ddim${cfg.ddimSteps}.png`, await grid(ddim));
      tf.dispose([ddpm, ddim]);
      await env.writeFile(
        "plots/nll_per_t.svg",
        linePlot({
          series: [{ name: "L_t", x: nll.perT.map((_, t) => t), y: nll.perT }],
          title: `L_t per timestep (bits/dim)`,
          xLabel: "t",
          yLabel: "bits/dim",
          logY: true,
        }),
      );
      return {
        nllBpd: nll.bpd,
        nllBpdSE: nll.bpdSE,
        rateBpd: nll.rate,
        decoderBpd: nll.decoder,
        priorBpd: nll.prior,
        evalImages: nll.images,
        judgeScore: score,
        perT: nll.perT,
      };
    },
  });
}
