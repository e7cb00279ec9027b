import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  discretizedGaussianLogProb,
  discretizedLogisticLogProb,
  logLikelihood,
} from "../../lib/vae/mod.ts";
import { assertClose, read, sigmoid64 } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** The 256 levels k/127.5 − 1 of 8-bit data on [−1, 1]. */
const LEVELS = Array.from({ length: 256 }, (_, k) => k / 127.5 - 1);

/** Σ over the 256 levels of P(level) for each of `p` random (μ, log s) pairs. */
async function massOverLevels(
  fn: typeof discretizedLogisticLogProb,
  seed: number,
): Promise<number[]> {
  const p = 24;
  const means = tf.randomUniform([1, p], -1.3, 1.3, "float32", seed); // [1, P]
  const logScales = tf.randomUniform([1, p], -7, 0.5, "float32", seed + 1); // [1, P]
  const x = tf.tile(tf.reshape(tf.tensor1d(LEVELS), [256, 1]), [1, p]); // [256, P]
  const lp = fn(x, { means: tf.tile(means, [256, 1]), logScales: tf.tile(logScales, [256, 1]) });
  const values = await read(lp);
  return Array.from({ length: p }, (_, j) => {
    let s = 0;
    for (let k = 0; k < 256; k++) s += Math.exp(values[k * p + j] as number);
    return s;
  });
}

Deno.test("discretizedLogisticLogProb() puts total mass 1 on the 256 levels for random mu, s", async () => {
  const mass = await massOverLevels(discretizedLogisticLogProb, 3);
  assertClose(mass, mass.map(() => 1), { atol: 2e-5, rtol: 0, what: "mass" });
});

Deno.test("discretizedGaussianLogProb() puts total mass 1 on the 256 levels for random mu, s", async () => {
  const mass = await massOverLevels(discretizedGaussianLogProb, 4);
  assertClose(mass, mass.map(() => 1), { atol: 2e-5, rtol: 0, what: "mass" });
});

/** Exact log P(x) of the discretized logistic in float64, using the tail-safe side of σ. */
function logisticReference(x: number, mu: number, logS: number): number {
  const s = Math.exp(logS);
  const a = (x - mu + 1 / 255) / s;
  const b = (x - mu - 1 / 255) / s;
  if (x < -0.999) return Math.log(sigmoid64(a));
  if (x > 0.999) return Math.log(sigmoid64(-b));
  // σ(a) − σ(b) = σ(−b) − σ(−a); subtract on the side where both are small.
  return x - mu > 0
    ? Math.log(sigmoid64(-b) - sigmoid64(-a))
    : Math.log(sigmoid64(a) - sigmoid64(b));
}

Deno.test("discretizedLogisticLogProb() equals the exact bin probability, from tiny to huge scales", async () => {
  const f32 = Math.fround;
  // (x, μ, log s): interior and edge levels, far tails, s = e^-9 … e^12 (d = 2/255/s from 6e-8 to 6e1).
  const cases: [number, number, number][] = [
    [0, 0, -3],
    [LEVELS[200] as number, 0.2, -2],
    [-1, -0.95, -4],
    [1, 0.7, -1],
    [LEVELS[10] as number, 0.8, -3], // far left tail
    [LEVELS[250] as number, -0.6, -2.5], // far right tail
    [LEVELS[128] as number, 0.004, -9], // very small scale
    [LEVELS[90] as number, -0.1, 6], // large scale
    [LEVELS[37] as number, 0.3, 12], // huge scale, d ≈ 5e-8
    [-1, 0.3, 12],
    [1, -0.2, 12],
  ];
  const xs = cases.map((c) => f32(c[0]));
  const mus = cases.map((c) => f32(c[1]));
  const lss = cases.map((c) => f32(c[2]));
  const lp = await read(
    discretizedLogisticLogProb(tf.tensor1d(xs), {
      means: tf.tensor1d(mus),
      logScales: tf.tensor1d(lss),
    }),
  );
  const expected = xs.map((x, i) => logisticReference(x, mus[i] as number, lss[i] as number));
  // float32 inputs: the arguments a, b carry ~1e-7 relative error, so compare to 1e-4 relative.
  assertClose(lp, expected, { atol: 1e-4, rtol: 1e-4, what: "log P" });
});

Deno.test("discretizedLogisticLogProb() has finite gradients at extreme scales and tails", async () => {
  const x = tf.tensor1d([0, LEVELS[10] as number, -1, 1, LEVELS[100] as number]);
  const means = tf.tensor1d([0, 0.9, 0.5, -0.5, 0]);
  const logScales = tf.tensor1d([-9, -3, 12, 12, 9]);
  const [gm, gs] = tf.grads((m: tf.Tensor, s: tf.Tensor) =>
    tf.sum(discretizedLogisticLogProb(x, { means: m, logScales: s }))
  )([means, logScales]);
  const all = [...(await read(gm as tf.Tensor)), ...(await read(gs as tf.Tensor))];
  assert.ok(all.every(Number.isFinite), `gradients ${all}`);
});

Deno.test("discretizedGaussianLogProb() reproduces improved-diffusion's values and gradients (PyTorch golden numbers)", async () => {
  // Inputs and outputs of improved-diffusion's `discretized_gaussian_log_likelihood`
  // (improved_diffusion/losses.py, openai/improved-diffusion) evaluated on these float32 inputs
  // with PyTorch 1.13 on CPU (`/usr/bin/python3`), a one-off run outside the repository. The last
  // two hit the 1e-12 clamp.
  const k = [0, 0, 1, 64, 127, 128, 200, 254, 255, 255, 128, 30];
  const means = [-0.98, 0.5, -1.0, -0.5, 0.0, 0.01, 0.6, 0.99, 1.2, 0.3, 0.5, -0.7];
  const logScales = [-4, -1, -3, -2, -5, -6, -1.5, -3.5, -2, 0.5, -8, -7.5];
  const golden = [
    -1.66001,
    -11.28842,
    -2.780536,
    -3.7673,
    -0.9738746,
    -1.649114,
    -4.277039,
    -2.272425,
    -0.06836,
    -1.089264,
    -27.63102,
    -27.63102,
  ];
  const x = tf.tensor1d(k.map((v) => v / 127.5 - 1));
  const lp = discretizedGaussianLogProb(x, {
    means: tf.tensor1d(means),
    logScales: tf.tensor1d(logScales),
  });
  assertClose(await read(lp), golden, { atol: 2e-5, rtol: 2e-5, what: "log P" });
  // Gradients of the sum w.r.t. means and logScales (PyTorch autograd, same script); the
  // clamped entries have zero gradient in both.
  const goldenDMeans = [
    -77.85433,
    -13.96115,
    3.172577,
    0.1075439,
    -77.18847,
    -572.726,
    -0.63311,
    2.363266,
    1.016405,
    0.6575816,
    0,
    0,
  ];
  const goldenDLogScales = [
    1.251774,
    20.88698,
    -0.973093,
    -0.9995073,
    -0.6243613,
    1.234055,
    -0.9800375,
    -0.9892958,
    -0.2072669,
    0.4577283,
    0,
    0,
  ];
  const [gm, gs] = tf.grads((m: tf.Tensor, s: tf.Tensor) =>
    tf.sum(discretizedGaussianLogProb(x, { means: m, logScales: s }))
  )([tf.tensor1d(means), tf.tensor1d(logScales)]);
  assertClose(await read(gm as tf.Tensor), goldenDMeans, {
    atol: 1e-4,
    rtol: 1e-3,
    what: "d/dmeans",
  });
  assertClose(await read(gs as tf.Tensor), goldenDLogScales, {
    atol: 1e-4,
    rtol: 1e-3,
    what: "d/dlogScales",
  });
});

Deno.test("logLikelihood() with a discretized likelihood sums the per-pixel log-probabilities", async () => {
  const x = tf.tensor2d([[-1, LEVELS[100] as number, 1], [
    LEVELS[3] as number,
    0,
    LEVELS[250] as number,
  ]]);
  const means = tf.tensor2d([[-0.9, 0, 0.8], [0, 0.1, 0.9]]);
  const logScales = tf.fill([2, 3], -2);
  for (const kind of ["discretized_logistic", "discretized_gaussian"] as const) {
    const fn = kind === "discretized_logistic"
      ? discretizedLogisticLogProb
      : discretizedGaussianLogProb;
    const el = await read(fn(x, { means, logScales }));
    const sums = [el[0]! + el[1]! + el[2]!, el[3]! + el[4]! + el[5]!];
    assertClose(await read(logLikelihood(x, { kind, means, logScales })), sums, { what: kind });
  }
  assert.throws(
    () => discretizedGaussianLogProb(x, { means: tf.zeros([2, 2]), logScales }),
    TypeError,
  );
});
