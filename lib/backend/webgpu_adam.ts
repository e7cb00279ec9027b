/**
 * Adam on the webgpu backend as one compute dispatch per variable that updates the weights and
 * both moments in place (`webgpu_inplace.ts`), instead of 13 tfjs kernels per variable that each
 * allocate a new buffer. The same update as `native_adam.ts` (Kingma & Ba 2015, Algorithm 1,
 * ε added to √v̂): m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − (lr/(1−β₁ᵗ))·m / (√(v/(1−β₂ᵗ)) + ε).
 *
 * @module
 */

import type { AdamStep, AdamTensors } from "./native_adam.ts";
import { dispatchInPlace, kernelEntry } from "./webgpu_inplace.ts";

const ADAM_WGSL = `
@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
// decay: (b1, 1 - b1, b2, 1 - b2); step: (lr / (1 - b1^t), 1 / (1 - b2^t), eps, unused)
struct Hyper { decay: vec4<f32>, step: vec4<f32> }
@group(0) @binding(4) var<uniform> hp: Hyper;

${kernelEntry("w")}
  let gi = g[i];
  let mi = hp.decay.x * m[i] + hp.decay.y * gi;
  let vi = hp.decay.z * v[i] + hp.decay.w * gi * gi;
  m[i] = mi;
  v[i] = vi;
  w[i] = w[i] - (mi * hp.step.x) / (sqrt(vi * hp.step.y) + hp.step.z);
}
`;

/**
 * One Adam step for `tensors` on the webgpu backend, written into the weights' and moments' own
 * buffers by one dispatch recorded into tfjs-webgpu's command stream. Returns `false`, touching
 * nothing, when it cannot be done in place (another backend; a tensor that is not float32; sizes
 * that differ; `w`, `m` or `v` sharing its buffer with another tensor): the caller then runs the
 * update with tfjs ops.
 *
 * @param tensors Weights, moments (updated) and gradient (read).
 * @param hp Learning rate, betas, epsilon and the 1-based step.
 * @returns Whether the step was recorded.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { webgpuAdamInPlace } from "./webgpu_adam.ts";
 *
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.ones([4])), m = tf.variable(tf.zeros([4])), v = tf.variable(tf.zeros([4]));
 * const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 1 };
 * console.log(webgpuAdamInPlace({ w, m, v, g: tf.fill([4], 2) }, hp)); // false: not on webgpu
 * ```
 */
export function webgpuAdamInPlace(tensors: AdamTensors, hp: AdamStep): boolean {
  const { w, m, v, g } = tensors;
  if (m.size !== w.size || v.size !== w.size || g.size !== w.size) return false;
  const b1 = hp.beta1, b2 = hp.beta2;
  return dispatchInPlace(ADAM_WGSL, {
    write: [w, m, v],
    read: [g],
    uniforms: [
      [b1, 1 - b1, b2, 1 - b2],
      [hp.lr / (1 - b1 ** hp.step), 1 / (1 - b2 ** hp.step), hp.epsilon],
    ],
    n: w.size,
  });
}
