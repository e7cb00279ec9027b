import assert from "node:assert/strict";
import { GaussianMixture2D } from "../../lib/data/mod.ts";
import { discreteEntropy, quantize8 } from "../../lib/experiment/toy.ts";

Deno.test("discreteEntropy() of one Gaussian equals its differential entropy minus 2·log(bin width)", () => {
  const s = 0.1;
  const g = new GaussianMixture2D({ means: [[0.1, -0.2]], std: s });
  const want = Math.log(2 * Math.PI * Math.E * s * s) - 2 * Math.log(2 / 255);
  assert.ok(Math.abs(discreteEntropy(g) - want) < 1e-3, `${discreteEntropy(g)} vs ${want}`);
});

Deno.test("discreteEntropy() of a mixture of far-apart equal components adds log K", () => {
  const s = 0.05;
  const one = new GaussianMixture2D({ means: [[0, 0]], std: s });
  const two = new GaussianMixture2D({ means: [[-0.5, 0], [0.5, 0]], std: s });
  assert.ok(Math.abs(discreteEntropy(two) - discreteEntropy(one) - Math.log(2)) < 1e-4);
});

Deno.test("quantize8() snaps to k/127.5 − 1 and clips", () => {
  assert.deepEqual(Array.from(quantize8([-3, 1.5, 0])), [-1, 1, Math.fround(128 / 127.5 - 1)]);
});
