/**
 * Fast transposed matmul on wasm.
 *
 * tfjs-wasm's `BatchMatMul` uses XNNPACK only when `transposeA = transposeB = false`
 * (tensorflow/tfjs PR #2532); with a transpose flag it falls back to a slow loop: 6–55× slower
 * (bench/RESULTS.md §4.1). Every dense-layer gradient uses those flags (dX = dY·Wᵀ, dW = Xᵀ·dY).
 * The wrapper registered here materialises a transpose with the wasm `Transpose` kernel and
 * then calls the plain kernel. It transposes whichever is smallest:
 *
 * - **inputs**: the flagged operands, then C = op(A)·op(B) directly;
 * - **output**: the unflagged operands, then Cᵀ = op(B)ᵀ·op(A)ᵀ, then C = (Cᵀ)ᵀ.
 *
 * So dX = dY·Wᵀ is computed as (W·dYᵀ)ᵀ (transposing the two [B, ·] tensors), and dW = Xᵀ·dY
 * transposes X; a big weight matrix is never transposed. The arithmetic is the same XNNPACK
 * matmul, so results match the stock kernel to float32 rounding.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type KernelScope,
  kernelScope,
  sizeOf,
  swapLastTwo,
  wasmKernel,
} from "./wasm_kernel_util.ts";

/** Which operands the wrapper transposes before the plain XNNPACK matmul. */
export type MatMulPlan = "direct" | "inputs" | "output";

/** Shapes and flags of one matmul, as in the `BatchMatMul` kernel. */
export interface MatMulShapes {
  /** Shape of A, rank ≥ 2. */
  a: readonly number[];
  /** Shape of B, rank ≥ 2. */
  b: readonly number[];
  /** Whether A is used transposed (last two axes). */
  transposeA: boolean;
  /** Whether B is used transposed (last two axes). */
  transposeB: boolean;
}

/**
 * Pick the plan that copies the fewest elements (see the module doc).
 *
 * @param shapes Operand shapes and transpose flags.
 * @returns `"direct"` without flags, else `"inputs"` or `"output"`.
 *
 * @example dX = dY·Wᵀ transposes the small tensors, dW = Xᵀ·dY transposes X
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseMatMulPlan } from "./wasm_matmul.ts";
 *
 * const dX = chooseMatMulPlan({ a: [128, 1024], b: [784, 1024], transposeA: false, transposeB: true });
 * const dW = chooseMatMulPlan({ a: [128, 784], b: [128, 1024], transposeA: true, transposeB: false });
 * assert.equal(dX, "output");
 * assert.equal(dW, "inputs");
 * ```
 */
export function chooseMatMulPlan(shapes: MatMulShapes): MatMulPlan {
  const { a, b, transposeA, transposeB } = shapes;
  if (!transposeA && !transposeB) return "direct";
  const sizeA = sizeOf(a), sizeB = sizeOf(b);
  const m = transposeA ? a[a.length - 1]! : a[a.length - 2]!;
  const n = transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  const batch = Math.max(sizeOf(a.slice(0, -2)), sizeOf(b.slice(0, -2)));
  const viaInputs = (transposeA ? sizeA : 0) + (transposeB ? sizeB : 0);
  const viaOutput = (transposeA ? 0 : sizeA) + (transposeB ? 0 : sizeB) + batch * m * n;
  return viaInputs <= viaOutput ? "inputs" : "output";
}

/** Swap the last two axes of `x` with the wasm Transpose kernel (inside a scope). */
function transposeLast(scope: KernelScope, x: tf.TensorInfo): tf.TensorInfo {
  return scope.run("Transpose", { x }, { perm: swapLastTwo(x.shape.length) });
}

/** Wrap the stock wasm `BatchMatMul`: see the module doc. */
function wrapBatchMatMul(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = attrs?.["transposeA"] === true;
    const transposeB = attrs?.["transposeB"] === true;
    const plan = chooseMatMulPlan({ a: a.shape, b: b.shape, transposeA, transposeB });
    const plain = { ...attrs, transposeA: false, transposeB: false };
    const matmul = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo =>
      stock.kernelFunc({ inputs: { a: x, b: y }, backend, attrs: plain }) as tf.TensorInfo;
    switch (plan) {
      case "direct":
        return stock.kernelFunc(args);
      case "inputs":
        return kernelScope(backend as BackendWasm, (s) => {
          const x = transposeA ? transposeLast(s, a) : a; // op(A) [.., M, K]
          const y = transposeB ? transposeLast(s, b) : b; // op(B) [.., K, N]
          return matmul(x, y); // [.., M, N]
        });
      case "output":
        return kernelScope(backend as BackendWasm, (s) => {
          const bt = transposeB ? b : transposeLast(s, b); // op(B)ᵀ [.., N, K]
          const at = transposeA ? a : transposeLast(s, a); // op(A)ᵀ [.., K, M]
          const ct = s.track(matmul(bt, at)); // Cᵀ [.., N, M]
          return transposeLast(s, ct); // C [.., M, N]
        });
      default: {
        const never: never = plan;
        throw new Error(`Unknown matmul plan: ${never}`);
      }
    }
  };
  return { ...stock, kernelFunc };
}

/** Wrap the stock wasm `_FusedMatMul`: transposes only its inputs (bias applies to C). */
function wrapFusedMatMul(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = attrs?.["transposeA"] === true;
    const transposeB = attrs?.["transposeB"] === true;
    if (!transposeA && !transposeB) return stock.kernelFunc(args);
    return kernelScope(backend as BackendWasm, (s) => {
      const x = transposeA ? transposeLast(s, a) : a; // op(A) [.., M, K]
      const y = transposeB ? transposeLast(s, b) : b; // op(B) [.., K, N]
      return stock.kernelFunc({
        inputs: { ...inputs, a: x, b: y },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
    });
  };
  return { ...stock, kernelFunc };
}

const WRAPPED = new WeakSet<tf.KernelFunc>();

/**
 * Replace the wasm `BatchMatMul` and `_FusedMatMul` kernels with the transpose-free wrappers.
 * Idempotent; call it after importing `@tensorflow/tfjs-backend-wasm`.
 *
 * @returns The names of the kernels that were wrapped by this call.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmMatMul } from "./wasm_matmul.ts";
 *
 * registerWasmMatMul();
 * ```
 */
export function registerWasmMatMul(): string[] {
  const done: string[] = [];
  for (
    const [name, wrap] of [["BatchMatMul", wrapBatchMatMul], [
      "_FusedMatMul",
      wrapFusedMatMul,
    ]] as const
  ) {
    const stock = wasmKernel(name);
    if (WRAPPED.has(stock.kernelFunc)) continue;
    const wrapped = wrap(stock);
    WRAPPED.add(wrapped.kernelFunc);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(wrapped);
    done.push(name);
  }
  return done;
}
