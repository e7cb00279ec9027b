/**
 * An independent float64 reference of the DDPM equations, in plain JS on rows of numbers, for the
 * hand-computation tests. It follows the papers (Ho et al. 2020 eqs. 4, 6, 7, 13; Nichol &
 * Dhariwal 2021 eqs. 13–16; Salimans & Ho 2022 §4), not the library: schedule quantities come from
 * the betas, the posterior from Bayes' rule.
 *
 * @module
 */

/** Design choices, as strings. */
export interface Design {
  meanType: "eps" | "x0" | "prev_x" | "v";
  varType: "fixed_small" | "fixed_large" | "learned" | "learned_range";
}

/** Per-step quantities computed straight from the betas. */
export class Chain {
  readonly T: number;
  readonly beta: number[];
  readonly abar: number[];
  constructor(betas: ArrayLike<number>) {
    this.T = betas.length;
    this.beta = Array.from(betas);
    let a = 1;
    this.abar = this.beta.map((b) => (a *= 1 - b));
  }
  abarPrev(t: number): number {
    return t === 0 ? 1 : this.abar[t - 1]!;
  }
  /** β̃_t from the precision form 1/(1/(1 − ᾱ_{t−1}) + α_t/β_t). */
  postVar(t: number): number {
    return 1 / (1 / (1 - this.abarPrev(t)) + (1 - this.beta[t]!) / this.beta[t]!);
  }
  /** The posterior mean coefficients (c1 of x_0, c2 of x_t) from Bayes' rule. */
  postCoefs(t: number): [number, number] {
    const v = this.postVar(t);
    const ap = this.abarPrev(t);
    if (t === 0) return [1, 0];
    return [v * Math.sqrt(ap) / (1 - ap), v * Math.sqrt(1 - this.beta[t]!) / this.beta[t]!];
  }
  /** log β̃_t with t = 0 replaced by t = 1. */
  postLogVarClipped(t: number): number {
    return Math.log(this.postVar(t === 0 ? 1 : t));
  }
}

/** x_t = √ᾱ x_0 + √(1 − ᾱ) ε. */
export function qSample(c: Chain, x0: number[], t: number, eps: number[]): number[] {
  const a = c.abar[t]!;
  return x0.map((x, i) => Math.sqrt(a) * x + Math.sqrt(1 - a) * eps[i]!);
}

/** KL between two univariate Gaussians, nats. */
export function kl(m1: number, lv1: number, m2: number, lv2: number): number {
  return 0.5 * (-1 + lv2 - lv1 + Math.exp(lv1 - lv2) + (m1 - m2) ** 2 * Math.exp(-lv2));
}

/** The tanh approximation of Φ. */
export function phi(x: number): number {
  return 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** log P(bin of x) under N(m, e^{2 logScale}) on the 8-bit grid of [−1, 1]. */
export function discretizedLogLik(x: number, m: number, logScale: number): number {
  const s = Math.exp(logScale);
  const up = phi((x - m + 1 / 255) / s);
  const lo = phi((x - m - 1 / 255) / s);
  const p = x < -0.999 ? up : x > 0.999 ? 1 - lo : up - lo;
  return Math.log(Math.max(p, 1e-12));
}

/** p_θ(x_{t−1} | x_t) for one row, given the model's output row (2D values when learned). */
export function pMeanVar(
  c: Chain,
  d: Design,
  xt: number[],
  t: number,
  out: number[],
  clip: boolean,
): { mean: number[]; logVar: number[]; x0: number[] } {
  const D = xt.length;
  const pred = out.slice(0, D);
  const vals = out.slice(D);
  const a = c.abar[t]!;
  const [c1, c2] = c.postCoefs(t);
  const logVar = Array.from({ length: D }, (_, i) => {
    switch (d.varType) {
      case "fixed_small":
        return c.postLogVarClipped(t);
      case "fixed_large":
        return Math.log(t === 0 ? c.postVar(1) : c.beta[t]!);
      case "learned":
        return vals[i]!;
      case "learned_range": {
        const frac = (vals[i]! + 1) / 2;
        return frac * Math.log(c.beta[t]!) + (1 - frac) * c.postLogVarClipped(t);
      }
    }
  });
  const cl = (x: number) => (clip ? Math.min(1, Math.max(-1, x)) : x);
  let x0: number[];
  switch (d.meanType) {
    case "eps":
      x0 = xt.map((x, i) => cl((x - Math.sqrt(1 - a) * pred[i]!) / Math.sqrt(a)));
      break;
    case "x0":
      x0 = pred.map(cl);
      break;
    case "v":
      x0 = xt.map((x, i) => cl(Math.sqrt(a) * x - Math.sqrt(1 - a) * pred[i]!));
      break;
    case "prev_x":
      x0 = xt.map((x, i) => cl((pred[i]! - c2 * x) / c1));
      return { mean: pred, logVar, x0 };
  }
  return { mean: x0.map((x, i) => c1 * x + c2 * xt[i]!), logVar, x0 };
}

/** One VLB term in bits/dim for one row. */
export function vbTerm(
  c: Chain,
  d: Design,
  x0: number[],
  xt: number[],
  t: number,
  out: number[],
  clip: boolean,
): { bits: number; x0hat: number[] } {
  const p = pMeanVar(c, d, xt, t, out, clip);
  const [c1, c2] = c.postCoefs(t);
  const D = x0.length;
  let total = 0;
  for (let i = 0; i < D; i++) {
    total += t === 0
      ? -discretizedLogLik(x0[i]!, p.mean[i]!, 0.5 * p.logVar[i]!)
      : kl(c1 * x0[i]! + c2 * xt[i]!, c.postLogVarClipped(t), p.mean[i]!, p.logVar[i]!);
  }
  return { bits: total / D / Math.LN2, x0hat: p.x0 };
}

/** Training losses for one row ({ loss, mse?, vb? }). */
export function trainingLosses(
  c: Chain,
  d: Design & { lossType: "mse" | "rescaled_mse" | "kl" | "rescaled_kl" },
  x0: number[],
  t: number,
  eps: number[],
  out: number[],
): Record<string, number> {
  const xt = qSample(c, x0, t, eps);
  if (d.lossType === "kl" || d.lossType === "rescaled_kl") {
    const vb = vbTerm(c, d, x0, xt, t, out, false).bits;
    return { loss: d.lossType === "kl" ? vb : vb * c.T };
  }
  const D = x0.length;
  const a = c.abar[t]!;
  const [c1, c2] = c.postCoefs(t);
  const target = x0.map((x, i) => {
    switch (d.meanType) {
      case "eps":
        return eps[i]!;
      case "x0":
        return x;
      case "prev_x":
        return c1 * x + c2 * xt[i]!;
      case "v":
        return Math.sqrt(a) * eps[i]! - Math.sqrt(1 - a) * x;
    }
  });
  const mse = target.reduce((s, y, i) => s + (y - out[i]!) ** 2, 0) / D;
  if (d.varType !== "learned" && d.varType !== "learned_range") return { loss: mse, mse };
  let vb = vbTerm(c, d, x0, xt, t, out, false).bits;
  if (d.lossType === "rescaled_mse") vb *= c.T / 1000;
  return { loss: mse + vb, mse, vb };
}
