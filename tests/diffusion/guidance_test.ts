import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { betaSchedule } from "../../lib/math/mod.ts";
import {
  classifierFreeGuidance,
  classifierGuidedEps,
  classifierGuidedMean,
  GaussianDiffusion,
  type SyncModel,
} from "../../lib/diffusion/mod.ts";
import { assertClose, values } from "./helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("classifier-free guidance with w equals diffusers' scale w + 1", async () => {
  const c = tf.tensor1d([1, -2, 0.5]);
  const u = tf.tensor1d([0.2, 0.3, -0.1]);
  for (const w of [0, 0.5, 3, 7.5]) {
    const a = await values(classifierFreeGuidance(c, u, { w }));
    const b = await values(classifierFreeGuidance(c, u, { scale: w + 1 }));
    assertClose(a, b, { rtol: 1e-6, label: `w=${w}` });
    assertClose(a, [1, -2, 0.5].map((ci, i) => (1 + w) * ci - w * [0.2, 0.3, -0.1][i]!), {
      rtol: 1e-6,
    });
  }
  assert.deepEqual(await values(classifierFreeGuidance(c, u, { w: 0 })), await values(c));
});

Deno.test("classifier-free guidance requires exactly one of w or scale", () => {
  const c = tf.tensor1d([1]);
  assert.throws(() => classifierFreeGuidance(c, c, {} as { w: number }), /exactly one of 'w'/);
  assert.throws(
    () => classifierFreeGuidance(c, c, { w: 1, scale: 2 } as unknown as { w: number }),
    /exactly one of 'w'/,
  );
  assert.throws(() => classifierFreeGuidance(c, c, { w: NaN }), RangeError);
});

Deno.test("pSample() with condFn shifts the mean by Σ·∇ log p(y | x_t) (condition_mean)", async () => {
  const d = new GaussianDiffusion({
    betas: betaSchedule("cosine", 20),
    meanType: "eps",
    varType: "fixed_large",
    lossType: "mse",
  });
  const model: SyncModel = (xt) => tf.mul(xt, 0.3);
  const xt = tf.tensor2d([[0.5, -0.2], [1.5, 0.1]]);
  const t = tf.tensor1d([4, 12], "int32");
  const z = tf.tensor2d([[0.1, 0.2], [-0.3, 0.4]]);
  const grad = tf.tensor2d([[1, -1], [2, 0.5]]);
  const seen: number[][] = [];
  const condFn: SyncModel = (_x, tm) => {
    seen.push(Array.from(tm.dataSync()));
    return grad.clone();
  };
  const plain = d.pSample(model, xt, t, { noise: z });
  const guided = d.pSample(model, xt, t, { noise: z, condFn });
  const pmv = d.pMeanVariance(model, xt, t);
  const expected = classifierGuidedMean(pmv.mean, pmv.variance, grad);
  const shift = tf.sub(guided.sample, plain.sample);
  assertClose(await values(shift), await values(tf.mul(pmv.variance, grad)), {
    rtol: 1e-4,
    atol: 1e-6,
  });
  assertClose(
    await values(guided.sample),
    await values(tf.add(expected, tf.mul(tf.exp(tf.mul(0.5, pmv.logVariance)), z))),
    { rtol: 1e-5, atol: 1e-6 },
  );
  assert.deepEqual(seen, [[4, 12]]);
});

Deno.test("ddimSample() with condFn uses ε̂ − √(1−ᾱ)·∇ log p(y | x_t) (condition_score)", async () => {
  const betas = betaSchedule("linear", 50);
  const d = new GaussianDiffusion({
    betas,
    meanType: "eps",
    varType: "fixed_small",
    lossType: "mse",
  });
  const xt = tf.tensor2d([[0.5, -0.2], [1.5, 0.1]]);
  const t = tf.tensor1d([10, 30], "int32");
  const grad = tf.tensor2d([[1, -1], [2, 0.5]]);
  const epsModel: SyncModel = (x) => tf.mul(x, 0.3);
  // No clipping: condition_score re-derives x̂_0 from the guided ε without clipping it again.
  const guided = d.ddimSample(epsModel, xt, t, { condFn: () => grad.clone(), clipDenoised: false });
  // The same step with the guided ε written into an ε-model by hand.
  const s = tf.tensor2d([[Math.sqrt(1 - d.alphasCumprod[10]!)], [
    Math.sqrt(1 - d.alphasCumprod[30]!),
  ]]);
  const byHand = d.ddimSample((x) => classifierGuidedEps(tf.mul(x, 0.3), grad, s), xt, t, {
    clipDenoised: false,
  });
  assertClose(await values(guided.sample), await values(byHand.sample), { rtol: 1e-4, atol: 1e-5 });
  const plain = d.ddimSample(epsModel, xt, t, { clipDenoised: false });
  assert.notDeepEqual(await values(plain.sample), await values(guided.sample));
});

Deno.test("the scale option multiplies the classifier gradient", async () => {
  const m = classifierGuidedMean(tf.tensor1d([1]), tf.tensor1d([0.5]), tf.tensor1d([2]), {
    scale: 3,
  });
  assert.deepEqual(await values(m), [4]);
  const e = classifierGuidedEps(tf.tensor1d([1]), tf.tensor1d([2]), tf.scalar(0.25), { scale: 2 });
  assert.deepEqual(await values(e), [0]);
});
