// The framework's Adam (lib/train/adam.ts) on the cpu backend: PyTorch's update rule, the
// in-place path against the tfjs-ops path, and exact continuation from saved (m, v, t).
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Adam, type AdamUpdate } from "../../lib/train/adam.ts";
import { assertRelClose as assertClose } from "../_seeded.ts";
import { problem, train } from "./_adam_problem.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("Adam takes PyTorch's first two steps: p − lr·m̂/(√v̂ + ε), on both paths", async () => {
  for (const update of ["ops", "inPlace"] as const) {
    const p = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const opt = new Adam([p], { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, update });
    const g1 = [0.3, -2, 0], g2 = [-0.1, 1, 4];
    tf.tidy(() => opt.apply([tf.tensor1d(g1)]));
    tf.tidy(() => opt.apply([tf.tensor1d(g2)]));
    // float64 reference of torch.optim.Adam
    const want = [0.5, -1, 2].map((p0, i) => {
      let w = p0, m = 0, v = 0;
      for (const [t, g] of [[1, g1[i]!], [2, g2[i]!]] as const) {
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        w -= 0.1 * (m / (1 - 0.9 ** t)) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
      }
      return w;
    });
    assertClose(await p.data(), want, `weights (${update})`, 1e-6);
    assert.equal(opt.t, 2);
    opt.dispose();
    p.dispose();
  }
});

Deno.test("Adam's in-place update gives the tfjs-ops update's weights and moments after 6 steps", async () => {
  const ops = await train("ops", 6);
  const inPlace = await train("inPlace", 6);
  assertClose(inPlace.W, ops.W, "W", 1e-6);
  assertClose(inPlace.b, ops.b, "b", 1e-6);
  assertClose(inPlace.m, ops.m, "m", 1e-6);
  assertClose(inPlace.v, ops.v, "v", 1e-6);
  assert.equal(inPlace.t, ops.t);
});

Deno.test("Adam 'auto' stays on tfjs ops on cpu: arrays read before a step keep their values", async () => {
  const p = problem();
  const opt = new Adam([p.W, p.b], { lr: 0.05 });
  const read = await p.W.data(); // on tfjs-cpu this is the tensor's own array
  const copy = Float32Array.from(read);
  p.step(opt);
  assert.deepEqual(Float32Array.from(read), copy);
  assert.notDeepEqual(Float32Array.from(await p.W.data()), copy);
  opt.dispose();
  p.dispose();
});

Deno.test("Adam resumed from its saved (m, v, t) continues exactly, on both paths", async () => {
  for (const update of ["ops", "inPlace"] as const) {
    // Uninterrupted: 5 steps.
    const full = await train(update, 5);
    // Interrupted after 3 steps: save weights, m, v, t as a checkpoint does; restore; 2 more.
    const a = problem();
    const optA = new Adam([a.W, a.b], { lr: 0.05, update });
    for (let i = 0; i < 3; i++) a.step(optA);
    const saved = {
      vars: await Promise.all([a.W, a.b].map(async (v) => Float32Array.from(await v.data()))),
      m: await Promise.all(optA.m.map(async (v) => Float32Array.from(await v.data()))),
      v: await Promise.all(optA.v.map(async (v) => Float32Array.from(await v.data()))),
      t: optA.t,
    };
    optA.dispose();
    a.dispose();
    const r = problem();
    const optR = new Adam([r.W, r.b], { lr: 0.05, update });
    ([r.W, r.b] as tf.Variable[]).forEach((v, i) =>
      tf.tidy(() => v.assign(tf.tensor(saved.vars[i]!, v.shape)))
    );
    optR.m.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(saved.m[i]!, v.shape))));
    optR.v.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(saved.v[i]!, v.shape))));
    optR.t = saved.t;
    for (let i = 0; i < 2; i++) r.step(optR);
    assert.deepEqual(Float32Array.from(await r.W.data()), full.W, `W (${update})`);
    assert.deepEqual(Float32Array.from(await r.b.data()), full.b, `b (${update})`);
    assert.deepEqual(Float32Array.from(await optR.m[0]!.data()), full.m, `m (${update})`);
    assert.equal(optR.t, 5);
    optR.dispose();
    r.dispose();
  }
});

Deno.test("Adam rejects a wrong number of gradients and an unknown update mode", () => {
  const p = tf.variable(tf.zeros([2]));
  const opt = new Adam([p], { lr: 0.1 });
  assert.throws(
    () => opt.apply([]),
    (e: unknown) =>
      e instanceof TypeError &&
      /needs one gradient per variable \(1\): current value has 0/.test(e.message),
  );
  assert.throws(
    () => new Adam([p], { lr: 0.1, update: "fast" as AdamUpdate }),
    (e: unknown) =>
      e instanceof RangeError && /'update' must be .*current value is "fast"/.test(e.message),
  );
  opt.dispose();
  p.dispose();
});

Deno.test("Adam leaks no tensors on either path", () => {
  for (const update of ["ops", "inPlace"] as const) {
    const p = problem();
    const opt = new Adam([p.W, p.b], { lr: 0.05, update });
    p.step(opt);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) p.step(opt);
    assert.equal(tf.memory().numTensors, before, update);
    opt.dispose();
    p.dispose();
  }
});
