import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as vae from "../../lib/vae/mod.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** Runs `fn`, disposes what it returns, and asserts no tensor was left behind. */
function assertNoLeak(name: string, fn: () => tf.TensorContainer): void {
  const before = tf.memory().numTensors;
  tf.dispose(fn());
  assert.equal(tf.memory().numTensors, before, `${name} leaked tensors`);
}

Deno.test("every lib/vae function leaves tf.memory().numTensors flat once its outputs are disposed", () => {
  const x = tf.randomUniform([4, 6], -1, 1, "float32", 1);
  const mu = tf.randomNormal([4, 3], 0, 1, "float32", 2);
  const logvar = tf.randomNormal([4, 3], 0, 0.5, "float32", 3);
  const codebook = tf.randomNormal([5, 3], 0, 1, "float32", 4);
  const g = { mean: mu, logvar };
  const ones4 = tf.ones([4]);
  const h = tf.sigmoid(x);
  const hMu = tf.sigmoid(mu);
  const w = tf.ones([2, 3]);
  const idx = tf.tensor1d([0, 1, 1], "int32");
  assertNoLeak("reparameterize", () => vae.reparameterize(mu, logvar, { seed: 0 }));
  assertNoLeak("klStdNormal", () => vae.klStdNormal(mu, logvar));
  assertNoLeak("gaussianKl", () => vae.gaussianKl(g, g));
  for (
    const lik of [
      { kind: "bernoulli", logits: x },
      { kind: "gaussian", mean: x, logvar: x },
      { kind: "gaussian_fixed", mean: x, sigma: 0.3 },
      { kind: "discretized_logistic", means: x, logScales: tf.fill([4, 6], -2) },
      { kind: "discretized_gaussian", means: x, logScales: tf.fill([4, 6], -2) },
    ] as vae.Likelihood[]
  ) {
    assertNoLeak(`logLikelihood ${lik.kind}`, () => vae.negLogLikelihood(x, lik));
  }
  assertNoLeak("bitsPerDim", () => vae.bitsPerDim(ones4, 6));
  assertNoLeak("maskingNoise", () => vae.maskingNoise(x, { seed: 1 }));
  assertNoLeak("gaussianNoise", () => vae.gaussianNoise(x, { seed: 1 }));
  assertNoLeak("sparsityKl", () => vae.sparsityKl(h));
  assertNoLeak("kSparse", () => vae.kSparse(x, { k: 2 }));
  assertNoLeak(
    "kSparse gradient",
    () => tf.grads((a: tf.Tensor) => tf.sum(vae.kSparse(a, { k: 2 })))([x]),
  );
  assertNoLeak("contractivePenalty", () => vae.contractivePenalty(hMu, w));
  assertNoLeak("vectorQuantize", () => vae.vectorQuantize(mu, codebook));
  assertNoLeak("vq gradients", () =>
    tf.grads((z: tf.Tensor, c: tf.Tensor) => {
      const { zq, zqST } = vae.vectorQuantize(z, c);
      const { codebook: cl, commitment } = vae.vqLosses(z, zq);
      return tf.sum(tf.add(tf.add(cl, commitment), tf.sum(zqST, 1)));
    })([mu, codebook]));
  assertNoLeak("codebookUsage", () => vae.codebookUsage(idx, 5));
  const state = vae.initVqEmaState(codebook);
  assertNoLeak("emaCodebookUpdate", () => {
    const vq = vae.vectorQuantize(mu, state.codebook);
    const next = vae.emaCodebookUpdate(state, { ze: mu, indices: vq.indices });
    return [vq, next];
  });
  assertNoLeak(
    "restartDeadCodesEma",
    () => vae.restartDeadCodesEma(state, mu, { maxUnusedSteps: 1, seed: 0 }),
  );
  assertNoLeak("hvaeElbo", () =>
    vae.hvaeElbo(x, {
      likelihood: { kind: "bernoulli", logits: x },
      z1: mu,
      q1: g,
      p1: g,
      q2: g,
    }));
});
