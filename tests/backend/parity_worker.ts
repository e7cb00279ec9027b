/**
 * Backend-parity worker: runs every parity case on ONE backend and prints one JSON line.
 *
 * The backend is chosen once per process, so `parity_test.ts` runs this script once per backend
 * (`deno run … parity_worker.ts <cpu|wasm|webgpu> [--stock]`) and compares the outputs.
 * `--stock` starts wasm without elbo's kernels, to show which cases stock tfjs-wasm cannot run;
 * `--native` asks for the native BLAS kernels (run it with `--allow-ffi`), which are off otherwise.
 * Inputs come from a seeded generator, so every backend sees the same numbers.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { initBackend, readArray, toBackendName } from "../../lib/backend/mod.ts";
import { fusedLinear } from "../../lib/nodes/fused_linear.ts";
import { activate } from "../../lib/nodes/layers.ts";

/** One case's result: the forward value and the gradient of sum(value · r) per input. */
export interface CaseResult {
  value: number[];
  grads: number[][];
}

/** The worker's output line. */
export interface WorkerOutput {
  backend: string;
  /** The native BLAS library in use, or `null`. */
  native: string | null;
  cases: Record<string, CaseResult | { error: string }>;
  /** Live tensors and backend data ids after all cases minus before (0 = no leak). */
  leakedTensors: number;
  leakedDataIds: number;
}

/** mulberry32: a tiny seeded PRNG, uniform in [-1, 1). */
function uniform(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** A seeded float tensor of `shape`. */
function rand(seed: number, shape: number[]): tf.Tensor {
  return tf.tensor(uniform(seed, shape.reduce((a, b) => a * b, 1)), shape);
}

/** Value of f(...xs) and the gradient of sum(f · r) for a fixed random r, w.r.t. each x. */
async function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  seed: number,
): Promise<CaseResult> {
  const value = tf.tidy(() => f(...xs));
  const r = rand(seed + 999, value.shape);
  const grads = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), r)))(xs);
  const result = {
    value: [...await readArray(value)],
    grads: await Promise.all(grads.map(async (g) => [...await readArray(g)])),
  };
  tf.dispose([value, r, ...grads]);
  return result;
}

/** Every parity case: name → (seeded) computation. */
function cases(): Record<string, () => Promise<CaseResult>> {
  const all: Record<string, () => Promise<CaseResult>> = {};
  const withInputs = (
    name: string,
    shapes: number[][],
    f: (...xs: tf.Tensor[]) => tf.Tensor,
  ) => {
    all[name] = async () => {
      const xs = shapes.map((s, i) => rand(name.length * 31 + i * 7 + 1, s));
      try {
        return await valueAndGrads(f, xs, name.length);
      } finally {
        tf.dispose(xs);
      }
    };
  };

  // matmul: all 4 transpose combinations, 2-D and batched 3-D, shapes chosen so that the wasm
  // wrapper takes both of its plans ("inputs" and "output", see chooseMatMulPlan).
  const M = 5, K = 7, N = 4;
  for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    const a2 = tA ? [K, M] : [M, K], b2 = tB ? [N, K] : [K, N];
    withInputs(
      `matmul2d tA=${tA} tB=${tB}`,
      [a2, b2],
      (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB),
    );
    withInputs(
      `matmul3d tA=${tA} tB=${tB}`,
      [[3, ...a2], [3, ...b2]],
      (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, tA, tB),
    );
  }
  // dX = dY·Wᵀ with a wide weight ("output" plan), dW = Xᵀ·dY ("inputs" plan), broadcast batch
  withInputs(
    "matmul2d small·bigᵀ",
    [[2, 16], [24, 16]],
    (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true),
  );
  withInputs(
    "matmul2d bigᵀ·small",
    [[16, 24], [16, 2]],
    (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, false),
  );
  all["matmul3d broadcast batch tB (value only)"] = async () => {
    // tfjs 4.22's BatchMatMul gradient does not reduce broadcast batch axes (on every backend)
    const a = rand(51, [1, 5, 7]), b = rand(52, [3, 4, 7]);
    const y = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true);
    const value = [...await readArray(y)];
    tf.dispose([a, b, y]);
    return { value, grads: [] };
  };
  withInputs("fused matmul tB + bias + relu", [[5, 7], [4, 7], [4]], (a, b, c) =>
    tf.fused.matMul({
      a: a as tf.Tensor2D,
      b: b as tf.Tensor2D,
      transposeB: true,
      bias: c,
      activation: "relu",
    }));

  // elbo's dense layer: _FusedMatMul with a registered (lazy) gradient
  withInputs("fusedLinear", [[5, 7], [7, 4], [4]], (x, W, b) => fusedLinear(x, W, b));

  // elbo's SiLU (one WGSL dispatch each way on webgpu, tfjs ops elsewhere), over [-8, 8)
  withInputs("silu", [[37, 29]], (x) => activate(tf.mul(x, 8), "silu"));

  // conv2d: stride 1 and 2, same and valid, odd and even kernels, odd image sizes
  type Pad = "same" | "valid" | [[0, 0], [number, number], [number, number], [0, 0]];
  const convs: [string, number[], number[], number | [number, number], Pad][] = [
    ["3x3 s1 same", [2, 7, 6, 3], [3, 3, 3, 4], 1, "same"],
    ["3x3 s1 valid", [2, 7, 6, 3], [3, 3, 3, 4], 1, "valid"],
    ["3x3 s2 same", [2, 7, 6, 3], [3, 3, 3, 4], 2, "same"],
    ["3x3 s2 valid", [2, 7, 6, 3], [3, 3, 3, 4], 2, "valid"],
    ["4x4 s2 same", [1, 8, 8, 2], [4, 4, 2, 3], 2, "same"],
    ["1x1 s2 same odd", [2, 7, 7, 5], [1, 1, 5, 3], 2, "same"],
    ["5x3 s1 same", [1, 6, 9, 16], [5, 3, 16, 8], 1, "same"],
    ["3x3 s(1,2) same", [2, 5, 7, 3], [3, 3, 3, 2], [1, 2], "same"],
    ["2x2 s2 valid", [2, 6, 7, 4], [2, 2, 4, 3], 2, "valid"],
    ["3x3 s3 valid", [1, 10, 8, 2], [3, 3, 2, 3], 3, "valid"],
    ["3x3 s2 explicit pad", [2, 7, 6, 3], [3, 3, 3, 4], 2, [[0, 0], [2, 1], [0, 2], [0, 0]]],
  ];
  for (const [name, xs, ws, stride, pad] of convs) {
    withInputs(
      `conv2d ${name}`,
      [xs, ws],
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
    );
  }
  withInputs(
    "conv2dTranspose 3x3 s2 same",
    [[2, 4, 3, 4], [3, 3, 3, 4]],
    (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 6, 3], 2, "same"),
  );
  withInputs(
    "conv2dTranspose 4x4 s2 same",
    [[1, 4, 4, 3], [4, 4, 2, 3]],
    (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [1, 8, 8, 2], 2, "same"),
  );

  // tile / broadcastTo (elbo's block-copy Tile on wasm): a column to rows, a scalar, rank 3
  withInputs("tile [4,1] x [1,5]", [[4, 1]], (x) => tf.tile(x, [1, 5]));
  withInputs("tile [2,3,2] x [2,1,3]", [[2, 3, 2]], (x) => tf.tile(x, [2, 1, 3]));
  withInputs("broadcastTo [3,1] -> [3,7]", [[3, 1]], (x) => tf.broadcastTo(x, [3, 7]));
  withInputs("broadcastTo [] -> [2,3]", [[]], (x) => tf.broadcastTo(x, [2, 3]));
  all["tile int32 (value only)"] = async () => {
    const x = tf.tensor2d([[1, 2], [3, 4]], [2, 2], "int32");
    const y = tf.tile(x, [3, 2]);
    const value = [...await readArray(y)];
    tf.dispose([x, y]);
    return { value, grads: [] };
  };

  // sin and cos (elbo's polynomial kernels on wasm), small and timestep-sized arguments
  withInputs("sin, cos of x", [[3, 5]], (x) => tf.add(tf.sin(x), tf.mul(tf.cos(x), 2)));
  withInputs("sin, cos of 1000x", [[4, 16]], (x) => {
    const big = tf.mul(x, 1000);
    return tf.concat([tf.sin(big), tf.cos(big)], 1);
  });

  // gather (embedding lookup) and its gradient, UnsortedSegmentSum
  const table = () => rand(11, [10, 4]);
  all["gather embedding"] = async () => {
    const t = table();
    const ids = tf.tensor1d([3, 0, 3, 9, 1, 3], "int32");
    try {
      return await valueAndGrads((x) => tf.gather(x, ids), [t], 5);
    } finally {
      tf.dispose([t, ids]);
    }
  };
  all["gather 2-D ids"] = async () => {
    const t = table();
    const ids = tf.tensor2d([[1, 2, 2], [7, 1, 0]], [2, 3], "int32");
    try {
      return await valueAndGrads((x) => tf.gather(x, ids), [t], 6);
    } finally {
      tf.dispose([t, ids]);
    }
  };
  all["unsortedSegmentSum float32"] = async () => {
    const x = rand(12, [6, 3]);
    const ids = tf.tensor1d([2, 0, 2, 4, 1, 2], "int32");
    try {
      return await valueAndGrads((v) => tf.unsortedSegmentSum(v, ids, 5), [x], 7);
    } finally {
      tf.dispose([x, ids]);
    }
  };
  all["unsortedSegmentSum int32"] = async () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]], [4, 2], "int32");
    const ids = tf.tensor1d([1, 1, 0, 2], "int32");
    const y = tf.unsortedSegmentSum(x, ids, 3);
    const value = [...await readArray(y)];
    tf.dispose([x, ids, y]);
    return { value, grads: [] };
  };
  return all;
}

async function main(): Promise<void> {
  const backend = toBackendName(Deno.args[0] ?? "", "the first argument");
  const stock = Deno.args.includes("--stock");
  const native = Deno.args.includes("--native");
  const info = await initBackend({ backend, quiet: true, threads: 2, wasmKernels: !stock, native });
  // tfjs-webgpu runs ops with small CPU-resident inputs on the CPU; force every op onto the GPU.
  if (info.name === "webgpu") tf.env().set("WEBGPU_CPU_FORWARD", false);
  const before = { tensors: tf.memory().numTensors, ids: tf.engine().backend.numDataIds() };
  const out: WorkerOutput["cases"] = {};
  const all = cases();
  for (const [name, run] of Object.entries(all)) {
    try {
      out[name] = await run();
    } catch (e) {
      out[name] = { error: e instanceof Error ? e.message : String(e) };
    }
  }
  const result: WorkerOutput = {
    backend: info.name,
    native: info.native,
    cases: out,
    leakedTensors: tf.memory().numTensors - before.tensors,
    leakedDataIds: tf.engine().backend.numDataIds() - before.ids,
  };
  console.log(JSON.stringify(result));
}

await main();
