/**
 * The sum over every axis but the last, on the webgpu backend in one dispatch: a dense layer's
 * bias gradient. tfjs-webgpu reduces only over the innermost axis, so `tf.sum(dy, 0)` of a
 * `[B, out]` gradient is a Transpose and a Sum, two dispatches per layer (12 of a training step of
 * workload A). Here each invocation adds one column down the rows; neighbouring invocations read
 * neighbouring addresses.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { dispatchToNew, kernelEntry } from "./webgpu_inplace.ts";

const COLUMN_SUM_WGSL = `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;

${kernelEntry("y", "j")}
  let n = arrayLength(&y);
  let rows = arrayLength(&x) / n;
  var acc = 0.0;
  for (var r = 0u; r < rows; r++) { acc += x[r * n + j]; }
  y[j] = acc;
}
`;

/**
 * Σ over all axes but the last of a float32 tensor, by one WebGPU dispatch, or `null` when the
 * backend is not webgpu, `x` is not float32 or has rank < 2: then use `tf.sum`.
 *
 * @param x Input `[…, n]`.
 * @returns `[n]`, or `null`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { webgpuColumnSum } from "./webgpu_column_sum.ts";
 *
 * await tf.setBackend("cpu");
 * const dy = tf.ones([4, 3]);
 * const db = webgpuColumnSum(dy) ?? tf.sum(dy, 0); // tf.sum here: not on webgpu
 * ```
 */
export function webgpuColumnSum(x: Tensor): Tensor | null {
  if (tf.getBackend() !== "webgpu" || x.dtype !== "float32" || x.rank < 2) return null;
  return dispatchToNew(COLUMN_SUM_WGSL, [x.shape[x.rank - 1]!], [x]);
}
