/**
 * Adam on the webgpu backend as compute dispatches that update the weights and both moments in
 * place (`webgpu_inplace.ts`), several variables per dispatch, instead of 13 tfjs kernels per
 * variable that each allocate a new buffer. The same update as `native_adam.ts` (Kingma & Ba 2015,
 * Algorithm 1, ε added to √v̂): m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * w ← w − (lr/(1−β₁ᵗ))·m / (√(v/(1−β₂ᵗ)) + ε).
 *
 * A dispatch binds 4 buffers per variable (w, m, v, g), so it covers as many variables as the
 * device's `maxStorageBuffersPerShaderStage` allows (at most {@linkcode MAX_ADAM_GROUP}): 4 on the
 * software adapter (a limit of 16), so workload A's 12 variables take 3 dispatches; all 12 in one
 * where the limit is 48 or more.
 *
 * @module
 */

import type { AdamStep, AdamTensors } from "./native_adam.ts";
import { dispatchGrouped, dispatchInPlace, segmentedEntry } from "./webgpu_inplace.ts";

/** The most variables one Adam dispatch updates. */
export const MAX_ADAM_GROUP = 16;

const kernels = new Map<number, string>();

/** Adam on element `e` of variable j. */
const adamUpdate = (j: number): string =>
  `let gi = g${j}[e];
    let mi = hp.decay.x * m${j}[e] + hp.decay.y * gi;
    let vi = hp.decay.z * v${j}[e] + hp.decay.w * gi * gi;
    m${j}[e] = mi;
    v${j}[e] = vi;
    w${j}[e] = w${j}[e] - (mi * hp.step.x) / (sqrt(vi * hp.step.y) + hp.step.z);`;

/** The kernel for `k` variables (built once per k): each invocation updates one element. */
function adamKernel(k: number): string {
  let code = kernels.get(k);
  if (code !== undefined) return code;
  const decl: string[] = [];
  for (let j = 0; j < k; j++) {
    decl.push(
      `@group(0) @binding(${3 * j}) var<storage, read_write> w${j}: array<f32>;`,
      `@group(0) @binding(${3 * j + 1}) var<storage, read_write> m${j}: array<f32>;`,
      `@group(0) @binding(${3 * j + 2}) var<storage, read_write> v${j}: array<f32>;`,
      `@group(0) @binding(${3 * k + j}) var<storage, read> g${j}: array<f32>;`,
    );
  }
  const ws = Array.from({ length: k }, (_, j) => `w${j}`);
  code = `
${decl.join("\n")}
// decay: (b1, 1 - b1, b2, 1 - b2); step: (lr / (1 - b1^t), 1 / (1 - b2^t), eps, unused)
struct Hyper { decay: vec4<f32>, step: vec4<f32> }
@group(0) @binding(${4 * k}) var<uniform> hp: Hyper;

${segmentedEntry(ws, adamUpdate)}
`;
  kernels.set(k, code);
  return code;
}

/** One dispatch over `group`; `false` (nothing done) where any of it cannot be written in place. */
function dispatchGroup(group: readonly AdamTensors[], hp: AdamStep): boolean {
  if (group.some(({ w, m, v, g }) => m.size !== w.size || v.size !== w.size || g.size !== w.size)) {
    return false;
  }
  const b1 = hp.beta1, b2 = hp.beta2;
  return dispatchInPlace(adamKernel(group.length), {
    write: group.flatMap(({ w, m, v }) => [w, m, v]),
    read: group.map(({ g }) => g),
    uniforms: [
      [b1, 1 - b1, b2, 1 - b2],
      [hp.lr / (1 - b1 ** hp.step), 1 / (1 - b2 ** hp.step), hp.epsilon],
    ],
    n: group.reduce((sum, { w }) => sum + w.size, 0),
  });
}

/**
 * One Adam step for each variable of `list` on the webgpu backend, written into the weights' and
 * moments' own buffers by dispatches recorded into tfjs-webgpu's command stream, several variables
 * to a dispatch. A variable that cannot be done in place (another backend; a tensor that is not
 * float32 or is empty; sizes that differ; `w`, `m` or `v` sharing its buffer with another tensor)
 * is left untouched and reported `false`: the caller updates it with tfjs ops.
 *
 * @param list Weights, moments (updated) and gradient (read) of each variable.
 * @param hp Learning rate, betas, epsilon and the 1-based step.
 * @returns For each variable, whether its step was recorded.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { webgpuAdamInPlace } from "./webgpu_adam.ts";
 *
 * await tf.setBackend("cpu");
 * const w = tf.variable(tf.ones([4])), m = tf.variable(tf.zeros([4])), v = tf.variable(tf.zeros([4]));
 * const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 1 };
 * console.log(webgpuAdamInPlace([{ w, m, v, g: tf.fill([4], 2) }], hp)); // [false]: not on webgpu
 * ```
 */
export function webgpuAdamInPlace(list: readonly AdamTensors[], hp: AdamStep): boolean[] {
  return dispatchGrouped(list, 4, MAX_ADAM_GROUP, (group) => dispatchGroup(group, hp));
}
