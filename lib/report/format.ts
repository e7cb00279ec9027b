/**
 * Number formatting for reports: plain numbers, mean ± std over seeds.
 *
 * @module
 */

/** Summary statistics of a sample. */
export interface MeanStd {
  /** The sample mean. */
  mean: number;
  /** The sample standard deviation (Bessel-corrected, n − 1; NaN when n < 2). */
  std: number;
  /** The standard error of the mean, std / √n (NaN when n < 2). */
  sem: number;
  /** The number of finite values used. */
  n: number;
}

/** Options for {@linkcode fmtNumber}. */
export interface FmtNumberOptions {
  /**
   * `"fixed"`: `digits` decimals; `"significant"`: `digits` significant digits.
   * @default "significant"
   */
  style?: "fixed" | "significant";
}

/** Options for {@linkcode fmtMeanStd}. */
export interface FmtMeanStdOptions {
  /**
   * Append the sample size, e.g. `"1.234 ± 0.010 (n=5)"`. It is always shown when n = 1 (no std).
   * @default false
   */
  showN?: boolean;
}

/**
 * Mean, standard deviation and standard error of the finite values (NaN and ±∞ are skipped).
 *
 * @param values The sample.
 * @returns The statistics (mean NaN when there is no finite value).
 *
 * @example Three seeds
 * ```ts
 * import { meanStd } from "./format.ts";
 * console.log(meanStd([1, 2, 3])); // { mean: 2, std: 1, sem: 0.577…, n: 3 }
 * ```
 */
export function meanStd(values: readonly number[]): MeanStd {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  if (n === 0) return { mean: NaN, std: NaN, sem: NaN, n };
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: NaN, sem: NaN, n };
  const std = Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, sem: std / Math.sqrt(n), n };
}

/**
 * Formats a number for a table: significant digits (default, trailing zeros dropped) or fixed
 * decimals; exponent notation outside [0.001, 10^6) in significant style; "NaN", "∞", "−∞" spelled out.
 *
 * @param value The number.
 * @param digits Significant digits or decimals. @default 4
 * @param options The style.
 * @returns The text.
 *
 * @example Numbers
 * ```ts
 * import { fmtNumber } from "./format.ts";
 * console.log(fmtNumber(3.14159), fmtNumber(0.000123), fmtNumber(2.5, 2, { style: "fixed" })); // 3.142 1.23e-4 2.50
 * ```
 */
export function fmtNumber(value: number, digits = 4, options: FmtNumberOptions = {}): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(
      `Cannot format a number as 'digits' must be an integer in [0, 20]: current value is ${digits}`,
    );
  }
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "∞";
  if (value === -Infinity) return "−∞";
  const style = options.style ?? "significant";
  switch (style) {
    case "fixed":
      return value.toFixed(digits).replace(/^-(0\.?0*)$/, "$1");
    case "significant": {
      const abs = Math.abs(value);
      if (value === 0) return "0";
      if (abs < 1e-3 || abs >= 1e6) {
        const [m, e] = value.toExponential(Math.max(0, digits - 1)).split("e") as [string, string];
        return `${Number(m)}e${e.replace("+", "")}`;
      }
      return String(Number(value.toPrecision(Math.max(1, digits))));
    }
    default: {
      const never: never = style;
      throw new TypeError(`Unknown number style '${never}': use "fixed" or "significant"`);
    }
  }
}

/**
 * Formats a sample as "mean ± std" with `digits` decimals (sample std, n − 1), e.g.
 * `"1.234 ± 0.010"`. NaN values are skipped; an empty sample gives "–".
 *
 * @param values The sample (e.g. one metric over seeds).
 * @param digits Decimals of both numbers. @default 3
 * @param options Whether to show n.
 * @returns The text.
 *
 * @example Bits/dim over three seeds
 * ```ts
 * import { fmtMeanStd } from "./format.ts";
 * console.log(fmtMeanStd([3.71, 3.69, 3.70], 3)); // "3.700 ± 0.010"
 * console.log(fmtMeanStd([3.71], 3)); // "3.710 (n=1)"
 * ```
 */
export function fmtMeanStd(
  values: readonly number[],
  digits = 3,
  options: FmtMeanStdOptions = {},
): string {
  const { mean, std, n } = meanStd(values);
  if (n === 0) return "–";
  const fixed = (v: number): string => fmtNumber(v, digits, { style: "fixed" });
  if (n === 1) return `${fixed(mean)} (n=1)`;
  return `${fixed(mean)} ± ${fixed(std)}${options.showN ? ` (n=${n})` : ""}`;
}
