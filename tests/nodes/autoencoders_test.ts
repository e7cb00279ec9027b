import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compile, defineNode, graph, GraphError } from "../../lib/graph/mod.ts";
import {
  contractivePenalty,
  corrupt,
  decoderLikelihood,
  decoderMean,
  decoderNll,
  klStdNormal,
  kSparse,
  likelihoodParamCount,
  mlp,
  mlpEncoder,
  reparameterize,
  sigmoidEncoder,
  sparsityPenalty,
  squaredError,
} from "../../lib/nodes/mod.ts";
import type { LikelihoodKind } from "../../lib/vae/mod.ts";
import { assertClose, lowRankData, read, setVar, sigmoid, trainLoss } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** p + b with a zero-initialised trainable b: makes a loss on fed values trainable-dependent. */
const shift = defineNode({
  name: "shift",
  inputs: { p: "B,Q" },
  outputs: { y: "B,Q" },
  params: ({ dim }) => ({ b: { shape: [dim("Q")], init: "zeros" } }),
  fn: ({ p }, { params }) => ({ y: tf.add(p, params.b!) }),
});

Deno.test("corrupt() with masking noise sets the elements drawn below the rate to the fill value", async () => {
  const g = graph({ x: "B,4", u: "B,4" })
    .add("n", corrupt({ kind: "masking", rate: 0.5, fill: -1 }), { x: "x", noise: "u" })
    .build();
  const c = compile(g);
  const x = tf.tensor2d([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]);
  const u = tf.tensor2d([[0.9, 0.1, 0.6, 0.49], [0.5, 0.0, 0.99, 0.7]]);
  const out = c.run(["n.corrupted"], { x, u })["n.corrupted"];
  assertClose(await read(out), [0.1, -1, 0.3, -1, 0.5, -1, 0.7, 0.8]);
  c.dispose();
});

Deno.test("corrupt() with Gaussian noise adds sigma times the injected standard normal draws", async () => {
  const g = graph({ x: "B,3", e: "B,3" })
    .add("n", corrupt({ kind: "gaussian", sigma: 0.3 }), { x: "x", noise: "e" })
    .build();
  const c = compile(g);
  const x = tf.tensor2d([[1, 2, 3]]), e = tf.tensor2d([[1, -2, 0.5]]);
  assertClose(await read(c.run(["n.corrupted"], { x, e })["n.corrupted"]), [1.3, 1.4, 3.15]);
  c.dispose();
});

Deno.test("corrupt() draws from the node's step-keyed stream at the requested rate", async () => {
  const g = graph({ x: "B,1000" }).add("n", corrupt({ kind: "masking", rate: 0.25 }), { x: "x" })
    .build();
  const c = compile(g, { seed: 3 });
  const x = tf.ones([10, 1000]);
  const at = async (step: number) =>
    await read(c.run(["n.corrupted"], { x }, { step })["n.corrupted"]);
  const a = await at(5), b = await at(5), d = await at(6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, d);
  const dropped = a.filter((v) => v === 0).length / a.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.02, `dropped fraction ${dropped}`);
  c.dispose();
});

Deno.test("contractivePenalty on a sigmoidEncoder equals the squared Frobenius norm of a finite-difference Jacobian", async () => {
  const g = graph({ x: "B,3" })
    .add("enc", sigmoidEncoder({ latent: 2 }), { x: "x" })
    .loss("cae", contractivePenalty, { h: "enc.h", weight: "enc.weight" })
    .build();
  const c = compile(g);
  const W = [0.5, -1.0, 2.0, 0.3, -0.7, 1.1]; // [3, 2] row-major
  const b = [0.1, -0.2];
  setVar(c, "enc/l0_W", W);
  setVar(c, "enc/l0_b", b);
  const xs = [[0.2, -0.4, 1.0], [1.5, 0.3, -0.8]];
  const loss = await read(c.losses({ x: tf.tensor2d(xs) }).terms.cae!);
  const h = (x: number[]) =>
    [0, 1].map((j) => sigmoid(b[j]! + x.reduce((s, xi, i) => s + xi * W[i * 2 + j]!, 0)));
  const expected = xs.map((x) => {
    let sum = 0;
    for (let i = 0; i < 3; i++) {
      const up = [...x], dn = [...x];
      up[i]! += 1e-5;
      dn[i]! -= 1e-5;
      const hu = h(up), hd = h(dn);
      for (let j = 0; j < 2; j++) sum += ((hu[j]! - hd[j]!) / 2e-5) ** 2;
    }
    return sum;
  });
  assertClose(loss, expected, { rtol: 1e-4 });
  c.dispose();
});

Deno.test("sparsityPenalty equals the sum over units of KL(rho || mean activation), on every example", async () => {
  const g = graph({ x: "B,2" })
    .add("enc", sigmoidEncoder({ latent: 3 }), { x: "x" })
    .loss("sparse", sparsityPenalty({ rho: 0.1 }), { h: "enc.h" })
    .build();
  const c = compile(g, { seed: 2 });
  const x = tf.tensor2d([[1, 2], [-1, 0.5], [0.3, -2]]);
  const h = await read(c.run(["enc.h"], { x })["enc.h"]);
  const rhoHat = [0, 1, 2].map((j) => (h[j]! + h[3 + j]! + h[6 + j]!) / 3);
  const kl = rhoHat.reduce(
    (s, r) => s + 0.1 * Math.log(0.1 / r) + 0.9 * Math.log(0.9 / (1 - r)),
    0,
  );
  assertClose(await read(c.losses({ x }).terms.sparse!), [kl, kl, kl], { rtol: 1e-5 });
  c.dispose();
});

Deno.test("kSparse keeps the k largest codes and passes the gradient through them only", async () => {
  const g = graph({ z: "B,4" }).add("ks", kSparse({ k: 2 }), { z: "z" }).build();
  const c = compile(g);
  const z = tf.tensor2d([[0.1, 0.9, -0.5, 0.3], [2, -1, 1.5, 0.2]]);
  assertClose(await read(c.run(["ks.z"], { z })["ks.z"]), [0, 0.9, 0, 0.3, 2, 0, 1.5, 0]);
  const w = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]]);
  const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(c.run(["ks.z"], { z: t })["ks.z"], w)))(z);
  assertClose(await read(grad), [0, 2, 0, 4, 5, 0, 7, 0]);
  assert.throws(
    () => graph({ z: "B,4" }).add("ks", kSparse({ k: 5 }), { z: "z" }).build(),
    (e: unknown) => e instanceof GraphError && /'k' must be an integer in \[1, 4\]/.test(e.message),
  );
  c.dispose();
});

/** Float64 −log p(x) per example for each likelihood, from the same parameter layout. */
function handNll(kind: LikelihoodKind, x: number[][], p: number[][], sigma: number): number[] {
  const phi = (v: number) =>
    0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  return x.map((row, n) => {
    const d = row.length;
    let nll = 0;
    for (let i = 0; i < d; i++) {
      const xi = row[i]!, a = p[n]![i]!, b = p[n]![d + i] ?? 0;
      switch (kind) {
        case "bernoulli":
          nll += Math.log1p(Math.exp(a)) - xi * a;
          break;
        case "gaussian_fixed":
          nll += 0.5 * Math.log(2 * Math.PI * sigma ** 2) + (xi - a) ** 2 / (2 * sigma ** 2);
          break;
        case "gaussian":
          nll += 0.5 * (Math.log(2 * Math.PI) + b + (xi - a) ** 2 * Math.exp(-b));
          break;
        case "discretized_logistic": {
          const s = Math.exp(b);
          const hi = sigmoid((xi - a + 1 / 255) / s), lo = sigmoid((xi - a - 1 / 255) / s);
          nll -= Math.log(xi < -0.999 ? hi : xi > 0.999 ? 1 - lo : hi - lo);
          break;
        }
        case "discretized_gaussian": {
          const s = Math.exp(b);
          const hi = phi((xi - a + 1 / 255) / s), lo = phi((xi - a - 1 / 255) / s);
          nll -= Math.log(xi < -0.999 ? hi : xi > 0.999 ? 1 - lo : hi - lo);
          break;
        }
      }
    }
    return nll;
  });
}

Deno.test("decoderNll matches a float64 hand computation for every likelihood kind", async () => {
  const xBin = [[0, 1, 1], [1, 0, 1]];
  const x8 = [[-1, 0.2 * 127.5 / 127.5, 1], [4 / 127.5 - 1, 200 / 127.5 - 1, 0]];
  const cases: [LikelihoodKind, number[][], number[][]][] = [
    ["bernoulli", xBin, [[0.5, -1, 2], [3, 0, -0.2]]],
    ["gaussian_fixed", x8, [[-0.9, 0.1, 0.7], [0, 0.5, 0.2]]],
    ["gaussian", x8, [[-0.9, 0.1, 0.7, -1, 0, 0.5], [0, 0.5, 0.2, -2, 1, 0]]],
    ["discretized_logistic", x8, [[-0.9, 0.1, 0.7, -3, -2, -1], [-0.9, 0.6, 0.1, -4, -3, -2.5]]],
    ["discretized_gaussian", x8, [[-0.9, 0.1, 0.7, -3, -2, -1], [-0.9, 0.6, 0.1, -4, -3, -2.5]]],
  ];
  for (const [kind, x, p] of cases) {
    const P = likelihoodParamCount(kind);
    assert.equal(p[0]!.length, 3 * P);
    const g = graph({ x: "B,3", p: `B,${3 * P}` })
      .add("dec", shift, { p: "p" })
      .loss("rec", decoderNll({ kind, sigma: 0.4 }), { x: "x", params: "dec.y" })
      .build();
    const c = compile(g);
    const got = await read(c.losses({ x: tf.tensor2d(x), p: tf.tensor2d(p) }).terms.rec!);
    assertClose(got, handNll(kind, x, p, 0.4), { rtol: 2e-4, atol: 1e-4, what: kind });
    c.dispose();
  }
});

Deno.test("decoderNll rejects a decoder whose output is not P values per data dimension", () => {
  assert.throws(
    () =>
      graph({ x: "B,3", p: "B,3" })
        .add("dec", shift, { p: "p" })
        .loss("rec", decoderNll({ kind: "discretized_logistic" }), { x: "x", params: "dec.y" })
        .build(),
    (e: unknown) =>
      e instanceof GraphError && e.code === "shape-mismatch" &&
      /must hold 2 × 3 = 6 values/.test(e.message) && /likelihoodParamCount/.test(e.message),
  );
});

Deno.test("decoderLikelihood and decoderMean read [means | logScales] from the last axis of image params", async () => {
  const p = tf.tensor4d([1, -5, 2, -6, -3, -7, 0.5, -8], [1, 2, 2, 2]);
  const l = decoderLikelihood(p, { kind: "discretized_logistic" });
  assert.equal(l.kind, "discretized_logistic");
  if (l.kind !== "discretized_logistic") return;
  assert.deepEqual(l.means.shape, [1, 2, 2, 1]);
  assertClose(await read(l.means), [1, 2, -3, 0.5]);
  assertClose(await read(l.logScales), [-5, -6, -7, -8]);
  assertClose(await read(decoderMean(p, { kind: "discretized_logistic" })), [1, 1, -1, 0.5]);
  assertClose(await read(decoderMean(tf.tensor2d([[0, 2]]), { kind: "bernoulli" })), [
    0.5,
    sigmoid(2),
  ]);
});

Deno.test("a VAE graph's rec and KL terms match a hand computation with injected noise, and the total weights KL by beta", async () => {
  const g = graph({ x: "B,3", eps: "B,2" })
    .add("enc", mlpEncoder({ hidden: [], latent: 2 }), { x: "x" })
    .add("z", reparameterize(), { mu: "enc.mu", logvar: "enc.logvar", eps: "eps" })
    .add("dec", mlp({ hidden: [], out: 3 }), { x: "z.z" })
    .loss("rec", decoderNll({ kind: "bernoulli" }), { x: "x", params: "dec.y" })
    .loss("kl", klStdNormal, { mu: "enc.mu", logvar: "enc.logvar" }, { weight: 2 })
    .build();
  const c = compile(g);
  const We = [0.2, -0.1, 0.5, 0.3, 1.0, 0.4, -0.3, 0.2, 0.1, -0.5, 0.2, 0.3]; // [3, 4]
  const be = [0.1, 0.0, -0.5, 0.2];
  const Wd = [1, -1, 0.5, 0.3, 0.2, -0.4]; // [2, 3]
  const bd = [0.1, -0.1, 0.2];
  setVar(c, "enc/l0_W", We);
  setVar(c, "enc/l0_b", be);
  setVar(c, "dec/l0_W", Wd);
  setVar(c, "dec/l0_b", bd);
  const xs = [[1, 0, 1], [0, 1, 1]], es = [[0.5, -1], [1.5, 0.2]];
  const r = c.losses({ x: tf.tensor2d(xs), eps: tf.tensor2d(es) });
  const rec: number[] = [], kl: number[] = [];
  xs.forEach((x, n) => {
    const h = [0, 1, 2, 3].map((j) => be[j]! + x.reduce((s, xi, i) => s + xi * We[i * 4 + j]!, 0));
    const mu = h.slice(0, 2), lv = h.slice(2);
    const z = mu.map((m, j) => m + Math.exp(lv[j]! / 2) * es[n]![j]!);
    const logits = [0, 1, 2].map((k) => bd[k]! + z[0]! * Wd[k]! + z[1]! * Wd[3 + k]!);
    rec.push(handNll("bernoulli", [x], [logits], 1)[0]!);
    kl.push(-0.5 * mu.reduce((s, m, j) => s + 1 + lv[j]! - m * m - Math.exp(lv[j]!), 0));
  });
  assertClose(await read(r.terms.rec!), rec, { rtol: 1e-5 });
  assertClose(await read(r.terms.kl!), kl, { rtol: 1e-5 });
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assertClose(await read(r.total), [mean(rec) + 2 * mean(kl)], { rtol: 1e-5 });
  c.dispose();
});

Deno.test("every autoencoder variant and the VAE lower their loss in a short training", async () => {
  const D = 16, H = 32, Z = 6;
  const bin = lowRankData(64, D, { binary: true, seed: 4 });
  const sym = tf.tidy(() =>
    tf.sub(tf.div(tf.round(tf.mul(lowRankData(64, D, { seed: 5 }), 255)), 127.5), 1)
  );
  const base = () => graph({ x: `B,${D}` });
  const dec = mlp({ hidden: [H], out: D });
  const graphs = {
    ae: base()
      .add("enc", mlp({ hidden: [H], out: Z }), { x: "x" })
      .add("dec", dec, { x: "enc.y" })
      .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
      .build(),
    dae: base()
      .add("noise", corrupt({ kind: "masking", rate: 0.25 }), { x: "x" })
      .add("enc", mlp({ hidden: [H], out: Z }), { x: "noise.corrupted" })
      .add("dec", dec, { x: "enc.y" })
      .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
      .build(),
    "dae-gaussian": base()
      .add("noise", corrupt({ kind: "gaussian", sigma: 0.3 }), { x: "x" })
      .add("enc", mlp({ hidden: [H], out: Z }), { x: "noise.corrupted" })
      .add("dec", dec, { x: "enc.y" })
      .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
      .build(),
    "sparse-ae": base()
      .add("enc", sigmoidEncoder({ latent: H }), { x: "x" })
      .add("dec", dec, { x: "enc.h" })
      .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
      .loss("sparsity", sparsityPenalty({ rho: 0.05 }), { h: "enc.h" }, { weight: 0.1 })
      .build(),
    "ksparse-ae": base()
      .add("enc", mlp({ hidden: [H], out: H }), { x: "x" })
      .add("ks", kSparse({ k: 4 }), { z: "enc.y" })
      .add("dec", dec, { x: "ks.z" })
      .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
      .build(),
    cae: base()
      .add("enc", sigmoidEncoder({ latent: H }), { x: "x" })
      .add("dec", dec, { x: "enc.h" })
      .loss("rec", squaredError, { x: "x", xHat: "dec.y" })
      .loss("cae", contractivePenalty, { h: "enc.h", weight: "enc.weight" }, { weight: 0.1 })
      .build(),
  };
  for (const [name, g] of Object.entries(graphs)) {
    const { before, after } = await trainLoss(g, { x: bin }, { steps: 150 });
    assert.ok(after < 0.7 * before, `${name}: loss ${before} → ${after}`);
  }
  for (const kind of ["bernoulli", "discretized_logistic"] as const) {
    const P = likelihoodParamCount(kind);
    const g = base()
      .add("enc", mlpEncoder({ hidden: [H], latent: Z }), { x: "x" })
      .add("z", reparameterize(), { mu: "enc.mu", logvar: "enc.logvar" })
      .add("dec", mlp({ hidden: [H], out: P * D }), { x: "z.z" })
      .loss("rec", decoderNll({ kind }), { x: "x", params: "dec.y" })
      .loss("kl", klStdNormal, { mu: "enc.mu", logvar: "enc.logvar" })
      .build();
    const { before, after } = await trainLoss(g, { x: kind === "bernoulli" ? bin : sym }, {
      steps: 150,
    });
    assert.ok(after < 0.8 * before, `vae ${kind}: loss ${before} → ${after}`);
  }
  tf.dispose([bin, sym]);
});
