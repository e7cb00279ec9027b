import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  emaCodebookUpdate,
  initVqEmaState,
  restartDeadCodes,
  restartDeadCodesEma,
  updateUnusedSteps,
  vectorQuantize,
  type VqEmaState,
} from "../../lib/vae/mod.ts";
import { assertClose, read } from "./_helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

/** One EMA step on 1-D codes: quantise `values` with the current codebook and update. */
function step(
  state: VqEmaState,
  values: number[],
  options: Parameters<typeof emaCodebookUpdate>[2],
) {
  const ze = tf.tensor2d(values, [values.length, 1]);
  const { indices } = vectorQuantize(ze, state.codebook);
  return emaCodebookUpdate(state, { ze, indices }, options);
}

/** Laplace smoothing and e = m / Ñ, by hand. */
function codes(n: number[], m: number[], eps: number): number[] {
  const total = n.reduce((a, b) => a + b, 0);
  return n.map((nk, k) => (m[k] as number) / (((nk + eps) / (total + n.length * eps)) * total));
}

Deno.test("emaCodebookUpdate() without bias correction follows N <- gN + (1-g)n, m <- gm + (1-g)s, e = m / N~ on a hand example", async () => {
  const opts = { decay: 0.5, epsilon: 0.1, biasCorrection: "none" } as const;
  const s0 = initVqEmaState(tf.tensor2d([[0], [10]]));
  // Batch 1: 1, 3 → code 0 and 9 → code 1: n = (2, 1), s = (4, 9).
  const s1 = step(s0, [1, 3, 9], opts);
  const n1 = [0.5 * 2, 0.5 * 1];
  const m1 = [0.5 * 4, 0.5 * 9];
  assertClose(await read(s1.clusterSize), n1);
  assertClose(await read(s1.embedSum), m1);
  assertClose(await read(s1.codebook), codes(n1, m1, 0.1), { what: "codebook after step 1" });
  assert.equal(s1.step, 1);
  // Batch 2: 2 → code 0, 8 → code 1: n = (1, 1), s = (2, 8).
  const s2 = step(s1, [2, 8], opts);
  const n2 = [0.5 * n1[0]! + 0.5 * 1, 0.5 * n1[1]! + 0.5 * 1];
  const m2 = [0.5 * m1[0]! + 0.5 * 2, 0.5 * m1[1]! + 0.5 * 8];
  assertClose(await read(s2.clusterSize), n2);
  assertClose(await read(s2.embedSum), m2);
  assertClose(await read(s2.codebook), codes(n2, m2, 0.1), { what: "codebook after step 2" });
});

Deno.test("emaCodebookUpdate() with 'adam' bias correction equals Sonnet's debiased hidden EMA", async () => {
  const decay = 0.9;
  const opts = { decay, epsilon: 1e-5, biasCorrection: "adam" } as const;
  const batches = [[1, 3, 9], [2, 8, 8.5], [0.5, 1.5, 2.5, 11]];
  let state = initVqEmaState(tf.tensor2d([[0], [10]]));
  // Sonnet: hidden h ← h − (h − v)(1 − γ), average = h / (1 − γ^t), hidden starting at 0.
  let hN = [0, 0];
  let hM = [0, 0];
  for (const [t, batch] of batches.entries()) {
    const cb = await read(state.codebook);
    const assign = batch.map((v) => (Math.abs(v - cb[0]!) <= Math.abs(v - cb[1]!) ? 0 : 1));
    const n = [0, 1].map((k) => assign.filter((a) => a === k).length);
    const s = [0, 1].map((k) => batch.reduce((acc, v, i) => acc + (assign[i] === k ? v : 0), 0));
    hN = hN.map((h, k) => h - (h - n[k]!) * (1 - decay));
    hM = hM.map((h, k) => h - (h - s[k]!) * (1 - decay));
    const debias = 1 - decay ** (t + 1);
    const avgN = hN.map((h) => h / debias);
    const avgM = hM.map((h) => h / debias);
    const next = step(state, batch, opts);
    assertClose(await read(next.clusterSize), avgN, { what: `N at step ${t + 1}` });
    assertClose(await read(next.embedSum), avgM, { what: `m at step ${t + 1}` });
    assertClose(await read(next.codebook), codes(avgN, avgM, 1e-5), { what: `e at step ${t + 1}` });
    tf.dispose(state);
    state = next;
  }
  // The first debiased update takes the batch statistics as they are: e ≈ cluster means.
  const first = step(initVqEmaState(tf.tensor2d([[0], [10]])), [1, 3, 9], opts);
  assertClose(await read(first.codebook), [2, 9], { rtol: 1e-4 });
});

Deno.test("emaCodebookUpdate() and updateUnusedSteps() count consecutive unused steps per code", async () => {
  let state = initVqEmaState(tf.tensor2d([[0], [10], [100]]));
  state = step(state, [1, 2], {}); // only code 0
  assert.deepEqual(await read(state.unusedSteps), [0, 1, 1]);
  // As in Sonnet, codes no vector has chosen yet collapse to 0 (m = 0).
  assertClose(await read(state.codebook), [1.5, 0, 0], { rtol: 1e-4 });
  state = step(state, [1.5, 0.1], {}); // codes 0 and 1 (the tie between codes 1 and 2 goes to 1)
  assert.deepEqual(await read(state.unusedSteps), [0, 0, 2]);
  const unused = updateUnusedSteps(tf.tensor1d([3, 0, 7]), tf.tensor2d([[2, 2]], [1, 2], "int32"));
  assert.deepEqual(await read(unused), [4, 1, 0]);
});

Deno.test("restartDeadCodes() replaces codes unused for n steps by seeded encoder outputs", async () => {
  const codebook = tf.tensor2d([[0, 0], [1, 1], [2, 2], [3, 3]]);
  const unusedSteps = tf.tensor1d([0, 3, 5, 2]);
  const ze = tf.tensor3d([[[10, 11], [12, 13]], [[14, 15], [16, 17]]]); // [2, 2, 2]
  const rows = [[10, 11], [12, 13], [14, 15], [16, 17]];
  const a = restartDeadCodes({ codebook, unusedSteps }, ze, { maxUnusedSteps: 3, seed: 5 });
  assert.deepEqual(await read(a.restarted), [0, 1, 1, 0]);
  assert.deepEqual(await read(a.state.unusedSteps), [0, 0, 0, 2]);
  const cb = await read(a.state.codebook);
  assert.deepEqual([cb.slice(0, 2), cb.slice(6, 8)], [[0, 0], [3, 3]]);
  for (const k of [1, 2]) {
    const row = cb.slice(2 * k, 2 * k + 2);
    assert.ok(
      rows.some((r) => r[0] === row[0] && r[1] === row[1]),
      `code ${k} = ${row} is no encoder output`,
    );
  }
  const again = restartDeadCodes({ codebook, unusedSteps }, ze, { maxUnusedSteps: 3, seed: 5 });
  assert.deepEqual(await read(again.state.codebook), cb);
  assert.throws(
    () =>
      restartDeadCodes({ codebook, unusedSteps }, tf.zeros([2, 3]), { maxUnusedSteps: 3, seed: 0 }),
    TypeError,
  );
});

Deno.test("restartDeadCodesEma() also resets the restarted codes' statistics to one vector", async () => {
  let state = initVqEmaState(tf.tensor2d([[0], [10], [100]]));
  state = step(state, [1, 2, 9], {}); // code 2 unused once
  const ze = tf.tensor2d([[50], [51]]);
  const { state: restarted, restarted: mask } = restartDeadCodesEma(state, ze, {
    maxUnusedSteps: 1,
    seed: 1,
  });
  assert.deepEqual(await read(mask), [0, 0, 1]);
  const code2 = (await read(restarted.codebook))[2]!;
  assert.ok(code2 === 50 || code2 === 51, `new code ${code2}`);
  assertClose(await read(restarted.clusterSize), [
    ...(await read(state.clusterSize)).slice(0, 2),
    1,
  ]);
  assertClose(await read(restarted.embedSum), [...(await read(state.embedSum)).slice(0, 2), code2]);
  assert.equal(restarted.step, state.step);
  // The next update keeps the restarted code near its new value when it is chosen.
  const next = step(restarted, [1, 9, code2], {});
  assertClose([(await read(next.codebook))[2]!], [code2], { rtol: 1e-4 });
});
