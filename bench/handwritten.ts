/**
 * Hand-written TensorFlow.js versions of the reference workloads A, B and C (definitions:
 * `/work/shared/bench/README.md`; constants: `./workloads.ts`), and a timing CLI.
 *
 * The step builders are exported so the framework benchmark can run the same work through elbo and
 * report the framework's overhead against these.
 *
 * ```sh
 * deno run -A bench/handwritten.ts --backend wasm --native on --workload A --json
 * deno run -A bench/handwritten.ts --backend wasm --native off --threads 2 --dense customgrad
 * ```
 *
 * Options: `--backend cpu|wasm|webgpu` (default wasm), `--native on|off` (OpenBLAS kernels, default
 * on for cpu/wasm), `--workload A|B|C` (default A), `--threads N` (wasm XNNPACK threads, default
 * 1), `--blas-threads N` (default: number of CPUs), `--omp-wait passive|active|inherit` (OpenMP
 * wait policy of the BLAS threads, default passive), `--dense plain|fused|customgrad` (default
 * fused with native BLAS, customgrad on stock wasm, plain otherwise),
 * `--adam tfjs|fused` (default fused), `--rng tfjs|fast` (default fast), `--warmup N`, `--steps N`
 * (per window), `--windows N` (default 5), `--json` (print only the JSON line), `--json-file F`
 * (also append it to F), `--profile` (print the per-kernel time of one step instead of timing).
 *
 * Timing: `warmup` steps, then `windows` windows of `steps` steps each; a window ends by reading
 * the last loss back (`await loss.data()`), so asynchronous backends are fully counted. The run
 * reports the median window.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import {
  DIFFUSION_STEPS,
  EVAL_BATCH,
  LAYERS_A,
  LAYERS_B,
  linearScheduleTables,
  LR_A,
  LR_B,
  PIXELS,
  TIME_EMBED,
  TRAIN_BATCH,
  VAE_LATENT,
  type WorkloadName,
  WORKLOADS,
  type WorkloadSpec,
} from "./workloads.ts";
import { FusedAdamOptimizer } from "../lib/backend/native_adam.ts";
import { GaussianStream } from "../lib/backend/native_random.ts";
import type { Tensor } from "../lib/types.ts";

export type { Tensor } from "../lib/types.ts";
export type { WorkloadName, WorkloadSpec } from "./workloads.ts";

/**
 * How a Linear layer is written.
 *
 * - `plain`: `tf.add(tf.matMul(x, W), b)`, tfjs autodiff (the natural way; transposed matmuls in
 *   the backward pass);
 * - `fused`: `tf.fused.matMul({ a: x, b: W, bias })` (one `_FusedMatMul` kernel forward; the bias
 *   is added by the matmul itself);
 * - `customgrad`: a `tf.customGrad` matmul whose backward pass uses only untransposed matmuls
 *   (dX = (W dy^T)^T, dW = x^T dy): the fix for stock tfjs-wasm's slow transposed matmul
 *   (`/work/shared/bench/RESULTS.md` §4.1).
 */
export type DenseMode = "plain" | "fused" | "customgrad";

/**
 * Which Adam: tfjs's `tf.train.adam` (13 elementwise ops per variable, each a new tensor) or
 * {@linkcode FusedAdamOptimizer} (one in-place pass over each variable's memory on cpu and wasm,
 * one in-place dispatch per variable on webgpu).
 */
export type AdamMode = "tfjs" | "fused";

/**
 * Where the per-step Gaussian noise comes from: `tf.randomNormal` (alea + polar method in JS,
 * about 40 ns per value) or {@linkcode GaussianStream} (xoshiro128** + ziggurat, about 5 ns, written
 * into the tensor's memory on cpu and wasm).
 */
export type RngMode = "tfjs" | "fast";

/** Options of the step builders. */
export interface WorkloadOptions {
  /**
   * How Linear layers are written (on stock tfjs-wasm, without native BLAS, use `customgrad` for
   * training: its transposed matmul is slow).
   * @default {"fused"}
   */
  dense?: DenseMode;
  /**
   * Which Adam implementation (training workloads only).
   * @default {"fused"}
   */
  adam?: AdamMode;
  /**
   * Which Gaussian noise generator.
   * @default {"fast"}
   */
  rng?: RngMode;
  /**
   * Batch size.
   * @default {128 for A and B, 1000 for C}
   */
  batch?: number;
  /**
   * Seed of the initial weights, the fixed data batch and the `fast` noise stream (`tfjs` noise
   * and the timesteps are unseeded, drawn by tfjs inside every step).
   * @default {0}
   */
  seed?: number;
}

/** A built workload: call `step()` repeatedly, then `dispose()`. */
export interface Workload {
  /** The workload's constants (items per step, GFLOP per step). */
  spec: WorkloadSpec;
  /** Runs one step; returns the loss (A, B: scalar) or the per-sample error (C: `[batch]`). */
  step(): Tensor;
  /** Frees the weights, optimiser state and fixed data. */
  dispose(): void;
}

/** The workload's constants scaled to a batch size (FLOPs grow linearly with the batch). */
function specFor(name: WorkloadName, batch: number): WorkloadSpec {
  const base = WORKLOADS[name];
  return { ...base, items: batch, gflopPerStep: base.gflopPerStep * batch / base.items };
}

/** A Linear layer's weights. */
interface Dense {
  W: tf.Variable; // [in, out]
  b: tf.Variable; // [out]
}

function dense(inDim: number, outDim: number, seed: number): Dense {
  return tf.tidy(() => ({
    // Glorot-free plain init N(0, 1/in): throughput does not depend on it.
    W: tf.variable(tf.randomNormal([inDim, outDim], 0, Math.sqrt(1 / inDim), "float32", seed)),
    b: tf.variable(tf.zeros([outDim])),
  }));
}

function disposeLayers(layers: readonly Dense[]): void {
  for (const { W, b } of layers) tf.dispose([W, b]);
}

type MatMul2D = (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** Matmul whose gradient uses only untransposed matmuls; `noDx` skips the input gradient. */
function customGradMatMul(noDx: boolean): MatMul2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([x, w]);
    return {
      value: tf.matMul(x, w), // [B, out]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dx = noDx
          ? tf.zerosLike(xs)
          : tf.transpose(tf.matMul(ws, tf.transpose(dy as tf.Tensor2D))); // [B, in]
        const dw = tf.matMul(tf.transpose(xs), dy as tf.Tensor2D); // [in, out]
        return [dx, dw];
      },
    };
  });
  return (x, w) => f(x, w) as tf.Tensor2D;
}

/**
 * Linear layer y = x W + b (+ extra, a `[B, out]` term added before the activation), written the
 * way `mode` says. `noDx` marks layers whose input is not trainable (only `customgrad` needs it;
 * autodiff skips those gradients by itself).
 */
function makeLinear(mode: DenseMode) {
  const cg = customGradMatMul(false);
  const cgNoDx = customGradMatMul(true);
  return (L: Dense, x: tf.Tensor2D, extra?: tf.Tensor2D, noDx = false): tf.Tensor2D => {
    switch (mode) {
      case "plain": {
        const y = tf.add(tf.matMul(x, L.W as tf.Tensor2D), L.b); // [B, out]
        return (extra === undefined ? y : tf.add(y, extra)) as tf.Tensor2D;
      }
      case "fused": {
        // A rank-1 bias works on every backend (stock tfjs-wasm's kernel takes no other).
        const y = tf.fused.matMul({ a: x, b: L.W as tf.Tensor2D, bias: L.b }) as tf.Tensor2D;
        return extra === undefined ? y : tf.add(y, extra); // [B, out]
      }
      case "customgrad": {
        const y = tf.add((noDx ? cgNoDx : cg)(x, L.W as tf.Tensor2D), L.b); // [B, out]
        return (extra === undefined ? y : tf.add(y, extra)) as tf.Tensor2D;
      }
      default: {
        const never: never = mode;
        throw new TypeError(`Unknown dense mode ${String(never)}`);
      }
    }
  };
}

/** SiLU(x) = x sigmoid(x) (Elfwing et al. 2018). */
function silu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.sigmoid(x));
}

/** The per-step N(0, I) noise of the given shape, drawn as `mode` says. */
function makeNoise(mode: RngMode, seed: number): (shape: number[]) => tf.Tensor {
  switch (mode) {
    case "tfjs":
      return (shape) => tf.randomNormal(shape);
    case "fast": {
      const stream = new GaussianStream(seed);
      return (shape) => stream.tensor(shape);
    }
    default: {
      const never: never = mode;
      throw new TypeError(`Unknown rng mode ${String(never)}`);
    }
  }
}

function makeAdam(mode: AdamMode, lr: number): tf.Optimizer {
  switch (mode) {
    case "tfjs":
      return tf.train.adam(lr);
    case "fused":
      return new FusedAdamOptimizer(lr);
    default: {
      const never: never = mode;
      throw new TypeError(`Unknown adam mode ${String(never)}`);
    }
  }
}

/** A's eps network, its schedule tables, and the fixed x0 batch. */
function buildEpsNetwork(options: WorkloadOptions, batch: number) {
  const seed = options.seed ?? 0;
  const layers = LAYERS_A.map(([i, o], k) => dense(i, o, seed + 1 + k));
  const [e1, e2, l1, l2, l3, lo] = layers as [Dense, Dense, Dense, Dense, Dense, Dense];
  const linear = makeLinear(options.dense ?? "fused");
  const half = TIME_EMBED / 2;
  const freqs = tf.tensor2d( // [1, 64]: exp(-ln(10000) i / 64)
    Array.from({ length: half }, (_, i) => Math.exp(-Math.log(10000) * i / half)),
    [1, half],
  );
  const tables = linearScheduleTables(DIFFUSION_STEPS);
  const sqrtAbar = tf.tensor1d(Float32Array.from(tables.sqrtAbar)); // [T]
  const sqrtOneMinusAbar = tf.tensor1d(Float32Array.from(tables.sqrtOneMinusAbar)); // [T]
  const x0 = tf.randomUniform([batch, PIXELS], -1, 1, "float32", seed); // [B, D]
  const noise = makeNoise(options.rng ?? "fast", seed + 100);

  /** eps_hat(x_t, t) for float t in 1..T. */
  function net(xt: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    const arg = tf.matMul(tf.reshape(t, [-1, 1]) as tf.Tensor2D, freqs); // [B, 64]
    const emb = tf.concat([tf.sin(arg), tf.cos(arg)], 1) as tf.Tensor2D; // [B, 128]
    const temb = linear(e2, silu(linear(e1, emb, undefined, true))); // [B, H]
    let h = silu(linear(l1, xt, temb, true)); // [B, H]
    h = silu(linear(l2, h, temb)); // [B, H]
    h = silu(linear(l3, h, temb)); // [B, H]
    return linear(lo, h); // [B, D]
  }

  /** t ~ U{1..T}, eps ~ N(0, I), x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps. */
  function diffuse() {
    const tIdx = tf.randomUniform([batch], 0, DIFFUSION_STEPS, "int32") as tf.Tensor1D; // t - 1
    const eps = noise([batch, PIXELS]) as tf.Tensor2D; // [B, D]
    const a = tf.reshape(tf.gather(sqrtAbar, tIdx), [-1, 1]); // [B, 1]
    const s = tf.reshape(tf.gather(sqrtOneMinusAbar, tIdx), [-1, 1]); // [B, 1]
    const xt = tf.add(tf.mul(a, x0), tf.mul(s, eps)) as tf.Tensor2D; // [B, D]
    const t = tf.add(tf.cast(tIdx, "float32"), 1) as tf.Tensor1D; // [B], 1..T
    return { xt, eps, t };
  }

  function dispose(): void {
    disposeLayers(layers);
    tf.dispose([freqs, sqrtAbar, sqrtOneMinusAbar, x0]);
  }
  return { net, diffuse, dispose };
}

/**
 * Workload A: one DDPM training step (eps-prediction MSE, Ho et al. 2020 Eq. 14) of the
 * 4.89 M-parameter MLP with Adam 2e-4, batch 128.
 *
 * @param options Layer style, Adam implementation, batch, seed.
 * @returns The step function (returns the scalar loss) and `dispose`.
 *
 * @example One step on the cpu backend
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkloadA } from "./handwritten.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeWorkloadA({ batch: 8 });
 * const loss = work.step();
 * console.log(await loss.data()); // about 1 at initialisation
 * loss.dispose();
 * work.dispose();
 * ```
 */
export function makeWorkloadA(options: WorkloadOptions = {}): Workload {
  const batch = options.batch ?? TRAIN_BATCH;
  const model = buildEpsNetwork(options, batch);
  const opt = makeAdam(options.adam ?? "fused", LR_A);
  return {
    spec: specFor("A", batch),
    step: () =>
      tf.tidy(() => {
        const { xt, eps, t } = model.diffuse();
        return opt.minimize(() => {
          const pred = model.net(xt, t); // [B, D]
          return tf.mean(tf.squaredDifference(pred, eps)) as tf.Scalar;
        }, true) as tf.Scalar;
      }),
    dispose: () => {
      model.dispose();
      opt.dispose();
    },
  };
}

/**
 * Workload C: the forward pass of A's network on a batch of 1000, reduced to each sample's squared
 * error (what exact-NLL evaluation repeats T times). No gradient.
 *
 * @param options Layer style, batch, seed (`adam` is ignored).
 * @returns The step function (returns the `[batch]` squared errors) and `dispose`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkloadC } from "./handwritten.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeWorkloadC({ batch: 16 });
 * const sse = work.step(); // [16]
 * console.log((await sse.data()).length); // 16
 * sse.dispose();
 * work.dispose();
 * ```
 */
export function makeWorkloadC(options: WorkloadOptions = {}): Workload {
  const batch = options.batch ?? EVAL_BATCH;
  const model = buildEpsNetwork(options, batch);
  return {
    spec: specFor("C", batch),
    step: () =>
      tf.tidy(() => {
        const { xt, eps, t } = model.diffuse();
        const pred = model.net(xt, t); // [B, D]
        return tf.sum(tf.squaredDifference(pred, eps), 1); // [B]
      }),
    dispose: () => model.dispose(),
  };
}

/**
 * Workload B: one VAE training step (Kingma & Welling 2014, Eq. 10: Bernoulli reconstruction
 * term plus analytic Gaussian KL) with Adam 1e-3, batch 128.
 *
 * @param options Layer style, Adam implementation, batch, seed.
 * @returns The step function (returns the scalar negative ELBO per sample) and `dispose`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkloadB } from "./handwritten.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeWorkloadB({ batch: 8 });
 * const loss = work.step();
 * console.log(await loss.data()); // about 540 at initialisation
 * loss.dispose();
 * work.dispose();
 * ```
 */
export function makeWorkloadB(options: WorkloadOptions = {}): Workload {
  const batch = options.batch ?? TRAIN_BATCH;
  const seed = options.seed ?? 0;
  const layers = LAYERS_B.map(([i, o], k) => dense(i, o, seed + 11 + k));
  const [l1, l2, l3, l4] = layers as [Dense, Dense, Dense, Dense];
  const linear = makeLinear(options.dense ?? "fused");
  const x = tf.tidy(() =>
    // [B, D] binary
    tf.cast(tf.greater(tf.randomUniform([batch, PIXELS], 0, 1, "float32", seed), 0.5), "float32")
  ) as tf.Tensor2D;
  const opt = makeAdam(options.adam ?? "fused", LR_B);
  const noise = makeNoise(options.rng ?? "fast", seed + 100);
  const L = VAE_LATENT;
  return {
    spec: specFor("B", batch),
    step: () =>
      tf.tidy(() => {
        const eps = noise([batch, L]); // [B, 32]
        return opt.minimize(() => {
          const h = tf.relu(linear(l1, x, undefined, true)) as tf.Tensor2D; // [B, 512]
          const st = linear(l2, h); // [B, 64]
          const mu = tf.slice(st, [0, 0], [-1, L]); // [B, 32]
          const logvar = tf.slice(st, [0, L], [-1, L]); // [B, 32]
          const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps)) as tf.Tensor2D; // [B, 32]
          const h2 = tf.relu(linear(l3, z)) as tf.Tensor2D; // [B, 512]
          const logits = linear(l4, h2); // [B, D]
          // BCE with logits, stable form: max(l, 0) - l x + log(1 + exp(-|l|))
          const bce = tf.add(
            tf.sub(tf.relu(logits), tf.mul(logits, x)),
            tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
          ); // [B, D]
          const rec = tf.sum(bce, 1); // [B]
          // KL(N(mu, exp(logvar)) || N(0, I)) = -1/2 sum(1 + logvar - mu^2 - exp(logvar))
          const kl = tf.mul(
            -0.5,
            tf.sum(tf.sub(tf.sub(tf.add(1, logvar), tf.square(mu)), tf.exp(logvar)), 1),
          ); // [B]
          return tf.mean(tf.add(rec, kl)) as tf.Scalar;
        }, true) as tf.Scalar;
      }),
    dispose: () => {
      disposeLayers(layers);
      x.dispose();
      opt.dispose();
    },
  };
}

/**
 * Builds workload A, B or C.
 *
 * @param name Which workload.
 * @param options Layer style, Adam implementation, batch, seed.
 * @returns The built workload.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkload } from "./handwritten.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeWorkload("B", { dense: "plain", batch: 4 });
 * console.log(work.spec.gflopPerStep); // 0.552 GFLOP per step at batch 128, so 0.0172 at 4
 * work.dispose();
 * ```
 */
export function makeWorkload(name: WorkloadName, options: WorkloadOptions = {}): Workload {
  switch (name) {
    case "A":
      return makeWorkloadA(options);
    case "B":
      return makeWorkloadB(options);
    case "C":
      return makeWorkloadC(options);
    default: {
      const never: never = name;
      throw new TypeError(`Unknown workload ${String(never)}`);
    }
  }
}

/** Throughput of a timed run. */
export interface TimingResult {
  /** Items per second of each window. */
  rates: number[];
  /** Median of `rates`. */
  median: number;
  /** First value of the last output of each window (the loss for A and B). */
  lastValues: number[];
}

/**
 * Times a workload: `warmup` steps, then `windows` windows of `steps` steps; each window ends by
 * reading the last output back, so queued work is counted.
 *
 * @param work The workload.
 * @param options Warm-up steps, steps per window, windows.
 * @returns Items/s per window and their median.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkloadB, timeWorkload } from "./handwritten.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeWorkloadB({ batch: 4 });
 * const { median } = await timeWorkload(work, { warmup: 1, steps: 2, windows: 1 });
 * console.log(`${median.toFixed(0)} samples/s`);
 * work.dispose();
 * ```
 */
export async function timeWorkload(
  work: Workload,
  options: { warmup?: number; steps?: number; windows?: number } = {},
): Promise<TimingResult> {
  const warmup = options.warmup ?? 3;
  const steps = options.steps ?? 10;
  const windows = options.windows ?? 5;
  for (let i = 0; i < warmup; i++) {
    const out = work.step();
    await out.data();
    out.dispose();
  }
  const rates: number[] = [];
  const lastValues: number[] = [];
  for (let w = 0; w < windows; w++) {
    const [rate, value] = await timeWindow(work, steps);
    rates.push(rate);
    lastValues.push(value);
  }
  const sorted = [...rates].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1
    ? sorted[mid] ?? NaN
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return { rates, median, lastValues };
}

/**
 * One timing window: runs `steps` steps, reads the last output back (so queued work finishes),
 * and returns items/s and the output's first value.
 *
 * @param work The workload.
 * @param steps Steps in the window.
 * @returns `[items per second, first value of the last output]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkloadB, timeWindow } from "./handwritten.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeWorkloadB({ batch: 4 });
 * const [rate] = await timeWindow(work, 2);
 * console.log(`${rate.toFixed(0)} samples/s`);
 * work.dispose();
 * ```
 */
export async function timeWindow(work: Workload, steps: number): Promise<[number, number]> {
  const t0 = performance.now();
  let last: tf.Tensor | null = null;
  for (let i = 0; i < steps; i++) {
    last?.dispose();
    last = work.step();
  }
  const values = last === null ? new Float32Array() : await last.data();
  const seconds = (performance.now() - t0) / 1000;
  last?.dispose();
  return [work.spec.items * steps / seconds, Number(values[0])];
}

// ------------------------------------------------------------------ CLI

async function setUpBackend(
  backend: string,
  wasmThreads: number,
): Promise<string> {
  switch (backend) {
    case "cpu":
      if (!(await tf.setBackend("cpu"))) throw new Error("Cannot start the cpu backend");
      return "";
    case "wasm": {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      const { prepareWasmThreads } = await import("../lib/backend/wasm_threads.ts");
      const shim = prepareWasmThreads(wasmThreads);
      wasm.setThreadsCount(shim.threads);
      try {
        if (!(await tf.setBackend("wasm"))) throw new Error("Cannot start the wasm backend");
      } finally {
        shim.restore();
      }
      await tf.ready();
      return `wasm threads=${wasm.getThreadsCount()}${shim.reason ? ` (${shim.reason})` : ""}`;
    }
    case "webgpu": {
      await import("@tensorflow/tfjs-backend-webgpu");
      if (!(await tf.setBackend("webgpu"))) throw new Error("Cannot start the webgpu backend");
      return "";
    }
    default:
      throw new RangeError(
        `Cannot run the benchmark as '--backend' must be cpu, wasm or webgpu: current value is ${backend}`,
      );
  }
}

/** Default [warmup, steps per window] per backend and workload (a window of roughly 1-3 s). */
const DEFAULT_STEPS: Record<string, Record<WorkloadName, [number, number]>> = {
  native: { A: [5, 40], B: [10, 150], C: [3, 15] },
  wasm: { A: [2, 5], B: [5, 20], C: [1, 2] },
  cpu: { A: [1, 2], B: [2, 5], C: [1, 1] },
  webgpu: { A: [2, 3], B: [3, 10], C: [1, 1] },
};

async function profileStep(work: Workload): Promise<void> {
  const warm = work.step();
  await warm.data();
  warm.dispose();
  const info = await tf.profile(async () => {
    const out = work.step();
    await out.data();
    out.dispose();
  });
  const byKernel = new Map<string, { ms: number; count: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    // "<op>__op" entries are custom-gradient ops that contain the kernels they run.
    if (!k.name.endsWith("__op")) total += ms;
    const e = byKernel.get(k.name) ?? { ms: 0, count: 0 };
    e.ms += ms;
    e.count += 1;
    byKernel.set(k.name, e);
  }
  const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
  console.log(
    `kernels: ${info.kernels.length}, kernel time ${total.toFixed(1)} ms (x__op rows contain ` +
      `their kernels and are not added)`,
  );
  for (const [name, { ms, count }] of rows) {
    console.log(`${name.padEnd(24)} ${ms.toFixed(2).padStart(8)} ms  x${count}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backend: { type: "string", default: "wasm" },
      native: { type: "string" },
      workload: { type: "string", default: "A" },
      threads: { type: "string", default: "1" },
      "blas-threads": { type: "string" },
      dense: { type: "string" },
      "omp-wait": { type: "string", default: "passive" },
      adam: { type: "string" },
      rng: { type: "string" },
      warmup: { type: "string" },
      steps: { type: "string" },
      windows: { type: "string", default: "5" },
      json: { type: "boolean", default: false },
      "json-file": { type: "string" },
      profile: { type: "boolean", default: false },
      tag: { type: "string" },
    },
  });
  const backend = values.backend;
  const workload = values.workload.toUpperCase();
  if (workload !== "A" && workload !== "B" && workload !== "C") {
    throw new RangeError(
      `Cannot run the benchmark as '--workload' must be A, B or C: current value is ${workload}`,
    );
  }
  const nativeWanted = (values.native ?? (backend === "webgpu" ? "off" : "on")) === "on";
  // Stock wasm: the custom-gradient matmul (its transposed matmul is slow, and its _FusedMatMul
  // takes only a rank-1 bias).
  const dense = values.dense ??
    (nativeWanted ? "fused" : backend === "wasm" ? "customgrad" : "plain");
  if (dense !== "plain" && dense !== "fused" && dense !== "customgrad") {
    throw new RangeError(
      `Cannot run the benchmark as '--dense' must be plain, fused or customgrad: current value is ${dense}`,
    );
  }
  const adam = values.adam ?? "fused";
  if (adam !== "tfjs" && adam !== "fused") {
    throw new RangeError(
      `Cannot run the benchmark as '--adam' must be tfjs or fused: current value is ${adam}`,
    );
  }
  const rng = values.rng ?? "fast";
  if (rng !== "tfjs" && rng !== "fast") {
    throw new RangeError(
      `Cannot run the benchmark as '--rng' must be tfjs or fast: current value is ${rng}`,
    );
  }
  tf.env().set("PROD", true);
  const wasmThreads = Number(values.threads);
  const note = await setUpBackend(backend, wasmThreads);
  let nativeNote = "off";
  if (nativeWanted) {
    if (backend !== "cpu" && backend !== "wasm") {
      throw new RangeError(`Cannot enable native BLAS on ${backend}: use cpu or wasm`);
    }
    const { enableNativeBlas } = await import("../lib/backend/native_blas.ts");
    const blasThreads = values["blas-threads"] === undefined
      ? navigator.hardwareConcurrency
      : Number(values["blas-threads"]);
    const ompWaitPolicy = values["omp-wait"];
    if (ompWaitPolicy !== "passive" && ompWaitPolicy !== "active" && ompWaitPolicy !== "inherit") {
      throw new RangeError(
        `Cannot run the benchmark as '--omp-wait' must be passive, active or inherit: current value is ${ompWaitPolicy}`,
      );
    }
    const info = enableNativeBlas(backend, { threads: blasThreads, ompWaitPolicy });
    if (!info.enabled) throw new Error(`Native BLAS requested but off: ${info.reason}`);
    nativeNote = `${info.library} threads=${blasThreads} OMP_WAIT_POLICY=${
      Deno.env.get("OMP_WAIT_POLICY") ?? "(unset)"
    }`;
  }
  const work = makeWorkload(workload, { dense, adam, rng });
  if (values.profile) {
    await profileStep(work);
    work.dispose();
    return;
  }
  const defaults = DEFAULT_STEPS[nativeWanted ? "native" : backend] ?? DEFAULT_STEPS["wasm"]!;
  const [dw, ds] = defaults[workload];
  const warmup = values.warmup === undefined ? dw : Number(values.warmup);
  const steps = values.steps === undefined ? ds : Number(values.steps);
  const windows = Number(values.windows);
  const t0 = performance.now();
  const r = await timeWorkload(work, { warmup, steps, windows });
  const impl = `tfjs-${backend}${backend === "wasm" ? `-t${wasmThreads}` : ""}${
    nativeWanted ? `-native_${values["omp-wait"]}` : ""
  }-${dense}-adam_${adam}-rng_${rng}${values.tag ? `-${values.tag}` : ""}`;
  const out = {
    workload,
    impl,
    threads: backend === "wasm" ? wasmThreads : 1,
    samplesPerSec: Math.round(r.median * 10) / 10,
    min: Math.round(Math.min(...r.rates)),
    max: Math.round(Math.max(...r.rates)),
    rates: r.rates.map((x) => Math.round(x)),
    achievedGflops: Math.round(work.spec.gflopPerStep * r.median / work.spec.items * 10) / 10,
    lastValues: r.lastValues.map((v) => Math.round(v * 1e4) / 1e4),
    warmup,
    stepsPerWindow: steps,
    windows,
    backendNote: note,
    native: nativeNote,
    numTensors: tf.memory().numTensors,
    wallS: Math.round((performance.now() - t0) / 100) / 10,
    ts: new Date().toISOString(),
  };
  work.dispose();
  const line = JSON.stringify(out);
  if (values.json) console.log(line);
  else {
    console.log(
      `${workload} ${impl}: ${out.samplesPerSec} ${work.spec.unit} ` +
        `[${out.min}..${out.max}], ${out.achievedGflops} GFLOP/s`,
    );
    console.log(line);
  }
  if (values["json-file"] !== undefined) {
    Deno.writeTextFileSync(values["json-file"], line + "\n", { append: true });
  }
}

if (import.meta.main) {
  await main();
  Deno.exit(0); // wasm pthread workers would keep the process alive
}
