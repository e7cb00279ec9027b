/**
 * `deno task profile`: where one framework step of workload A, B or C spends its time, kernel by
 * kernel, on the chosen backend: what to speed up next, and the first thing to run on a new
 * machine (a GPU one above all).
 *
 * ```sh
 * deno task profile --workload C                 # default backend, top 15 kernels
 * deno task profile --workload A --backend webgpu --json
 * ```
 *
 * Takes `deno task bench`'s flags (`--workload`, `--backend`, `--native`, `--threads`, `--batch`,
 * `--hidden`, `--warmup`, `--steps`: steps profiled, default 10, `--json`) and `--top N`. Kernel
 * times come from `tf.profile` (on webgpu, GPU timestamp queries where the adapter has them, else
 * none); elbo's own in-place work (the Adam and EMA kernels, Gaussian noise written into tensor
 * memory) runs outside tfjs's kernels and is the gap between the step's wall time and the kernels'
 * sum (on cpu, a kernel that calls others is counted with them, so the sum can exceed the wall
 * time). Profiling itself slows a step (on webgpu each kernel is then submitted alone), so the
 * wall time here is not the benchmark's throughput.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { makeFrameworkWorkload, type Workload } from "./framework.ts";
import { parseBenchArgs, startBenchBackend } from "./main.ts";
import type { WorkloadName } from "./workloads.ts";

/** One kernel name and input shapes: its time and calls per step. */
export interface KernelRow {
  /** tfjs kernel name, e.g. `_FusedMatMul`. */
  kernel: string;
  /** Input shapes, e.g. `[[1,1000,1024],[1,1024,1024],[1024]]`. */
  inputShapes: string;
  /** Calls per step. */
  calls: number;
  /** Milliseconds per step (`NaN` where the backend gives no kernel times). */
  ms: number;
}

/** A workload's profile. */
export interface StepProfile {
  workload: WorkloadName;
  backend: string;
  /** Steps profiled (after the warm-up). */
  steps: number;
  /** Wall milliseconds per profiled step, the read of the step's output included. */
  wallMs: number;
  /** The kernels' summed milliseconds per step (`NaN` without kernel times). */
  kernelMs: number;
  /** Every kernel and shape, slowest first (by calls where there are no times). */
  rows: KernelRow[];
}

/**
 * Profiles `steps` steps of `work` (each read back before the next) with `tf.profile`.
 *
 * @param work A warmed-up workload.
 * @param steps Steps to profile.
 * @returns Wall and kernel time per step, and one row per kernel name and input shapes.
 *
 * @example Count workload C's matmuls on the cpu backend
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeFrameworkWorkload } from "./framework.ts";
 * import { profileSteps } from "./profile.ts";
 *
 * await tf.setBackend("cpu");
 * const work = makeFrameworkWorkload("C", { batch: 4, hidden: 8 });
 * const p = await profileSteps(work, 2);
 * console.log(p.rows.filter((r) => r.kernel === "_FusedMatMul").length > 0); // true
 * work.dispose();
 * ```
 */
export async function profileSteps(
  work: Workload,
  steps: number,
): Promise<Omit<StepProfile, "workload" | "backend">> {
  const rows = new Map<string, KernelRow>();
  let wall = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      const out = work.step();
      await out.data();
      out.dispose();
    });
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      const inputShapes = JSON.stringify(k.inputShapes);
      const key = `${k.name} ${inputShapes}`;
      const row = rows.get(key) ?? { kernel: k.name, inputShapes, calls: 0, ms: 0 };
      row.calls++;
      row.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : NaN;
      rows.set(key, row);
    }
  }
  const perStep = [...rows.values()].map((r) => ({
    ...r,
    calls: r.calls / steps,
    ms: r.ms / steps,
  }));
  const timed = perStep.every((r) => Number.isFinite(r.ms)) && perStep.some((r) => r.ms > 0);
  if (!timed) { for (const r of perStep) r.ms = NaN; }
  perStep.sort((a, b) => timed ? b.ms - a.ms : b.calls - a.calls);
  return {
    steps,
    wallMs: wall / steps,
    kernelMs: timed ? perStep.reduce((sum, r) => sum + r.ms, 0) : NaN,
    rows: perStep,
  };
}

/**
 * The profile as a table: the `top` rows, the rest summed, and the time outside tfjs kernels.
 *
 * @param p A profile.
 * @param top Rows to show.
 * @returns Lines of text.
 *
 * @example
 * ```ts
 * import { formatProfile } from "./profile.ts";
 * const p = { workload: "C" as const, backend: "cpu", steps: 1, wallMs: 2, kernelMs: 1.5,
 *   rows: [{ kernel: "Add", inputShapes: "[[2],[2]]", calls: 1, ms: 1.5 }] };
 * console.log(formatProfile(p, 10).at(-1)); // outside tfjs kernels: 0.50 ms (25.0%)
 * ```
 */
export function formatProfile(p: StepProfile, top: number): string[] {
  const timed = Number.isFinite(p.kernelMs);
  const pct = (ms: number) => `${(100 * ms / p.wallMs).toFixed(1)}%`;
  const lines = [
    `workload ${p.workload} on ${p.backend}: ${p.wallMs.toFixed(2)} ms per step (wall, ` +
    `${p.steps} profiled steps)` + (timed ? `, ${p.kernelMs.toFixed(2)} ms in tfjs kernels` : ""),
  ];
  if (!timed) lines.push("  (this backend gives no kernel times: rows are ordered by calls)");
  const row = (ms: string, share: string, calls: string, what: string) =>
    `${ms.padStart(9)} ${share.padStart(6)} ${calls.padStart(6)}  ${what}`;
  lines.push(row("ms/step", "share", "calls", "kernel and input shapes"));
  for (const r of p.rows.slice(0, top)) {
    lines.push(row(
      timed ? r.ms.toFixed(3) : "-",
      timed ? pct(r.ms) : "-",
      String(r.calls),
      `${r.kernel} ${r.inputShapes}`,
    ));
  }
  const rest = p.rows.slice(top);
  if (rest.length > 0) {
    const ms = rest.reduce((s, r) => s + r.ms, 0);
    const calls = rest.reduce((s, r) => s + r.calls, 0);
    lines.push(row(
      timed ? ms.toFixed(3) : "-",
      timed ? pct(ms) : "-",
      String(calls),
      `${rest.length} more`,
    ));
  }
  if (timed) {
    const outside = p.wallMs - p.kernelMs;
    lines.push(`outside tfjs kernels: ${outside.toFixed(2)} ms (${pct(outside)})`);
  }
  return lines;
}

/** Splits `--name V` / `--name=V` off `args`: its value (or `undefined`) and the other args. */
function takeOption(args: readonly string[], name: string): [string | undefined, string[]] {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}`) value = args[++i] ?? "";
    else if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
    else rest.push(a);
  }
  return [value, rest];
}

async function main(): Promise<void> {
  const [topFlag, rest] = takeOption(Deno.args, "top"); // every other flag is the bench's
  const top = Number(topFlag ?? "15");
  if (!Number.isInteger(top) || top < 1) {
    throw new RangeError(
      `Cannot profile as '--top' must be a positive integer: current value is ${topFlag}`,
    );
  }
  const args = parseBenchArgs(rest);
  const info = await startBenchBackend(args);
  for (const name of args.workloads) {
    const work = makeFrameworkWorkload(name, {
      ...(args.batch === undefined ? {} : { batch: args.batch }),
      ...(args.hidden === undefined ? {} : { hidden: args.hidden }),
    });
    for (let s = 0; s < (args.warmup ?? 3); s++) {
      const out = work.step();
      await out.data();
      out.dispose();
    }
    const p = { workload: name, backend: info.name, ...await profileSteps(work, args.steps ?? 10) };
    work.dispose();
    console.log(args.json ? JSON.stringify(p) : formatProfile(p, top).join("\n"));
  }
}

if (import.meta.main) {
  await main();
  Deno.exit(); // wasm pthread workers would keep the process alive
}
