/**
 * What diffusion experiments share: a model function from a compiled graph (optionally
 * class-conditional with classifier-free guidance), the exact NLL in bits/dim from the full chain
 * over a test split with its per-t breakdown, and sampling with DDPM or respaced DDIM.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Compiled } from "../graph/compile.ts";
import type { Dataset } from "../data/dataset.ts";
import {
  classifierFreeGuidance,
  type CondFn,
  GaussianDiffusion,
  type GaussianDiffusionOptions,
  type GuidanceStrength,
  spacedDiffusion,
  type SyncModel,
} from "../diffusion/mod.ts";
import { splitBatches } from "./batches.ts";
import type { Tensor } from "../types.ts";

/** Which refs of the graph are the network's inputs and output. */
export interface NetRefs {
  /** The noisy input x_t (fed). */
  xt: string;
  /** The timestep (fed). */
  t: string;
  /** The network output. */
  out: string;
  /** The class label input (fed), for class-conditional nets. */
  y?: string;
}

/** Class conditioning at sampling or evaluation time. */
export interface Conditioning {
  /** Labels `[B]` (int32). */
  labels: Tensor;
  /** The null class id used for the unconditional prediction. */
  nullClass: number;
  /** Classifier-free guidance strength; omit for the conditional model alone. */
  guidance?: GuidanceStrength;
}

/**
 * The network as a diffusion `model(x_t, t)`: runs only the nodes between the fed refs and the
 * output. With `cond.guidance`, ε̃ combines the conditional and the null-class prediction (the
 * variance channels of a learned-variance net come from the conditional one).
 *
 * @param compiled The compiled graph.
 * @param refs The network's refs.
 * @param cond Class labels and guidance.
 * @returns A synchronous model function.
 *
 * @example The ε-net of a DDPM graph
 * ```ts ignore
 * const model = modelFn(env.compiled, { xt: "noise.xt", t: "noise.t", out: "net.out" });
 * ```
 */
export function modelFn(
  compiled: Compiled<string>,
  refs: NetRefs,
  cond?: Conditioning,
): SyncModel {
  const run = (xt: Tensor, t: Tensor, y?: Tensor) => {
    const feeds: Record<string, Tensor> = { [refs.xt]: xt, [refs.t]: t };
    if (refs.y !== undefined && y !== undefined) feeds[refs.y] = y;
    return compiled.run([refs.out], feeds)[refs.out]!;
  };
  if (cond === undefined) return (xt, t) => run(xt, t);
  return (xt, t) =>
    tf.tidy(() => {
      const b = xt.shape[0]!;
      const labels = cond.labels.shape[0] === b ? cond.labels : tf.slice(cond.labels, 0, b);
      const c = run(xt, t, labels);
      if (cond.guidance === undefined) return c;
      const u = run(xt, t, tf.fill([b], cond.nullClass, "int32"));
      const d = xt.shape[xt.rank - 1]!;
      if (c.shape[c.rank - 1] === d) return classifierFreeGuidance(c, u, cond.guidance);
      const [cm, cv] = tf.split(c, 2, -1), [um] = tf.split(u, 2, -1);
      return tf.concat([classifierFreeGuidance(cm!, um!, cond.guidance), cv!], -1);
    });
}

/** The exact NLL over a test split: mean and s.e. of bits/dim, and its decomposition. */
export interface NllResult {
  /** Mean total bits/dim (Σ_t L_t + prior). */
  bpd: number;
  /** Standard error of the mean over images. */
  bpdSE: number;
  /** Mean prior term L_T, bits/dim. */
  prior: number;
  /** Mean decoder term L_0 (the distortion), bits/dim. */
  decoder: number;
  /** Mean Σ_{t≥1} L_t (the rate, without the prior), bits/dim. */
  rate: number;
  /** Mean L_t per t, bits/dim, indexed by t = 0 … T − 1. */
  perT: number[];
  /** Images evaluated. */
  images: number;
}

/**
 * Evaluates the variational bound in bits/dim with `calcBpdLoop` on the full chain, over the
 * first `images` test images (8-bit, scaled to [−1, 1], improved-diffusion's discretized decoder).
 *
 * @param d The (un-respaced) diffusion.
 * @param model The model function.
 * @param data The data set.
 * @param options Images, batch size, input layout, seed, class labels for conditional nets.
 * @returns Mean, s.e. and the per-t breakdown.
 *
 * @example See `experiments/cosine-vs-linear.ts`
 * ```ts ignore
 * const nll = await testNll(d, model, env.data, { images: 200, flatten: true });
 * ```
 */
export async function testNll(
  d: GaussianDiffusion,
  model: SyncModel | ((labels: Tensor) => SyncModel),
  data: Dataset,
  options: {
    images: number;
    batchSize?: number;
    flatten?: boolean;
    quantize?: boolean;
    seed?: number;
    conditional?: boolean;
    progress?: (done: number, total: number) => void;
  },
): Promise<NllResult> {
  if (d.timestepMap !== undefined) {
    throw new RangeError(
      "Cannot evaluate the NLL on a respaced chain as it hurts the bound badly (improved-diffusion §3.4): pass the full diffusion",
    );
  }
  const T = d.betas.length;
  const perT = new Float64Array(T);
  let n = 0, sum = 0, sumSq = 0, prior = 0;
  const bs = options.batchSize ?? 100;
  const toy = data.kind === "toy";
  for (
    const f of splitBatches(data, {
      split: "test",
      batchSize: bs,
      ...(toy ? {} : { transform: "symmetric" as const, flatten: options.flatten ?? false }),
      limit: options.images,
    }, { labels: "y", quantize: options.quantize ?? false })
  ) {
    const x0 = f.x!;
    const m = options.conditional
      ? (model as (labels: Tensor) => SyncModel)(f.y!)
      : model as SyncModel;
    const r = await d.calcBpdLoop(m, x0, {
      clipDenoised: true,
      seed: (options.seed ?? 0) + n,
    });
    const total = await r.totalBpd.data(), pr = await r.priorBpd.data();
    const vb = await r.vb.data();
    const b = x0.shape[0]!;
    for (let i = 0; i < b; i++) {
      sum += total[i]!;
      sumSq += total[i]! ** 2;
      prior += pr[i]!;
      for (let j = 0; j < T; j++) perT[r.timesteps[j]!] = perT[r.timesteps[j]!]! + vb[i * T + j]!;
    }
    n += b;
    tf.dispose([r.totalBpd, r.priorBpd, r.vb, r.xstartMse, r.mse, ...Object.values(f)]);
    options.progress?.(n, options.images);
  }
  const mean = sum / n;
  const perTMean = Array.from(perT, (v) => v / n);
  return {
    bpd: mean,
    bpdSE: n > 1 ? Math.sqrt(Math.max(0, sumSq / n - mean * mean) / (n - 1)) : 0,
    prior: prior / n,
    decoder: perTMean[0]!,
    rate: perTMean.slice(1).reduce((a, b) => a + b, 0),
    perT: perTMean,
    images: n,
  };
}

/** How to sample: ancestral DDPM on the full chain, or DDIM on a respaced chain. */
export type Sampler =
  | { kind: "ddpm" }
  | { kind: "ddim"; steps: number; eta: number };

/**
 * Draws samples with the chosen sampler.
 *
 * @param base The options of the training diffusion (betas, mean/var/loss types).
 * @param model The model function (it receives the original timesteps).
 * @param shape Sample shape `[B, …]`.
 * @param options Sampler, seed, optional classifier gradient.
 * @returns Samples in [−1, 1].
 *
 * @example 64 DDIM-50 samples
 * ```ts ignore
 * const x = await sample(base, model, [64, 784], { sampler: { kind: "ddim", steps: 50, eta: 0 }, seed: 1 });
 * ```
 */
export async function sample(
  base: GaussianDiffusionOptions,
  model: SyncModel,
  shape: number[],
  options: { sampler: Sampler; seed: number; condFn?: CondFn },
): Promise<Tensor> {
  const s = options.sampler;
  const extra = options.condFn ? { condFn: options.condFn } : {};
  switch (s.kind) {
    case "ddpm":
      return await new GaussianDiffusion(base).pSampleLoop(model, shape, {
        seed: options.seed,
        clipDenoised: true,
        ...extra,
      });
    case "ddim":
      return await spacedDiffusion(base, `ddim${s.steps}`).ddimSampleLoop(model, shape, {
        seed: options.seed,
        clipDenoised: true,
        eta: s.eta,
        ...extra,
      });
    default: {
      const never: never = s;
      throw new TypeError(
        `Cannot sample with unknown sampler: current value is ${JSON.stringify(never)}`,
      );
    }
  }
}
