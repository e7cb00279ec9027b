/**
 * The sweep summary: `summary.md` (final metrics grouped by the swept keys, mean ± std over the
 * replicate key `seed`, every run, every failure), `summary.json`, plots (loss curve per
 * training, primary metric against each swept key), and the experiment's own report files when
 * its `summarize.report` renders some.
 *
 * @module
 */

import { isAbsolute, join, relative } from "node:path";
import {
  fmtMeanStd,
  linePlot,
  type LineSeries,
  markdownTable,
  type MeanStd,
  meanStd,
  pointPlot,
  type PointSeries,
} from "../report/mod.ts";
import { canonicalJson } from "./identity.ts";
import type { SweepPlan } from "./expand.ts";
import { denoFs, type MetricsLine, type RunState, type SweepFs, writeAtomic } from "./store.ts";
import type { Config, Json, SummarizeSpec, SummaryReport } from "./types.ts";

export type { LineSeries, MeanStd, PointSeries } from "../report/mod.ts";

/** The replicate axis: runs that differ only in this key are averaged. */
export const SEED_KEY = "seed";

/**
 * "N trainings, M evaluations", the work count the log and the summary show.
 *
 * @param trainings How many trainings.
 * @param evaluations How many evaluations.
 * @returns The phrase, singular where the count is 1.
 *
 * @example
 * ```ts
 * import { countWork } from "./summary.ts";
 * countWork(1, 8); // "1 training, 8 evaluations"
 * ```
 */
export function countWork(trainings: number, evaluations: number): string {
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  return `${n(trainings, "training")}, ${n(evaluations, "evaluation")}`;
}

/** What the summary knows about one run. */
export interface RunRecord {
  /** The run id. */
  id: string;
  /** The training folder it was evaluated from. */
  trainedBy: string;
  /** The values of the swept keys. */
  swept: Config;
  /** Its state (`queued` when it has not run). */
  state: RunState;
  /** The training step it reached or failed at. */
  step: number;
  /** Why it failed. */
  error?: string;
  /** `eval.json`, when done. */
  metrics: Record<string, number | number[]> | null;
}

/** One row of the grouped table: runs equal in every swept key but `seed`. */
export interface SummaryGroup {
  /** The swept keys' values, `seed` excluded. */
  key: Config;
  /** The runs of the group. */
  runs: string[];
  /** The seeds of the finished runs. */
  seeds: Json[];
  /** Each metric's values over the finished runs (one per seed). */
  values: Record<string, number[]>;
  /** Each metric's mean and sample std over the finished runs (std is NaN for one run). */
  metrics: Record<string, MeanStd>;
}

/** Everything `summary.md` and `summary.json` show. */
export interface Summary {
  /** The experiment. */
  experiment: string;
  /** The preset. */
  preset: string;
  /** The code version. */
  codeVersion: string;
  /** The config shared by every run before the grid (defaults → preset → overrides). */
  config: Config;
  /** Trainings in the sweep. */
  trainings: number;
  /** Evaluations (runs) in the sweep. */
  evaluations: number;
  /** How many runs are in each state. */
  counts: Record<RunState, number>;
  /** Every swept key (the per-run columns). */
  sweptKeys: string[];
  /** The swept keys, `seed` excluded: the group columns. */
  groupKeys: string[];
  /** The metric columns. */
  metrics: string[];
  /** The metric the groups are sorted by (`null` when no run finished). */
  primary: string | null;
  /** Whether a smaller primary metric is better. */
  lowerIsBetter: boolean;
  /** The grouped rows, best first. */
  groups: SummaryGroup[];
  /** Every run, in sweep order. */
  runs: RunRecord[];
  /** The experiment's own report, rendered by `summarize.report` (not saved in summary.json). */
  report?: SummaryReport;
}

/** Options of {@linkcode buildSummary}. */
export interface BuildSummaryOptions {
  /**
   * What the tables show.
   * @default {every scalar metric, sorted by the first, lower is better}
   */
  spec?: SummarizeSpec;
}

/**
 * Groups runs by their swept keys (all but `seed`) and computes mean ± std of each metric.
 *
 * @param plan The sweep plan.
 * @param records One record per run of the plan, in plan order.
 * @param options What to show.
 * @returns The summary.
 *
 * @example
 * ```ts ignore
 * import { buildSummary } from "./summary.ts";
 * const summary = buildSummary(plan, records, { spec: experiment.summarize });
 * ```
 */
export function buildSummary(
  plan: SweepPlan,
  records: RunRecord[],
  options: BuildSummaryOptions = {},
): Summary {
  const counts: Record<RunState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of records) counts[r.state]++;
  const finished = records.filter((r) => r.state === "done" && r.metrics !== null);
  const scalarNames = [
    ...new Set(
      finished.flatMap((r) =>
        Object.entries(r.metrics ?? {}).filter(([, v]) => typeof v === "number").map(([k]) => k)
      ),
    ),
  ];
  const spec = options.spec;
  const metrics = spec?.metrics ?? scalarNames;
  const primary = spec?.primary ?? metrics[0] ?? null;
  const lowerIsBetter = spec?.lowerIsBetter ?? true;
  const groupKeys = plan.sweptKeys.filter((k) => k !== SEED_KEY);

  const byKey = new Map<string, SummaryGroup>();
  for (const r of records) {
    const key = Object.fromEntries(groupKeys.map((k) => [k, r.swept[k] ?? null]));
    const text = canonicalJson(key);
    const group = byKey.get(text) ?? { key, runs: [], seeds: [], values: {}, metrics: {} };
    byKey.set(text, group);
    group.runs.push(r.id);
  }
  for (const group of byKey.values()) {
    const done = finished.filter((r) => group.runs.includes(r.id));
    group.seeds = done.map((r) => r.swept[SEED_KEY] ?? null);
    for (const name of metrics) {
      const values = done.map((r) => r.metrics?.[name]).filter((v): v is number =>
        typeof v === "number"
      );
      if (values.length > 0) {
        group.values[name] = values;
        group.metrics[name] = meanStd(values);
      }
    }
  }
  const sign = lowerIsBetter ? 1 : -1;
  const score = (g: SummaryGroup) =>
    primary !== null && g.metrics[primary] !== undefined
      ? sign * (g.metrics[primary]?.mean ?? 0)
      : Infinity;
  const groups = [...byKey.values()].sort((a, b) => score(a) - score(b));
  const summary: Summary = {
    experiment: plan.experiment,
    preset: plan.preset,
    codeVersion: plan.codeVersion,
    config: plan.base,
    trainings: plan.groups.length,
    evaluations: plan.runs.length,
    counts,
    sweptKeys: plan.sweptKeys,
    groupKeys,
    metrics,
    primary,
    lowerIsBetter,
    groups,
    runs: records,
  };
  if (spec?.report !== undefined) {
    try {
      summary.report = spec.report(summary);
    } catch (e) {
      throw new Error(
        `Cannot render the report of ${plan.experiment} from its summary: ${
          e instanceof Error ? e.message : String(e)
        }`,
        { cause: e },
      );
    }
  }
  return summary;
}

/**
 * Renders `summary.md`.
 *
 * @param summary The summary.
 * @param options The plot files to link.
 * @returns Markdown text.
 *
 * @example
 * ```ts ignore
 * import { summaryMarkdown } from "./summary.ts";
 * console.log(summaryMarkdown(summary));
 * ```
 */
export function summaryMarkdown(summary: Summary, options: { plots?: string[] } = {}): string {
  const s = summary;
  const out: string[] = [];
  out.push(`# ${s.experiment}: sweep summary`, "");
  out.push(
    `Preset \`${s.preset}\`, code version \`${s.codeVersion}\`: ${
      countWork(s.trainings, s.evaluations)
    }. ` +
      `${s.counts.done} done, ${s.counts.failed} failed, ${
        s.counts.queued + s.counts.running
      } not finished.`,
    "",
  );
  if (s.metrics.length > 0) {
    const by = s.groupKeys.length > 0 ? ` by ${s.groupKeys.join(", ")}` : "";
    const order = s.primary === null
      ? ""
      : `, sorted by ${s.primary} (${s.lowerIsBetter ? "lower" : "higher"} is better)`;
    out.push(`## Final metrics${by} (mean ± std over ${SEED_KEY}s${order})`, "");
    out.push(
      markdownTable(
        [...s.groupKeys, "seeds", ...s.metrics],
        s.groups.map((g) => [
          ...s.groupKeys.map((k) => cell(g.key[k] ?? null)),
          g.seeds.length,
          ...s.metrics.map((m) => {
            const values = g.values[m] ?? [];
            return fmtMeanStd(values, decimals(g.metrics[m]?.mean ?? 0));
          }),
        ]),
      ),
      "",
    );
  }
  const swept = s.sweptKeys;
  out.push("## Runs", "");
  out.push(
    markdownTable(
      ["run", "trained by", ...swept, "state", "step", ...s.metrics],
      s.runs.map((r) => [
        `\`${r.id}\``,
        `\`${r.trainedBy}\``,
        ...swept.map((k) => cell(r.swept[k] ?? null)),
        r.state,
        r.step,
        ...s.metrics.map((m) => {
          const v = r.metrics?.[m];
          return typeof v === "number" ? v : "–";
        }),
      ]),
    ),
    "",
  );
  const failures = s.runs.filter((r) => r.state === "failed");
  if (failures.length > 0) {
    out.push("## Failures", "");
    out.push(
      markdownTable(
        ["run", "trained by", "step", "error"],
        failures.map((r) => [
          `\`${r.id}\``,
          `\`${r.trainedBy}\``,
          r.step,
          r.error ?? "",
        ]),
      ),
      "",
    );
  }
  const plots = options.plots ?? [];
  if (plots.length > 0) {
    out.push("## Plots", "", ...plots.map((p) => `![${p}](${p})`), "");
  }
  return out.join("\n");
}

/** The data of every plot of a summary (series in `lib/report`'s shapes). */
export interface PlotData {
  /** The metric the loss curves show. */
  curveMetric: string | null;
  /** One line per training. */
  curves: LineSeries[];
  /** The primary metric (mean ± std over seeds) against each swept key, seed excluded. */
  axes: { key: string; metric: string; series: PointSeries[]; logX: boolean }[];
}

/**
 * Collects the plot data: the loss curve of each training from its `metrics.jsonl` (the `loss`
 * column, else the first one), and the primary metric against each swept key, one series per
 * combination of the other swept keys.
 *
 * @param summary The summary.
 * @param curves The metrics lines of each training folder, by training id.
 * @returns The plot data.
 *
 * @example
 * ```ts ignore
 * import { plotData } from "./summary.ts";
 * const data = plotData(summary, { "train-0123456789": lines });
 * ```
 */
export function plotData(summary: Summary, curves: Record<string, MetricsLine[]>): PlotData {
  const columns = Object.values(curves).flatMap((lines) =>
    lines.flatMap((l) => Object.keys(l).filter((k) => k !== "step"))
  );
  const curveMetric = columns.includes("loss") ? "loss" : columns[0] ?? null;
  const lines: LineSeries[] = [];
  if (curveMetric !== null) {
    for (const [train, metricLines] of Object.entries(curves)) {
      const points = metricLines.filter((l) => typeof l[curveMetric] === "number");
      const runs = summary.runs.filter((r) => r.trainedBy === train);
      const label = runs.length === 1 && runs[0] !== undefined
        ? describeSwept(runs[0].swept) || train
        : train;
      if (points.length > 0) {
        lines.push({
          name: label,
          x: points.map((l) => l.step),
          y: points.map((l) => l[curveMetric] ?? NaN),
        });
      }
    }
  }
  const axes: PlotData["axes"] = [];
  const metric = summary.primary;
  const done = summary.runs.filter((r) => typeof r.metrics?.[metric ?? ""] === "number");
  if (metric !== null && done.length > 0) {
    for (const key of summary.groupKeys) {
      const others = summary.groupKeys.filter((k) => k !== key);
      const bySeries = new Map<string, Map<string, { x: number | string; ys: number[] }>>();
      for (const r of done) {
        const name = others.map((k) => `${k}=${cell(r.swept[k] ?? null)}`).join(" ") ||
          metric;
        const xv = r.swept[key] ?? null;
        const x = typeof xv === "number" ? xv : cell(xv);
        const points = bySeries.get(name) ?? new Map();
        bySeries.set(name, points);
        const point = points.get(String(x)) ?? { x, ys: [] };
        points.set(String(x), point);
        point.ys.push(r.metrics?.[metric] as number);
      }
      const series = [...bySeries].map(([name, points]): PointSeries => {
        const stats = [...points.values()].map((p) => meanStd(p.ys));
        return {
          name,
          x: [...points.values()].map((p) => p.x),
          mean: stats.map((st) => st.mean),
          std: stats.map((st) => (Number.isFinite(st.std) ? st.std : 0)),
        };
      });
      const xs = series.flatMap((sr) => sr.x);
      const numeric = xs.every((x) => typeof x === "number" && x > 0);
      const nums = xs as number[];
      const logX = numeric && Math.max(...nums) / Math.min(...nums) >= 100;
      axes.push({ key, metric, series, logX });
    }
  }
  return { curveMetric, curves: lines, axes };
}

/** Options of {@linkcode writeSummary}. */
export interface WriteSummaryOptions {
  /**
   * The file system.
   * @default {denoFs()}
   */
  fs?: SweepFs;
  /**
   * The metrics lines of each training, for the loss curves.
   * @default {{}}
   */
  curves?: Record<string, MetricsLine[]>;
  /**
   * Where the report's `print` text goes.
   * @default {console.log}
   */
  log?: (text: string) => void;
}

/**
 * Writes `summary.md`, `summary.json` and `plots/*.svg` into the experiment folder (atomically),
 * then the files of the experiment's report, if any, and prints the report's text.
 *
 * @param dir The experiment folder (`runs/<experiment>`).
 * @param summary The summary.
 * @param options File system and loss curves.
 * @returns The paths written.
 *
 * @example
 * ```ts ignore
 * import { writeSummary } from "./summary.ts";
 * await writeSummary("runs/demo", summary, { curves });
 * ```
 */
export async function writeSummary(
  dir: string,
  summary: Summary,
  options: WriteSummaryOptions = {},
): Promise<string[]> {
  const fs = options.fs ?? denoFs();
  const plots = await writePlots(dir, plotData(summary, options.curves ?? {}), fs);
  const md = join(dir, "summary.md");
  const json = join(dir, "summary.json");
  const { report, ...saved } = summary;
  await writeAtomic(fs, md, summaryMarkdown(summary, { plots }));
  await writeAtomic(fs, json, JSON.stringify(saved, null, 2) + "\n");
  const extra: string[] = [];
  for (const [rel, text] of Object.entries(report?.files ?? {})) {
    const path = join(dir, rel);
    if (relative(dir, path).startsWith("..") || isAbsolute(rel)) {
      throw new RangeError(
        `Cannot write report file '${rel}' as it is outside the experiment folder ${dir}: use a relative path inside it`,
      );
    }
    await writeAtomic(fs, path, text);
    extra.push(path);
  }
  if (report?.print !== undefined) (options.log ?? ((t: string) => console.log(t)))(report.print);
  return [md, json, ...plots.map((p) => join(dir, p)), ...extra];
}

/** Renders the plots with `lib/report` and writes them under `plots/`. */
async function writePlots(dir: string, data: PlotData, fs: SweepFs): Promise<string[]> {
  const written: string[] = [];
  const save = async (name: string, svg: string) => {
    const rel = `plots/${name.replace(/[^A-Za-z0-9._-]/g, "_")}.svg`;
    await writeAtomic(fs, join(dir, rel), svg);
    written.push(rel);
  };
  const metric = data.curveMetric;
  if (metric !== null && data.curves.length > 0) {
    const ys = data.curves.flatMap((c) => c.y.filter(Number.isFinite));
    const logY = ys.every((y) => y > 0) && Math.max(...ys) / Math.min(...ys) >= 10;
    await save(
      metric,
      linePlot({
        series: data.curves,
        title: `${metric} per training`,
        xLabel: "step",
        yLabel: metric,
        logY,
      }),
    );
  }
  for (const a of data.axes) {
    await save(
      `${a.metric}-vs-${a.key}`,
      pointPlot({
        series: a.series,
        title: `${a.metric} vs ${a.key} (mean ± std over ${SEED_KEY}s)`,
        xLabel: a.key,
        yLabel: a.metric,
        logX: a.logX,
      }),
    );
  }
  return written;
}

/** Decimals for a mean ± std cell: at least 3, more for small values (about 3 significant). */
function decimals(mean: number): number {
  const magnitude = Math.floor(Math.log10(Math.abs(mean) || 1));
  return Math.min(8, Math.max(3, 2 - magnitude));
}

function cell(value: Json): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function describeSwept(swept: Config): string {
  return Object.entries(swept).map(([k, v]) => `${k}=${cell(v)}`).join(" ");
}
