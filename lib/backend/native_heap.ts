/**
 * Zero-copy access to the float32 memory behind tfjs tensors on the `cpu` and `wasm` backends,
 * for kernels written outside tfjs (native BLAS through FFI, in-place optimiser updates).
 *
 * - cpu (tfjs-backend-cpu): every tensor's values are a plain `Float32Array`
 *   (`backend.data.get(dataId).values`).
 * - wasm (tfjs-backend-wasm): every tensor lives in the WebAssembly heap at
 *   `backend.dataIdMap.get(dataId).memoryOffset`; a `Float32Array` over the module's memory at that
 *   offset is a live view. With wasm threads the memory is a `SharedArrayBuffer`; views work the
 *   same. An allocation may grow the memory and replace its buffer, so views must be taken after
 *   the last allocation of a kernel.
 *
 * These depend on tfjs 4.22 backend internals (pinned in deno.json).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A tensor's backend handle: data id, shape and dtype (`tf.TensorInfo`). */
export type TensorInfo = tf.TensorInfo;

/** Backends whose tensor memory can be reached directly. */
export type HeapBackend = "wasm" | "cpu";

/** Zero-copy access to one backend's float32 tensors. */
export interface TensorHeap {
  /** The backend this heap belongs to. */
  backend: HeapBackend;
  /** Whether the backend holds the tensor's data (a tensor may live on another backend). */
  holds(t: TensorInfo): boolean;
  /**
   * Whether {@linkcode TensorHeap.view} returns the tensor's own memory, so writes change the
   * tensor. False on cpu for a float32 tensor cast from bool or int32: tfjs-cpu keeps the integer
   * storage and only relabels the dtype.
   */
  aliases(t: TensorInfo): boolean;
  /** The backend's reference count of the tensor's data (tensors sharing it, e.g. reshapes). */
  refCount(t: TensorInfo): number;
  /**
   * The values of a float32 tensor: a live view of its memory, or a float32 copy when
   * {@linkcode TensorHeap.aliases} is false. Take views after the last allocation.
   */
  view(t: TensorInfo): Float32Array;
  /** Allocates a float32 output tensor; its values are uninitialised on wasm, zero on cpu. */
  alloc(shape: number[]): { info: TensorInfo; data: Float32Array };
  /** The WebAssembly memory holding the tensors (wasm), or `null` (cpu). */
  memory: WebAssembly.Memory | null;
  /**
   * Tells the backend that a tensor's values were changed in place. tfjs-wasm caches XNNPACK
   * operators with packed weights per tensor (matmul, conv2d, prelu), assuming tensors never
   * change; this drops those caches. A no-op on cpu.
   */
  invalidate(t: TensorInfo): void;
}

/** The parts of tfjs-backend-cpu's `MathBackendCPU` used here. */
interface CpuBackendLike {
  data: {
    get(dataId: tf.DataId): { values?: unknown; refCount?: number } | undefined;
    has(dataId: tf.DataId): boolean;
  };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` used here. */
interface WasmBackendLike {
  wasm: {
    HEAPU8: Uint8Array;
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
    tfjs: {
      disposeData(id: number): void;
      registerTensor(id: number, size: number, memoryOffset: number): void;
    };
  };
  dataIdMap: {
    get(dataId: tf.DataId): { id: number; memoryOffset: number; refCount?: number } | undefined;
    has(dataId: tf.DataId): boolean;
  };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

function isCpuBackend(b: unknown): b is CpuBackendLike {
  return typeof b === "object" && b !== null && "data" in b && "makeTensorInfo" in b;
}

function isWasmBackend(b: unknown): b is WasmBackendLike {
  return typeof b === "object" && b !== null && "wasm" in b && "dataIdMap" in b &&
    "makeOutput" in b;
}

/**
 * Number of elements of a shape.
 *
 * @param shape Tensor shape.
 * @returns The product of the dimensions (1 for a scalar).
 *
 * @example
 * ```ts
 * import { sizeOf } from "./native_heap.ts";
 * console.log(sizeOf([2, 3, 4])); // 24
 * ```
 */
export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * Zero-copy access to the tensors of a backend instance (as passed to a kernel function, or
 * `tf.findBackend(name)`).
 *
 * @param backend Which backend `instance` is.
 * @param instance The backend object.
 * @returns The accessor.
 * @throws {TypeError} When `instance` is not that backend.
 *
 * @example View a cpu tensor's values
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { heapOf } from "./native_heap.ts";
 *
 * await tf.setBackend("cpu");
 * const x = tf.tensor1d([1, 2, 3]);
 * const heap = heapOf("cpu", tf.backend());
 * console.log(heap.view(x)); // Float32Array [1, 2, 3]
 * ```
 */
export function heapOf(backend: HeapBackend, instance: unknown): TensorHeap {
  switch (backend) {
    case "cpu": {
      if (!isCpuBackend(instance)) {
        throw new TypeError("Cannot reach tensor memory as the backend object is not tfjs-cpu");
      }
      return {
        backend,
        memory: null,
        invalidate: () => {},
        holds: (t) => instance.data.has(t.dataId),
        aliases: (t) => instance.data.get(t.dataId)?.values instanceof Float32Array,
        refCount: (t) => instance.data.get(t.dataId)?.refCount ?? 0,
        view(t) {
          const values = instance.data.get(t.dataId)?.values;
          if (values instanceof Float32Array) return values;
          // A widening cast (bool or int32 to float32) keeps the integer array: copy it.
          if (
            t.dtype === "float32" &&
            (values instanceof Int32Array || values instanceof Uint8Array)
          ) {
            return Float32Array.from(values);
          }
          throw new TypeError(`Cannot view a ${t.dtype} tensor as float32 on cpu`);
        },
        alloc(shape) {
          const data = new Float32Array(sizeOf(shape));
          return { info: instance.makeTensorInfo(shape, "float32", data), data };
        },
      };
    }
    case "wasm": {
      if (!isWasmBackend(instance)) {
        throw new TypeError("Cannot reach tensor memory as the backend object is not tfjs-wasm");
      }
      // The Memory object itself: its `.buffer` is always current, also after growth and with a
      // shared (threaded) memory. HEAPU8 is the fallback.
      const memory = instance.wasm.wasmMemory ?? instance.wasm.asm?.memory;
      const view = (t: tf.TensorInfo): Float32Array => {
        if (t.dtype !== "float32") {
          throw new TypeError(`Cannot view a ${t.dtype} tensor as float32 on wasm`);
        }
        const entry = instance.dataIdMap.get(t.dataId);
        if (entry === undefined) throw new TypeError("Cannot find the tensor's data on wasm");
        const buffer = memory?.buffer ?? instance.wasm.HEAPU8.buffer;
        return new Float32Array(buffer, entry.memoryOffset, sizeOf(t.shape));
      };
      return {
        backend,
        memory: memory ?? null,
        invalidate(t) {
          const entry = instance.dataIdMap.get(t.dataId);
          if (entry === undefined) return;
          // dispose_data runs the C++ disposal callbacks (which erase the cached operators) but
          // frees no memory; registering again makes the id usable as before.
          instance.wasm.tfjs.disposeData(entry.id);
          instance.wasm.tfjs.registerTensor(entry.id, sizeOf(t.shape), entry.memoryOffset);
        },
        holds: (t) => instance.dataIdMap.has(t.dataId),
        aliases: (t) => t.dtype === "float32" && instance.dataIdMap.has(t.dataId),
        refCount: (t) => instance.dataIdMap.get(t.dataId)?.refCount ?? 0,
        view,
        alloc(shape) {
          const info = instance.makeOutput(shape, "float32");
          return { info, data: view(info) };
        },
      };
    }
    default: {
      const never: never = backend;
      throw new TypeError(`Cannot reach tensor memory on backend ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The heap of the active tfjs backend, or `null` when it is neither cpu nor wasm.
 *
 * @returns The accessor for `tf.backend()`, or `null`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { activeHeap } from "./native_heap.ts";
 *
 * await tf.setBackend("cpu");
 * console.log(activeHeap()?.backend); // "cpu" (null on webgpu)
 * ```
 */
export function activeHeap(): TensorHeap | null {
  const name = tf.getBackend();
  if (name !== "cpu" && name !== "wasm") return null;
  return heapOf(name, tf.backend());
}
