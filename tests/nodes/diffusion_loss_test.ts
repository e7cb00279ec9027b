import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compile, graph } from "../../lib/graph/mod.ts";
import { diffusionLoss, epsMlp, forwardNoise } from "../../lib/nodes/mod.ts";

await tf.setBackend("cpu");

const spec = {
  schedule: "cosine",
  T: 50,
  meanType: "eps",
  varType: "learned_range",
  lossType: "rescaled_mse",
} as const;

function build(learnSigma: boolean) {
  return graph({ x: "B,6" })
    .add("noise", forwardNoise(spec), { x0: "x" })
    .add("net", epsMlp({ hidden: 16, layers: 1, learnSigma }), { xt: "noise.xt", t: "noise.t" })
    .loss("diffusion", diffusionLoss(spec), {
      x0: "x",
      t: "noise.t",
      eps: "noise.eps",
      out: "net.out",
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
