/**
 * The weight EMA's update, s ← d·s + (1 − d)·w, on the webgpu backend as in-place compute
 * dispatches (`webgpu_inplace.ts`), several shadows per dispatch (2 buffers each, as many as the
 * device's `maxStorageBuffersPerShaderStage` allows, at most {@linkcode MAX_EMA_GROUP}), instead
 * of three tfjs kernels per shadow that each allocate a buffer the size of the variable.
 *
 * @module
 */

import type { Tensor } from "../types.ts";
import { dispatchGrouped, dispatchInPlace, segmentedEntry } from "./webgpu_inplace.ts";

/** The most shadows one EMA dispatch updates. */
export const MAX_EMA_GROUP = 32;

const kernels = new Map<number, string>();

/** The kernel for `k` shadows (built once per k): each invocation updates one element. */
function emaKernel(k: number): string {
  let code = kernels.get(k);
  if (code !== undefined) return code;
  const decl: string[] = [];
  for (let j = 0; j < k; j++) {
    decl.push(
      `@group(0) @binding(${j}) var<storage, read_write> s${j}: array<f32>;`,
      `@group(0) @binding(${k + j}) var<storage, read> w${j}: array<f32>;`,
    );
  }
  const ss = Array.from({ length: k }, (_, j) => `s${j}`);
  code = `
${decl.join("\n")}
struct Factors { k: vec4<f32> } // (d, 1 - d, unused, unused)
@group(0) @binding(${2 * k}) var<uniform> f: Factors;

${segmentedEntry(ss, (j) => `s${j}[e] = s${j}[e] * f.k.x + w${j}[e] * f.k.y;`)}
`;
  kernels.set(k, code);
  return code;
}

/** A shadow and the live weights it follows. */
export interface EmaPair {
  /** The EMA shadow (updated). */
  shadow: Tensor;
  /** The live weights (read). */
  weights: Tensor;
}

/**
 * s ← d·s + (1 − d)·w in each shadow's own buffer on the webgpu backend, several shadows per
 * dispatch. A pair that cannot be done in place (another backend; non-float32 or empty tensors;
 * sizes that differ; a shadow that shares its buffer with another tensor) is left untouched and
 * reported `false`: the caller uses tfjs ops for it.
 *
 * @param pairs Shadows and their weights.
 * @param decay d in [0, 1).
 * @returns For each pair, whether its update was recorded.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { webgpuEmaInPlace } from "./webgpu_ema.ts";
 *
 * await tf.setBackend("cpu");
 * const shadow = tf.variable(tf.zeros([4])), weights = tf.ones([4]);
 * console.log(webgpuEmaInPlace([{ shadow, weights }], 0.9)); // [false]: not on webgpu
 * ```
 */
export function webgpuEmaInPlace(pairs: readonly EmaPair[], decay: number): boolean[] {
  return dispatchGrouped(
    pairs,
    2,
    MAX_EMA_GROUP,
    (group) =>
      group.every(({ shadow, weights }) => shadow.size === weights.size) &&
      dispatchInPlace(emaKernel(group.length), {
        write: group.map(({ shadow }) => shadow),
        read: group.map(({ weights }) => weights),
        uniforms: [[decay, 1 - decay]],
        n: group.reduce((sum, { shadow }) => sum + shadow.size, 0),
      }),
  );
}
