// The framework's Adam on the wasm backend, where 'auto' updates weights and moments in place
// (WebAssembly SIMD over the tfjs heap): same numbers as the tfjs-ops path, memory kept, sharing
// respected, and compile()'s train step using it.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend/mod.ts";
import { Adam } from "../../lib/train/adam.ts";
import { assertRelClose as assertClose, seeded } from "../_seeded.ts";
import { train } from "./_adam_problem.ts";
import { compile, defineLoss, defineNode, graph } from "../../lib/graph/mod.ts";

await initBackend({ backend: "wasm", threads: 1, quiet: true });

Deno.test("on wasm, Adam 'auto' updates in place and matches the tfjs-ops path after 6 steps", async () => {
  const ops = await train("ops", 6);
  const auto = await train("auto", 6);
  assert.equal(auto.kept, true, "in place: the weight and moments keep their memory");
  assert.equal(ops.kept, false, "tfjs ops: fresh memory every step");
  assertClose(auto.W, ops.W, "W", 1e-6);
  assertClose(auto.b, ops.b, "b", 1e-6);
  assertClose(auto.m, ops.m, "m", 1e-6);
  assertClose(auto.v, ops.v, "v", 1e-6);
});

Deno.test("on wasm, a weight whose memory another tensor shares is updated out of place", async () => {
  const init = tf.tensor1d([1, 2, 3, 4, 5]);
  const w = tf.variable(init); // shares init's memory while init lives
  const opt = new Adam([w], { lr: 0.1 });
  tf.tidy(() => opt.apply([tf.ones([5])]));
  assert.deepEqual(Array.from(await init.data()), [1, 2, 3, 4, 5], "the sharer is untouched");
  assertClose(await w.data(), [0.9, 1.9, 2.9, 3.9, 4.9], "w", 1e-6);
  const id = w.dataId;
  tf.tidy(() => opt.apply([tf.ones([5])]));
  assert.equal(w.dataId, id, "from then on, in place");
  tf.dispose([init, w]);
  opt.dispose();
});

Deno.test("compile()'s train step on wasm uses the in-place Adam and matches a tfjs-ops Adam", async () => {
  const linear = defineNode({
    name: "linear",
    inputs: { x: "B,D" },
    outputs: { y: "B,5" },
    params: ({ dim }) => ({
      w: { shape: [dim("D"), 5], init: "glorotUniform" },
      b: { shape: [5], init: "zeros" },
    }),
    fn: ({ x }, { params, rng }) => ({
      y: tf.add(
        tf.add(tf.matMul(x, params.w!), params.b!),
        tf.mul(rng.normal([x.shape[0]!, 5]), 0.1),
      ),
    }),
  });
  const mse = defineLoss({
    name: "mse",
    inputs: { a: "B,5", b: "B,5" },
    fn: ({ a, b }) => tf.mean(tf.squaredDifference(a, b), -1),
  });
  const g = graph({ x: "B,6", y: "B,5" }).add("f", linear, { x: "x" })
    .loss("mse", mse, { a: "f.y", b: "y" }).build();
  const optimizer = { kind: "adam" as const, lr: 0.03 };
  const fused = compile(g, { seed: 5, optimizer });
  const manual = compile(g, { seed: 5, optimizer });
  const opsAdam = new Adam(manual.trainable, { lr: 0.03, update: "ops" });
  const x = tf.tensor2d(seeded(24, 7), [4, 6]), y = tf.tensor2d(seeded(20, 8), [4, 5]);
  const ids = fused.optimizer.m.map((m) => m.dataId);
  for (let step = 0; step < 4; step++) {
    const r = fused.trainStep({ x, y }, step);
    tf.dispose([r.total, ...Object.values(r.terms)]);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => manual.losses({ x, y }, { training: true, step }).total,
        [...manual.trainable],
      );
      opsAdam.apply(manual.trainable.map((v) => grads[v.name]!));
    });
  }
  assert.ok(fused.optimizer.m.every((m, i) => m.dataId === ids[i]), "moments updated in place");
  for (const [i, v] of fused.trainable.entries()) {
    assertClose(await v.data(), await manual.trainable[i]!.data(), `param ${i}`, 1e-6);
  }
  assert.equal(fused.optimizer.t, 4);
  tf.dispose([x, y]);
  opsAdam.dispose();
  fused.dispose();
  manual.dispose();
});
