/**
 * Point plots with error bars as standalone SVG: a metric (mean ± std over seeds) against a sweep
 * axis, numeric or categorical.
 *
 * @module
 */

import {
  type AxisSpec,
  escapeXml,
  extent,
  layoutFrame,
  numericAxis,
  type PlotOptions,
  px,
  seriesStyle,
} from "./svg_frame.ts";

/** One set of points: a mean (and optional std) per x. */
export interface PointSeries {
  /** Legend name. */
  name: string;
  /** X values: numbers (numeric axis) or strings (categories, in order of first appearance). */
  x: readonly (number | string)[];
  /** The mean at each x. */
  mean: readonly number[];
  /**
   * The standard deviation at each x (bars from mean − std to mean + std).
   * @default no bars
   */
  std?: readonly number[];
}

/** What to draw in {@linkcode pointPlot} (`logX` needs numeric x). */
export interface PointPlotSpec extends PlotOptions {
  /** The series. */
  series: readonly PointSeries[];
  /**
   * Join a series' points with a thin line.
   * @default true for numeric x, false for categories
   */
  connect?: boolean;
}

/**
 * Draws mean ± std points against a numeric or categorical x axis, as a standalone SVG document.
 * Series sharing a category are offset side by side so their bars do not overlap.
 *
 * @param spec Series, labels, scales and size.
 * @returns The SVG text.
 *
 * @example Bits/dim of two schedules over three learning rates
 * ```ts
 * import { pointPlot } from "./point_plot.ts";
 * const svg = pointPlot({
 *   series: [
 *     { name: "linear", x: ["1e-4", "3e-4", "1e-3"], mean: [3.9, 3.7, 3.8], std: [0.05, 0.04, 0.1] },
 *     { name: "cosine", x: ["1e-4", "3e-4", "1e-3"], mean: [3.8, 3.6, 3.7], std: [0.03, 0.05, 0.08] },
 *   ],
 *   xLabel: "learning rate",
 *   yLabel: "bits/dim",
 * });
 * console.log(svg.includes("cosine")); // true
 * ```
 */
export function pointPlot(spec: PointPlotSpec): string {
  const logX = spec.logX ?? false;
  const logY = spec.logY ?? false;
  for (const s of spec.series) {
    if (s.mean.length !== s.x.length || (s.std !== undefined && s.std.length !== s.x.length)) {
      throw new TypeError(
        `Cannot plot series '${s.name}' as its x, mean and std lengths differ ` +
          `(${s.x.length}, ${s.mean.length}, ${s.std?.length ?? "-"}): give one of each per point`,
      );
    }
  }
  const categorical = spec.series.some((s) => s.x.some((v) => typeof v === "string"));
  if (categorical && logX) {
    throw new TypeError(`Cannot use logX with categorical x values: pass numbers or drop logX`);
  }
  const categories: string[] = [];
  if (categorical) {
    for (const s of spec.series) {
      for (const v of s.x) if (!categories.includes(String(v))) categories.push(String(v));
    }
  }
  const xOf = (v: number | string): number =>
    categorical ? categories.indexOf(String(v)) : (v as number);
  const ys: number[] = [];
  const xs: number[] = [];
  for (const s of spec.series) {
    s.x.forEach((xv, i) => {
      const m = s.mean[i] as number;
      const sd = s.std?.[i] ?? 0;
      if (!Number.isFinite(m)) return;
      xs.push(xOf(xv));
      ys.push(m, m + sd);
      if (!logY || m - sd > 0) ys.push(m - sd);
    });
  }
  const styles = spec.series.map((s, i) => seriesStyle(s.name, i));
  const xAxis: AxisSpec = categorical
    ? { kind: "band", categories }
    : numericAxis(extent(xs, logX), logX);
  const frame = layoutFrame({
    title: spec.title,
    xLabel: spec.xLabel,
    yLabel: spec.yLabel,
    width: spec.width ?? 640,
    height: spec.height ?? 400,
    x: xAxis,
    y: numericAxis(extent(ys, logY), logY),
    legend: styles,
  });
  const n = spec.series.length;
  const dodge = categorical ? Math.min(14, (frame.band * 0.6) / Math.max(n, 1)) : 0;
  const connect = spec.connect ?? !categorical;
  const [yLo, yHi] = frame.yDomain;
  const clampY = (v: number): number => frame.y(Math.min(Math.max(v, yLo), yHi));
  const body: string[] = [];
  spec.series.forEach((s, k) => {
    const style = styles[k]!;
    const offset = (k - (n - 1) / 2) * dodge;
    const points: { x: number; y: number }[] = [];
    const bars: string[] = [];
    const dots: string[] = [];
    s.x.forEach((xv, i) => {
      const m = s.mean[i] as number;
      const xNum = xOf(xv);
      if (!Number.isFinite(m) || (logY && m <= 0) || (logX && xNum <= 0)) return;
      const cx = frame.x(xNum) + offset;
      const cy = frame.y(m);
      points.push({ x: cx, y: cy });
      const sd = s.std?.[i];
      if (sd !== undefined && Number.isFinite(sd) && sd > 0) {
        const top = clampY(m + sd);
        const bottom = logY && m - sd <= 0 ? frame.area.bottom : clampY(m - sd);
        bars.push(
          `M${px(cx)} ${px(top)}V${px(bottom)}M${px(cx - 4)} ${px(top)}h8M${px(cx - 4)} ` +
            `${px(bottom)}h8`,
        );
      }
      dots.push(`<circle cx="${px(cx)}" cy="${px(cy)}" r="3.5"/>`);
    });
    const line = connect && points.length > 1
      ? `<path d="${
        points.map((p, i) => `${i ? "L" : "M"}${px(p.x)} ${px(p.y)}`).join("")
      }" fill="none" stroke="${style.color}" stroke-width="1.5" stroke-opacity="0.7"` +
        `${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}/>`
      : "";
    body.push(
      `<g class="series" data-name="${escapeXml(s.name)}">${line}` +
        (bars.length
          ? `<path class="error-bars" d="${bars.join("")}" stroke="${style.color}" ` +
            `stroke-width="1.5" fill="none"/>`
          : "") +
        `<g fill="${style.color}">${dots.join("")}</g></g>`,
    );
  });
  return [...frame.head, ...body, ...frame.tail].join("\n");
}
