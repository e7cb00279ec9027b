import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  bernoulliLogProb,
  gaussianLogProb,
  type Likelihood,
  logLikelihood,
  logProb,
  negLogLikelihood,
} from "../../lib/vae/mod.ts";
import { assertClose, logSigmoid64, read } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("bernoulliLogProb() matches x log σ(l) + (1 − x) log σ(−l) by hand, even for |l| = 50", async () => {
  const logits = [-50, -3, 0, 2.5, 40, 50, -0.7];
  const xs = [0, 1, 1, 0, 1, 0, 0.3];
  const lp = await read(bernoulliLogProb(tf.tensor1d(xs), { logits: tf.tensor1d(logits) }));
  const expected = logits.map((l, i) => {
    const x = xs[i] as number;
    return x * logSigmoid64(l) + (1 - x) * logSigmoid64(-l);
  });
  assertClose(lp, expected, { atol: 1e-5, rtol: 1e-6, what: "log p" });
  assert.ok(lp.every(Number.isFinite));
});

Deno.test("bernoulliLogProb() gradients: x − σ(l) for the logits (also at l = 0), l for x", async () => {
  const logits = [-50, -3, 0, 0, 2.5, 40, -0.7];
  const xs = [0, 1, 1, 0, 0, 1, 0.3];
  const [gx, gl] = tf.grads((x: tf.Tensor, l: tf.Tensor) =>
    tf.sum(bernoulliLogProb(x, { logits: l }))
  )([tf.tensor1d(xs), tf.tensor1d(logits)]);
  const sigmoid = (l: number) => 1 / (1 + Math.exp(-l));
  assertClose(await read(gl!), logits.map((l, i) => xs[i]! - sigmoid(l)), {
    atol: 1e-6,
    what: "d/dl",
  });
  assertClose(await read(gx!), logits, { atol: 1e-6, what: "d/dx" });
});

Deno.test("gaussianLogProb() matches the density by hand; fixed sigma equals logvar = 2 log sigma", async () => {
  const x = tf.tensor2d([[0.3, -1.2], [2, 0]]);
  const mean = tf.tensor2d([[0, -1], [1.5, 0.4]]);
  const logvar = tf.tensor2d([[0, -1], [0.5, 2]]);
  const [xv, mv, lv] = [await read(x), await read(mean), await read(logvar)];
  const expected = xv.map((xi, i) => {
    const l = lv[i] as number;
    return -0.5 * (Math.log(2 * Math.PI) + l + (xi - (mv[i] as number)) ** 2 / Math.exp(l));
  });
  assertClose(await read(gaussianLogProb(x, { mean, logvar })), expected);
  const fixed = await read(logLikelihood(x, { kind: "gaussian_fixed", mean, sigma: 0.7 }));
  const viaLogvar = await read(
    logLikelihood(x, { kind: "gaussian", mean, logvar: tf.fill([2, 2], 2 * Math.log(0.7)) }),
  );
  assertClose(fixed, viaLogvar);
  // A per-dimension logvar [1, 2] broadcasts over the batch.
  const perDim = await read(gaussianLogProb(x, { mean, logvar: tf.tensor2d([[0, -1]]) }));
  const tiled = await read(gaussianLogProb(x, { mean, logvar: tf.tensor2d([[0, -1], [0, -1]]) }));
  assertClose(perDim, tiled);
});

Deno.test("logLikelihood() sums log-probabilities over all non-batch axes and negLogLikelihood() negates it", async () => {
  const x = tf.cast(tf.greater(tf.randomUniform([2, 3, 4, 1], 0, 1, "float32", 5), 0.5), "float32");
  const logits = tf.randomNormal([2, 3, 4, 1], 0, 2, "float32", 6);
  const lik: Likelihood = { kind: "bernoulli", logits };
  const elementwise = await read(logProb(x, lik)); // 24 values, 12 per example
  const perExample = [0, 1].map((b) =>
    elementwise.slice(12 * b, 12 * b + 12).reduce((s, v) => s + v, 0)
  );
  assertClose(await read(logLikelihood(x, lik)), perExample, { atol: 1e-5 });
  assertClose(await read(negLogLikelihood(x, lik)), perExample.map((v) => -v), { atol: 1e-5 });
});

Deno.test("logLikelihood() rejects unknown kinds, mismatched shapes and a non-positive sigma", () => {
  const x = tf.zeros([2, 3]);
  assert.throws(
    () => logLikelihood(x, { kind: "poisson" } as unknown as Likelihood),
    /unknown kind 'poisson'/,
  );
  assert.throws(() => logLikelihood(x, { kind: "bernoulli", logits: tf.zeros([3, 2]) }), TypeError);
  assert.throws(
    () => logLikelihood(x, { kind: "gaussian", mean: x, logvar: tf.zeros([4]) }),
    TypeError,
  );
  assert.throws(() => logLikelihood(x, { kind: "gaussian_fixed", mean: x, sigma: 0 }), RangeError);
});
