import * as tf from "@tensorflow/tfjs";
import { betaSchedule } from "../../lib/math/mod.ts";
import { GaussianDiffusion, type PredictionKind } from "../../lib/diffusion/mod.ts";
import { assertClose, values } from "./helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

const d = new GaussianDiffusion({
  betas: betaSchedule("cosine", 100),
  meanType: "eps",
  varType: "fixed_small",
  lossType: "mse",
});
const x0 = tf.tensor2d([[-0.9, 0.1, 0.6, 1], [0.3, -0.4, -1, 0.75]]);
const eps = tf.tensor2d([[0.5, -1.1, 0.2, 1.9], [-0.3, 0.8, -2.1, 0.05]]);
const STEPS = [[1, 10], [40, 70], [90, 98]];

async function roundTrip(
  from: PredictionKind,
  via: PredictionKind,
  value: tf.Tensor,
  t: tf.Tensor,
  xt: tf.Tensor,
) {
  const mid = d.convertPrediction(value, xt, t, { from, to: via });
  const back = d.convertPrediction(mid, xt, t, { from: via, to: from });
  return await values(back);
}

Deno.test("ε → x_0 → ε and x_0 → ε → x_0 round trips are exact to float32 precision", async () => {
  for (const s of STEPS) {
    const t = tf.tensor1d(s, "int32");
    const xt = d.qSample(x0, t, { noise: eps });
    assertClose(await roundTrip("eps", "x0", eps, t, xt), await values(eps), {
      rtol: 1e-4,
      atol: 1e-4,
      label: `ε ${s}`,
    });
    assertClose(await roundTrip("x0", "eps", x0, t, xt), await values(x0), {
      rtol: 1e-4,
      atol: 1e-4,
      label: `x0 ${s}`,
    });
  }
});

Deno.test("v → x_0 → v, ε → v → ε, score → ε → score and prev_x → x_0 → prev_x round trips hold", async () => {
  for (const s of STEPS) {
    const t = tf.tensor1d(s, "int32");
    const xt = d.qSample(x0, t, { noise: eps });
    const v = d.convertPrediction(eps, xt, t, { from: "eps", to: "v" });
    assertClose(await roundTrip("v", "x0", v, t, xt), await values(v), {
      rtol: 1e-4,
      atol: 1e-4,
      label: `v ${s}`,
    });
    assertClose(await roundTrip("eps", "v", eps, t, xt), await values(eps), {
      rtol: 1e-4,
      atol: 1e-4,
      label: `ε/v ${s}`,
    });
    const score = d.convertPrediction(eps, xt, t, { from: "eps", to: "score" });
    assertClose(await roundTrip("score", "eps", score, t, xt), await values(score), {
      rtol: 1e-5,
      label: `score ${s}`,
    });
    const prev = d.convertPrediction(x0, xt, t, { from: "x0", to: "prev_x" });
    assertClose(await roundTrip("prev_x", "x0", prev, t, xt), await values(prev), {
      rtol: 1e-4,
      atol: 1e-4,
      label: `prev ${s}`,
    });
  }
});

Deno.test("the conversions agree with the closed forms v = √ᾱ ε − √(1−ᾱ) x_0 and score = −ε/√(1−ᾱ)", async () => {
  const t = tf.tensor1d([20, 80], "int32");
  const xt = d.qSample(x0, t, { noise: eps });
  const a = [d.alphasCumprod[20]!, d.alphasCumprod[80]!];
  const x = await values(x0);
  const e = await values(eps);
  const vExpected = e.map((ei, i) => {
    const ab = a[Math.floor(i / 4)]!;
    return Math.sqrt(ab) * ei - Math.sqrt(1 - ab) * x[i]!;
  });
  const sExpected = e.map((ei, i) => -ei / Math.sqrt(1 - a[Math.floor(i / 4)]!));
  const fromX0 = d.convertPrediction(x0, xt, t, { from: "x0", to: "v" });
  assertClose(await values(fromX0), vExpected, { rtol: 1e-4, atol: 1e-5, label: "v from x0" });
  const fromEps = d.convertPrediction(eps, xt, t, { from: "eps", to: "v" });
  assertClose(await values(fromEps), vExpected, { rtol: 1e-4, atol: 1e-5, label: "v from ε" });
  const score = d.convertPrediction(x0, xt, t, { from: "x0", to: "score" });
  assertClose(await values(score), sExpected, { rtol: 1e-4, atol: 1e-5, label: "score from x0" });
});
