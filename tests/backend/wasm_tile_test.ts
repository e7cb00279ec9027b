// The block-copy Tile for wasm (lib/backend/wasm_tile.ts) against the index formula
// out[i_0, …, i_n] = x[i_0 mod s_0, …, i_n mod s_n]; parity with the other backends is in parity_test.ts.
import assert from "node:assert/strict";
import { tileInto } from "../../lib/backend/wasm_tile.ts";

/** The reference: every output element's source index, computed one by one. */
function naiveTile(x: Float32Array, shape: number[], reps: number[]): Float32Array {
  const outShape = shape.map((d, i) => d * reps[i]!);
  const n = outShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let flat = 0; flat < n; flat++) {
    let rem = flat, src = 0, stride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rem % outShape[d]!;
      rem = Math.floor(rem / outShape[d]!);
      src += (i % shape[d]!) * stride;
      stride *= shape[d]!;
    }
    out[flat] = x[src]!;
  }
  return out;
}

Deno.test("tileInto() matches the index formula for ranks 1-4, size-1 axes and reps of 0 and 1", () => {
  const cases: [number[], number[]][] = [
    [[5], [3]],
    [[1], [7]],
    [[3, 1], [1, 4]],
    [[1, 3], [4, 1]],
    [[2, 3], [2, 2]],
    [[2, 3, 2], [2, 1, 3]],
    [[2, 1, 3, 1], [1, 3, 2, 5]],
    [[3, 2], [0, 2]],
    [[4, 2], [1, 1]],
  ];
  for (const [shape, reps] of cases) {
    const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1);
    const want = naiveTile(x, shape, reps);
    const got = tileInto(x, shape, reps, new Float32Array(want.length));
    assert.deepEqual(got, want, `[${shape}] x [${reps}]`);
  }
});

Deno.test("tileInto() copies a scalar and tiles int32 and bool (Uint8Array) arrays", () => {
  assert.deepEqual(
    tileInto(new Float32Array([7]), [], [], new Float32Array(1)),
    new Float32Array([7]),
  );
  assert.deepEqual(
    [...tileInto(new Int32Array([1, 2]), [2], [3], new Int32Array(6))],
    [1, 2, 1, 2, 1, 2],
  );
  assert.deepEqual([...tileInto(new Uint8Array([1, 0]), [2, 1], [1, 2], new Uint8Array(4))], [
    1,
    1,
    0,
    0,
  ]);
});

Deno.test("tileInto() rejects reps of the wrong length with a TypeError naming them", () => {
  assert.throws(
    () => tileInto(new Float32Array(2), [2], [1, 2], new Float32Array(4)),
    /'reps' must have one entry per axis \(1\): current value is \[1,2\]/,
  );
});
