// `deno task bench` (bench/main.ts): argument parsing, and one tiny window of every workload
// through the framework beside the hand-written step.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend/mod.ts";
import { benchWorkload, formatResult, parseBenchArgs } from "./main.ts";
import { makeFrameworkWorkload } from "./framework.ts";
import { WORKLOADS } from "./workloads.ts";

const info = await initBackend({ backend: "cpu", quiet: true });

Deno.test("parseBenchArgs() reads workload, backend, json and counts, with defaults", () => {
  const a = parseBenchArgs(["--workload", "b", "--backend", "cpu", "--json", "--windows=3"]);
  assert.deepEqual(a.workloads, ["B"]);
  assert.equal(a.backend, "cpu");
  assert.equal(a.json, true);
  assert.equal(a.windows, 3);
  const d = parseBenchArgs([]);
  assert.deepEqual(d.workloads, ["A", "B", "C"]);
  assert.equal(d.backend, undefined);
  assert.equal(d.native, true);
  assert.equal(d.handwritten, true);
  assert.equal(d.torch, true);
  assert.equal(d.torchThreads, 2);
  const off = parseBenchArgs(["--native", "off", "--no-torch", "--no-handwritten"]);
  assert.equal(off.native, false);
  assert.equal(off.torch, false);
  assert.equal(off.handwritten, false);
});

Deno.test("parseBenchArgs() rejects unknown workloads, backends, flags and bad counts", () => {
  assert.throws(
    () => parseBenchArgs(["--workload", "D"]),
    /'--workload' must be A, B, C or all: current value is D/,
  );
  assert.throws(() => parseBenchArgs(["--backend", "tpu"]), RangeError);
  assert.throws(
    () => parseBenchArgs(["--windows", "0"]),
    /'--windows' must be a positive integer: current value is 0/,
  );
  assert.throws(() => parseBenchArgs(["--native", "maybe"]), /'--native' must be on or off/);
  assert.equal(parseBenchArgs([]).torchDevice, "cpu");
  assert.equal(parseBenchArgs(["--torch-device", "cuda"]).torchDevice, "cuda");
  assert.throws(
    () => parseBenchArgs(["--torch-device", "gpu"]),
    /'--torch-device' must be cpu or cuda/,
  );
  assert.throws(() => parseBenchArgs(["--fast"]), TypeError);
});

Deno.test("the framework workloads have the reference sizes: A and C 4,888,336 parameters, B 853,840", () => {
  for (const name of ["A", "B", "C"] as const) {
    const w = makeFrameworkWorkload(name, { batch: 2 });
    assert.equal(w.spec.params, WORKLOADS[name].params, name);
    const n = w.spec.params;
    w.dispose();
    assert.ok(n > 0);
  }
});

Deno.test("benchWorkload() runs two tiny windows of A, B and C and reports the JSON fields", async () => {
  const args = parseBenchArgs([
    "--batch=4",
    "--hidden=64", // A and C narrow: the hand-written step then runs for B only
    "--steps=1",
    "--warmup=1",
    "--windows=2",
    "--no-torch",
  ]);
  for (const name of ["A", "B", "C"] as const) {
    const before = tf.memory().numTensors;
    const r = await benchWorkload(name, info, args);
    assert.equal(tf.memory().numTensors, before, `${name}: no tensors left`);
    assert.equal(r.workload, name);
    assert.equal(r.backend, "cpu");
    for (const key of ["samplesPerSec", "gflops", "peakRssMB"] as const) {
      assert.ok(Number.isFinite(r[key]) && r[key] > 0, `${name}.${key} = ${r[key]}`);
    }
    assert.equal(r.rates.length, 2);
    assert.equal(r.overheadPct !== null, name === "B");
    assert.equal(r.pairedRates?.length ?? 2, 2);
    assert.equal(r.handwrittenRates?.length ?? 2, 2);
    assert.equal(r.leakedTensors, 0);
    assert.equal(r.gpuWork, null, "GPU work is counted on webgpu only");
    assert.equal(r.torchNote, "--no-torch");
    assert.ok(r.lastValues.every(Number.isFinite), `${name}: ${r.lastValues}`);
    assert.ok(!formatResult(r).includes("\n"));
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  }
});

Deno.test("on webgpu a step of A issues about 60 dispatches in one submission: Adam in groups of variables, SiLU one each way", async () => {
  const out = await new Deno.Command("deno", {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-write=runs",
      "bench/main.ts",
      ...["--backend", "webgpu", "--workload", "A", "--batch", "128", "--hidden", "64"],
      ...["--steps", "2", "--warmup", "1", "--windows", "1", "--no-torch", "--json"],
    ],
    cwd: new URL("..", import.meta.url).pathname,
    env: { ELBO_BACKEND: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
  const { backend, gpuWork } = JSON.parse(line);
  assert.equal(backend, "webgpu");
  // 46 tfjs kernels + 8 SiLU + 6 bias-gradient dispatches + Adam's 12 variables in 1 to 3
  // dispatches (4 per dispatch on llvmpipe): 61 to 63 (all tfjs ops: 246); one
  // submission per step (inOneSubmission; tfjs alone: one per 15 dispatches), plus the final read
  // over the 2 counted steps.
  assert.ok(gpuWork.dispatches >= 61 && gpuWork.dispatches <= 63, JSON.stringify(gpuWork));
  assert.equal(gpuWork.submits, 1.5, JSON.stringify(gpuWork));
});

Deno.test("the bench bundles into one file that runs without node_modules (the GPU kit's bench.js)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elbo-bundle-" });
  try {
    const deno = (args: string[], cwd: string) =>
      new Deno.Command("deno", {
        args,
        cwd,
        env: { ELBO_BACKEND: "" },
        stdout: "piped",
        stderr: "piped",
      })
        .output();
    const root = new URL("..", import.meta.url).pathname;
    const built = await deno(
      ["bundle", "--quiet", "--platform", "deno", "-o", `${dir}/bench.js`, "bench/main.ts"],
      root,
    );
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    const ran = await deno([
      "run",
      "-A",
      "bench.js",
      ...[
        "--backend",
        "cpu",
        "--native",
        "off",
        "--workload",
        "C",
        "--batch",
        "4",
        "--hidden",
        "8",
      ],
      ...["--steps", "1", "--warmup", "0", "--windows", "1", "--no-torch", "--no-handwritten"],
      "--json",
    ], dir);
    assert.equal(ran.code, 0, new TextDecoder().decode(ran.stderr));
    const line = JSON.parse(new TextDecoder().decode(ran.stdout).trim().split("\n").at(-1)!);
    assert.equal(line.workload, "C");
    assert.equal(line.backend, "cpu");
    assert.ok(line.samplesPerSec > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
