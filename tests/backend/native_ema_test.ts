// The in-place EMA update (lib/backend/native_ema.ts, used by lib/train/ema.ts on wasm) against
// the tfjs-ops update it replaces: bit-identical shadows, SIMD on the wasm heap, and nothing else
// touched.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend/mod.ts";
import { activeHeap } from "../../lib/backend/native_heap.ts";
import { emaInPlace, emaUpdate } from "../../lib/backend/native_ema.ts";
import { Ema } from "../../lib/train/ema.ts";
import { seeded } from "../_seeded.ts";

await initBackend({ backend: "wasm", threads: 1, quiet: true });

/** The tfjs-ops update: d·s + (1 − d)·w. */
function opsUpdate(s: Float32Array, w: Float32Array, decay: number): Float32Array {
  return tf.tidy(() =>
    tf.add(tf.mul(tf.tensor1d(s), decay), tf.mul(tf.tensor1d(w), 1 - decay)).dataSync()
  ) as Float32Array;
}

Deno.test("emaUpdate() in wasm SIMD equals the tfjs-ops update bit for bit, tail included", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  for (const [n, decay] of [[4099, 0.999], [7, 0.9], [3, 0.5], [1000, 0.9999]] as const) {
    const s = new Float32Array(memory.buffer, 0, n), w = new Float32Array(memory.buffer, 4 * n, n);
    s.set(seeded(n, n)), w.set(seeded(n, n + 1).map((v) => 3 * v));
    const want = opsUpdate(s, w, decay);
    assert.equal(emaUpdate(memory, s, w, decay), true, "the SIMD code ran");
    assert.deepEqual(s, want, `n = ${n}, d = ${decay}`);
  }
  const js = seeded(5, 1), w = seeded(5, 2);
  const want = opsUpdate(js, w, 0.9);
  assert.equal(emaUpdate(null, js, w, 0.9), false);
  assert.deepEqual(js, want, "the JavaScript loop too");
});

Deno.test("Ema on wasm updates in place and keeps the shadows the tfjs-ops update gives", async () => {
  const w = tf.variable(tf.tensor2d(seeded(6 * 5, 3), [6, 5]));
  const ema = new Ema([w], 0.9);
  let want: Float32Array = Float32Array.from(await w.data());
  const before = tf.memory().numTensors;
  for (let step = 0; step < 4; step++) {
    const next = tf.add(w, 0.25 * (step + 1)) as tf.Tensor2D;
    w.assign(next);
    next.dispose();
    want = opsUpdate(want, await w.data() as Float32Array, 0.9);
    ema.update();
    assert.deepEqual(await ema.shadows[0]!.data(), want, `step ${step}`);
  }
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  // After the first update the shadow owns its memory, so later updates run in place.
  assert.equal(emaInPlace(activeHeap()!, ema.shadows[0]!, w, 0.9), true);
  const shadow = Float32Array.from(await ema.shadows[0]!.data());
  w.assign(tf.zerosLike(w));
  assert.deepEqual(await ema.shadows[0]!.data(), shadow, "changing the weights leaves the shadow");
  ema.dispose();
  w.dispose();
});

Deno.test("emaInPlace() refuses a shadow whose memory another tensor shares", () => {
  const s = tf.variable(tf.zeros([4])), alias = s.clone(), w = tf.ones([4]);
  assert.equal(emaInPlace(activeHeap()!, s, w, 0.9), false);
  assert.deepEqual([...alias.dataSync()], [0, 0, 0, 0]);
  tf.dispose([s, alias, w]);
});
