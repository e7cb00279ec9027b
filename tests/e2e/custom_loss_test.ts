/**
 * The README's promise: a new loss node in a few lines, checked by hand and trained with.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compile, defineLoss, epsMlp, forwardNoise, graph, type Tensor, tf } from "../../mod.ts";

await tf.setBackend("cpu");

// The loss, as the README writes it (8 lines).
const huber = ({ eps, out }: { eps: Tensor; out: Tensor }): Tensor =>
  tf.losses.huberLoss(eps, out, undefined, 1, tf.Reduction.NONE).mean(-1); // [B]
const huberEps = defineLoss({
  name: "huberEps",
  inputs: { eps: "B,D", out: "B,D" },
  fn: huber,
});

Deno.test("huber() is quadratic inside δ and linear outside (hand computation)", async () => {
  // δ = 1: ½·0.5² = 0.125 and 3 − ½ = 2.5; mean 1.3125. Second row: ½·1² = 0.5 and 0.
  const l = huber({ eps: tf.tensor2d([[0, 0], [1, 2]]), out: tf.tensor2d([[0.5, 3], [0, 2]]) });
  assert.deepEqual(l.shape, [2]);
  const v = await l.data();
  assert.ok(Math.abs(v[0]! - 1.3125) < 1e-6 && Math.abs(v[1]! - 0.25) < 1e-6, `got ${v}`);
});

Deno.test("a diffusion graph trained with the custom loss lowers it", async () => {
  const diffusion = {
    schedule: "cosine",
    T: 100,
    meanType: "eps",
    varType: "fixed_large",
    lossType: "mse",
  } as const;
  const g = graph({ x: "B,8" })
    .add("noise", forwardNoise(diffusion), { x0: "x" })
    .add("net", epsMlp({ hidden: 32, layers: 2 }), { xt: "noise.xt", t: "noise.t" })
    .loss("huber", huberEps, { eps: "noise.eps", out: "net.out" })
    .build();
  const model = compile(g, { seed: 0, optimizer: { kind: "adam", lr: 3e-3 } });
  const x = tf.tidy(() => tf.tile(tf.linspace(-1, 1, 8).reshape([1, 8]), [64, 1]));
  const mean = async (from: number, n: number) => {
    let sum = 0;
    for (let s = from; s < from + n; s++) {
      const r = model.trainStep({ x }, s);
      sum += (await r.total.data())[0]!;
      tf.dispose([r.total, ...Object.values(r.terms)]);
    }
    return sum / n;
  };
  const first = await mean(0, 20);
  await mean(20, 260);
  const last = await mean(280, 20);
  assert.ok(last < 0.7 * first, `Huber loss ${first} → ${last}`);
  model.dispose();
  x.dispose();
});
