import assert from "node:assert/strict";
import { betaSchedule, scheduleTables } from "../../lib/math/mod.ts";

function near(a: number, b: number, rtol: number, label: string): void {
  assert.ok(Math.abs(a - b) <= rtol * Math.abs(b) + 1e-300, `${label}: ${a} vs ${b}`);
}

const CASES = [["linear", 1000], ["cosine", 1000], ["cosine", 20], ["linear", 4000]] as const;

Deno.test("posterior variance equals 1/(1/(1 − ᾱ_{t−1}) + α_t/β_t)", () => {
  for (const [name, T] of CASES) {
    const tb = scheduleTables(betaSchedule(name, T));
    for (let t = 0; t < T; t++) {
      const expected = 1 / (1 / (1 - tb.alphasCumprodPrev[t]!) + tb.alphas[t]! / tb.betas[t]!);
      near(tb.posteriorVariance[t]!, expected, 1e-10, `${name} T=${T} t=${t}`);
    }
    assert.equal(tb.posteriorVariance[0], 0);
    assert.equal(tb.posteriorLogVarianceClipped[0], Math.log(tb.posteriorVariance[1]!));
  }
});

Deno.test("the posterior mean coefficients follow from Bayes' rule on q(x_t | x_{t−1}) q(x_{t−1} | x_0)", () => {
  for (const [name, T] of CASES) {
    const tb = scheduleTables(betaSchedule(name, T));
    for (let t = 1; t < T; t++) {
      const x0 = 0.3;
      const xt = -1.7;
      // Product of N(x_{t−1}; √ᾱ_{t−1} x_0, 1 − ᾱ_{t−1}) and N(x_t; √α_t x_{t−1}, β_t) in x_{t−1}.
      const abPrev = tb.alphasCumprod[t - 1]!;
      const precision = 1 / (1 - abPrev) + tb.alphas[t]! / tb.betas[t]!;
      const mean =
        (Math.sqrt(abPrev) * x0 / (1 - abPrev) + Math.sqrt(tb.alphas[t]!) * xt / tb.betas[t]!) /
        precision;
      const got = tb.posteriorMeanCoef1[t]! * x0 + tb.posteriorMeanCoef2[t]! * xt;
      near(got, mean, 1e-9, `${name} T=${T} t=${t}`);
    }
  }
});

Deno.test("the derived tables are consistent with ᾱ", () => {
  const tb = scheduleTables(betaSchedule("cosine", 50));
  for (let t = 0; t < 50; t++) {
    const a = tb.alphasCumprod[t]!;
    near(tb.sqrtRecipAlphasCumprod[t]! * tb.sqrtAlphasCumprod[t]!, 1, 1e-14, "√(1/ᾱ)·√ᾱ");
    near(
      tb.sqrtRecipm1AlphasCumprod[t]!,
      tb.sqrtOneMinusAlphasCumprod[t]! / Math.sqrt(a),
      1e-12,
      "√(1/ᾱ − 1)",
    );
    near(Math.exp(tb.logOneMinusAlphasCumprod[t]!), 1 - a, 1e-12, "log(1 − ᾱ)");
    near(tb.alphasCumprodNext[t]!, t === 49 ? 0 : tb.alphasCumprod[t + 1]!, 0, "ᾱ_next");
    near(
      tb.fixedLargeVariance[t]!,
      t === 0 ? tb.posteriorVariance[1]! : tb.betas[t]!,
      0,
      "fixed large",
    );
  }
  assert.equal(tb.alphasCumprodPrev[0], 1);
});

Deno.test("scheduleTables() rejects betas outside (0, 1] and fewer than 2 steps", () => {
  assert.throws(() => scheduleTables([0.1, 0]), { name: "RangeError", message: /index 1 is 0/ });
  assert.throws(() => scheduleTables([0.1, 1.5]), RangeError);
  assert.throws(() => scheduleTables([0.1]), RangeError);
});
