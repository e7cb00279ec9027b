// Parity of the native BLAS kernels (lib/backend/native_blas.ts) with tfjs's own cpu kernels:
// values and gradients, on the cpu and wasm backends, plus the no-permission fallback.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import assert from "node:assert/strict";
import {
  disableNativeBlas,
  enableNativeBlas,
  type FusedActivation,
  isNativeBlasEnabled,
  type NativeBlasBackend,
} from "../../lib/backend/native_blas.ts";

import { seeded } from "../_seeded.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

// The parity tests need the library; on a machine without OpenBLAS they are skipped (and the
// fallback test below still runs).
const probe = enableNativeBlas("cpu");
disableNativeBlas("cpu");
const noBlas = !probe.enabled;
if (noBlas) console.warn(`native BLAS parity tests skipped: ${probe.reason}`);

function input(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seeded(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Runs `fn` on a backend (with or without the native kernels) and reads every output back. */
async function run(
  backend: NativeBlasBackend,
  native: boolean,
  fn: () => tf.Tensor[],
): Promise<{ shapes: number[][]; values: Float32Array[] }> {
  await tf.setBackend(backend);
  if (native) {
    const info = enableNativeBlas(backend);
    assert.equal(info.enabled, true, info.reason ?? "");
  } else {
    disableNativeBlas(backend);
  }
  try {
    const outs = tf.tidy(fn);
    const values = await Promise.all(outs.map(async (t) => new Float32Array(await t.data())));
    const shapes = outs.map((t) => t.shape);
    tf.dispose(outs);
    return { shapes, values };
  } finally {
    disableNativeBlas(backend);
  }
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-5) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i] ?? NaN, a = actual[i] ?? NaN;
    const err = Math.abs(a - e) / (1 + Math.abs(e));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(
    worst <= tol,
    `${what}: relative error ${worst} at ${at} (actual ${actual[at]}, expected ${expected[at]})`,
  );
}

/** Native (cpu and wasm) against tfjs-cpu's own kernels, outputs compared one by one. */
async function assertParity(fn: () => tf.Tensor[], what: string, tol = 1e-5) {
  const ref = await run("cpu", false, fn);
  for (const backend of ["cpu", "wasm"] as const) {
    const got = await run(backend, true, fn);
    assert.deepEqual(got.shapes, ref.shapes, `${what} on ${backend}: shapes`);
    got.values.forEach((v, i) =>
      assertClose(v, ref.values[i] ?? new Float32Array(), `${what} on ${backend}, output ${i}`, tol)
    );
  }
  await tf.setBackend("cpu");
}

/** Shapes of A and B for op(A) [.., m, k] and op(B) [.., k, n] under the transpose flags. */
function operandShapes(
  batchA: number[],
  batchB: number[],
  [m, k, n]: [number, number, number],
  ta: boolean,
  tb: boolean,
): [number[], number[]] {
  return [[...batchA, ...(ta ? [k, m] : [m, k])], [...batchB, ...(tb ? [n, k] : [k, n])]];
}

/** Value and both input gradients of sum(matMul(a, b) * r), with r a fixed random weight. */
function matMulWithGrads(aShape: number[], bShape: number[], ta: boolean, tb: boolean) {
  return () => {
    const a = input(aShape, 1), b = input(bShape, 2);
    const y = tf.matMul(a, b, ta, tb);
    const r = input(y.shape, 3);
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, w, ta, tb), r));
    const [da, db] = tf.grads(f)([a, b]);
    return [y, da!, db!];
  };
}

const FLAGS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

Deno.test({
  name: "matMul values and gradients match tfjs-cpu for 2-D inputs in all transpose combinations",
  ignore: noBlas,
  fn: async () => {
    for (const [ta, tb] of FLAGS) {
      const [as, bs] = operandShapes([], [], [5, 7, 3], ta, tb);
      await assertParity(matMulWithGrads(as, bs, ta, tb), `2-D ta=${ta} tb=${tb}`);
    }
  },
});

Deno.test({
  name:
    "matMul values and gradients match tfjs-cpu for batched 3-D inputs in all transpose combinations",
  ignore: noBlas,
  fn: async () => {
    for (const [ta, tb] of FLAGS) {
      const [as, bs] = operandShapes([3], [3], [4, 6, 5], ta, tb);
      await assertParity(matMulWithGrads(as, bs, ta, tb), `3-D ta=${ta} tb=${tb}`);
    }
  },
});

Deno.test({
  name: "matMul broadcasts a batch of 1 or a missing batch like tfjs-cpu",
  ignore: noBlas,
  fn: async () => {
    const cases: [number[], number[]][] = [[[3], []], [[], [3]], [[1], [3]], [[3], [1]]];
    for (const [ba, bb] of cases) {
      for (const [ta, tb] of FLAGS) {
        const [as, bs] = operandShapes(ba, bb, [4, 6, 5], ta, tb);
        await assertParity(
          () => [tf.matMul(input(as, 4), input(bs, 5), ta, tb)],
          `batch [${ba}] x [${bb}] ta=${ta} tb=${tb}`,
        );
      }
    }
  },
});

Deno.test({
  name: "matMul broadcasts batch dims [2, 1] x [1, 3] per pair of matrices",
  ignore: noBlas,
  fn: async () => {
    // tfjs-cpu itself mishandles this case (it indexes batches modulo), so the reference is
    // built from 2-D products of the matching slices.
    const a = seeded(2 * 1 * 4 * 6, 6), b = seeded(1 * 3 * 6 * 5, 7);
    const expected = await run("cpu", false, () => {
      const A = tf.tensor(a, [2, 4, 6]), B = tf.tensor(b, [3, 6, 5]);
      const rows: tf.Tensor[] = [];
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 3; j++) {
          rows.push(
            tf.matMul(
              tf.squeeze(tf.slice(A, [i, 0, 0], [1, 4, 6]), [0]),
              tf.squeeze(tf.slice(B, [j, 0, 0], [1, 6, 5]), [0]),
            ),
          );
        }
      }
      return [tf.reshape(tf.stack(rows), [2, 3, 4, 5])];
    });
    for (const backend of ["cpu", "wasm"] as const) {
      const got = await run(backend, true, () => [
        tf.matMul(tf.tensor(a, [2, 1, 4, 6]), tf.tensor(b, [1, 3, 6, 5])),
      ]);
      assert.deepEqual(got.shapes, [[2, 3, 4, 5]]);
      assertClose(got.values[0]!, expected.values[0]!, `broadcast on ${backend}`);
    }
    await tf.setBackend("cpu");
  },
});

Deno.test({
  name: "matMul handles empty and inner-size-0 products",
  ignore: noBlas,
  fn: async () => {
    await assertParity(() => [
      tf.matMul(tf.zeros([0, 3]), tf.ones([3, 2])),
      tf.matMul(tf.ones([2, 0]), tf.ones([0, 3])),
    ], "empty");
  },
});

const ACTIVATIONS: FusedActivation[] = [
  "linear",
  "relu",
  "relu6",
  "sigmoid",
  "elu",
  "leakyrelu",
  "prelu",
];

Deno.test({
  name: "fused matMul with a bias matches tfjs-cpu for every activation",
  ignore: noBlas,
  fn: async () => {
    for (const activation of ACTIVATIONS) {
      for (const [ta, tb] of FLAGS) {
        const [as, bs] = operandShapes([2], [2], [4, 5, 6], ta, tb);
        await assertParity(() => {
          // Scale so relu6 and the negative branches are all exercised.
          const a = tf.mul(input(as, 8), 3), b = input(bs, 9);
          return [tf.fused.matMul({
            a,
            b,
            transposeA: ta,
            transposeB: tb,
            bias: input([6], 10),
            activation,
            ...(activation === "prelu" ? { preluActivationWeights: input([6], 11) } : {}),
            leakyreluAlpha: 0.3,
          })];
        }, `${activation} ta=${ta} tb=${tb}`);
      }
    }
  },
});

Deno.test({
  name: "fused matMul accepts biases of shape [N], [M, N], [B, 1, N] and [1] and no bias",
  ignore: noBlas,
  fn: async () => {
    for (const biasShape of [[6], [4, 6], [2, 1, 6], [1], null]) {
      await assertParity(() => [tf.fused.matMul({
        a: input([2, 4, 5], 12),
        b: input([2, 5, 6], 13),
        ...(biasShape === null ? {} : { bias: input(biasShape, 14) }),
        activation: "relu",
      })], `bias [${biasShape}]`);
    }
  },
});

Deno.test({
  name: "fused matMul gradients (linear with bias, relu composed) match tfjs-cpu",
  ignore: noBlas,
  fn: async () => {
    for (const activation of ["linear", "relu"] as const) {
      for (const [ta, tb] of FLAGS) {
        const [as, bs] = operandShapes([], [], [4, 5, 6], ta, tb);
        await assertParity(() => {
          const a = input(as, 15), b = input(bs, 16), bias = input([6], 17);
          const r = input([4, 6], 18);
          const f = (x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) =>
            tf.sum(tf.mul(
              tf.fused.matMul({
                a: x as tf.Tensor2D,
                b: w as tf.Tensor2D,
                transposeA: ta,
                transposeB: tb,
                bias: c,
                activation,
              }),
              r,
            ));
          const { value, grads } = tf.valueAndGrads(f)([a, b, bias]);
          return [value, ...grads];
        }, `${activation} grads ta=${ta} tb=${tb}`);
      }
    }
  },
});

Deno.test({
  name: "sum over leading, trailing, all and middle axes matches tfjs-cpu",
  ignore: noBlas,
  fn: async () => {
    const axesCases: (number | number[] | undefined)[] = [0, [0, 1], -1, [1, 2], undefined, 1];
    for (const axis of axesCases) {
      for (const keepDims of [false, true]) {
        await assertParity(
          () => [tf.sum(input([3, 4, 5], 19), axis, keepDims)],
          `sum axis ${JSON.stringify(axis)} keepDims=${keepDims}`,
        );
      }
    }
    await assertParity(() => [tf.sum(tf.zeros([0, 4]), 0), tf.sum(input([7], 20))], "sum edge");
  },
});

Deno.test({
  name: "float32 tensors cast from bool and int32 (integer storage on tfjs-cpu) multiply and sum",
  ignore: noBlas,
  fn: async () => {
    await assertParity(() => {
      const fromBool = tf.cast(tf.greater(input([4, 5], 30), 0), "float32"); // [4, 5] of 0/1
      const fromInt = tf.cast(tf.tensor2d([[1, -2, 3], [4, 5, -6]], [2, 3], "int32"), "float32");
      return [
        tf.matMul(fromBool, input([5, 3], 31)),
        tf.fused.matMul({ a: input([2, 2], 32), b: fromInt, bias: fromInt }),
        tf.sum(fromBool, 0),
      ];
    }, "cast inputs");
  },
});

Deno.test({
  name: "int32 matMul and sum on cpu fall through to tfjs-cpu's own kernels",
  ignore: noBlas,
  fn: async () => {
    const fn = () => [
      tf.matMul(tf.tensor2d([[1, 2]], [1, 2], "int32"), tf.tensor2d([[3], [4]], [2, 1], "int32")),
      tf.sum(tf.tensor2d([[1, 2], [3, 4]], [2, 2], "int32"), 0),
    ];
    const got = await run("cpu", true, fn);
    assert.deepEqual(got.values.map((v) => Array.from(v)), [[11], [4, 6]]);
    await tf.setBackend("cpu");
  },
});

Deno.test({
  name: "on wasm, a clone shares memory with its source and training leaks no tensors",
  ignore: noBlas,
  fn: async () => {
    await tf.setBackend("wasm");
    assert.equal(enableNativeBlas("wasm").enabled, true);
    try {
      const x = input([3, 4], 21);
      const y = tf.clone(x);
      const backend = tf.backend() as unknown as {
        dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
      };
      assert.equal(
        backend.dataIdMap.get(y.dataId).memoryOffset,
        backend.dataIdMap.get(x.dataId).memoryOffset,
      );
      x.dispose();
      assertClose(new Float32Array(await y.data()), seeded(12, 21), "clone after dispose");
      y.dispose();

      const w = tf.variable(input([4, 2], 22));
      const opt = tf.train.adam(0.1);
      const data = input([8, 4], 23);
      const step = () =>
        opt.minimize(() => tf.mean(tf.square(tf.matMul(data, w))) as tf.Scalar, true)!;
      (await step().data(), step()).dispose();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) step().dispose();
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([w, data]);
      opt.dispose();
    } finally {
      disableNativeBlas("wasm");
      await tf.setBackend("cpu");
    }
  },
});

Deno.test({
  name: "disableNativeBlas() restores the backend's own kernels",
  ignore: noBlas,
  fn: async () => {
    await tf.setBackend("wasm");
    const stock = tf.getKernel("BatchMatMul", "wasm");
    enableNativeBlas("wasm");
    assert.equal(isNativeBlasEnabled("wasm"), true);
    assert.notEqual(tf.getKernel("BatchMatMul", "wasm"), stock);
    disableNativeBlas("wasm");
    assert.equal(isNativeBlasEnabled("wasm"), false);
    assert.equal(tf.getKernel("BatchMatMul", "wasm"), stock);
    // The restored stock kernel still works.
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
    assert.deepEqual(Array.from(await y.data()), [3, 3, 3, 3]);
    y.dispose();
    await tf.setBackend("cpu");
  },
});

Deno.test("enableNativeBlas() reports a missing library instead of throwing", () => {
  const info = enableNativeBlas("cpu", { library: "libdoes-not-exist.so.9" });
  assert.equal(info.enabled, false);
  assert.equal(info.library, null);
  assert.match(info.reason ?? "", /libdoes-not-exist\.so\.9/);
  assert.equal(isNativeBlasEnabled("cpu"), false);
});

Deno.test("enableNativeBlas() rejects a thread count that is not a positive integer", () => {
  assert.throws(() => enableNativeBlas("cpu", { threads: 0 }), RangeError);
});

Deno.test("without --allow-ffi, enableNativeBlas() returns enabled: false and training works", async () => {
  const script = await Deno.makeTempFile({ prefix: "native_blas_noffi_", suffix: ".ts" });
  const lib = new URL("../../lib/backend/native_blas.ts", import.meta.url).href;
  try {
    await Deno.writeTextFile(
      script,
      `import * as tf from "@tensorflow/tfjs";
import { enableNativeBlas } from ${JSON.stringify(lib)};
tf.env().set("PROD", true);
await tf.setBackend("cpu");
const info = enableNativeBlas("cpu");
const w = tf.variable(tf.tensor2d([[1], [2]]));
const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
const opt = tf.train.adam(0.1);
const losses = [];
for (let i = 0; i < 20; i++) {
  const loss = opt.minimize(() => tf.mean(tf.square(tf.matMul(x, w))), true);
  losses.push((await loss.data())[0]);
  loss.dispose();
}
console.log(JSON.stringify({ info, first: losses[0], last: losses[losses.length - 1] }));
`,
    );
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command("deno", {
      args: ["run", "--no-prompt", "--quiet", "--config", config, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim());
    assert.equal(result.info.enabled, false);
    assert.equal(result.info.library, null);
    assert.match(result.info.reason, /--allow-ffi/);
    assert.ok(result.last < 0.5 * result.first, `training did not progress: ${stderr}`);
  } finally {
    await Deno.remove(script);
  }
});
