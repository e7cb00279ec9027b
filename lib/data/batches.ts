/**
 * A seeded, reproducible, resumable batch iterator.
 *
 * Randomness is counter-based, so the whole iterator state is four small integers (epoch,
 * position, step, seed) plus its settings:
 * - the order of epoch e is `new Rng(deriveSeed(seed, ["shuffle", e])).permutation(n)`;
 * - the binarisation of the batch that starts at position p of epoch e uses
 *   `new Rng(deriveSeed(seed, ["binarize", e, p]))`, so every epoch sees fresh binary images.
 *
 * Saving `iterator.getState()` as JSON and passing it back as `resume` continues with exactly the
 * batches the uninterrupted iterator would have produced.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "./dataset.ts";
import { deriveSeed, Rng } from "./random.ts";
import { applyTransform, type Transform } from "./transforms.ts";
import type { Tensor, Tensor1D } from "./types.ts";

/** Options for {@linkcode BatchIterator}. */
export interface BatchIteratorOptions {
  /**
   * Which split to iterate.
   * @default "train"
   */
  split?: "train" | "test";
  /**
   * Examples per batch.
   * @default 128
   */
  batchSize?: number;
  /**
   * Seed of the shuffles and binarisations, an integer in [0, 2^32).
   * @default 0
   */
  seed?: number;
  /**
   * Shuffle each epoch (otherwise the split's order, every epoch).
   * @default true
   */
  shuffle?: boolean;
  /**
   * Skip an epoch's last batch when it would be smaller than `batchSize` (constant batch shapes).
   * With `false` the last batch holds the remainder.
   * @default true
   */
  dropLast?: boolean;
  /**
   * How pixels become inputs (see `transforms.ts`). Toy data sets accept only `"raw"`.
   * @default "symmetric" for images, "raw" for toy data
   */
  transform?: Transform;
  /**
   * Give batches as `[B, D]` instead of `[B, H, W, C]`.
   * @default false
   */
  flatten?: boolean;
  /**
   * A state saved with {@linkcode BatchIterator.getState}: continue from there. Its settings must
   * match this iterator's (they are checked).
   * @default start at epoch 0
   */
  resume?: BatchIteratorState;
}

/** The JSON-serialisable state of a {@linkcode BatchIterator}. */
export interface BatchIteratorState {
  /** Format version. */
  version: 1;
  /** The data set name. */
  dataset: string;
  /** The split iterated. */
  split: "train" | "test";
  /** Number of examples in the split. */
  n: number;
  /** Examples per batch. */
  batchSize: number;
  /** The seed. */
  seed: number;
  /** Whether epochs are shuffled. */
  shuffle: boolean;
  /** Whether short last batches are dropped. */
  dropLast: boolean;
  /** The transform. */
  transform: Transform;
  /** The epoch of the next batch. */
  epoch: number;
  /** Position within the epoch's order of the next batch's first example. */
  position: number;
  /** Number of batches produced so far. */
  step: number;
}

/** One batch, as typed arrays (make tensors with {@linkcode batchToTensors}). */
export interface Batch {
  /** Inputs, float32, row-major in `shape`. */
  x: Float32Array;
  /** `[B, H, W, C]` (or `[B, D]` when flattened; `[B, 2]` for toy data). */
  shape: number[];
  /** Labels `[B]`. */
  labels: Uint8Array;
  /** Indices of the examples in the split `[B]`. */
  indices: Uint32Array;
  /** The epoch this batch belongs to. */
  epoch: number;
  /** The batch's 0-based number since the iterator started (counting across resumes). */
  step: number;
}

/** A batch as tensors. */
export interface BatchTensors {
  /** Inputs, float32, `Batch.shape`. */
  x: Tensor;
  /** Labels, int32 `[B]`. */
  labels: Tensor1D;
}

/**
 * Iterates a data set split in seeded, shuffled batches, forever (epoch after epoch).
 *
 * @example Two batches, then resume from a saved state
 * ```ts
 * import { BatchIterator, loadDataset } from "../data/mod.ts";
 * const ds = await loadDataset("mnist", { limit: 64 });
 * const it = new BatchIterator(ds, { batchSize: 16, seed: 1 });
 * it.nextBatch();
 * const saved = JSON.stringify(it.getState());
 * const a = it.nextBatch();
 * const b = new BatchIterator(ds, { batchSize: 16, seed: 1, resume: JSON.parse(saved) }).nextBatch();
 * console.log(a.shape, a.step === b.step && a.x.every((v, i) => v === b.x[i])); // [16, 28, 28, 1] true
 * ```
 */
export class BatchIterator {
  readonly #rows: Uint8Array | Float32Array;
  readonly #labels: Uint8Array;
  readonly #exampleShape: number[];
  readonly #exampleSize: number;
  readonly #flatten: boolean;
  #state: BatchIteratorState;
  #order: Uint32Array | undefined;
  #orderEpoch = -1;

  /**
   * Creates the iterator (and checks a `resume` state against the options).
   *
   * @param dataset The data set.
   * @param options Split, batch size, seed, shuffling, transform, resume state.
   */
  constructor(dataset: Dataset, options: BatchIteratorOptions = {}) {
    const split = options.split ?? "train";
    const batchSize = options.batchSize ?? 128;
    const seed = options.seed ?? 0;
    const shuffle = options.shuffle ?? true;
    const dropLast = options.dropLast ?? true;
    let transform: Transform;
    switch (dataset.kind) {
      case "image": {
        const s = dataset[split];
        this.#rows = s.images;
        this.#labels = s.labels;
        transform = options.transform ?? "symmetric";
        break;
      }
      case "toy": {
        const s = dataset[split];
        this.#rows = s.points;
        this.#labels = s.labels;
        transform = options.transform ?? "raw";
        if (transform !== "raw") {
          throw new TypeError(
            `Cannot use transform '${transform}' on toy data set ${dataset.name}: ` +
              `its points are already floats; use "raw"`,
          );
        }
        break;
      }
      default: {
        const never: never = dataset;
        throw new TypeError(`Unknown data set kind of ${JSON.stringify(never)}`);
      }
    }
    const n = this.#labels.length;
    this.#exampleShape = [...dataset.shape];
    this.#exampleSize = dataset.shape.reduce((a: number, b: number) => a * b, 1);
    this.#flatten = options.flatten ?? false;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot batch ${dataset.name} as 'batchSize' must be a positive integer: ` +
          `current value is ${batchSize}`,
      );
    }
    if (n === 0 || (dropLast && batchSize > n)) {
      throw new RangeError(
        `Cannot batch the ${n} ${split} examples of ${dataset.name} in batches of ${batchSize} ` +
          `with dropLast: lower 'batchSize' or set dropLast: false`,
      );
    }
    new Rng(seed); // validates the seed
    this.#state = {
      version: 1,
      dataset: dataset.name,
      split,
      n,
      batchSize,
      seed,
      shuffle,
      dropLast,
      transform,
      epoch: 0,
      position: 0,
      step: 0,
    };
    if (options.resume !== undefined) this.#state = this.#checkResume(options.resume);
  }

  /** Number of batches in one epoch. */
  get batchesPerEpoch(): number {
    const { n, batchSize, dropLast } = this.#state;
    return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }

  /**
   * Returns the state to save (JSON-serialisable); pass it back as `resume` to continue exactly.
   *
   * @returns A copy of the state.
   *
   * @example Save the state
   * ```ts
   * import { BatchIterator, loadDataset } from "../data/mod.ts";
   * const it = new BatchIterator(await loadDataset("toy-ring8", { limit: 10 }), { batchSize: 4 });
   * it.nextBatch();
   * console.log(it.getState().position); // 4
   * ```
   */
  getState(): BatchIteratorState {
    return { ...this.#state };
  }

  /**
   * Produces the next batch (moving to the next epoch when this one is done).
   *
   * @returns The batch as typed arrays.
   *
   * @example One batch of binarised MNIST, flattened
   * ```ts
   * import { BatchIterator, loadDataset } from "../data/mod.ts";
   * const ds = await loadDataset("mnist", { limit: 32 });
   * const it = new BatchIterator(ds, { batchSize: 8, transform: "binarize", flatten: true });
   * console.log(it.nextBatch().shape); // [8, 784]
   * ```
   */
  nextBatch(): Batch {
    const s = this.#state;
    const order = this.#epochOrder(s.epoch);
    const b = Math.min(s.batchSize, s.n - s.position);
    const indices = order.slice(s.position, s.position + b);
    const size = this.#exampleSize;
    const rows = this.#rows;
    const labels = new Uint8Array(b);
    let x: Float32Array;
    if (rows instanceof Uint8Array) {
      const bytes = new Uint8Array(b * size);
      indices.forEach((j, i) => {
        bytes.set(rows.subarray(j * size, (j + 1) * size), i * size);
        labels[i] = this.#labels[j] as number;
      });
      const rng = s.transform === "binarize"
        ? new Rng(deriveSeed(s.seed, ["binarize", s.epoch, s.position]))
        : undefined;
      x = applyTransform(bytes, s.transform, rng);
    } else {
      x = new Float32Array(b * size);
      indices.forEach((j, i) => {
        x.set(rows.subarray(j * size, (j + 1) * size), i * size);
        labels[i] = this.#labels[j] as number;
      });
    }
    const batch: Batch = {
      x,
      shape: this.#flatten ? [b, size] : [b, ...this.#exampleShape],
      labels,
      indices,
      epoch: s.epoch,
      step: s.step,
    };
    s.position += b;
    s.step += 1;
    const remaining = s.n - s.position;
    if (remaining === 0 || (s.dropLast && remaining < s.batchSize)) {
      s.epoch += 1;
      s.position = 0;
    }
    return batch;
  }

  /**
   * Produces the next batch as tensors (the caller disposes them).
   *
   * @returns Float32 inputs and int32 labels.
   *
   * @example Tensors
   * ```ts
   * import { BatchIterator, loadDataset } from "../data/mod.ts";
   * const it = new BatchIterator(await loadDataset("toy-grid25", { limit: 8 }), { batchSize: 8 });
   * const { x, labels } = it.nextTensors();
   * console.log(x.shape, labels.dtype); // [8, 2] "int32"
   * x.dispose();
   * labels.dispose();
   * ```
   */
  nextTensors(): BatchTensors {
    return batchToTensors(this.nextBatch());
  }

  #epochOrder(epoch: number): Uint32Array {
    if (this.#order === undefined || this.#orderEpoch !== epoch) {
      const { n, seed, shuffle } = this.#state;
      this.#order = shuffle
        ? new Rng(deriveSeed(seed, ["shuffle", epoch])).permutation(n)
        : Uint32Array.from({ length: n }, (_, i) => i);
      this.#orderEpoch = epoch;
    }
    return this.#order;
  }

  #checkResume(saved: BatchIteratorState): BatchIteratorState {
    const expected = this.#state;
    const keys = [
      "version",
      "dataset",
      "split",
      "n",
      "batchSize",
      "seed",
      "shuffle",
      "dropLast",
      "transform",
    ] as const;
    for (const key of keys) {
      if (saved[key] !== expected[key]) {
        throw new TypeError(
          `Cannot resume the batch iterator as the saved '${key}' is ` +
            `${JSON.stringify(saved[key])} but this iterator's is ${
              JSON.stringify(expected[key])
            }: ` +
            `create it with the same data set and options`,
        );
      }
    }
    const { epoch, position, step } = saved;
    const valid = [epoch, position, step].every((v) => Number.isInteger(v) && v >= 0) &&
      position < expected.n && (!expected.dropLast || position + expected.batchSize <= expected.n);
    if (!valid) {
      throw new RangeError(
        `Cannot resume the batch iterator from epoch ${epoch}, position ${position}, ` +
          `step ${step}: not a state this iterator can reach`,
      );
    }
    return { ...expected, epoch, position, step };
  }
}

/**
 * Turns a batch into tensors: `x` float32 in the batch's shape, labels int32 `[B]`.
 *
 * @param batch The batch.
 * @returns The tensors (the caller disposes them).
 *
 * @example Make tensors
 * ```ts
 * import { batchToTensors } from "./batches.ts";
 * const t = batchToTensors({
 *   x: new Float32Array(4), shape: [2, 2], labels: new Uint8Array(2),
 *   indices: new Uint32Array(2), epoch: 0, step: 0,
 * });
 * console.log(t.x.shape); // [2, 2]
 * ```
 */
export function batchToTensors(batch: Batch): BatchTensors {
  return {
    x: tf.tensor(batch.x, batch.shape, "float32"), // [B, ...]
    labels: tf.tensor1d(Int32Array.from(batch.labels), "int32"), // [B]
  };
}
