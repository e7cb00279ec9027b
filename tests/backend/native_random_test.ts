// GaussianStream (lib/backend/native_random.ts): distribution, determinism, tensors on cpu/wasm.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import assert from "node:assert/strict";
import { GaussianStream } from "../../lib/backend/native_random.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 +
    t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

Deno.test("GaussianStream draws match N(0, 1): moments and the CDF at 9 points (2M draws)", () => {
  const n = 2_000_000;
  const x = new Float32Array(n);
  new GaussianStream(7).fill(x);
  let s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  for (const v of x) {
    s1 += v;
    s2 += v * v;
    s3 += v ** 3;
    s4 += v ** 4;
  }
  // Standard errors at n = 2M: mean 0.0007, second moment 0.001, third 0.0027, fourth 0.0068;
  // bounds at 4.5 of them (a 1% scale error in the ziggurat layers moves the second by 0.007).
  assert.ok(Math.abs(s1 / n) < 0.0032, `mean ${s1 / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.0045, `variance ${s2 / n}`);
  assert.ok(Math.abs(s3 / n) < 0.012, `third moment ${s3 / n}`);
  assert.ok(Math.abs(s4 / n - 3) < 0.031, `fourth moment ${s4 / n}`);
  for (const edge of [-3.5, -2.5, -1.5, -0.5, 0, 0.5, 1.5, 2.5, 3.5]) {
    let below = 0;
    for (const v of x) if (v < edge) below++;
    const p = phi(edge);
    const se = Math.sqrt(p * (1 - p) / n);
    assert.ok(
      Math.abs(below / n - p) < 5 * se + 1e-6,
      `P(x < ${edge}) = ${below / n}, expected ${p}`,
    );
  }
  // The tail beyond the ziggurat's base (R = 3.44) is reached: P(|x| > 3.44) = 5.8e-4.
  let tail = 0;
  for (const v of x) if (Math.abs(v) > 3.45) tail++;
  assert.ok(tail > 500, `only ${tail} draws beyond 3.45`);
});

Deno.test("GaussianStream is deterministic per seed and resumable from its state", () => {
  const a = new Float32Array(1000), b = new Float32Array(1000), c = new Float32Array(1000);
  new GaussianStream(123).fill(a);
  new GaussianStream(123).fill(b);
  new GaussianStream(124).fill(c);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);

  const s = new GaussianStream(5);
  s.fill(new Float32Array(37));
  const saved = s.getState();
  const next = new Float32Array(50);
  s.fill(next);
  const resumed = new GaussianStream(0);
  resumed.setState(saved);
  const again = new Float32Array(50);
  resumed.fill(again);
  assert.deepEqual(again, next);
});

Deno.test("GaussianStream.tensor() fills a new tensor on cpu and wasm, tracked by tidy", async () => {
  const expected = new Float32Array(6 * 5);
  new GaussianStream(9).fill(expected);
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const kept = tf.tidy(() => {
      const t = new GaussianStream(9).tensor([6, 5]);
      tf.add(t, 1); // an intermediate that tidy disposes
      return t;
    });
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(kept.shape, [6, 5]);
    assert.equal(kept.dtype, "float32");
    assert.deepEqual(new Float32Array(await kept.data()), expected);
    kept.dispose();
  }
  await tf.setBackend("cpu");
});

Deno.test("GaussianStream rejects a non-finite seed and an all-zero state", () => {
  assert.throws(() => new GaussianStream(NaN), RangeError);
  assert.throws(() => new GaussianStream(0).setState([0, 0, 0, 0]), RangeError);
  assert.throws(() => new GaussianStream(0).setState([1, 2, 3]), RangeError);
});
