/**
 * The weight EMA's update, s ← d·s + (1 − d)·w, on the webgpu backend as one in-place compute
 * dispatch per shadow (`webgpu_inplace.ts`) instead of three tfjs kernels that each allocate a
 * buffer the size of the variable.
 *
 * @module
 */

import type { Tensor } from "../types.ts";
import { dispatchInPlace, kernelEntry } from "./webgpu_inplace.ts";

const EMA_WGSL = `
@group(0) @binding(0) var<storage, read_write> s: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
struct Factors { k: vec4<f32> } // (d, 1 - d, unused, unused)
@group(0) @binding(2) var<uniform> f: Factors;

${kernelEntry("s")}
  s[i] = s[i] * f.k.x + w[i] * f.k.y;
}
`;

/**
 * s ← d·s + (1 − d)·w in the shadow's own buffer on the webgpu backend. Returns `false`, touching
 * nothing, on other backends, for non-float32 tensors, sizes that differ, or a shadow that shares
 * its buffer with another tensor; the caller then uses tfjs ops.
 *
 * @param shadow The EMA shadow (updated).
 * @param weights The live weights (read).
 * @param decay d in [0, 1).
 * @returns Whether the update was recorded.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { webgpuEmaInPlace } from "./webgpu_ema.ts";
 *
 * await tf.setBackend("cpu");
 * const s = tf.variable(tf.zeros([4])), w = tf.ones([4]);
 * console.log(webgpuEmaInPlace(s, w, 0.9)); // false: not on webgpu
 * ```
 */
export function webgpuEmaInPlace(shadow: Tensor, weights: Tensor, decay: number): boolean {
  if (shadow.size !== weights.size) return false;
  return dispatchInPlace(EMA_WGSL, {
    write: [shadow],
    read: [weights],
    uniforms: [[decay, 1 - decay]],
    n: shadow.size,
  });
}
