/**
 * Whole-array float64 helpers that reproduce numpy's results bit for bit where the schedule
 * code depends on them (`np.linspace`, `np.cumprod`).
 *
 * @module
 */

/**
 * Evenly spaced numbers over `[start, stop]`, computed exactly as `np.linspace(start, stop, n)`
 * (numpy ≥ 1.20: `i · step + start` with `step = (stop − start)/(n − 1)`, and the last value
 * set to `stop`), so float64 schedules match improved-diffusion bit for bit.
 *
 * @param start The first value.
 * @param stop The last value.
 * @param n The number of values (a non-negative integer).
 * @returns `n` values in a Float64Array.
 *
 * @example Five points
 * ```ts
 * import { linspace } from "./array.ts";
 * console.log(Array.from(linspace(0, 1, 5))); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(start: number, stop: number, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot build linspace as 'n' must be a non-negative integer: current value is ${n}`,
    );
  }
  const out = new Float64Array(n);
  const div = n - 1;
  const delta = stop - start;
  if (div > 0) {
    const step = delta / div;
    for (let i = 0; i < n; i++) {
      out[i] = step === 0 ? (i / div) * delta + start : i * step + start;
    }
    out[n - 1] = stop;
  } else if (n === 1) {
    out[0] = start;
  }
  return out;
}

/**
 * Running product `out[i] = a[0] · a[1] · … · a[i]`, left to right like `np.cumprod`.
 *
 * @param a The factors.
 * @returns The cumulative products in a new Float64Array.
 *
 * @example ᾱ from α
 * ```ts
 * import { cumprod } from "./array.ts";
 * console.log(Array.from(cumprod([0.5, 0.5, 0.5]))); // [0.5, 0.25, 0.125]
 * ```
 */
export function cumprod(a: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  let acc = 1;
  for (let i = 0; i < a.length; i++) {
    acc = i === 0 ? (a[i] as number) : acc * (a[i] as number);
    out[i] = acc;
  }
  return out;
}

/**
 * Applies `f` to every element (a whole-array map that keeps float64).
 *
 * @param a The input values.
 * @param f The function of one value (and its index).
 * @returns A new Float64Array of `f(a[i], i)`.
 *
 * @example Square roots
 * ```ts
 * import { map64 } from "./array.ts";
 * console.log(Array.from(map64([1, 4, 9], Math.sqrt))); // [1, 2, 3]
 * ```
 */
export function map64(
  a: ArrayLike<number>,
  f: (value: number, index: number) => number,
): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i] as number, i);
  return out;
}

/**
 * Combines two equally long arrays elementwise.
 *
 * @param a The left values.
 * @param b The right values (same length as `a`).
 * @param f The function of one pair (and its index).
 * @returns A new Float64Array of `f(a[i], b[i], i)`.
 *
 * @example Elementwise ratio
 * ```ts
 * import { zip64 } from "./array.ts";
 * console.log(Array.from(zip64([1, 2], [4, 8], (x, y) => x / y))); // [0.25, 0.25]
 * ```
 */
export function zip64(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  f: (x: number, y: number, index: number) => number,
): Float64Array {
  if (a.length !== b.length) {
    throw new TypeError(
      `Cannot combine arrays as their lengths differ: current lengths are ${a.length} and ${b.length}`,
    );
  }
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i] as number, b[i] as number, i);
  return out;
}
