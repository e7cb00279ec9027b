import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { kSparse, sparsityKl } from "../../lib/vae/mod.ts";
import { assertClose, read } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("sparsityKl() is the batch KL(rho || mean activation) summed over units, broadcast to [B]", async () => {
  const h = tf.tensor2d([[0.1, 0.5, 0.05], [0.3, 0.1, 0.05]]); // means 0.2, 0.3, 0.05
  const rho = 0.05;
  const kl = (r: number, q: number) => r * Math.log(r / q) + (1 - r) * Math.log((1 - r) / (1 - q));
  const expected = kl(rho, 0.2) + kl(rho, 0.3) + kl(rho, 0.05);
  assertClose(await read(sparsityKl(h, { rho })), [expected, expected], { rtol: 1e-5 });
  assertClose(await read(sparsityKl(tf.fill([4, 6], 0.1), { rho: 0.1 })), [0, 0, 0, 0], {
    atol: 1e-6,
  });
  // Saturated units give a large but finite penalty.
  const sat = await read(sparsityKl(tf.tensor2d([[1, 0], [1, 0]])));
  assert.ok(sat.every((v) => Number.isFinite(v) && v > 10), `saturated ${sat}`);
});

Deno.test("sparsityKl() averaged over the batch has the gradient of the scalar penalty", async () => {
  const h = tf.tensor2d([[0.2, 0.6], [0.4, 0.1], [0.3, 0.2]]);
  const rho = 0.1;
  const [g] = tf.grads((a: tf.Tensor) => tf.mean(sparsityKl(a, { rho })))([h]);
  // d/dh_bj of Σ_j KL(ρ || mean_b h_bj) = (−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j)) / B.
  const rhoHat = [0.3, 0.3];
  const expected = [0, 1, 2].flatMap(() => rhoHat.map((q) => (-rho / q + (1 - rho) / (1 - q)) / 3));
  assertClose(await read(g as tf.Tensor), expected, { rtol: 1e-4 });
});

Deno.test("kSparse() keeps exactly the k largest activations of each example", async () => {
  const z = tf.tensor2d([[0.1, 0.9, -0.5, 0.3, 0.8], [5, -1, 2, 4, 3]]);
  assert.deepEqual(
    await read(kSparse(z, { k: 2 })),
    [0, 0.9, 0, 0, 0.8].map(Math.fround).concat([5, 0, 0, 4, 0]),
  );
  assert.deepEqual(await read(kSparse(z, { k: 5 })), await read(z));
  assert.throws(() => kSparse(z, { k: 6 }), RangeError);
  assert.throws(() => kSparse(tf.zeros([2, 3, 4]), { k: 1 }), TypeError);
});

Deno.test("kSparse() passes gradient only through the kept units (zero elsewhere)", async () => {
  const z = tf.tensor2d([[0.1, 0.9, -0.5, 0.3, 0.8], [5, -1, 2, 4, 3]]);
  const upstream = tf.tensor2d([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
  const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(kSparse(a, { k: 2 }), upstream)))([z]);
  assert.deepEqual(await read(g as tf.Tensor), [0, 2, 0, 0, 5, 6, 0, 0, 9, 0]);
});
