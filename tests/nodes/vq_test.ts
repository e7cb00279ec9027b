import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compile, defineNode, graph, GraphError } from "../../lib/graph/mod.ts";
import {
  codebookLoss,
  codebookPerplexity,
  commitmentLoss,
  convDecoder,
  convEncoder,
  decoderNll,
  mlp,
  squaredError,
  vectorQuantizer,
} from "../../lib/nodes/mod.ts";
import { assertClose, read, rows, setVar, trainLoss } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** x + b with a zero-initialised trainable b (an "encoder" whose output is its input at init). */
const shift = defineNode({
  name: "shift",
  inputs: { x: "B,...,D" },
  outputs: { y: "B,...,D" },
  params: ({ dim }) => ({ b: { shape: [dim("D")], init: "zeros" } }),
  fn: ({ x }, { params }) => ({ y: tf.add(x, params.b!) }),
});

const BOOK = [[0, 0], [1, 1], [-1, 1], [5, 5]]; // [4, 2]; code 3 is far from the data

function nearest(v: number[]): number {
  let best = 0, bestD = Infinity;
  BOOK.forEach((e, k) => {
    const d = (v[0]! - e[0]!) ** 2 + (v[1]! - e[1]!) ** 2;
    if (d < bestD) [best, bestD] = [k, d];
  });
  return best;
}

Deno.test("vectorQuantizer picks the nearest code for [B, D] and [B, H, W, D] inputs; zqST carries zq's values", async () => {
  const g = graph({ x: "B,2,2,2" })
    .add("enc", shift, { x: "x" })
    .add("vq", vectorQuantizer({ codes: 4 }), { ze: "enc.y" })
    .loss("cb", codebookLoss, { ze: "enc.y", zq: "vq.zq" })
    .build();
  assert.deepEqual(g.shapes.get("vq.indices"), ["B", 2, 2]);
  const c = compile(g);
  setVar(c, "vq/codebook", BOOK.flat());
  const ze = [[0.9, 1.2], [-0.1, 0.2], [-0.8, 0.6], [3.5, 3.0]];
  const out = c.run(["vq.indices", "vq.zq", "vq.zqST"], {
    x: tf.tensor4d(ze.flat(), [1, 2, 2, 2]),
  });
  const want = ze.map(nearest);
  assert.deepEqual(want, [1, 0, 2, 3]);
  assert.deepEqual(await read(out["vq.indices"]), want);
  assertClose(await read(out["vq.zq"]), want.flatMap((k) => BOOK[k]!));
  assertClose(await read(out["vq.zqST"]), want.flatMap((k) => BOOK[k]!));
  c.dispose();
});

Deno.test("codebookLoss and commitmentLoss equal the squared distance to the chosen code and move only their own side", async () => {
  const build = (wCodebook: number, wCommit: number, wRec: number) =>
    graph({ x: "B,2" })
      .add("enc", shift, { x: "x" })
      .add("vq", vectorQuantizer({ codes: 4 }), { ze: "enc.y" })
      .add("dec", mlp({ hidden: [], out: 2 }), { x: "vq.zqST" })
      .loss("cb", codebookLoss, { ze: "enc.y", zq: "vq.zq" }, { weight: wCodebook })
      .loss("commit", commitmentLoss, { ze: "enc.y", zq: "vq.zq" }, { weight: wCommit })
      .loss("rec", squaredError, { x: "x", xHat: "dec.y" }, { weight: wRec })
      .build();
  const ze = [[0.9, 1.2], [-0.1, 0.2], [-0.8, 0.6]];
  const x = tf.tensor2d(ze);
  const dist = ze.map((v) => {
    const e = BOOK[nearest(v)]!;
    return (v[0]! - e[0]!) ** 2 + (v[1]! - e[1]!) ** 2;
  });
  const c0 = compile(build(1, 1, 1));
  setVar(c0, "vq/codebook", BOOK.flat());
  const r = c0.losses({ x });
  assertClose(await read(r.terms.cb!), dist);
  assertClose(await read(r.terms.commit!), dist);
  c0.dispose();
  // Which variables each term sends a non-zero gradient to.
  const c = compile(build(1, 1, 1));
  setVar(c, "vq/codebook", BOOK.flat());
  const moved = async (term: string) => {
    const vars = [c.variables.get("vq/codebook")!, c.variables.get("enc/b")!];
    const { value, grads } = tf.variableGrads(
      () => tf.mean(c.losses({ x }).terms[term]!) as tf.Scalar,
      vars,
    );
    const nonZero = async (name: string) => {
      const g = grads[name];
      return g !== undefined && (await read(g)).some((v) => v !== 0);
    };
    const out = { book: await nonZero(vars[0]!.name), enc: await nonZero(vars[1]!.name) };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  assert.deepEqual(await moved("cb"), { book: true, enc: false });
  assert.deepEqual(await moved("commit"), { book: false, enc: true });
  assert.deepEqual(await moved("rec"), { book: false, enc: true }); // straight-through
  c.dispose();
});

Deno.test("the EMA codebook update sets e = m / N with Sonnet's bias correction, keyed by the training step", async () => {
  const decay = 0.9, eps = 1e-5;
  const g = graph({ x: "B,2" })
    .add("enc", shift, { x: "x" })
    .add("vq", vectorQuantizer({ codes: 4, update: "ema", decay, epsilon: eps }), {
      ze: "enc.y",
    })
    .loss("commit", commitmentLoss, { ze: "enc.y", zq: "vq.zq" })
    .build();
  assert.equal(compile(g).trainable.length, 1); // the codebook is state, not trained
  const c = compile(g, { optimizer: { kind: "adam", lr: 1e-9 } });
  setVar(c, "vq/codebook", BOOK.flat());
  const batch1 = [[0.9, 1.2], [1.1, 0.8], [-0.1, 0.2]];
  const state = async () => ({
    book: await rows(c.variables.get("vq/codebook")!),
    n: await read(c.variables.get("vq/clusterSize")!),
    m: await rows(c.variables.get("vq/embedSum")!),
    unused: await read(c.variables.get("vq/unused")!),
  });
  tf.dispose(c.losses({ x: tf.tensor2d(batch1) }).total); // evaluation leaves the state alone
  assert.deepEqual((await state()).n, [0, 0, 0, 0]);
  const step = (b: number[][], s: number) => {
    const r = c.trainStep({ x: tf.tensor2d(b) }, s);
    tf.dispose([r.total, ...Object.values(r.terms)]);
  };
  step(batch1, 0);
  // First update (t = 1): the averages are the batch statistics themselves.
  let st = await state();
  assertClose(st.n, [1, 2, 0, 0]);
  assertClose(st.m.flat(), [-0.1, 0.2, 2.0, 2.0, 0, 0, 0, 0]);
  const smooth = (n: number[]) => {
    const total = n.reduce((a, b) => a + b, 0);
    return n.map((v) => (v + eps) / (total + 4 * eps) * total);
  };
  let sm = smooth([1, 2, 0, 0]);
  assertClose(st.book.flat(), [-0.1 / sm[0]!, 0.2 / sm[0]!, 1, 1, 0, 0, 0, 0], { atol: 1e-4 });
  assertClose(st.unused, [0, 0, 1, 1]);
  // Second update (t = 2): A ← A + (v − A)(1 − γ)/(1 − γ²).
  const batch2 = [[-0.9, 0.9], [0.1, -0.1], [0.05, 0.1], [1.2, 1.0]];
  step(batch2, 1);
  st = await state();
  const rate = (1 - decay) / (1 - decay ** 2);
  // The new codebook has codes 2 and 3 at 0 (never chosen yet): batch 2 picks codes 0, 2, 2, 1.
  const n2 = [1, 1, 2, 0].map((v, k) => [1, 2, 0, 0][k]! + (v - [1, 2, 0, 0][k]!) * rate);
  assertClose(st.n, n2, { rtol: 1e-4 });
  const s2 = [[-0.9, 0.9], [1.2, 1.0], [0.15, 0.0], [0, 0]];
  const m1 = [[-0.1, 0.2], [2, 2], [0, 0], [0, 0]];
  const m2 = m1.map((r, k) => r.map((v, d) => v + (s2[k]![d]! - v) * rate));
  assertClose(st.m.flat(), m2.flat(), { atol: 1e-5 });
  sm = smooth(n2);
  assertClose(st.book.flat(), m2.flatMap((r, k) => r.map((v) => v / sm[k]!)), { atol: 1e-4 });
  assertClose(st.unused, [0, 0, 0, 2]);
  c.dispose();
});

Deno.test("dead codes restart from encoder outputs once unused for restartAfter steps, in both update modes", async () => {
  for (const update of ["loss", "ema"] as const) {
    const g = graph({ x: "B,2" })
      .add("enc", shift, { x: "x" })
      .add("vq", vectorQuantizer({ codes: 4, update, restartAfter: 2 }), { ze: "enc.y" })
      .loss("commit", commitmentLoss, { ze: "enc.y", zq: "vq.zq" })
      .build();
    const c = compile(g, { optimizer: { kind: "adam", lr: 1e-9 } });
    setVar(c, "vq/codebook", BOOK.flat());
    const ze = [[0.9, 1.2], [-0.1, 0.2], [-0.8, 0.6]];
    for (let s = 0; s < 2; s++) {
      const r = c.trainStep({ x: tf.tensor2d(ze) }, s);
      tf.dispose([r.total, ...Object.values(r.terms)]);
      const unused = await read(c.variables.get("vq/unused")!);
      assert.equal(unused[3], s === 0 ? 1 : 0, `${update} step ${s}: unused ${unused}`);
    }
    const code3 = (await rows(c.variables.get("vq/codebook")!))[3]!;
    assert.ok(
      ze.some((v) => Math.abs(v[0]! - code3[0]!) < 1e-4 && Math.abs(v[1]! - code3[1]!) < 1e-4),
      `${update}: restarted code ${code3} is not an encoder output`,
    );
    c.dispose();
  }
});

Deno.test("codebookPerplexity is exp of the entropy of the batch's code frequencies", async () => {
  const g = graph({ x: "B,2" })
    .add("enc", shift, { x: "x" })
    .add("vq", vectorQuantizer({ codes: 4 }), { ze: "enc.y" })
    .loss("ppl", codebookPerplexity({ codes: 4 }), { indices: "vq.indices" }, { weight: 0 })
    .build();
  const c = compile(g);
  setVar(c, "vq/codebook", BOOK.flat());
  const ze = [[0.9, 1.2], [1.1, 0.8], [-0.1, 0.2], [-0.8, 0.6]]; // codes 1, 1, 0, 2
  const r = c.losses({ x: tf.tensor2d(ze) });
  const p = [0.25, 0.5, 0.25];
  const ppl = Math.exp(-p.reduce((s, v) => s + v * Math.log(v), 0));
  assertClose(await read(r.terms.ppl!), [ppl, ppl, ppl, ppl], { rtol: 1e-5 });
  assertClose(await read(r.total), [0]);
  c.dispose();
});

Deno.test("convEncoder and convDecoder map 28x28 images to 7x7 codes and back, and reject sizes not divisible by 4", () => {
  const g = graph({ x: "B,28,28,1" })
    .add("enc", convEncoder({ channels: 8, out: 4 }), { x: "x" })
    .add("vq", vectorQuantizer({ codes: 8 }), { ze: "enc.y" })
    .add("dec", convDecoder({ channels: 8, out: 2 }), { z: "vq.zqST" })
    .loss("rec", decoderNll({ kind: "discretized_logistic" }), { x: "x", params: "dec.y" })
    .build();
  assert.deepEqual(g.shapes.get("enc.y"), ["B", 7, 7, 4]);
  assert.deepEqual(g.shapes.get("dec.y"), ["B", 28, 28, 2]);
  assert.throws(
    () =>
      graph({ x: "B,30,28,1" }).add("enc", convEncoder({ channels: 8, out: 4 }), { x: "x" })
        .build(),
    (e: unknown) => e instanceof GraphError && /image H must be divisible by 4/.test(e.message),
  );
});

Deno.test("a convolutional VQ-VAE lowers its loss in a short training, with the codebook loss and with EMA", async () => {
  // 8×8 binary images of a bright 4×4 square in one of the 4 quadrants.
  const data = new Float32Array(8 * 8 * 8);
  for (let n = 0; n < 8; n++) {
    const oy = (n % 2) * 4, ox = (Math.floor(n / 2) % 2) * 4;
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) data[n * 64 + (oy + y) * 8 + ox + x] = 1;
    }
  }
  const x = tf.tensor4d(data, [8, 8, 8, 1]);
  for (const update of ["loss", "ema"] as const) {
    const b = graph({ x: "B,8,8,1" })
      .add("enc", convEncoder({ channels: 8, out: 4 }), { x: "x" })
      .add("vq", vectorQuantizer({ codes: 8, update, restartAfter: 5 }), { ze: "enc.y" })
      .add("dec", convDecoder({ channels: 8, out: 1 }), { z: "vq.zqST" })
      .loss("rec", decoderNll({ kind: "bernoulli" }), { x: "x", params: "dec.y" })
      .loss("commit", commitmentLoss, { ze: "enc.y", zq: "vq.zq" }, { weight: 0.25 });
    const g = update === "loss"
      ? b.loss("cb", codebookLoss, { ze: "enc.y", zq: "vq.zq" }).build()
      : b.build();
    const { before, after } = await trainLoss(g, { x }, { steps: 40, lr: 1e-2 });
    assert.ok(after < 0.6 * before, `${update}: loss ${before} → ${after}`);
  }
  x.dispose();
});
