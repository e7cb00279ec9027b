/**
 * Speed worker for `wasm_kernels_test.ts`: on wasm (elbo's kernels, or stock with `--stock`),
 * 1 thread, times the kernels of a dense layer's and a conv layer's backward pass against their
 * forward kernel and prints the fastest times and their ratios as one JSON line. Ratios of the
 * fastest of 11 interleaved runs in one process, so that other processes on the machine (which
 * only ever slow a run down) move both sides alike.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { initBackend, readScalar } from "../../lib/backend/mod.ts";

/** The worker's output line: fastest ms per kernel, and ratios to the forward kernel. */
export interface SpeedOutput {
  ms: Record<string, number>;
  /** dX and dW of a dense layer over its forward matmul. */
  dense: { dX: number; dW: number };
  /** dX and (elbo only) dW of a 3×3 conv over its forward conv. */
  conv: { dX: number; dW: number | null };
}

const stock = Deno.args.includes("--stock");
await initBackend({ backend: "wasm", threads: 1, quiet: true, wasmKernels: !stock });
const b = 64, k = 512, n = 512;
const x = tf.randomNormal([b, k], 0, 1, "float32", 1) as tf.Tensor2D; // [B, K]
const w = tf.randomNormal([k, n], 0, 1, "float32", 2) as tf.Tensor2D; // [K, N]
const dy = tf.randomNormal([b, n], 0, 1, "float32", 3) as tf.Tensor2D; // [B, N]
const img = tf.randomNormal([4, 16, 16, 32], 0, 1, "float32", 4) as tf.Tensor4D; // [N, H, W, C]
const filt = tf.randomNormal([3, 3, 32, 32], 0, 1, "float32", 5) as tf.Tensor4D; // [3, 3, C, C]
const dimg = tf.randomNormal([4, 16, 16, 32], 0, 1, "float32", 6) as tf.Tensor4D; // [N, H, W, C]
const convAttrs = { strides: [1, 1], pad: "same", dataFormat: "NHWC" };
const cases: Record<string, () => tf.Tensor> = {
  mmForward: () => tf.matMul(x, w), // [B, N]
  mmDX: () => tf.matMul(dy, w, false, true), // dY·Wᵀ [B, K]
  mmDW: () => tf.matMul(x, dy, true, false), // Xᵀ·dY [K, N]
  convForward: () => tf.conv2d(img, filt, 1, "same"),
  convDX: () =>
    tf.engine().runKernel("Conv2DBackpropInput", { dy: dimg, filter: filt }, {
      ...convAttrs,
      inputShape: [4, 16, 16, 32],
    }) as tf.Tensor,
};
if (!stock) {
  cases["convDW"] = () =>
    tf.engine().runKernel("Conv2DBackpropFilter", { x: img, dy: dimg }, {
      ...convAttrs,
      filterShape: [3, 3, 32, 32],
    }) as tf.Tensor;
}
const times: Record<string, number[]> = {};
for (let rep = -1; rep < 11; rep++) { // rep −1 warms up
  for (const [name, f] of Object.entries(cases)) {
    const t0 = performance.now();
    await readScalar(tf.tidy(() => tf.sum(f())), { dispose: true });
    if (rep >= 0) (times[name] ??= []).push(performance.now() - t0);
  }
}
const ms = Object.fromEntries(Object.entries(times).map(([name, ts]) => [name, Math.min(...ts)]));
const out: SpeedOutput = {
  ms,
  dense: { dX: ms["mmDX"]! / ms["mmForward"]!, dW: ms["mmDW"]! / ms["mmForward"]! },
  conv: {
    dX: ms["convDX"]! / ms["convForward"]!,
    dW: stock ? null : ms["convDW"]! / ms["convForward"]!,
  },
};
console.log(JSON.stringify(out));
