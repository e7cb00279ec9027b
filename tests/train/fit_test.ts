import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compile, defineLoss, defineNode, graph, type Json } from "../../lib/graph/mod.ts";
import {
  type BatchSource,
  type Checkpoint,
  fit,
  NonFiniteError,
  type TrainSink,
} from "../../lib/train/mod.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

const noisyLinear = defineNode({
  name: "noisyLinear",
  inputs: { x: "B,D" },
  outputs: { y: "B,2" },
  params: ({ dim }) => ({
    w: { shape: [dim("D"), 2], init: "glorotUniform" },
    b: { shape: [2], init: "zeros" },
  }),
  // The random stream makes resume exactness depend on step-keyed noise too.
  fn: ({ x }, { params, rng }) => ({
    y: tf.add(
      tf.add(tf.matMul(x, params.w!), params.b!),
      tf.mul(rng.normal([x.shape[0]!, 2]), 0.01),
    ),
  }),
});
const mse = defineLoss({
  name: "mse",
  inputs: { a: "B,2", b: "B,2" },
  fn: ({ a, b }) => tf.mean(tf.squaredDifference(a, b), -1),
});
const g = graph({ x: "B,3", y: "B,2" }).add("f", noisyLinear, { x: "x" }).loss("mse", mse, {
  a: "f.y",
  b: "y",
}).build();

class Counter implements BatchSource {
  i = 0;
  next() {
    const i = this.i++;
    const x = tf.tensor2d([[i % 3, 1, -1], [1, (i * 7) % 5, 0.5]]);
    return { x, y: tf.tidy(() => tf.matMul(x, tf.tensor2d([[1, 2], [3, 4], [5, 6]]))) };
  }
  state(): Json {
    return { i: this.i };
  }
  restore(s: Json) {
    this.i = (s as { i: number }).i;
  }
}

function memorySink(resume: Checkpoint | null) {
  const logs: [number, Record<string, number>][] = [];
  const cks: Checkpoint[] = [];
  const sink: TrainSink = {
    resume,
    log: (step, m) => {
      logs.push([step, m]);
      return Promise.resolve();
    },
    saveCheckpoint: (ck) => {
      cks.push(ck);
      return Promise.resolve();
    },
    progress: () => {},
  };
  return { sink, logs, cks };
}

const weights = (c: ReturnType<typeof compile>) =>
  Promise.all([...c.variables.values()].map(async (v) => Array.from(await v.data())));

Deno.test("fit() resumed from a checkpoint ends with the same weights as an uninterrupted run", async () => {
  const opts = { steps: 20, logEvery: 5, checkpointEvery: 10, ema: 0.9 };
  const a = compile(g, { seed: 3, optimizer: { kind: "adam", lr: 0.05 } });
  const full = memorySink(null);
  await fit(a, new Counter(), full.sink, opts);

  const b = compile(g, { seed: 3, optimizer: { kind: "adam", lr: 0.05 } });
  const first = memorySink(null);
  await fit(b, new Counter(), first.sink, { ...opts, steps: 10 });
  const c = compile(g, { seed: 3, optimizer: { kind: "adam", lr: 0.05 } });
  for (const v of c.variables.values()) v.assign(tf.randomNormal(v.shape)); // restore must overwrite
  const second = memorySink(first.cks.at(-1)!);
  const r = await fit(c, new Counter(), second.sink, opts);
  assert.equal(r.stepsRun, 10);
  assert.deepEqual(await weights(c), await weights(a));
  assert.deepEqual(second.cks.at(-1)!.tensors, full.cks.at(-1)!.tensors);
  const losses = (l: typeof full.logs) => l.map(([s, m]) => [s, m.loss]);
  assert.deepEqual([...losses(first.logs), ...losses(second.logs)], losses(full.logs));
  for (const k of [a, b, c]) k.dispose();
});

Deno.test("fit() stops with NonFiniteError naming the step when a loss becomes NaN", async () => {
  const c = compile(g, { seed: 0, optimizer: { kind: "adam", lr: 0.05 } });
  const src = new Counter();
  const bad: BatchSource = {
    next: () => {
      const b = src.next();
      if (src.i > 7) return { x: b.x, y: tf.tidy(() => tf.mul(b.y!, NaN)) };
      return b;
    },
    state: () => src.state(),
    restore: (s) => src.restore(s),
  };
  await assert.rejects(
    () => fit(c, bad, memorySink(null).sink, { steps: 20, logEvery: 5 }),
    (e: unknown) => e instanceof NonFiniteError && e.step === 10 && /'mse' is NaN/.test(e.message),
  );
  c.dispose();
});

Deno.test("fit() stopped by its signal checkpoints the step in flight and resumes exactly", async () => {
  const opts = { steps: 20, logEvery: 5, checkpointEvery: 10, ema: 0.9 };
  const a = compile(g, { seed: 3, optimizer: { kind: "adam", lr: 0.05 } });
  await fit(a, new Counter(), memorySink(null).sink, opts);

  const b = compile(g, { seed: 3, optimizer: { kind: "adam", lr: 0.05 } });
  const stop = new AbortController();
  const first = memorySink(null);
  const r1 = await fit(b, new Counter(), first.sink, {
    ...opts,
    signal: stop.signal,
    afterStep: (step) => {
      if (step === 6) stop.abort();
    },
  });
  assert.equal(r1.interrupted, true);
  assert.equal(first.cks.at(-1)!.step, 7);
  const c = compile(g, { seed: 3, optimizer: { kind: "adam", lr: 0.05 } });
  const r2 = await fit(c, new Counter(), memorySink(first.cks.at(-1)!).sink, opts);
  assert.equal(r2.interrupted, false);
  assert.equal(r2.stepsRun, 13);
  assert.deepEqual(await weights(c), await weights(a));
  for (const k of [a, b, c]) k.dispose();
});
