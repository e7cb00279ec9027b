/**
 * Explicit random streams for the random functions of `lib/vae`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "../types.ts";
import { assertShapesEqual } from "./_util.ts";

/**
 * The random stream of a random function, always explicit: either injected `noise` (tests,
 * common random numbers) or a numeric `seed` for TensorFlow.js's seeded generators.
 *
 * What `noise` holds depends on the function: standard normal draws for Gaussian noise,
 * uniform draws in [0, 1) for masking noise. Its shape must equal the shape it replaces.
 *
 * @example Two ways to give randomness
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { NoiseSource } from "./mod.ts";
 *
 * const seeded: NoiseSource = { seed: 42 };
 * const injected: NoiseSource = { noise: tf.zeros([2, 3]) };
 * ```
 */
export type NoiseSource =
  | {
    /** Noise to use as is (its distribution is the function's, e.g. N(0, 1)). */
    noise: Tensor;
    /** Not allowed together with `noise`. */
    seed?: never;
  }
  | {
    /** Seed of the TensorFlow.js generator that draws the noise. */
    seed: number;
    /** Not allowed together with `seed`. */
    noise?: never;
  };

/** Which distribution `drawNoise` samples. */
export type NoiseKind = "normal" | "uniform";

/**
 * Returns the noise of `source` for a tensor of `shape`: the injected tensor (checked and
 * cloned) or a seeded draw (standard normal, or uniform on [0, 1)).
 */
export function drawNoise(
  source: NoiseSource,
  shape: number[],
  options: { kind: NoiseKind; what: string },
): Tensor {
  if (source.noise !== undefined) {
    assertShapesEqual(options.what, source.noise.shape, "noise", shape, "the input");
    if (source.noise.dtype !== "float32") {
      throw new TypeError(
        `Cannot ${options.what} as 'noise' must be float32: current dtype is ${source.noise.dtype}`,
      );
    }
    return tf.clone(source.noise);
  }
  if (typeof source.seed !== "number" || !Number.isFinite(source.seed)) {
    throw new TypeError(
      `Cannot ${options.what} as the random stream is missing: pass { seed: number } or ` +
        `{ noise: tensor }`,
    );
  }
  const kind = options.kind;
  switch (kind) {
    case "normal":
      return tf.randomNormal(shape, 0, 1, "float32", source.seed);
    case "uniform":
      return tf.randomUniform(shape, 0, 1, "float32", source.seed);
    default: {
      const never: never = kind;
      throw new TypeError(`Cannot draw noise of unknown kind '${never}'`);
    }
  }
}
