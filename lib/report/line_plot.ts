/**
 * Line plots as standalone SVG (no plotting dependency): training curves, per-t loss terms,
 * anything y against a numeric x.
 *
 * @module
 */

import {
  escapeXml,
  extent,
  layoutFrame,
  numericAxis,
  type PlotOptions,
  px,
  seriesStyle,
} from "./svg_frame.ts";

/** One line. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** X values. */
  x: readonly number[];
  /** Y values (non-finite values, and values ≤ 0 on a log axis, leave a gap). */
  y: readonly number[];
}

/** What to draw in {@linkcode linePlot}. */
export interface LinePlotSpec extends PlotOptions {
  /** The lines. */
  series: readonly LineSeries[];
  /**
   * Draw a dot at each point.
   * @default true when every series has at most 40 points
   */
  markers?: boolean;
}

/**
 * Draws lines y(x) with axes, nice ticks, grid lines and a legend (when there are two or more
 * series), as a standalone SVG document.
 *
 * @param spec Series, labels, scales and size.
 * @returns The SVG text.
 *
 * @example A training curve on a log axis
 * ```ts
 * import { linePlot } from "./line_plot.ts";
 * const steps = [0, 100, 200, 300, 400];
 * const svg = linePlot({
 *   series: [{ name: "train", x: steps, y: [2.1, 0.9, 0.5, 0.35, 0.3] }],
 *   xLabel: "step",
 *   yLabel: "loss",
 *   logY: true,
 * });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export function linePlot(spec: LinePlotSpec): string {
  const logX = spec.logX ?? false;
  const logY = spec.logY ?? false;
  spec.series.forEach((s) => {
    if (s.x.length !== s.y.length) {
      throw new TypeError(
        `Cannot plot series '${s.name}' as it has ${s.x.length} x values and ${s.y.length} ` +
          `y values: give one y per x`,
      );
    }
  });
  const valid = (s: LineSeries, i: number): boolean => {
    const x = s.x[i] as number;
    const y = s.y[i] as number;
    return Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
  };
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    s.x.forEach((x, i) => {
      if (valid(s, i)) {
        xs.push(x);
        ys.push(s.y[i] as number);
      }
    });
  }
  const styles = spec.series.map((s, i) => seriesStyle(s.name, i));
  const frame = layoutFrame({
    title: spec.title,
    xLabel: spec.xLabel,
    yLabel: spec.yLabel,
    width: spec.width ?? 640,
    height: spec.height ?? 400,
    x: numericAxis(extent(xs, logX), logX),
    y: numericAxis(extent(ys, logY), logY),
    legend: styles,
  });
  const markers = spec.markers ?? spec.series.every((s) => s.x.length <= 40);
  const body: string[] = [];
  spec.series.forEach((s, k) => {
    const style = styles[k]!;
    let d = "";
    let pen = false;
    const dots: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      if (!valid(s, i)) {
        pen = false;
        continue;
      }
      const px0 = px(frame.x(s.x[i] as number));
      const py0 = px(frame.y(s.y[i] as number));
      d += `${pen ? "L" : "M"}${px0} ${py0}`;
      pen = true;
      if (markers) dots.push(`<circle cx="${px0}" cy="${py0}" r="2.5"/>`);
    }
    body.push(
      `<g class="series" data-name="${escapeXml(s.name)}">` +
        `<path d="${d}" fill="none" stroke="${style.color}" stroke-width="2" ` +
        `stroke-linejoin="round" stroke-linecap="round"` +
        `${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}/>` +
        (dots.length ? `<g fill="${style.color}">${dots.join("")}</g>` : "") +
        `</g>`,
    );
  });
  return [...frame.head, ...body, ...frame.tail].join("\n");
}
