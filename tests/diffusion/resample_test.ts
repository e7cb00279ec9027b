import assert from "node:assert/strict";
import {
  LossSecondMomentResampler,
  sampleTimesteps,
  UniformSampler,
} from "../../lib/diffusion/mod.ts";

Deno.test("UniformSampler draws every step about equally often with weight 1, reproducibly from its seed", () => {
  const s = new UniformSampler(10, { seed: 5 });
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 200; i++) {
    const { t, weights } = s.sample(50);
    t.forEach((v) => counts[v]++);
    assert.ok(weights.every((w) => w === 1));
  }
  for (const c of counts) {
    assert.ok(Math.abs(c - 1000) < 150, `count ${c} (expected 1000 ± 95 at 3σ)`);
  }
  assert.deepEqual(
    new UniformSampler(10, { seed: 5 }).sample(8),
    new UniformSampler(10, { seed: 5 }).sample(8),
  );
});

Deno.test("LossSecondMomentResampler stays uniform until every step has a full history", () => {
  const s = new LossSecondMomentResampler(3, { historyPerTerm: 2 });
  s.update([0, 0, 1, 1, 2], [1, 1, 1, 1, 1]);
  assert.equal(s.warmedUp(), false);
  assert.deepEqual(Array.from(s.weights()), [1, 1, 1]);
  s.update([2], [1]);
  assert.equal(s.warmedUp(), true);
});

Deno.test("LossSecondMomentResampler weights are √mean(h²), normalised, mixed with 0.001 uniform", () => {
  const s = new LossSecondMomentResampler(3, { seed: 1 });
  const hist = [
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    [3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
  ];
  // Older losses are shifted out: feed 2 stale values first for step 0.
  s.update([0, 0], [100, 100]);
  hist.forEach((h, t) => s.update(h.map(() => t), h));
  assert.deepEqual(s.getState().history[0], hist[0]);
  const rms = hist.map((h) => Math.sqrt(h.reduce((a, x) => a + x * x, 0) / h.length));
  const total = rms.reduce((a, b) => a + b, 0);
  const expected = rms.map((r) => (r / total) * 0.999 + 0.001 / 3);
  Array.from(s.weights()).forEach((w, i) => assert.ok(Math.abs(w - expected[i]!) < 1e-15));
  const { t, weights } = s.sample(1000);
  const p = expected.map((e) => e / expected.reduce((a, b) => a + b, 0));
  t.forEach((v, i) => assert.ok(Math.abs(weights[i]! - 1 / (3 * p[v]!)) < 1e-12));
  // Importance weights make the estimate unbiased: E[w·L_t] equals the uniform mean of L.
  const L = [1, 5, 2];
  const est = Array.from(t).reduce((a, v, i) => a + weights[i]! * L[v]!, 0) / t.length;
  assert.ok(Math.abs(est - 8 / 3) < 0.25, `importance-weighted mean ${est} vs ${8 / 3}`);
});

Deno.test("sampleTimesteps() inverts the CDF like numpy's choice (first bin whose CDF exceeds u)", () => {
  const us = [0, 0.1, 0.25, 0.2500001, 0.99];
  let k = 0;
  const { t } = sampleTimesteps(new Float64Array([1, 3]), us.length, () => us[k++]!);
  assert.deepEqual(Array.from(t), [0, 0, 1, 1, 1]);
  assert.throws(() => sampleTimesteps(new Float64Array([1]), 0, () => 0), RangeError);
});

Deno.test("the resampler state round-trips through JSON and rejects a bad history", () => {
  const a = new LossSecondMomentResampler(2, { historyPerTerm: 1 });
  a.update([0, 1], [2, 4]);
  const b = new LossSecondMomentResampler(2, { historyPerTerm: 1 });
  b.setState(JSON.parse(JSON.stringify(a.getState())));
  assert.deepEqual(b.weights(), a.weights());
  assert.throws(() => b.setState({ history: [[1, 2], [3]] }), TypeError);
  assert.throws(() => a.update([2], [1]), RangeError);
});
