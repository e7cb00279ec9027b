import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  applyTransform,
  dynamicBinarize,
  flattenBatch,
  Rng,
  toBytes,
  toSymmetricRange,
  toUnitRange,
} from "../../lib/data/mod.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

Deno.test("toSymmetricRange() is x/127.5 − 1 and toBytes() inverts it for every byte", () => {
  const x = toSymmetricRange(ALL_BYTES);
  assert.equal(x[0], -1);
  assert.equal(x[255], 1);
  assert.equal(x[51], Math.fround(51 / 127.5 - 1));
  assert.deepEqual(toBytes(x, "[-1,1]"), ALL_BYTES);
});

Deno.test("toUnitRange() is x/255 and toBytes() inverts it for every byte", () => {
  const x = toUnitRange(ALL_BYTES);
  assert.equal(x[0], 0);
  assert.equal(x[255], 1);
  assert.deepEqual(toBytes(x, "[0,1]"), ALL_BYTES);
  assert.deepEqual([...applyTransform(ALL_BYTES, "raw")], [...ALL_BYTES]);
});

Deno.test("toBytes() rounds, clips out-of-range values and maps NaN to 0", () => {
  assert.deepEqual([...toBytes([-3, -1, 0.999, 2, NaN], "[-1,1]")], [0, 0, 255, 255, 0]);
  assert.deepEqual([...toBytes([0.4, 254.6, 300, -2], "[0,255]")], [0, 255, 255, 0]);
});

Deno.test("dynamicBinarize() draws Bernoulli(byte/255) per pixel", () => {
  const reps = 4000;
  const bytes = new Uint8Array(256 * reps);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
  const bin = dynamicBinarize(bytes, new Rng(3));
  const ones = new Array<number>(256).fill(0);
  bin.forEach((v, i) => {
    assert.ok(v === 0 || v === 1);
    ones[i % 256]! += v;
  });
  assert.equal(ones[0], 0);
  assert.equal(ones[255], reps);
  let worst = 0;
  for (let b = 1; b < 255; b++) {
    const p = b / 255;
    const z = Math.abs(ones[b]! / reps - p) / Math.sqrt((p * (1 - p)) / reps);
    worst = Math.max(worst, z);
  }
  // 254 independent z-scores: max |z| > 4.5 has probability < 0.002.
  assert.ok(worst < 4.5, `worst |z| = ${worst}`);
  const mean = bin.reduce((s, v) => s + v, 0) / bin.length;
  // E[p(1 − p)] over uniform bytes ≈ 1/6, so the overall mean has s.e. √(1/6/N).
  assert.ok(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 6 / bin.length), `mean ${mean}`);
});

Deno.test("dynamicBinarize() is reproducible for a seed and resampled for another", () => {
  const bytes = new Uint8Array(1000).fill(128);
  const a = dynamicBinarize(bytes, new Rng(1));
  assert.deepEqual(dynamicBinarize(bytes, new Rng(1)), a);
  const b = dynamicBinarize(bytes, new Rng(2));
  const differ = a.filter((v, i) => v !== b[i]).length;
  assert.ok(differ > 400 && differ < 600, `${differ} of 1000 pixels differ`);
  assert.throws(() => applyTransform(bytes, "binarize"), /without a random stream/);
});

Deno.test("flattenBatch() reshapes [B, H, W, C] to [B, H·W·C] keeping the values", async () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
  const flat = flattenBatch(x);
  assert.deepEqual(flat.shape, [2, 4]);
  assert.deepEqual(await flat.array(), [[1, 2, 3, 4], [5, 6, 7, 8]]);
  tf.dispose([x, flat]);
  assert.throws(() => flattenBatch(tf.scalar(1)), TypeError);
});
