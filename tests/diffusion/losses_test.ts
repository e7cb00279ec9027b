import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  approxStandardNormalCdf,
  discretizedGaussianLogLikelihood,
  normalKl,
} from "../../lib/diffusion/mod.ts";
import { Rng } from "../../lib/data/random.ts";
import { values } from "./helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("normalKl() of identical Gaussians is 0", async () => {
  const m = tf.tensor1d([-2, 0, 0.3, 5]);
  const lv = tf.tensor1d([-6, -1, 0, 2]);
  assert.deepEqual(await values(normalKl(m, lv, m, lv)), [0, 0, 0, 0]);
  assert.deepEqual(await values(normalKl(tf.zeros([2]), tf.zeros([2]), 0, 0)), [0, 0]);
});

Deno.test("normalKl() matches the closed form and a Monte-Carlo estimate of E_q[log q − log p]", async () => {
  const [m1, lv1, m2, lv2] = [0.4, Math.log(0.3), -0.2, Math.log(1.7)];
  const closed = 0.5 * (-1 + lv2 - lv1 + Math.exp(lv1 - lv2) + (m1 - m2) ** 2 * Math.exp(-lv2));
  const kl = (await values(normalKl(tf.scalar(m1), tf.scalar(lv1), m2, lv2)))[0]!;
  assert.ok(Math.abs(kl - closed) < 1e-6, `${kl} vs ${closed}`);
  // Monte Carlo with a seeded Box–Muller stream: n = 200000 draws, standard error ≈ 0.0016.
  const rng = new Rng(11);
  const logN = (x: number, m: number, lv: number) =>
    -0.5 * (Math.log(2 * Math.PI) + lv + (x - m) ** 2 / Math.exp(lv));
  let sum = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const x = m1 + Math.exp(lv1 / 2) * z;
    sum += logN(x, m1, lv1) - logN(x, m2, lv2);
  }
  const mc = sum / n;
  assert.ok(Math.abs(mc - kl) < 0.01, `Monte Carlo ${mc} vs ${kl} (4σ ≈ 0.0064)`);
});

Deno.test("discretizedGaussianLogLikelihood() sums to ~1 over the 256 bins", async () => {
  const grid = tf.tensor1d(Array.from({ length: 256 }, (_, k) => k / 127.5 - 1));
  for (const [mean, scale] of [[0, 0.3], [0.9, 0.05], [-1, 0.5], [0.2, 2], [0.5, 0.002]]) {
    const lp = discretizedGaussianLogLikelihood(grid, {
      means: tf.fill([256], mean!),
      logScales: tf.fill([256], Math.log(scale!)),
    });
    const total = (await values(lp)).reduce((s, v) => s + Math.exp(v), 0);
    // The edge bins extend to ±∞, so the mass telescopes to 1 up to float32 rounding (and the
    // 1e-12 clamp on empty bins).
    assert.ok(Math.abs(total - 1) < 1e-4, `mean ${mean}, scale ${scale}: total ${total}`);
  }
});

Deno.test("discretizedGaussianLogLikelihood() uses the edge bins at ±1 and clamps at 1e-12", async () => {
  const x = tf.tensor1d([-1, 1, 0]);
  const lp = await values(discretizedGaussianLogLikelihood(x, {
    means: tf.tensor1d([-1, 1, 0.9]),
    logScales: tf.fill([3], Math.log(0.01)),
  }));
  // At −1 the bin covers (−∞, −1 + 1/255]: P = Φ(0.392…) under the tanh approximation.
  const phi = (z: number) =>
    0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
  assert.ok(Math.abs(lp[0]! - Math.log(phi(1 / 255 / 0.01))) < 1e-5);
  assert.ok(Math.abs(lp[1]! - Math.log(1 - phi(-1 / 255 / 0.01))) < 1e-5);
  assert.ok(Math.abs(lp[2]! - Math.log(1e-12)) < 1e-4, `far bin is clamped: ${lp[2]}`);
});

Deno.test("approxStandardNormalCdf() is within 2e-4 of Φ", async () => {
  const xs = [-4, -2, -1, -0.5, 0, 0.5, 1, 2, 4];
  // Φ from a high-accuracy erfc (Numerical Recipes erfcc, |ε| < 1.2e-7).
  const erfc = (x: number) => {
    const z = Math.abs(x);
    const t = 1 / (1 + 0.5 * z);
    const r = t * Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
    return x >= 0 ? r : 2 - r;
  };
  const got = await values(approxStandardNormalCdf(tf.tensor1d(xs)));
  xs.forEach((x, i) => {
    const phi = 0.5 * erfc(-x / Math.SQRT2);
    assert.ok(Math.abs(got[i]! - phi) < 2e-4, `x=${x}: ${got[i]} vs ${phi}`);
  });
});
