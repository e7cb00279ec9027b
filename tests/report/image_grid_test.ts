import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { decode } from "fast-png";
import { imageGrid, tileImages } from "../../lib/report/mod.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** Pixel (x, y) of a decoded PNG as an array of its channels. */
function pixel(png: ReturnType<typeof decode>, x: number, y: number): number[] {
  const at = (y * png.width + x) * png.channels;
  return [...png.data.subarray(at, at + png.channels)];
}

Deno.test("imageGrid() of uint8 gray images decodes to the same bytes in a padded grid", async () => {
  // 5 images of 3×2 (H×W); image k holds 10k + (row·2 + col).
  const data = Uint8Array.from({ length: 5 * 6 }, (_, i) => 10 * Math.floor(i / 6) + (i % 6));
  const png = decode(
    await imageGrid({ data, shape: [5, 3, 2, 1] }, { cols: 3, pad: 1, padValue: 200 }),
  );
  assert.equal(png.channels, 1);
  assert.equal(png.depth, 8);
  assert.equal(png.width, 3 * (2 + 1) + 1);
  assert.equal(png.height, 2 * (3 + 1) + 1);
  for (let k = 0; k < 5; k++) {
    const left = 1 + (k % 3) * 3;
    const top = 1 + Math.floor(k / 3) * 4;
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 2; c++) {
        assert.deepEqual(pixel(png, left + c, top + r), [10 * k + r * 2 + c]);
      }
    }
  }
  assert.deepEqual(pixel(png, 0, 0), [200]); // border
  assert.deepEqual(pixel(png, 3, 1), [200]); // between columns
  assert.deepEqual(pixel(png, 8, 6), [200]); // the unused sixth cell
});

Deno.test("imageGrid() maps a float tensor in [−1, 1] to bytes and keeps tensors flat", async () => {
  const values = [-1, -0.5, 0, 1, 0.25, 2];
  const x = tf.tensor4d(values, [6, 1, 1, 1]);
  const before = tf.memory().numTensors;
  const png = decode(await imageGrid(x, { pad: 0, cols: 6 }));
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  const expected = values.map((v) => Math.min(255, Math.round((v + 1) * 127.5)));
  assert.deepEqual([...png.data], expected);
});

Deno.test("imageGrid() honours range [0,1], RGB channels, flat input and scaling", async () => {
  // Two 1×2 RGB images in [0, 1], given flat as [2, 6].
  const data = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
  const png = decode(
    await imageGrid({ data, shape: [2, 6] }, {
      imageShape: [1, 2, 3],
      range: "[0,1]",
      pad: 0,
      cols: 2,
      scale: 2,
    }),
  );
  assert.equal(png.channels, 3);
  assert.equal(png.width, 8);
  assert.equal(png.height, 2);
  assert.deepEqual(pixel(png, 0, 1), [255, 0, 0]);
  assert.deepEqual(pixel(png, 1, 0), [255, 0, 0]); // upscaled copy
  assert.deepEqual(pixel(png, 2, 0), [0, 255, 0]);
  assert.deepEqual(pixel(png, 5, 1), [0, 0, 255]);
  assert.deepEqual(pixel(png, 7, 0), [255, 255, 255]);
});

Deno.test("imageGrid() reads int32 tensors as bytes by default", async () => {
  const x = tf.tensor3d([0, 7, 255, 128], [1, 2, 2], "int32");
  const png = decode(await imageGrid(x, { pad: 0 }));
  x.dispose();
  assert.deepEqual([...png.data], [0, 7, 255, 128]);
});

Deno.test("tileImages() defaults to a near-square grid", () => {
  const g = tileImages({ data: new Uint8Array(10 * 4), shape: [10, 2, 2] }, { pad: 0 });
  assert.equal(g.width, 4 * 2); // ⌈√10⌉ = 4 columns
  assert.equal(g.height, 3 * 2); // ⌈10 / 4⌉ = 3 rows
  const h = tileImages({ data: new Uint8Array(10 * 4), shape: [10, 2, 2] }, { pad: 0, rows: 2 });
  assert.equal(h.width, 5 * 2);
});

Deno.test("tileImages() rejects bad shapes, channel counts and grids with clear errors", () => {
  const data = new Uint8Array(8);
  assert.throws(() => tileImages({ data, shape: [2, 2, 1, 2] }), /2 channels/);
  assert.throws(() => tileImages({ data, shape: [3, 2, 2, 1] }), /data has 8 values instead of 12/);
  assert.throws(() => tileImages({ data, shape: [2, 4] }), /without 'imageShape'/);
  assert.throws(() => tileImages({ data, shape: [2, 2, 2] }, { rows: 1, cols: 1 }), RangeError);
  assert.throws(() => tileImages({ data, shape: [2, 2, 2] }, { scale: 0 }), /'scale' must be/);
});
