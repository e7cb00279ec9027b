/**
 * Pixel transforms: small pure functions from 8-bit images to model inputs, and back.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Rng } from "./random.ts";
import type { Tensor, Tensor2D } from "./types.ts";

/**
 * How 8-bit pixels become model inputs:
 * - `"symmetric"`: x / 127.5 − 1 ∈ [−1, 1] (improved-diffusion's `image_datasets.py` scaling);
 * - `"unit"`: x / 255 ∈ [0, 1];
 * - `"binarize"`: dynamic binarisation, Bernoulli(x / 255) ∈ {0, 1}, resampled on every pass;
 * - `"raw"`: the values unchanged, as float32 (bytes 0…255, or toy points).
 */
export type Transform = "symmetric" | "unit" | "binarize" | "raw";

/** The value range of float pixels: what 0 and 255 map to. */
export type PixelRange = "[-1,1]" | "[0,1]" | "[0,255]";

/**
 * Scales bytes to [−1, 1]: x / 127.5 − 1 (0 → −1, 255 → 1), as improved-diffusion does.
 *
 * @param bytes Pixel bytes.
 * @returns Float32 values in [−1, 1].
 *
 * @example Scale
 * ```ts
 * import { toSymmetricRange } from "./transforms.ts";
 * console.log([...toSymmetricRange(new Uint8Array([0, 255]))]); // [-1, 1]
 * ```
 */
export function toSymmetricRange(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] as number) / 127.5 - 1;
  return out;
}

/**
 * Scales bytes to [0, 1]: x / 255.
 *
 * @param bytes Pixel bytes.
 * @returns Float32 values in [0, 1].
 *
 * @example Scale
 * ```ts
 * import { toUnitRange } from "./transforms.ts";
 * console.log([...toUnitRange(new Uint8Array([0, 255]))]); // [0, 1]
 * ```
 */
export function toUnitRange(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] as number) / 255;
  return out;
}

/** P(pixel = 1) · 2^32 for each byte value: pixel b is 1 when a uint32 draw is below it. */
const BINARIZE_THRESHOLDS = Float64Array.from(
  { length: 256 },
  (_, b) => Math.round((b / 255) * 4294967296),
);

/**
 * Dynamic binarisation (Salakhutdinov & Murray, ICML 2008; as in the IWAE paper, Burda et al.
 * 2016, §5): each pixel becomes 1 with probability byte / 255, independently. Call again (with
 * the stream advanced) for a fresh binarisation each epoch.
 *
 * Each pixel consumes one 32-bit draw: it is 1 when `rng.nextUint32() < round(byte/255 · 2^32)`,
 * so 0 is always 0, 255 always 1, and P(1) is within 2^−33 of byte / 255.
 *
 * @param bytes Pixel bytes.
 * @param rng The random stream (advanced by `bytes.length` draws).
 * @returns Float32 values in {0, 1}.
 *
 * @example Binarise
 * ```ts
 * import { dynamicBinarize } from "./transforms.ts";
 * import { Rng } from "./random.ts";
 * console.log([...dynamicBinarize(new Uint8Array([0, 255]), new Rng(0))]); // [0, 1]
 * ```
 */
export function dynamicBinarize(bytes: Uint8Array, rng: Rng): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    out[i] = rng.nextUint32() < (BINARIZE_THRESHOLDS[bytes[i] as number] as number) ? 1 : 0;
  }
  return out;
}

/**
 * Applies a {@linkcode Transform} to bytes.
 *
 * @param bytes Pixel bytes.
 * @param transform Which transform.
 * @param rng The random stream; only `"binarize"` uses it (and requires it).
 * @returns Float32 model inputs.
 *
 * @example Unit range
 * ```ts
 * import { applyTransform } from "./transforms.ts";
 * console.log([...applyTransform(new Uint8Array([51]), "unit")]); // [0.2]
 * ```
 */
export function applyTransform(bytes: Uint8Array, transform: Transform, rng?: Rng): Float32Array {
  switch (transform) {
    case "symmetric":
      return toSymmetricRange(bytes);
    case "unit":
      return toUnitRange(bytes);
    case "binarize":
      if (rng === undefined) {
        throw new TypeError(`Cannot binarize without a random stream: pass an Rng`);
      }
      return dynamicBinarize(bytes, rng);
    case "raw":
      return Float32Array.from(bytes);
    default: {
      const never: never = transform;
      throw new TypeError(
        `Cannot apply transform '${never}': use "symmetric", "unit", "binarize" or "raw"`,
      );
    }
  }
}

/**
 * Maps float pixels back to bytes: scales the range onto [0, 255], rounds to the nearest
 * integer and clips (NaN → 0). Exactly inverts {@linkcode toSymmetricRange} and
 * {@linkcode toUnitRange}. (improved-diffusion's `image_sample.py` truncates instead,
 * `((x + 1) · 127.5).clamp(0, 255).to(uint8)`; the two differ by at most one level.)
 *
 * @param values Float pixels (or bytes with range `"[0,255]"`).
 * @param range The range the values are in.
 * @returns Bytes.
 *
 * @example Back to bytes
 * ```ts
 * import { toBytes } from "./transforms.ts";
 * console.log([...toBytes(new Float32Array([-1, 0, 1, 2]), "[-1,1]")]); // [0, 128, 255, 255]
 * ```
 */
export function toBytes(values: ArrayLike<number>, range: PixelRange): Uint8Array {
  let scale: number;
  let offset: number;
  switch (range) {
    case "[-1,1]":
      scale = 127.5;
      offset = 127.5;
      break;
    case "[0,1]":
      scale = 255;
      offset = 0;
      break;
    case "[0,255]":
      scale = 1;
      offset = 0;
      break;
    default: {
      const never: never = range;
      throw new TypeError(`Unknown pixel range '${never}': use "[-1,1]", "[0,1]" or "[0,255]"`);
    }
  }
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round((values[i] as number) * scale + offset);
    out[i] = v > 255 ? 255 : v > 0 ? v : 0;
  }
  return out;
}

/**
 * Flattens a batch: `[B, ...]` → `[B, D]` with D the product of the other dimensions.
 *
 * @param x A tensor with the batch first.
 * @returns The reshaped tensor (same data).
 *
 * @example Flatten images
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { flattenBatch } from "./transforms.ts";
 * console.log(flattenBatch(tf.zeros([2, 28, 28, 1])).shape); // [2, 784]
 * ```
 */
export function flattenBatch(x: Tensor): Tensor2D {
  const [b, ...rest] = x.shape;
  if (b === undefined) {
    throw new TypeError(`Cannot flatten a scalar: the tensor must have a batch dimension`);
  }
  return tf.reshape(x, [b, rest.reduce((a, c) => a * c, 1)]); // [B, D]
}
