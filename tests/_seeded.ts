/**
 * Helpers shared by the optimiser and kernel tests: seeded inputs and a relative-tolerance
 * comparison. Not a test file.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Deterministic values in [-1, 1) (LCG), so every run compares the same numbers. */
export function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Asserts |a − e| ≤ tol·(1 + |e|) elementwise, naming the first element that is not. */
export function assertRelClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tol: number,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    assert.ok(
      Math.abs(a - e) <= tol * (1 + Math.abs(e)),
      `${what}[${i}]: ${a} vs ${e} (tolerance ${tol})`,
    );
  }
}
