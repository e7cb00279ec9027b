import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  gaussianKl,
  hvaeElbo,
  klStdNormal,
  negLogLikelihood,
  reparameterize,
  type TwoLevelHvae,
} from "../../lib/vae/mod.ts";
import { assertClose, mean, read, stdErr } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

function gaussian(mean: number[][], logvar: number[][]) {
  return { mean: tf.tensor2d(mean), logvar: tf.tensor2d(logvar) };
}

Deno.test("hvaeElbo() splits -ELBO into rec = -log p(x|z1), kl1, and kl2 = KL(q(z2|z1) || N(0, I))", async () => {
  const x = tf.tensor2d([[0, 1, 1], [1, 0, 1]]);
  const q1 = gaussian([[0.2, -0.1], [1, 0.5]], [[-1, -0.5], [0, -2]]);
  const p1 = gaussian([[0, 0.3], [0.8, 0]], [[0.2, -0.3], [-0.1, 0]]);
  const q2 = gaussian([[0.4], [-1.2]], [[-0.7], [0.3]]);
  const z1 = tf.tensor2d([[0.5, -0.4], [1.1, 0.2]]);
  const likelihood = {
    kind: "bernoulli",
    logits: tf.tensor2d([[-1, 2, 0.5], [1.5, -2, 1]]),
  } as const;
  const model: TwoLevelHvae = { likelihood, z1, q1, p1, q2 };
  const t = hvaeElbo(x, model);
  assertClose(await read(t.rec), await read(negLogLikelihood(x, likelihood)));
  assertClose(await read(t.kl2), await read(klStdNormal(q2.mean, q2.logvar)));
  // kl1 = log N(z1; q1) − log N(z1; p1), by hand.
  const logN = (z: number, m: number, lv: number) =>
    -0.5 * (Math.log(2 * Math.PI) + lv + (z - m) ** 2 / Math.exp(lv));
  const zv = await read(z1);
  const [qm, qlv, pm, plv] = [
    await read(q1.mean),
    await read(q1.logvar),
    await read(p1.mean),
    await read(p1.logvar),
  ];
  const kl1 = [0, 1].map((b) =>
    [0, 1].reduce((s, j) => {
      const i = 2 * b + j;
      return s + logN(zv[i]!, qm[i]!, qlv[i]!) - logN(zv[i]!, pm[i]!, plv[i]!);
    }, 0)
  );
  assertClose(await read(t.kl1), kl1, { atol: 1e-5 });
  const [r, k1, k2] = [await read(t.rec), await read(t.kl1), await read(t.kl2)];
  assertClose(await read(t.negElbo), r.map((v, b) => v + k1[b]! + k2[b]!));
});

Deno.test("hvaeElbo() kl1 estimators are unbiased: both average to KL(q1 || p1) when p(z1|z2) ignores z2", async () => {
  // With p(z1 | z2) = p1 fixed, E_{z1 ~ q1}[log q1(z1) − log p1(z1)] = KL(q1 || p1).
  const n = 20000;
  const q1 = gaussian([[0.3, -0.8]], [[-0.6, 0.2]]);
  const p1 = gaussian([[-0.2, 0.1]], [[0.1, -0.4]]);
  const tile = (g: { mean: tf.Tensor; logvar: tf.Tensor }) => ({
    mean: tf.tile(g.mean, [n, 1]),
    logvar: tf.tile(g.logvar, [n, 1]),
  });
  const q1n = tile(q1);
  const p1n = tile(p1);
  const { z: z1 } = reparameterize(q1n.mean, q1n.logvar, { seed: 12 });
  const model: TwoLevelHvae = {
    likelihood: { kind: "gaussian_fixed", mean: tf.zeros([n, 1]), sigma: 1 },
    z1,
    q1: q1n,
    p1: p1n,
    q2: { mean: tf.zeros([n, 1]), logvar: tf.zeros([n, 1]) },
  };
  const [kl] = await read(gaussianKl(q1, p1));
  for (const kl1Estimator of ["mc", "analytic_entropy"] as const) {
    const samples = await read(hvaeElbo(tf.zeros([n, 1]), model, { kl1Estimator }).kl1);
    const se = stdErr(samples);
    assert.ok(
      Math.abs(mean(samples) - kl!) < 4 * se,
      `${kl1Estimator}: ${mean(samples)} ± ${se} vs KL ${kl}`,
    );
  }
});

Deno.test("hvaeElbo() 'mc' kl1 is exactly 0 when p(z1|z2) equals q(z1|x), and unknown estimators throw", async () => {
  const q1 = gaussian([[0.3, -0.8]], [[-0.6, 0.2]]);
  const model: TwoLevelHvae = {
    likelihood: { kind: "bernoulli", logits: tf.zeros([1, 2]) },
    z1: tf.tensor2d([[1.3, 0.4]]),
    q1,
    p1: q1,
    q2: gaussian([[0]], [[0]]),
  };
  assert.deepEqual(await read(hvaeElbo(tf.zeros([1, 2]), model).kl1), [0]);
  assert.throws(
    () => hvaeElbo(tf.zeros([1, 2]), model, { kl1Estimator: "exact" as "mc" }),
    /must be "mc" or "analytic_entropy"/,
  );
  assert.throws(() => hvaeElbo(tf.zeros([1, 2]), { ...model, z1: tf.zeros([1, 3]) }), TypeError);
});
