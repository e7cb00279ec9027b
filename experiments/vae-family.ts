/**
 * The autoencoder and VAE family on MNIST (or Fashion-MNIST with `--set data=fashion-mnist`),
 * each model wired from the node library (seeds 000, 001, 003 §1, 004; seed 002 for the HVAE):
 *
 * | model | graph |
 * | --- | --- |
 * | `ae` | MLP encoder → code → MLP decoder; squared error |
 * | `dae` | `corrupt` (masking or Gaussian) → AE; squared error to the clean input |
 * | `sparse-ae` | one sigmoid layer → MLP decoder; squared error + β·Σ KL(ρ ‖ ρ̂ⱼ) |
 * | `ksparse-ae` | MLP encoder → top-k → MLP decoder; squared error |
 * | `cae` | one sigmoid layer → MLP decoder; squared error + λ·‖∂h/∂x‖²_F (exact for a sigmoid layer) |
 * | `vae` | MLP encoder (μ, log σ²) → reparameterize → MLP decoder; NLL + KL |
 * | `beta-vae` | the VAE with the KL weighted by `beta` |
 * | `vae-2d` | the VAE with a 2-D latent; also writes a latent traversal and the test means |
 * | `vq-vae` | conv encoder → codebook (EMA or codebook loss, dead-code restarts) → conv decoder |
 * | `hvae` | two-level Markovian HVAE; rec + kl1 + kl2 |
 *
 * Data protocol, from `likelihood` (binarised and 8-bit numbers never share a column):
 * - `bernoulli`: dynamically binarised digits (test binarisation fixed). Columns `bin*`, in
 *   nats, comparable in kind with the published table (VAE 86.76, IWAE 84.78 — full 60k
 *   MNIST, long training; `../shared/reference/nll-tables.md`).
 * - `discretized_logistic` / `discretized_gaussian`: 8-bit digits on [−1, 1], a discrete NLL over
 *   256 levels: columns `q8*`, bits/dim comparable with the diffusion experiments' bits/dim.
 * - `gaussian` / `gaussian_fixed`: a density on the same [−1, 1] values, not a discrete NLL:
 *   column `contNelbo` (nats), comparable with nothing else.
 *
 * What each row reports. VAE-type models (`vae`, `beta-vae`, `vae-2d`, `hvae`): the test −ELBO
 * (the unweighted ELBO, also for β ≠ 1) and the IWAE-k NLL (k = `iwaeK`, 5000 in `full`).
 * `vq-vae`: the −ELBO with the uniform prior over codes, rec + M·ln K (M code positions, K codes;
 * q is deterministic, so IWAE equals the ELBO and is not run), codebook perplexity and usage.
 * Autoencoders have no likelihood: they report only `recErr` (Σ squared error per image of the
 * reconstruction, in data units), which every model reports, and no −ELBO or IWAE column.
 *
 * The −ELBO columns average the first `evalImages` test images, the IWAE columns the first
 * `iwaeImages` (all 10,000 in `full`); `eval.json` also holds `*IwaeNelbo`, the −ELBO from the
 * IWAE's own samples on its images, which the IWAE NLL never exceeds.
 *
 * Run: `deno task sweep experiments/vae-family.ts --preset smoke|laptop|full`; presets
 * `beta-sweep` (β-VAE over β) and `likelihoods` (the VAE over every likelihood) sweep other axes.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { type ImageDataset, type ImageDatasetName, loadDataset } from "../lib/data/mod.ts";
import type { Transform } from "../lib/data/transforms.ts";
import {
  batchSource,
  defineExperiment,
  evaluateIwae,
  type LatentPlan,
  type ModelPlan,
  samplePrior,
  splitBatches,
} from "../lib/experiment/mod.ts";
import { type Compiled, type Graph, graph } from "../lib/graph/mod.ts";
import {
  codebookLoss,
  codebookPerplexity,
  type CodebookUpdate,
  commitmentLoss,
  contractivePenalty,
  convDecoder,
  convEncoder,
  corrupt,
  type CorruptionKind,
  decoderMean,
  decoderNll,
  kSparse,
  type LikelihoodOptions,
  likelihoodParamCount,
  mlp,
  sigmoidEncoder,
  sparsityPenalty,
  squaredError,
  vectorQuantizer,
} from "../lib/nodes/mod.ts";
import { imageGrid, pointPlot } from "../lib/report/mod.ts";
import { codebookUsage, type Kl1Estimator, type LikelihoodKind } from "../lib/vae/mod.ts";
import { MeanSE, vaeGraph, vaeLatentPlan } from "./common/vae.ts";

/** The models the sweep compares. */
export type ModelKind =
  | "ae"
  | "dae"
  | "sparse-ae"
  | "ksparse-ae"
  | "cae"
  | "vae"
  | "beta-vae"
  | "vae-2d"
  | "vq-vae"
  | "hvae";

/** Every model, in table order. */
export const MODELS: readonly ModelKind[] = [
  "ae",
  "dae",
  "sparse-ae",
  "ksparse-ae",
  "cae",
  "vae",
  "beta-vae",
  "vae-2d",
  "vq-vae",
  "hvae",
];

const LIKELIHOODS: LikelihoodKind[] = [
  "bernoulli",
  "discretized_logistic",
  "discretized_gaussian",
  "gaussian",
  "gaussian_fixed",
];

const config = {
  /** Data set. */
  data: "mnist" as string,
  /** Use at most this many training (and test) images; 0: all. */
  limit: 0,
  /** Which model. */
  model: "vae" as ModelKind,
  /** The decoder likelihood; it also picks the data protocol (binarised or 8-bit). */
  likelihood: "bernoulli" as LikelihoodKind,
  /** σ of the `gaussian_fixed` likelihood, in [−1, 1] data units. */
  sigma: 0.1,
  /** Hidden units of the MLP encoders and decoders (one hidden layer, as Kingma & Welling). */
  hidden: 256,
  /** Latent size of the VAEs and of the HVAE's z1. */
  latent: 32,
  /** β of the β-VAE (Higgins et al. 2017 use β > 1 for disentangling). */
  beta: 4,
  /** The HVAE's z2 size and the hidden units of its z1 → z2 and z2 → z1 conditionals. */
  latent2: 16,
  hidden2: 128,
  /** Estimator of the HVAE's level-1 term. */
  kl1Estimator: "mc" as Kl1Estimator,
  /** Code size of the autoencoders (sigmoid units for sparse-ae and cae, linear otherwise). */
  code: 64,
  /** DAE corruption and its level (masking rate, or Gaussian σ in data units). */
  corruption: "masking" as CorruptionKind,
  corruptionLevel: 0.25,
  /** Sparse AE: target activation ρ and penalty weight β (Ng 2011 uses ρ = 0.05). */
  rho: 0.05,
  sparsityWeight: 1,
  /** k-sparse AE: units kept per image (Makhzani & Frey keep 25–70 of 1000). */
  topK: 16,
  /** Contractive AE: penalty weight λ (Rifai et al. 2011 search 0.01–1). */
  contractiveWeight: 0.1,
  /** VQ-VAE: codebook size K, code dimension, conv channels. */
  codes: 64,
  codeDim: 16,
  channels: 16,
  /** VQ-VAE batch size: a conv step costs far more per image than an MLP step on wasm. */
  vqBatch: 32,
  /** VQ-VAE codebook update, commitment β (0.25 in van den Oord et al.), EMA decay. */
  vqUpdate: "ema" as CodebookUpdate,
  commitment: 0.25,
  emaDecay: 0.99,
  /** Restart a code unused for this many steps from an encoder output (0: never). */
  restartAfter: 100,
  steps: 1000,
  batch: 128,
  lr: 1e-3,
  seed: 0,
  /** Test images for −ELBO, reconstruction error and codebook usage. */
  evalImages: 2000,
  /** IWAE: importance samples k, test images, samples per forward chunk. */
  iwaeK: 100,
  iwaeImages: 500,
  iwaeChunk: 100,
};
type Config = typeof config;

const IMAGE = [28, 28, 1] as const;
const D = 28 * 28;
const VAE_TYPES: ReadonlySet<ModelKind> = new Set(["vae", "beta-vae", "vae-2d", "hvae"]);

/** Which data protocol a likelihood implies (see the module doc). */
type Protocol = "bin" | "q8" | "cont";

function protocolOf(kind: LikelihoodKind): Protocol {
  switch (kind) {
    case "bernoulli":
      return "bin";
    case "discretized_logistic":
    case "discretized_gaussian":
      return "q8";
    case "gaussian":
    case "gaussian_fixed":
      return "cont";
    default: {
      const never: never = kind;
      throw new TypeError(`Cannot pick a data protocol for likelihood "${never}"`);
    }
  }
}

const transformOf = (cfg: Config): Transform =>
  protocolOf(cfg.likelihood) === "bin" ? "binarize" : "symmetric";
const likelihoodOf = (cfg: Config): LikelihoodOptions => ({
  kind: cfg.likelihood,
  sigma: cfg.sigma,
});
const isConv = (cfg: Config) => cfg.model === "vq-vae";
const batchOf = (cfg: Config) => isConv(cfg) ? cfg.vqBatch : cfg.batch;

/** The autoencoders: squared-error reconstruction plus each variant's corruption or penalty. */
function autoencoderGraph(cfg: Config): Graph<string> {
  const dec = mlp({ hidden: [cfg.hidden], out: D });
  const enc = mlp({ hidden: [cfg.hidden], out: cfg.code });
  const x = graph({ x: `B,${D}` });
  switch (cfg.model) {
    case "ae":
      return x.add("enc", enc, { x: "x" })
        .add("dec", dec, { x: "enc.y" })
        .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
        .build();
    case "dae": {
      const fill = transformOf(cfg) === "binarize" ? 0 : -1; // a dropped pixel is black
      const noise = cfg.corruption === "masking"
        ? corrupt({ kind: "masking", rate: cfg.corruptionLevel, fill })
        : corrupt({ kind: "gaussian", sigma: cfg.corruptionLevel });
      return x.add("noise", noise, { x: "x" })
        .add("enc", enc, { x: "noise.corrupted" })
        .add("dec", dec, { x: "enc.y" })
        .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
        .build();
    }
    case "sparse-ae":
      return x.add("enc", sigmoidEncoder({ latent: cfg.code }), { x: "x" })
        .add("dec", dec, { x: "enc.h" })
        .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
        .loss("sparsity", sparsityPenalty({ rho: cfg.rho }), { h: "enc.h" }, {
          weight: cfg.sparsityWeight,
        })
        .build();
    case "ksparse-ae":
      return x.add("enc", enc, { x: "x" })
        .add("topk", kSparse({ k: cfg.topK }), { z: "enc.y" })
        .add("dec", dec, { x: "topk.z" })
        .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
        .build();
    case "cae":
      return x.add("enc", sigmoidEncoder({ latent: cfg.code }), { x: "x" })
        .add("dec", dec, { x: "enc.h" })
        .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
        .loss("contractive", contractivePenalty, { h: "enc.h", weight: "enc.weight" }, {
          weight: cfg.contractiveWeight,
        })
        .build();
    default:
      throw new RangeError(`Cannot build an autoencoder for model "${cfg.model}"`);
  }
}

/** The VAE-type models and the VQ-VAE: decoder NLL plus their prior terms. */
function latentGraph(cfg: Config): Graph<string> {
  const lik = decoderNll(likelihoodOf(cfg));
  const P = likelihoodParamCount(cfg.likelihood);
  switch (cfg.model) {
    case "vae":
    case "beta-vae":
    case "vae-2d":
    case "hvae":
      return vaeGraph({
        kind: cfg.model === "hvae" ? "hvae" : "vae",
        dims: D,
        hidden: cfg.hidden,
        latent: latentSize(cfg),
        likelihood: likelihoodOf(cfg),
        latent2: cfg.latent2,
        hidden2: cfg.hidden2,
        kl1Estimator: cfg.kl1Estimator,
        klWeight: cfg.model === "beta-vae" ? cfg.beta : 1,
      });
    case "vq-vae": {
      const base = graph({ x: `B,${IMAGE.join(",")}` })
        .add("enc", convEncoder({ channels: cfg.channels, out: cfg.codeDim }), { x: "x" })
        .add(
          "vq",
          vectorQuantizer({
            codes: cfg.codes,
            update: cfg.vqUpdate,
            decay: cfg.emaDecay,
            restartAfter: cfg.restartAfter,
          }),
          { ze: "enc.y" },
        )
        .add("dec", convDecoder({ channels: cfg.channels, out: P * IMAGE[2] }), { z: "vq.zqST" })
        .loss("rec", lik, { x: "x", params: "dec.y" })
        .loss("commitment", commitmentLoss, { ze: "enc.y", zq: "vq.zq" }, {
          weight: cfg.commitment,
        })
        .loss("perplexity", codebookPerplexity({ codes: cfg.codes }), {
          indices: "vq.indices",
        }, { weight: 0 });
      return cfg.vqUpdate === "loss"
        ? base.loss("codebook", codebookLoss, { ze: "enc.y", zq: "vq.zq" }).build()
        : base.build();
    }
    default:
      throw new RangeError(`Cannot build a latent-variable graph for model "${cfg.model}"`);
  }
}

const latentSize = (cfg: Config) => cfg.model === "vae-2d" ? 2 : cfg.latent;

/** The refs the IWAE plan and the prior sampler need (VAE-type models only). */
const latentPlan = (cfg: Config): LatentPlan =>
  vaeLatentPlan(cfg.model === "hvae" ? "hvae" : "vae", likelihoodOf(cfg));

function model(cfg: Config): ModelPlan {
  const g = VAE_TYPES.has(cfg.model) || cfg.model === "vq-vae"
    ? latentGraph(cfg)
    : autoencoderGraph(cfg);
  return {
    graph: g,
    train: {
      steps: cfg.steps,
      batchSize: batchOf(cfg),
      lr: cfg.lr,
      seed: cfg.seed,
      ema: null,
      data: { name: cfg.data, limit: cfg.limit, transform: transformOf(cfg) },
      logEvery: Math.max(1, Math.min(100, Math.floor(cfg.steps / 10))),
      checkpointEvery: 1000,
    },
  };
}

/**
 * The model's mean reconstruction of x, in data units: the autoencoders' output (a DAE gets the
 * clean input), the decoder mean at z = μ (z1 = μ₁ for the HVAE), the VQ-VAE's decoder mean.
 */
function reconstruct(cfg: Config, c: Compiled<string>, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lik = likelihoodOf(cfg);
    switch (cfg.model) {
      case "ae":
      case "sparse-ae":
      case "ksparse-ae":
      case "cae":
        return c.run(["dec.y"], { x })["dec.y"];
      case "dae":
        return c.run(["dec.y"], { "noise.corrupted": x })["dec.y"];
      case "vae":
      case "beta-vae":
      case "vae-2d":
      case "hvae": {
        const [mu, z] = cfg.model === "hvae" ? ["enc1.mu", "z1.z"] : ["enc.mu", "z.z"];
        const m = c.run([mu], { x })[mu];
        return decoderMean(c.run(["dec.y"], { [z]: m })["dec.y"], lik);
      }
      case "vq-vae":
        return decoderMean(c.run(["dec.y"], { x })["dec.y"], lik);
      default: {
        const never: never = cfg.model;
        throw new TypeError(`Cannot reconstruct with unknown model "${never}"`);
      }
    }
  });
}

export default defineExperiment<Config, ImageDataset>({
  name: "vae-family",
  description:
    "AE, DAE, sparse/k-sparse/contractive AE, VAE, β-VAE, 2-D VAE, VQ-VAE and 2-level HVAE on MNIST: test −ELBO, IWAE NLL (binarised nats / 8-bit bits/dim), reconstruction error, codebook usage.",
  config,
  choices: {
    data: ["mnist", "fashion-mnist"],
    model: [...MODELS],
    likelihood: LIKELIHOODS,
    kl1Estimator: ["mc", "analytic_entropy"],
    corruption: ["masking", "gaussian"],
    vqUpdate: ["ema", "loss"],
  },
  presets: {
    smoke: {
      steps: 60,
      batch: 64,
      hidden: 64,
      latent: 8,
      latent2: 4,
      hidden2: 32,
      code: 32,
      topK: 8,
      codes: 16,
      codeDim: 8,
      channels: 8,
      vqBatch: 32,
      restartAfter: 10,
      limit: 1000,
      evalImages: 200,
      iwaeK: 10,
      iwaeImages: 50,
      iwaeChunk: 10,
    },
    laptop: {},
    full: {
      steps: 50000,
      hidden: 512,
      hidden2: 256,
      channels: 32,
      vqBatch: 128,
      evalImages: 10000,
      iwaeK: 5000,
      iwaeImages: 10000,
    },
    "beta-sweep": { model: "beta-vae" },
    likelihoods: { model: "vae" },
  },
  axes: (preset) => {
    switch (preset) {
      case "beta-sweep":
        return { beta: [0.5, 1, 2, 4, 8] };
      case "likelihoods":
        return { likelihood: LIKELIHOODS };
      case "full":
        return {
          model: [...MODELS],
          likelihood: ["bernoulli", "discretized_logistic", "discretized_gaussian"],
        };
      default:
        return { model: [...MODELS], likelihood: ["bernoulli", "discretized_logistic"] };
    }
  },
  summarize: {
    metrics: [
      "binNelbo",
      "binIwae",
      "q8NelboBpd",
      "q8IwaeBpd",
      "q8Iwae",
      "contNelbo",
      "recErr",
      "perplexity",
    ],
    primary: "binIwae",
    lowerIsBetter: true,
  },
  data: async (cfg) =>
    await loadDataset(cfg.data as ImageDatasetName, cfg.limit > 0 ? { limit: cfg.limit } : {}),
  model,
  batches: (cfg, data, seed) =>
    batchSource(data, {
      batchSize: batchOf(cfg),
      seed,
      transform: transformOf(cfg),
      flatten: !isConv(cfg),
    }),
  async evaluate(cfg, env) {
    const c = env.compiled;
    const protocol = protocolOf(cfg.likelihood);
    const lik = likelihoodOf(cfg);
    // A fixed binarisation seed makes the test set the same for every run.
    const test = (limit: number, batchSize: number) =>
      splitBatches(env.data, {
        split: "test",
        transform: transformOf(cfg),
        flatten: !isConv(cfg),
        seed: 1,
        batchSize,
        limit,
      }, { labels: "y" });
    const metrics: Record<string, number> = {};

    // Loss terms, the −ELBO (unweighted), reconstruction error and codebook usage on the test split.
    const terms = c.graph.losses.map((l) => l.name);
    const termStats = Object.fromEntries(terms.map((t) => [t, new MeanSE()]));
    const elboTerms = terms.filter((t) => ["rec", "kl", "kl1", "kl2"].includes(t));
    const nelbo = new MeanSE(), recErr = new MeanSE();
    const indices: tf.Tensor[] = [];
    let i = 0;
    for (const f of test(cfg.evalImages, 250)) {
      const x = f.x!;
      const out = tf.tidy(() => {
        const r = c.run(terms.map((t) => `${t}.loss`), { x }, { step: i++ });
        const sq = tf.sum(
          tf.reshape(tf.squaredDifference(x, reconstruct(cfg, c, x)), [x.shape[0]!, -1]),
          1,
        );
        const idx = cfg.model === "vq-vae" ? [c.run(["vq.indices"], { x })["vq.indices"]] : [];
        return { terms: terms.map((t) => r[`${t}.loss`]!), sq, idx };
      });
      const values = await Promise.all(out.terms.map((t) => t.data()));
      const b = x.shape[0]!;
      values.forEach((v, j) => termStats[terms[j]!]!.add(v));
      nelbo.add(
        Array.from(
          { length: b },
          (_, n) => elboTerms.reduce((s, t) => s + values[terms.indexOf(t)]![n]!, 0),
        ),
      );
      recErr.add(await out.sq.data());
      indices.push(...out.idx);
      tf.dispose([...out.terms, out.sq, ...Object.values(f)]);
    }
    for (const [t, s] of Object.entries(termStats)) metrics[t] = s.mean;
    metrics.recErr = recErr.mean;
    metrics.recErrSE = recErr.se;
    metrics.testImages = recErr.n;

    if (cfg.model === "vq-vae") {
      const all = tf.concat(indices.map((t) => tf.reshape(t, [-1])));
      const usage = codebookUsage(all, cfg.codes);
      metrics.perplexity = (await usage.perplexity.data())[0]!;
      metrics.codesUsed = (await usage.usedFraction.data())[0]!;
      const positions = all.size / recErr.n; // M code vectors per image
      // q(z | x) is one-hot and p(z) uniform over K^M: KL = M ln K (van den Oord et al. 2017, §3.1).
      metrics.codeKl = positions * Math.log(cfg.codes);
      tf.dispose([all, usage.counts, usage.perplexity, usage.usedFraction, ...indices]);
    }
    if (VAE_TYPES.has(cfg.model) || cfg.model === "vq-vae") {
      const value = nelbo.mean + (metrics.codeKl ?? 0);
      metrics[`${protocol}Nelbo`] = value;
      metrics[`${protocol}NelboSE`] = nelbo.se;
      if (protocol !== "cont") metrics[`${protocol}NelboBpd`] = value / (D * Math.LN2);
    }
    if (VAE_TYPES.has(cfg.model) && cfg.iwaeK > 0) {
      const iw = await evaluateIwae(c, test(cfg.iwaeImages, 50), latentPlan(cfg), {
        k: cfg.iwaeK,
        chunk: cfg.iwaeChunk,
        seed: 0,
        progress: (done) => env.progress(done, Math.min(cfg.iwaeImages, env.data.test.n)),
      });
      metrics[`${protocol}Iwae`] = iw.nll;
      metrics[`${protocol}IwaeSE`] = iw.nllSE;
      if (protocol !== "cont") metrics[`${protocol}IwaeBpd`] = iw.bpd;
      metrics[`${protocol}IwaeNelbo`] = iw.negElbo; // the −ELBO on the same images and samples
      metrics.iwaeK = iw.k;
      metrics.iwaeImages = iw.images;
      metrics.iwaeEss = iw.ess;
    }

    // Images: data, reconstructions, prior samples, and the 2-D latent space.
    const range = transformOf(cfg) === "binarize" ? "[0,1]" as const : "[-1,1]" as const;
    const grid = (t: tf.Tensor, cols = 8) =>
      imageGrid(t, { imageShape: [...IMAGE], range, cols, scale: 2 });
    const first = test(64, 64).next().value as Record<string, tf.Tensor>;
    const recon = reconstruct(cfg, c, first.x!);
    await env.writeFile("samples/data.png", await grid(first.x!));
    await env.writeFile("samples/reconstructions.png", await grid(recon));
    tf.dispose([recon, ...Object.values(first)]);
    if (VAE_TYPES.has(cfg.model)) {
      const plan = latentPlan(cfg);
      const samples = tf.tidy(() => decoderMean(samplePrior(c, plan, { n: 64, seed: 7 }), lik));
      await env.writeFile("samples/prior.png", await grid(samples));
      samples.dispose();
    }
    if (cfg.model === "vae-2d") await latentSpace(cfg, c, env.data, env.writeFile, grid);
    return metrics;
  },
});

/**
 * The 2-D VAE's latent space: decoder means over a 15×15 grid of z ∈ [−2, 2]² (the traversal of
 * Kingma & Welling 2014, Fig. 4, on a linear grid) and the test images' posterior means by digit.
 */
async function latentSpace(
  cfg: Config,
  c: Compiled<string>,
  data: ImageDataset,
  writeFile: (rel: string, bytes: Uint8Array | string) => Promise<void>,
  grid: (t: tf.Tensor, cols?: number) => Promise<Uint8Array>,
): Promise<void> {
  const n = 15, zs: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let col = 0; col < n; col++) zs.push(-2 + 4 * col / (n - 1), 2 - 4 * r / (n - 1));
  }
  const traversal = tf.tidy(() =>
    decoderMean(
      c.run(["dec.y"], { "z.z": tf.tensor2d(zs, [n * n, 2]) })["dec.y"],
      likelihoodOf(cfg),
    )
  );
  await writeFile("samples/latent-traversal.png", await grid(traversal, n));
  traversal.dispose();
  const byLabel = new Map<number, { x: number[]; y: number[] }>();
  for (
    const f of splitBatches(data, {
      split: "test",
      transform: transformOf(cfg),
      flatten: true,
      seed: 1,
      batchSize: 250,
      limit: 1000,
    }, { labels: "y" })
  ) {
    const mu = c.run(["enc.mu"], { x: f.x! })["enc.mu"];
    const m = await mu.data(), labels = await f.y!.data();
    labels.forEach((l, j) => {
      const s = byLabel.get(l) ?? { x: [], y: [] };
      s.x.push(m[2 * j]!);
      s.y.push(m[2 * j + 1]!);
      byLabel.set(l, s);
    });
    tf.dispose([mu, ...Object.values(f)]);
  }
  const series = [...byLabel].sort(([a], [b]) => a - b).map(([l, s]) => ({
    name: `${l}`,
    x: s.x,
    mean: s.y,
  }));
  await writeFile(
    "plots/latent-means.svg",
    pointPlot({
      series,
      connect: false,
      xLabel: "μ₁",
      yLabel: "μ₂",
      title: "posterior means of test images by label",
    }),
  );
}
