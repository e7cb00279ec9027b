/**
 * The shapes of in-memory data sets shared by every loader in `lib/data`.
 *
 * @module
 */

export type { Tensor, Tensor1D, Tensor2D } from "../types.ts";

/** One split of an image data set: `n` 8-bit images, channels last. */
export interface ImageSplit {
  /** Pixel bytes, row-major `[n, H, W, C]`. */
  images: Uint8Array;
  /** Class labels `[n]`, each in [0, numClasses). */
  labels: Uint8Array;
  /** Number of examples. */
  n: number;
}

/** An image data set with a fixed train/test split. */
export interface ImageDataset {
  /** Discriminates image data sets from toy point data sets. */
  kind: "image";
  /** The data set's name, e.g. `"mnist"`. */
  name: string;
  /** The shape of one example, `[H, W, C]`. */
  shape: [number, number, number];
  /** The training split. */
  train: ImageSplit;
  /** The test split. */
  test: ImageSplit;
  /** Number of classes (labels lie in [0, numClasses)). */
  numClasses: number;
  /** Where the bytes came from (a package or a directory), for run records. */
  source: string;
}
