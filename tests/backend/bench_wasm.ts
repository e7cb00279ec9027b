/**
 * Measurements behind the backend layer's claims (not a test: run it by hand).
 *
 * ```sh
 * deno run --allow-read --allow-write=runs --allow-env tests/backend/bench_wasm.ts \
 *   --backend=wasm --kernels=elbo|stock|filter-only --threads=1|2 --what=mlp|matmul|conv
 * ```
 *
 * - `mlp`: one Adam step of a 784-1024-1024-784 ReLU MLP, batch 128 (ecosystem.md §1);
 * - `matmul`: 1024×1024 · 1024×1024, GFLOP/s;
 * - `conv`: 3×3 conv 16×32×32×64 → 64, forward + backward (stride 1 and 2);
 * - `convgrad`: the same conv's kernels alone: forward, `Conv2DBackpropFilter` (dW) and
 *   `Conv2DBackpropInput` (dX), stride 1 and 2.
 *
 * `--kernels=stock` is tfjs-wasm as shipped, `elbo` has all of elbo's wasm kernels, and
 * `filter-only` adds only `Conv2DBackpropFilter` (so stock `Conv2DBackpropInput` can be timed).
 * Prints one JSON line: median milliseconds per step over `--reps` timed steps.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { initBackend, readScalar, toBackendName } from "../../lib/backend/mod.ts";
import { registerWasmConvGrad } from "../../lib/backend/wasm_conv_grad.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backend: { type: "string", default: "wasm" },
    kernels: { type: "string", default: "elbo" },
    threads: { type: "string", default: "1" },
    what: { type: "string", default: "mlp" },
    reps: { type: "string", default: "5" },
  },
});
const kernels = values.kernels;
if (kernels !== "elbo" && kernels !== "stock" && kernels !== "filter-only") {
  throw new RangeError(`--kernels must be elbo, stock or filter-only: current value is ${kernels}`);
}
const info = await initBackend({
  backend: toBackendName(values.backend, "--backend"),
  threads: Number(values.threads),
  wasmKernels: kernels === "elbo",
  quiet: true,
});
if (kernels === "filter-only") registerWasmConvGrad({ input: false });
const reps = Number(values.reps);

/** Median of `xs`. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Run `step` twice to warm up, then `reps` times; each step is awaited. Median ms. */
async function time(step: () => tf.Scalar): Promise<{ ms: number; all: number[] }> {
  for (let i = 0; i < 2; i++) await readScalar(step(), { dispose: true });
  const all: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await readScalar(step(), { dispose: true });
    all.push(performance.now() - t0);
  }
  return { ms: median(all), all: all.map((x) => +x.toFixed(1)) };
}

const out: Record<string, unknown> = {
  backend: info.name,
  threads: info.threads,
  kernels,
  what: values.what,
};
switch (values.what) {
  case "mlp": {
    const sizes = [784, 1024, 1024, 784];
    const ws = sizes.slice(1).map((n, i) =>
      tf.variable(tf.randomNormal([sizes[i]!, n], 0, Math.sqrt(2 / sizes[i]!), "float32", i))
    );
    const bs = sizes.slice(1).map((n) => tf.variable(tf.zeros([n])));
    const x = tf.randomNormal([128, 784], 0, 1, "float32", 7); // [B, 784]
    const y = tf.randomNormal([128, 784], 0, 1, "float32", 8); // [B, 784]
    const opt = tf.train.adam(1e-3);
    const step = () =>
      opt.minimize(() => {
        let h: tf.Tensor = x;
        ws.forEach((w, i) => {
          h = tf.add(tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D), bs[i]!); // [B, n]
          if (i < ws.length - 1) h = tf.relu(h);
        });
        return tf.mean(tf.square(tf.sub(h, y))) as tf.Scalar;
      }, true) as tf.Scalar;
    Object.assign(out, await time(step));
    break;
  }
  case "matmul": {
    const a = tf.randomNormal([1024, 1024], 0, 1, "float32", 1) as tf.Tensor2D;
    const b = tf.randomNormal([1024, 1024], 0, 1, "float32", 2) as tf.Tensor2D;
    const step = () =>
      tf.tidy(() => tf.sum(tf.slice(tf.matMul(a, b), [0, 0], [1, 1])) as tf.Scalar);
    const r = await time(step);
    Object.assign(out, r, { gflops: +(2 * 1024 ** 3 / (r.ms * 1e6)).toFixed(1) });
    break;
  }
  case "conv": {
    const x = tf.randomNormal([16, 32, 32, 64], 0, 1, "float32", 3) as tf.Tensor4D;
    for (const stride of [1, 2] as const) {
      const w = tf.variable(tf.randomNormal([3, 3, 64, 64], 0, 0.05, "float32", 4)) as tf.Variable<
        tf.Rank.R4
      >;
      const xv = tf.variable(x) as tf.Variable<tf.Rank.R4>;
      const forward = () => tf.tidy(() => tf.sum(tf.conv2d(x, w, stride, "same")) as tf.Scalar);
      const backward = () =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.square(tf.conv2d(xv, w, stride, "same"))) as tf.Scalar,
            [xv, w],
          );
          return tf.add(
            value,
            tf.add(tf.sum(grads[xv.name]!), tf.sum(grads[w.name]!)),
          ) as tf.Scalar;
        });
      out[`forward s${stride}`] = await time(forward);
      out[`forward+backward s${stride}`] = await time(backward);
      tf.dispose([w, xv]);
    }
    break;
  }
  case "convgrad": {
    const x = tf.randomNormal([16, 32, 32, 64], 0, 1, "float32", 3) as tf.Tensor4D; // [N, H, W, Ci]
    const w = tf.randomNormal([3, 3, 64, 64], 0, 0.05, "float32", 4) as tf.Tensor4D; // [3, 3, Ci, Co]
    for (const s of [1, 2]) {
      const dy = tf.randomNormal([16, 32 / s, 32 / s, 64], 0, 1, "float32", 5); // [N, Ho, Wo, Co]
      const attrs = { strides: [s, s], pad: "same", dataFormat: "NHWC" };
      const kernel = (name: string, inputs: tf.NamedTensorMap, extra: tf.NamedAttrMap) => () =>
        tf.tidy(() =>
          tf.sum(
            tf.engine().runKernel(name, inputs, { ...attrs, ...extra }) as tf.Tensor,
          ) as tf.Scalar
        );
      out[`forward s${s}`] = await time(() => tf.tidy(() => tf.sum(tf.conv2d(x, w, s, "same"))));
      if (kernels !== "stock") {
        out[`dW s${s}`] = await time(
          kernel("Conv2DBackpropFilter", { x, dy }, { filterShape: [3, 3, 64, 64] }),
        );
      }
      out[`dX s${s}`] = await time(
        kernel("Conv2DBackpropInput", { dy, filter: w }, { inputShape: [16, 32, 32, 64] }),
      );
      dy.dispose();
    }
    break;
  }
  default:
    throw new RangeError(
      `--what must be mlp, matmul, conv or convgrad: current value is ${values.what}`,
    );
}
console.log(JSON.stringify(out));
