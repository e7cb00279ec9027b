// Graph random streams (lib/graph/rng.ts): normal draws come from a GaussianStream keyed by
// (seed, stream name, step, draw index), so they replay exactly and do not depend on the backend.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { RandomStream } from "../../lib/graph/rng.ts";
import { GaussianStream } from "../../lib/backend/native_random.ts";
import { deriveSeed } from "../../lib/data/random.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

async function draw(seed: number, name: string, step: number, draws = 1): Promise<Float32Array[]> {
  const r = new RandomStream(seed, name, step);
  const out: Float32Array[] = [];
  for (let i = 0; i < draws; i++) {
    const t = r.normal([3, 5]);
    out.push(Float32Array.from(await t.data()));
    t.dispose();
  }
  return out;
}

Deno.test("RandomStream.normal() replays: the same seed, stream, step and draw index give the same values", async () => {
  const [a1, a2] = await draw(7, "noise", 12, 2);
  const [b1, b2] = await draw(7, "noise", 12, 2);
  assert.deepEqual(a1, b1);
  assert.deepEqual(a2, b2);
  assert.notDeepEqual(a1, a2, "the second draw of a step differs from the first");
});

Deno.test("RandomStream.normal() differs across steps, stream names and seeds", async () => {
  const [base] = await draw(7, "noise", 12);
  for (
    const [seed, name, step] of [[7, "noise", 13], [7, "other", 12], [8, "noise", 12]] as const
  ) {
    const [x] = await draw(seed, name, step);
    assert.notDeepEqual(x, base, `${seed} ${name} ${step}`);
  }
});

Deno.test("RandomStream.normal() is a GaussianStream seeded with nextSeed()", async () => {
  const [got] = await draw(3, "eps", 4);
  const want = new Float32Array(15);
  new GaussianStream(deriveSeed(3, ["eps", 4, 0])).fill(want);
  assert.deepEqual(got, want);
});

Deno.test("RandomStream.normal() draws standard normals", async () => {
  const t = new RandomStream(0, "big", 0).normal([200, 500]);
  const v = await t.data();
  t.dispose();
  let sum = 0, sq = 0, tail = 0;
  for (const x of v) {
    sum += x;
    sq += x * x;
    if (Math.abs(x) > 1.96) tail++;
  }
  const n = v.length, mean = sum / n, variance = sq / n - mean * mean;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`); // s.e. 0.0032
  assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`); // s.e. 0.0045
  assert.ok(Math.abs(tail / n - 0.05) < 0.003, `P(|x| > 1.96) = ${tail / n}`); // s.e. 0.0007
});

Deno.test("RandomStream.normal() tensors are tracked by tf.tidy", () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    new RandomStream(0, "t", 0).normal([4, 4]);
  });
  assert.equal(tf.memory().numTensors, before);
});
