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
import {
  type Dataset,
  type DatasetName,
  type ImageDataset,
  loadDataset,
  type ToyDataset,
} from "../../lib/data/mod.ts";
import {
  LossSecondMomentResampler,
  type LossType,
  type MeanType,
  type VarType,
} from "../../lib/diffusion/mod.ts";
import {
  batchSource,
  defineExperiment,
  discreteEntropy,
  type EvalEnv,
  type ExperimentSpec,
  type ModelPlan,
  type TrainHooks,
} from "../../lib/experiment/mod.ts";
import type { BatchSource } from "../../lib/train/mod.ts";
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
import { imageGrid, linePlot, pointPlot } from "../../lib/report/mod.ts";
import type { Experiment } from "../../lib/sweep/types.ts";

/** The config of a DDPM experiment. Every key is sweepable. */
export const ddpmConfig = {
  /** Data set: mnist | fashion-mnist | cifar10 | toy-ring8 | toy-grid25 (2-D, known density). */
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
  data: ["mnist", "fashion-mnist", "cifar10", "toy-ring8", "toy-grid25"],
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

/** True for the 2-D toy data sets (known density, quantised to the 8-bit grid). */
export const isToy = (cfg: Pick<DdpmConfig, "data">): boolean => cfg.data.startsWith("toy-");

/** The data of a config. */
export async function ddpmData(cfg: DdpmConfig): Promise<Dataset> {
  const limit = cfg.limit > 0 ? { limit: cfg.limit } : {};
  return await loadDataset(cfg.data as DatasetName, limit);
}

const SHAPES: Record<string, readonly number[]> = {
  mnist: [28, 28, 1],
  "fashion-mnist": [28, 28, 1],
  cifar10: [32, 32, 3],
};

/** The shape of one example of a config's data set. */
export function exampleShape(cfg: Pick<DdpmConfig, "data">): readonly number[] {
  return isToy(cfg) ? [2] : SHAPES[cfg.data] ?? [28, 28, 1];
}

/** The training graph: x → forwardNoise → ε-net → diffusion loss. */
export function ddpmModel(cfg: DdpmConfig): ModelPlan {
  const s = diffusionSpec(cfg);
  const shape = exampleShape(cfg);
  const flat = cfg.net === "mlp" || isToy(cfg);
  const example = flat ? [shape.reduce((a, b) => a * b, 1)] : [...shape];
  const input = `B,${example.join(",")}`;
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
      xt: "noise.xt",
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

/** Training batches of a config: images in [−1, 1], or quantised toy points. */
export function ddpmBatches(cfg: DdpmConfig, data: Dataset, seed: number): BatchSource {
  if (isToy(cfg)) return batchSource(data, { batchSize: cfg.batch, seed }, { quantize: true });
  return batchSource(data, {
    batchSize: cfg.batch,
    seed,
    transform: "symmetric",
    flatten: cfg.net === "mlp",
  });
}

/** Training hooks of a config (importance sampling of t feeds on the per-example losses). */
export function ddpmHooks(cfg: DdpmConfig): TrainHooks {
  return cfg.sampler === "loss-second-moment"
    ? importanceHook(resamplerOf(cfg), {
      t: "noise.t",
      weights: "noise.weights",
      loss: "diffusion.loss",
    })
    : {};
}

const NET = { xt: "noise.xt", t: "noise.t", out: "net.out" };

/**
 * The evaluation: exact test NLL from the full chain (bits/dim, its rate/distortion split and
 * per-t curve), DDPM and DDIM samples, and a quality proxy — the judge score for images, and for
 * toy data the NLL in nats per point against the exact entropy of the quantised density.
 */
export async function ddpmEvaluate(
  cfg: DdpmConfig,
  env: EvalEnv<Dataset>,
): Promise<Record<string, number | number[]>> {
  const s = diffusionSpec(cfg);
  const d = diffusionOf(s);
  const model = modelFn(env.compiled, NET);
  const toy = isToy(cfg);
  const flat = cfg.net === "mlp" || toy;
  const nll = await testNll(d, model, env.data, {
    images: cfg.evalImages,
    flatten: flat,
    quantize: toy,
    progress: (i, n) => env.progress(i, n, {}),
  });
  const base = { betas: d.betas, meanType: s.meanType, varType: s.varType, lossType: s.lossType };
  const shape = exampleShape(cfg);
  const dims = shape.reduce((a, b) => a * b, 1);
  const sampleShape = flat ? [cfg.samples, dims] : [cfg.samples, ...shape];
  const ddpm = await sample(base, model, sampleShape, { sampler: { kind: "ddpm" }, seed: 1 });
  const ddim = await sample(base, model, sampleShape, {
    sampler: { kind: "ddim", steps: cfg.ddimSteps, eta: 0 },
    seed: 1,
  });
  const extra: Record<string, number> = {};
  if (toy) {
    const toyData = env.data as ToyDataset;
    const pts = async (x: tf.Tensor) => Array.from(await x.data());
    const [a, b] = [await pts(ddpm), await pts(ddim)];
    const xy = (v: number[], k: number) => v.filter((_, i) => i % 2 === k);
    await env.writeFile(
      "samples/ddpm.svg",
      pointCloud([{ name: "ddpm", x: xy(a, 0), y: xy(a, 1) }, {
        name: `ddim${cfg.ddimSteps}`,
        x: xy(b, 0),
        y: xy(b, 1),
      }]),
    );
    const H = discreteEntropy(toyData.distribution);
    const natsPerPoint = nll.bpd * dims * Math.LN2;
    extra.entropyNats = H;
    extra.nllNats = natsPerPoint;
    extra.nllMinusH = natsPerPoint - H;
    extra.nllMinusHSE = nll.bpdSE * dims * Math.LN2;
  } else {
    const grid = (x: tf.Tensor) =>
      imageGrid(x, { imageShape: shape as [number, number, number], range: "[-1,1]", scale: 2 });
    await env.writeFile("samples/ddpm.png", await grid(ddpm));
    await env.writeFile(`samples/ddim${cfg.ddimSteps}.png`, await grid(ddim));
    extra.judgeScore = await judgeScore(env.data as ImageDataset, ddpm);
  }
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
    ...extra,
    perT: nll.perT,
  };
}

/** A scatter plot of 2-D samples (SVG), drawn as a line plot with markers only. */
function pointCloud(series: { name: string; x: number[]; y: number[] }[]): string {
  return pointPlot({
    series: series.map((s) => ({ name: s.name, x: s.x, mean: s.y })),
    title: "samples",
    xLabel: "x₁",
    yLabel: "x₂",
  });
}

/**
 * Builds a DDPM experiment from a name, description, presets and axes.
 *
 * @param spec What differs between the experiments of the family.
 * @returns The experiment.
 */
export function ddpmExperiment(
  spec: Pick<ExperimentSpec<DdpmConfig, Dataset>, "name" | "description" | "axes"> & {
    config?: Partial<DdpmConfig>;
    presets?: Partial<ExperimentSpec<DdpmConfig, Dataset>["presets"]>;
  },
): Experiment<DdpmConfig> {
  return defineExperiment<DdpmConfig, Dataset>({
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
    data: ddpmData,
    model: ddpmModel,
    batches: ddpmBatches,
    hooks: ddpmHooks,
    evaluate: ddpmEvaluate,
  });
}
