// sharedTimestep() and the ε-MLP / noisy classifier with one t for the whole batch (the exact-NLL
// loop and the samplers): the time embedding is computed once, [1, H], and goes into the biases;
// values and gradients must be those of the per-row embedding.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compile, graph } from "../../lib/graph/mod.ts";
import { epsMlp, noisyClassifier, sharedTimestep } from "../../lib/nodes/mod.ts";
import { assertClose, read } from "./_helpers.ts";

await tf.setBackend("cpu");

Deno.test("sharedTimestep() gives [1] when every row has the same t, else t itself", async () => {
  const same = tf.fill([5], 7, "int32");
  const one = sharedTimestep(same);
  assert.deepEqual(one.shape, [1]);
  assert.deepEqual([...await read(one)], [7]);
  for (const t of [tf.tensor1d([3, 7], "int32"), tf.tensor1d([4], "int32")]) {
    assert.equal(sharedTimestep(t), t);
  }
});

/** The net's forward pass `(xt, t) → output` and its trainable variables. */
function build(name: "epsMlp" | "noisyClassifier") {
  const g = graph({ xt: "B,6", t: "B" });
  if (name === "epsMlp") {
    const c = compile(
      g.add("net", epsMlp({ hidden: 16, layers: 3, timeEmbed: 8 }), { xt: "xt", t: "t" }).build(),
      { seed: 3 },
    );
    return {
      c,
      forward: (xt: tf.Tensor, t: tf.Tensor) => c.run(["net.out"], { xt, t })["net.out"],
    };
  }
  const net = noisyClassifier({ hidden: 16, numClasses: 3, layers: 2, timeEmbed: 8 });
  const c = compile(g.add("net", net, { xt: "xt", t: "t" }).build(), { seed: 3 });
  return {
    c,
    forward: (xt: tf.Tensor, t: tf.Tensor) => c.run(["net.logits"], { xt, t })["net.logits"],
  };
}

for (const name of ["epsMlp", "noisyClassifier"] as const) {
  const { c, forward } = build(name);
  const xt = tf.randomNormal([4, 6], 0, 1, "float32", 11);

  Deno.test(`${name}: rows at a shared t equal the same rows in a mixed batch`, async () => {
    const shared = forward(xt, tf.fill([4], 5, "int32"));
    const mixed = forward(xt, tf.tensor1d([5, 9, 5, 9], "int32"));
    const rowsOf = async (y: tf.Tensor, idx: number[]) =>
      (await read(tf.gather(y, tf.tensor1d(idx, "int32")))).slice();
    assertClose(await rowsOf(shared, [0, 2]), await rowsOf(mixed, [0, 2]), { atol: 1e-6 });
  });

  Deno.test(`${name}: gradients at a shared t equal the sum over one-row batches`, async () => {
    const r = tf.randomNormal([4, name === "epsMlp" ? 6 : 3], 0, 1, "float32", 12);
    const grads = (x: tf.Tensor, t: tf.Tensor, w: tf.Tensor) =>
      tf.variableGrads(() => tf.sum(tf.mul(forward(x, t), w)) as tf.Scalar, [...c.trainable]);
    const batch = grads(xt, tf.fill([4], 5, "int32"), r).grads;
    const single = [0, 1, 2, 3].map((i) =>
      grads(tf.slice(xt, [i, 0], [1, 6]), tf.tensor1d([5], "int32"), tf.slice(r, [i, 0], [1, -1]))
        .grads
    );
    for (const v of c.trainable) {
      const sum = single.reduce((acc, g) => tf.add(acc, g[v.name]!), tf.zerosLike(v));
      assertClose(await read(batch[v.name]!), await read(sum), { atol: 1e-5, what: v.name });
    }
  });
}
