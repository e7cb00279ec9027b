import assert from "node:assert/strict";
import { join } from "node:path";
import { planSweep } from "../../lib/sweep/expand.ts";
import {
  buildSummary,
  plotData,
  type RunRecord,
  summaryMarkdown,
  writeSummary,
} from "../../lib/sweep/summary.ts";
import type { Experiment } from "../../lib/sweep/types.ts";
import { tempDir, tree } from "./_helpers.ts";

const exp: Experiment = {
  name: "demo",
  description: "demo",
  defaults: { schedule: "cosine", seed: 0, lr: 0.1 },
  presets: { smoke: {}, laptop: {}, full: {} },
  axes: { schedule: ["linear", "cosine"], seed: [0, 1, 2] },
  trainKey: (cfg) => cfg,
  train: () => Promise.resolve(),
  evaluate: () => Promise.resolve({}),
};

function records(): { plan: ReturnType<typeof planSweep>; recs: RunRecord[] } {
  const plan = planSweep(exp, "v");
  const nll: Record<string, number[]> = { linear: [3.1, 3.3, 3.2], cosine: [2.9, 3.0, 3.1] };
  const recs = plan.runs.map((r, i): RunRecord => {
    const failed = r.config.schedule === "cosine" && r.config.seed === 2;
    const rec: RunRecord = {
      id: r.id,
      trainedBy: r.trainId,
      swept: r.swept,
      state: failed ? "failed" : "done",
      step: failed ? 7 : 100,
      metrics: failed
        ? null
        : { nll: nll[r.config.schedule as string]?.[r.config.seed as number] ?? 0, vb: [i, 1] },
    };
    if (failed) rec.error = "TrainStepError: loss is NaN at step 7";
    return rec;
  });
  return { plan, recs };
}

Deno.test("buildSummary() averages over seeds per group and sorts by the primary metric", () => {
  const { plan, recs } = records();
  const s = buildSummary(plan, recs, {
    spec: { metrics: ["nll"], primary: "nll", lowerIsBetter: true },
  });
  assert.deepEqual(s.groupKeys, ["schedule"]);
  assert.deepEqual(s.groups.map((g) => g.key), [{ schedule: "cosine" }, { schedule: "linear" }]);
  const cosine = s.groups[0]?.metrics.nll;
  assert.equal(cosine?.n, 2); // the failed seed is left out
  assert.ok(Math.abs((cosine?.mean ?? 0) - 2.95) < 1e-12);
  assert.ok(Math.abs((cosine?.std ?? 0) - Math.sqrt(0.005)) < 1e-12); // sample std (n − 1)
  assert.deepEqual(s.groups[0]?.values.nll, [2.9, 3.0]);
  assert.deepEqual(s.groups[1]?.seeds, [0, 1, 2]);
  assert.deepEqual(s.counts, { queued: 0, running: 0, done: 5, failed: 1 });
  const reversed = buildSummary(plan, recs, {
    spec: { metrics: ["nll"], primary: "nll", lowerIsBetter: false },
  });
  assert.deepEqual(reversed.groups[0]?.key, { schedule: "linear" });
});

Deno.test("summary.md shows mean ± std, every run, the failures, and the work counts", () => {
  const { plan, recs } = records();
  const md = summaryMarkdown(buildSummary(plan, recs));
  assert.match(md, /6 trainings, 6 evaluations\. 5 done, 1 failed, 0 not finished/);
  assert.match(md, /## Final metrics by schedule \(mean ± std over seeds, sorted by nll/);
  assert.match(md, /\| cosine +\| +2 \| +2\.950 ± 0\.071 \|/);
  assert.match(md, /\| linear +\| +3 \| +3\.200 ± 0\.100 \|/);
  assert.match(md, /## Failures[\s\S]*\| +7 \| TrainStepError: loss is NaN at step 7 \|/);
  assert.equal(md.match(/^\| `[0-9a-f]{10}` \|/gm)?.length, 6 + 1); // runs + the failure row
});

Deno.test("plotData() takes each training's loss curve and the metric per axis value", () => {
  const { plan, recs } = records();
  const s = buildSummary(plan, recs);
  const curves = Object.fromEntries(
    plan.groups.map((g) => [g.id, [{ step: 1, loss: 2, lr: 0.1 }, { step: 2, loss: 1, lr: 0.1 }]]),
  );
  const data = plotData(s, curves);
  assert.equal(data.curveMetric, "loss");
  assert.equal(data.curves.length, 6);
  assert.deepEqual([data.curves[0]?.x, data.curves[0]?.y], [[1, 2], [2, 1]]);
  assert.equal(data.curves[0]?.name, "schedule=linear seed=0");
  assert.equal(data.axes.length, 1);
  const axis = data.axes[0];
  assert.equal(axis?.key, "schedule");
  assert.equal(axis?.logX, false);
  const series = axis?.series[0];
  assert.deepEqual(series?.x, ["linear", "cosine"]);
  assert.ok(Math.abs((series?.mean[0] ?? 0) - 3.2) < 1e-12);
  assert.ok(Math.abs((series?.std?.[1] ?? 0) - Math.sqrt(0.005)) < 1e-12);
});

Deno.test("writeSummary() writes summary.md, summary.json and SVG plots", async () => {
  const dir = await tempDir();
  const { plan, recs } = records();
  const files = await writeSummary(dir, buildSummary(plan, recs), {
    curves: { [plan.groups[0]?.id ?? ""]: [{ step: 1, loss: 1 }, { step: 2, loss: 0.5 }] },
  });
  assert.equal(files.length, 4);
  assert.deepEqual(await tree(dir), [
    "plots",
    "plots/loss.svg",
    "plots/nll-vs-schedule.svg",
    "summary.json",
    "summary.md",
  ]);
  assert.ok((await Deno.readTextFile(join(dir, "plots/loss.svg"))).startsWith("<svg"));
  const json = JSON.parse(await Deno.readTextFile(join(dir, "summary.json")));
  assert.equal(json.trainings, 6);
  assert.equal(json.runs.length, 6);
  assert.match(
    await Deno.readTextFile(join(dir, "summary.md")),
    /!\[plots\/loss.svg\]\(plots\/loss.svg\)/,
  );
  await Deno.remove(dir, { recursive: true });
});
