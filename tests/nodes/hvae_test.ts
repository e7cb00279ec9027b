import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compile, defineNode, graph } from "../../lib/graph/mod.ts";
import {
  decoderNll,
  hvaeKl1,
  klStdNormal,
  mlp,
  mlpEncoder,
  reparameterize,
} from "../../lib/nodes/mod.ts";
import { hvaeElbo } from "../../lib/vae/mod.ts";
import { assertClose, lowRankData, read, trainLoss } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** p + b with a zero-initialised trainable b (makes a loss on fed values trainable-dependent). */
const shift = defineNode({
  name: "shift",
  inputs: { p: "B,Z" },
  outputs: { y: "B,Z" },
  params: ({ dim }) => ({ b: { shape: [dim("Z")], init: "zeros" } }),
  fn: ({ p }, { params }) => ({ y: tf.add(p, params.b!) }),
});

const logN = (z: number, m: number, lv: number) =>
  -0.5 * (Math.log(2 * Math.PI) + lv + (z - m) ** 2 * Math.exp(-lv));

Deno.test("hvaeKl1 matches a float64 hand computation and lib/vae's hvaeElbo kl1, for both estimators", async () => {
  const z = [[0.3, -1.2], [1.5, 0.4]];
  const qMu = [[0.1, -1], [1, 0.5]], qLv = [[-1, -0.5], [0.2, -2]];
  const pMu = [[0, -0.5], [0.8, 0]], pLv = [[0.3, 0.1], [-0.4, 0.5]];
  for (const estimator of ["mc", "analytic_entropy"] as const) {
    const g = graph({ z: "B,2", qm: "B,2", ql: "B,2", pm: "B,2", pl: "B,2" })
      .add("s", shift, { p: "z" })
      .loss("kl1", hvaeKl1({ estimator }), {
        z: "s.y",
        qMu: "qm",
        qLogvar: "ql",
        pMu: "pm",
        pLogvar: "pl",
      })
      .build();
    const c = compile(g);
    const t = tf.tensor2d;
    const feeds = { z: t(z), qm: t(qMu), ql: t(qLv), pm: t(pMu), pl: t(pLv) };
    const got = await read(c.losses(feeds).terms.kl1!);
    const hand = z.map((row, n) =>
      row.reduce((s, zi, j) => {
        const logQ = estimator === "mc"
          ? logN(zi, qMu[n]![j]!, qLv[n]![j]!)
          : -0.5 * (1 + Math.log(2 * Math.PI) + qLv[n]![j]!);
        return s + logQ - logN(zi, pMu[n]![j]!, pLv[n]![j]!);
      }, 0)
    );
    assertClose(got, hand, { rtol: 1e-5, what: estimator });
    const ref = hvaeElbo(tf.zeros([2, 1]), {
      likelihood: { kind: "bernoulli", logits: tf.zeros([2, 1]) },
      z1: feeds.z,
      q1: { mean: feeds.qm, logvar: feeds.ql },
      p1: { mean: feeds.pm, logvar: feeds.pl },
      q2: { mean: feeds.pm, logvar: feeds.pl },
    }, { kl1Estimator: estimator });
    assertClose(got, await read(ref.kl1), { rtol: 1e-6, what: `${estimator} vs hvaeElbo` });
    c.dispose();
  }
});

function hvaeGraph(D: number, Z1: number, Z2: number, H: number) {
  return graph({ x: `B,${D}`, e1: `B,${Z1}`, e2: `B,${Z2}` })
    .add("enc1", mlpEncoder({ hidden: [H], latent: Z1 }), { x: "x" })
    .add("z1", reparameterize(), { mu: "enc1.mu", logvar: "enc1.logvar", eps: "e1" })
    .add("enc2", mlpEncoder({ hidden: [H], latent: Z2 }), { x: "z1.z" })
    .add("z2", reparameterize(), { mu: "enc2.mu", logvar: "enc2.logvar", eps: "e2" })
    .add("prior1", mlpEncoder({ hidden: [H], latent: Z1 }), { x: "z2.z" })
    .add("dec", mlp({ hidden: [H], out: D }), { x: "z1.z" })
    .loss("rec", decoderNll({ kind: "bernoulli" }), { x: "x", params: "dec.y" })
    .loss("kl1", hvaeKl1(), {
      z: "z1.z",
      qMu: "enc1.mu",
      qLogvar: "enc1.logvar",
      pMu: "prior1.mu",
      pLogvar: "prior1.logvar",
    })
    .loss("kl2", klStdNormal, { mu: "enc2.mu", logvar: "enc2.logvar" })
    .build();
}

Deno.test("a two-level HVAE graph's rec, kl1 and kl2 terms equal lib/vae's hvaeElbo at the same sample", async () => {
  const g = hvaeGraph(6, 3, 2, 8);
  const c = compile(g, { seed: 4 });
  const feeds = {
    x: lowRankData(4, 6, { binary: true }),
    e1: tf.randomNormal([4, 3], 0, 1, "float32", 1),
    e2: tf.randomNormal([4, 2], 0, 1, "float32", 2),
  };
  const refs = [
    "z1.z",
    "enc1.mu",
    "enc1.logvar",
    "prior1.mu",
    "prior1.logvar",
    "enc2.mu",
    "enc2.logvar",
    "dec.y",
  ] as const;
  const r = c.losses(feeds, { extra: [...refs] });
  const e = r.extra;
  const ref = hvaeElbo(feeds.x, {
    likelihood: { kind: "bernoulli", logits: e["dec.y"]! },
    z1: e["z1.z"]!,
    q1: { mean: e["enc1.mu"]!, logvar: e["enc1.logvar"]! },
    p1: { mean: e["prior1.mu"]!, logvar: e["prior1.logvar"]! },
    q2: { mean: e["enc2.mu"]!, logvar: e["enc2.logvar"]! },
  });
  for (const term of ["rec", "kl1", "kl2"] as const) {
    assertClose(await read(r.terms[term]!), await read(ref[term]), { rtol: 1e-5, what: term });
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assertClose(await read(r.total), [mean(await read(ref.negElbo))], { rtol: 1e-5 });
  c.dispose();
});

Deno.test("a two-level HVAE lowers its negative ELBO in a short training", async () => {
  const g = hvaeGraph(16, 6, 3, 32);
  const feeds = {
    x: lowRankData(64, 16, { binary: true, seed: 7 }),
    e1: tf.randomNormal([64, 6], 0, 1, "float32", 1),
    e2: tf.randomNormal([64, 3], 0, 1, "float32", 2),
  };
  const { before, after } = await trainLoss(g, feeds, { steps: 150 });
  assert.ok(after < 0.8 * before, `loss ${before} → ${after}`);
});
