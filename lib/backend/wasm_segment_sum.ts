/**
 * `UnsortedSegmentSum` for wasm (tensorflow/tfjs#8082: the kernel is missing, so the gradient
 * of `tf.gather`, i.e. of every embedding lookup, throws on wasm).
 *
 * out[s, …] = Σ_{i : ids[i] = s} x[i, …], for s in [0, numSegments). Ids outside that range are
 * dropped, as in TensorFlow's `unsorted_segment_sum` and tfjs-cpu. One pass over `x` on the wasm
 * heap: O(|x|), no one-hot matrix.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { sizeOf } from "./wasm_kernel_util.ts";

/**
 * Sum the rows of `x` into segments, in place into `out` (which must be zeroed).
 *
 * @param x Values, `ids.length` rows of `inner` elements each (row-major).
 * @param ids Segment id of each row.
 * @param out Output, `numSegments` rows of `inner` elements, zero on entry.
 * @returns `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentSumInto } from "./wasm_segment_sum.ts";
 *
 * const out = segmentSumInto(new Float32Array([1, 2, 3, 4, 5, 6]), new Int32Array([1, 0, 1]), new Float32Array(4));
 * assert.deepEqual([...out], [3, 4, 6, 8]);
 * ```
 */
export function segmentSumInto<T extends Float32Array | Int32Array>(
  x: T,
  ids: Int32Array,
  out: T,
): T {
  const inner = ids.length === 0 ? 0 : x.length / ids.length;
  const numSegments = inner === 0 ? 0 : out.length / inner;
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner, dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += x[src + j]!;
  }
  return out;
}

/** The kernel: reads `x` and `segmentIds` straight from the wasm heap, writes the output there. */
function unsortedSegmentSum(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = args.attrs?.["numSegments"];
  if (typeof numSegments !== "number" || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new RangeError(
      `Cannot sum segments as 'numSegments' must be a non-negative integer: current value is ${numSegments}`,
    );
  }
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new TypeError(
      `Cannot sum segments of a ${x.dtype} tensor on wasm: cast it to float32 or int32`,
    );
  }
  const idRank = segmentIds.shape.length;
  const innerShape = x.shape.slice(idRank); // [...]
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype); // [S, ...]
  const outVals = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  outVals.fill(0);
  if (sizeOf(x.shape) === 0) return out;
  const idVals = backend.typedArrayFromHeap(segmentIds);
  const ids = idVals instanceof Int32Array ? idVals : Int32Array.from(idVals); // [N]
  segmentSumInto(backend.typedArrayFromHeap(x) as Float32Array | Int32Array, ids, outVals);
  return out;
}

/**
 * Register `UnsortedSegmentSum` for the wasm backend (tfjs 4.22 has none). Idempotent.
 *
 * @returns Whether this call registered it (false when a kernel already exists).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmSegmentSum } from "./wasm_segment_sum.ts";
 *
 * registerWasmSegmentSum();
 * ```
 */
export function registerWasmSegmentSum(): boolean {
  if (tf.getKernel("UnsortedSegmentSum", "wasm") !== undefined) return false;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: unsortedSegmentSum as tf.KernelFunc,
  });
  return true;
}
