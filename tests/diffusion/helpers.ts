/**
 * Test helpers for the diffusion tests: closeness checks with the offending index and value.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";

/** Nested arrays of numbers, as stored in JSON fixtures. */
export type Nested = number | Nested[];

/** Flattens nested arrays (or a typed array) into a plain number array. */
export function flat(x: Nested | ArrayLike<number>): number[] {
  if (typeof x === "number") return [x];
  if (Array.isArray(x)) return (x as Nested[]).flatMap((v) => flat(v));
  return Array.from(x as ArrayLike<number>);
}

/** Options of {@linkcode assertClose}. */
export interface CloseOptions {
  /** Relative tolerance. */
  rtol?: number;
  /** Absolute tolerance. */
  atol?: number;
  /** What is compared, for the message. */
  label?: string;
}

/**
 * Asserts |a − e| ≤ atol + rtol·|e| elementwise (NaN equals NaN, ±Infinity must match exactly).
 * Returns the largest |a − e|/(atol + rtol·|e|) seen (≤ 1 when it passes).
 */
export function assertClose(
  actual: Nested | ArrayLike<number>,
  expected: Nested | ArrayLike<number>,
  options: CloseOptions = {},
): number {
  const { rtol = 1e-5, atol = 1e-6, label = "" } = options;
  const a = flat(actual);
  const e = flat(expected);
  assert.equal(a.length, e.length, `${label}: length ${a.length} != ${e.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] as number;
    const ei = e[i] as number;
    if (Number.isNaN(ei) && Number.isNaN(ai)) continue;
    if (!Number.isFinite(ei) || !Number.isFinite(ai)) {
      assert.equal(ai, ei, `${label}[${i}]: ${ai} != ${ei}`);
      continue;
    }
    const ratio = Math.abs(ai - ei) / (atol + rtol * Math.abs(ei));
    worst = Math.max(worst, ratio);
    assert.ok(
      ratio <= 1,
      `${label}[${i}]: actual ${ai} vs expected ${ei} (|diff| ${
        Math.abs(ai - ei)
      }, atol ${atol}, rtol ${rtol})`,
    );
  }
  return worst;
}

/** Reads a tensor's values (async, as library code must). */
export async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}
