/**
 * Starting the tfjs-wasm backend: read permission for its binaries, the thread pool, and elbo's
 * kernel fixes (transpose-free matmul, conv2d gradients, segment sum, block-copy tile,
 * polynomial sin and cos).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { registerWasmConvGrad } from "./wasm_conv_grad.ts";
import { registerWasmMatMul } from "./wasm_matmul.ts";
import { registerWasmSegmentSum } from "./wasm_segment_sum.ts";
import { registerWasmTile } from "./wasm_tile.ts";
import { registerWasmTrig } from "./wasm_trig.ts";
import { prepareWasmThreads } from "./wasm_threads.ts";

/** How to start wasm. */
export interface WasmStartOptions {
  /** XNNPACK threads wanted (1 = single-threaded). */
  threads: number;
  /** Register elbo's wasm kernel fixes; false gives stock tfjs-wasm (for A/B measurements). */
  kernels: boolean;
}

/** What {@linkcode startWasm} started. */
export interface WasmStarted {
  /** Threads XNNPACK really uses (tfjs's `getThreadsCount()`). */
  threads: number;
  /** Whether the SIMD binary runs. */
  simd: boolean;
  /** Anything worth recording: threads reduced, kernels registered. */
  notes: string[];
}

/**
 * The folder holding the `.wasm` binaries. The Node bundle Deno loads finds them itself (beside
 * `tf-backend-wasm.node.js`, via `__dirname`); this only locates them for the permission check.
 *
 * @returns Absolute path of `@tensorflow/tfjs-backend-wasm/dist/`.
 *
 * @example
 * ```ts
 * import { wasmBinaryDir } from "./wasm.ts";
 *
 * console.log(wasmBinaryDir()); // …/node_modules/…/tfjs-backend-wasm/dist/
 * ```
 */
export function wasmBinaryDir(): string {
  return new URL(".", import.meta.resolve("@tensorflow/tfjs-backend-wasm")).pathname;
}

/** Throw a clear error when the `.wasm` binaries cannot be read (tfjs's own message misleads). */
function checkReadable(dir: string): void {
  const state = Deno.permissions.querySync({ name: "read", path: dir }).state;
  if (state !== "granted") {
    throw new Error(
      `Cannot start the wasm backend as reading its binaries in ${dir} is not allowed: run ` +
        "with --allow-read (or --allow-read=node_modules), or choose --backend cpu",
    );
  }
}

/** The Emscripten pthread pool, present on the threaded build. */
interface PThreadPool {
  unusedWorkers: { unref?: () => void }[];
  runningWorkers: { unref?: () => void }[];
}

/** Let the process exit while the pool's workers idle (Emscripten refs them on Node). */
function unrefWorkers(backend: BackendWasm): void {
  const pool = (backend.wasm as unknown as { PThread?: PThreadPool }).PThread;
  if (pool === undefined) return;
  for (const w of [...pool.unusedWorkers, ...pool.runningWorkers]) w.unref?.();
}

/**
 * Import, patch and start the wasm backend, and make it the active tfjs backend.
 *
 * @param options Threads and whether to register elbo's kernels.
 * @returns Threads in use, SIMD, and notes for the run record.
 *
 * @example
 * ```ts
 * import { startWasm } from "./wasm.ts";
 *
 * const started = await startWasm({ threads: 1, kernels: true });
 * console.log(started.simd, started.threads); // true 1
 * ```
 */
export async function startWasm(options: WasmStartOptions): Promise<WasmStarted> {
  const notes: string[] = [];
  checkReadable(wasmBinaryDir());
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  if (options.kernels) {
    const kernels = [
      ...registerWasmMatMul(),
      ...registerWasmConvGrad(),
      ...(registerWasmSegmentSum() ? ["UnsortedSegmentSum"] : []),
      ...(registerWasmTile() ? ["Tile"] : []),
      ...registerWasmTrig(),
    ];
    if (kernels.length > 0) notes.push(`wasm kernels replaced or added: ${kernels.join(", ")}`);
  }
  const shim = prepareWasmThreads(options.threads);
  if (shim.reason !== null) notes.push(shim.reason);
  wasm.setThreadsCount(shim.threads);
  let instance: BackendWasm;
  try {
    const make = tf.findBackendFactory("wasm");
    if (make === null) throw new Error("Cannot start the wasm backend as it is not registered");
    instance = await make() as BackendWasm; // throws the real error, unlike tf.setBackend
  } finally {
    shim.restore();
  }
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", () => instance, 2);
  if (!await tf.setBackend("wasm")) {
    throw new Error("Cannot start the wasm backend: tf.setBackend('wasm') returned false");
  }
  unrefWorkers(instance);
  return {
    threads: wasm.getThreadsCount(),
    simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") === true,
    notes,
  };
}
