/**
 * U-Net worker: trains a tiny U-Net ε-net on ONE backend and prints one JSON line with the loss
 * at the first step and the mean over the last steps (`unet_test.ts` runs it per backend).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, toBackendName } from "../../lib/backend/mod.ts";
import { compile, graph } from "../../lib/graph/mod.ts";
import { diffusionLoss, forwardNoise, unet } from "../../lib/nodes/mod.ts";

const backend = toBackendName(Deno.args[0] ?? "cpu", "the worker argument");
await initBackend({ backend, quiet: true });
const spec = {
  schedule: "cosine",
  T: 100,
  meanType: "eps",
  varType: "fixed_large",
  lossType: "mse",
} as const;
const g = graph({ x: "B,8,8,1" })
  .add("noise", forwardNoise(spec), { x0: "x" })
  .add("net", unet({ channels: 8, mult: [1, 2], groups: 4, attention: true }), {
    xt: "noise.xt",
    t: "noise.t",
  })
  .loss("diffusion", diffusionLoss(spec), {
    x0: "x",
    t: "noise.t",
    eps: "noise.eps",
    out: "net.out",
  })
  .build();
const model = compile(g, { seed: 0, optimizer: { kind: "adam", lr: 3e-3 } });
// Two fixed 8×8 "images": a bar and a square.
const x = tf.tidy(() => {
  const bar = tf.buffer([8, 8, 1]), box = tf.buffer([8, 8, 1]);
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      bar.set(j === 3 || j === 4 ? 1 : -1, i, j, 0);
      box.set(i > 1 && i < 6 && j > 1 && j < 6 ? 1 : -1, i, j, 0);
    }
  }
  return tf.tile(tf.stack([bar.toTensor(), box.toTensor()]), [4, 1, 1, 1]); // [8, 8, 8, 1]
});
const steps = 20, tail = 5;
const losses: number[] = [];
for (let s = 0; s < steps; s++) {
  const r = model.trainStep({ x }, s);
  losses.push((await r.total.data())[0]!);
  tf.dispose([r.total, ...Object.values(r.terms)]);
}
const last = losses.slice(-tail).reduce((a, b) => a + b, 0) / tail;
console.log(JSON.stringify({ backend: tf.getBackend(), first: losses[0], last }));
