/**
 * The shared frame of the SVG plots: layout, axes, grid lines, title, labels and legend.
 * Internal to `lib/report` (the plot functions are the public API).
 *
 * @module
 */

import { type AxisTicks, linearTicks, logTicks } from "./ticks.ts";

/** Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), yellow last (weak on white). */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
];

/** Dash patterns used once the palette wraps around. */
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];

/** Labels, scales and size shared by every plot. */
export interface PlotOptions {
  /**
   * Title above the plot.
   * @default no title
   */
  title?: string;
  /**
   * X-axis label.
   * @default no label
   */
  xLabel?: string;
  /**
   * Y-axis label.
   * @default no label
   */
  yLabel?: string;
  /**
   * Log10 x axis.
   * @default false
   */
  logX?: boolean;
  /**
   * Log10 y axis.
   * @default false
   */
  logY?: boolean;
  /**
   * Width in pixels.
   * @default 640
   */
  width?: number;
  /**
   * Height in pixels.
   * @default 400
   */
  height?: number;
}

/** A numeric or categorical axis request. */
export type AxisSpec =
  | { kind: "linear"; min: number; max: number }
  | { kind: "log"; min: number; max: number }
  | { kind: "band"; categories: readonly string[] };

/** How a series looks in the legend and on the plot. */
export interface SeriesStyle {
  /** Legend name. */
  name: string;
  /** Stroke colour. */
  color: string;
  /** SVG `stroke-dasharray` ("" for solid). */
  dash: string;
}

/** What a plot function hands the frame. */
export interface FrameSpec {
  /** Plot title. */
  title?: string | undefined;
  /** X-axis label. */
  xLabel?: string | undefined;
  /** Y-axis label. */
  yLabel?: string | undefined;
  /** Total width in pixels. */
  width: number;
  /** Total height in pixels. */
  height: number;
  /** The x axis. */
  x: AxisSpec;
  /** The y axis. */
  y: AxisSpec;
  /** Legend entries (no legend when there is at most one). */
  legend: readonly SeriesStyle[];
}

/** A laid-out frame: scales into pixel space and the SVG around the plot area. */
export interface Frame {
  /** Maps an x value (a category index on band axes) to a pixel x. */
  x: (v: number) => number;
  /** Maps a y value to a pixel y. */
  y: (v: number) => number;
  /** Pixel width of one band on a band x axis (0 otherwise). */
  band: number;
  /** The plot area. */
  area: { left: number; right: number; top: number; bottom: number };
  /** The y domain drawn (values outside are clipped by the caller). */
  yDomain: [number, number];
  /** Opening SVG: root, background, grid, axes, labels, title. */
  head: string[];
  /** Closing SVG: legend and root end. */
  tail: string[];
}

const FONT = 12;
const CHAR = 6.8; // average glyph width of a 12 px sans-serif, for layout estimates

/**
 * The style of series i: palette colour, then dashed variants once the palette wraps.
 *
 * @param name The series name.
 * @param i The series index.
 * @returns Its style.
 */
export function seriesStyle(name: string, i: number): SeriesStyle {
  return {
    name,
    color: PALETTE[i % PALETTE.length] as string,
    dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] as string,
  };
}

/**
 * Escapes text for SVG content and attribute values.
 *
 * @param text Any text.
 * @returns The escaped text.
 */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&apos;",
  );
}

/**
 * Formats a pixel coordinate with at most 2 decimals.
 *
 * @param v A coordinate.
 * @returns The short decimal string.
 */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function ticksFor(axis: AxisSpec): AxisTicks {
  switch (axis.kind) {
    case "linear":
      return linearTicks(axis.min, axis.max);
    case "log":
      return logTicks(axis.min, axis.max);
    case "band":
      return {
        domain: [-0.5, axis.categories.length - 0.5],
        major: axis.categories.map((label, value) => ({ value, label })),
        minor: [],
      };
    default: {
      const never: never = axis;
      throw new TypeError(`Unknown axis ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Lays out a plot frame and draws everything but the data.
 *
 * @param spec Size, labels, axes and legend.
 * @returns Scales, plot area and the SVG before and after the data.
 */
export function layoutFrame(spec: FrameSpec): Frame {
  const { width, height } = spec;
  const xt = ticksFor(spec.x);
  const yt = ticksFor(spec.y);
  const showLegend = spec.legend.length > 1;
  const legendWidth = showLegend
    ? 36 + Math.max(...spec.legend.map((s) => s.name.length)) * CHAR
    : 0;
  const yTickWidth = Math.max(...yt.major.map((t) => t.label.length)) * CHAR;
  const left = 14 + (spec.yLabel ? FONT + 10 : 0) + yTickWidth + 8;
  // Room for half of the last x tick label, which is centred on the right edge.
  const lastX = spec.x.kind === "band" ? 0 : (xt.major[xt.major.length - 1]?.label.length ?? 0);
  const right = width - legendWidth - Math.max(16, (lastX * CHAR) / 2 + 6);
  const top = spec.title ? 40 : 14;
  // Categorical labels that do not fit their band are rotated.
  const bandCount = spec.x.kind === "band" ? spec.x.categories.length : 0;
  const band = bandCount > 0 ? (right - left) / bandCount : 0;
  const longest = Math.max(...xt.major.map((t) => t.label.length)) * CHAR;
  const rotate = bandCount > 0 && longest > band - 6;
  const xTickHeight = rotate ? Math.min(longest, 160) * 0.5 + FONT : FONT + 4;
  const bottom = height - 12 - (spec.xLabel ? FONT + 12 : 0) - xTickHeight - 6;
  if (right - left < 40 || bottom - top < 40) {
    throw new RangeError(
      `Cannot draw a ${width}×${height} plot: labels and legend leave no room; ` +
        `make it larger or shorten the labels`,
    );
  }
  const map = (kind: AxisSpec["kind"], [d0, d1]: [number, number], p0: number, p1: number) => {
    if (kind === "log") {
      const l0 = Math.log10(d0);
      const l1 = Math.log10(d1);
      return (v: number) => p0 + ((Math.log10(v) - l0) / (l1 - l0)) * (p1 - p0);
    }
    return (v: number) => p0 + ((v - d0) / (d1 - d0)) * (p1 - p0);
  };
  const x = map(spec.x.kind, xt.domain, left, right);
  const y = map(spec.y.kind, yt.domain, bottom, top);

  const head: string[] = [];
  head.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" ` +
      `font-size="${FONT}">`,
  );
  if (spec.title) head.push(`<title>${escapeXml(spec.title)}</title>`);
  head.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  // Grid lines.
  const grid: string[] = [];
  for (const t of yt.major) grid.push(`M${px(left)} ${px(y(t.value))}H${px(right)}`);
  if (spec.x.kind !== "band") {
    for (const t of xt.major) grid.push(`M${px(x(t.value))} ${px(top)}V${px(bottom)}`);
  }
  head.push(`<path class="grid" d="${grid.join("")}" stroke="#e6e6e6" stroke-width="1"/>`);
  // Axes and ticks.
  const ticks: string[] = [];
  for (const t of yt.major) ticks.push(`M${px(left - 5)} ${px(y(t.value))}H${px(left)}`);
  for (const v of yt.minor) ticks.push(`M${px(left - 3)} ${px(y(v))}H${px(left)}`);
  for (const t of xt.major) ticks.push(`M${px(x(t.value))} ${px(bottom)}V${px(bottom + 5)}`);
  for (const v of xt.minor) ticks.push(`M${px(x(v))} ${px(bottom)}V${px(bottom + 3)}`);
  head.push(
    `<path class="axes" d="M${px(left)} ${px(top)}V${px(bottom)}H${px(right)}${ticks.join("")}" ` +
      `stroke="#333333" stroke-width="1" fill="none"/>`,
  );
  const labels: string[] = [];
  for (const t of yt.major) {
    labels.push(
      `<text x="${px(left - 8)}" y="${px(y(t.value) + 4)}" text-anchor="end">` +
        `${escapeXml(t.label)}</text>`,
    );
  }
  for (const t of xt.major) {
    const tx = px(x(t.value));
    const ty = px(bottom + 8 + FONT);
    labels.push(
      rotate
        ? `<text x="${tx}" y="${ty}" text-anchor="end" transform="rotate(-30 ${tx} ${ty})">` +
          `${escapeXml(t.label)}</text>`
        : `<text x="${tx}" y="${ty}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  head.push(`<g class="tick-labels" fill="#333333">${labels.join("")}</g>`);
  if (spec.xLabel) {
    head.push(
      `<text class="x-label" x="${px((left + right) / 2)}" y="${px(height - 10)}" ` +
        `text-anchor="middle" font-size="${FONT + 1}">${escapeXml(spec.xLabel)}</text>`,
    );
  }
  if (spec.yLabel) {
    const cx = 14 + FONT / 2;
    const cy = (top + bottom) / 2;
    head.push(
      `<text class="y-label" x="${px(cx)}" y="${px(cy)}" text-anchor="middle" ` +
        `font-size="${FONT + 1}" transform="rotate(-90 ${px(cx)} ${px(cy)})" ` +
        `dominant-baseline="middle">${escapeXml(spec.yLabel)}</text>`,
    );
  }
  if (spec.title) {
    head.push(
      `<text class="title" x="${px((left + right) / 2)}" y="24" text-anchor="middle" ` +
        `font-size="${FONT + 3}" font-weight="bold">${escapeXml(spec.title)}</text>`,
    );
  }

  const tail: string[] = [];
  if (showLegend) {
    const lx = right + 16;
    const items = spec.legend.map((s, i) => {
      const ly = top + 8 + i * 20;
      return `<path d="M${px(lx)} ${px(ly)}h22" stroke="${s.color}" stroke-width="2.5"` +
        `${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>` +
        `<text x="${px(lx + 28)}" y="${px(ly + 4)}">${escapeXml(s.name)}</text>`;
    });
    tail.push(`<g class="legend" fill="#222222">${items.join("")}</g>`);
  }
  tail.push("</svg>");
  return { x, y, band, area: { left, right, top, bottom }, yDomain: yt.domain, head, tail };
}

/**
 * The [min, max] of the finite values (positive only on a log axis).
 *
 * @param values The values.
 * @param log Whether the axis is logarithmic.
 * @returns The range, or undefined when no value qualifies.
 */
export function extent(values: Iterable<number>, log: boolean): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : undefined;
}

/**
 * An axis request from a data range, with a default range when there is no data.
 *
 * @param range The data range.
 * @param log Whether the axis is logarithmic.
 * @returns The axis spec.
 */
export function numericAxis(range: [number, number] | undefined, log: boolean): AxisSpec {
  const [min, max] = range ?? (log ? [1, 10] : [0, 1]);
  return log ? { kind: "log", min, max } : { kind: "linear", min, max };
}
