/**
 * The VAE-type models shared by `vae-family` and `nll-table`: the one-level VAE (Kingma & Welling
 * 2014) and the two-level Markovian HVAE, wired from the node library with MLP encoders and
 * decoders on flat `[B, D]` data; the refs their IWAE evaluation needs; a running mean with its
 * standard error; and the bound of such a model on 8-bit test images in bits/dim (the −ELBO split
 * into rate and distortion, and the IWAE-k NLL on the same images).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import {
  evaluateIwae,
  type IwaeResult,
  type LatentPlan,
  splitBatches,
} from "../../lib/experiment/mod.ts";
import type { Dataset } from "../../lib/data/mod.ts";
import { type Compiled, type Graph, graph } from "../../lib/graph/mod.ts";
import {
  decoderNll,
  hvaeKl1,
  klStdNormal,
  type LikelihoodOptions,
  likelihoodParamCount,
  mlp,
  mlpEncoder,
  reparameterize,
} from "../../lib/nodes/mod.ts";
import type { Kl1Estimator } from "../../lib/vae/mod.ts";

/** Which VAE-type model: one Gaussian latent level, or two (z1 → z2, Markovian). */
export type VaeKind = "vae" | "hvae";

/** Sizes and likelihood of a VAE-type model on flat data. */
export interface VaeSpec {
  /** One or two latent levels. */
  kind: VaeKind;
  /** Data dimensions D (784 for MNIST). */
  dims: number;
  /** Hidden units of the data-side encoder and decoder (one hidden layer each). */
  hidden: number;
  /** Size of z (the VAE) or z1 (the HVAE). */
  latent: number;
  /** The decoder likelihood p(x | z). */
  likelihood: LikelihoodOptions;
  /** HVAE: size of z2. @default 16 */
  latent2?: number;
  /** HVAE: hidden units of q(z2 | z1) and p(z1 | z2). @default 128 */
  hidden2?: number;
  /** HVAE: estimator of the level-1 KL term. @default "mc" */
  kl1Estimator?: Kl1Estimator;
  /** VAE: weight of the KL term (β of the β-VAE; the evaluated ELBO stays unweighted). @default 1 */
  klWeight?: number;
}

/**
 * The graph of a VAE (`enc → z → dec`, losses `rec` and `kl`) or a two-level HVAE
 * (`enc1 → z1 → enc2 → z2`, conditional prior `prior1(z2)`, losses `rec`, `kl1`, `kl2`).
 *
 * @param spec Sizes and likelihood.
 * @returns The validated graph; its input is `x` of shape `B,D`.
 *
 * @example An 8-bit MNIST VAE
 * ```ts
 * import { vaeGraph } from "./vae.ts";
 * const g = vaeGraph({
 *   kind: "vae",
 *   dims: 784,
 *   hidden: 256,
 *   latent: 32,
 *   likelihood: { kind: "discretized_logistic" },
 * });
 * g.losses.map((l) => l.name); // ["rec", "kl"]
 * ```
 */
export function vaeGraph(spec: VaeSpec): Graph<string> {
  const lik = decoderNll(spec.likelihood);
  const out = likelihoodParamCount(spec.likelihood.kind) * spec.dims;
  const x = graph({ x: `B,${spec.dims}` });
  switch (spec.kind) {
    case "vae":
      return x
        .add("enc", mlpEncoder({ hidden: [spec.hidden], latent: spec.latent }), { x: "x" })
        .add("z", reparameterize(), { mu: "enc.mu", logvar: "enc.logvar" })
        .add("dec", mlp({ hidden: [spec.hidden], out }), { x: "z.z" })
        .loss("rec", lik, { x: "x", params: "dec.y" })
        .loss("kl", klStdNormal, { mu: "enc.mu", logvar: "enc.logvar" }, {
          weight: spec.klWeight ?? 1,
        })
        .build();
    case "hvae": {
      const hidden2 = spec.hidden2 ?? 128, latent2 = spec.latent2 ?? 16;
      return x
        .add("enc1", mlpEncoder({ hidden: [spec.hidden], latent: spec.latent }), { x: "x" })
        .add("z1", reparameterize(), { mu: "enc1.mu", logvar: "enc1.logvar" })
        .add("enc2", mlpEncoder({ hidden: [hidden2], latent: latent2 }), { x: "z1.z" })
        .add("z2", reparameterize(), { mu: "enc2.mu", logvar: "enc2.logvar" })
        .add("prior1", mlpEncoder({ hidden: [hidden2], latent: spec.latent }), { x: "z2.z" })
        .add("dec", mlp({ hidden: [spec.hidden], out }), { x: "z1.z" })
        .loss("rec", lik, { x: "x", params: "dec.y" })
        .loss("kl1", hvaeKl1({ estimator: spec.kl1Estimator ?? "mc" }), {
          z: "z1.z",
          qMu: "enc1.mu",
          qLogvar: "enc1.logvar",
          pMu: "prior1.mu",
          pLogvar: "prior1.logvar",
        })
        .loss("kl2", klStdNormal, { mu: "enc2.mu", logvar: "enc2.logvar" })
        .build();
    }
    default: {
      const never: never = spec.kind;
      throw new TypeError(`Cannot build a VAE of unknown kind "${never}": use "vae" or "hvae"`);
    }
  }
}

/**
 * The refs of {@linkcode vaeGraph}'s graphs that the IWAE evaluation and the prior sampler need.
 *
 * @param kind One or two latent levels.
 * @param likelihood The decoder likelihood.
 * @returns The latent plan.
 *
 * @example The one-level VAE
 * ```ts
 * import { vaeLatentPlan } from "./vae.ts";
 * vaeLatentPlan("vae", { kind: "bernoulli" }).levels[0]?.z; // "z.z"
 * ```
 */
export function vaeLatentPlan(kind: VaeKind, likelihood: LikelihoodOptions): LatentPlan {
  switch (kind) {
    case "vae":
      return {
        levels: [{ mu: "enc.mu", logvar: "enc.logvar", z: "z.z" }],
        decoder: "dec.y",
        likelihood,
      };
    case "hvae":
      return {
        levels: [
          {
            mu: "enc1.mu",
            logvar: "enc1.logvar",
            z: "z1.z",
            prior: { mu: "prior1.mu", logvar: "prior1.logvar" },
          },
          { mu: "enc2.mu", logvar: "enc2.logvar", z: "z2.z" },
        ],
        decoder: "dec.y",
        likelihood,
      };
    default: {
      const never: never = kind;
      throw new TypeError(`Cannot plan the latents of unknown kind "${never}"`);
    }
  }
}

/**
 * The mean of per-example values and its standard error, accumulated batch by batch.
 *
 * @example
 * ```ts
 * import { MeanSE } from "./vae.ts";
 * const s = new MeanSE();
 * s.add([1, 2, 3]);
 * s.mean; // 2
 * s.se; // 0.577…
 * ```
 */
export class MeanSE {
  /** Values added. */
  n = 0;
  #sum = 0;
  #sq = 0;
  /**
   * Adds values.
   *
   * @param values Per-example values.
   */
  add(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      this.#sum += values[i]!;
      this.#sq += values[i]! ** 2;
    }
    this.n += values.length;
  }
  /** The mean (NaN before any value). */
  get mean(): number {
    return this.#sum / this.n;
  }
  /** The standard error of the mean (0 for fewer than two values). */
  get se(): number {
    const m = this.mean;
    return this.n > 1 ? Math.sqrt(Math.max(0, this.#sq / this.n - m * m) / (this.n - 1)) : 0;
  }
}

/** Options of {@linkcode vaeBoundBpd}. */
export interface VaeBoundOptions {
  /** Test images (the first ones of the test split, as the diffusion NLL uses). */
  images: number;
  /** IWAE importance samples k. */
  k: number;
  /** IWAE samples per forward chunk. @default 100 */
  chunk?: number;
  /** Reports images done. @default no progress */
  progress?: (done: number, total: number) => void;
}

/** The bound of a VAE-type model on 8-bit test images, in bits/dim. */
export interface VaeBound {
  /** IWAE-k NLL, bits/dim (mean over images). */
  nllBpd: number;
  /** Its standard error over images. */
  nllBpdSE: number;
  /** −ELBO, bits/dim: `rateBpd + distortionBpd`. */
  nelboBpd: number;
  /** Its standard error over images. */
  nelboBpdSE: number;
  /** The KL terms (rate), bits/dim. */
  rateBpd: number;
  /** The reconstruction term −E_q log p(x | z) (distortion), bits/dim. */
  distortionBpd: number;
  /** The IWAE estimate in full, for its extra fields (k, ESS, the −ELBO of its samples). */
  iwae: IwaeResult;
}

/**
 * The test bound of a {@linkcode vaeGraph} model on 8-bit images scaled to [−1, 1]: the −ELBO
 * (one posterior sample per image) split into rate (Σ KL) and distortion (reconstruction NLL),
 * and the IWAE-k NLL on the same first `images` test images; all in bits/dim, so they compare
 * with the diffusion NLL under a discrete likelihood.
 *
 * @param compiled The compiled graph (weights as evaluated).
 * @param data The data set (image or toy; images are flattened).
 * @param kind The model's kind.
 * @param likelihood The decoder likelihood (a discrete one for a discrete NLL).
 * @param options Images, k, chunk, progress.
 * @returns The bound and its parts.
 *
 * @example Bound of a trained VAE on 200 test images with k = 100
 * ```ts ignore
 * const b = await vaeBoundBpd(env.compiled, env.data, "vae", { kind: "discretized_logistic" }, {
 *   images: 200,
 *   k: 100,
 * });
 * ```
 */
export async function vaeBoundBpd(
  compiled: Compiled<string>,
  data: Dataset,
  kind: VaeKind,
  likelihood: LikelihoodOptions,
  options: VaeBoundOptions,
): Promise<VaeBound> {
  const test = (batchSize: number) =>
    splitBatches(data, {
      split: "test",
      transform: "symmetric",
      flatten: true,
      seed: 1,
      batchSize,
      limit: options.images,
    });
  const terms = compiled.graph.losses.map((l) => l.name);
  const rateTerms = terms.filter((t) => t !== "rec");
  const nelbo = new MeanSE(), rate = new MeanSE(), distortion = new MeanSE();
  let dims = 0, step = 0;
  for (const f of test(250)) {
    const x = f.x!;
    dims = x.shape[1]!;
    const out = tf.tidy(() => {
      const r = compiled.run(terms.map((t) => `${t}.loss`), { x }, { step: step++ });
      return terms.map((t) => r[`${t}.loss`]!); // each [B], nats
    });
    const values = await Promise.all(out.map((t) => t.data()));
    const b = x.shape[0]!;
    const rec = values[terms.indexOf("rec")]!;
    const kl = Array.from(
      { length: b },
      (_, i) => rateTerms.reduce((s, t) => s + values[terms.indexOf(t)]![i]!, 0),
    );
    rate.add(kl);
    distortion.add(rec);
    nelbo.add(kl.map((v, i) => v + rec[i]!));
    tf.dispose([...out, ...Object.values(f)]);
  }
  const iwae = await evaluateIwae(compiled, test(50), vaeLatentPlan(kind, likelihood), {
    k: options.k,
    chunk: options.chunk ?? 100,
    seed: 0,
    progress: (done) => options.progress?.(done, nelbo.n),
  });
  const toBpd = (nats: number) => nats / (dims * Math.LN2);
  return {
    nllBpd: iwae.bpd,
    nllBpdSE: iwae.bpdSE,
    nelboBpd: toBpd(nelbo.mean),
    nelboBpdSE: toBpd(nelbo.se),
    rateBpd: toBpd(rate.mean),
    distortionBpd: toBpd(distortion.mean),
    iwae,
  };
}
