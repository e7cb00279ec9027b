/**
 * The reference workloads A, B and C as constants: sizes, optimiser settings, parameter counts and
 * matmul FLOPs per step. Definitions: `/work/shared/bench/README.md` ("Reference workloads").
 *
 * - A: DDPM training step of an eps-prediction MLP (784-1024-1024-1024-784, SiLU, sinusoidal time
 *   embedding through a 2-layer MLP added to every hidden pre-activation), batch 128, Adam 2e-4.
 * - B: VAE training step (784-512-(32+32) encoder, 32-512-784 decoder, Bernoulli likelihood,
 *   analytic KL), batch 128, Adam 1e-3.
 * - C: forward pass of A's network on a batch of 1000 (the exact-NLL evaluation kernel).
 *
 * FLOPs count matmuls only (2 per multiply-add): forward, weight gradients, and input gradients
 * except for layers whose input is not trainable (data or the fixed sinusoidal embedding).
 *
 * @module
 */

/** Names of the reference workloads. */
export type WorkloadName = "A" | "B" | "C";

/** Image size: flattened 28x28. */
export const PIXELS = 784;
/** Diffusion steps T of the linear beta schedule (A, C). */
export const DIFFUSION_STEPS = 1000;
/** First beta of the linear schedule (Ho et al. 2020, Sec. 4). */
export const BETA_START = 1e-4;
/** Last beta of the linear schedule. */
export const BETA_END = 0.02;
/** Hidden width of A's eps network. */
export const HIDDEN = 1024;
/** Size of A's sinusoidal time embedding (sin and cos halves of 64 each). */
export const TIME_EMBED = 128;
/** Hidden width of B's encoder and decoder. */
export const VAE_HIDDEN = 512;
/** Latent size of B. */
export const VAE_LATENT = 32;
/** Training batch (A, B). */
export const TRAIN_BATCH = 128;
/** Evaluation batch (C). */
export const EVAL_BATCH = 1000;
/** Adam learning rate of A. */
export const LR_A = 2e-4;
/** Adam learning rate of B. */
export const LR_B = 1e-3;

/** `[in, out]` of every Linear layer of A's network, in the order e1, e2, l1, l2, l3, out. */
export const LAYERS_A: readonly (readonly [number, number])[] = [
  [TIME_EMBED, HIDDEN],
  [HIDDEN, HIDDEN],
  [PIXELS, HIDDEN],
  [HIDDEN, HIDDEN],
  [HIDDEN, HIDDEN],
  [HIDDEN, PIXELS],
];

/** `[in, out]` of B's Linear layers: encoder hidden, encoder head, decoder hidden, decoder out. */
export const LAYERS_B: readonly (readonly [number, number])[] = [
  [PIXELS, VAE_HIDDEN],
  [VAE_HIDDEN, 2 * VAE_LATENT],
  [VAE_LATENT, VAE_HIDDEN],
  [VAE_HIDDEN, PIXELS],
];

/**
 * Number of weights and biases of a stack of Linear layers.
 *
 * @param layers `[in, out]` per layer.
 * @returns The parameter count.
 *
 * @example
 * ```ts
 * import { LAYERS_A, paramCount } from "./workloads.ts";
 * console.log(paramCount(LAYERS_A)); // 4888336
 * ```
 */
export function paramCount(layers: readonly (readonly [number, number])[]): number {
  return layers.reduce((s, [i, o]) => s + i * o + o, 0);
}

/**
 * Multiply-adds per sample of one forward pass through a stack of Linear layers.
 *
 * @param layers `[in, out]` per layer.
 * @returns in * out summed over the layers.
 *
 * @example
 * ```ts
 * import { forwardMacs, LAYERS_A } from "./workloads.ts";
 * console.log(forwardMacs(LAYERS_A)); // 4882432
 * ```
 */
export function forwardMacs(layers: readonly (readonly [number, number])[]): number {
  return layers.reduce((s, [i, o]) => s + i * o, 0);
}

/** Parameters of A (and C): 4,888,336. */
export const PARAMS_A: number = paramCount(LAYERS_A);
/** Parameters of B: 853,840. */
export const PARAMS_B: number = paramCount(LAYERS_B);

/** Forward multiply-adds per sample of A's network: 4,882,432. */
export const MACS_A_FORWARD: number = forwardMacs(LAYERS_A);
/** Training multiply-adds per sample of A (no input gradient for e1 and l1): 13,710,848. */
export const MACS_A_TRAIN: number = 3 * MACS_A_FORWARD - (TIME_EMBED * HIDDEN + PIXELS * HIDDEN);
/** Forward multiply-adds per sample of B. */
export const MACS_B_FORWARD: number = forwardMacs(LAYERS_B);
/** Training multiply-adds per sample of B (no input gradient for the data layer). */
export const MACS_B_TRAIN: number = 3 * MACS_B_FORWARD - PIXELS * VAE_HIDDEN;

/** What one step of a workload is: items processed and matmul GFLOP. */
export interface WorkloadSpec {
  /** The workload's name. */
  name: WorkloadName;
  /** Samples per step (the batch). */
  items: number;
  /** Matmul GFLOP per step. */
  gflopPerStep: number;
  /** Trainable parameters of the model. */
  params: number;
  /** What the throughput counts. */
  unit: "train samples/s" | "forward samples/s";
}

/** A, B and C: items per step and matmul GFLOP per step (A 3.51, B 0.552, C 9.76). */
export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadSpec>> = {
  A: {
    name: "A",
    items: TRAIN_BATCH,
    gflopPerStep: 2 * MACS_A_TRAIN * TRAIN_BATCH / 1e9,
    params: PARAMS_A,
    unit: "train samples/s",
  },
  B: {
    name: "B",
    items: TRAIN_BATCH,
    gflopPerStep: 2 * MACS_B_TRAIN * TRAIN_BATCH / 1e9,
    params: PARAMS_B,
    unit: "train samples/s",
  },
  C: {
    name: "C",
    items: EVAL_BATCH,
    gflopPerStep: 2 * MACS_A_FORWARD * EVAL_BATCH / 1e9,
    params: PARAMS_A,
    unit: "forward samples/s",
  },
};

/**
 * The linear beta schedule's sqrt(abar_t) and sqrt(1 - abar_t) for t = 1..T, computed in float64
 * (Ho et al. 2020, Eq. 4: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps).
 *
 * @param steps T.
 * @returns Both tables, index t - 1.
 *
 * @example
 * ```ts
 * import { linearScheduleTables } from "./workloads.ts";
 * const { sqrtAbar } = linearScheduleTables(1000);
 * console.log(sqrtAbar[0]); // sqrt(1 - 1e-4)
 * ```
 */
export function linearScheduleTables(
  steps: number = DIFFUSION_STEPS,
): { sqrtAbar: Float64Array; sqrtOneMinusAbar: Float64Array } {
  const sqrtAbar = new Float64Array(steps);
  const sqrtOneMinusAbar = new Float64Array(steps);
  let abar = 1;
  for (let i = 0; i < steps; i++) {
    const beta = BETA_START + (BETA_END - BETA_START) * i / Math.max(1, steps - 1);
    abar *= 1 - beta;
    sqrtAbar[i] = Math.sqrt(abar);
    sqrtOneMinusAbar[i] = Math.sqrt(1 - abar);
  }
  return { sqrtAbar, sqrtOneMinusAbar };
}
