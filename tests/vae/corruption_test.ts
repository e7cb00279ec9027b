import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { gaussianNoise, maskingNoise } from "../../lib/vae/mod.ts";
import { assertClose, mean, read } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("maskingNoise() zeroes a fraction `rate` of the elements and keeps the rest", async () => {
  const n = 20000;
  const x = tf.add(tf.randomUniform([100, n / 100], 0, 1, "float32", 1), 0.5); // no zeros
  const { corrupted, dropped } = maskingNoise(x, { seed: 2, rate: 0.3 });
  const [xv, cv, dv] = [await read(x), await read(corrupted), await read(dropped)];
  const frac = mean(dv);
  // Binomial SD of the fraction: sqrt(0.3 · 0.7 / n) ≈ 0.0032; allow 4 SD.
  assert.ok(Math.abs(frac - 0.3) < 4 * Math.sqrt(0.21 / n), `dropped fraction ${frac}`);
  for (let i = 0; i < n; i++) {
    assert.equal(cv[i], dv[i] === 1 ? 0 : xv[i], `element ${i}`);
  }
  assert.deepEqual(await read(maskingNoise(x, { seed: 2, rate: 0.3 }).dropped), dv);
});

Deno.test("maskingNoise() with injected uniform noise drops exactly where noise < rate", async () => {
  const x = tf.tensor2d([[1, 2, 3, 4]]);
  const noise = tf.tensor2d([[0.1, 0.5, 0.24, 0.9]]);
  const { corrupted, dropped } = maskingNoise(x, { noise, rate: 0.25 });
  assert.deepEqual(await read(dropped), [1, 0, 1, 0]);
  assert.deepEqual(await read(corrupted), [0, 2, 0, 4]);
  assert.throws(() => maskingNoise(x, { seed: 0, rate: 1.5 }), RangeError);
});

Deno.test("gaussianNoise() adds sigma times standard normal noise", async () => {
  const x = tf.zeros([50, 400]);
  const { corrupted, noise } = gaussianNoise(x, { seed: 4, sigma: 0.3 });
  const c = await read(corrupted);
  const m = mean(c);
  const sd = Math.sqrt(c.reduce((s, v) => s + (v - m) ** 2, 0) / (c.length - 1));
  assert.ok(Math.abs(sd - 0.3) < 4 * 0.3 / Math.sqrt(2 * c.length), `std ${sd}`);
  assertClose(c, (await read(noise)).map((e) => 0.3 * e));
  const injected = gaussianNoise(tf.ones([1, 2]), { noise: tf.tensor2d([[1, -2]]), sigma: 0.5 });
  assertClose(await read(injected.corrupted), [1.5, 0]);
});
