/**
 * The shapes of in-memory data sets shared by every loader in `lib/data`.
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs";

/** A TensorFlow.js tensor of any rank: `tf.Tensor`, named here so the API docs can show it. */
export type Tensor = tf.Tensor;
/** A rank-1 TensorFlow.js tensor: `tf.Tensor1D`. */
export type Tensor1D = tf.Tensor1D;
/** A rank-2 TensorFlow.js tensor: `tf.Tensor2D`. */
export type Tensor2D = tf.Tensor2D;

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
