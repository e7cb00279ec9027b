/**
 * Published NLL numbers to print beside elbo's: the Improved DDPM ablations (Nichol & Dhariwal
 * 2021, Table 1: ImageNet 64×64 at 200K iterations; Table 2: CIFAR-10 at 500K iterations), in
 * bits/dim, single runs, full-chain NLL, 8-bit data with the discretized Gaussian decoder.
 *
 * Transcribed from `../shared/reference/nll-tables.md` ("Improved DDPM — ablations"), which two
 * independent transcriptions of the paper agree on (`../shared/research/mission-anchors.md` §1.1).
 * Differences from elbo's setting that the table must not hide: the paper's CIFAR-10 rows used
 * dropout 0.1 (linear) and 0.3 (cosine), its L_vlb rows always use importance sampling of t, and
 * its models are U-Nets trained for 200K–500K steps.
 *
 * @module
 */

/** The objectives of the ablation. */
export type Objective = "L_simple" | "L_hybrid" | "L_vlb";

/** One published ablation row. */
export interface PublishedRow {
  /** Diffusion steps T. */
  T: number;
  /** β schedule. */
  schedule: "linear" | "cosine";
  /** Training objective. */
  objective: Objective;
  /** NLL on ImageNet 64×64 (200K iterations), bits/dim. */
  imagenet64: number;
  /** NLL on CIFAR-10 (500K iterations), bits/dim. */
  cifar10: number;
}

/** The Improved DDPM ablation rows (Tables 1 and 2 of Nichol & Dhariwal 2021). */
export const IDDPM_ABLATIONS: readonly PublishedRow[] = [
  { T: 1000, schedule: "linear", objective: "L_simple", imagenet64: 3.99, cifar10: 3.73 },
  { T: 4000, schedule: "linear", objective: "L_simple", imagenet64: 3.77, cifar10: 3.37 },
  { T: 4000, schedule: "linear", objective: "L_hybrid", imagenet64: 3.66, cifar10: 3.26 },
  { T: 4000, schedule: "cosine", objective: "L_simple", imagenet64: 3.68, cifar10: 3.26 },
  { T: 4000, schedule: "cosine", objective: "L_hybrid", imagenet64: 3.62, cifar10: 3.17 },
  { T: 4000, schedule: "cosine", objective: "L_vlb", imagenet64: 3.57, cifar10: 2.94 },
];

/**
 * The published row analogous to a schedule, objective and T: the same schedule and objective,
 * at the same T when the paper has it, else at the nearest T (the paper ran most rows at 4K only).
 *
 * @param schedule β schedule.
 * @param objective Training objective.
 * @param T Diffusion steps of our row.
 * @returns The published row, or `undefined` when the paper has no row with that schedule and
 * objective.
 *
 * @example Our T = 1000 cosine/L_hybrid row compares with the paper's T = 4000 one
 * ```ts
 * import { publishedAnalog } from "./published_nll.ts";
 * publishedAnalog("cosine", "L_hybrid", 1000)?.cifar10; // 3.17 (at T = 4000)
 * ```
 */
export function publishedAnalog(
  schedule: string,
  objective: string,
  T: number,
): PublishedRow | undefined {
  const same = IDDPM_ABLATIONS.filter((r) => r.schedule === schedule && r.objective === objective);
  return same.sort((a, b) => Math.abs(a.T - T) - Math.abs(b.T - T))[0];
}
