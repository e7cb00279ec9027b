/**
 * Axis ticks for hand-written SVG plots: "nice" 1-2-5 steps on linear axes (Heckbert, "Nice
 * numbers for graph labels", Graphics Gems, 1990) and decades on log axes, with compact labels.
 *
 * @module
 */

/** One labelled tick. */
export interface Tick {
  /** The data value. */
  value: number;
  /** Its label. */
  label: string;
}

/** Ticks and the (extended) domain they cover. */
export interface AxisTicks {
  /** The domain to draw: the data range extended to the outermost ticks. */
  domain: [number, number];
  /** Labelled ticks, ascending. */
  major: Tick[];
  /** Unlabelled minor tick values (log axes only). */
  minor: number[];
}

/** Options for {@linkcode linearTicks}. */
export interface LinearTicksOptions {
  /**
   * The approximate number of intervals wanted.
   * @default 5
   */
  count?: number;
}

/**
 * The nice step (1, 2 or 5 × 10^k) closest to a rough step.
 *
 * @param rough A positive rough step.
 * @returns The nice step.
 *
 * @example Steps
 * ```ts
 * import { niceStep } from "./ticks.ts";
 * console.log(niceStep(0.23), niceStep(6), niceStep(1400)); // 0.2 5 1000
 * ```
 */
export function niceStep(rough: number): number {
  const e = Math.floor(Math.log10(rough));
  const f = rough / 10 ** e;
  const m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return clean(m * 10 ** e);
}

/**
 * Ticks for a linear axis: a 1-2-5 step giving about `count` intervals, ticks at its multiples,
 * the domain extended to the outermost ticks that enclose the data. A zero-width range is widened around its value.
 *
 * @param min Smallest data value.
 * @param max Largest data value.
 * @param options Approximate tick count.
 * @returns The extended domain and labelled ticks.
 *
 * @example Ticks for 0.13 … 0.87
 * ```ts
 * import { linearTicks } from "./ticks.ts";
 * console.log(linearTicks(0.13, 0.87).major.map((t) => t.label)); // ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
 * ```
 */
export function linearTicks(min: number, max: number, options: LinearTicksOptions = {}): AxisTicks {
  const count = options.count ?? 5;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`Cannot make ticks for the range [${min}, ${max}]: it must be finite`);
  }
  if (min === max) {
    const half = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= half;
    max += half;
  }
  // The 1-2-5 step whose enclosing ticks make the interval count closest to `count`
  // (ties: the larger step).
  const e = Math.floor(Math.log10((max - min) / count));
  let step = NaN;
  let best = Infinity;
  for (const m of [0.5, 1, 2, 5, 10, 20]) {
    const candidate = clean(m * 10 ** e);
    const intervals = Math.ceil(max / candidate - 1e-9) - Math.floor(min / candidate + 1e-9);
    if (Math.abs(intervals - count) <= best) {
      best = Math.abs(intervals - count);
      step = candidate;
    }
  }
  const lo = Math.floor(min / step + 1e-9);
  const hi = Math.ceil(max / step - 1e-9);
  const values: number[] = [];
  for (let i = lo; i <= hi; i++) values.push(clean(i * step));
  const major = values.map((value) => ({ value, label: formatTick(value, step) }));
  return { domain: [values[0] as number, values[values.length - 1] as number], major, minor: [] };
}

/**
 * Ticks for a log10 axis. The domain is the data range widened to the nearest 1, 2 or 5 × 10^k.
 * With three or more powers of ten inside it, those are labelled (every k-th when there are
 * many) and 2…9 × 10^k are minor ticks; with two, 1, 2 and 5 × 10^k are labelled; with fewer,
 * the axis gets {@linkcode linearTicks} (placed on the log scale) when they stay positive.
 *
 * @param min Smallest positive data value.
 * @param max Largest data value.
 * @returns The extended domain and ticks.
 *
 * @example Ticks for a loss falling from 3 to 0.004
 * ```ts
 * import { logTicks } from "./ticks.ts";
 * const t = logTicks(0.004, 3);
 * console.log(t.domain, t.major.map((t) => t.label)); // [0.002, 5] ["0.01", "0.1", "1"]
 * ```
 */
export function logTicks(min: number, max: number): AxisTicks {
  if (!(min > 0) || !Number.isFinite(max) || min > max) {
    throw new RangeError(
      `Cannot make log ticks for the range [${min}, ${max}]: it must be positive and finite`,
    );
  }
  if (min === max) {
    min /= 2;
    max *= 2;
  }
  const e0 = Math.floor(Math.log10(min) + 1e-9);
  const e1 = Math.floor(Math.log10(max) - 1e-9) + 1;
  const values = (mantissas: readonly number[]): number[] => {
    const out: number[] = [];
    for (let e = e0; e <= e1; e++) for (const m of mantissas) out.push(clean(m * 10 ** e));
    return out;
  };
  const ends = values([1, 2, 5]);
  const lo = ends.filter((v) => v <= min * (1 + 1e-9)).pop() as number;
  const hi = ends.find((v) => v >= max * (1 - 1e-9)) as number;
  const within = (v: number): boolean => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const decades = values([1]).filter(within);
  if (decades.length < 2) {
    // Less than a decade: linear ticks (placed on the log scale) fit the data best.
    const linear = linearTicks(min, max);
    if (linear.domain[0] > 0) return linear;
  }
  const all = values([1, 2, 3, 4, 5, 6, 7, 8, 9]).filter(within);
  let labelled: number[];
  if (decades.length >= 3) {
    const stride = Math.ceil(decades.length / 8);
    labelled = decades.filter((_, i) => i % stride === 0);
  } else if (decades.length === 2) {
    labelled = values([1, 2, 5]).filter(within);
  } else {
    labelled = all.length > 10 ? values([1, 2, 5]).filter(within) : all;
  }
  const minor = decades.length > 7
    ? decades.filter((v) => !labelled.includes(v))
    : all.filter((v) => !labelled.includes(v));
  return {
    domain: [lo, hi],
    major: labelled.map((value) => ({ value, label: formatLog(value) })),
    minor,
  };
}

/**
 * Formats a tick value with the decimals its step needs (the same for every tick of an axis),
 * "k"/"M" when the step is 1,000 or more, and exponent notation when it is below 0.001.
 *
 * @param value The tick value.
 * @param step The tick step (sets the decimals).
 * @returns The label.
 *
 * @example Labels
 * ```ts
 * import { formatTick } from "./ticks.ts";
 * console.log(formatTick(0.25, 0.05), formatTick(20000, 5000), formatTick(2e-5, 1e-5)); // 0.25 20k 2e-5
 * console.log(formatTick(1, 0.2)); // 1.0
 * ```
 */
export function formatTick(value: number, step: number): string {
  if (step >= 1e3) {
    const [div, suffix] = step >= 1e5 ? [1e6, "M"] : [1e3, "k"];
    return value === 0 ? "0" : `${trimFixed(value / div, decimalsFor(step / div))}${suffix}`;
  }
  if (step < 1e-3) return value === 0 ? "0" : formatLog(value);
  return trimFixed(value, decimalsFor(step));
}

function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

function formatLog(v: number): string {
  if (v >= 1e-3 && v < 1e5) return String(clean(v));
  const [m, e] = v.toExponential().split("e") as [string, string];
  return `${String(clean(Number(m)))}e${e.replace("+", "")}`;
}

function trimFixed(v: number, decimals: number): string {
  const s = v.toFixed(Math.min(decimals, 20));
  return s === "-0" || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** Removes binary round-off (0.30000000000000004 → 0.3). */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}
