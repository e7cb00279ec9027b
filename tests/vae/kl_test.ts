import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { gaussianKl, gaussianLogProb, klStdNormal, reparameterize } from "../../lib/vae/mod.ts";
import { assertClose, mean, read, stdErr } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("klStdNormal() is 0 for the prior itself and matches the closed form by hand", async () => {
  assertClose(await read(klStdNormal(tf.zeros([3, 4]), tf.zeros([3, 4]))), [0, 0, 0]);
  // Per dim: ½(μ² + σ² − log σ² − 1); example 0: μ = (1, −2), log σ² = (0, 1).
  // Example 1 (rank 3 input, summed over all non-batch axes): μ = 0.5 everywhere, log σ² = −1.
  const mu = tf.tensor2d([[1, -2], [0.5, 0.5]]);
  const logvar = tf.tensor2d([[0, 1], [-1, -1]]);
  const e0 = 0.5 * (1 + 1 - 0 - 1) + 0.5 * (4 + Math.E - 1 - 1);
  const e1 = 2 * 0.5 * (0.25 + Math.exp(-1) + 1 - 1);
  assertClose(await read(klStdNormal(mu, logvar)), [e0, e1]);
  const mu3 = tf.reshape(mu, [2, 1, 2]);
  assertClose(await read(klStdNormal(mu3, tf.reshape(logvar, [2, 1, 2]))), [e0, e1]);
});

Deno.test("gaussianKl() of identical Gaussians is 0 and against N(0, I) equals klStdNormal()", async () => {
  const q = {
    mean: tf.randomNormal([5, 3], 0, 1, "float32", 1),
    logvar: tf.randomNormal([5, 3], 0, 1, "float32", 2),
  };
  assertClose(await read(gaussianKl(q, q)), [0, 0, 0, 0, 0], { atol: 1e-6 });
  const prior = { mean: tf.zeros([5, 3]), logvar: tf.zeros([5, 3]) };
  assertClose(await read(gaussianKl(q, prior)), await read(klStdNormal(q.mean, q.logvar)));
});

Deno.test("gaussianKl() matches a Monte-Carlo estimate of E_q[log q(z) - log p(z)]", async () => {
  const q = { mean: tf.tensor2d([[0.3, -1.0]]), logvar: tf.tensor2d([[-0.5, 0.4]]) };
  const p = { mean: tf.tensor2d([[1.0, 0.2]]), logvar: tf.tensor2d([[0.3, -0.2]]) };
  const n = 20000;
  const qm = tf.tile(q.mean, [n, 1]); // [n, 2]
  const qlv = tf.tile(q.logvar, [n, 1]);
  const { z } = reparameterize(qm, qlv, { seed: 11 });
  const logQ = tf.sum(gaussianLogProb(z, { mean: qm, logvar: qlv }), 1);
  const logP = tf.sum(
    gaussianLogProb(z, { mean: tf.tile(p.mean, [n, 1]), logvar: tf.tile(p.logvar, [n, 1]) }),
    1,
  );
  const samples = await read(tf.sub(logQ, logP));
  const [kl] = await read(gaussianKl(q, p));
  const se = stdErr(samples);
  assert.ok(
    Math.abs(mean(samples) - (kl as number)) < 4 * se,
    `MC ${mean(samples)} ± ${se}, KL ${kl}`,
  );
});

Deno.test("gaussianKl() rejects parameters of different shapes", () => {
  const q = { mean: tf.zeros([2, 3]), logvar: tf.zeros([2, 3]) };
  assert.throws(
    () => gaussianKl(q, { mean: tf.zeros([2, 3]), logvar: tf.zeros([3, 2]) }),
    TypeError,
  );
  assert.throws(() => klStdNormal(tf.zeros([2, 3]), tf.zeros([2])), /different shapes/);
});
