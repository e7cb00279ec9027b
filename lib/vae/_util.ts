/**
 * Internal helpers of `lib/vae`: per-example reduction, argument checks, ops kept off the
 * gradient tape (stop-gradient, backend-safe one-hot) and seed derivation. Not re-exported from
 * `mod.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";

/** Sums every axis but the first, so a `[B, ...]` tensor becomes `[B]`; `[B]` stays `[B]`. */
export function sumNonBatch(t: Tensor): Tensor {
  if (t.rank <= 1) return tf.clone(t);
  const axes = Array.from({ length: t.rank - 1 }, (_, i) => i + 1);
  return tf.sum(t, axes); // [B]
}

/** Formats a shape as `[2,3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Throws a TypeError unless the two shapes are identical. */
export function assertShapesEqual(
  what: string,
  a: readonly number[],
  aName: string,
  b: readonly number[],
  bName: string,
): void {
  const same = a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same) {
    throw new TypeError(
      `Cannot ${what} as '${aName}' and '${bName}' have different shapes: ` +
        `${fmtShape(a)} vs ${fmtShape(b)}; pass tensors of the same shape`,
    );
  }
}

/** Throws a TypeError unless the two tensors have identical shapes. */
export function assertSameShape(
  what: string,
  a: Tensor,
  aName: string,
  b: Tensor,
  bName: string,
): void {
  assertShapesEqual(what, a.shape, aName, b.shape, bName);
}

/** Throws a TypeError unless `t` has at least `rank` axes (the first is the batch). */
export function assertMinRank(what: string, t: Tensor, name: string, rank: number): void {
  if (t.rank < rank) {
    throw new TypeError(
      `Cannot ${what} as '${name}' must have rank >= ${rank} with the batch first: ` +
        `current shape is ${fmtShape(t.shape)}`,
    );
  }
}

/** Throws a RangeError unless `value` is an integer >= `min`. */
export function assertInteger(what: string, name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be an integer >= ${min}: current value is ${value}`,
    );
  }
}

/** Throws a RangeError unless `lo <= value <= hi` (or `lo < value < hi` when `open`). */
export function assertInRange(
  what: string,
  name: string,
  value: number,
  range: { lo: number; hi: number; open?: boolean },
): void {
  const ok = range.open === true
    ? value > range.lo && value < range.hi
    : value >= range.lo && value <= range.hi;
  if (!Number.isFinite(value) || !ok) {
    const l = range.open === true ? "(" : "[";
    const r = range.open === true ? ")" : "]";
    throw new RangeError(
      `Cannot ${what} as '${name}' must lie in ${l}${range.lo}, ${range.hi}${r}: ` +
        `current value is ${value}`,
    );
  }
}

/**
 * One-hot float32 rows of int32 `indices` (shape `[...indices.shape, depth]`), built from a
 * comparison and `where` so that no backend's dtype handling is involved: in tfjs 4.22,
 * wasm's OneHot with dtype float32 writes int32 bit patterns into the float buffer, and an
 * int32 → float32 cast on webgpu reinterprets the bits (both make 1 read as 1.4e-45).
 */
export function oneHotFloat(indices: Tensor, depth: number): Tensor {
  // Off the gradient tape: Equal has no gradient, and indices never carry one.
  return withoutGradient((idx) => {
    // Rows of the identity: one gather, where Equal + Where cost K passes on wasm.
    return tf.gather(tf.eye(depth), tf.cast(idx, "int32")); // [..., K]
  }, indices);
}

/**
 * Runs `fn(...inputs)` as one custom-gradient op whose gradient to every input is 0. The ops
 * inside `fn` are not recorded on the gradient tape (so non-differentiable kernels such as
 * TopK may be used in them, and backprop does no work for them).
 */
export function withoutGradient(
  fn: (...xs: Tensor[]) => Tensor,
  ...inputs: Tensor[]
): Tensor {
  const op = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const xs = args.slice(0, inputs.length) as Tensor[];
    return {
      value: fn(...xs),
      gradFunc: () => xs.map((x) => tf.zeros(x.shape)), // float32 even for int inputs
    };
  });
  return op(...inputs);
}

/**
 * Identity in the forward pass, zero gradient in the backward pass (`sg[·]` of the VQ-VAE
 * paper; TensorFlow.js has no `stopGradient` op).
 */
export function stopGradient(x: Tensor): Tensor {
  return withoutGradient((t) => tf.clone(t), x);
}

/**
 * A deterministic 32-bit seed for sub-stream `stream` of `seed` (a splitmix-style mix), so
 * one user seed can drive many independent tfjs random ops (named random streams).
 */
export function deriveSeed(seed: number, stream: number): number {
  if (!Number.isFinite(seed) || !Number.isInteger(stream) || stream < 0) {
    throw new RangeError(
      `Cannot derive a seed as 'seed' must be finite and 'stream' a non-negative integer: ` +
        `current values are ${seed} and ${stream}`,
    );
  }
  const lo = Math.floor(seed) >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  let h = (lo ^ Math.imul(hi, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
