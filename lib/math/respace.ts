/**
 * Timestep respacing (Nichol & Dhariwal 2021, §4.3): choose a subset S of the original steps and
 * rebuild the betas so that ᾱ is unchanged at every kept step. Reproduces improved-diffusion's
 * `respace.py` (`space_timesteps`, `SpacedDiffusion.__init__`).
 *
 * @module
 */

import { cumprod, map64 } from "./array.ts";

/**
 * Picks which steps of a `steps`-step process to keep, exactly as improved-diffusion's
 * `space_timesteps`:
 *
 * - `"ddimN"`: the smallest integer stride i ≥ 1 with `len(range(0, T, i)) == N` (the DDIM
 *   paper's uniform striding); an error when no stride gives exactly N steps.
 * - `"10,15,20"` or `[10, 15, 20]`: [0, T) is cut into equal sections (the first `T % n` get one
 *   extra step) and section k keeps `counts[k]` evenly spaced steps, rounding
 *   `k · (size − 1)/(count − 1)` half to even like Python's `round`.
 *
 * @param steps The original number of steps T.
 * @param sectionCounts `"ddimN"`, a comma-separated string of counts, or an array of counts.
 * @returns The kept steps, sorted ascending, without duplicates.
 *
 * @example The docstring example of respace.py
 * ```ts
 * import { spaceTimesteps } from "./respace.ts";
 * const kept = spaceTimesteps(300, [10, 15, 20]);
 * console.log(kept.length, kept[0], kept[44]); // 45 0 299
 * console.log(spaceTimesteps(1000, "ddim4")); // [0, 250, 500, 750]
 * ```
 */
export function spaceTimesteps(steps: number, sectionCounts: string | readonly number[]): number[] {
  if (!Number.isInteger(steps) || steps <= 0) {
    throw new RangeError(
      `Cannot space timesteps as 'steps' must be a positive integer: current value is ${steps}`,
    );
  }
  let counts: number[];
  if (typeof sectionCounts === "string") {
    if (sectionCounts.startsWith("ddim")) {
      const desired = parseCount(sectionCounts.slice("ddim".length), sectionCounts);
      for (let stride = 1; stride < steps; stride++) {
        if (Math.ceil(steps / stride) === desired) {
          const kept: number[] = [];
          for (let i = 0; i < steps; i += stride) kept.push(i);
          return kept;
        }
      }
      throw new RangeError(
        `Cannot space ${steps} timesteps into exactly ${desired} steps with an integer stride: ` +
          `current value is ${JSON.stringify(sectionCounts)}; pick N = ceil(${steps} / stride)`,
      );
    }
    counts = sectionCounts.split(",").map((part) => parseCount(part, sectionCounts));
  } else {
    counts = sectionCounts.map((c) => {
      if (!Number.isInteger(c) || c < 0) {
        throw new RangeError(
          `Cannot space timesteps as every section count must be a non-negative integer: ` +
            `current value is ${JSON.stringify(sectionCounts)}`,
        );
      }
      return c;
    });
  }
  if (counts.length === 0) {
    throw new RangeError(
      "Cannot space timesteps as no section counts were given: current value is []",
    );
  }
  const sizePer = Math.floor(steps / counts.length);
  const extra = steps % counts.length;
  let startIdx = 0;
  const all = new Set<number>();
  counts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) {
      throw new RangeError(
        `Cannot divide a section of ${size} steps into ${count} steps: current value is ` +
          `${JSON.stringify(sectionCounts)}; use at most ${size} steps per section`,
      );
    }
    const fracStride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let cur = 0.0;
    for (let k = 0; k < count; k++) {
      all.add(startIdx + roundHalfEven(cur));
      cur += fracStride;
    }
    startIdx += size;
  });
  return [...all].sort((a, b) => a - b);
}

/**
 * Rebuilds the betas of a respaced chain so that ᾱ at every kept step equals the original:
 * β'_i = 1 − ᾱ_{S_i}/ᾱ_{S_{i−1}} with ᾱ_{S_{−1}} = 1 (improved-diffusion
 * `SpacedDiffusion.__init__`).
 *
 * @param betas The original betas (length T).
 * @param kept The kept steps (0-based, each in [0, T); order and duplicates do not matter).
 * @returns The respaced betas, one per kept step, in ascending step order.
 *
 * @example Keeping every step changes nothing
 * ```ts
 * import { respacedBetas } from "./respace.ts";
 * const betas = new Float64Array([0.1, 0.2, 0.3]);
 * const same = respacedBetas(betas, [0, 1, 2]);
 * console.log(Math.abs((same[2] ?? 0) - 0.3) < 1e-15); // true
 * ```
 */
export function respacedBetas(betas: ArrayLike<number>, kept: Iterable<number>): Float64Array {
  const steps = betas.length;
  const keep = new Set<number>();
  for (const k of kept) {
    if (!Number.isInteger(k) || k < 0 || k >= steps) {
      throw new RangeError(
        `Cannot respace betas as every kept step must be an integer in [0, ${steps}): ` +
          `current value is ${k}`,
      );
    }
    keep.add(k);
  }
  if (keep.size === 0) {
    throw new RangeError("Cannot respace betas as no steps are kept: current value is []");
  }
  const alphasCumprod = cumprod(map64(betas, (b) => 1.0 - b));
  const out: number[] = [];
  let last = 1.0;
  alphasCumprod.forEach((ac, i) => {
    if (keep.has(i)) {
      out.push(1 - ac / last);
      last = ac;
    }
  });
  return Float64Array.from(out);
}

/** Python 3 `round(x)` for a finite float: nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Python `int(s)` for a decimal count (surrounding whitespace allowed). */
function parseCount(part: string, whole: string | readonly number[]): number {
  const trimmed = part.trim();
  if (!/^[+]?\d+$/.test(trimmed)) {
    throw new TypeError(
      `Cannot space timesteps as ${JSON.stringify(part)} is not an integer count: current value ` +
        `is ${JSON.stringify(whole)}; use "ddimN" or comma-separated integers like "10,15,20"`,
    );
  }
  return Number.parseInt(trimmed, 10);
}
