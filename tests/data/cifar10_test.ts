import assert from "node:assert/strict";
import {
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  loadDataset,
  parseCifar10Batch,
} from "../../lib/data/mod.ts";

/** A CIFAR-10 binary batch of n records: label (seed + r) % 10, plane value f(seed, r, c, p). */
function makeBatch(n: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(n * 3073);
  for (let r = 0; r < n; r++) {
    bytes[r * 3073] = (seed + r) % 10;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        bytes[r * 3073 + 1 + c * 1024 + p] = (seed * 31 + r * 7 + c * 85 + p) % 256;
      }
    }
  }
  return bytes;
}

Deno.test("parseCifar10Batch() turns planar RGB records into channels-last images", () => {
  const s = parseCifar10Batch(makeBatch(3, 1));
  assert.equal(s.n, 3);
  assert.deepEqual([...s.labels], [1, 2, 3]);
  assert.equal(s.images.length, 3 * 32 * 32 * 3);
  for (const [r, row, col, c] of [[0, 0, 0, 0], [1, 5, 17, 2], [2, 31, 31, 1], [2, 10, 3, 0]]) {
    const p = row! * 32 + col!;
    const expected = (31 + r! * 7 + c! * 85 + p) % 256;
    assert.equal(s.images[((r! * 32 + row!) * 32 + col!) * 3 + c!], expected);
  }
});

Deno.test("parseCifar10Batch() rejects partial records and labels above 9", () => {
  assert.throws(() => parseCifar10Batch(new Uint8Array(3072)), /not a whole number of 3073-byte/);
  const bad = makeBatch(2, 0);
  bad[3073] = 10;
  assert.throws(() => parseCifar10Batch(bad), /record 1 has label 10/);
});

Deno.test("loadDataset('cifar10', { dir }) reads five train batches and the test batch", async () => {
  const parent = await Deno.makeTempDir({ prefix: "elbo_cifar_" });
  const dir = `${parent}/cifar-10-batches-bin`;
  try {
    await Deno.mkdir(dir);
    for (const [i, file] of CIFAR10_TRAIN_FILES.entries()) {
      await Deno.writeFile(`${dir}/${file}`, makeBatch(2, i));
    }
    await Deno.writeFile(`${dir}/${CIFAR10_TEST_FILE}`, makeBatch(4, 9));
    for (const d of [dir, parent]) {
      const ds = await loadDataset("cifar10", { dir: d });
      assert.deepEqual(ds.shape, [32, 32, 3]);
      assert.equal(ds.train.n, 10);
      assert.equal(ds.test.n, 4);
      assert.deepEqual([...ds.train.labels], [0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
      // Record 0 of data_batch_3 (seed 2) is training example 4.
      assert.deepEqual(
        ds.train.images.subarray(4 * 3072, 5 * 3072),
        parseCifar10Batch(makeBatch(1, 2)).images,
      );
    }
    await Deno.remove(`${dir}/data_batch_4.bin`);
    await assert.rejects(
      loadDataset("cifar10", { dir }),
      (e: unknown) =>
        e instanceof Deno.errors.NotFound &&
        e.message.startsWith(`Cannot load cifar10 as ${dir}/data_batch_4.bin does not exist`),
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
  await assert.rejects(loadDataset("cifar10"), /Cannot load cifar10 without a directory/);
});
