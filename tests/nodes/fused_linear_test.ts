// fusedLinear (lib/nodes/fused_linear.ts): x·W + b in one kernel with a registered, lazy gradient.
// Values and gradients equal the plain matMul + add on cpu, wasm and wasm with native BLAS, and
// backprop computes only the gradients it needs.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import assert from "node:assert/strict";
import { fusedLinear } from "../../lib/nodes/fused_linear.ts";
import { disableNativeBlas, enableNativeBlas } from "../../lib/backend/native_blas.ts";
import { assertClose, read } from "./_helpers.ts";

tf.env().set("PROD", true);

const x0 = [[0.5, -1, 2], [1.5, 0.25, -0.75]]; // [2, 3]
const W0 = [[0.1, -0.2, 0.3, 0.4], [0.5, 0.6, -0.7, 0.8], [-0.9, 1, 1.1, -1.2]]; // [3, 4]
const b0 = [0.01, -0.02, 0.03, 0.5];
const dy0 = [[1, -2, 0.5, 3], [0.25, 1, -1, 2]]; // a non-uniform upstream gradient

/** Value and gradients of Σ dy ⊙ f(x, W, b) with respect to x, W and b. */
async function valueAndGrads(f: (x: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => tf.Tensor) {
  const dy = tf.tensor2d(dy0);
  const [x, W, b] = [tf.tensor2d(x0), tf.tensor2d(W0), tf.tensor1d(b0)];
  const y = f(x, W, b);
  const grads = tf.grads((xx, ww, bb) => tf.sum(tf.mul(f(xx, ww, bb), dy)))([x, W, b]);
  const out = [await read(y), ...await Promise.all(grads.map(read))];
  assert.deepEqual(grads.map((g) => g.shape), [[2, 3], [3, 4], [4]]);
  tf.dispose([dy, x, W, b, y, ...grads]);
  return out;
}

for (const [backend, native] of [["cpu", false], ["wasm", false], ["wasm", true]] as const) {
  Deno.test(`fusedLinear() equals matMul + add in value and gradients on ${backend}${native ? " + native BLAS" : ""}`, async () => {
    await tf.setBackend(backend);
    if (native) {
      const info = enableNativeBlas("wasm");
      if (!info.enabled) {
        console.warn(`skipped: ${info.reason}`);
        return;
      }
    }
    try {
      const got = await valueAndGrads(fusedLinear);
      const want = await valueAndGrads((x, W, b) => tf.add(tf.matMul(x, W), b));
      got.forEach((g, i) => assertClose(g, want[i]!, { atol: 1e-6, what: `output ${i}` }));
    } finally {
      if (native) disableNativeBlas("wasm");
    }
  });
}

Deno.test("fusedLinear()'s gradient skips dx when only the parameters need gradients", async () => {
  await tf.setBackend("cpu");
  const W = tf.variable(tf.tensor2d(W0)), b = tf.variable(tf.tensor1d(b0));
  const x = tf.tensor2d(x0);
  const count = async (f: () => tf.Tensor) => {
    const p = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, [W, b]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    return p.kernels.filter((k) => k.name === "BatchMatMul").length;
  };
  // Backward: dW only. tf.fused.matMul's custom gradient also computes dx.
  assert.equal(await count(() => fusedLinear(x, W, b)), 1);
  assert.equal(await count(() => tf.fused.matMul({ a: x, b: W, bias: b })), 2);
  tf.dispose([W, b, x]);
});

Deno.test("fusedLinear() rejects mismatched shapes with a message naming them", () => {
  assert.throws(
    () => fusedLinear(tf.ones([2, 3]), tf.ones([4, 5]), tf.ones([5])),
    /Cannot apply a linear layer as x, W, b must be \[B, in\], \[in, out\], \[out\]: current value is \[2,3\], \[4,5\], \[5\]/,
  );
});
