/**
 * Small helpers for writing wasm kernels out of other wasm kernels.
 *
 * A kernel works on `TensorInfo`s (data ids on the wasm heap), not on `tf.Tensor`s: it calls the
 * registered wasm kernel functions directly and frees every intermediate it made before it
 * returns, so `tf.memory().numTensors` stays flat and nothing is recorded on the gradient tape.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** The tools a kernel body gets from {@linkcode kernelScope}. */
export interface KernelScope {
  /** Run a registered wasm kernel on `inputs`; its result is freed when the scope ends. */
  run: (
    kernelName: string,
    inputs: tf.NamedTensorInfoMap,
    attrs?: tf.NamedAttrMap,
  ) => tf.TensorInfo;
  /** Free `t` (made some other way) when the scope ends; returns `t`. */
  track: (t: tf.TensorInfo) => tf.TensorInfo;
}

/**
 * Run `body` with a {@linkcode KernelScope} that records every tensor it makes, then free all of
 * them except the one `body` returns.
 *
 * @param backend The wasm backend passed to the kernel function.
 * @param body Builds the kernel's output out of other kernels.
 * @returns The output of `body`, still alive.
 *
 * @example A Gram-matrix kernel x·xᵀ made of two wasm kernels; the transpose is freed
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "./mod.ts";
 * import { kernelScope } from "./wasm_kernel_util.ts";
 *
 * tf.registerKernel({
 *   kernelName: "GramExample",
 *   backendName: "wasm",
 *   kernelFunc: ({ inputs, backend }) =>
 *     kernelScope(backend as BackendWasm, ({ run }) => {
 *       const x = inputs["x"]!; // [M, K]
 *       const xT = run("Transpose", { x }, { perm: [1, 0] }); // [K, M]
 *       return run("BatchMatMul", { a: x, b: xT }, { transposeA: false, transposeB: false }); // [M, M]
 *     }),
 * });
 * await initBackend({ backend: "wasm", threads: 1, quiet: true });
 * const gram = tf.engine().runKernel("GramExample", { x: tf.tensor2d([[1, 2], [3, 4]]) });
 * assert.deepEqual(await (gram as tf.Tensor).array(), [[5, 11], [11, 25]]);
 * ```
 */
export function kernelScope(
  backend: BackendWasm,
  body: (scope: KernelScope) => tf.TensorInfo,
): tf.TensorInfo {
  const made: tf.TensorInfo[] = [];
  const track = (t: tf.TensorInfo): tf.TensorInfo => {
    made.push(t);
    return t;
  };
  const run: KernelScope["run"] = (kernelName, inputs, attrs = {}) => {
    const out = wasmKernel(kernelName).kernelFunc({ inputs, backend, attrs });
    if (Array.isArray(out)) {
      throw new TypeError(
        `Cannot compose wasm kernel '${kernelName}' as it returns several tensors: ` +
          "call its kernel function directly",
      );
    }
    return track(out);
  };
  let result: tf.TensorInfo | null = null;
  try {
    result = body({ run, track });
    return result;
  } finally {
    for (const t of made) if (t !== result) backend.disposeData(t.dataId);
  }
}

/**
 * The registered wasm kernel called `kernelName`.
 *
 * @param kernelName A tfjs kernel name such as `"Transpose"`.
 * @returns Its kernel config.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { wasmKernel } from "./wasm_kernel_util.ts";
 *
 * console.log(wasmKernel("Transpose").kernelName); // "Transpose"
 * ```
 */
export function wasmKernel(kernelName: string): tf.KernelConfig {
  const k = tf.getKernel(kernelName, "wasm");
  if (k === undefined) {
    throw new Error(
      `Cannot find wasm kernel '${kernelName}': import @tensorflow/tfjs-backend-wasm first`,
    );
  }
  return k;
}

/**
 * The permutation that swaps the last two axes of a rank-`rank` tensor.
 *
 * @param rank Rank of the tensor (≥ 2).
 * @returns `[0, 1, …, rank - 1, rank - 2]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { swapLastTwo } from "./wasm_kernel_util.ts";
 *
 * assert.deepEqual(swapLastTwo(3), [0, 2, 1]);
 * ```
 */
export function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Number of elements of a shape.
 *
 * @param shape A tensor shape.
 * @returns The product of its dimensions (1 for a scalar).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeOf } from "./wasm_kernel_util.ts";
 *
 * assert.equal(sizeOf([2, 3]), 6);
 * assert.equal(sizeOf([]), 1);
 * ```
 */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
