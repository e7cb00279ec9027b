/**
 * SiLU, x·σ(x), on the webgpu backend as one dispatch forward and one backward. With tfjs ops it
 * is a Sigmoid and a Multiply forward and six kernels backward (the gradients of both, summed),
 * each a dispatch with its own uniform and output buffer: for the 4 SiLUs of workload A's
 * ε-network, 32 dispatches per training step become 8 (`bench/gpu_work.ts` counts them).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { dispatchToNew, kernelEntry } from "./webgpu_inplace.ts";

/** y = x σ(x). */
const FORWARD = `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
${kernelEntry("y")}
  let xi = x[i];
  y[i] = xi / (1.0 + exp(-xi));
}`;

/** dx = dy σ(x) (1 + x (1 − σ(x))), the derivative of x σ(x). */
const BACKWARD = `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
${kernelEntry("y")}
  let xi = x[i];
  let s = 1.0 / (1.0 + exp(-xi));
  y[i] = dy[i] * s * (1.0 + xi * (1.0 - s));
}`;

const siluGrad = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
  const [input, save] = args as [Tensor, tf.GradSaveFunc];
  save([input]);
  const value = dispatchToNew(FORWARD, input.shape, [input]) ??
    tf.mul(input, tf.sigmoid(input)); // an empty x (dispatchToNew declines it)
  return {
    value,
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const xs = saved[0]!, g = dy;
      const dx = dispatchToNew(BACKWARD, xs.shape, [xs, g]);
      if (dx !== null) return dx;
      const s = tf.sigmoid(xs);
      return tf.mul(g, tf.mul(s, tf.add(1, tf.mul(xs, tf.sub(1, s)))));
    },
  };
}) as (x: Tensor) => Tensor;

/**
 * x·σ(x) computed by one WebGPU dispatch (and its gradient by one), or `null` when the backend is
 * not webgpu or `x` is not float32: then use tfjs ops.
 *
 * @param x Input.
 * @returns SiLU of `x`, differentiable, or `null`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { webgpuSilu } from "./webgpu_silu.ts";
 *
 * await tf.setBackend("cpu");
 * const x = tf.tensor1d([-1, 0, 2]);
 * const y = webgpuSilu(x) ?? tf.mul(x, tf.sigmoid(x)); // tfjs ops here: not on webgpu
 * ```
 */
export function webgpuSilu(x: Tensor): Tensor | null {
  if (tf.getBackend() !== "webgpu" || x.dtype !== "float32") return null;
  return siluGrad(x);
}
