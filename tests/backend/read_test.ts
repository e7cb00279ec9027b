import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend, readArray, readScalar, readScalars } from "../../lib/backend/mod.ts";
import type { ReadOutput } from "./read_worker.ts";
import { runWorker } from "./spawn.ts";

await initBackend({ backend: "cpu", quiet: true });

Deno.test("synchronous reads throw on webgpu under Deno, while readArray() and readScalar() work", async () => {
  const { json } = await runWorker<ReadOutput>("read_worker.ts", ["webgpu"]);
  assert.equal(json.backend, "webgpu");
  for (const [name, error] of Object.entries(json.sync)) {
    assert.match(error ?? "no error", /clearRect/, `${name}() should throw on webgpu`);
  }
  assert.equal(json.asyncValuesOk, true);
  assert.equal(json.asyncSum, (2048 * 2049) / 2);
  assert.equal(json.leakedTensors, 0);
});

Deno.test("synchronous reads work on wasm and cpu (the rule is about webgpu)", async () => {
  const runs = await Promise.all(
    ["wasm", "cpu"].map((b) => runWorker<ReadOutput>("read_worker.ts", [b])),
  );
  for (const { json } of runs) {
    assert.deepEqual(json.sync, { dataSync: null, arraySync: null, toString: null, print: null });
    assert.equal(json.asyncValuesOk, true);
    assert.equal(json.asyncSum, (2048 * 2049) / 2);
  }
});

Deno.test("readScalar() rejects a tensor with more than one element with a TypeError", async () => {
  const t = tf.tensor1d([1, 2]);
  await assert.rejects(() => readScalar(t), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /shape \[2\]: reduce it first/);
    return true;
  });
  t.dispose();
  assert.equal(await readScalar(tf.tensor2d([[7]]), { dispose: true }), 7);
});

Deno.test("readArray() returns a copy: writing to it leaves the tensor unchanged", async () => {
  const t = tf.tensor1d([1, 2, 3]);
  const a = await readArray(t);
  a[0] = 100;
  assert.deepEqual([...await readArray(t)], [1, 2, 3]);
  t.dispose();
  const ints = await readArray(tf.tensor1d([4, 5], "int32"), { dispose: true });
  assert.ok(ints instanceof Int32Array);
});

Deno.test("the dispose option frees the tensors that were read", async () => {
  const before = tf.memory().numTensors;
  const values = await readScalars([tf.scalar(1), tf.scalar(2), tf.scalar(3)], { dispose: true });
  assert.deepEqual(values, [1, 2, 3]);
  await readArray(tf.ones([4]), { dispose: true });
  assert.equal(tf.memory().numTensors, before);
});
