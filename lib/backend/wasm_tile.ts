/**
 * `Tile` for wasm, written over the wasm heap with block copies.
 *
 * tfjs-wasm 4.22's Tile computes every output element's source index in a scalar C++ loop: about
 * 60 ns per element here, 4.9 ms to broadcast a `[100, 1]` table column to `[100, 784]`.
 * `tf.broadcastTo` runs Tile, and `GaussianDiffusion` broadcasts its variance tables to the data's
 * shape (improved-diffusion's `.expand`), so Tile was 40% of an exact-NLL evaluation
 * (`calcBpdLoop`) on wasm. This version copies whole rows and doubles filled blocks
 * (`copyWithin`): memory bandwidth, not index arithmetic.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { sizeOf } from "./wasm_kernel_util.ts";

/** A typed array of any tfjs numeric dtype. */
export type TileArray = Float32Array | Int32Array | Uint8Array;

/** Copies `out[dst, dst + block)` into the `count - 1` blocks after it, doubling each time. */
function repeatBlock(out: TileArray, dst: number, block: number, count: number): void {
  const total = block * count;
  let filled = block;
  while (filled < total) {
    const chunk = Math.min(filled, total - filled);
    out.copyWithin(dst + filled, dst, dst + chunk);
    filled += chunk;
  }
}

/**
 * Tiles `x` (row-major, shape `shape`) `reps[i]` times along each axis into `out`.
 *
 * @param x Input values.
 * @param shape Input shape.
 * @param reps Repetitions per axis (same length as `shape`).
 * @param out Output, `shape[i] * reps[i]` along each axis.
 * @returns `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tileInto } from "./wasm_tile.ts";
 *
 * const out = tileInto(new Float32Array([1, 2]), [2, 1], [1, 3], new Float32Array(6));
 * assert.deepEqual([...out], [1, 1, 1, 2, 2, 2]);
 * ```
 */
export function tileInto<T extends TileArray>(
  x: T,
  shape: readonly number[],
  reps: readonly number[],
  out: T,
): T {
  const rank = shape.length;
  if (reps.length !== rank) {
    throw new TypeError(
      `Cannot tile as 'reps' must have one entry per axis (${rank}): current value is [${reps}]`,
    );
  }
  if (out.length === 0) return out;
  if (rank === 0) {
    out[0] = x[0]!;
    return out;
  }
  // Elements per step along each axis, in the input and in the output.
  const inner = new Array<number>(rank).fill(1), outInner = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) {
    inner[d] = inner[d + 1]! * shape[d + 1]!;
    outInner[d] = outInner[d + 1]! * shape[d + 1]! * reps[d + 1]!;
  }
  const fill = (d: number, src: number, dst: number): void => {
    const n = shape[d]!;
    if (d === rank - 1) {
      if (n === 1) out.fill(x[src]!, dst, dst + reps[d]!);
      else {
        out.set(x.subarray(src, src + n), dst);
        repeatBlock(out, dst, n, reps[d]!);
      }
      return;
    }
    for (let i = 0; i < n; i++) fill(d + 1, src + i * inner[d]!, dst + i * outInner[d]!);
    repeatBlock(out, dst, n * outInner[d]!, reps[d]!);
  };
  fill(0, 0, 0);
  return out;
}

/** The kernel: reads `x` from the wasm heap and writes the tiled output there. */
function tile(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = args.inputs["x"] as tf.TensorInfo;
  const reps = args.attrs?.["reps"];
  if (!Array.isArray(reps) || reps.length !== x.shape.length) {
    throw new TypeError(
      `Cannot tile a rank-${x.shape.length} tensor as 'reps' must have ${x.shape.length} entries: ` +
        `current value is ${JSON.stringify(reps)}`,
    );
  }
  const r = reps as number[];
  if (!r.every((k) => Number.isInteger(k) && k >= 0)) {
    throw new RangeError(
      `Cannot tile as every entry of 'reps' must be a non-negative integer: current value is [${r}]`,
    );
  }
  const out = backend.makeOutput(x.shape.map((d, i) => d * r[i]!), x.dtype);
  if (sizeOf(x.shape) === 0 || sizeOf(out.shape) === 0) return out;
  const src = backend.typedArrayFromHeap(x) as TileArray; // views taken after the allocation
  tileInto(src, x.shape, r, backend.typedArrayFromHeap(out) as TileArray);
  return out;
}

/**
 * Register the block-copy `Tile` on the wasm backend, replacing tfjs-wasm's (string tensors, which
 * wasm does not store, never reach it). Idempotent.
 *
 * @returns Whether this call replaced the kernel.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmTile } from "./wasm_tile.ts";
 *
 * registerWasmTile();
 * ```
 */
export function registerWasmTile(): boolean {
  const existing = tf.getKernel("Tile", "wasm");
  if (existing?.kernelFunc === tile) return false;
  if (existing !== undefined) tf.unregisterKernel("Tile", "wasm");
  tf.registerKernel({ kernelName: "Tile", backendName: "wasm", kernelFunc: tile as tf.KernelFunc });
  return true;
}
