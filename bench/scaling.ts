/**
 * Scaling tables for predicting a run's cost, all through the framework on the default backend:
 *
 * - `steps`: training step time of workload A's graph (`./framework.ts`) against the batch size
 *   (width 1024) and against the width H of the ε-MLP (batch 128);
 * - `objectives`: the same step (batch 128, width 1024) under L_simple, L_hybrid and L_vlb
 *   (cosine, learned-range variance for the last two), each without and with the weight EMA
 *   (0.999) that the experiments keep;
 * - `nll`: exact-NLL evaluation time (`GaussianDiffusion.calcBpdLoop` with the compiled ε-MLP as
 *   the model, batches of 100 images as `testNll` runs it) against the number of timesteps T and
 *   the number of test images.
 *
 * ```sh
 * deno run --allow-read --allow-env --allow-ffi --allow-sys bench/scaling.ts [--what steps|objectives|nll|all] [--json]
 * ```
 *
 * Each row prints the 1-minute load average beside it (other processes on a 2-core machine change
 * the numbers).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { formatBackendInfo, initBackend } from "../lib/backend/mod.ts";
import { compile } from "../lib/graph/mod.ts";
import { GaussianDiffusion } from "../lib/diffusion/mod.ts";
import { betaSchedule } from "../lib/math/mod.ts";
import { modelFn } from "../lib/experiment/diffusion.ts";
import { ddpmGraph, DIFFUSION_A, type DiffusionSpec, makeFrameworkWorkload } from "./framework.ts";
import { timeWindow, type Workload } from "./handwritten.ts";
import { PIXELS, WORKLOADS } from "./workloads.ts";
import { Ema } from "../lib/train/ema.ts";

/** One row of the objective table. */
export interface ObjectiveRow {
  /** Which sweep the row belongs to. */
  sweep: "objective";
  /** The training objective. */
  objective: ObjectiveName;
  /** EMA decay kept beside the training, or `null` for none. */
  ema: number | null;
  /** Median step time (train step, plus the EMA update), ms. */
  msPerStep: number;
  /** 1-minute load average when the row was measured (null where unavailable). */
  load1: number | null;
}

/** The objectives of {@linkcode objectiveScaling}. */
export type ObjectiveName = "L_simple" | "L_hybrid" | "L_vlb";

const OBJECTIVES: Record<ObjectiveName, DiffusionSpec> = {
  L_simple: { ...DIFFUSION_A, schedule: "cosine" },
  L_hybrid: {
    ...DIFFUSION_A,
    schedule: "cosine",
    varType: "learned_range",
    lossType: "rescaled_mse",
  },
  L_vlb: { ...DIFFUSION_A, schedule: "cosine", varType: "learned_range", lossType: "kl" },
};

/** One row of the step-time table. */
export interface StepRow {
  /** Which sweep the row belongs to. */
  sweep: "batch" | "width";
  /** Batch size. */
  batch: number;
  /** Width H of the ε-MLP. */
  hidden: number;
  /** Trainable parameters. */
  params: number;
  /** Median step time, ms. */
  msPerStep: number;
  /** Training samples per second. */
  samplesPerSec: number;
  /** Matmul GFLOP/s. */
  gflops: number;
  /** 1-minute load average after the row. */
  load1: number | null;
}

/** One row of the NLL-evaluation table. */
export interface NllRow {
  /** Which sweep the row belongs to. */
  sweep: "T" | "images";
  /** Diffusion steps T. */
  T: number;
  /** Test images evaluated. */
  images: number;
  /** Wall time, seconds. */
  seconds: number;
  /** Network evaluations per second (images × T / seconds). */
  forwardsPerSec: number;
  /** Microseconds per image and timestep. */
  usPerImageStep: number;
  /** 1-minute load average after the row. */
  load1: number | null;
}

function load1(): number | null {
  try {
    return Deno.loadavg()[0] ?? null;
  } catch {
    return null;
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median ms per step of `work` over 3 windows of about `seconds` each, after warm-up. */
async function msPerStep(work: Workload, seconds: number): Promise<number> {
  // timeWindow gives items/s; a step is `items` items.
  const run = async (n: number) => 1000 * work.spec.items / (await timeWindow(work, n))[0];
  await run(5); // warm-up (allocations, JIT)
  const one = await run(2);
  const n = Math.max(2, Math.round(seconds * 1000 / one));
  const windows = [await run(n), await run(n), await run(n)];
  return median(windows);
}

/**
 * Step time of workload A's graph against the batch size and the width.
 *
 * @param options Batch sizes (at width 1024), widths (at batch 128), seconds per window, and a
 * callback for each row as it is measured.
 * @returns One row per configuration.
 *
 * @example A quick, tiny table on the cpu backend
 * ```ts
 * import { initBackend } from "../lib/backend/mod.ts";
 * import { stepScaling } from "./scaling.ts";
 *
 * await initBackend({ backend: "cpu", quiet: true });
 * const rows = await stepScaling({ batches: [], widths: [32], seconds: 0.01 });
 * console.log(rows[0]!.msPerStep > 0); // true
 * ```
 */
export async function stepScaling(
  options: {
    batches?: number[];
    widths?: number[];
    seconds?: number;
    onRow?: (row: StepRow) => void;
  } = {},
): Promise<StepRow[]> {
  const batches = options.batches ?? [32, 64, 128, 256, 512];
  const widths = options.widths ?? [256, 512, 1024, 2048];
  const seconds = options.seconds ?? 2;
  const configs: [StepRow["sweep"], number, number][] = [
    ...batches.map((b) => ["batch", b, 1024] as [StepRow["sweep"], number, number]),
    ...widths.map((h) => ["width", 128, h] as [StepRow["sweep"], number, number]),
  ];
  const rows: StepRow[] = [];
  if (configs.length > 0) {
    // Warm the process up once (wasm heap growth, JIT) so the first row is not penalised.
    const warm = makeFrameworkWorkload("A", { batch: Math.max(...configs.map((c) => c[1])) });
    await msPerStep(warm, seconds / 4);
    warm.dispose();
  }
  for (const [sweep, batch, hidden] of configs) {
    const work = makeFrameworkWorkload("A", { batch, hidden });
    const ms = await msPerStep(work, seconds);
    const spec = work.spec;
    work.dispose();
    const row: StepRow = {
      sweep,
      batch,
      hidden,
      params: spec.params,
      msPerStep: Math.round(ms * 100) / 100,
      samplesPerSec: Math.round(batch * 1000 / ms),
      gflops: Math.round(spec.gflopPerStep / (ms / 1000) * 10) / 10,
      load1: load1(),
    };
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}

/**
 * Training step time of workload A's ε-MLP (batch 128) under each objective, without and with the
 * experiments' weight EMA, so a run's cost can be predicted from its objective.
 *
 * @param options Objectives, EMA decays (`null`: none), batch, width, seconds per window, and a
 * callback for each row as it is measured.
 * @returns One row per (objective, EMA) pair.
 *
 * @example A tiny table on the cpu backend
 * ```ts
 * import { initBackend } from "../lib/backend/mod.ts";
 * import { objectiveScaling } from "./scaling.ts";
 *
 * await initBackend({ backend: "cpu", quiet: true });
 * const rows = await objectiveScaling({ objectives: ["L_hybrid"], emas: [0.9], batch: 2, hidden: 16, seconds: 0.01 });
 * console.log(rows[0]!.msPerStep > 0); // true
 * ```
 */
export async function objectiveScaling(
  options: {
    objectives?: ObjectiveName[];
    emas?: (number | null)[];
    batch?: number;
    hidden?: number;
    seconds?: number;
    onRow?: (row: ObjectiveRow) => void;
  } = {},
): Promise<ObjectiveRow[]> {
  const objectives = options.objectives ?? ["L_simple", "L_hybrid", "L_vlb"];
  const emas = options.emas ?? [null, 0.999];
  const batch = options.batch ?? 128, hidden = options.hidden ?? 1024;
  const seconds = options.seconds ?? 2;
  const rows: ObjectiveRow[] = [];
  for (const objective of objectives) {
    for (const decay of emas) {
      const c = compile(ddpmGraph(hidden, OBJECTIVES[objective]), {
        seed: 0,
        optimizer: { kind: "adam", lr: 2e-4 },
      });
      const ema = decay === null ? null : new Ema(c.trainable, decay);
      const x0 = tf.randomUniform([batch, PIXELS], -1, 1, "float32", 0);
      let step = 0;
      const work: Workload = {
        spec: { ...WORKLOADS.A, items: batch }, // msPerStep needs only the items per step
        step: () => {
          const r = c.trainStep({ x0 }, step++);
          tf.dispose([...Object.values(r.terms), ...Object.values(r.kept)]);
          ema?.update();
          return r.total;
        },
        dispose: () => {
          ema?.dispose();
          x0.dispose();
          c.dispose();
        },
      };
      const ms = await msPerStep(work, seconds);
      work.dispose();
      const row: ObjectiveRow = {
        sweep: "objective",
        objective,
        ema: decay,
        msPerStep: Math.round(ms * 100) / 100,
        load1: load1(),
      };
      rows.push(row);
      options.onRow?.(row);
    }
  }
  return rows;
}

/**
 * Exact-NLL evaluation time (`calcBpdLoop` over the full chain, batches of 100) against T and the
 * number of test images, with workload A's ε-network (untrained: the time does not depend on the
 * weights).
 *
 * @param options Ts (at `imagesAtT` images), image counts (at T = `tAtImages`), batch size, width,
 * and a callback for each row as it is measured.
 * @returns One row per configuration.
 *
 * @example A tiny table on the cpu backend
 * ```ts
 * import { initBackend } from "../lib/backend/mod.ts";
 * import { nllScaling } from "./scaling.ts";
 *
 * await initBackend({ backend: "cpu", quiet: true });
 * const rows = await nllScaling({ Ts: [50], images: [], imagesAtT: 2, batch: 2, hidden: 16 });
 * console.log(rows[0]!.seconds > 0); // true
 * ```
 */
export async function nllScaling(
  options: {
    Ts?: number[];
    images?: number[];
    imagesAtT?: number;
    tAtImages?: number;
    batch?: number;
    hidden?: number;
    onRow?: (row: NllRow) => void;
  } = {},
): Promise<NllRow[]> {
  const Ts = options.Ts ?? [100, 250, 500, 1000];
  const images = options.images ?? [200, 400];
  const imagesAtT = options.imagesAtT ?? 100;
  const tAtImages = options.tAtImages ?? 1000;
  const batch = options.batch ?? 100;
  const compiled = compile(ddpmGraph(options.hidden ?? 1024), { seed: 0 });
  const model = modelFn(compiled, { xt: "noise.xt", t: "noise.t", out: "net.out" });
  const configs: [NllRow["sweep"], number, number][] = [
    ...Ts.map((T) => ["T", T, imagesAtT] as [NllRow["sweep"], number, number]),
    ...images.map((n) => ["images", tAtImages, n] as [NllRow["sweep"], number, number]),
  ];
  const rows: NllRow[] = [];
  // Warm-up: one short chain.
  await evaluate(new GaussianDiffusion(diffusionOfT(50)), model, Math.min(batch, 8), batch);
  for (const [sweep, T, n] of configs) {
    const d = new GaussianDiffusion(diffusionOfT(T));
    const t0 = performance.now();
    await evaluate(d, model, n, batch);
    const seconds = (performance.now() - t0) / 1000;
    const row: NllRow = {
      sweep,
      T,
      images: n,
      seconds: Math.round(seconds * 100) / 100,
      forwardsPerSec: Math.round(n * T / seconds),
      usPerImageStep: Math.round(seconds * 1e6 / (n * T) * 10) / 10,
      load1: load1(),
    };
    rows.push(row);
    options.onRow?.(row);
  }
  compiled.dispose();
  return rows;
}

/** Workload A's diffusion with T steps (linear schedule scaled by 1000/T). */
function diffusionOfT(T: number) {
  return {
    betas: betaSchedule(DIFFUSION_A.schedule, T),
    meanType: DIFFUSION_A.meanType,
    varType: DIFFUSION_A.varType,
    lossType: DIFFUSION_A.lossType,
  };
}

/** Runs calcBpdLoop over `n` random 8-bit images in batches, reading every result back. */
async function evaluate(
  d: GaussianDiffusion,
  model: ReturnType<typeof modelFn>,
  n: number,
  batch: number,
): Promise<void> {
  for (let done = 0; done < n; done += batch) {
    const b = Math.min(batch, n - done);
    const x0 = tf.tidy(() =>
      tf.sub(tf.div(tf.round(tf.randomUniform([b, PIXELS], 0, 255, "float32", done)), 127.5), 1)
    ); // [B, D], 8-bit levels in [-1, 1]
    const r = await d.calcBpdLoop(model, x0, { clipDenoised: true, seed: done });
    await r.totalBpd.data();
    tf.dispose([x0, r.totalBpd, r.priorBpd, r.vb, r.xstartMse, r.mse]);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      what: { type: "string", default: "all" },
      json: { type: "boolean", default: false },
    },
  });
  if (!["steps", "objectives", "nll", "all"].includes(values.what)) {
    throw new RangeError(
      `Cannot run the scaling tables as '--what' must be steps, objectives, nll or all: current value is ${values.what}`,
    );
  }
  const info = await initBackend({ quiet: true });
  console.error(formatBackendInfo(info));
  const print = (row: StepRow | ObjectiveRow | NllRow) =>
    console.log(values.json ? JSON.stringify(row) : Object.values(row).join("\t"));
  const all = values.what === "all";
  if (all || values.what === "steps") {
    if (!values.json) {
      console.log("sweep\tbatch\thidden\tparams\tms/step\tsamples/s\tGFLOP/s\tload1");
    }
    await stepScaling({ onRow: print });
  }
  if (all || values.what === "objectives") {
    if (!values.json) console.log("sweep\tobjective\tema\tms/step\tload1");
    await objectiveScaling({ onRow: print });
  }
  if (all || values.what === "nll") {
    if (!values.json) console.log("sweep\tT\timages\tseconds\tforwards/s\tus/(image*step)\tload1");
    await nllScaling({ onRow: print });
  }
}

if (import.meta.main) {
  await main();
  Deno.exit();
}
