/**
 * Whole-split helpers: gather examples by index, take a prefix, and fingerprint a split.
 *
 * @module
 */

import type { ImageSplit } from "./types.ts";

/**
 * Builds a new split from the examples at `indices` (in that order).
 *
 * @param split The source split.
 * @param indices Example indices into `split`.
 * @returns A split that owns copies of the selected images and labels.
 *
 * @example Reverse a two-example split of 1-pixel images
 * ```ts
 * import { gatherSplit } from "./split.ts";
 * const s = { images: new Uint8Array([10, 20]), labels: new Uint8Array([0, 1]), n: 2 };
 * console.log([...gatherSplit(s, [1, 0]).images]); // [20, 10]
 * ```
 */
export function gatherSplit(split: ImageSplit, indices: ArrayLike<number>): ImageSplit {
  const size = exampleSize(split);
  const n = indices.length;
  const images = new Uint8Array(n * size);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i] as number;
    if (!Number.isInteger(j) || j < 0 || j >= split.n) {
      throw new RangeError(
        `Cannot gather example ${j} as it is outside the split of ${split.n} examples`,
      );
    }
    images.set(split.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = split.labels[j] as number;
  }
  return { images, labels, n };
}

/**
 * Keeps the first `limit` examples of a split (views, no copy). A limit at or above `n` keeps all.
 *
 * @param split The split.
 * @param limit How many examples to keep, a non-negative integer.
 * @returns The prefix split.
 *
 * @example Keep one example
 * ```ts
 * import { limitSplit } from "./split.ts";
 * const s = { images: new Uint8Array([10, 20]), labels: new Uint8Array([0, 1]), n: 2 };
 * console.log(limitSplit(s, 1).n); // 1
 * ```
 */
export function limitSplit(split: ImageSplit, limit: number): ImageSplit {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(
      `Cannot limit a split as 'limit' must be a non-negative integer: current value is ${limit}`,
    );
  }
  const n = Math.min(limit, split.n);
  const size = exampleSize(split);
  return { images: split.images.subarray(0, n * size), labels: split.labels.subarray(0, n), n };
}

/**
 * Fingerprints a split: the hex SHA-256 of its label bytes followed by its image bytes.
 * Used to pin fixed splits in tests and to record which data a run saw.
 *
 * @param split The split.
 * @returns The 64-character lowercase hex digest.
 *
 * @example Fingerprint
 * ```ts
 * import { splitChecksum } from "./split.ts";
 * const s = { images: new Uint8Array([1]), labels: new Uint8Array([0]), n: 1 };
 * console.log((await splitChecksum(s)).length); // 64
 * ```
 */
export async function splitChecksum(split: ImageSplit): Promise<string> {
  const bytes = new Uint8Array(split.labels.length + split.images.length);
  bytes.set(split.labels, 0);
  bytes.set(split.images, split.labels.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Joins splits end to end.
 *
 * @param splits The splits, all with the same example size.
 * @returns One split holding them all, in order.
 *
 * @example Join
 * ```ts
 * import { concatSplits } from "./split.ts";
 * const a = { images: new Uint8Array([1]), labels: new Uint8Array([0]), n: 1 };
 * console.log(concatSplits([a, a]).n); // 2
 * ```
 */
export function concatSplits(splits: readonly ImageSplit[]): ImageSplit {
  const n = splits.reduce((s, x) => s + x.n, 0);
  const images = new Uint8Array(splits.reduce((s, x) => s + x.images.length, 0));
  const labels = new Uint8Array(n);
  let imageAt = 0;
  let labelAt = 0;
  for (const s of splits) {
    images.set(s.images, imageAt);
    labels.set(s.labels, labelAt);
    imageAt += s.images.length;
    labelAt += s.n;
  }
  return { images, labels, n };
}

function exampleSize(split: ImageSplit): number {
  if (split.n === 0) return 0;
  const size = split.images.length / split.n;
  if (!Number.isInteger(size) || split.labels.length !== split.n) {
    throw new TypeError(
      `Cannot use a split of ${split.n} examples with ${split.images.length} image bytes and ` +
        `${split.labels.length} labels: both must be whole multiples of n`,
    );
  }
  return size;
}
