/**
 * Shared helpers of the node tests: reads, closeness assertions, a small seeded data set, and a
 * short training that reports the loss before and after. Not a test file.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { compile, type Compiled, type Graph } from "../../lib/graph/mod.ts";

import { assertClose as close, read } from "../vae/_helpers.ts";
export { read };

/** `assertClose` of the VAE tests with the node tests' default atol of 1e-5 (float32 nets). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol?: number; rtol?: number; what?: string } = {},
): void {
  close(actual, expected, { atol: 1e-5, ...tol });
}

/** σ(v) in float64. */
export function sigmoid(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** A [n, d] row-major array from a tensor. */
export async function rows(t: tf.Tensor): Promise<number[][]> {
  const d = t.shape[t.rank - 1]!;
  const v = await read(t);
  return Array.from({ length: v.length / d }, (_, i) => v.slice(i * d, (i + 1) * d));
}

/**
 * Seeded data in (0, 1) with low-rank structure: σ(z A) with z ~ N(0, I) of `rank` dims, so an
 * autoencoder has something to learn. `binary` thresholds it at 0.5.
 */
export function lowRankData(
  n: number,
  d: number,
  options: { rank?: number; seed?: number; binary?: boolean } = {},
): tf.Tensor2D {
  return tf.tidy(() => {
    const r = options.rank ?? 3, seed = options.seed ?? 1;
    const z = tf.randomNormal([n, r], 0, 1, "float32", seed);
    const a = tf.randomNormal([r, d], 0, 2, "float32", seed + 1);
    const p = tf.sigmoid(tf.matMul(z, a)); // [n, d]
    return (options.binary ? tf.cast(tf.greater(p, 0.5), "float32") : p) as tf.Tensor2D;
  });
}

/** Total loss of the graph on fixed feeds, in evaluation mode at step 0. */
export async function totalLoss(c: Compiled<string>, feeds: Record<string, tf.Tensor>) {
  const t = tf.tidy(() => c.losses(feeds).total);
  const v = (await t.data())[0]!;
  t.dispose();
  return v;
}

/**
 * Compiles `g`, trains it `steps` steps on the same feeds, and returns the evaluation-mode loss
 * before and after (the compiled graph is disposed).
 */
export async function trainLoss(
  g: Graph<string>,
  feeds: Record<string, tf.Tensor>,
  options: { steps?: number; lr?: number; seed?: number } = {},
): Promise<{ before: number; after: number }> {
  const c = compile(g, {
    seed: options.seed ?? 0,
    optimizer: { kind: "adam", lr: options.lr ?? 1e-2 },
  });
  try {
    const before = await totalLoss(c, feeds);
    for (let s = 0; s < (options.steps ?? 100); s++) {
      const r = c.trainStep(feeds, s);
      tf.dispose([r.total, ...Object.values(r.terms), ...Object.values(r.kept)]);
    }
    const after = await totalLoss(c, feeds);
    return { before, after };
  } finally {
    c.dispose();
  }
}

/** Sets a compiled graph's variable `node/param` to the given values. */
export function setVar(c: Compiled<string>, name: string, values: number[] | Float32Array): void {
  const v = c.variables.get(name);
  if (v === undefined) {
    throw new RangeError(`no variable '${name}': have ${[...c.variables.keys()].join(", ")}`);
  }
  tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
}
