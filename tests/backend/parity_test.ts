/**
 * Backend parity: values and gradients of matmul (4 transpose combinations, 2-D and batched 3-D),
 * fused matmul, conv2d (stride 1/2, same/valid), conv2dTranspose, gather and UnsortedSegmentSum,
 * each computed on cpu, wasm (with elbo's kernels) and webgpu (llvmpipe in CI), one process per
 * backend (`parity_worker.ts`). Reference: cpu. Tolerance: |x − cpu| ≤ 1e-4 · (1 + |cpu|)
 * elementwise (float32 sums of ≤ 250 products of values in [−1, 1]; observed ≤ 1e-6).
 */

import assert from "node:assert/strict";
import type { CaseResult, WorkerOutput } from "./parity_worker.ts";
import { runWorker } from "./spawn.ts";

const TOLERANCE = 1e-4;

const runs = new Map<string, Promise<WorkerOutput>>();
/** The parity worker's output for `backend` (each worker runs once per test file). */
function parity(backend: string, ...flags: string[]): Promise<WorkerOutput> {
  const key = [backend, ...flags].join(" ");
  let run = runs.get(key);
  if (run === undefined) {
    run = runWorker<WorkerOutput>("parity_worker.ts", [backend, ...flags]).then((r) => r.json);
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
async function compareWithCpu(backend: string, skip: string[] = []): Promise<void> {
  const [cpu, other] = await Promise.all([parity("cpu"), parity(backend)]);
  assert.equal(other.backend, backend);
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

Deno.test("webgpu matches cpu on every value and gradient", async () => {
  // tfjs-webgpu 4.22 returns float bit patterns from an int32 UnsortedSegmentSum (its bug, not
  // used by gradients, which are float32): compared on wasm only.
  await compareWithCpu("webgpu", ["unsortedSegmentSum int32"]);
});

Deno.test("no parity case leaks tensors or backend buffers on any backend", async () => {
  for (const backend of ["cpu", "wasm", "webgpu"]) {
    const out = await parity(backend);
    assert.equal(out.leakedTensors, 0, `${backend}: tf.memory().numTensors grew`);
    assert.equal(out.leakedDataIds, 0, `${backend}: backend.numDataIds() grew`);
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
