import assert from "node:assert/strict";
import { chooseMatMulPlan } from "../../lib/backend/mod.ts";
import { segmentSumInto } from "../../lib/backend/wasm_segment_sum.ts";
import { prepareWasmThreads } from "../../lib/backend/wasm_threads.ts";
import type { SpeedOutput } from "./speed_worker.ts";
import { runWorker } from "./spawn.ts";

Deno.test("chooseMatMulPlan() never transposes a big weight in a dense layer's gradients", () => {
  // x [128, 784], W [784, 1024], dY [128, 1024]
  const dX = chooseMatMulPlan({
    a: [128, 1024],
    b: [784, 1024],
    transposeA: false,
    transposeB: true,
  });
  const dW = chooseMatMulPlan({
    a: [128, 784],
    b: [128, 1024],
    transposeA: true,
    transposeB: false,
  });
  assert.equal(dX, "output"); // (W·dYᵀ)ᵀ: transposes dY and the [1024, 128] result
  assert.equal(dW, "inputs"); // transposes x only
  const plain = chooseMatMulPlan({ a: [3, 4], b: [4, 5], transposeA: false, transposeB: false });
  assert.equal(plain, "direct");
});

Deno.test("chooseMatMulPlan() copies the fewest elements, batched shapes included", () => {
  // Aᵀ·Bᵀ = (B·A)ᵀ: transposing the small result beats transposing both inputs
  assert.equal(
    chooseMatMulPlan({ a: [64, 2], b: [3, 64], transposeA: true, transposeB: true }),
    "output",
  );
  assert.equal(
    chooseMatMulPlan({ a: [2, 64], b: [64, 3], transposeA: true, transposeB: true }),
    "inputs",
  );
  // the parity cases exercise both plans
  assert.equal(
    chooseMatMulPlan({ a: [2, 16], b: [24, 16], transposeA: false, transposeB: true }),
    "output",
  );
  assert.equal(
    chooseMatMulPlan({ a: [16, 24], b: [16, 2], transposeA: true, transposeB: false }),
    "output",
  );
  assert.equal(
    chooseMatMulPlan({ a: [7, 5], b: [7, 4], transposeA: true, transposeB: false }),
    "inputs",
  );
  assert.equal(
    chooseMatMulPlan({ a: [3, 7, 5], b: [3, 7, 4], transposeA: true, transposeB: false }),
    "inputs",
  );
});

Deno.test("segmentSumInto() sums rows per segment and drops ids outside [0, numSegments)", () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]); // 4 rows of 2
  const out = segmentSumInto(x, new Int32Array([2, -1, 2, 3]), new Float32Array(6)); // 3 segments
  assert.deepEqual([...out], [0, 0, 0, 0, 1 + 5, 2 + 6]);
  const ints = segmentSumInto(
    new Int32Array([1, 2, 3]),
    new Int32Array([0, 0, 1]),
    new Int32Array(2),
  );
  assert.deepEqual([...ints], [3, 3]);
});

Deno.test("prepareWasmThreads() rejects a thread count that is not a positive integer", () => {
  for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => prepareWasmThreads(bad), RangeError);
});

Deno.test("on wasm, elbo's backward kernels cost < 3× their forward kernel; stock tfjs-wasm's > 4×", async () => {
  // dense layer B = 64, 512 → 512; conv 4×16×16×32, 3×3, 32 → 32; 1 thread, ratios per process
  const [elbo, stock] = await Promise.all([
    runWorker<SpeedOutput>("speed_worker.ts", []),
    runWorker<SpeedOutput>("speed_worker.ts", ["--stock"]),
  ]);
  const show = JSON.stringify({ elbo: elbo.json, stock: stock.json });
  assert.ok(elbo.json.dense.dX < 3 && elbo.json.dense.dW < 3, show);
  assert.ok(elbo.json.conv.dX < 3 && (elbo.json.conv.dW ?? Infinity) < 3, show);
  // the traps are real: transposed matmuls and the stock Conv2DBackpropInput are slow
  assert.ok(stock.json.dense.dX > 4 && stock.json.dense.dW > 4, show);
  assert.ok(stock.json.conv.dX > 4, show);
  assert.equal(stock.json.conv.dW, null); // stock has no Conv2DBackpropFilter at all
});
