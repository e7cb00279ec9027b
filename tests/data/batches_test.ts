import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  type Batch,
  BatchIterator,
  batchToTensors,
  type ImageDataset,
  loadDataset,
} from "../../lib/data/mod.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** 10 distinct 2×2×1 images: image i holds bytes 20i … 20i+3; label i mod 3. */
function tinyDataset(n = 10): ImageDataset {
  const images = Uint8Array.from({ length: 4 * n }, (_, k) => 20 * Math.floor(k / 4) + (k % 4));
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
  const split = { images, labels, n };
  return {
    kind: "image",
    name: "tiny",
    shape: [2, 2, 1],
    train: split,
    test: split,
    numClasses: 3,
    source: "test",
  };
}

function take(it: BatchIterator, k: number): Batch[] {
  return Array.from({ length: k }, () => it.nextBatch());
}

Deno.test("two iterators with the same seed give identical batches; another seed does not", () => {
  const ds = tinyDataset();
  const a = take(new BatchIterator(ds, { batchSize: 3, seed: 4 }), 6);
  const b = take(new BatchIterator(ds, { batchSize: 3, seed: 4 }), 6);
  assert.deepEqual(a, b);
  const c = take(new BatchIterator(ds, { batchSize: 3, seed: 5 }), 6);
  assert.notDeepEqual(a.map((x) => [...x.indices]), c.map((x) => [...x.indices]));
});

Deno.test("every epoch visits each example once, in a new order", () => {
  const ds = tinyDataset();
  const it = new BatchIterator(ds, { batchSize: 4, dropLast: false, transform: "raw" });
  assert.equal(it.batchesPerEpoch, 3);
  const epochs: number[][] = [[], [], []];
  for (const batch of take(it, 9)) {
    epochs[batch.epoch]!.push(...batch.indices);
    // Rows are the selected images, in order.
    batch.indices.forEach((j, i) => assert.equal(batch.x[4 * i], 20 * j));
    batch.indices.forEach((j, i) => assert.equal(batch.labels[i], j % 3));
  }
  for (const order of epochs) {
    assert.deepEqual([...order].sort((p, q) => p - q), [...Array(10).keys()]);
  }
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.deepEqual(
    take(new BatchIterator(ds, { batchSize: 4, dropLast: false }), 3).map((b) => b.shape[0]),
    [4, 4, 2],
  );
});

Deno.test("dropLast skips the short batch and shuffle: false keeps the split's order", () => {
  const it = new BatchIterator(tinyDataset(), { batchSize: 4, shuffle: false });
  assert.equal(it.batchesPerEpoch, 2);
  const batches = take(it, 3);
  assert.deepEqual(batches.map((b) => [...b.indices]), [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3]]);
  assert.deepEqual(batches.map((b) => b.epoch), [0, 0, 1]);
  assert.throws(() => new BatchIterator(tinyDataset(), { batchSize: 11 }), /set dropLast: false/);
});

Deno.test("an iterator resumed from its JSON state continues exactly, binarisation included", async () => {
  const ds = await loadDataset("mnist", { limit: 50 });
  const options = { batchSize: 16, seed: 9, transform: "binarize" as const, flatten: true };
  const straight = take(new BatchIterator(ds, options), 8); // 3 batches per epoch: spans epochs
  for (const cut of [1, 3, 5]) {
    const first = new BatchIterator(ds, options);
    take(first, cut);
    const saved = JSON.parse(JSON.stringify(first.getState()));
    const resumed = take(new BatchIterator(ds, { ...options, resume: saved }), 8 - cut);
    assert.deepEqual(resumed, straight.slice(cut));
  }
  assert.deepEqual(straight[3]!.shape, [16, 784]);
  assert.ok(straight[0]!.x.every((v) => v === 0 || v === 1));
  // Examples seen in both epochs are binarised afresh: their binary pixels differ.
  const rows = (batches: Batch[]): Map<number, Float32Array> =>
    new Map(
      batches.flatMap((b) =>
        [...b.indices].map((j, i) => [j, b.x.subarray(i * 784, (i + 1) * 784)])
      ),
    );
  const e0 = rows(straight.slice(0, 3));
  const e1 = rows(straight.slice(3, 6));
  let differing = 0;
  for (const [j, a] of e0) {
    const b = e1.get(j);
    if (b) differing += a.filter((v, i) => v !== b[i]).length;
  }
  assert.ok(differing > 1000, `${differing} pixels differ between epochs`);
});

Deno.test("resuming with different options is refused", () => {
  const ds = tinyDataset();
  const state = new BatchIterator(ds, { batchSize: 2, seed: 1 }).getState();
  assert.throws(
    () => new BatchIterator(ds, { batchSize: 3, seed: 1, resume: state }),
    /saved 'batchSize' is 2 but this iterator's is 3/,
  );
  assert.throws(
    () => new BatchIterator(ds, { batchSize: 2, seed: 1, resume: { ...state, position: 99 } }),
    RangeError,
  );
});

Deno.test("batches scale images to [−1, 1] by default and become float32/int32 tensors", async () => {
  const ds = tinyDataset();
  const it = new BatchIterator(ds, { batchSize: 2, shuffle: false });
  const before = tf.memory().numTensors;
  const { x, labels } = it.nextTensors();
  assert.deepEqual(x.shape, [2, 2, 2, 1]);
  assert.equal(x.dtype, "float32");
  assert.equal(labels.dtype, "int32");
  const values = await x.data();
  assert.equal(values[1], Math.fround(1 / 127.5 - 1));
  assert.deepEqual([...await labels.data()], [0, 1]);
  tf.dispose([x, labels]);
  assert.equal(tf.memory().numTensors, before);
  const b = it.nextBatch();
  const t = batchToTensors(b);
  assert.deepEqual(t.x.shape, b.shape);
  tf.dispose([t.x, t.labels]);
});

Deno.test("toy data sets batch their float points unchanged", async () => {
  const ds = await loadDataset("toy-ring8", { limit: 20 });
  const it = new BatchIterator(ds, { batchSize: 5, seed: 2 });
  const b = it.nextBatch();
  assert.deepEqual(b.shape, [5, 2]);
  const j = b.indices[0]!;
  assert.deepEqual([...b.x.subarray(0, 2)], [...ds.train.points.subarray(2 * j, 2 * j + 2)]);
  assert.throws(() => new BatchIterator(ds, { transform: "symmetric" }), /use "raw"/);
});
