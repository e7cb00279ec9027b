/**
 * Asynchronous tensor reads, the only kind that works on every backend.
 *
 * On webgpu under Deno, `dataSync()`, `arraySync()`, `print()` and `toString()` throw
 * `Cannot read properties of null (reading 'clearRect')`: tfjs's synchronous readback draws
 * through an OffscreenCanvas 2d context, and Deno has none (ecosystem.md §1, tensorflow/tfjs
 * PR #7576). Library code therefore reads with these helpers (or `await t.data()`).
 *
 * @module
 */

import type { Tensor } from "../types.ts";
import { activeHeap } from "./native_heap.ts";

/** Options of the read helpers. */
export interface ReadOptions {
  /**
   * Dispose the tensor(s) after reading.
   * @default {false}
   */
  dispose?: boolean;
}

/** A flat copy of a tensor's values. */
export type TensorValues = Float32Array | Int32Array | Uint8Array;

/**
 * Read a one-element tensor as a number.
 *
 * @param t A tensor with exactly one element (any rank).
 * @param options Whether to dispose `t` afterwards.
 * @returns Its value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { readScalar } from "./read.ts";
 *
 * tf.env().set("PROD", true);
 * await tf.setBackend("cpu");
 * assert.equal(await readScalar(tf.scalar(2.5), { dispose: true }), 2.5);
 * ```
 */
export async function readScalar(t: Tensor, options: ReadOptions = {}): Promise<number> {
  if (t.size !== 1) {
    throw new TypeError(
      `Cannot read a scalar from a tensor of shape [${t.shape}]: reduce it first (e.g. tf.mean)`,
    );
  }
  const values = await t.data();
  if (options.dispose === true) t.dispose();
  return Number(values[0]);
}

/**
 * Read several one-element tensors with one wait (their GPU readbacks overlap).
 *
 * @param ts One-element tensors.
 * @param options Whether to dispose them afterwards.
 * @returns Their values, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { readScalars } from "./read.ts";
 *
 * tf.env().set("PROD", true);
 * await tf.setBackend("cpu");
 * assert.deepEqual(await readScalars([tf.scalar(1), tf.scalar(2)], { dispose: true }), [1, 2]);
 * ```
 */
export async function readScalars(
  ts: readonly Tensor[],
  options: ReadOptions = {},
): Promise<number[]> {
  return await Promise.all(ts.map((t) => readScalar(t, options)));
}

/**
 * Read a tensor's values as a flat, row-major copy (safe to modify).
 *
 * @param t Any numeric or bool tensor.
 * @param options Whether to dispose `t` afterwards.
 * @returns A `Float32Array` (float32), `Int32Array` (int32) or `Uint8Array` (bool).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs";
 * import { readArray } from "./read.ts";
 *
 * tf.env().set("PROD", true);
 * await tf.setBackend("cpu");
 * const values = await readArray(tf.tensor2d([[1, 2], [3, 4]]), { dispose: true });
 * assert.deepEqual([...values], [1, 2, 3, 4]);
 * ```
 */
export async function readArray(t: Tensor, options: ReadOptions = {}): Promise<TensorValues> {
  if (t.dtype === "string" || t.dtype === "complex64") {
    throw new TypeError(
      `Cannot read a ${t.dtype} tensor as a flat numeric array: use await t.array()`,
    );
  }
  const values = await t.data();
  if (options.dispose === true) t.dispose();
  return (values as TensorValues).slice(); // the cpu backend hands out its own buffer
}

/**
 * A tensor's values without waiting, where that costs only a copy: the active backend is cpu or
 * wasm (tensors in host memory) and holds `t`. `null` otherwise — on webgpu a synchronous read
 * stalls the device queue, and under Deno it throws; read with {@linkcode readArray} there. The
 * one place in elbo's library that reads a tensor synchronously.
 *
 * @param t Any numeric or bool tensor.
 * @returns Its values (the backend's own buffer on cpu: do not modify), or `null`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { hostValues } from "./read.ts";
 *
 * await tf.setBackend("cpu");
 * console.log(hostValues(tf.tensor1d([0, 3], "int32"))); // Int32Array [0, 3]
 * ```
 */
export function hostValues(t: Tensor): TensorValues | null {
  const heap = activeHeap();
  if (heap === null || !heap.holds(t) || t.dtype === "string" || t.dtype === "complex64") {
    return null;
  }
  return t.dataSync() as TensorValues;
}
