/**
 * Test-set evaluation of a graph's loss terms: per-example values averaged over a split, with
 * standard errors, read back asynchronously.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Compiled } from "../graph/compile.ts";
import type { Tensor } from "../types.ts";

/** Mean and standard error of each term over the examples. */
export interface TermStats {
  /** Mean per term (and `total`: the weighted sum per example). */
  mean: Record<string, number>;
  /** Standard error of the mean per term. */
  stderr: Record<string, number>;
  /** Number of examples. */
  n: number;
}

/**
 * Averages every loss term (and the weighted total) over batches, in evaluation mode.
 *
 * @param compiled The compiled graph.
 * @param batches Feeds, disposed here.
 * @param options `step` keys the random streams (fixed for a reproducible evaluation).
 * @returns Means and standard errors.
 *
 * @example See `experiments/vae-mnist.ts`
 * ```ts ignore
 * const stats = await evaluateTerms(env.compiled, splitBatches(data, { split: "test" }));
 * ```
 */
export async function evaluateTerms(
  compiled: Compiled<string>,
  batches: Iterable<Record<string, Tensor>>,
  options: { step?: number } = {},
): Promise<TermStats> {
  const sums: Record<string, number> = {}, sq: Record<string, number> = {};
  let n = 0, i = 0;
  const weights = Object.fromEntries(compiled.graph.losses.map((l) => [l.name, l.weight ?? 1]));
  for (const feeds of batches) {
    const terms = tf.tidy(() => compiled.losses(feeds, { step: (options.step ?? 0) + i++ }).terms);
    tf.dispose(Object.values(feeds));
    const values: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(terms)) values[k] = (await t.data()) as Float32Array;
    tf.dispose(Object.values(terms));
    const b = Object.values(values)[0]!.length;
    for (let j = 0; j < b; j++) {
      let total = 0;
      for (const [k, v] of Object.entries(values)) {
        const x = v[j]!;
        sums[k] = (sums[k] ?? 0) + x;
        sq[k] = (sq[k] ?? 0) + x * x;
        total += weights[k]! * x;
      }
      sums.total = (sums.total ?? 0) + total;
      sq.total = (sq.total ?? 0) + total * total;
    }
    n += b;
  }
  const mean: Record<string, number> = {}, stderr: Record<string, number> = {};
  for (const k of Object.keys(sums)) {
    const m = sums[k]! / n;
    mean[k] = m;
    stderr[k] = n > 1 ? Math.sqrt(Math.max(0, sq[k]! / n - m * m) / (n - 1)) : 0;
  }
  return { mean, stderr, n };
}
