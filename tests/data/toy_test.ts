import assert from "node:assert/strict";
import {
  GaussianMixture2D,
  gridMixture,
  loadDataset,
  ringMixture,
  Rng,
} from "../../lib/data/mod.ts";

/** ∫ p over a uniform grid of step h on [lo, hi]², by the rectangle rule. */
function integrate(p: GaussianMixture2D, lo: number, hi: number, h: number): number {
  const n = Math.round((hi - lo) / h) + 1;
  const row = new Float64Array(2 * n);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      row[2 * i] = lo + i * h;
      row[2 * i + 1] = lo + j * h;
    }
    for (const lp of p.logProb(row)) sum += Math.exp(lp);
  }
  return sum * h * h;
}

Deno.test("logProb() matches the closed form of a single Gaussian", () => {
  const p = new GaussianMixture2D({ means: [[0.5, -1]], std: 2 });
  const [lp] = p.logProb([1.5, 1]);
  const expected = -Math.log(2 * Math.PI * 4) - (1 + 4) / (2 * 4);
  assert.ok(Math.abs(lp! - expected) < 1e-14);
});

Deno.test("the toy densities integrate to 1", () => {
  // A grid unrelated to the one entropy() uses (other step, other extent).
  for (const p of [ringMixture(), gridMixture(), ringMixture({ std: 0.2 })]) {
    const total = integrate(p, -2.5, 2.5, 0.007);
    assert.ok(Math.abs(total - 1) < 1e-6, `∫p = ${total}`);
  }
});

Deno.test("entropy() is exact for one Gaussian and converged for the mixtures", () => {
  const one = new GaussianMixture2D({ means: [[3, 3]], std: 0.3 });
  const exact = Math.log(2 * Math.PI * Math.E * 0.09);
  assert.ok(Math.abs(one.entropy() - exact) < 1e-10);
  for (const p of [ringMixture(), gridMixture()]) {
    const h = p.entropy();
    assert.ok(Math.abs(p.entropy({ cellsPerStd: 8 }) - h) < 1e-8);
    assert.ok(Math.abs(p.entropy({ tailStds: 16 }) - h) < 1e-8);
  }
  // Well-separated equal-weight components: H ≈ log K + log(2πeσ²) (overlap is tiny).
  const sep = Math.log(8) + Math.log(2 * Math.PI * Math.E * 0.05 ** 2);
  assert.ok(Math.abs(ringMixture().entropy() - sep) < 1e-6);
});

Deno.test("entropy() agrees with a Monte-Carlo estimate within 3 standard errors", () => {
  const cases = [
    ringMixture(),
    gridMixture(),
    ringMixture({ std: 0.3 }), // heavy overlap: far from the separated formula
    new GaussianMixture2D({ means: [[0, 0], [0.1, 0]], std: [0.05, 0.2], weights: [1, 3] }),
  ];
  cases.forEach((p, k) => {
    const mc = p.entropyMonteCarlo(100_000, new Rng(100 + k));
    const z = (p.entropy() - mc.mean) / mc.standardError;
    assert.ok(
      Math.abs(z) < 3,
      `case ${k}: grid ${p.entropy()}, MC ${mc.mean} ± ${mc.standardError}`,
    );
  });
});

Deno.test("sample() draws components by weight and points around their means", () => {
  const p = new GaussianMixture2D({ means: [[-1, 0], [1, 0]], std: 0.1, weights: [1, 3] });
  const n = 40_000;
  const { points, labels } = p.sample(n, new Rng(8));
  const share = labels.reduce((s, l) => s + l, 0) / n;
  assert.ok(Math.abs(share - 0.75) < 4 * Math.sqrt(0.75 * 0.25 / n), `share ${share}`);
  let dev = 0;
  labels.forEach((l, i) => (dev += (points[2 * i]! - (l === 0 ? -1 : 1)) ** 2));
  const std = Math.sqrt(dev / n);
  assert.ok(Math.abs(std - 0.1) < 0.002, `std ${std}`);
});

Deno.test("toy data sets are reproducible and their test NLL under p sits at the entropy", async () => {
  const a = await loadDataset("toy-grid25", { seed: 3 });
  const b = await loadDataset("toy-grid25", { seed: 3 });
  assert.deepEqual(a.train.points, b.train.points);
  assert.notDeepEqual(a.train.points.subarray(0, 10), a.test.points.subarray(0, 10));
  assert.equal(a.train.n, 50_000);
  assert.equal(a.test.n, 10_000);
  const c = await loadDataset("toy-grid25", { seed: 4, limit: 100 });
  assert.equal(c.train.n, 100);
  assert.notDeepEqual(c.train.points, a.train.points.subarray(0, 200));
  // The oracle NLL (−mean log p on the test split) is an unbiased estimate of H(p).
  const logp = a.distribution.logProb(a.test.points);
  const nll = -logp.reduce((s, v) => s + v, 0) / a.test.n;
  const sd = Math.sqrt(logp.reduce((s, v) => s + (-v - nll) ** 2, 0) / (a.test.n - 1));
  assert.ok(Math.abs(nll - a.distribution.entropy()) < 3 * sd / Math.sqrt(a.test.n));
  const pts = a.train.points;
  assert.ok(pts.every((v) => Math.abs(v) < 1.2), "points lie in roughly [−1, 1]");
});
