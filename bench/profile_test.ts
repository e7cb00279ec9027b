import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import { makeFrameworkWorkload } from "./framework.ts";
import { formatProfile, profileSteps } from "./profile.ts";

Deno.test("profileSteps counts workload C's six dense layers per step and sums their times", async () => {
  await initBackend({ backend: "cpu", native: false, quiet: true });
  const work = makeFrameworkWorkload("C", { batch: 4, hidden: 8 });
  const p = await profileSteps(work, 3);
  work.dispose();
  assert.equal(p.steps, 3);
  // Two layers of the time embedding, four of the ε-MLP; each kernel row is per step.
  const dense = p.rows.filter((r) => r.kernel === "_FusedMatMul");
  assert.equal(dense.reduce((s, r) => s + r.calls, 0), 6, JSON.stringify(dense));
  assert.ok(p.kernelMs > 0 && p.wallMs > 0);
  const sum = p.rows.reduce((s, r) => s + r.ms, 0);
  assert.ok(Math.abs(sum - p.kernelMs) < 1e-9);
  for (let i = 1; i < p.rows.length; i++) assert.ok(p.rows[i - 1]!.ms >= p.rows[i]!.ms);
});

Deno.test("formatProfile shows the top rows, sums the rest, and says when there are no times", () => {
  const rows = [
    { kernel: "A", inputShapes: "[]", calls: 1, ms: 3 },
    { kernel: "B", inputShapes: "[]", calls: 2, ms: 2 },
    { kernel: "C", inputShapes: "[]", calls: 3, ms: 1 },
  ];
  const p = { workload: "A" as const, backend: "cpu", steps: 1, wallMs: 8, kernelMs: 6, rows };
  const lines = formatProfile(p, 1);
  assert.match(lines[2]!, /3\.000\s+37\.5%\s+1 {2}A \[\]/);
  assert.match(lines[3]!, /3\.000\s+37\.5%\s+5 {2}2 more/);
  assert.equal(lines[4], "outside tfjs kernels: 2.00 ms (25.0%)");
  const untimed = { ...p, kernelMs: NaN, rows: rows.map((r) => ({ ...r, ms: NaN })) };
  assert.match(formatProfile(untimed, 3).join("\n"), /gives no kernel times/);
});
