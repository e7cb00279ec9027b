import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  type AnyNode,
  compile,
  defineLoss,
  defineNode,
  graph,
  GraphError,
} from "../../lib/graph/mod.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

const dense = (out: number) =>
  defineNode({
    name: "dense",
    inputs: { x: "B,D" },
    outputs: { y: "B,H" },
    dims: { H: out },
    config: { out },
    params: ({ dim }) => ({
      w: { shape: [dim("D"), out], init: "glorotUniform" },
      b: { shape: [out], init: "zeros" },
    }),
    fn: ({ x }, { params }) => ({ y: tf.add(tf.matMul(x, params.w!), params.b!) }),
  });

const split = defineNode({
  name: "split",
  inputs: { h: "B,H" },
  outputs: { mu: "B,Z", logvar: "B,Z" },
  dims: { Z: 2 },
  mustConsume: ["logvar"],
  fn: ({ h }) => {
    const [mu, logvar] = tf.split(h, 2, -1);
    return { mu: mu!, logvar: logvar! };
  },
});

const sq = defineLoss({
  name: "sq",
  inputs: { a: "B,D" },
  fn: ({ a }) => tf.sum(tf.square(a), -1),
});

const sqDiff = defineLoss({
  name: "sqDiff",
  inputs: { a: "B,D", b: "B,D" },
  fn: ({ a, b }) => tf.sum(tf.squaredDifference(a, b), -1),
});

function rejects(build: () => unknown, code: string, pattern: RegExp) {
  assert.throws(build, (e: unknown) => {
    assert.ok(e instanceof GraphError, `expected GraphError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("graph() infers shapes through nodes and symbols", () => {
  const g = graph({ x: "B,5" })
    .add("enc", dense(4), { x: "x" })
    .add("s", split, { h: "enc.y" })
    .loss("kl", sq, { a: "s.logvar" })
    .loss("m", sq, { a: "s.mu" })
    .build();
  assert.deepEqual(g.shapes.get("enc.y"), ["B", 4]);
  assert.deepEqual(g.shapes.get("s.mu"), ["B", 2]);
  assert.deepEqual(g.shapes.get("kl.loss"), ["B"]);
});

Deno.test("a misspelt or missing wiring fails deno check", () => {
  const b = graph({ x: "B,5" }).add("enc", dense(4), { x: "x" });
  // @ts-expect-error 'enc.yy' is not an output of enc
  b.add("s", split, { h: "enc.yy" });
  // @ts-expect-error 'hh' is not an input of split
  b.add("s", split, { hh: "enc.y" });
  // @ts-expect-error required input 'h' is missing
  b.add("s", split, {});
  // @ts-expect-error 'z' is not a graph input
  b.add("d", dense(3), { x: "z" });
  // @ts-expect-error losses take a loss node
  b.loss("bad", dense(3), { x: "x" });
});

Deno.test("build() rejects at least 8 distinct wiring mistakes with specific messages", async (t) => {
  const { buildGraph } = await import("../../lib/graph/graph.ts");
  const node = (name: string, n: unknown, wiring: object) => ({
    name,
    node: n as AnyNode,
    wiring: wiring as Record<string, string>,
    weight: null,
  });
  const loss = (name: string, n: unknown, wiring: object, weight = 1) => ({
    name,
    node: n as AnyNode,
    wiring: wiring as Record<string, string>,
    weight,
  });
  await t.step("unknown input name", () =>
    rejects(
      () =>
        buildGraph({ inputs: { x: "B,5" }, nodes: [node("enc", dense(4), { x: "x", y: "x" })] }),
      "unknown-input",
      /'enc' \(dense\) as it has no input 'y': its inputs are x/,
    ));
  await t.step("unknown ref", () =>
    rejects(
      () => buildGraph({ inputs: { x: "B,5" }, nodes: [node("enc", dense(4), { x: "enc0.y" })] }),
      "unknown-ref",
      /no node 'enc0'/,
    ));
  await t.step("unknown output of a known node", () =>
    rejects(
      () =>
        buildGraph({
          inputs: { x: "B,5" },
          nodes: [node("enc", dense(4), { x: "x" }), node("s", split, { h: "enc.h" })],
        }),
      "unknown-ref",
      /node 'enc' \(dense\) has no output 'h': its outputs are y/,
    ));
  await t.step("missing required input", () =>
    rejects(
      () =>
        buildGraph({
          inputs: { x: "B,5" },
          nodes: [node("enc", dense(4), { x: "x" }), loss("l", sqDiff, { a: "enc.y" })],
        }),
      "missing-input",
      /required input 'b' is not wired/,
    ));
  await t.step("shape mismatch names both shapes", () =>
    rejects(
      () =>
        buildGraph({
          inputs: { x: "B,5" },
          nodes: [node("enc", dense(4), { x: "x" }), loss("l", sqDiff, { a: "enc.y", b: "x" })],
        }),
      "shape-mismatch",
      /'x' is \[B, 5\] but sqDiff input 'b' expects "B,D" \('D' is 4 but got 5/,
    ));
  await t.step("cycle", () =>
    rejects(
      () =>
        buildGraph({
          inputs: { x: "B,4" },
          nodes: [node("a", dense(4), { x: "b.y" }), node("b", dense(4), { x: "a.y" })],
        }),
      "cycle",
      /cycle: a → b → a/,
    ));
  await t.step("duplicate node name", () =>
    rejects(
      () =>
        buildGraph({
          inputs: { x: "B,4" },
          nodes: [node("a", dense(4), { x: "x" }), node("a", dense(3), { x: "x" })],
        }),
      "duplicate-name",
      /'a' \(dense\) as the name is already used by node 'a'/,
    ));
  await t.step("node name clashing with a graph input", () =>
    rejects(
      () => buildGraph({ inputs: { x: "B,4" }, nodes: [node("x", dense(4), { x: "x" })] }),
      "duplicate-name",
      /already used by a graph input/,
    ));
  await t.step("loss that depends on no trainable variable", () =>
    rejects(
      () => buildGraph({ inputs: { x: "B,4" }, nodes: [loss("l", sq, { a: "x" })] }),
      "no-trainable",
      /'l' \(sq\) as a loss as it depends on no trainable parameter/,
    ));
  await t.step("required output never used", () =>
    rejects(
      () =>
        buildGraph({
          inputs: { x: "B,4" },
          nodes: [
            node("enc", dense(4), { x: "x" }),
            node("s", split, { h: "enc.y" }),
            loss("l", sq, { a: "s.mu" }),
          ],
        }),
      "unused-output",
      /output 's.logvar' is never used/,
    ));
  await t.step("negative loss weight", () =>
    rejects(
      () =>
        buildGraph({
          inputs: { x: "B,4" },
          nodes: [node("enc", dense(4), { x: "x" }), loss("l", sq, { a: "enc.y" }, -1)],
        }),
      "bad-weight",
      /weight must be a finite number ≥ 0: current value is -1/,
    ));
  await t.step("bad graph input shape", () =>
    rejects(
      () => buildGraph({ inputs: { x: "D,4" }, nodes: [] }),
      "bad-name",
      /must be "B" followed by fixed sizes/,
    ));
});

Deno.test("a plan runs only the nodes its targets need", () => {
  let decoderRuns = 0;
  const counting = defineNode({
    name: "counting",
    inputs: { z: "B,Z" },
    outputs: { y: "B,Z" },
    params: ({ dim }) => ({ w: { shape: [dim("Z")], init: "ones" } }),
    fn: ({ z }, { params }) => {
      decoderRuns++;
      return { y: tf.mul(z, params.w!) };
    },
  });
  const g = graph({ x: "B,5" })
    .add("enc", dense(4), { x: "x" })
    .add("s", split, { h: "enc.y" })
    .add("dec", counting, { z: "s.mu" })
    .loss("kl", sq, { a: "s.logvar" })
    .loss("rec", sq, { a: "dec.y" })
    .build();
  const c = compile(g, { seed: 1 });
  assert.deepEqual(c.plan(["dec.y"], ["s.mu"]).nodes, ["dec"]);
  assert.deepEqual(c.plan(["s.mu"]).nodes, ["enc", "s"]);
  const out = tf.tidy(() => c.run(["dec.y"], { "s.mu": tf.ones([3, 2]) })["dec.y"].clone());
  assert.equal(decoderRuns, 1);
  assert.deepEqual(out.shape, [3, 2]);
  out.dispose();
  c.dispose();
});

Deno.test("trainStep() lowers the loss and keeps numTensors flat", async () => {
  const g = graph({ x: "B,3", y: "B,2" })
    .add("f", dense(2), { x: "x" })
    .loss("mse", sqDiff, { a: "f.y", b: "y" })
    .build();
  const c = compile(g, { seed: 0, optimizer: { kind: "adam", lr: 0.05 } });
  const x = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]);
  const y = tf.tensor2d([[1, 2], [3, 4], [5, 6], [9, 12]]);
  const losses: number[] = [];
  let before = 0;
  for (let step = 0; step < 200; step++) {
    if (step === 2) before = tf.memory().numTensors;
    const r = c.trainStep({ x, y }, step);
    if (step % 50 === 0 || step === 199) losses.push((await r.total.data())[0]!);
    tf.dispose([r.total, ...Object.values(r.terms)]);
  }
  assert.equal(tf.memory().numTensors, before);
  assert.ok(losses.at(-1)! < losses[0]! / 20, `loss ${losses.join(" → ")}`);
  c.dispose();
  tf.dispose([x, y]);
});

Deno.test("compile() initialises parameters from the seed", async () => {
  const g = graph({ x: "B,3" }).add("f", dense(2), { x: "x" }).loss("l", sq, { a: "f.y" })
    .build();
  const a = compile(g, { seed: 7 }), b = compile(g, { seed: 7 }), c = compile(g, { seed: 8 });
  const w = async (k: typeof a) => Array.from(await k.variables.get("f/w")!.data());
  assert.deepEqual(await w(a), await w(b));
  assert.notDeepEqual(await w(a), await w(c));
  for (const k of [a, b, c]) k.dispose();
});

Deno.test("fingerprint() ignores nodes the losses do not need", () => {
  const base = graph({ x: "B,3" }).add("f", dense(2), { x: "x" }).loss("l", sq, { a: "f.y" });
  const g1 = base.add("extra", dense(5), { x: "x" }).build();
  const g2 = base.add("extra", dense(6), { x: "x" }).build();
  const g3 = graph({ x: "B,3" }).add("f", dense(3), { x: "x" }).loss("l", sq, { a: "f.y" })
    .build();
  assert.deepEqual(g1.fingerprint(), g2.fingerprint());
  assert.notDeepEqual(g1.fingerprint(), g3.fingerprint());
});

Deno.test("run() rejects a node whose output breaks its shape spec, naming both shapes", () => {
  const elementwise = defineLoss({
    name: "elementwise",
    inputs: { a: "B,D" },
    fn: ({ a }) => tf.square(a), // [B, D], not [B]
  });
  const g = graph({ x: "B,3" }).add("f", dense(2), { x: "x" }).loss("l", elementwise, {
    a: "f.y",
  }).build();
  const c = compile(g);
  assert.throws(
    () => tf.tidy(() => c.losses({ x: tf.ones([4, 3]) }).total),
    /'l.loss' of elementwise as it has shape \[4,2\] but its spec promises \[B\]/,
  );
  c.dispose();
});

Deno.test("trainStep() gives zero gradients to parameters behind a loss of weight 0", async () => {
  const g = graph({ x: "B,3", y: "B,2" })
    .add("f", dense(2), { x: "x" })
    .add("h", dense(2), { x: "x" })
    .loss("mse", sqDiff, { a: "f.y", b: "y" })
    .loss("off", sqDiff, { a: "h.y", b: "y" }, { weight: 0 })
    .build();
  const c = compile(g, { seed: 0, optimizer: { kind: "adam", lr: 0.05 } });
  const hw = [...c.variables.entries()].filter(([k]) => k.startsWith("h/"));
  const before = await Promise.all(hw.map(([, v]) => v.data()));
  const x = tf.ones([4, 3]);
  const y = tf.zeros([4, 2]);
  for (let step = 0; step < 3; step++) {
    const r = c.trainStep({ x, y }, step);
    assert.ok(Number.isFinite((await r.total.data())[0]!));
    tf.dispose([r.total, ...Object.values(r.terms)]);
  }
  const after = await Promise.all(hw.map(([, v]) => v.data()));
  assert.ok(hw.length > 0);
  assert.deepEqual(after, before);
  c.dispose();
  tf.dispose([x, y]);
});
