import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  gaussianLogProb,
  type ImportanceSampler,
  iwaeLogLikelihood,
  reparameterize,
} from "../../lib/vae/mod.ts";
import { assertClose, mean, mvnLogDensity, read, stdErr } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

// Probabilistic PCA, D = 5, Z = 2: z ~ N(0, I), x = W z + μ + σ ε. W = U diag(s) with orthonormal
// columns U, so WᵀW is diagonal and the exact posterior q*(z | x) = N(M⁻¹Wᵀ(x − μ), σ²M⁻¹),
// M = WᵀW + σ²I, is a diagonal Gaussian. Exact log p(x) = log N(x; μ, WWᵀ + σ²I).
const D = 5;
const Z = 2;
const SIGMA = 0.5;
const S = [2.0, 1.0];
const MU = [0.3, -0.2, 0.5, 0.0, -0.4];

/** Gram–Schmidt of two fixed vectors: orthonormal columns U, [D][Z]. */
function orthonormalColumns(): number[][] {
  const a = [1, 2, 0, -1, 1];
  const b = [0, 1, 1, 1, -2];
  const na = Math.hypot(...a);
  const u1 = a.map((v) => v / na);
  const dot = b.reduce((s, v, i) => s + v * (u1[i] as number), 0);
  const r = b.map((v, i) => v - dot * (u1[i] as number));
  const nr = Math.hypot(...r);
  const u2 = r.map((v) => v / nr);
  return u1.map((v, i) => [v, u2[i] as number]);
}

const U = orthonormalColumns();
const W = U.map((row) => row.map((u, j) => u * (S[j] as number))); // [D][Z]
const POST_VAR = S.map((s) => (SIGMA * SIGMA) / (s * s + SIGMA * SIGMA)); // σ²M⁻¹ (diagonal)
// W M⁻¹: the posterior mean is (x − μ) W M⁻¹ in row-vector form.
const A = W.map((row) => row.map((w, j) => w / ((S[j] as number) ** 2 + SIGMA * SIGMA)));

/**
 * Deliberately imperfect proposals q(z | x) = N(posterior mean + shift·sd, inflate·posterior var):
 * INFLATED (variance doubled) has a small IWAE bias, used to check convergence to log p(x);
 * SHIFTED (also shifted by 1.5 sd) has large gaps between k = 1, 10, 100, 1000, used to check
 * that the bound tightens in k and that k = 1 is the ELBO.
 */
type Proposal = { shift: number; inflate: number };
const INFLATED: Proposal = { shift: 0, inflate: 2 };
const SHIFTED: Proposal = { shift: 1.5, inflate: 2 };

/** Data x_b = W z_b + μ + σ ε_b, rounded to float32, as float64 rows. */
async function sampleData(batch: number, seed: number): Promise<number[][]> {
  const z = await read(tf.randomNormal([batch, Z], 0, 1, "float32", seed));
  const e = await read(tf.randomNormal([batch, D], 0, 1, "float32", seed + 1));
  return Array.from({ length: batch }, (_, b) =>
    W.map((row, i) =>
      Math.fround(
        row.reduce((s, w, j) => s + w * (z[b * Z + j] as number), MU[i] as number) +
          SIGMA * (e[b * D + i] as number),
      )
    ));
}

/** Exact log p(x) = log N(x; μ, WWᵀ + σ²I) in float64. */
function exactLogPx(x: number[]): number {
  const cov = W.map((ri, i) =>
    W.map((rj, j) => ri.reduce((s, w, k) => s + w * (rj[k] as number), i === j ? SIGMA * SIGMA : 0))
  );
  return mvnLogDensity(x, MU, cov);
}

/** The exact posterior mean M⁻¹Wᵀ(x − μ) for one x, float64. */
function posteriorMean(x: number[]): number[] {
  return [0, 1].map((j) =>
    x.reduce((s, xi, i) => s + (xi - (MU[i] as number)) * ((A[i] as number[])[j] as number), 0)
  );
}

/** The proposal's mean and variance for one x, float64. */
function proposal(x: number[], q: Proposal): { m: number[]; v: number[] } {
  return {
    m: posteriorMean(x).map((p, j) => p + q.shift * Math.sqrt(POST_VAR[j] as number)),
    v: POST_VAR.map((v) => q.inflate * v),
  };
}

/** Analytic ELBO E_q[log p(x | z)] + E_q[log p(z)] + H[q] for the diagonal Gaussian proposal. */
function exactElbo(x: number[], q: Proposal): number {
  const { m, v } = proposal(x, q);
  const resid = x.reduce((s, xi, i) => {
    const r = xi - (MU[i] as number) -
      (W[i] as number[]).reduce((a, w, j) => a + w * (m[j] as number), 0);
    return s + r * r;
  }, 0);
  const traceWSW = v.reduce(
    (s, vj, j) => s + vj * W.reduce((a, row) => a + (row[j] as number) ** 2, 0),
    0,
  );
  const logLik = -0.5 * D * Math.log(2 * Math.PI * SIGMA * SIGMA) -
    (resid + traceWSW) / (2 * SIGMA * SIGMA);
  const logPrior = -0.5 * Z * Math.log(2 * Math.PI) -
    0.5 * (m.reduce((s, a) => s + a * a, 0) + v.reduce((s, a) => s + a, 0));
  const entropy = 0.5 * v.reduce((s, vj) => s + 1 + Math.log(2 * Math.PI * vj), 0);
  return logLik + logPrior + entropy;
}

/** KL(q ‖ exact posterior) between diagonal Gaussians, float64. */
function klToPosterior(x: number[], q: Proposal): number {
  const { m, v } = proposal(x, q);
  const post = posteriorMean(x);
  return v.reduce((s, vj, j) => {
    const pv = POST_VAR[j] as number;
    const dm = (m[j] as number) - (post[j] as number);
    return s + 0.5 * (Math.log(pv / vj) + vj / pv + (dm * dm) / pv - 1);
  }, 0);
}

/** The PPCA model seen through proposal `q`, in tfjs (float32). */
function ppcaModel(q: Proposal): ImportanceSampler {
  return {
    sampleQ(x, { samples, seed }) {
      const { mean: m, logvar } = proposalTensors(x, samples, q); // [S, B, Z]
      return reparameterize(m, logvar, { seed }).z; // [S, B, Z]
    },
    logQ(x, z) {
      const { mean: m, logvar } = proposalTensors(x, z.shape[0] as number, q);
      return tf.sum(gaussianLogProb(z, { mean: m, logvar }), 2); // [S, B]
    },
    logJoint(x, z) {
      const [samples, batch] = z.shape as [number, number, number];
      const flatZ = tf.reshape(z, [samples * batch, Z]); // [S·B, Z]
      const xm = tf.add(
        tf.reshape(tf.matMul(flatZ, tf.tensor2d(W), false, true), [samples, batch, D]),
        tf.tensor1d(MU),
      ); // [S, B, D]
      const xs = tf.broadcastTo(x, [samples, batch, D]); // [S, B, D]
      const logLik = tf.sum(gaussianLogProb(xs, { mean: xm, logvar: 2 * Math.log(SIGMA) }), 2);
      const logPrior = tf.sum(gaussianLogProb(z, { mean: tf.zerosLike(z), logvar: 0 }), 2);
      return tf.add(logLik, logPrior); // [S, B]
    },
  };
}

function proposalTensors(
  x: tf.Tensor,
  samples: number,
  q: Proposal,
): { mean: tf.Tensor; logvar: tf.Tensor } {
  const batch = x.shape[0] as number;
  const post = tf.matMul(tf.sub(x, tf.tensor1d(MU)), tf.tensor2d(A)); // [B, Z]
  const m = tf.add(post, tf.tensor1d(POST_VAR.map((v) => q.shift * Math.sqrt(v)))); // [B, Z]
  const logvar = tf.tensor1d(POST_VAR.map((v) => Math.log(q.inflate * v))); // [Z]
  return {
    mean: tf.broadcastTo(m, [samples, batch, Z]),
    logvar: tf.broadcastTo(logvar, [samples, batch, Z]),
  };
}

const model = ppcaModel(SHIFTED);

const BATCH = 1024;
const rows = await sampleData(BATCH, 100);
const xTensor = tf.tensor2d(rows);
const exact = rows.map(exactLogPx);
const elboExact = rows.map((x) => exactElbo(x, SHIFTED));
// Shifted proposal, all 1024 examples: k = 1, 10, 100, 1000 (chunk 0 shares its seed, so the
// smaller sample sets are nested in the larger ones).
const estimates = new Map<number, { iw: number[]; elbo: number[] }>();
for (const k of [1, 10, 100, 1000]) {
  const est = iwaeLogLikelihood(model, xTensor, { k, seed: 2024, chunk: 250 });
  estimates.set(k, { iw: await read(est.logLikelihood), elbo: await read(est.elbo) });
  tf.dispose(est);
}
// Inflated proposal, first 256 examples, k = 1000.
const CONVERGE_ROWS = 256;
const converged = iwaeLogLikelihood(
  ppcaModel(INFLATED),
  tf.tensor2d(rows.slice(0, CONVERGE_ROWS)),
  {
    k: 1000,
    seed: 7,
    chunk: 250,
  },
);
const convergedIw = await read(converged.logLikelihood);
tf.dispose(converged);

Deno.test("PPCA fixture: the analytic ELBO equals log p(x) - KL(q || posterior) in float64", () => {
  for (const q of [INFLATED, SHIFTED]) {
    const elbo = rows.slice(0, 16).map((x) => exactElbo(x, q));
    const viaKl = rows.slice(0, 16).map((x) => exactLogPx(x) - klToPosterior(x, q));
    assertClose(elbo, viaKl, { atol: 1e-9, rtol: 1e-12 });
  }
});

Deno.test("iwaeLogLikelihood() with k = 1000 is within 3 standard errors of the exact PPCA log p(x)", () => {
  const diff = convergedIw.map((v, i) => v - (exact[i] as number));
  const se = stdErr(diff);
  assert.ok(Math.abs(mean(diff)) < 3 * se, `mean IWAE − log p(x) = ${mean(diff)} ± ${se}`);
  assert.ok(se < 0.002, `standard error ${se} too large to be a meaningful check`);
  // The k = 1 gap of this proposal is KL(q || posterior) = 2 · ½(2 − 1 − ln 2) ≈ 0.31 nats.
  assertClose([klToPosterior(rows[0] as number[], INFLATED)], [1 - Math.LN2], { rtol: 1e-12 });
});

Deno.test("iwaeLogLikelihood() tightens monotonically in k on average (k = 1, 10, 100, 1000)", () => {
  const gaps = [1, 10, 100, 1000].map((k) =>
    mean(estimates.get(k)!.iw.map((v, i) => (exact[i] as number) - v))
  );
  for (let i = 1; i < gaps.length; i++) {
    assert.ok((gaps[i] as number) < (gaps[i - 1] as number), `gap(log p − IWAE) by k: ${gaps}`);
  }
  assert.ok(
    (gaps[0] as number) > 1,
    `k = 1 gap ${gaps[0]} should be the sizeable KL(q || posterior)`,
  );
});

Deno.test("iwaeLogLikelihood() at k = 1, and its elbo output at any k, equal the analytic ELBO in expectation", () => {
  const one = estimates.get(1)!.iw.map((v, i) => v - (elboExact[i] as number));
  assert.ok(Math.abs(mean(one)) < 3 * stdErr(one), `k = 1: ${mean(one)} ± ${stdErr(one)}`);
  const many = estimates.get(1000)!.elbo.map((v, i) => v - (elboExact[i] as number));
  assert.ok(
    Math.abs(mean(many)) < 3 * stdErr(many),
    `elbo at k = 1000: ${mean(many)} ± ${stdErr(many)}`,
  );
  assert.deepEqual(estimates.get(1)!.iw, estimates.get(1)!.elbo);
});

/** A sampler whose draws ignore the seed: every chunk of the same size gives the same z. */
const fixedDraws: ImportanceSampler = {
  sampleQ: (x, { samples }) =>
    tf.reshape(tf.linspace(-2, 2, samples * (x.shape[0] as number)), [
      samples,
      x.shape[0] as number,
      1,
    ]),
  logQ: (_x, z) => tf.sum(gaussianLogProb(z, { mean: tf.zerosLike(z), logvar: 0 }), 2),
  logJoint: (x, z) =>
    tf.sum(
      gaussianLogProb(tf.broadcastTo(tf.reshape(x, [1, -1, 1]), z.shape), { mean: z, logvar: 0 }),
      2,
    ),
};

Deno.test("iwaeLogLikelihood() combines chunks exactly: 4 identical chunks equal 1 chunk", async () => {
  const x = tf.tensor2d([[0.5], [-1.5], [3]]);
  const one = iwaeLogLikelihood(fixedDraws, x, { k: 50, chunk: 50, seed: 0 });
  const four = iwaeLogLikelihood(fixedDraws, x, { k: 200, chunk: 50, seed: 0 });
  assertClose(await read(four.logLikelihood), await read(one.logLikelihood), { atol: 1e-5 });
  assertClose(await read(four.elbo), await read(one.elbo), { atol: 1e-5 });
  assertClose(await read(four.ess), (await read(one.ess)).map((v) => 4 * v), { rtol: 1e-4 });
  const ess = await read(one.ess);
  assert.ok(ess.every((v) => v >= 1 && v <= 50), `ess ${ess}`);
});

Deno.test("iwaeLogLikelihood() is stable for log-weights near -1e4 and leaks no tensors", async () => {
  const shifted: ImportanceSampler = {
    ...model,
    logJoint: (x, z) => tf.sub(model.logJoint(x, z), 1e4),
  };
  const x = tf.tensor2d(rows.slice(0, 8));
  const before = tf.memory().numTensors;
  const base = iwaeLogLikelihood(model, x, { k: 300, chunk: 64, seed: 9 });
  const low = iwaeLogLikelihood(shifted, x, { k: 300, chunk: 64, seed: 9 });
  const b = await read(base.logLikelihood);
  const l = await read(low.logLikelihood);
  assert.ok(l.every(Number.isFinite), `shifted estimate ${l}`);
  // float32 spacing near 1e4 is ~1e-3.
  assertClose(l.map((v) => v + 1e4), b, { atol: 5e-3, rtol: 0 });
  tf.dispose([base, low]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => iwaeLogLikelihood(model, x, { k: 0, seed: 0 }), RangeError);
  const bad: ImportanceSampler = { ...model, logQ: (_x, z) => tf.zeros([z.shape[0] as number]) };
  assert.throws(() => iwaeLogLikelihood(bad, x, { k: 4, seed: 0 }), /'logQ' must return \[S, B\]/);
});

Deno.test("iwaeLogLikelihood() is differentiable through its chunks (gradient matches finite differences)", async () => {
  // x | z ~ N(z + θ, 1), z ~ N(0, 1), q = prior; the estimate is a smooth function of θ for fixed seeds.
  const withTheta = (theta: tf.Tensor): ImportanceSampler => ({
    sampleQ: (x, { samples, seed }) =>
      tf.randomNormal([samples, x.shape[0] as number, 1], 0, 1, "float32", seed),
    logQ: (_x, z) => tf.sum(gaussianLogProb(z, { mean: tf.zerosLike(z), logvar: 0 }), 2),
    logJoint: (x, z) =>
      tf.sum(
        tf.add(
          gaussianLogProb(tf.broadcastTo(tf.reshape(x, [1, -1, 1]), z.shape), {
            mean: tf.add(z, theta),
            logvar: 0,
          }),
          gaussianLogProb(z, { mean: tf.zerosLike(z), logvar: 0 }),
        ),
        2,
      ),
  });
  const x = tf.tensor2d([[0.7], [-0.4], [1.9]]);
  const f = (theta: tf.Tensor) =>
    tf.sum(iwaeLogLikelihood(withTheta(theta), x, { k: 120, chunk: 50, seed: 3 }).logLikelihood);
  const theta = tf.scalar(0.3);
  const [g] = tf.grads((t: tf.Tensor) => f(t))([theta]);
  const h = 1e-2;
  const [up] = await read(f(tf.scalar(0.3 + h)));
  const [down] = await read(f(tf.scalar(0.3 - h)));
  assertClose(await read(g as tf.Tensor), [((up as number) - (down as number)) / (2 * h)], {
    rtol: 2e-3,
    atol: 1e-3,
  });
});
