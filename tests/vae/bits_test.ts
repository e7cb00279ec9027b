import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { bitsPerDim } from "../../lib/vae/mod.ts";
import { assertClose, read } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

Deno.test("bitsPerDim() divides nats by D ln 2, for numbers and [B] tensors alike", async () => {
  assert.equal(bitsPerDim(784 * Math.LN2, 784), 1);
  const nats = [100, 543.4, 2000];
  const t = await read(bitsPerDim(tf.tensor1d(nats), 784));
  assertClose(t, nats.map((n) => bitsPerDim(n, 784)));
  assertClose(t, nats.map((n) => n / (784 * Math.LN2)));
});

Deno.test("bitsPerDim() adds -log2(binWidth) for a continuous density on dequantized data", () => {
  // A uniform density on [0, 1]^D has NLL 0 nats; on 8-bit bins of width 1/256 that is 8 bits/dim.
  assert.equal(bitsPerDim(0, 3072, { binWidth: 1 / 256 }), 8);
  assertClose([bitsPerDim(10, 4, { binWidth: 2 / 256 })], [10 / (4 * Math.LN2) + 7]);
});

Deno.test("bitsPerDim() rejects a non-integer D and a non-positive bin width", () => {
  assert.throws(() => bitsPerDim(1, 0), RangeError);
  assert.throws(() => bitsPerDim(1, 2.5), /'dims' must be an integer/);
  assert.throws(() => bitsPerDim(1, 10, { binWidth: 0 }), RangeError);
});
