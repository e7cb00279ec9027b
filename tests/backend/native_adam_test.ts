// FusedAdamOptimizer (lib/backend/native_adam.ts) against tfjs's own Adam, on cpu and wasm.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import assert from "node:assert/strict";
import { adamUpdate, FusedAdamOptimizer, simdAdamUpdate } from "../../lib/backend/native_adam.ts";
import { assertRelClose as assertClose, seeded } from "../_seeded.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

type MakeOptimizer = () => tf.Optimizer;

/**
 * Trains a tiny regression (W [7, 3], b [3]; 7 is odd so the SIMD tail runs) for `steps` steps
 * on `backend` and returns the final weights.
 */
async function train(
  backend: string,
  makeOptimizer: MakeOptimizer,
  steps: number,
): Promise<{ W: Float32Array; b: Float32Array }> {
  await tf.setBackend(backend);
  const W = tf.variable(tf.tensor2d(seeded(21, 1), [7, 3]));
  const b = tf.variable(tf.tensor1d(seeded(3, 2)));
  const x = tf.tensor2d(seeded(56, 3), [8, 7]);
  const y = tf.tensor2d(seeded(24, 4), [8, 3]);
  const opt = makeOptimizer();
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      opt.minimize(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, W), b), y))) as tf.Scalar);
    });
  }
  const out = { W: new Float32Array(await W.data()), b: new Float32Array(await b.data()) };
  tf.dispose([W, b, x, y]);
  opt.dispose();
  await tf.setBackend("cpu");
  return out;
}

Deno.test("FusedAdamOptimizer matches tf.train.adam over 6 steps on cpu and wasm", async () => {
  const ref = await train("cpu", () => tf.train.adam(0.05), 6);
  for (const backend of ["cpu", "wasm"]) {
    const got = await train(backend, () => new FusedAdamOptimizer(0.05), 6);
    assertClose(got.W, ref.W, `W on ${backend}`, 1e-5);
    assertClose(got.b, ref.b, `b on ${backend}`, 1e-5);
  }
});

Deno.test("FusedAdamOptimizer moves every weight by about lr on the first step", async () => {
  // Adam's first step is lr * g / (|g| + eps): each weight with a non-zero gradient moves by lr.
  const start = seeded(21, 1);
  const got = await train("wasm", () => new FusedAdamOptimizer(0.01), 1);
  for (let i = 0; i < start.length; i++) {
    assert.ok(Math.abs(Math.abs(got.W[i]! - start[i]!) - 0.01) < 1e-5, `W[${i}]`);
  }
});

Deno.test("simdAdamUpdate matches adamUpdate, including a tail that is not a multiple of 4", () => {
  const n = 1031;
  const memory = new WebAssembly.Memory({ initial: 1 });
  // 4 arrays at 16-byte aligned offsets inside the wasm memory
  const views = [0, 1, 2, 3].map((k) => new Float32Array(memory.buffer, k * 4128, n));
  const [w, m, v, g] = views as [Float32Array, Float32Array, Float32Array, Float32Array];
  w.set(seeded(n, 5));
  const w2 = w.slice(), m2 = m.slice(), v2 = v.slice();
  for (let step = 1; step <= 4; step++) {
    g.set(seeded(n, 10 + step));
    const hp = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step };
    simdAdamUpdate(memory, w, m, v, g, hp);
    adamUpdate(w2, m2, v2, g, hp);
  }
  assertClose(w, w2, "w", 1e-6);
  assertClose(m, m2, "m", 1e-6);
  assertClose(v, v2, "v", 1e-6);
});

Deno.test("a weight sharing memory with a live tensor is updated out of place, then in place", async () => {
  for (const backend of ["cpu", "wasm"]) {
    const values: number[][] = [];
    for (const fused of [false, true]) {
      await tf.setBackend(backend);
      const init = tf.tensor1d([1, 2, 3, 4, 5]);
      const w = tf.variable(init); // shares init's memory
      const opt = fused ? new FusedAdamOptimizer(0.1) : tf.train.adam(0.1);
      const x = tf.tensor2d([[1, 2, 3, 4, 5]]);
      // The matmul makes tfjs-wasm cache packed weights for w (XNNPACK), which in-place updates
      // must invalidate.
      const loss = () => tf.sum(tf.square(tf.matMul(x, tf.reshape(w, [5, 1])))) as tf.Scalar;
      const step = () => tf.tidy(() => void opt.minimize(loss));
      step();
      assert.deepEqual(Array.from(await init.data()), [1, 2, 3, 4, 5], `${backend}: init changed`);
      const own = w.dataId;
      step();
      step();
      if (fused) assert.equal(w.dataId, own, `${backend}: later steps were not in place`);
      values.push(Array.from(await w.data()));
      tf.dispose([init, w, x]);
      opt.dispose();
    }
    assertClose(values[1]!, values[0]!, `${backend}: w after 3 steps`, 1e-5);
  }
  await tf.setBackend("cpu");
});

Deno.test("a weight cast from int32 (integer storage on tfjs-cpu) trains like tfjs's Adam", async () => {
  const results: number[][] = [];
  for (const fused of [false, true]) {
    // tidy disposes the cast tensor: w alone holds the integer storage (refCount 1).
    const w = tf.tidy(() => tf.variable(tf.cast(tf.tensor1d([3, -1, 2], "int32"), "float32")));
    const opt = fused ? new FusedAdamOptimizer(0.1) : tf.train.adam(0.1);
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => void opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar));
    }
    results.push(Array.from(await w.data()));
    w.dispose();
    opt.dispose();
  }
  assertClose(results[1]!, results[0]!, "w", 1e-5);
});

Deno.test("state saved from tf.train.adam continues identically in FusedAdamOptimizer", async () => {
  const ref = await train("cpu", () => tf.train.adam(0.05), 4);
  // Two steps with tfjs's Adam, then hand its state over and take two fused steps.
  await tf.setBackend("wasm");
  const W = tf.variable(tf.tensor2d(seeded(21, 1), [7, 3]));
  const b = tf.variable(tf.tensor1d(seeded(3, 2)));
  const x = tf.tensor2d(seeded(56, 3), [8, 7]);
  const y = tf.tensor2d(seeded(24, 4), [8, 3]);
  const loss = () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, W), b), y))) as tf.Scalar;
  const first = tf.train.adam(0.05);
  for (let i = 0; i < 2; i++) tf.tidy(() => void first.minimize(loss));
  const second = new FusedAdamOptimizer(0.05);
  await second.setWeights(await first.getWeights());
  assert.equal(second.iterations, 2);
  for (let i = 0; i < 2; i++) tf.tidy(() => void second.minimize(loss));
  assertClose(await W.data(), ref.W, "W", 1e-5);
  assertClose(await b.data(), ref.b, "b", 1e-5);
  const saved = await second.getWeights();
  assert.deepEqual(saved.map((s) => s.name.replace(/^.*\//, "")), ["iter", "m", "m", "v", "v"]);
  tf.dispose([W, b, x, y]);
  first.dispose();
  second.dispose();
  await tf.setBackend("cpu");
});

Deno.test("training with FusedAdamOptimizer leaves tf.memory().numTensors flat", async () => {
  await tf.setBackend("wasm");
  const w = tf.variable(tf.tensor2d(seeded(12, 6), [4, 3]));
  const x = tf.tensor2d(seeded(8, 7), [2, 4]);
  const opt = new FusedAdamOptimizer(0.01);
  const step = () => tf.tidy(() => void opt.minimize(() => tf.sum(tf.matMul(x, w)) as tf.Scalar));
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, x]);
  opt.dispose();
  await tf.setBackend("cpu");
});

Deno.test("FusedAdamOptimizer rejects a non-positive learning rate and betas outside [0, 1)", () => {
  assert.throws(() => new FusedAdamOptimizer(0), RangeError);
  assert.throws(() => new FusedAdamOptimizer(1e-3, 1), RangeError);
  assert.throws(() => new FusedAdamOptimizer(1e-3, 0.9, -0.1), RangeError);
});
