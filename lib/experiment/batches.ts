/**
 * Adapts the data layer's seeded `BatchIterator` to the trainer's `BatchSource`: batches become
 * tensors keyed by graph input, and the iterator's position travels in checkpoints.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import {
  BatchIterator,
  type BatchIteratorOptions,
  type BatchIteratorState,
} from "../data/batches.ts";
import type { Dataset } from "../data/dataset.ts";
import type { Json } from "../graph/node.ts";
import type { BatchSource } from "../train/fit.ts";
import { quantize8 } from "./toy.ts";
import type { Tensor } from "../types.ts";

/** Which graph input receives the inputs (`x`) and which the labels (int32 `[B]`). */
export interface FeedNames {
  /** Round inputs to the 8-bit grid on [−1, 1] (toy points for a discrete likelihood). @default false */
  quantize?: boolean;
  /** Graph input for the data. @default "x" */
  x?: string;
  /** Graph input for the labels, if the graph takes them. */
  labels?: string;
}

/**
 * A `BatchSource` over a data set split.
 *
 * @param dataset The data set.
 * @param options Iterator options (split, batch size, seed, transform, flatten).
 * @param feeds Graph input names.
 * @returns The batch source.
 *
 * @example Flattened, binarised MNIST batches into input `x`
 * ```ts
 * import { loadDataset } from "../data/mod.ts";
 * import { batchSource } from "./batches.ts";
 * const ds = await loadDataset("mnist", { limit: 64 });
 * const src = batchSource(ds, { batchSize: 16, transform: "binarize", flatten: true });
 * src.next().x!.shape; // [16, 784]
 * ```
 */
export function batchSource(
  dataset: Dataset,
  options: Omit<BatchIteratorOptions, "resume">,
  feeds: FeedNames = {},
): BatchSource {
  let it = new BatchIterator(dataset, options);
  const xName = feeds.x ?? "x";
  return {
    next() {
      const b = it.nextBatch();
      const x = feeds.quantize ? quantize8(b.x) : b.x;
      const out: Record<string, Tensor> = { [xName]: tf.tensor(x, b.shape, "float32") };
      if (feeds.labels) out[feeds.labels] = tf.tensor1d(Int32Array.from(b.labels), "int32");
      return out;
    },
    state: () => it.getState() as unknown as Json,
    restore(state: Json) {
      it = new BatchIterator(dataset, {
        ...options,
        resume: state as unknown as BatchIteratorState,
      });
    },
  };
}

/**
 * Iterates a whole split once, in order, in batches (the last one may be short).
 *
 * @param dataset The data set.
 * @param options Split, batch size, transform, flatten, seed (binarisation), and a `limit`.
 * @param feeds Graph input names.
 * @returns A generator of feeds; the caller disposes each.
 *
 * @example Count test batches
 * ```ts
 * import { loadDataset } from "../data/mod.ts";
 * import { splitBatches } from "./batches.ts";
 * const ds = await loadDataset("mnist", { limit: 40 });
 * let n = 0;
 * for (const f of splitBatches(ds, { split: "test", batchSize: 16, flatten: true })) { n++; f.x!.dispose(); }
 * ```
 */
export function* splitBatches(
  dataset: Dataset,
  options: Omit<BatchIteratorOptions, "resume" | "shuffle" | "dropLast"> & { limit?: number },
  feeds: FeedNames = {},
): Generator<Record<string, Tensor>> {
  const split = options.split ?? "test";
  const n = Math.min(dataset[split].n, options.limit ?? Infinity);
  const bs = options.batchSize ?? 128;
  const { limit: _, ...iterOptions } = options;
  const src = batchSource(
    dataset,
    { ...iterOptions, split, shuffle: false, dropLast: false },
    feeds,
  );
  for (let done = 0; done < n; done += bs) {
    const f = src.next();
    const take = Math.min(bs, n - done);
    if (f[feeds.x ?? "x"]!.shape[0]! > take) {
      const sliced: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(f)) {
        sliced[k] = tf.slice(t, 0, take);
        t.dispose();
      }
      yield sliced;
    } else yield f;
  }
}
