import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compile, graph } from "../../lib/graph/mod.ts";
import { diffusionLoss, diffusionOf, epsMlp, forwardNoise } from "../../lib/nodes/mod.ts";

await tf.setBackend("cpu");

const spec = {
  schedule: "cosine",
  T: 50,
  meanType: "eps",
  varType: "learned_range",
  lossType: "rescaled_mse",
} as const;

function build(learnSigma: boolean, wireXt = false) {
  return graph({ x: "B,6" })
    .add("noise", forwardNoise(spec), { x0: "x" })
    .add("net", epsMlp({ hidden: 16, layers: 1, learnSigma }), { xt: "noise.xt", t: "noise.t" })
    .loss("diffusion", diffusionLoss(spec), {
      x0: "x",
      t: "noise.t",
      eps: "noise.eps",
      out: "net.out",
      ...(wireXt ? { xt: "noise.xt" } : {}),
    })
    .build();
}

Deno.test("diffusionLoss() takes a learned-variance net's [B, 2D] output (L_hybrid)", async () => {
  const c = compile(build(true), { seed: 0, optimizer: { kind: "adam", lr: 1e-3 } });
  const r = c.trainStep({ x: tf.ones([4, 6]) }, 0);
  assert.ok(Number.isFinite((await r.total.data())[0]!));
  c.dispose();
});

Deno.test("diffusionLoss() with a learned variance rejects a net without learnSigma, saying so", () => {
  const c = compile(build(false), { seed: 0, optimizer: { kind: "adam", lr: 1e-3 } });
  assert.throws(() => c.trainStep({ x: tf.ones([4, 6]) }, 0), /learnSigma: true/);
  c.dispose();
});

Deno.test("diffusionLoss() given forwardNoise's xt computes the same loss as without it", async () => {
  const x = tf.randomUniform([5, 6], -1, 1, "float32", 3);
  const losses = [];
  for (const wireXt of [false, true]) {
    const c = compile(build(true, wireXt), { seed: 7, optimizer: { kind: "adam", lr: 1e-3 } });
    const r = c.run(["diffusion.loss"], { x }, { step: 4 });
    losses.push(await r["diffusion.loss"]!.data());
    tf.dispose(Object.values(r));
    c.dispose();
  }
  assert.deepEqual(losses[1], losses[0]);
  x.dispose();
});

Deno.test("trainingLosses() refuses an xt without the noise it was made with, or of another shape", () => {
  const d = diffusionOf(spec);
  const x0 = tf.zeros([2, 3]), t = tf.tensor1d([0, 7], "int32");
  const model = (xt: tf.Tensor) => tf.concat([xt, xt], -1);
  assert.throws(() => d.trainingLosses(model, x0, t, { xt: x0 }), /without the 'noise'/);
  assert.throws(
    () => d.trainingLosses(model, x0, t, { noise: x0, xt: tf.zeros([2, 4]) }),
    /with this xt as the shapes differ/,
  );
  tf.dispose([x0, t]);
});
