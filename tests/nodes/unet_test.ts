import assert from "node:assert/strict";
import { runWorker } from "../backend/spawn.ts";

interface Out {
  backend: string;
  first: number;
  last: number;
}

const run = (backend: string) =>
  runWorker<Out>("../nodes/unet_worker.ts", [backend]).then((r) => {
    assert.equal(r.code, 0, r.stderr);
    return r.json;
  });

Deno.test("the U-Net ε-net trains on cpu, wasm and webgpu, with the same losses as cpu", async () => {
  const outs = await Promise.all(["cpu", "wasm", "webgpu"].map(run));
  const [cpu] = outs;
  for (const o of outs) {
    assert.ok(o.last < 0.7 * o.first, `${o.backend}: loss ${o.first} → ${o.last}`);
    for (const k of ["first", "last"] as const) {
      assert.ok(
        Math.abs(o[k] - cpu![k]) < 1e-3 * cpu![k],
        `${o.backend}: ${k} loss ${o[k]} vs cpu ${cpu![k]}`,
      );
    }
  }
});
