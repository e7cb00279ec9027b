import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { reparameterize } from "../../lib/vae/mod.ts";
import type { NoiseSource } from "../../lib/vae/mod.ts";
import { assertClose, mean, read } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("reparameterize() with injected noise computes z = mu + exp(logvar / 2) * eps", async () => {
  const mu = tf.tensor2d([[0.5, -1, 2], [0, 3, -0.25]]);
  const logvar = tf.tensor2d([[0, -2, 1.5], [-4, 0.3, 2]]);
  const noise = tf.tensor2d([[1, -0.5, 0.25], [2, 0, -1.5]]);
  const { z, eps } = reparameterize(mu, logvar, { noise });
  const [m, lv, n] = [await read(mu), await read(logvar), await read(noise)];
  const expected = m.map((mi, i) => mi + Math.exp(0.5 * (lv[i] as number)) * (n[i] as number));
  assertClose(await read(z), expected, { what: "z" });
  assertClose(await read(eps), n, { what: "eps" });
});

Deno.test("reparameterize() is reproducible with a seed and its samples have mean mu, std sigma", async () => {
  const n = 20000;
  const mu = tf.fill([n, 1], 1.5);
  const logvar = tf.fill([n, 1], Math.log(0.25)); // sigma = 0.5
  const a = await read(reparameterize(mu, logvar, { seed: 7 }).z);
  const b = await read(reparameterize(mu, logvar, { seed: 7 }).z);
  const c = await read(reparameterize(mu, logvar, { seed: 8 }).z);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const m = mean(a);
  const sd = Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1));
  // Mean: SE = 0.5 / sqrt(n) = 0.0035; std: SE ≈ 0.5 / sqrt(2n) = 0.0025. Allow 4 SE.
  assert.ok(Math.abs(m - 1.5) < 4 * 0.5 / Math.sqrt(n), `mean ${m}`);
  assert.ok(Math.abs(sd - 0.5) < 4 * 0.5 / Math.sqrt(2 * n), `std ${sd}`);
});

Deno.test("reparameterize() passes gradients: dz/dmu = 1 and dz/dlogvar = sigma * eps / 2", async () => {
  const mu = tf.tensor1d([0.2, -0.7]);
  const logvar = tf.tensor1d([0.4, -1.2]);
  const noise = tf.tensor1d([1.3, -0.6]);
  const [gMu, gLv] = tf.grads((m: tf.Tensor, lv: tf.Tensor) =>
    tf.sum(reparameterize(m, lv, { noise }).z)
  )([mu, logvar]);
  assertClose(await read(gMu as tf.Tensor), [1, 1]);
  const expected = [0.5 * Math.exp(0.2) * 1.3, 0.5 * Math.exp(-0.6) * -0.6];
  assertClose(await read(gLv as tf.Tensor), expected, { what: "dz/dlogvar" });
});

Deno.test("reparameterize() rejects mismatched shapes and a missing random stream", () => {
  const mu = tf.zeros([2, 3]);
  assert.throws(() => reparameterize(mu, tf.zeros([2, 4]), { seed: 0 }), TypeError);
  assert.throws(() => reparameterize(mu, tf.zeros([2, 3]), { noise: tf.zeros([3, 2]) }), TypeError);
  assert.throws(
    () => reparameterize(mu, tf.zeros([2, 3]), {} as unknown as NoiseSource),
    /random stream is missing/,
  );
});
