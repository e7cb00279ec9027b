/**
 * The NLL comparison table of `experiments/nll-table.ts`, rendered from a sweep summary: one row
 * per model with its test NLL (bits/dim, ± standard error over test images, ± std over seeds),
 * rate/distortion split, sample-quality proxy, cost, and the published Improved DDPM number of
 * the analogous row; a findings block that tests the paper's claims against our standard errors;
 * a known-density table (NLL − H on a 2-D mixture); and the per-timestep plots.
 *
 * Pure functions of the summary, so the table is rebuilt the same way on every (resumed) sweep.
 *
 * @module
 */

import { linePlot, type LineSeries, markdownTable } from "../../lib/report/mod.ts";
import type { RunRecord, Summary, SummaryReport } from "../../lib/sweep/mod.ts";
import { type Objective, publishedAnalog } from "./published_nll.ts";

/** What the report knows about one row of the table (one value of the `row` axis). */
export interface TableRow {
  /** The value of the `row` axis. */
  id: string;
  /** How it reads in the table, e.g. `"cosine / L_vlb (IS t)"`. */
  label: string;
  /** A diffusion (exact bound, full chain) or a VAE-type model (IWAE-k). */
  family: "diffusion" | "vae";
  /** A known-density row (2-D toy mixture), reported in the second table. */
  toy: boolean;
  /** β schedule (diffusion rows). */
  schedule?: string;
  /** Objective (diffusion rows). */
  objective?: Objective;
  /** The reverse-process variance, as the table shows it (e.g. `"fixed β_t"`). */
  variance?: string;
}

/** Options of {@linkcode nllTableReport}. */
export interface NllReportOptions {
  /** Every row the experiment can run, in table order. */
  rows: readonly TableRow[];
  /** The protocol paragraph (data, split, discretization, T, steps) for this summary. */
  protocol: (summary: Summary) => string;
  /** The config key of the rows. @default "row" */
  rowKey?: string;
  /** The command that reproduces the table. @default none shown */
  command?: string;
}

/** Mean and standard error of one row over its finished seeds. */
export interface RowStat {
  /** Mean over seeds. */
  mean: number;
  /** Standard error: √(mean s.e.² over seeds + std²/n) (see {@linkcode rowStat}). */
  se: number;
  /** Std over seeds (NaN for one seed). */
  seedStd: number;
  /** Seeds finished. */
  n: number;
}

/**
 * Combines per-seed estimates with their own standard errors. The seeds of a row are evaluated
 * on the same test images, so averaging seeds does not shrink the image noise; the seed-to-seed
 * spread adds std²/n: se² = mean(seᵢ²) + std²/n.
 *
 * @param values Per-seed estimates.
 * @param ses Their standard errors (over test images).
 * @returns Mean, combined s.e., std over seeds, count; NaN mean when there are no values.
 *
 * @example Two seeds
 * ```ts
 * import { rowStat } from "./nll_report.ts";
 * const s = rowStat([3.0, 3.2], [0.01, 0.01]);
 * s.mean; // 3.1
 * s.seedStd; // 0.1414…
 * ```
 */
export function rowStat(values: readonly number[], ses: readonly number[]): RowStat {
  const n = values.length;
  if (n === 0) return { mean: NaN, se: NaN, seedStd: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const imageVar = ses.reduce((a, b) => a + b * b, 0) / Math.max(1, ses.length);
  const seedStd = n > 1
    ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1))
    : NaN;
  const se = Math.sqrt(imageVar + (n > 1 ? seedStd ** 2 / n : 0));
  return { mean, se, seedStd, n };
}

/** The outcome of testing "a ≤ b" with standard errors. */
export interface Comparison {
  /** a − b. */
  delta: number;
  /** Combined standard error √(se_a² + se_b²). */
  se: number;
  /** delta / se (±Infinity when se is 0). */
  z: number;
  /** `held` (a < b by ≥ 2 s.e.), `within-noise` (|Δ| < 2 s.e.), `reversed` (a > b by ≥ 2 s.e.). */
  verdict: "held" | "within-noise" | "reversed";
}

/**
 * Tests the claim a ≤ b with the combined standard error. It is conservative: rows evaluated on
 * the same test images have positively correlated errors, so the s.e. of the difference is
 * smaller than this one.
 *
 * @param a The side claimed lower.
 * @param b The other side.
 * @returns Δ, s.e., z and the verdict.
 *
 * @example A clear win
 * ```ts
 * import { compareRows } from "./nll_report.ts";
 * compareRows({ mean: 3.0, se: 0.01 }, { mean: 3.1, se: 0.01 }).verdict; // "held"
 * ```
 */
export function compareRows(
  a: { mean: number; se: number },
  b: { mean: number; se: number },
): Comparison {
  const delta = a.mean - b.mean;
  const se = Math.hypot(a.se, b.se);
  const z = se > 0 ? delta / se : delta === 0 ? 0 : delta * Infinity;
  const verdict = z <= -2 ? "held" : z >= 2 ? "reversed" : "within-noise";
  return { delta, se, z, verdict };
}

/** One row's finished runs and statistics. */
interface RowResult {
  row: TableRow;
  runs: RunRecord[];
  done: Record<string, number | number[]>[];
  nll: RowStat;
}

const num = (m: Record<string, number | number[]>, key: string): number => {
  const v = m[key];
  return typeof v === "number" ? v : NaN;
};
const meanOf = (values: number[]): number =>
  values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
const fixed = (v: number, d = 3): string => Number.isFinite(v) ? v.toFixed(d) : "–";
const signed = (v: number, d = 3): string =>
  Number.isFinite(v) ? `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(d)}` : "–";

/** Seconds as `42 s`, `12.5 min` or `2.10 h`. */
function duration(s: number): string {
  if (!Number.isFinite(s)) return "–";
  if (s < 120) return `${s.toFixed(0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

function collect(summary: Summary, options: NllReportOptions): RowResult[] {
  const key = options.rowKey ?? "row";
  const pinned = summary.config[key];
  const rowOf = (r: RunRecord) => r.swept[key] ?? pinned;
  const results: RowResult[] = [];
  for (const row of options.rows) {
    const runs = summary.runs.filter((r) => rowOf(r) === row.id);
    if (runs.length === 0) continue;
    const done = runs.filter((r) => r.state === "done" && r.metrics !== null)
      .map((r) => r.metrics!);
    const nll = rowStat(done.map((m) => num(m, "nllBpd")), done.map((m) => num(m, "nllBpdSE")));
    results.push({ row, runs, done, nll });
  }
  return results;
}

/** T of a diffusion row: the length of its per-t curve. */
function stepsT(r: RowResult): number {
  const perT = r.done[0]?.perT;
  return Array.isArray(perT) ? perT.length : NaN;
}

function stateCell(r: RowResult): string {
  const failed = r.runs.filter((x) => x.state === "failed").length;
  const notRun = r.runs.length - r.done.length - failed;
  return [failed > 0 ? `${failed} failed` : "", notRun > 0 ? `${notRun} not run` : ""]
    .filter((s) => s !== "").join(", ");
}

function mainTable(results: RowResult[]): string {
  const headers = [
    "row",
    "T",
    "Σ_θ",
    "NLL bits/dim ± s.e.",
    "± std over seeds",
    "rate",
    "distortion",
    "judge score",
    "steps",
    "train time",
    "eval time",
    "iDDPM CIFAR-10 (published)",
    "iDDPM ImageNet-64 (published)",
  ];
  const rows = results.map((r) => {
    const m = (key: string) => meanOf(r.done.map((d) => num(d, key)).filter(Number.isFinite));
    const T = r.row.family === "diffusion" ? stepsT(r) : NaN;
    const pub = r.row.family === "diffusion" && r.row.schedule && r.row.objective
      ? publishedAnalog(r.row.schedule, r.row.objective, T)
      : undefined;
    const pubCell = (v: number | undefined) =>
      pub === undefined || v === undefined
        ? "–"
        : pub.T === T
        ? v.toFixed(2)
        : `${v.toFixed(2)} (T=${pub.T / 1000}K)`;
    const state = stateCell(r);
    const nllCell = r.done.length === 0
      ? state || "–"
      : `${fixed(r.nll.mean)} ± ${fixed(r.nll.se)}${state ? ` (${state})` : ""}`;
    const seeds = r.nll.n > 1
      ? `${fixed(r.nll.seedStd)} (${r.nll.n} seeds)`
      : `– (${r.nll.n} seed)`;
    // Diffusion: rate Σ_{t≥1} L_t + L_T, distortion L_0. VAE: rate Σ KL, distortion −E_q log p(x|z).
    const rate = r.row.family === "diffusion" ? m("rateBpd") + m("priorBpd") : m("rateBpd");
    return [
      r.row.label,
      Number.isFinite(T) ? String(T) : "–",
      r.row.variance ?? "–",
      nllCell,
      r.done.length === 0 ? "–" : seeds,
      fixed(rate),
      fixed(m("decoderBpd")),
      fixed(m("judgeScore"), 2),
      Number.isFinite(m("trainSteps")) ? String(Math.round(m("trainSteps"))) : "–",
      duration(m("trainSeconds")),
      duration(m("evalSeconds")),
      pubCell(pub?.cifar10),
      pubCell(pub?.imagenet64),
    ];
  });
  return markdownTable(headers, rows, {
    align: [
      "left",
      "right",
      "left",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
    ],
  });
}

function toyTable(results: RowResult[]): string {
  const rows = results.map((r) => {
    const d = rowStat(
      r.done.map((m) => num(m, "nllMinusH")),
      r.done.map((m) => num(m, "nllMinusHSE")),
    );
    const nats = rowStat(
      r.done.map((m) => num(m, "nllNats")),
      r.done.map((m) => num(m, "nllMinusHSE")),
    );
    const H = meanOf(r.done.map((m) => num(m, "entropyNats")));
    const holds = d.n === 0 ? stateCell(r) || "–" : d.mean >= -3 * d.se ? "yes" : "**NO**";
    return [
      r.row.label,
      String(stepsT(r)),
      r.done.length === 0 ? "–" : `${fixed(nats.mean)} ± ${fixed(nats.se)}`,
      fixed(H),
      r.done.length === 0 ? "–" : `${signed(d.mean)} ± ${fixed(d.se)}`,
      holds,
    ];
  });
  return markdownTable(
    ["row", "T", "NLL nats/point ± s.e.", "H (exact)", "NLL − H ± s.e.", "NLL ≥ H − 3 s.e."],
    rows,
    { align: ["left", "right", "right", "right", "right", "left"] },
  );
}

/** "a ≤ b" as one findings line. */
function findingLine(claim: string, where: string, a: RowResult, b: RowResult): string {
  const c = compareRows(a.nll, b.nll);
  const nums = `${a.row.label} ${fixed(a.nll.mean)} vs ${b.row.label} ${fixed(b.nll.mean)} ` +
    `bits/dim, Δ = ${signed(c.delta)} (${signed(c.z, 1)} combined s.e. of ${fixed(c.se)})`;
  const outcome = c.verdict === "held"
    ? "**held**"
    : c.verdict === "reversed"
    ? "**did not reproduce**: the order is reversed beyond 2 s.e."
    : c.delta <= 0
    ? "held in direction but **not resolved** (|Δ| < 2 s.e.)"
    : "**did not reproduce** (reversed, though within 2 s.e.)";
  return `- **${claim}** (${where}): ${outcome} — ${nums}.`;
}

function findings(results: RowResult[], toy: RowResult[]): string[] {
  const diff = results.filter((r) => r.row.family === "diffusion" && r.done.length > 0);
  const lines: string[] = [];
  const Ts = [...new Set(diff.map(stepsT))].sort((a, b) => a - b);
  const find = (schedule: string, objective: string, T: number) =>
    diff.find((r) =>
      r.row.schedule === schedule && r.row.objective === objective && stepsT(r) === T
    );
  for (const T of Ts) {
    for (const objective of ["L_simple", "L_hybrid"]) {
      const cos = find("cosine", objective, T), lin = find("linear", objective, T);
      if (cos && lin) {
        lines.push(findingLine("cosine ≤ linear", `${objective}, T = ${T}`, cos, lin));
      }
    }
    for (const schedule of ["linear", "cosine"]) {
      const hyb = find(schedule, "L_hybrid", T), simple = find(schedule, "L_simple", T);
      if (hyb && simple) {
        lines.push(findingLine("L_hybrid ≤ L_simple", `${schedule}, T = ${T}`, hyb, simple));
      }
    }
    const vlb = find("cosine", "L_vlb", T);
    const others = diff.filter((r) => stepsT(r) === T && r !== vlb)
      .sort((a, b) => a.nll.mean - b.nll.mean);
    if (vlb && others[0]) {
      lines.push(
        findingLine("L_vlb lowest", `T = ${T}, against the best other row`, vlb, others[0]),
      );
    }
  }
  for (const r of diff.filter((x) => stepsT(x) === Ts[0])) {
    const longer = Ts.slice(1).map((T) => find(r.row.schedule ?? "", r.row.objective ?? "", T));
    for (const l of longer) {
      if (l) lines.push(findingLine("more steps T help", `${r.row.label}`, l, r));
    }
  }
  if (lines.length === 0) lines.push("- No pair of finished diffusion rows to compare.");
  const toyDone = toy.filter((r) => r.done.length > 0);
  if (toyDone.length > 0) {
    const bad = toyDone.filter((r) => {
      const d = rowStat(
        r.done.map((m) => num(m, "nllMinusH")),
        r.done.map((m) => num(m, "nllMinusHSE")),
      );
      return d.mean < -3 * d.se;
    });
    lines.push(
      bad.length === 0
        ? `- **Known density**: every toy row's NLL is at or above the exact entropy H (within 3 s.e.), as an upper bound must be.`
        : `- **Known density: FAILED** for ${
          bad.map((r) => r.row.label).join(", ")
        }: the NLL is below the exact entropy by more than 3 s.e., so the estimator or the evaluation has a bug.`,
    );
  }
  return lines;
}

function perTPlot(results: RowResult[], title: string): string {
  const series: LineSeries[] = [];
  for (const r of results) {
    const curves = r.done.map((m) => m.perT).filter((v): v is number[] => Array.isArray(v));
    const T = curves[0]?.length ?? 0;
    if (T === 0) continue;
    const y = Array.from({ length: T }, (_, t) => meanOf(curves.map((c) => c[t] ?? NaN)));
    series.push({ name: r.row.label, x: y.map((_, t) => t + 1), y });
  }
  // Log axes: most of the bound sits in the first few steps (improved-diffusion's Fig. 2).
  return linePlot({
    series,
    title,
    xLabel: "t + 1",
    yLabel: "L_t (bits/dim)",
    logX: true,
    logY: true,
  });
}

/**
 * Renders `table.md` (also the printed text) and the per-timestep plots from a sweep summary.
 *
 * @param summary The sweep summary (runs with their `eval.json`).
 * @param options The rows and the protocol paragraph.
 * @returns The report files (`table.md`, `plots/nll_per_t.svg`, `plots/toy_nll_per_t.svg`) and
 * the text to print.
 *
 * @example As an experiment's summary hook
 * ```ts ignore
 * summarize: {
 *   metrics: ["nllBpd"],
 *   primary: "nllBpd",
 *   lowerIsBetter: true,
 *   report: (s) => nllTableReport(s, { rows: ROWS, protocol: () => "MNIST, T = 1000" }),
 * },
 * ```
 */
export function nllTableReport(summary: Summary, options: NllReportOptions): SummaryReport {
  const all = collect(summary, options);
  const main = all.filter((r) => !r.row.toy);
  const toy = all.filter((r) => r.row.toy);
  const files: Record<string, string> = {};
  const out: string[] = [];
  out.push(`# NLL comparison table (${summary.experiment}, preset \`${summary.preset}\`)`, "");
  if (summary.preset === "smoke") {
    out.push(
      "> **This is a smoke test.** Tiny models trained for a few dozen steps: the numbers only " +
        "show that every row trains and evaluates end to end. They are not results, and the " +
        "findings below say nothing about the paper. Run `--preset laptop` for a real table.",
      "",
    );
  }
  out.push(`**Protocol.** ${options.protocol(summary)}`, "");
  if (options.command) out.push(`Reproduce: \`${options.command}\``, "");
  if (main.length > 0) {
    out.push(mainTable(main), "");
    out.push(
      "NLL: test bits/dim, ± s.e. over test images (with several seeds: √(mean s.e.² + std²/n)). " +
        "Diffusion rows: the exact variational bound from the full chain (never respaced), " +
        "rate = Σ_{t≥1} L_t + L_T, distortion = L_0 (the discretized decoder). VAE rows: the " +
        "IWAE-k bound; rate = KL, distortion = −E_q log p(x|z) (their sum is the −ELBO, which " +
        "IWAE tightens). Judge score: exp(E KL(p(y|x) ‖ p(y))) of a small MLP classifier trained on " +
        "the training split, over samples (full-chain DDPM samples; VAE prior samples' decoder " +
        "means): 1 for unrecognisable or one-class samples up to 10 — a proxy comparable only " +
        "within this table, not FID. Published: Nichol & Dhariwal 2021, Tables 1–2 (U-Nets, " +
        "200K–500K steps, other data): a scale, not a target; `(T=4K)` marks a paper row at a " +
        "different T.",
      "",
    );
    out.push("## Findings", "", ...findings(main, toy), "");
  }
  if (main.some((r) => r.row.family === "diffusion" && r.done.length > 0)) {
    files["plots/nll_per_t.svg"] = perTPlot(
      main.filter((r) => r.row.family === "diffusion"),
      "L_t per timestep on the test images (bits/dim)",
    );
    out.push("![L_t per timestep](plots/nll_per_t.svg)", "");
  }
  if (toy.length > 0) {
    out.push("## Known-density check", "");
    out.push(
      "The same diffusion estimators on a 2-D Gaussian mixture quantised to the same 8-bit grid, " +
        "whose exact discrete entropy H is computed from the mixture: the NLL is an upper bound, " +
        "so NLL − H must be ≥ 0 up to noise, and its size says how loose the bound and the model are.",
      "",
    );
    out.push(toyTable(toy), "");
    if (toy.some((r) => r.done.length > 0)) {
      files["plots/toy_nll_per_t.svg"] = perTPlot(toy, "toy: L_t per timestep (bits/dim)");
      out.push("![toy L_t per timestep](plots/toy_nll_per_t.svg)", "");
    }
  }
  const text = out.join("\n");
  files["table.md"] = text;
  return { files, print: text };
}
