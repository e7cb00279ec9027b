/**
 * Known-density checks. The 2-D toy mixtures are quantised to the same 8-bit grid the diffusion
 * decoder assumes (256 levels on [−1, 1]: k/127.5 − 1), so the floor for any discrete NLL is the
 * exact entropy of the quantised mixture, computed from the components' Gaussian CDFs over the
 * 256² bins (outer bins extend to ±∞, like the decoder's edge bins).
 *
 * @module
 */

import type { GaussianMixture2D } from "../data/toy.ts";

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2, t = 1 / (1 + 0.3275911 * z);
  const y = 1 -
    (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * Rounds values to the 8-bit grid on [−1, 1] (k/127.5 − 1), clipping first.
 *
 * @param values Values.
 * @returns Quantised values.
 *
 * @example Snap to the grid
 * ```ts
 * import { quantize8 } from "./toy.ts";
 * quantize8([0.001, -2])[1]; // -1
 * ```
 */
export function quantize8(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(
    values as ArrayLike<number>,
    (v) => Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5) / 127.5 - 1,
  );
}

/**
 * The exact entropy (nats per point) of a 2-D isotropic Gaussian mixture quantised to the 8-bit
 * grid on [−1, 1]: the floor for any discrete NLL of quantised samples.
 *
 * @param mixture The mixture.
 * @returns −Σ P(bin) log P(bin).
 *
 * @example The ring's floor
 * ```ts
 * import { ringMixture } from "../data/mod.ts";
 * import { discreteEntropy } from "./toy.ts";
 * discreteEntropy(ringMixture()) > 0; // true
 * ```
 */
export function discreteEntropy(mixture: GaussianMixture2D): number {
  const { means, stds, weights } = mixture;
  const edges = (k: number): [number, number] => {
    const c = k / 127.5 - 1;
    return [k === 0 ? -Infinity : c - 1 / 255, k === 255 ? Infinity : c + 1 / 255];
  };
  const K = weights.length;
  const px = new Float64Array(K * 256), py = new Float64Array(K * 256);
  for (let j = 0; j < K; j++) {
    for (let k = 0; k < 256; k++) {
      const [lo, hi] = edges(k);
      const s = stds[j]!;
      px[j * 256 + k] = phi((hi - means[2 * j]!) / s) - phi((lo - means[2 * j]!) / s);
      py[j * 256 + k] = phi((hi - means[2 * j + 1]!) / s) - phi((lo - means[2 * j + 1]!) / s);
    }
  }
  let h = 0;
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      let p = 0;
      for (let j = 0; j < K; j++) p += weights[j]! * px[j * 256 + a]! * py[j * 256 + b]!;
      if (p > 0) h -= p * Math.log(p);
    }
  }
  return h;
}
