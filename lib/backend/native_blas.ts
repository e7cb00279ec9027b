/**
 * Native CPU matrix multiplication for TensorFlow.js: OpenBLAS's `cblas_sgemm` through Deno FFI,
 * registered as tfjs kernels on the `wasm` or `cpu` backend.
 *
 * Why: tfjs-wasm's matmul is capped by WebAssembly SIMD128 (about 25 GFLOP/s per core here, no
 * FMA) and its transposed matmul is 10-50x slower still; OpenBLAS reaches about 80 GFLOP/s per
 * core (AVX2 + FMA), 165 on both cores. The kernels read and write the backend's own memory
 * without copies (`native_heap.ts`): the wasm backend's tensors live in the WebAssembly heap, and a
 * view of it is passed straight to sgemm; the cpu backend's tensors are plain `Float32Array`s.
 *
 * Kernels replaced (float32 only; other dtypes go to the backend's own kernel):
 *
 * - `BatchMatMul`: one sgemm per batch (broadcast batch dims), transposes by sgemm's flags;
 * - `_FusedMatMul` (`tf.fused.matMul`): the bias (any shape broadcastable to the output) seeds the
 *   output and sgemm adds to it (beta = 1); the activation (linear, relu, relu6, sigmoid, elu,
 *   leakyrelu, prelu) runs over the output in place;
 * - `Sum` over leading or trailing axes (bias gradients): one sgemv with a vector of ones;
 * - wasm only, `Identity` and same-dtype `Cast`: share the input's memory instead of copying it
 *   (tfjs-wasm copies; the engine clones every tensor saved for the backward pass, and every
 *   Multiply gradient casts). tfjs-cpu already shares.
 *
 * Measured on workload A (`bench/handwritten.ts`, this 2-core machine, 1 wasm thread, median of
 * quiet runs): stock tfjs-wasm with the custom-gradient matmul trains 537 samples/s (238 ms per
 * step); with these kernels, 1,740 (74 ms); adding `FusedAdamOptimizer` (`native_adam.ts`) and
 * `GaussianStream` noise (`native_random.ts`), 3,443 (37 ms), 1.12x PyTorch's 3,061 measured in
 * the same session. Use 1 wasm thread with these kernels: 2 wasm threads measured 8% (A) to 29%
 * (B) slower.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { heapOf, sizeOf, type TensorHeap } from "./native_heap.ts";

/** A tfjs backend whose kernels this module can replace. */
export type NativeBlasBackend = "wasm" | "cpu";

/** Options of {@linkcode enableNativeBlas}. */
export interface NativeBlasOptions {
  /**
   * Shared library to load (a file name searched by the dynamic loader, or a path). It must
   * export `cblas_sgemm` and must not be the netlib reference BLAS.
   * @default {"libopenblas.so.0", then "libblas.so.3"}
   */
  library?: string;
  /**
   * BLAS threads (`openblas_set_num_threads`). Ignored by libraries without that call.
   * @default {navigator.hardwareConcurrency}
   */
  threads?: number;
  /**
   * What OpenMP threads do between BLAS calls, set through `OMP_WAIT_POLICY` before the library
   * is first loaded (needs `--allow-env`; a value already in the environment wins; no effect after
   * the first load). `"passive"` sleeps at once; `"active"` spins; `"inherit"` leaves the
   * environment alone (libgomp then spins a while, then sleeps). Measured here (samples/s, quiet
   * machine, passive vs active): A 3,443 vs 3,397, B 13,155 vs 14,043, C 12,721 vs 12,610. With
   * another process busy on one core, A dropped to 2,100 with passive but to 500-1,500 with
   * libgomp's default spinning: passive is the safe default on a shared machine.
   * @default {"passive"}
   */
  ompWaitPolicy?: OmpWaitPolicy;
}

/** OpenMP wait policy of the BLAS threads (see {@linkcode NativeBlasOptions.ompWaitPolicy}). */
export type OmpWaitPolicy = "passive" | "active" | "inherit";

/** What {@linkcode enableNativeBlas} did. */
export interface NativeBlasInfo {
  /** Whether the native kernels are now registered on the backend. */
  enabled: boolean;
  /** The library in use (as given to the loader), or `null` when none was loaded. */
  library: string | null;
  /** Why the native path is off (`null` when it is on). */
  reason: string | null;
}

/** Activations that tfjs passes to `_FusedMatMul` (`tf.fused.matMul`). */
export type FusedActivation =
  | "linear"
  | "relu"
  | "relu6"
  | "sigmoid"
  | "elu"
  | "leakyrelu"
  | "prelu";

/** Kernels this module replaces. */
const KERNEL_NAMES = ["BatchMatMul", "_FusedMatMul", "Sum", "Identity", "Cast"] as const;
type KernelName = typeof KERNEL_NAMES[number];

// CBLAS enum values (cblas.h).
const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

const BLAS_SYMBOLS = {
  cblas_sgemm: {
    // order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_sgemv: {
    // order, trans, M, N, alpha, A, lda, X, incX, beta, Y, incY
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  bli_info_get_version_str: { parameters: [], result: "pointer", optional: true },
  MKL_Set_Num_Threads: { parameters: ["i32"], result: "void", optional: true },
} as const;

type BlasLibrary = Deno.DynamicLibrary<typeof BLAS_SYMBOLS>;

/** The loaded library, shared by every backend's kernels. */
interface LoadedBlas {
  lib: BlasLibrary;
  name: string;
  /** Human-readable identification, e.g. the OpenBLAS config string. */
  vendor: string;
}

let loaded: LoadedBlas | null = null;
/** Original kernels per backend, kept so {@linkcode disableNativeBlas} can restore them. */
const originals = new Map<NativeBlasBackend, Map<KernelName, tf.KernelConfig | undefined>>();

/** Libraries tried when no `library` option is given, in order. */
const DEFAULT_LIBRARIES = ["libopenblas.so.0", "libblas.so.3"] as const;

/**
 * The smallest sgemm speed (GFLOP/s, 1 thread, n = 256) accepted from a library that does not
 * identify itself as OpenBLAS, BLIS or MKL. The netlib reference BLAS runs at about 5 GFLOP/s on
 * this machine, tfjs-wasm's own SIMD matmul at about 25: anything slower than that is no gain.
 */
const MIN_UNKNOWN_GFLOPS = 20;

/**
 * Registers the native kernels (`BatchMatMul`, `_FusedMatMul`, `Sum`; on wasm also zero-copy
 * `Identity` and `Cast`; see the module doc) on the `wasm` or `cpu` backend. Never throws for a
 * missing library or permission: it returns `enabled: false` with the reason, and the backend
 * keeps its own kernels.
 *
 * Needs `--allow-ffi`. Call it after any other wrapper of these kernels is registered (the
 * previous kernel is kept for other dtypes and restored by {@linkcode disableNativeBlas}). The
 * library is tried in order `libopenblas.so.0`, then `libblas.so.3` if that is an optimised BLAS:
 * a library that is neither OpenBLAS, BLIS nor MKL must run sgemm at 20 GFLOP/s or more on one
 * thread (netlib's reference BLAS measures 5.1 here and is refused).
 *
 * @param backend The backend to register the kernels on.
 * @param options The library and the BLAS thread count.
 * @returns Whether the native kernels are on, which library, and if not, why.
 *
 * @example Enable the native path on the cpu backend
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { enableNativeBlas } from "./native_blas.ts";
 *
 * await tf.setBackend("cpu");
 * const info = enableNativeBlas("cpu", { threads: 2 });
 * console.log(info.enabled ? `sgemm from ${info.library}` : `no native BLAS: ${info.reason}`);
 * const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 4]), false, false); // [2, 4], all 3
 * console.log(await y.data());
 * ```
 */
export function enableNativeBlas(
  backend: NativeBlasBackend,
  options: NativeBlasOptions = {},
): NativeBlasInfo {
  switch (backend) {
    case "wasm":
    case "cpu":
      break;
    default: {
      const never: never = backend;
      throw new TypeError(
        `Cannot enable native BLAS as 'backend' must be "wasm" or "cpu": current value is ${
          JSON.stringify(never)
        }`,
      );
    }
  }
  const threads = options.threads ?? navigator.hardwareConcurrency;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Cannot enable native BLAS as 'threads' must be a positive integer: current value is ${threads}`,
    );
  }
  const opened = openBlas(options.library, options.ompWaitPolicy ?? "passive");
  if (typeof opened === "string") return { enabled: false, library: null, reason: opened };
  setBlasThreads(opened, threads);
  for (const name of kernelsFor(backend)) registerNative(backend, name);
  return { enabled: true, library: opened.name, reason: null };
}

/** What {@linkcode findNativeBlas} found. */
export interface NativeBlasProbe {
  /** The library that would be used (as given to the loader), or `null` when none is usable. */
  library: string | null;
  /** How the library names itself (e.g. OpenBLAS's config string), or `null`. */
  vendor: string | null;
  /** Why no library is usable (`null` when one is). */
  reason: string | null;
}

/**
 * Loads the BLAS library the way {@linkcode enableNativeBlas} would, without registering any
 * kernel: lets the caller decide before starting a backend (e.g. run wasm with 1 thread when the
 * native kernels will do the matmuls). Never throws for a missing library or permission.
 *
 * @param options The library and the OpenMP wait policy (`threads` is ignored).
 * @returns The library and its self-description, or why there is none.
 *
 * @example
 * ```ts
 * import { findNativeBlas } from "./native_blas.ts";
 *
 * const probe = findNativeBlas();
 * console.log(probe.library ?? `no native BLAS: ${probe.reason}`);
 * ```
 */
export function findNativeBlas(options: NativeBlasOptions = {}): NativeBlasProbe {
  const opened = openBlas(options.library, options.ompWaitPolicy ?? "passive");
  if (typeof opened === "string") return { library: null, vendor: null, reason: opened };
  return { library: opened.name, vendor: opened.vendor, reason: null };
}

/**
 * Restores the kernels that {@linkcode enableNativeBlas} replaced on the backend. Does nothing
 * when the native kernels are not registered.
 *
 * @param backend The backend to restore.
 *
 * @example Compare the native and the stock kernels
 * ```ts
 * import { disableNativeBlas, enableNativeBlas } from "./native_blas.ts";
 *
 * enableNativeBlas("cpu");
 * disableNativeBlas("cpu"); // back to tfjs's own matmul
 * ```
 */
export function disableNativeBlas(backend: NativeBlasBackend): void {
  const saved = originals.get(backend);
  if (saved === undefined) return;
  const instance = tf.findBackend(backend);
  for (const [name, config] of saved) {
    tf.unregisterKernel(name, backend);
    if (config === undefined) continue;
    tf.registerKernel(config);
    // The stock kernel's setup (e.g. wasm's cwrap) may not have run while it was replaced.
    if (instance !== null && config.setupFunc !== undefined) config.setupFunc(instance);
  }
  originals.delete(backend);
}

/**
 * Whether the native kernels are currently registered on the backend.
 *
 * @param backend The backend to ask about.
 * @returns `true` after a successful {@linkcode enableNativeBlas} and before
 * {@linkcode disableNativeBlas}.
 *
 * @example
 * ```ts
 * import { isNativeBlasEnabled } from "./native_blas.ts";
 *
 * console.log(isNativeBlasEnabled("wasm")); // false until enableNativeBlas("wasm")
 * ```
 */
export function isNativeBlasEnabled(backend: NativeBlasBackend): boolean {
  return originals.has(backend);
}

// ------------------------------------------------------------------ loading

/** Opens the BLAS library, or returns why it cannot be used. */
function openBlas(library: string | undefined, waitPolicy: OmpWaitPolicy): LoadedBlas | string {
  if (loaded !== null && (library === undefined || library === loaded.name)) return loaded;
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    return "Deno FFI (Deno.dlopen) is not available in this runtime";
  }
  let permission: Deno.PermissionState;
  try {
    permission = Deno.permissions.querySync({ name: "ffi" }).state;
  } catch (err) {
    return `cannot query the FFI permission: ${errorText(err)}`;
  }
  if (permission !== "granted") {
    return `the FFI permission is not granted (state: ${permission}); run Deno with --allow-ffi`;
  }
  applyWaitPolicy(waitPolicy);
  const candidates = library === undefined ? DEFAULT_LIBRARIES : [library];
  const reasons: string[] = [];
  for (const name of candidates) {
    const result = tryLibrary(name);
    if (typeof result === "string") {
      reasons.push(`${name}: ${result}`);
      continue;
    }
    // A previously loaded library stays open: unloading OpenBLAS under live OpenMP threads is
    // unsafe, and the kernels only ever call the current one.
    loaded = result;
    return result;
  }
  return `no usable BLAS library (${reasons.join("; ")})`;
}

/**
 * Sets `OMP_WAIT_POLICY` for libgomp, which reads it once when it is loaded (with the BLAS), unless
 * the environment already has a value or the env permission is missing.
 */
function applyWaitPolicy(policy: OmpWaitPolicy): void {
  switch (policy) {
    case "inherit":
      return;
    case "passive":
    case "active":
      break;
    default: {
      const never: never = policy;
      throw new TypeError(
        `Cannot enable native BLAS as 'ompWaitPolicy' must be "passive", "active" or "inherit": ` +
          `current value is ${JSON.stringify(never)}`,
      );
    }
  }
  try {
    const name = "OMP_WAIT_POLICY";
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") return;
    if (Deno.env.get(name) !== undefined) return;
    Deno.env.set(name, policy.toUpperCase());
  } catch {
    // No env access: libgomp keeps its default (spinning).
  }
}

/** Opens one candidate library and checks that it is a fast BLAS. */
function tryLibrary(name: string): LoadedBlas | string {
  let lib: BlasLibrary;
  try {
    lib = Deno.dlopen(name, BLAS_SYMBOLS);
  } catch (err) {
    return errorText(err);
  }
  const vendor = identify(lib);
  if (vendor !== null) return { lib, name, vendor };
  // Unknown vendor (e.g. netlib's reference BLAS behind the libblas.so.3 alternative): measure.
  const gflops = probeGflops(lib);
  if (gflops < MIN_UNKNOWN_GFLOPS) {
    lib.close();
    return `sgemm runs at ${gflops.toFixed(1)} GFLOP/s, below the ${MIN_UNKNOWN_GFLOPS} GFLOP/s ` +
      `needed (likely the netlib reference BLAS; install libopenblas0 or pass 'library')`;
  }
  return { lib, name, vendor: `unknown BLAS, ${gflops.toFixed(0)} GFLOP/s` };
}

/** Names the optimised BLAS behind the library, or `null` when it does not say. */
function identify(lib: BlasLibrary): string | null {
  const cString = (fn: (() => Deno.PointerValue) | null): string | null => {
    const ptr = fn === null ? null : fn();
    return ptr === null ? null : Deno.UnsafePointerView.getCString(ptr);
  };
  const openblas = cString(lib.symbols.openblas_get_config);
  if (openblas !== null) return openblas;
  const blis = cString(lib.symbols.bli_info_get_version_str);
  if (blis !== null) return `BLIS ${blis}`;
  if (lib.symbols.MKL_Set_Num_Threads !== null) return "Intel MKL";
  return null;
}

/** Single-thread sgemm speed in GFLOP/s, best of a few 256^3 products (about 5 ms in all). */
function probeGflops(lib: BlasLibrary): number {
  setBlasThreads({ lib, name: "", vendor: "" }, 1);
  const n = 256;
  const a = new Float32Array(n * n).fill(1);
  const c = new Float32Array(n * n);
  let best = Infinity;
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    lib.symbols.cblas_sgemm(
      CBLAS_ROW_MAJOR,
      CBLAS_NO_TRANS,
      CBLAS_NO_TRANS,
      n,
      n,
      n,
      1,
      a,
      n,
      a,
      n,
      0,
      c,
      n,
    );
    best = Math.min(best, performance.now() - t0);
    if (best > 50) break; // hopelessly slow: no need to wait for more repetitions
  }
  return 2 * n ** 3 / (Math.max(best, 1e-3) * 1e6);
}

function setBlasThreads(blas: LoadedBlas, threads: number): void {
  blas.lib.symbols.openblas_set_num_threads?.(threads);
  blas.lib.symbols.MKL_Set_Num_Threads?.(threads);
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

// ------------------------------------------------------------------ kernels

/** The kernels replaced on each backend. */
function kernelsFor(backend: NativeBlasBackend): readonly KernelName[] {
  switch (backend) {
    case "wasm":
      return KERNEL_NAMES;
    case "cpu":
      // tfjs-cpu's Identity and same-dtype Cast already share memory.
      return KERNEL_NAMES.filter((k) => k !== "Identity" && k !== "Cast");
    default: {
      const never: never = backend;
      throw new TypeError(`Unknown backend ${String(never)}`);
    }
  }
}

function registerNative(backend: NativeBlasBackend, name: KernelName): void {
  let saved = originals.get(backend);
  if (saved === undefined) {
    saved = new Map();
    originals.set(backend, saved);
  }
  if (saved.has(name)) return; // already native
  const original = tf.getKernel(name, backend);
  saved.set(name, original);
  if (original !== undefined) tf.unregisterKernel(name, backend);
  tf.registerKernel({
    kernelName: name,
    backendName: backend,
    kernelFunc: makeKernel(backend, name, original),
  });
}

function makeKernel(
  backend: NativeBlasBackend,
  name: KernelName,
  original: tf.KernelConfig | undefined,
): tf.KernelFunc {
  const fallback = (args: Parameters<tf.KernelFunc>[0], why: string) => {
    if (original === undefined) throw new TypeError(`Cannot run ${name} natively: ${why}`);
    return original.kernelFunc(args);
  };
  switch (name) {
    case "Identity":
      // tfjs-wasm's Identity copies the tensor; the engine calls it for every tensor saved for the
      // backward pass (engine.clone), weights included. Share the memory instead, as tfjs-cpu
      // and Reshape do: tensors are immutable in tfjs.
      return (args) => {
        const x = args.inputs["x"];
        const instance = args.backend as { incRef?: (dataId: tf.DataId) => void };
        if (x === undefined || x.dtype === "string" || instance.incRef === undefined) {
          return fallback(args, "string tensor");
        }
        instance.incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      };
    case "Cast":
      // tfjs-wasm copies even for a same-dtype Cast, which every Multiply gradient calls
      // (cast(b, "float32")). Share the memory then, as tfjs-cpu does.
      return (args) => {
        const x = args.inputs["x"];
        const instance = args.backend as { incRef?: (dataId: tf.DataId) => void };
        if (
          x === undefined || x.dtype === "string" || x.dtype !== args.attrs?.["dtype"] ||
          instance.incRef === undefined
        ) {
          return fallback(args, "dtype changes");
        }
        instance.incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      };
    case "Sum":
      return (args) => {
        const x = args.inputs["x"];
        if (loaded === null || x === undefined || x.dtype !== "float32") {
          return fallback(args, "only float32 is supported");
        }
        const heap = heapOf(backend, args.backend);
        const out = nativeSum(
          loaded,
          heap,
          x,
          args.attrs?.["axis"],
          args.attrs?.["keepDims"] === true,
        );
        return out ?? fallback(args, "axes are neither leading nor trailing");
      };
    case "BatchMatMul":
    case "_FusedMatMul":
      return (args) => {
        const { inputs, attrs } = args;
        const a = inputs["a"];
        const b = inputs["b"];
        if (
          loaded === null || a === undefined || b === undefined || a.dtype !== "float32" ||
          b.dtype !== "float32"
        ) {
          return fallback(args, "only float32 is supported");
        }
        const heap = heapOf(backend, args.backend);
        const transposeA = attrs?.["transposeA"] === true;
        const transposeB = attrs?.["transposeB"] === true;
        if (name === "BatchMatMul") {
          return nativeMatMul(loaded, heap, a, b, { transposeA, transposeB });
        }
        return nativeMatMul(loaded, heap, a, b, {
          transposeA,
          transposeB,
          bias: inputs["bias"],
          activation: parseActivation(attrs?.["activation"]),
          preluWeights: inputs["preluActivationWeights"],
          leakyreluAlpha: typeof attrs?.["leakyreluAlpha"] === "number"
            ? attrs["leakyreluAlpha"]
            : 0.2,
        });
      };
    default: {
      const never: never = name;
      throw new TypeError(`Unknown kernel ${String(never)}`);
    }
  }
}

function parseActivation(value: unknown): FusedActivation {
  switch (value) {
    case undefined:
    case null:
      return "linear";
    case "linear":
    case "relu":
    case "relu6":
    case "sigmoid":
    case "elu":
    case "leakyrelu":
    case "prelu":
      return value;
    default:
      throw new TypeError(
        `Cannot run _FusedMatMul as 'activation' is not one of linear, relu, relu6, sigmoid, elu, ` +
          `leakyrelu, prelu: current value is ${JSON.stringify(value)}`,
      );
  }
}

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  bias?: tf.TensorInfo | undefined;
  activation?: FusedActivation;
  preluWeights?: tf.TensorInfo | undefined;
  leakyreluAlpha?: number;
}

/** Broadcasts two batch shapes like numpy; throws on a mismatch. */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TypeError(
        `Cannot multiply matrices as batch shapes [${a}] and [${b}] do not broadcast`,
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * For each flat index into the broadcast batch shape `out`, the flat batch index into an input
 * of batch shape `inp` (0 along its size-1 dimensions).
 */
function batchIndexMap(inp: readonly number[], out: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const map = new Int32Array(n);
  const rank = out.length;
  const strides: number[] = new Array(rank).fill(0);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = inp[inp.length - rank + i] ?? 1;
    strides[i] = d === 1 ? 0 : stride;
    stride *= d;
  }
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let idx = 0;
    for (let i = rank - 1; i >= 0; i--) {
      const d = out[i] ?? 1;
      idx += (rem % d) * (strides[i] ?? 0);
      rem = Math.floor(rem / d);
    }
    map[flat] = idx;
  }
  return map;
}

/** C = act(op(A) @ op(B) + bias) with sgemm; A, B of rank >= 2 with broadcast batch dims. */
function nativeMatMul(
  blas: LoadedBlas,
  heap: TensorHeap,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: MatMulAttrs,
): tf.TensorInfo {
  const { transposeA, transposeB } = attrs;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) {
    throw new TypeError(
      `Cannot multiply matrices as both need rank >= 2: shapes are [${a.shape}] and [${b.shape}]`,
    );
  }
  const aRows = a.shape[ra - 2] ?? 1, aCols = a.shape[ra - 1] ?? 1;
  const bRows = b.shape[rb - 2] ?? 1, bCols = b.shape[rb - 1] ?? 1;
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const kb = transposeB ? bCols : bRows;
  const n = transposeB ? bRows : bCols;
  if (k !== kb) {
    throw new TypeError(
      `Cannot multiply matrices as inner dimensions differ (${k} vs ${kb}): shapes [${a.shape}] ` +
        `and [${b.shape}], transposeA=${transposeA}, transposeB=${transposeB}`,
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = broadcastShapes(aBatch, bBatch);
  const outShape = [...outBatch, m, n];
  const batches = sizeOf(outBatch);

  // Allocate first: on wasm an allocation can grow (and so replace) the heap's buffer.
  const out = heap.alloc(outShape);
  const C = out.data;
  const A = heap.view(a);
  const B = heap.view(b);

  const beta = seedBias(heap, C, attrs.bias, outShape, n);
  if (m > 0 && n > 0 && batches > 0) {
    if (k === 0) {
      if (beta === 0) C.fill(0);
    } else {
      const tA = transposeA ? CBLAS_TRANS : CBLAS_NO_TRANS;
      const tB = transposeB ? CBLAS_TRANS : CBLAS_NO_TRANS;
      const lda = transposeA ? m : k;
      const ldb = transposeB ? k : n;
      const sgemm = blas.lib.symbols.cblas_sgemm;
      const aBatches = sizeOf(aBatch), bBatches = sizeOf(bBatch);
      if (aBatches === batches && bBatches === 1 && !transposeA) {
        // [..., M, K] @ [K, N]: the batch folds into the rows of one big product.
        sgemm(CBLAS_ROW_MAJOR, tA, tB, batches * m, n, k, 1, A, lda, B, ldb, beta, C, n);
      } else {
        const aMap = aBatches === batches ? null : batchIndexMap(aBatch, outBatch);
        const bMap = bBatches === batches ? null : batchIndexMap(bBatch, outBatch);
        const mk = m * k, kn = k * n, mn = m * n;
        for (let i = 0; i < batches; i++) {
          const ai = (aMap === null ? i : aMap[i] ?? 0) * mk;
          const bi = (bMap === null ? i : bMap[i] ?? 0) * kn;
          sgemm(
            CBLAS_ROW_MAJOR,
            tA,
            tB,
            m,
            n,
            k,
            1,
            A.subarray(ai, ai + mk),
            lda,
            B.subarray(bi, bi + kn),
            ldb,
            beta,
            C.subarray(i * mn, (i + 1) * mn),
            n,
          );
        }
      }
    }
  }
  applyActivation(heap, C, outShape, attrs);
  return out.info;
}

/**
 * Writes the bias, broadcast to the output shape, into C. Returns sgemm's beta: 1 when C holds
 * the bias, 0 when there is none.
 */
function seedBias(
  heap: TensorHeap,
  C: Float32Array,
  bias: tf.TensorInfo | undefined,
  outShape: readonly number[],
  n: number,
): 0 | 1 {
  if (bias === undefined) return 0;
  const values = heap.view(bias);
  broadcastInto(C, outShape, values, bias.shape, n);
  return 1;
}

/** A cached vector of ones for sgemv reductions. */
let ones = new Float32Array(0);
function onesOf(n: number): Float32Array {
  if (ones.length < n) ones = new Float32Array(Math.max(n, 2 * ones.length)).fill(1);
  return ones.subarray(0, n);
}

/**
 * Sum over leading axes (e.g. a bias gradient: [B, N] -> [N]) or trailing axes as one sgemv with
 * a vector of ones. Returns `null` for other axis sets (the backend's own kernel runs them).
 */
function nativeSum(
  blas: LoadedBlas,
  heap: TensorHeap,
  x: tf.TensorInfo,
  axis: unknown,
  keepDims: boolean,
): tf.TensorInfo | null {
  const rank = x.shape.length;
  const raw = axis === undefined || axis === null
    ? x.shape.map((_, i) => i)
    : Array.isArray(axis)
    ? axis
    : [axis];
  if (!raw.every((a) => typeof a === "number" && Number.isInteger(a) && a >= -rank && a < rank)) {
    return null;
  }
  const axes = [...new Set((raw as number[]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) =>
    a - b
  );
  if (axes.length === 0 || rank === 0) return null;
  const leading = axes.every((a, i) => a === i);
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  if (!leading && !trailing) return null;
  const reduced = axes.map((a) => x.shape[a] ?? 1);
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
  const r = sizeOf(reduced), k = sizeOf(kept);
  const out = heap.alloc(outShape);
  const y = out.data;
  if (k === 0) return out.info;
  if (r === 0) {
    y.fill(0);
    return out.info;
  }
  const X = heap.view(x);
  const sgemv = blas.lib.symbols.cblas_sgemv;
  if (leading) {
    // x is [r, k] row-major: y = x^T 1
    sgemv(CBLAS_ROW_MAJOR, CBLAS_TRANS, r, k, 1, X, Math.max(1, k), onesOf(r), 1, 0, y, 1);
  } else {
    // x is [k, r] row-major: y = x 1
    sgemv(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, k, r, 1, X, Math.max(1, r), onesOf(r), 1, 0, y, 1);
  }
  return out.info;
}

/** Writes `values` (of shape `shape`, broadcastable to `outShape`) into `out`. */
function broadcastInto(
  out: Float32Array,
  outShape: readonly number[],
  values: Float32Array,
  shape: readonly number[],
  n: number,
): void {
  const total = out.length;
  if (total === 0) return;
  broadcastShapes(shape, outShape); // validates
  if (values.length === total) {
    out.set(values);
    return;
  }
  if (values.length === 1) {
    out.fill(values[0] ?? 0);
    return;
  }
  const rowLike = values.length === n && (shape[shape.length - 1] ?? 1) === n;
  if (rowLike) {
    // [N] (or [1, ..., N]) repeated over the rows: copy once, then double the filled prefix.
    out.set(values, 0);
    let filled = n;
    while (filled < total) {
      const chunk = Math.min(filled, total - filled);
      out.copyWithin(filled, 0, chunk);
      filled += chunk;
    }
    return;
  }
  // General broadcast: index map over the output's flat positions.
  const rank = outShape.length;
  const strides: number[] = new Array(rank).fill(0);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = shape[shape.length - rank + i] ?? 1;
    strides[i] = d === 1 ? 0 : stride;
    stride *= d;
  }
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let idx = 0;
    for (let i = rank - 1; i >= 0; i--) {
      const d = outShape[i] ?? 1;
      idx += (rem % d) * (strides[i] ?? 0);
      rem = Math.floor(rem / d);
    }
    out[flat] = values[idx] ?? 0;
  }
}

/** Applies the fused activation to C in place (same formulas as tfjs-backend-cpu). */
function applyActivation(
  heap: TensorHeap,
  C: Float32Array,
  outShape: readonly number[],
  attrs: MatMulAttrs,
): void {
  const activation = attrs.activation ?? "linear";
  const len = C.length;
  switch (activation) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < len; i++) C[i] = Math.max(0, C[i]!);
      return;
    case "relu6":
      for (let i = 0; i < len; i++) C[i] = Math.min(Math.max(0, C[i]!), 6);
      return;
    case "sigmoid":
      for (let i = 0; i < len; i++) C[i] = 1 / (1 + Math.exp(-C[i]!));
      return;
    case "elu":
      for (let i = 0; i < len; i++) {
        const x = C[i]!;
        C[i] = x >= 0 ? x : Math.exp(x) - 1;
      }
      return;
    case "leakyrelu": {
      const alpha = attrs.leakyreluAlpha ?? 0.2;
      for (let i = 0; i < len; i++) {
        const x = C[i]!;
        C[i] = x < 0 ? alpha * x : x;
      }
      return;
    }
    case "prelu": {
      const w = attrs.preluWeights;
      if (w === undefined) {
        throw new TypeError("Cannot apply prelu as 'preluActivationWeights' is missing");
      }
      const n = outShape[outShape.length - 1] ?? 1;
      const alpha = new Float32Array(len);
      broadcastInto(alpha, outShape, heap.view(w), w.shape, n);
      for (let i = 0; i < len; i++) {
        const x = C[i]!;
        C[i] = x < 0 ? alpha[i]! * x : x;
      }
      return;
    }
    default: {
      const never: never = activation;
      throw new TypeError(`Unknown activation ${String(never)}`);
    }
  }
}
