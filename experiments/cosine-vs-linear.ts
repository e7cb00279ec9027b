/**
 * DDPM on MNIST, linear vs cosine β schedule (Ho et al. 2020; Nichol & Dhariwal 2021 §3.2):
 * ε-prediction, L_simple, fixed variances, T = 1000. Reports the test NLL in bits/dim from the
 * full chain (the exact variational bound with the discretized decoder, improved-diffusion's
 * `calc_bpd_loop`), its rate/distortion split and per-t breakdown, and sample grids.
 *
 * The network is the reference workload's ε-MLP (sinusoidal time embedding added to every
 * hidden layer). The default (laptop) preset is sized to finish on a 2-core machine in
 * minutes; `full` is for a GPU.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { type ImageDataset, loadDataset } from "../lib/data/mod.ts";
import { batchSource, defineExperiment } from "../lib/experiment/mod.ts";
import { modelFn, sample, testNll } from "../lib/experiment/diffusion.ts";
import { graph } from "../lib/graph/mod.ts";
import type { BetaScheduleName } from "../lib/math/mod.ts";
import { diffusionLoss, diffusionOf, type DiffusionSpec, epsMlp, forwardNoise } from "../lib/nodes/mod.ts";
import { imageGrid, linePlot } from "../lib/report/mod.ts";

const config = {
  data: "mnist" as string,
  schedule: "linear" as string,
  T: 1000,
  /** Hidden width of the ε-MLP (workload A uses 1024). */
  hidden: 1024,
  layers: 3,
  steps: 3000,
  batch: 128,
  lr: 2e-4,
  /** EMA decay of the weights used for evaluation (0.9999 needs ≫ 10k steps; 0.999 fits short runs). */
  ema: 0.999,
  seed: 0,
  /** Test images in the NLL (each costs T network evaluations). */
  evalImages: 200,
  /** Images in the sample grids. */
  samples: 64,
  /** DDIM steps for the fast sample grid. */
  ddimSteps: 50,
  /** Use at most this many training images (0: all). */
  limit: 0,
};
type Config = typeof config;

function spec(cfg: Config): DiffusionSpec {
  return {
    schedule: cfg.schedule as BetaScheduleName,
    T: cfg.T,
    meanType: "eps",
    varType: "fixed_large",
    lossType: "mse",
  };
}

const NET = { xt: "noise.xt", t: "noise.t", out: "net.out" };

export default defineExperiment<Config, ImageDataset>({
  name: "cosine-vs-linear",
  description:
    "DDPM ε-MLP on MNIST with L_simple: linear vs cosine β schedule; exact test NLL (bits/dim, full chain) and samples.",
  config,
  choices: { data: ["mnist", "fashion-mnist"], schedule: ["linear", "cosine", "sigmoid", "scaled_linear"] },
  presets: {
    smoke: { steps: 40, hidden: 64, T: 100, evalImages: 8, samples: 16, ddimSteps: 10, limit: 512 },
    laptop: {},
    full: { steps: 100000, evalImages: 2000, T: 4000 },
  },
  axes: { schedule: ["linear", "cosine"] },
  summarize: { metrics: ["nllBpd", "nllBpdSE", "rateBpd", "decoderBpd"], primary: "nllBpd", lowerIsBetter: true },
  data: async (cfg) =>
    (await loadDataset(cfg.data as "mnist", cfg.limit > 0 ? { limit: cfg.limit } : {})) as ImageDataset,
  model: (cfg) => {
    const s = spec(cfg);
    const g = graph({ x: "B,784" })
      .add("noise", forwardNoise(s), { x0: "x" })
      .add("net", epsMlp({ hidden: cfg.hidden, layers: cfg.layers }), { xt: "noise.xt", t: "noise.t" })
      .loss("simple", diffusionLoss(s), { x0: "x", t: "noise.t", eps: "noise.eps", out: "net.out" })
      .build();
    return {
      graph: g,
      train: {
        steps: cfg.steps,
        batchSize: cfg.batch,
        lr: cfg.lr,
        seed: cfg.seed,
        ema: cfg.ema,
        data: { name: cfg.data, limit: cfg.limit, transform: "symmetric" },
        logEvery: 50,
        checkpointEvery: 500,
      },
    };
  },
  batches: (cfg, data, seed) =>
    batchSource(data, { batchSize: cfg.batch, seed, transform: "symmetric", flatten: true }),
  async evaluate(cfg, env) {
    const s = spec(cfg);
    const d = diffusionOf(s);
    const model = modelFn(env.compiled, NET);
    const nll = await testNll(d, model, env.data, {
      images: cfg.evalImages,
      flatten: true,
      progress: (i, n) => env.progress(i, n, {}),
    });
    const base = { betas: d.betas, meanType: s.meanType, varType: s.varType, lossType: s.lossType };
    const shape = [cfg.samples, 784];
    const grid = (x: tf.Tensor) => imageGrid(x, { imageShape: [28, 28, 1], range: "[-1,1]", scale: 2 });
    const ddpm = await sample(base, model, shape, { sampler: { kind: "ddpm" }, seed: 1 });
    await env.writeFile("samples/ddpm.png", await grid(ddpm));
    const ddim = await sample(base, model, shape, {
      sampler: { kind: "ddim", steps: cfg.ddimSteps, eta: 0 },
      seed: 1,
    });
    await env.writeFile(`samples/ddim${cfg.ddimSteps}.png`, await grid(ddim));
    tf.dispose([ddpm, ddim]);
    await env.writeFile(
      "plots/nll_per_t.svg",
      linePlot({
        series: [{ name: cfg.schedule, x: nll.perT.map((_, t) => t), y: nll.perT }],
        title: `L_t per timestep (${cfg.schedule}, bits/dim)`,
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
      perT: nll.perT,
    };
  },
});
