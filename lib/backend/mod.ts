/**
 * The backend layer: the only part of elbo that imports the tfjs wasm and webgpu backends.
 *
 * - {@linkcode initBackend} / {@linkcode setBackend}: choose the backend once per process
 *   (webgpu on a hardware adapter, else wasm, else cpu; `--backend` / `ELBO_BACKEND` force one)
 *   and get a JSON {@linkcode BackendInfo} for the run config.
 * - {@linkcode readScalar}, {@linkcode readScalars}, {@linkcode readArray}: asynchronous reads,
 *   the only ones that work on webgpu under Deno.
 * - On wasm, elbo registers kernels that fix tfjs 4.22's traps: transpose-free `BatchMatMul`,
 *   `Conv2DBackpropFilter` / `Conv2DBackpropInput` on XNNPACK, `UnsortedSegmentSum`, block-copy
 *   `Tile`, polynomial `Sin` / `Cos`, and a working thread pool.
 *
 * - Native BLAS: on wasm and cpu, {@linkcode initBackend} registers OpenBLAS's sgemm (Deno FFI)
 *   for `BatchMatMul` / `_FusedMatMul` / bias-gradient `Sum` when `--allow-ffi` is granted and
 *   `libopenblas.so.0` is found, runs wasm with 1 thread beside it, and names it in the start-up
 *   line; without the library or the permission one line says why and the backend keeps its own
 *   kernels. `native: false` or `ELBO_NATIVE=0` turns it off. The framework's Adam
 *   (`lib/train/adam.ts`) and weight EMA (`lib/train/ema.ts`) update in place on wasm
 *   (`native_adam.ts`, `native_ema.ts`, SIMD loops assembled by `wasm_asm.ts`), and random streams
 *   draw Gaussian noise with {@linkcode GaussianStream} (`native_random.ts`).
 * - On webgpu, a few WGSL kernels go straight into tfjs-webgpu's command stream
 *   (`webgpu_inplace.ts`): Adam and the weight EMA in place, several variables per dispatch
 *   (`webgpu_adam.ts`, `webgpu_ema.ts`), SiLU forward and backward (`webgpu_silu.ts`) and the bias
 *   gradient (`webgpu_column_sum.ts`) in one dispatch each, cutting a training step's dispatches
 *   to about a third; a compiled training step goes to the GPU queue in one submission
 *   (`webgpu_submit.ts`).
 *
 * @example Pick the backend from the command line, then read a loss
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend, parseBackendFlag, readScalar } from "./mod.ts";
 *
 * const info = await initBackend({ backend: parseBackendFlag(["--backend", "cpu"]), quiet: true });
 * const loss = tf.mean(tf.square(tf.tensor1d([1, 2, 3])));
 * console.log(info.name, await readScalar(loss, { dispose: true }));
 * ```
 *
 * @module
 */

export {
  BACKEND_ENV,
  BACKEND_NAMES,
  type BackendInfo,
  type BackendName,
  type BackendOptions,
  formatBackendInfo,
  getBackendInfo,
  initBackend,
  NATIVE_ENV,
  parseBackendFlag,
  readEnv,
  setBackend,
  type SetBackendOptions,
  toBackendName,
} from "./select.ts";
export {
  hostValues,
  readArray,
  type ReadOptions,
  readScalar,
  readScalars,
  type TensorValues,
} from "./read.ts";
export { type AdapterInfo, isSoftwareAdapter, probeWebGpu } from "./webgpu.ts";
export {
  disableNativeBlas,
  enableNativeBlas,
  findNativeBlas,
  type FusedActivation,
  isNativeBlasEnabled,
  type NativeBlasBackend,
  type NativeBlasInfo,
  type NativeBlasOptions,
  type NativeBlasProbe,
  type OmpWaitPolicy,
} from "./native_blas.ts";
export { GaussianStream } from "./native_random.ts";
export { chooseMatMulPlan, type MatMulPlan, type MatMulShapes } from "./wasm_matmul.ts";
