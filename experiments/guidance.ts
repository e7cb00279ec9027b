/**
 * Guidance on class-conditional MNIST DDPM (seed 003 §2.3). One training fits both models the
 * samplers need: a class-conditional ε-MLP with label dropout (p_uncond, so the null class
 * gives the unconditional model), and a noisy classifier p(y | x_t, t) on the same x_t.
 *
 * Sampling-time axes only, so every run shares that one training:
 * - `guidance: "cfg"`: classifier-free guidance, ε̃ = (1 + w)·ε(x, c) − w·ε(x) (Ho & Salimans;
 *   diffusers' scale is s = w + 1); w = 0 is the conditional model alone.
 * - `guidance: "classifier"`: the unconditional model plus the classifier's gradient scaled by
 *   s = w (Dhariwal & Nichol, Algorithm 1 for DDPM, 2 for DDIM); w = 0 is the unconditional model.
 *
 * Reported: how often a judge classifier (trained on real data) recognises the requested class,
 * and its Inception-style score (diversity × confidence), per guidance strength.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { type ImageDataset, loadDataset } from "../lib/data/mod.ts";
import {
  batchSource,
  defineExperiment,
  judgeAccuracy,
  judgeScore,
  modelFn,
  sample,
} from "../lib/experiment/mod.ts";
import { graph } from "../lib/graph/mod.ts";
import type { BetaScheduleName } from "../lib/math/mod.ts";
import {
  crossEntropy,
  diffusionLoss,
  diffusionOf,
  type DiffusionSpec,
  epsMlp,
  forwardNoise,
  labelDropout,
  noisyClassifier,
} from "../lib/nodes/mod.ts";
import { imageGrid } from "../lib/report/mod.ts";

const config = {
  data: "mnist" as string,
  schedule: "cosine" as string,
  T: 1000,
  hidden: 1024,
  layers: 3,
  /** Probability of training on the null class (classifier-free guidance). */
  pUncond: 0.1,
  /** Hidden width of the noisy classifier. */
  clfHidden: 512,
  steps: 3000,
  batch: 128,
  lr: 2e-4,
  ema: 0.999,
  seed: 0,
  /** Sampling: which guidance. */
  guidance: "cfg" as string,
  /** Sampling: guidance strength (CFG weight w, or classifier scale s). */
  w: 1,
  /** Sampling: ddpm | ddim. */
  sampler: "ddim" as string,
  /** Sampling: DDIM steps. */
  ddimSteps: 50,
  /** Sampling: DDIM η. */
  eta: 0,
  /** Samples per class. */
  perClass: 10,
  limit: 0,
};
type Config = typeof config;

const CLASSES = 10;

function spec(cfg: Config): DiffusionSpec {
  return {
    schedule: cfg.schedule as BetaScheduleName,
    T: cfg.T,
    meanType: "eps",
    varType: "fixed_large",
    lossType: "mse",
  };
}

export default defineExperiment<Config, ImageDataset>({
  name: "guidance",
  description:
    "Class-conditional DDPM on MNIST: classifier-free vs classifier guidance over the guidance strength; one shared training.",
  config,
  choices: {
    data: ["mnist", "fashion-mnist"],
    schedule: ["linear", "cosine"],
    guidance: ["cfg", "classifier"],
    sampler: ["ddpm", "ddim"],
  },
  presets: {
    smoke: { steps: 40, hidden: 64, clfHidden: 32, T: 100, ddimSteps: 10, perClass: 2, limit: 512 },
    laptop: {},
    full: { steps: 100000, ema: 0.9999, perClass: 100 },
  },
  axes: { guidance: ["cfg", "classifier"], w: [0, 1, 2, 4] },
  summarize: { metrics: ["accuracy", "judgeScore"], primary: "accuracy", lowerIsBetter: false },
  data: (cfg) => loadDataset(cfg.data as "mnist", cfg.limit > 0 ? { limit: cfg.limit } : {}),
  model: (cfg) => {
    const s = spec(cfg);
    const g = graph({ x: "B,784", y: "B" })
      .add("drop", labelDropout({ p: cfg.pUncond, nullClass: CLASSES }), { y: "y" })
      .add("noise", forwardNoise(s), { x0: "x" })
      .add("net", epsMlp({ hidden: cfg.hidden, layers: cfg.layers, numClasses: CLASSES }), {
        xt: "noise.xt",
        t: "noise.t",
        y: "drop.y",
      })
      .add("clf", noisyClassifier({ hidden: cfg.clfHidden, numClasses: CLASSES }), {
        xt: "noise.xt",
        t: "noise.t",
      })
      .loss("simple", diffusionLoss(s), {
        x0: "x",
        t: "noise.t",
        eps: "noise.eps",
        xt: "noise.xt",
        out: "net.out",
      })
      .loss("ce", crossEntropy, { logits: "clf.logits", y: "y" })
      .build();
    return {
      graph: g,
      train: {
        steps: cfg.steps,
        batchSize: cfg.batch,
        lr: cfg.lr,
        seed: cfg.seed,
        ema: cfg.ema,
        data: { name: cfg.data, limit: cfg.limit, transform: "symmetric", labels: true },
        logEvery: 50,
        checkpointEvery: 500,
      },
    };
  },
  batches: (cfg, data, seed) =>
    batchSource(
      data,
      { batchSize: cfg.batch, seed, transform: "symmetric", flatten: true },
      { labels: "y" },
    ),
  async evaluate(cfg, env) {
    const s = spec(cfg);
    const d = diffusionOf(s);
    const n = CLASSES * cfg.perClass;
    const labels = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i % CLASSES), "int32");
    const refs = { xt: "noise.xt", t: "noise.t", out: "net.out", y: "drop.y" };
    const c = env.compiled;
    let model, condFn;
    if (cfg.guidance === "cfg") {
      model = modelFn(c, refs, { labels, nullClass: CLASSES, guidance: { w: cfg.w } });
    } else {
      // The unconditional model (null class) steered by s·∇ log p(y | x_t, t).
      model = modelFn(c, refs, { labels: tf.fill([n], CLASSES, "int32"), nullClass: CLASSES });
      const scale = cfg.w;
      condFn = (xt: tf.Tensor, t: tf.Tensor) =>
        tf.tidy(() =>
          tf.grad((x: tf.Tensor) => {
            const logits = c.run(["clf.logits"], { "noise.xt": x, "noise.t": t })["clf.logits"];
            const logp = tf.logSoftmax(logits);
            return tf.sum(tf.mul(logp, tf.oneHot(tf.slice(labels, 0, x.shape[0]!), CLASSES)));
          })(xt).mul(scale)
        );
    }
    const base = { betas: d.betas, meanType: s.meanType, varType: s.varType, lossType: s.lossType };
    const sampler = cfg.sampler === "ddpm"
      ? { kind: "ddpm" as const }
      : { kind: "ddim" as const, steps: cfg.ddimSteps, eta: cfg.eta };
    const x = await sample(base, model, [n, 784], {
      sampler,
      seed: 1,
      ...(condFn ? { condFn } : {}),
    });
    await env.writeFile(
      "samples/grid.png",
      await imageGrid(x, { imageShape: [28, 28, 1], range: "[-1,1]", cols: CLASSES, scale: 2 }),
    );
    const accuracy = await judgeAccuracy(env.data, x, labels);
    const score = await judgeScore(env.data, x);
    tf.dispose([x, labels]);
    return { accuracy, judgeScore: score, samples: n };
  },
});
