/**
 * `deno task bench`: the reference workloads A, B and C (`/work/shared/bench/README.md`) run
 * through the framework (graph of library nodes → `compile()` → train step / forward plan, see
 * `./framework.ts`), beside the hand-written tfjs step on the same backend (`./handwritten.ts`)
 * and PyTorch (`./torch_reference.py`) when `python3 -c "import torch"` works.
 *
 * ```sh
 * deno task bench                                # A, B and C on the default backend
 * deno task bench --workload A --json            # one JSON line
 * deno task bench --workload B --backend cpu --native off
 * ```
 *
 * Options: `--workload A|B|C|all` (default all), `--backend wasm|cpu|webgpu` (default: elbo's
 * choice, see `initBackend`), `--json` (only JSON lines on stdout, one per workload),
 * `--native on|off` (OpenBLAS kernels on wasm and cpu; default on), `--threads N` (BLAS threads
 * with native BLAS, else wasm threads), `--windows N` (timed windows per implementation, default
 * 5), `--steps N` (steps per window), `--warmup N`, `--batch N`, `--hidden N` (width of A's and C's
 * network; the hand-written step then does not run), `--no-handwritten`, `--no-torch`,
 * `--torch-threads N` (default 2), `--torch-device cpu|cuda` (PyTorch eager on the CPU, default, or
 * on a CUDA GPU: the peer of `--backend webgpu` on a GPU machine), `--python PATH`.
 *
 * Timing: a window runs `steps` steps and ends by reading the last output back (`await data()`);
 * a result is the median window. After `warmup` steps the framework runs `windows` windows alone
 * (`samplesPerSec`, the number compared with PyTorch, which also runs alone in its process); then
 * the hand-written step is built and warmed up, and both run alternating windows (ABBA order, so
 * drifting background load hits both alike): the overhead is 1 − framework / hand-written from
 * those. (A second model in the same process slows both by up to 10-15% on this machine, so the
 * alternating windows are slower than the framework alone.) With several workloads, each runs in
 * its own Deno process (so `peakRssMB`, the process's peak resident memory after the framework's
 * warm-up, is that workload's alone), when `--allow-run` and `--allow-read` are granted. On webgpu
 * the framework's compute dispatches and queue submissions per step are counted too
 * (`./gpu_work.ts`; the same on any adapter, so the software one tracks them).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import {
  type BackendInfo,
  type BackendName,
  formatBackendInfo,
  initBackend,
  toBackendName,
} from "../lib/backend/mod.ts";
import { makeFrameworkWorkload } from "./framework.ts";
import { countGpuWork, type GpuWork } from "./gpu_work.ts";
import { type DenseMode, makeWorkload, timeWindow, type Workload } from "./handwritten.ts";
import { HIDDEN, type WorkloadName } from "./workloads.ts";

export type { Workload } from "./handwritten.ts";
export type { WorkloadName } from "./workloads.ts";
export type { BackendInfo, BackendName } from "../lib/backend/mod.ts";

/** Where the PyTorch reference runs (`torch_reference.py --device`). */
export type TorchDevice = "cpu" | "cuda";

/** The parsed command line of `deno task bench`. */
export interface BenchArgs {
  /** Workloads to run, in order. */
  workloads: WorkloadName[];
  /** Forced backend, or `undefined` for elbo's choice. */
  backend: BackendName | undefined;
  /** Print only JSON lines. */
  json: boolean;
  /** Use native BLAS on wasm and cpu. */
  native: boolean;
  /** BLAS threads (native) or wasm threads; `undefined` for the default. */
  threads: number | undefined;
  /** Timed windows per implementation. */
  windows: number;
  /** Steps per window; `undefined` for the per-workload default. */
  steps: number | undefined;
  /** Warm-up steps; `undefined` for the per-workload default. */
  warmup: number | undefined;
  /** Batch size; `undefined` for the workload's. */
  batch: number | undefined;
  /** Width of A's and C's ε-network; `undefined` for 1024. */
  hidden: number | undefined;
  /** Also time the hand-written tfjs step. */
  handwritten: boolean;
  /** Also run PyTorch when available. */
  torch: boolean;
  /** PyTorch threads. */
  torchThreads: number;
  /** Where PyTorch runs: on the CPU, or eagerly on a CUDA GPU (the peer of webgpu on a GPU). */
  torchDevice: TorchDevice;
  /** The Python to run PyTorch with; `undefined` to look for one. */
  python: string | undefined;
  /** Run every workload in this process (set for the per-workload child processes). */
  inProcess: boolean;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot run the benchmark as '${flag}' must be a positive integer: current value is ${value}`,
    );
  }
  return n;
}

function onOff(value: string, flag: string): boolean {
  if (value === "on") return true;
  if (value === "off") return false;
  throw new RangeError(
    `Cannot run the benchmark as '${flag}' must be on or off: current value is ${value}`,
  );
}

/**
 * Parses the command line of `deno task bench`.
 *
 * @param args Command-line arguments (e.g. `Deno.args`).
 * @returns The settings, defaults filled in.
 * @throws {RangeError} For an unknown workload, backend or a non-positive count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBenchArgs } from "./main.ts";
 *
 * const a = parseBenchArgs(["--workload", "A", "--json"]);
 * assert.deepEqual(a.workloads, ["A"]);
 * assert.equal(a.json, true);
 * assert.deepEqual(parseBenchArgs([]).workloads, ["A", "B", "C"]);
 * ```
 */
export function parseBenchArgs(args: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...args],
    options: {
      workload: { type: "string", default: "all" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
      native: { type: "string", default: "on" },
      threads: { type: "string" },
      windows: { type: "string", default: "5" },
      steps: { type: "string" },
      warmup: { type: "string" },
      batch: { type: "string" },
      hidden: { type: "string" },
      "no-handwritten": { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      "torch-threads": { type: "string", default: "2" },
      "torch-device": { type: "string", default: "cpu" },
      python: { type: "string" },
      "in-process": { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const w = values.workload.toUpperCase();
  let workloads: WorkloadName[];
  if (w === "ALL") workloads = ["A", "B", "C"];
  else if (w === "A" || w === "B" || w === "C") workloads = [w];
  else {
    throw new RangeError(
      `Cannot run the benchmark as '--workload' must be A, B, C or all: current value is ${values.workload}`,
    );
  }
  const warmup = values.warmup === undefined ? undefined : Number(values.warmup);
  if (warmup !== undefined && !(Number.isInteger(warmup) && warmup >= 0)) {
    throw new RangeError(
      `Cannot run the benchmark as '--warmup' must be a non-negative integer: current value is ${values.warmup}`,
    );
  }
  const torchDevice = values["torch-device"];
  if (torchDevice !== "cpu" && torchDevice !== "cuda") {
    throw new RangeError(
      `Cannot run the benchmark as '--torch-device' must be cpu or cuda: current value is ${torchDevice}`,
    );
  }
  return {
    workloads,
    backend: values.backend === undefined ? undefined : toBackendName(values.backend, "--backend"),
    json: values.json,
    native: onOff(values.native, "--native"),
    threads: positiveInt(values.threads, "--threads"),
    windows: positiveInt(values.windows, "--windows")!,
    steps: positiveInt(values.steps, "--steps"),
    warmup,
    batch: positiveInt(values.batch, "--batch"),
    hidden: positiveInt(values.hidden, "--hidden"),
    handwritten: !values["no-handwritten"],
    torch: !values["no-torch"],
    torchThreads: positiveInt(values["torch-threads"], "--torch-threads")!,
    torchDevice,
    python: values.python,
    inProcess: values["in-process"],
  };
}

/** Throughput of one implementation over the timed windows. */
export interface ImplTiming {
  /** Items per second of each window. */
  rates: number[];
  /** Median of `rates`. */
  median: number;
  /** First value of the last output of each window (the loss for A and B). */
  lastValues: number[];
}

/** What `deno task bench` reports for one workload (one JSON line). */
export interface BenchResult {
  /** The workload. */
  workload: WorkloadName;
  /** The tfjs backend. */
  backend: BackendName;
  /** Native BLAS library, or `null`. */
  native: string | null;
  /** Threads: XNNPACK threads on wasm (1 beside native BLAS). */
  threads: number;
  /** Framework throughput alone in its process (median window): training or forward samples/s. */
  samplesPerSec: number;
  /** Matmul GFLOP/s achieved by the framework. */
  gflops: number;
  /** Resident memory of the process after the framework's warm-up (its peak), MB. */
  peakRssMB: number;
  /** What `samplesPerSec` counts. */
  unit: string;
  /** Batch size. */
  batch: number;
  /** Trainable parameters. */
  params: number;
  /** Framework window rates (alone). */
  rates: number[];
  /** Framework loss (A, B) or first per-example error (C) at the end of each window. */
  lastValues: number[];
  /** Framework throughput in the windows alternating with the hand-written step, or `null`. */
  pairedSamplesPerSec: number | null;
  /** Framework window rates alternating with the hand-written step. */
  pairedRates: number[] | null;
  /** Hand-written tfjs step on the same backend (median window), or `null` when not run. */
  handwrittenSamplesPerSec: number | null;
  /** Hand-written window rates. */
  handwrittenRates: number[] | null;
  /**
   * Framework overhead against the hand-written step, from the alternating windows:
   * 100 (1 − framework / hand-written), %.
   */
  overheadPct: number | null;
  /** PyTorch samples/s (median window), or `null` when it did not run. */
  torchSamplesPerSec: number | null;
  /** PyTorch threads. */
  torchThreads: number | null;
  /** Where PyTorch ran: "cpu" or the CUDA device's name; `null` when it did not run. */
  torchDevice: string | null;
  /** Framework / PyTorch. */
  ratioTorch: number | null;
  /** Why PyTorch did not run, when it did not. */
  torchNote: string | null;
  /** Tensors left behind by the timed windows (0 means no leak). */
  leakedTensors: number;
  /** On webgpu, the framework's compute dispatches and queue submissions per step; else `null`. */
  gpuWork: GpuWork | null;
  /** Warm-up steps, steps per window, windows. */
  warmup: number;
  /** Steps per window. */
  steps: number;
  /** Timed windows per implementation. */
  windows: number;
  /** 1-minute load average before and after the tfjs measurement (`Deno.loadavg()`). */
  load1: [number, number] | null;
  /** When it ran (ISO 8601). */
  ts: string;
}

/** Default [warm-up, steps per window] per path and workload (windows of roughly 1-3 s). */
const DEFAULT_STEPS: Record<string, Record<WorkloadName, [number, number]>> = {
  native: { A: [10, 40], B: [20, 150], C: [5, 15] },
  wasm: { A: [2, 5], B: [5, 20], C: [1, 2] },
  cpu: { A: [1, 1], B: [2, 5], C: [1, 1] },
  webgpu: { A: [1, 2], B: [2, 5], C: [1, 1] },
};

/** The 1-minute load average (needs `--allow-sys`), or `null`. */
function load1(): number | null {
  try {
    return Deno.loadavg()[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * Peak resident memory of this process in MB: VmHWM where /proc/self/status is readable (Deno
 * asks for --allow-all there), else the resident size now (after warm-up the wasm heap has
 * reached its high-water mark and does not shrink).
 */
function peakRssMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m !== null) return Math.round(Number(m[1]) / 1024);
  } catch {
    // not Linux, or not readable: the current RSS
  }
  return Math.round(Deno.memoryUsage().rss / 2 ** 20);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `n` steps, reading each output back (warm-up). */
async function warm(work: Workload, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const out = work.step();
    await out.data();
    out.dispose();
  }
}

/**
 * Times several workloads in alternating windows (ABBA…), after `warmup` steps each were run
 * beforehand by the caller.
 *
 * @param works The workloads to compare.
 * @param options Steps per window and windows per workload.
 * @returns One timing per workload, in order.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkloadB } from "./handwritten.ts";
 * import { timeInterleaved } from "./main.ts";
 *
 * await tf.setBackend("cpu");
 * const w = makeWorkloadB({ batch: 4 });
 * const [t] = await timeInterleaved([w], { steps: 1, windows: 1 });
 * console.log(t!.median > 0); // true
 * w.dispose();
 * ```
 */
export async function timeInterleaved(
  works: readonly Workload[],
  options: { steps: number; windows: number },
): Promise<ImplTiming[]> {
  const out: ImplTiming[] = works.map(() => ({ rates: [], median: NaN, lastValues: [] }));
  for (let w = 0; w < options.windows; w++) {
    const order = works.map((_, i) => i);
    if (w % 2 === 1) order.reverse();
    for (const i of order) {
      const [rate, value] = await timeWindow(works[i]!, options.steps);
      out[i]!.rates.push(rate);
      out[i]!.lastValues.push(value);
    }
  }
  for (const t of out) t.median = median(t.rates);
  return out;
}

/** The hand-written step's layer style for this backend (what is fastest there). */
function denseFor(info: BackendInfo): DenseMode {
  if (info.native !== null) return "fused";
  return info.name === "wasm" ? "customgrad" : "plain";
}

/** The PyTorch result line of `torch_reference.py`. */
interface TorchLine {
  samplesPerSec: number;
  threads: number;
  /** "cpu", or the CUDA device's name. */
  device: string;
}

let pythonFound: string | null | undefined;

/** The first Python that imports torch, or `null`. */
async function findPython(preferred: string | undefined): Promise<string | null> {
  if (pythonFound !== undefined) return pythonFound;
  pythonFound = null;
  const candidates = preferred === undefined ? ["python3", "/usr/bin/python3"] : [preferred];
  for (const py of candidates) {
    try {
      const r = await new Deno.Command(py, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) {
        pythonFound = py;
        break;
      }
    } catch {
      // not installed, or --allow-run missing: try the next
    }
  }
  return pythonFound;
}

/** Runs the PyTorch reference for one workload; returns its result or why it did not run. */
async function runTorch(
  name: WorkloadName,
  args: BenchArgs,
): Promise<TorchLine | string> {
  const py = await findPython(args.python);
  if (py === null) return `no python3 with torch (python3 -c "import torch" failed)`;
  const script = new URL("./torch_reference.py", import.meta.url).pathname;
  const flags = ["--workload", name, "--threads", String(args.torchThreads)];
  flags.push("--device", args.torchDevice);
  flags.push("--windows", String(args.windows));
  if (args.steps !== undefined) flags.push("--steps", String(args.steps));
  if (args.warmup !== undefined) flags.push("--warmup", String(args.warmup));
  const r = await new Deno.Command(py, { args: [script, ...flags], stderr: "piped" }).output();
  const text = new TextDecoder().decode(r.stdout).trim().split("\n").at(-1) ?? "";
  if (!r.success) {
    return `torch_reference.py failed (exit ${r.code}): ${
      new TextDecoder().decode(r.stderr).trim().split("\n").at(-1)
    }`;
  }
  return JSON.parse(text) as TorchLine;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Measures one workload on the active backend: the framework, the hand-written step
 * (interleaved), then PyTorch.
 *
 * @param name The workload.
 * @param info The active backend (from `initBackend`).
 * @param args Settings.
 * @returns The result record (the JSON line).
 *
 * @example A tiny run on the cpu backend
 * ```ts
 * import { initBackend } from "../lib/backend/mod.ts";
 * import { benchWorkload, parseBenchArgs } from "./main.ts";
 *
 * const info = await initBackend({ backend: "cpu", quiet: true, native: false });
 * const args = parseBenchArgs(["--batch", "4", "--steps", "1", "--warmup", "1", "--windows", "1", "--no-torch"]);
 * const r = await benchWorkload("B", info, args);
 * console.log(r.samplesPerSec > 0, r.overheadPct !== null); // true true
 * ```
 */
export async function benchWorkload(
  name: WorkloadName,
  info: BackendInfo,
  args: BenchArgs,
): Promise<BenchResult> {
  const path = info.native !== null ? "native" : info.name;
  const [dw, ds] = (DEFAULT_STEPS[path] ?? DEFAULT_STEPS["wasm"]!)[name];
  const warmup = args.warmup ?? dw;
  const steps = args.steps ?? ds;
  const load0 = load1();

  const fw = makeFrameworkWorkload(name, {
    ...(args.batch === undefined ? {} : { batch: args.batch }),
    ...(args.hidden === undefined ? {} : { hidden: args.hidden }),
  });
  await warm(fw, warmup);
  const rss = peakRssMB();
  // Phase 1: the framework alone in this process (its throughput, comparable with PyTorch's,
  // which also runs alone). Phase 2: alternating windows with the hand-written step (the
  // overhead; a second model in the same process slows both by up to 10-15% here).
  const before = tf.memory().numTensors;
  const f = (await timeInterleaved([fw], { steps, windows: args.windows }))[0]!;
  let leaked = tf.memory().numTensors - before;
  const gpuWork = await countGpuWork(fw, steps); // after the timed windows: they stay untouched
  let hw: Workload | null = null;
  // The hand-written step has the reference width only.
  if (args.handwritten && (args.hidden === undefined || args.hidden === HIDDEN || name === "B")) {
    hw = makeWorkload(name, {
      dense: denseFor(info),
      adam: "fused",
      rng: "fast",
      ...(args.batch === undefined ? {} : { batch: args.batch }),
    });
    await warm(hw, warmup);
  }
  const beforePaired = tf.memory().numTensors;
  const paired = hw === null
    ? null
    : await timeInterleaved([fw, hw], { steps, windows: args.windows });
  leaked += tf.memory().numTensors - beforePaired;
  const spec = fw.spec;
  fw.dispose();
  hw?.dispose();
  const load9 = load1();
  const fp = paired?.[0] ?? null, h = paired?.[1] ?? null;

  let torch: TorchLine | string | null = null;
  if (args.torch) {
    torch = await runTorch(name, args);
  }
  const torchRate = torch !== null && typeof torch !== "string" ? torch.samplesPerSec : null;
  return {
    workload: name,
    backend: info.name,
    native: info.native,
    threads: info.threads,
    samplesPerSec: round1(f.median),
    gflops: Number((spec.gflopPerStep * f.median / spec.items).toPrecision(3)),
    peakRssMB: rss,
    unit: spec.unit,
    batch: spec.items,
    params: spec.params,
    rates: f.rates.map(Math.round),
    lastValues: f.lastValues.map((v) => Math.round(v * 1e4) / 1e4),
    pairedSamplesPerSec: fp === null ? null : round1(fp.median),
    pairedRates: fp === null ? null : fp.rates.map(Math.round),
    handwrittenSamplesPerSec: h === null ? null : round1(h.median),
    handwrittenRates: h === null ? null : h.rates.map(Math.round),
    overheadPct: h === null || fp === null ? null : round1(100 * (1 - fp.median / h.median)),
    torchSamplesPerSec: torchRate,
    torchThreads: torch !== null && typeof torch !== "string" ? torch.threads : null,
    torchDevice: torch !== null && typeof torch !== "string" ? torch.device : null,
    ratioTorch: torchRate === null ? null : Math.round(1000 * f.median / torchRate) / 1000,
    torchNote: typeof torch === "string" ? torch : args.torch ? null : "--no-torch",
    leakedTensors: leaked,
    gpuWork,
    warmup,
    steps,
    windows: args.windows,
    load1: load0 === null || load9 === null ? null : [load0, load9],
    ts: new Date().toISOString(),
  };
}

/**
 * One human-readable line for a result.
 *
 * @param r The result.
 * @returns E.g. `A  framework 3,410 train samples/s (93.5 GFLOP/s) | alternating: framework 3,020 vs hand-written 3,050, overhead 1% | torch (2 threads) 3,300, ratio 1.033x | peak RSS 280 MB | load 0.6/0.9`.
 *
 * @example
 * ```ts
 * import { formatResult } from "./main.ts";
 * console.log(formatResult({
 *   workload: "B", backend: "cpu", native: null, threads: 1, samplesPerSec: 100, gflops: 0.4,
 *   peakRssMB: 200, unit: "train samples/s", batch: 128, params: 853840, rates: [100],
 *   lastValues: [540], pairedSamplesPerSec: null, pairedRates: null, handwrittenSamplesPerSec: null, handwrittenRates: null, overheadPct: null,
 *   torchSamplesPerSec: null, torchThreads: null, torchDevice: null, ratioTorch: null, torchNote: "--no-torch",
 *   leakedTensors: 0, gpuWork: null, warmup: 1, steps: 1, windows: 1, load1: null, ts: "",
 * }));
 * ```
 */
export function formatResult(r: BenchResult): string {
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  const parts = [
    `${r.workload}  framework ${n(r.samplesPerSec)} ${r.unit} (${r.gflops} GFLOP/s)`,
  ];
  if (r.handwrittenSamplesPerSec !== null && r.pairedSamplesPerSec !== null) {
    parts.push(
      `alternating: framework ${n(r.pairedSamplesPerSec)} vs hand-written ` +
        `${n(r.handwrittenSamplesPerSec)}, overhead ${r.overheadPct}%`,
    );
  }
  parts.push(
    r.torchSamplesPerSec !== null
      ? `torch (${r.torchDevice === "cpu" ? `${r.torchThreads} threads` : r.torchDevice}) ${
        n(r.torchSamplesPerSec)
      }, ratio ${r.ratioTorch}x`
      : `torch: ${r.torchNote}`,
  );
  if (r.gpuWork !== null) {
    parts.push(`GPU ${r.gpuWork.dispatches} dispatches, ${r.gpuWork.submits} submits per step`);
  }
  parts.push(`peak RSS ${r.peakRssMB} MB`);
  if (r.load1 !== null) parts.push(`load ${r.load1[0]}/${r.load1[1]}`);
  return parts.join(" | ");
}

/** Permission flags that give a child process what this one has (whole grants, and `runs/`). */
function childPermissions(): string[] | null {
  const flags: string[] = [];
  const names = ["read", "env", "ffi", "sys", "run", "write"] as const;
  for (const name of names) {
    const state = Deno.permissions.querySync({ name }).state;
    if (state === "granted") flags.push(`--allow-${name}`);
    else if (name === "read" || name === "run") return null;
    else if (
      name === "write" && Deno.permissions.querySync({ name, path: "runs" }).state === "granted"
    ) {
      flags.push("--allow-write=runs"); // wasm's thread pool writes its worker scripts there
    }
  }
  return flags;
}

/** Runs each workload in its own Deno process; returns false when that is not possible. */
async function runChildren(args: BenchArgs, argv: readonly string[]): Promise<boolean> {
  const flags = childPermissions();
  if (flags === null) return false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--workload") i++;
    else if (!a.startsWith("--workload=")) rest.push(a);
  }
  const script = new URL(import.meta.url).pathname;
  let ok = true;
  for (const w of args.workloads) {
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, script, ...rest, "--workload", w, "--in-process"],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    ok &&= child.success;
  }
  if (!ok) Deno.exitCode = 1;
  return true;
}

/**
 * Starts the backend that `args` ask for (`--backend`, `--threads`, `--native`) and prints its
 * line and notes to stderr.
 *
 * @param args Parsed bench flags.
 * @returns The active backend.
 *
 * @example
 * ```ts
 * import { parseBenchArgs, startBenchBackend } from "./main.ts";
 *
 * const info = await startBenchBackend(parseBenchArgs(["--backend", "cpu", "--native", "off"]));
 * console.log(info.name); // cpu
 * ```
 */
export async function startBenchBackend(args: BenchArgs): Promise<BackendInfo> {
  const info = await initBackend({
    ...(args.backend === undefined ? {} : { backend: args.backend }),
    ...(args.threads === undefined ? {} : { threads: args.threads }),
    native: args.native,
    quiet: true,
  });
  console.error(formatBackendInfo(info));
  for (const line of info.notes) console.error(`  ${line}`);
  return info;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(Deno.args);
  if (args.workloads.length > 1 && !args.inProcess && await runChildren(args, Deno.args)) return;
  const info = await startBenchBackend(args);
  for (const w of args.workloads) {
    const r = await benchWorkload(w, info, args);
    console.log(args.json ? JSON.stringify(r) : formatResult(r));
  }
}

if (import.meta.main) {
  await main();
  Deno.exit(); // wasm pthread workers would keep the process alive
}
