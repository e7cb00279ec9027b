import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { betaSchedule } from "../../lib/math/mod.ts";
import { GaussianDiffusion, spacedDiffusion, type SyncModel } from "../../lib/diffusion/mod.ts";
import { assertClose, values } from "./helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

const BASE = {
  betas: betaSchedule("linear", 50),
  meanType: "eps",
  varType: "fixed_small",
  lossType: "mse",
} as const;
/** A fixed tiny linear ε-model. */
const model: SyncModel = (xt) => tf.add(tf.mul(xt, 0.8), -0.05);

// Pinned from a run of this code (cpu backend; the seeded GaussianStream noise is
// backend-independent). Re-pinned on 2026-12-03 when gaussian() moved from tf.randomNormal to it.
const GOLDEN = {
  ddpm: [
    -0.011319376528263092,
    0.866966962814331,
    -0.5163582563400269,
    0.025639094412326813,
    0.8247416019439697,
    -0.08621790260076523,
  ],
  ddim: [
    1,
    -0.6858511567115784,
    -0.5937079787254333,
    0.9839236736297607,
    1,
    0.8342357277870178,
  ],
  ddim10: [
    1,
    -0.6725531816482544,
    -0.5866618156433105,
    0.9610156416893005,
    1,
    0.8210697174072266,
  ],
};

Deno.test("a seeded DDPM sampling loop reproduces the pinned samples", async () => {
  const d = new GaussianDiffusion(BASE);
  const before = tf.memory().numTensors;
  let calls = 0;
  const x = await d.pSampleLoop(model, [2, 3], { seed: 42, progress: () => calls++ });
  assert.equal(calls, 50);
  assert.equal(tf.memory().numTensors - before, 1, "only the sample remains");
  assertClose(await values(x), GOLDEN.ddpm, { rtol: 1e-6, atol: 1e-7 });
});

Deno.test("a seeded DDIM (η = 0) loop reproduces the pinned samples on the full and a respaced chain", async () => {
  const d = new GaussianDiffusion(BASE);
  assertClose(await values(await d.ddimSampleLoop(model, [2, 3], { seed: 42 })), GOLDEN.ddim, {
    rtol: 1e-6,
    atol: 1e-7,
  });
  const fast = spacedDiffusion(BASE, "ddim10");
  assertClose(await values(await fast.ddimSampleLoop(model, [2, 3], { seed: 42 })), GOLDEN.ddim10, {
    rtol: 1e-6,
    atol: 1e-7,
  });
});

Deno.test("DDIM with η = 0 is deterministic given x_T, whatever the step noise", async () => {
  const d = new GaussianDiffusion(BASE);
  const xT = tf.randomNormal([2, 3], 0, 1, "float32", 7);
  const a = await d.ddimSampleLoop(model, [2, 3], { noise: xT, seed: 1 });
  const b = await d.ddimSampleLoop(model, [2, 3], { noise: xT, stepNoise: () => tf.ones([2, 3]) });
  assert.deepEqual(await values(a), await values(b));
  const c = await d.pSampleLoop(model, [2, 3], { noise: xT, seed: 1 });
  const e = await d.pSampleLoop(model, [2, 3], { noise: xT, seed: 2 });
  assert.notDeepEqual(await values(c), await values(e), "DDPM does depend on the step noise");
});

Deno.test("a DDIM step with η = 1 equals the DDPM step with the posterior variance β̃_t", async () => {
  const d = new GaussianDiffusion(BASE);
  const xt = tf.tensor2d([[0.3, -1.1, 0.7], [1.4, 0.2, -0.5]]);
  const t = tf.tensor1d([10, 37], "int32");
  const z = tf.tensor2d([[0.5, 0.1, -1], [-0.2, 0.9, 0.4]]);
  const ddim = d.ddimSample(model, xt, t, { eta: 1, noise: z, clipDenoised: false });
  const ddpm = d.pSample(model, xt, t, { noise: z, clipDenoised: false });
  assertClose(await values(ddim.sample), await values(ddpm.sample), { rtol: 1e-5, atol: 1e-6 });
});

Deno.test("the last DDPM step adds no noise", async () => {
  const d = new GaussianDiffusion(BASE);
  const xt = tf.tensor2d([[0.3, -0.1, 0.7]]);
  const t = tf.tensor1d([0], "int32");
  const a = d.pSample(model, xt, t, { noise: tf.ones([1, 3]) });
  const pmv = d.pMeanVariance(model, xt, t);
  assert.deepEqual(await values(a.sample), await values(pmv.mean));
});
