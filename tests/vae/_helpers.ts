/**
 * Shared helpers of the `lib/vae` tests: closeness assertions, float64 reference math and a
 * small seeded sampler. Not a test file.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";

/** Reads a tensor into a plain float64 array. */
export async function read(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

/** Asserts |a_i − e_i| ≤ atol + rtol·|e_i| for every element, naming the first offender. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol?: number; rtol?: number; what?: string } = {},
): void {
  const atol = tol.atol ?? 1e-6;
  const rtol = tol.rtol ?? 1e-5;
  assert.equal(actual.length, expected.length, `${tol.what ?? "values"}: length differs`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    assert.ok(ok, `${tol.what ?? "values"}[${i}]: got ${a}, expected ${e}`);
  }
}

/** Mean of an array. */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Standard error of the mean of an array. */
export function stdErr(xs: readonly number[]): number {
  const m = mean(xs);
  const v = xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1);
  return Math.sqrt(v / xs.length);
}

/** log σ(v) in float64, stable for any v. */
export function logSigmoid64(v: number): number {
  return v >= 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v));
}

/** σ(v) in float64. */
export function sigmoid64(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** The lower Cholesky factor of a symmetric positive-definite matrix (float64). */
export function cholesky(a: number[][]): number[][] {
  const n = a.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const li = l[i] as number[];
    for (let j = 0; j <= i; j++) {
      const lj = l[j] as number[];
      let s = (a[i] as number[])[j] as number;
      for (let k = 0; k < j; k++) s -= (li[k] as number) * (lj[k] as number);
      li[j] = i === j ? Math.sqrt(s) : s / (lj[j] as number);
    }
  }
  return l;
}

/** log N(x; mu, cov) in float64 via a Cholesky factorisation. */
export function mvnLogDensity(x: number[], mu: number[], cov: number[][]): number {
  const l = cholesky(cov);
  const n = x.length;
  // Solve L y = (x − mu); then the Mahalanobis term is ‖y‖².
  const y = new Array<number>(n).fill(0);
  let logDet = 0;
  for (let i = 0; i < n; i++) {
    const li = l[i] as number[];
    let s = (x[i] as number) - (mu[i] as number);
    for (let k = 0; k < i; k++) s -= (li[k] as number) * (y[k] as number);
    y[i] = s / (li[i] as number);
    logDet += 2 * Math.log(li[i] as number);
  }
  const maha = y.reduce((a, b) => a + b * b, 0);
  return -0.5 * (n * Math.log(2 * Math.PI) + logDet + maha);
}
