/**
 * In-place optimiser updates on webgpu (`lib/backend/webgpu_inplace.ts`, `webgpu_adam.ts`,
 * `webgpu_ema.ts`; llvmpipe in CI) and on wasm (`native_adam.ts`, `native_ema.ts`), through
 * `Adam`, `FusedAdamOptimizer` and `Ema`: the same values as the tfjs-ops update, the variables keep their buffers, and the cases that must not be
 * written in place are not. One process per backend (`webgpu_inplace_worker.ts`).
 */

import assert from "node:assert/strict";
import type { InPlaceOutput } from "./webgpu_inplace_worker.ts";
import { runWorker } from "./spawn.ts";

async function run(backend: string): Promise<InPlaceOutput> {
  const { json } = await runWorker<InPlaceOutput>("webgpu_inplace_worker.ts", [backend]);
  assert.equal(json.backend, backend);
  return json;
}

for (const backend of ["webgpu", "wasm"]) {
  Deno.test(`Adam and the EMA on ${backend} update in place and match the tfjs-ops update`, async () => {
    const out = await run(backend);
    assert.ok(out.adamError <= 1e-6, `Adam differs from the ops path by ${out.adamError}`);
    assert.equal(out.adamKeptBuffers, true, "each weight and moment keeps its buffer");
    assert.equal(out.opsReplacedBuffers, true, "the ops path (the control) replaces them");
    assert.equal(out.sharedUntouched, true, "a tensor sharing a weight's buffer is not changed");
    assert.equal(out.readAfterCachedRead, true, "a read after an earlier read sees the update");
    assert.ok(
      out.fusedError <= 1e-5,
      `FusedAdamOptimizer differs from tfjs's by ${out.fusedError}`,
    );
    assert.equal(out.fusedKeptBuffer, true, "FusedAdamOptimizer updates in place");
    assert.equal(out.emptyOk, true, "empty tensors fall back to tfjs ops");
    assert.ok(out.emaError <= 1e-6, `the EMA differs from the ops formula by ${out.emaError}`);
    assert.equal(out.emaKeptBuffer, true, "the EMA shadow keeps its buffer");
    assert.deepEqual(out.bigEma, [2, 2, 2], "every element of a 16.8 M-element EMA is updated");
    assert.equal(out.leakedTensors, 0);
  });
}

Deno.test("on webgpu the work recorded in inOneSubmission goes to the queue in one submission", async () => {
  const { submissions } = await run("webgpu");
  // 41 dispatches: tfjs-webgpu submits every 15 (2 while recording), inOneSubmission once.
  assert.deepEqual(submissions, { plain: 2, inOne: 1, values: [41, 41], batchAfter: 15 });
});

Deno.test("on webgpu one Adam dispatch updates as many variables as the storage-buffer limit allows", async () => {
  const { adamGroups } = await run("webgpu");
  assert.ok(adamGroups !== null && adamGroups.perDispatch >= 2, JSON.stringify(adamGroups));
  assert.equal(adamGroups.dispatches, Math.ceil(6 / adamGroups.perDispatch));
});

Deno.test("on webgpu one EMA dispatch updates several shadows, each to the right value", async () => {
  const { emaGroups } = await run("webgpu");
  assert.ok(emaGroups !== null && emaGroups.perDispatch >= 4, JSON.stringify(emaGroups));
  assert.equal(emaGroups.dispatches, Math.ceil(6 / emaGroups.perDispatch));
  assert.equal(emaGroups.valuesOk, true);
});

Deno.test("on cpu the default update runs tfjs ops (data() returns the tensor's own array)", async () => {
  const out = await run("cpu");
  assert.equal(out.adamKeptBuffers, false);
  assert.equal(out.adamError, 0, "both optimisers ran the same ops");
  assert.equal(out.sharedUntouched, true);
  assert.equal(out.leakedTensors, 0);
});
