import assert from "node:assert/strict";
import {
  betaSchedule,
  betasForAlphaBar,
  cosineAlphaBar,
  cumprod,
  linspace,
  map64,
} from "../../lib/math/mod.ts";

/** Relative closeness in float64. */
function near(a: number, b: number, rtol: number, label = ""): void {
  assert.ok(Math.abs(a - b) <= rtol * Math.abs(b), `${label}: ${a} vs ${b} (rtol ${rtol})`);
}

Deno.test("linspace() reproduces numpy's endpoints and spacing", () => {
  assert.deepEqual(Array.from(linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(Array.from(linspace(2, 3, 1)), [2]);
  assert.equal(linspace(0, 1, 0).length, 0);
  // numpy sets the last value to stop exactly, and uses i * step + start for the others.
  const x = linspace(0.1, 20, 1000);
  assert.equal(x[999], 20);
  assert.equal(x[500], 500 * ((20 - 0.1) / 999) + 0.1);
});

Deno.test("the linear schedule runs from 1e-4 to 0.02, scaled by 1000/T, in equal steps", () => {
  for (const T of [1000, 4000, 50]) {
    const b = betaSchedule("linear", T);
    assert.equal(b.length, T);
    near(b[0]!, (1000 / T) * 1e-4, 1e-15, `β_0 at T=${T}`);
    near(b[T - 1]!, (1000 / T) * 0.02, 1e-15, `β_T at T=${T}`);
    const step = (b[T - 1]! - b[0]!) / (T - 1);
    for (let i = 1; i < T; i++) near(b[i]! - b[i - 1]!, step, 1e-9, `step ${i}`);
  }
});

Deno.test("the cosine schedule's ᾱ_t equals f(t/T)/f(0) with f(s) = cos²((s + 0.008)/1.008 · π/2)", () => {
  for (const T of [10, 1000, 4000]) {
    const b = betaSchedule("cosine", T);
    const ac = cumprod(map64(b, (x) => 1 - x));
    const f = (s: number) => Math.cos(((s + 0.008) / 1.008) * Math.PI / 2) ** 2;
    // The last beta is clipped at 0.999, so compare every step before it.
    for (let t = 0; t < T - 1; t++) near(ac[t]!, f((t + 1) / T) / f(0), 1e-11, `ᾱ_${t} T=${T}`);
    assert.equal(b[T - 1], 0.999);
  }
  assert.equal(cosineAlphaBar(0.5), Math.cos((0.508 / 1.008) * Math.PI / 2) ** 2);
});

Deno.test("betasForAlphaBar() clips betas at maxBeta", () => {
  const b = betasForAlphaBar(4, (s) => 1 - s, { maxBeta: 0.9 });
  assert.deepEqual(Array.from(b), [0.25, 1 - 0.5 / 0.75, 0.5, 0.9]);
});

// Golden values of mission-anchors §1.8 (given to 3–4 significant digits).
const GOLDEN = [
  {
    name: "linear",
    T: 1000,
    beta1: 1.0e-4,
    sqrtBeta1: 0.0100,
    abarT: 4.036e-5,
    snr1: 9.21,
    snrT: -10.12,
    prior: 2.9e-5,
    clipped: 0,
  },
  {
    name: "linear",
    T: 4000,
    beta1: 2.5e-5,
    sqrtBeta1: 0.0050,
    abarT: 4.247e-5,
    snr1: 10.60,
    snrT: -10.07,
    prior: 3.1e-5,
    clipped: 0,
  },
  {
    name: "cosine",
    T: 1000,
    beta1: 4.128e-5,
    sqrtBeta1: 0.0064,
    abarT: 2.43e-9,
    snr1: 10.09,
    snrT: -19.84,
    prior: 1.7e-9,
    clipped: 1,
  },
  {
    name: "cosine",
    T: 4000,
    beta1: 9.866e-6,
    sqrtBeta1: 0.0031,
    abarT: 1.52e-10,
    snr1: 11.53,
    snrT: -22.61,
    prior: 1.1e-10,
    clipped: 1,
  },
] as const;

Deno.test("linear and cosine schedules reproduce the golden table of mission-anchors §1.8", () => {
  for (const g of GOLDEN) {
    const label = `${g.name} T=${g.T}`;
    const b = betaSchedule(g.name, g.T);
    const ac = cumprod(map64(b, (x) => 1 - x));
    const abarT = ac[g.T - 1]!;
    const logSnr = (a: number) => Math.log(a / (1 - a));
    // Prior KL(N(√ᾱ_T x, 1 − ᾱ_T) ‖ N(0, 1)) at x = ±1, in bits.
    const prior = 0.5 * (-1 - Math.log(1 - abarT) + (1 - abarT) + abarT) / Math.LN2;
    near(b[0]!, g.beta1, 5e-4, `${label} β_1`);
    assert.equal(Math.sqrt(b[0]!).toFixed(4), g.sqrtBeta1.toFixed(4), `${label} √β_1`);
    near(abarT, g.abarT, 5e-3, `${label} ᾱ_T`);
    assert.equal(logSnr(ac[0]!).toFixed(2), g.snr1.toFixed(2), `${label} log SNR(1)`);
    assert.equal(logSnr(abarT).toFixed(2), g.snrT.toFixed(2), `${label} log SNR(T)`);
    near(prior, g.prior, 0.05, `${label} prior`);
    assert.equal(b.filter((x) => x === 0.999).length, g.clipped, `${label} clipped`);
    if (g.clipped) assert.equal(b[g.T - 1], 0.999, `${label} the clipped beta is the last`);
  }
});

Deno.test("the sigmoid schedule is σ(linspace(−6, 6, T)) scaled into [1e-4, 0.02]", () => {
  const T = 101;
  const b = betaSchedule("sigmoid", T);
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  near(b[0]!, sig(-6) * (0.02 - 1e-4) + 1e-4, 1e-14, "β_0");
  near(b[T - 1]!, sig(6) * (0.02 - 1e-4) + 1e-4, 1e-14, "β_T");
  near(b[50]!, 0.5 * (0.02 - 1e-4) + 1e-4, 1e-14, "midpoint");
  for (let i = 1; i < T; i++) assert.ok(b[i]! > b[i - 1]!, "increasing");
});

Deno.test("the scaled_linear schedule has √β linear from √0.00085 to √0.012, not rescaled by T", () => {
  for (const T of [1000, 50]) {
    const b = betaSchedule("scaled_linear", T);
    near(b[0]!, 0.00085, 1e-14, "β_0");
    near(b[T - 1]!, 0.012, 1e-14, "β_T");
    const s = map64(b, Math.sqrt);
    const step = (s[T - 1]! - s[0]!) / (T - 1);
    for (let i = 1; i < T; i++) near(s[i]! - s[i - 1]!, step, 1e-9, `step ${i}`);
  }
});

Deno.test("betaSchedule() rejects a non-positive step count and an unknown name", () => {
  assert.throws(() => betaSchedule("cosine", 0), {
    name: "RangeError",
    message:
      "Cannot build cosine schedule as 'steps' must be a positive integer: current value is 0",
  });
  assert.throws(() => betaSchedule("linear", 2.5), RangeError);
  assert.throws(
    () => betaSchedule("quadratic" as "linear", 10),
    /unknown: current value is "quadratic"/,
  );
});
