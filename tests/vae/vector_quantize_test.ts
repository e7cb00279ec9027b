import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { codebookUsage, vectorQuantize, vqLosses } from "../../lib/vae/mod.ts";
import { assertClose, read } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** Brute-force nearest codebook rows in float64. */
function nearest(ze: number[], codebook: number[], dim: number): number[] {
  const k = codebook.length / dim;
  const out: number[] = [];
  for (let n = 0; n < ze.length / dim; n++) {
    let best = 0;
    let bestD = Infinity;
    for (let j = 0; j < k; j++) {
      let d = 0;
      for (let i = 0; i < dim; i++) {
        d += ((ze[n * dim + i] as number) - (codebook[j * dim + i] as number)) ** 2;
      }
      if (d < bestD) [best, bestD] = [j, d];
    }
    out.push(best);
  }
  return out;
}

Deno.test("vectorQuantize() picks the nearest code on [B, D] and [B, H, W, D] inputs", async () => {
  const codebook = tf.randomNormal([7, 4], 0, 1, "float32", 31);
  const cb = await read(codebook);
  for (const shape of [[9, 4], [2, 3, 3, 4]]) {
    const ze = tf.randomNormal(shape, 0, 1, "float32", 32);
    const { zq, indices, zqST } = vectorQuantize(ze, codebook);
    assert.deepEqual(indices.shape, shape.slice(0, -1));
    assert.equal(indices.dtype, "int32");
    const idx = await read(indices);
    assert.deepEqual(idx, nearest(await read(ze), cb, 4));
    assert.deepEqual(await read(zq), idx.flatMap((k) => cb.slice(k * 4, k * 4 + 4)));
    assertClose(await read(zqST), await read(zq), { atol: 1e-6, what: "zqST value" });
  }
  assert.throws(() => vectorQuantize(tf.zeros([3, 5]), codebook), TypeError);
});

Deno.test("vectorQuantize() straight-through output has identity gradient to ze and none to the codebook", async () => {
  const codebook = tf.tensor2d([[0, 0], [1, 1], [-1, 2]]);
  const ze = tf.tensor2d([[0.9, 1.2], [-0.1, 0.2], [-0.8, 1.5]]);
  const upstream = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const [gZe, gCb] = tf.grads((z: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(vectorQuantize(z, c).zqST, upstream))
  )([ze, codebook]);
  assert.deepEqual(await read(gZe as tf.Tensor), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(await read(gCb as tf.Tensor), [0, 0, 0, 0, 0, 0]);
});

Deno.test("vqLosses(): the codebook loss moves only the codebook, the commitment loss only ze", async () => {
  const codebook = tf.tensor2d([[0, 0], [1, 1], [-1, 2]]);
  const ze = tf.tensor2d([[0.9, 1.2], [-0.1, 0.2], [-0.8, 1.5]]); // codes 1, 0, 2
  const beta = 0.25;
  const losses = (z: tf.Tensor, c: tf.Tensor) => vqLosses(z, vectorQuantize(z, c).zq, { beta });
  const sq = [0.01 + 0.04, 0.01 + 0.04, 0.04 + 0.25];
  const { codebook: lc, commitment: lm } = losses(ze, codebook);
  assertClose(await read(lc), sq, { what: "codebook loss" });
  assertClose(await read(lm), sq.map((v) => beta * v), { what: "commitment loss" });

  const [cbZe, cbCb] = tf.grads((z: tf.Tensor, c: tf.Tensor) => tf.sum(losses(z, c).codebook))([
    ze,
    codebook,
  ]);
  assert.deepEqual(await read(cbZe as tf.Tensor), [0, 0, 0, 0, 0, 0]);
  // d/de_k Σ ‖ze − e_k‖² = 2 Σ_{n → k} (e_k − ze_n).
  assertClose(await read(cbCb as tf.Tensor), [0.2, -0.4, 0.2, -0.4, -0.4, 1.0], {
    what: "d/dcodebook",
  });

  const [cmZe, cmCb] = tf.grads((z: tf.Tensor, c: tf.Tensor) => tf.sum(losses(z, c).commitment))([
    ze,
    codebook,
  ]);
  assert.deepEqual(await read(cmCb as tf.Tensor), [0, 0, 0, 0, 0, 0]);
  // d/dze_n β‖ze_n − e‖² = 2β (ze_n − e).
  assertClose(await read(cmZe as tf.Tensor), [-0.05, 0.1, -0.05, 0.1, 0.1, -0.25], {
    what: "d/dze",
  });
});

Deno.test("codebookUsage() gives perplexity K for uniform use, 1 for a single code, and the used fraction", async () => {
  const uniform = codebookUsage(tf.tensor1d([0, 1, 2, 3, 3, 2, 1, 0], "int32"), 4);
  assertClose(await read(uniform.perplexity), [4], { rtol: 1e-5 });
  assert.deepEqual(await read(uniform.counts), [2, 2, 2, 2]);
  const single = codebookUsage(tf.tensor2d([[2, 2], [2, 2]], [2, 2], "int32"), 8);
  assertClose(await read(single.perplexity), [1], { rtol: 1e-5 });
  assertClose(await read(single.usedFraction), [1 / 8]);
  const skewed = codebookUsage(tf.tensor1d([0, 0, 0, 1], "int32"), 3);
  const h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  assertClose(await read(skewed.perplexity), [Math.exp(h)], { rtol: 1e-5 });
  assert.throws(() => codebookUsage(tf.tensor1d([0, 1]), 2), TypeError);
});
