// The polynomial Sin and Cos for wasm (lib/backend/wasm_trig.ts) against Math.sin / Math.cos in
// double precision: within half a float32 ulp plus the polynomial's 2e-9, over small, timestep-sized,
// near-multiple-of-π/2 and out-of-range arguments. Parity with the other backends (values and
// gradients) is in parity_test.ts.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend/mod.ts";
import { trigInto } from "../../lib/backend/wasm_trig.ts";
import { seeded } from "../_seeded.ts";

/** Arguments that stress the reduction: a dense grid, timesteps × frequencies, kπ/2 ± tiny. */
function hardArguments(): Float32Array {
  const xs: number[] = [];
  for (let i = -4000; i <= 4000; i++) xs.push(i / 100); // [−40, 40]
  for (let t = 0; t < 1000; t += 7) {
    for (let j = 0; j < 64; j += 3) xs.push(t * Math.exp(-Math.log(10000) * j / 64)); // embedding
  }
  for (let k = -100000; k <= 100000; k += 997) {
    const x = Math.fround(k * Math.PI / 2);
    xs.push(x, Math.fround(x * (1 + 2 ** -23)), Math.fround(x * (1 - 2 ** -23)));
  }
  for (const x of seeded(5000, 3)) xs.push(x * 1e6); // up to the reduction limit
  xs.push(1e7, -3e8, 3.4e38, 1e-30, -1e-30, 0, -0);
  return Float32Array.from(xs);
}

for (const fn of ["sin", "cos"] as const) {
  Deno.test(`trigInto(${fn}) is within half a float32 ulp of Math.${fn}`, () => {
    const x = hardArguments();
    const got = trigInto(x, fn, new Float32Array(x.length));
    const ref = fn === "sin" ? Math.sin : Math.cos;
    let worst = 0, at = 0;
    for (let i = 0; i < x.length; i++) {
      const want = ref(x[i]!);
      const err = Math.abs(got[i]! - want) / (2e-9 + 2 ** -24 * Math.abs(want));
      if (err > worst) [worst, at] = [err, i];
    }
    assert.ok(worst <= 1, `x = ${x[at]}: got ${got[at]}, Math.${fn} gives ${ref(x[at]!)}`);
  });
}

Deno.test("trigInto() keeps the sign of zero, and NaN and ±Infinity give NaN", () => {
  const x = new Float32Array([0, -0, NaN, Infinity, -Infinity]);
  const sin = trigInto(x, "sin", new Float32Array(5));
  assert.ok(Object.is(sin[0], 0) && Object.is(sin[1], -0));
  assert.ok(sin.slice(2).every(Number.isNaN));
  const cos = trigInto(x, "cos", new Float32Array(5));
  assert.deepEqual([...cos.slice(0, 2)], [1, 1]);
  assert.ok(cos.slice(2).every(Number.isNaN));
});

Deno.test("the wasm backend runs the polynomial Sin and Cos, in place of libm's", async () => {
  const info = await initBackend({ backend: "wasm", threads: 1, quiet: true });
  assert.ok(
    info.notes.some((n) => n.startsWith("wasm kernels") && n.includes("Sin, Cos")),
    info.notes.join("; "),
  );
  const x = seeded(4096, 9).map((v) => v * 1000);
  const [sin, cos] = tf.tidy(() => [tf.sin(tf.tensor1d(x)), tf.cos(tf.tensor1d(x))]);
  assert.deepEqual(await sin!.data(), trigInto(x, "sin", new Float32Array(x.length)));
  assert.deepEqual(await cos!.data(), trigInto(x, "cos", new Float32Array(x.length)));
  tf.dispose([sin!, cos!]);
});
