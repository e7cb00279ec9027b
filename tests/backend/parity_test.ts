/**
 * Backend parity: values and gradients of matmul (4 transpose combinations, 2-D and batched 3-D),
 * fused matmul, elbo's SiLU, conv2d (stride 1/2, same/valid), conv2dTranspose, tile / broadcastTo,
 * sin / cos, gather and UnsortedSegmentSum,
 * each computed on cpu, wasm (with elbo's kernels) and webgpu (llvmpipe in CI), and on cpu and wasm
 * with the native BLAS kernels (OpenBLAS through FFI), one process per backend
 * (`parity_worker.ts`). Reference: cpu with tfjs's own kernels. Tolerance: |x − cpu| ≤ 1e-4 · (1 + |cpu|)
 * elementwise (float32 sums of ≤ 250 products of values in [−1, 1]; observed ≤ 1e-6).
 */

import assert from "node:assert/strict";
import type { CaseResult, WorkerOutput } from "./parity_worker.ts";
import { DEFAULT_PERMISSIONS, runWorker } from "./spawn.ts";
import { findNativeBlas } from "../../lib/backend/native_blas.ts";

/** The native parity tests need OpenBLAS (CI installs libopenblas0-openmp). */
const blas = findNativeBlas();

const TOLERANCE = 1e-4;

const runs = new Map<string, Promise<WorkerOutput>>();
/** The parity worker's output for `backend` (each worker runs once per test file). */
function parity(backend: string, ...flags: string[]): Promise<WorkerOutput> {
  const key = [backend, ...flags].join(" ");
  let run = runs.get(key);
  if (run === undefined) {
    const permissions = flags.includes("--native")
      ? [...DEFAULT_PERMISSIONS, "--allow-ffi"]
      : DEFAULT_PERMISSIONS;
    run = runWorker<WorkerOutput>("parity_worker.ts", [backend, ...flags], { permissions })
      .then((r) => r.json);
    runs.set(key, run);
  }
  return run;
}

/** Assert that `got` matches the cpu reference within the tolerance, naming the worst element. */
function assertClose(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!));
    if (!(err <= worst)) [worst, at] = [err, i];
  }
  assert.ok(
    worst <= TOLERANCE,
    `${what}: element ${at} is ${got[at]}, cpu has ${want[at]} (relative error ${worst})`,
  );
}

/** Compare every case of `backend` with cpu, except `skip`. */
async function compareWithCpu(
  backend: string,
  skip: string[] = [],
  flags: string[] = [],
): Promise<void> {
  const [cpu, other] = await Promise.all([parity("cpu"), parity(backend, ...flags)]);
  assert.equal(other.backend, backend);
  assert.equal(cpu.native, null, "the reference runs tfjs-cpu's own kernels");
  assert.deepEqual(Object.keys(other.cases), Object.keys(cpu.cases), "the same cases ran");
  const names = Object.keys(cpu.cases).filter((n) => !skip.includes(n));
  assert.ok(names.length >= 20, "every parity case ran");
  for (const name of names) {
    const want = cpu.cases[name]!, got = other.cases[name]!;
    assert.ok(!("error" in want), `cpu failed ${name}: ${JSON.stringify(want)}`);
    assert.ok(!("error" in got), `${backend} failed ${name}: ${JSON.stringify(got)}`);
    const w = want as CaseResult, g = got as CaseResult;
    assertClose(g.value, w.value, `${backend} ${name} value`);
    assert.equal(g.grads.length, w.grads.length);
    g.grads.forEach((grad, i) => assertClose(grad, w.grads[i]!, `${backend} ${name} grad ${i}`));
  }
}

Deno.test("wasm with elbo's kernels matches cpu on every value and gradient", async () => {
  await compareWithCpu("wasm");
});

Deno.test({
  name: "wasm with native BLAS matches cpu on every value and gradient",
  ignore: blas.library === null,
  fn: async () => {
    assert.equal((await parity("wasm", "--native")).native, blas.library);
    await compareWithCpu("wasm", [], ["--native"]);
  },
});

Deno.test({
  name: "cpu with native BLAS matches tfjs-cpu's own kernels on every value and gradient",
  ignore: blas.library === null,
  fn: async () => {
    assert.equal((await parity("cpu", "--native")).native, blas.library);
    await compareWithCpu("cpu", [], ["--native"]);
  },
});

Deno.test("webgpu matches cpu on every value and gradient", async () => {
  // tfjs-webgpu 4.22 returns float bit patterns from an int32 UnsortedSegmentSum (its bug, not
  // used by gradients, which are float32): compared on wasm only.
  await compareWithCpu("webgpu", ["unsortedSegmentSum int32"]);
});

Deno.test("no parity case leaks tensors or backend buffers on any backend", async () => {
  const runs: [string, string[]][] = [["cpu", []], ["wasm", []], ["webgpu", []]];
  if (blas.library !== null) runs.push(["cpu", ["--native"]], ["wasm", ["--native"]]);
  for (const [backend, flags] of runs) {
    const out = await parity(backend, ...flags);
    const what = `${backend}${flags.length > 0 ? ` ${flags.join(" ")}` : ""}`;
    assert.equal(out.leakedTensors, 0, `${what}: tf.memory().numTensors grew`);
    assert.equal(out.leakedDataIds, 0, `${what}: backend.numDataIds() grew`);
  }
});

Deno.test("stock tfjs-wasm cannot train conv nets or embeddings: elbo's kernels are needed", async () => {
  const stock = await parity("wasm", "--stock");
  const failed = Object.entries(stock.cases).filter(([, r]) => "error" in r);
  for (const [name, r] of failed) {
    assert.match(name, /^(conv2d|gather|unsortedSegmentSum)/);
    assert.match(
      (r as { error: string }).error,
      /Kernel '(Conv2DBackpropFilter|UnsortedSegmentSum)' not registered for backend 'wasm'/,
    );
  }
  assert.ok(failed.some(([n]) => n.startsWith("conv2d")), "a conv gradient failed");
  assert.ok(failed.some(([n]) => n.startsWith("gather")), "a gather gradient failed");
  assert.ok(!("error" in stock.cases["matmul2d tA=true tB=false"]!), "stock matmul works");
});
