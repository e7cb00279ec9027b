/**
 * Reporting for elbo: PNG sample grids, hand-written SVG plots, Markdown tables and number
 * formatting.
 *
 * @example A sample grid, a curve and a table
 * ```ts
 * import { fmtMeanStd, imageGrid, linePlot, markdownTable } from "./mod.ts";
 * const png = await imageGrid({ data: new Float32Array(4 * 8 * 8).fill(0.5), shape: [4, 8, 8, 1] });
 * const svg = linePlot({ series: [{ name: "loss", x: [1, 2, 3], y: [3, 2, 1.5] }], xLabel: "epoch" });
 * const md = markdownTable(["run", "bits/dim"], [["a", fmtMeanStd([3.71, 3.69])]]);
 * console.log(png.length > 0, svg.endsWith("</svg>"), md.split("\n").length); // true true 3
 * ```
 *
 * @module
 */

export {
  type ImageArray,
  imageGrid,
  type ImageGridOptions,
  type RawImage,
  tileImages,
} from "./image_grid.ts";
export { linePlot, type LinePlotSpec, type LineSeries } from "./line_plot.ts";
export { pointPlot, type PointPlotSpec, type PointSeries } from "./point_plot.ts";
export type { PlotOptions } from "./svg_frame.ts";
export {
  type AxisTicks,
  formatTick,
  linearTicks,
  type LinearTicksOptions,
  logTicks,
  niceStep,
  type Tick,
} from "./ticks.ts";
export { type Align, type Cell, markdownTable, type MarkdownTableOptions } from "./markdown.ts";
export {
  fmtMeanStd,
  type FmtMeanStdOptions,
  fmtNumber,
  type FmtNumberOptions,
  type MeanStd,
  meanStd,
} from "./format.ts";
export type { PixelRange, Tensor } from "../data/mod.ts";
