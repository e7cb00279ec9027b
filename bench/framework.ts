/**
 * The reference workloads A, B and C built through elbo itself: a graph of library nodes
 * (`lib/nodes`), `compile()`, and the compiled train step (A, B) or forward plan (C). The same
 * {@linkcode Workload} shape as the hand-written versions in `./handwritten.ts`, so one timer
 * measures both.
 *
 * - A: `forwardNoise` (linear β, T = 1000, uniform t) → `epsMlp` (H = 1024, 3 hidden layers, SiLU,
 *   128-d sinusoidal embedding through a 2-layer MLP added to every hidden pre-activation) →
 *   `diffusionLoss` (L_simple, per-example mean over pixels; the framework takes the batch mean).
 *   Adam 2e-4, batch 128.
 * - B: `mlpEncoder` (784-512-2x32, ReLU) → `reparameterize` → `bernoulliDecoder` (32-512-784)
 *   with `bernoulliNll` + `klStdNormal` (the graph of `experiments/vae-mnist.ts`). Adam 1e-3.
 * - C: A's graph, the forward plan for the loss on a batch of 1000 (no gradient); the `[B]`
 *   per-example error is read back.
 *
 * Two details differ from the hand-written step and PyTorch, neither changes the work: the
 * library's embedding is [cos, sin] of t = 0..T-1 (improved-diffusion's), the reference's
 * [sin, cos] of t = 1..T; and the library initialises Linear layers like PyTorch.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { compile, type Compiled, type Graph, graph } from "../lib/graph/mod.ts";
import {
  bernoulliDecoder,
  bernoulliNll,
  diffusionLoss,
  type DiffusionSpec,
  epsMlp,
  forwardNoise,
  klStdNormal,
  mlpEncoder,
  reparameterize,
} from "../lib/nodes/mod.ts";
import type { Tensor } from "../lib/types.ts";
import type { Workload } from "./handwritten.ts";

export type { Workload } from "./handwritten.ts";
export type { DiffusionSpec } from "../lib/nodes/mod.ts";
export type { WorkloadName, WorkloadSpec } from "./workloads.ts";
import {
  DIFFUSION_STEPS,
  EVAL_BATCH,
  HIDDEN,
  LR_A,
  LR_B,
  PIXELS,
  TIME_EMBED,
  TRAIN_BATCH,
  VAE_HIDDEN,
  VAE_LATENT,
  type WorkloadName,
  WORKLOADS,
  type WorkloadSpec,
} from "./workloads.ts";

/** Options of the framework workloads. */
export interface FrameworkOptions {
  /**
   * Batch size.
   * @default {128 for A and B, 1000 for C}
   */
  batch?: number;
  /**
   * Hidden width of A's and C's ε-network (the reference is 1024; the scaling table varies it).
   * @default {1024}
   */
  hidden?: number;
  /**
   * Run seed (initial weights, fixed data batch, every random stream).
   * @default {0}
   */
  seed?: number;
}

/** The diffusion of workloads A and C: DDPM's linear schedule, ε-prediction, L_simple. */
export const DIFFUSION_A: DiffusionSpec = {
  schedule: "linear",
  T: DIFFUSION_STEPS,
  meanType: "eps",
  varType: "fixed_large",
  lossType: "mse",
};

/** Matmul GFLOP per step of A or C at another batch size and width (the table's formula). */
function specFor(name: WorkloadName, batch: number, hidden: number): WorkloadSpec {
  const base = WORKLOADS[name];
  if (name === "B") {
    return { ...base, items: batch, gflopPerStep: base.gflopPerStep * batch / base.items };
  }
  const H = hidden, D = PIXELS, E = TIME_EMBED;
  const forward = E * H + H * H + D * H + 2 * H * H + H * D;
  const train = 3 * forward - (E * H + D * H);
  const params = (E + 1) * H + (H + 1) * H + (D + 1) * H + 2 * (H + 1) * H + (H + 1) * D;
  return {
    ...base,
    items: batch,
    params,
    gflopPerStep: 2 * (name === "A" ? train : forward) * batch / 1e9,
  };
}

/**
 * Workload A's graph: forward noise, ε-MLP, L_simple; another diffusion spec gives the same net
 * under another objective (a learned variance adds the variance outputs).
 *
 * @param hidden Width of the ε-network.
 * @param spec The diffusion and its loss. @default {DIFFUSION_A}
 * @returns The built graph; feed `x0: [B, 784]`.
 *
 * @example
 * ```ts
 * import { ddpmGraph } from "./framework.ts";
 * console.log(ddpmGraph(1024).losses.length); // 1
 * ```
 */
export function ddpmGraph(
  hidden: number = HIDDEN,
  spec: DiffusionSpec = DIFFUSION_A,
): Graph<string> {
  const learnSigma = spec.varType === "learned" || spec.varType === "learned_range";
  return graph({ x0: `B,${PIXELS}` })
    .add("noise", forwardNoise(spec), { x0: "x0" })
    .add("net", epsMlp({ hidden, layers: 3, timeEmbed: TIME_EMBED, learnSigma }), {
      xt: "noise.xt",
      t: "noise.t",
    })
    .loss("simple", diffusionLoss(spec), {
      x0: "x0",
      t: "noise.t",
      eps: "noise.eps",
      xt: "noise.xt",
      out: "net.out",
    })
    .build();
}

/**
 * Workload B's graph: the Bernoulli VAE of `experiments/vae-mnist.ts`.
 *
 * @returns The built graph; feed `x: [B, 784]`.
 *
 * @example
 * ```ts
 * import { vaeGraph } from "./framework.ts";
 * console.log(vaeGraph().losses.map((l) => l.name)); // ["rec", "kl"]
 * ```
 */
export function vaeGraph(): Graph<string> {
  return graph({ x: `B,${PIXELS}` })
    .add("enc", mlpEncoder({ hidden: [VAE_HIDDEN], latent: VAE_LATENT }), { x: "x" })
    .add("z", reparameterize(), { mu: "enc.mu", logvar: "enc.logvar" })
    .add("dec", bernoulliDecoder({ hidden: [VAE_HIDDEN], out: PIXELS }), { z: "z.z" })
    .loss("rec", bernoulliNll, { x: "x", logits: "dec.logits" })
    .loss("kl", klStdNormal, { mu: "enc.mu", logvar: "enc.logvar" })
    .build();
}

/** A training workload: one `trainStep` per step, the total loss returned. */
function trainWorkload<R extends string>(
  c: Compiled<R>,
  feeds: Partial<Record<R, Tensor>>,
  spec: WorkloadSpec,
): Workload {
  let step = 0;
  return {
    spec,
    step: () => {
      const r = c.trainStep(feeds, step++);
      tf.dispose([...Object.values(r.terms), ...Object.values(r.kept)]);
      return r.total;
    },
    dispose: () => {
      tf.dispose(Object.values(feeds) as Tensor[]);
      c.dispose();
    },
  };
}

/**
 * Builds workload A, B or C through the framework (graph → `compile()` → plan).
 *
 * @param name Which workload.
 * @param options Batch, width (A and C) and seed.
 * @returns The workload: `step()` returns the loss (A, B: scalar) or the per-example error
 * (C: `[batch]`); `dispose()` frees the variables and the fixed batch.
 *
 * @example One framework step of workload B on the cpu backend
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeFrameworkWorkload } from "./framework.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeFrameworkWorkload("B", { batch: 4 });
 * const loss = work.step();
 * console.log(await loss.data()); // about 550 nats at initialisation
 * loss.dispose();
 * work.dispose();
 * ```
 */
export function makeFrameworkWorkload(
  name: WorkloadName,
  options: FrameworkOptions = {},
): Workload {
  const seed = options.seed ?? 0;
  const hidden = options.hidden ?? HIDDEN;
  switch (name) {
    case "A": {
      const batch = options.batch ?? TRAIN_BATCH;
      const c = compile(ddpmGraph(hidden), { seed, optimizer: { kind: "adam", lr: LR_A } });
      const x0 = tf.randomUniform([batch, PIXELS], -1, 1, "float32", seed); // [B, D]
      return trainWorkload(c, { x0 }, specFor("A", batch, hidden));
    }
    case "B": {
      const batch = options.batch ?? TRAIN_BATCH;
      const c = compile(vaeGraph(), { seed, optimizer: { kind: "adam", lr: LR_B } });
      const x = tf.tidy(() =>
        tf.cast(
          tf.greater(tf.randomUniform([batch, PIXELS], 0, 1, "float32", seed), 0.5),
          "float32",
        )
      ); // [B, D] binary
      return trainWorkload(c, { x }, specFor("B", batch, hidden));
    }
    case "C": {
      const batch = options.batch ?? EVAL_BATCH;
      const c = compile(ddpmGraph(hidden), { seed, optimizer: { kind: "adam", lr: LR_A } });
      const x0 = tf.randomUniform([batch, PIXELS], -1, 1, "float32", seed); // [B, D]
      let step = 0;
      return {
        spec: specFor("C", batch, hidden),
        step: () => tf.tidy(() => c.run(["simple.loss"], { x0 }, { step: step++ })["simple.loss"]), // [B]
        dispose: () => {
          x0.dispose();
          c.dispose();
        },
      };
    }
    default: {
      const never: never = name;
      throw new TypeError(`Unknown workload ${String(never)}`);
    }
  }
}
