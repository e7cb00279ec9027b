/**
 * End to end: `deno task nll-table --preset smoke` through the sweep CLI (a subprocess with the
 * task's permissions, so the printed table is checked as the user sees it). Every row must train
 * and report a sane NLL, the toy rows must not beat their exact entropy, `table.md` and the
 * per-t plots must exist, and a second run must skip what is done and redo only what was lost.
 * The report itself is checked on a hand-made summary (seeds, failures, findings).
 */

import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { nllTableReport, type TableRow } from "../../experiments/common/nll_report.ts";
import { publishedAnalog } from "../../experiments/common/published_nll.ts";
import type { RunRecord, Summary } from "../../lib/sweep/mod.ts";
import { writeSummary } from "../../lib/sweep/summary.ts";

const ROOT = resolve(import.meta.dirname!, "../..");
const DIFFUSION = [
  "linear-simple",
  "cosine-simple",
  "linear-hybrid",
  "cosine-hybrid",
  "cosine-vlb",
];
const ROWS = [...DIFFUSION, "vae", "hvae", ...DIFFUSION.map((r) => `toy-${r}`)];
const LABELS = [
  "linear / L_simple",
  "cosine / L_simple",
  "linear / L_hybrid",
  "cosine / L_hybrid",
  "cosine / L_vlb (IS t)",
  "VAE (IWAE-k)",
  "HVAE, 2 levels (IWAE-k)",
];

/** Runs `deno task nll-table --preset smoke` into `runs`, as the task does. */
async function smoke(dir: string): Promise<{ code: number; out: string }> {
  const runs = join(dir, "runs");
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${ROOT},/usr/share/datasets,${dir}`,
      `--allow-write=${runs}`,
      "--allow-env=ELBO_BACKEND,LOG_TOKENS,LOG_STREAM,OMP_WAIT_POLICY",
      "--allow-ffi",
      "--allow-sys=hostname",
      join(ROOT, "lib/sweep/cli.ts"),
      join(ROOT, "experiments/nll-table.ts"),
      "--preset",
      "smoke",
      "--runs-dir",
      runs,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const out = dec.decode(stdout);
  assert.equal(code, 0, `sweep failed:\n${out}\n${dec.decode(stderr)}`);
  return { code, out };
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("nll-table smoke: every row reports a sane NLL, the toy rows respect their entropy, and a re-run resumes", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "nll_table_e2e_" });
  const exp = join(dir, "runs", "nll-table");
  try {
    const first = await smoke(dir);

    await t.step("the printed table says it is a smoke test and lists every row", () => {
      assert.match(first.out, /This is a smoke test/);
      assert.match(first.out, /\| row +\| +T \| Σ_θ/);
      for (const label of LABELS) assert.ok(first.out.includes(`| ${label} `), label);
      assert.match(first.out, /## Findings/);
      assert.match(first.out, /## Known-density check/);
    });

    let records: { id: string; swept: { row: string }; state: string }[] = [];
    await t.step("every row is done with numbers in a sane range", async () => {
      const summary = await readJson(join(exp, "summary.json"));
      records = summary.runs as typeof records;
      assert.deepEqual(records.map((r) => r.swept.row), ROWS);
      for (const r of records) {
        const row = r.swept.row;
        assert.equal(r.state, "done", row);
        const ev = await readJson(join(exp, r.id, "eval.json"));
        const nll = ev.nllBpd as number, se = ev.nllBpdSE as number;
        assert.ok(Number.isFinite(se) && se > 0, `${row}: s.e. ${se}`);
        if (row.startsWith("toy-")) {
          // An upper bound on −log P of quantised points: never below the exact entropy.
          const gap = ev.nllMinusH as number, gapSE = ev.nllMinusHSE as number;
          assert.ok(gap >= -3 * gapSE - 0.05, `${row}: NLL − H = ${gap} ± ${gapSE}`);
          assert.ok(gap < 8, `${row}: NLL − H = ${gap} nats: far from the density`);
          continue;
        }
        // 8-bit MNIST: uniform over 256 levels is 8 bits/dim; tiny models are well below it.
        assert.ok(nll > 0.5 && nll < 8, `${row}: ${nll} bits/dim`);
        const judge = ev.judgeScore as number;
        assert.ok(judge >= 1 && judge <= 10, `${row}: judge score ${judge}`);
        assert.ok((ev.evalSeconds as number) > 0 && (ev.trainSteps as number) === 60, row);
        if (DIFFUSION.includes(row)) {
          // The total is the sum of its parts, and the per-t curve covers the full chain.
          const parts = (ev.rateBpd as number) + (ev.decoderBpd as number) +
            (ev.priorBpd as number);
          assert.ok(Math.abs(parts - nll) < 1e-6 * nll, `${row}: ${parts} ≠ ${nll}`);
          assert.equal((ev.perT as number[]).length, 100, row);
        } else {
          // IWAE-k never exceeds the −ELBO of its own samples.
          assert.ok(nll <= (ev.iwaeNelboBpd as number) + 1e-6, `${row}: IWAE ${nll}`);
          assert.equal(ev.iwaeK, 10);
        }
      }
    });

    await t.step("table.md and the per-t plots are written", async () => {
      const table = await Deno.readTextFile(join(exp, "table.md"));
      assert.ok(first.out.includes(table), "the printed text is table.md");
      for (const label of LABELS) assert.ok(table.includes(label), label);
      for (const plot of ["plots/nll_per_t.svg", "plots/toy_nll_per_t.svg"]) {
        const svg = await Deno.readTextFile(join(exp, plot));
        assert.ok(svg.startsWith("<svg") && svg.includes("cosine / L_vlb (IS t)"), plot);
      }
    });

    await t.step("a re-run skips every finished run and prints the table again", async () => {
      const again = await smoke(dir);
      assert.match(again.out, /to do: 0 trainings, 0 evaluations \(12 runs already done\)/);
      assert.match(again.out, /This is a smoke test/);
    });

    await t.step("a lost evaluation is redone from its finished training alone", async () => {
      const lost = records.find((r) => r.swept.row === "cosine-vlb")!;
      await Deno.remove(join(exp, lost.id), { recursive: true });
      const again = await smoke(dir);
      assert.match(again.out, /to do: 0 trainings, 1 evaluation \(11 runs already done\)/);
      const ev = await readJson(join(exp, lost.id, "eval.json"));
      assert.ok((ev.nllBpd as number) > 0.5 && (ev.nllBpd as number) < 8);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const TEST_ROWS: TableRow[] = [
  {
    id: "ls",
    label: "linear / L_simple",
    family: "diffusion",
    toy: false,
    schedule: "linear",
    objective: "L_simple",
  },
  {
    id: "cs",
    label: "cosine / L_simple",
    family: "diffusion",
    toy: false,
    schedule: "cosine",
    objective: "L_simple",
  },
  {
    id: "cv",
    label: "cosine / L_vlb",
    family: "diffusion",
    toy: false,
    schedule: "cosine",
    objective: "L_vlb",
  },
  { id: "vae", label: "VAE", family: "vae", toy: false },
  {
    id: "toy",
    label: "toy cosine / L_simple",
    family: "diffusion",
    toy: true,
    schedule: "cosine",
    objective: "L_simple",
  },
];

function fakeSummary(): Summary {
  const perT = (T: number) => Array.from({ length: T }, (_, t) => 1 / (t + 1));
  const runs: RunRecord[] = [];
  const add = (row: string, seed: number, metrics: Record<string, number | number[]> | null) =>
    runs.push({
      id: `${row}-${seed}`,
      trainedBy: `train-${row}-${seed}`,
      swept: { row, seed },
      state: metrics === null ? "failed" : "done",
      step: 100,
      metrics,
    });
  const diff = (nll: number) => ({
    nllBpd: nll,
    nllBpdSE: 0.01,
    rateBpd: nll - 1,
    decoderBpd: 1,
    priorBpd: 0,
    judgeScore: 2,
    trainSteps: 100,
    trainSeconds: 90,
    evalSeconds: 30,
    perT: perT(1000),
  });
  // cosine beats linear clearly; L_vlb is worse than cosine/L_simple by far more than the s.e.
  for (const seed of [0, 1]) {
    add("ls", seed, diff(3.5 + 0.02 * seed));
    add("cs", seed, diff(3.3 + 0.02 * seed));
    add("cv", seed, diff(3.6));
    add("toy", seed, {
      ...diff(9),
      nllMinusH: 0.4,
      nllMinusHSE: 0.05,
      nllNats: 9,
      entropyNats: 8.6,
    });
  }
  add("vae", 0, null);
  return {
    experiment: "nll-table",
    preset: "laptop",
    codeVersion: "0123456789",
    config: { row: "ls", data: "mnist", seed: 0 },
    trainings: runs.length,
    evaluations: runs.length,
    counts: { queued: 0, running: 0, done: runs.length - 1, failed: 1 },
    sweptKeys: ["row", "seed"],
    groupKeys: ["row"],
    metrics: ["nllBpd"],
    primary: "nllBpd",
    lowerIsBetter: true,
    groups: [],
    runs,
  };
}

Deno.test("nllTableReport() states the findings from the numbers, with seeds and failures", () => {
  const r = nllTableReport(fakeSummary(), { rows: TEST_ROWS, protocol: () => "test protocol" });
  const md = r.files["table.md"]!;
  assert.equal(r.print, md);
  assert.doesNotMatch(md, /smoke test/);
  assert.match(md, /\*\*Protocol\.\*\* test protocol/);
  // Two seeds: the mean, √(mean s.e.² + std²/n), and the std over seeds.
  assert.match(
    md,
    /\| linear \/ L_simple +\| 1000 \| – +\| +3\.510 ± 0\.014 \| +0\.014 \(2 seeds\) \|/,
  );
  // Published analogues: the exact T = 1000 row, or a T = 4000 row marked as such.
  assert.match(md, /\| +3\.73 \| +3\.99 \|/);
  assert.match(md, /2\.94 \(T=4K\)/);
  assert.match(md, /\| VAE +\| +– \| – +\| +1 failed \|/);
  assert.match(md, /\*\*cosine ≤ linear\*\* \(L_simple, T = 1000\): \*\*held\*\*/);
  assert.match(
    md,
    /\*\*L_vlb lowest\*\* \(T = 1000, against the best other row\): \*\*did not reproduce\*\*: the order is reversed/,
  );
  assert.match(md, /every toy row's NLL is at or above the exact entropy/);
  assert.match(
    md,
    /\| toy cosine \/ L_simple \| 1000 \| +9\.000 ± 0\.050 \| +8\.600 \| \+0\.400 ± 0\.050 \| yes/,
  );
  assert.ok(r.files["plots/nll_per_t.svg"]?.startsWith("<svg"));
  assert.ok(r.files["plots/toy_nll_per_t.svg"]?.startsWith("<svg"));
});

Deno.test("nllTableReport() flags a toy NLL below the entropy as a failed check", () => {
  const s = fakeSummary();
  for (const run of s.runs) if (run.swept.row === "toy") run.metrics!.nllMinusH = -0.5;
  const md = nllTableReport(s, { rows: TEST_ROWS, protocol: () => "" }).files["table.md"]!;
  assert.match(md, /Known density: FAILED\*\* for toy cosine \/ L_simple/);
  assert.match(md, /\| \*\*NO\*\* +\|/);
});

Deno.test("publishedAnalog() prefers the same T and falls back to the nearest", () => {
  assert.equal(publishedAnalog("linear", "L_simple", 1000)?.cifar10, 3.73);
  assert.equal(publishedAnalog("linear", "L_simple", 4000)?.imagenet64, 3.77);
  assert.equal(publishedAnalog("cosine", "L_simple", 1000)?.T, 4000);
  assert.equal(publishedAnalog("linear", "L_vlb", 1000), undefined);
});

Deno.test("writeSummary() writes a summary's report files and prints its text", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nll_table_report_" });
  try {
    const printed: string[] = [];
    const s: Summary = {
      ...fakeSummary(),
      report: { files: { "table.md": "# t\n" }, print: "# t" },
    };
    const files = await writeSummary(dir, s, { log: (t) => printed.push(t) });
    assert.ok(files.includes(join(dir, "table.md")));
    assert.equal(await Deno.readTextFile(join(dir, "table.md")), "# t\n");
    assert.deepEqual(printed, ["# t"]);
    const json = await readJson(join(dir, "summary.json"));
    assert.equal(json.report, undefined, "the rendered report is not saved twice");
    await assert.rejects(
      writeSummary(dir, { ...s, report: { files: { "../escape.md": "x" } } }, { log: () => {} }),
      RangeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
