import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { betaSchedule } from "../../lib/math/mod.ts";
import {
  GaussianDiffusion,
  LOSS_TYPES,
  MEAN_TYPES,
  type MeanType,
  spacedDiffusion,
  type SyncModel,
  VAR_TYPES,
  type VarType,
} from "../../lib/diffusion/mod.ts";
import { assertClose, values } from "./helpers.ts";
import * as ref from "./reference64.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

const X0 = [[-1, -0.2, 0.6], [1, 0.4, -0.8]];
const EPS = [[0.3, -1.2, 0.8], [-0.5, 0.9, 1.7]];
/** Offsets of the model's mean output from the true target (so the decoder is not saturated). */
const DELTA = [[0.02, -0.04, 0.01], [0.03, -0.01, -0.02]];
const VAR_OUT: Record<VarType, number[][]> = {
  fixed_small: [[], []],
  fixed_large: [[], []],
  learned: [[-3.1, -2.2, -4], [-1.5, -2.6, -3.3]],
  learned_range: [[-0.6, 0.2, 0.9], [0.1, -0.9, 0.4]],
};
const learned = (v: VarType) => v === "learned" || v === "learned_range";

/** float32 model outputs: the mean type's float64 target at (x_0, ε, t) plus DELTA, then variance values. */
function outputRows(
  c: ref.Chain,
  meanType: MeanType,
  varType: VarType,
  steps: number[],
): number[][] {
  return X0.map((x0, i) => {
    const t = steps[i]!;
    const xt = ref.qSample(c, x0, t, EPS[i]!);
    const a = c.abar[t]!;
    const [c1, c2] = c.postCoefs(t);
    const target = x0.map((x, j) => {
      switch (meanType) {
        case "eps":
          return EPS[i]![j]!;
        case "x0":
          return x;
        case "prev_x":
          return c1 * x + c2 * xt[j]!;
        case "v":
          return Math.sqrt(a) * EPS[i]![j]! - Math.sqrt(1 - a) * x;
      }
    });
    return [...target.map((y, j) => y + DELTA[i]![j]!), ...VAR_OUT[varType][i]!].map(Math.fround);
  });
}

Deno.test("qSample() matches the closed form √ᾱ x_0 + √(1 − ᾱ) ε, and x_t ≈ x_0 at t = 0", async () => {
  const betas = betaSchedule("cosine", 10);
  const d = new GaussianDiffusion({
    betas,
    meanType: "eps",
    varType: "fixed_small",
    lossType: "mse",
  });
  const c = new ref.Chain(betas);
  for (const step of [0, 4, 9]) {
    const xt = d.qSample(tf.tensor2d(X0), tf.tensor1d([step, step], "int32"), {
      noise: tf.tensor2d(EPS),
    });
    const expected = X0.flatMap((r, i) => ref.qSample(c, r, step, EPS[i]!));
    assertClose(await values(xt), expected, { rtol: 1e-6, label: `t=${step}` });
  }
});

Deno.test("trainingLosses() matches a float64 hand computation for every lossType × meanType × varType", async () => {
  for (const [name, T] of [["cosine", 10], ["linear", 50]] as const) {
    const betas = betaSchedule(name, T);
    const c = new ref.Chain(betas);
    const steps = [0, T - 3];
    for (const meanType of MEAN_TYPES) {
      for (const varType of VAR_TYPES) {
        const outs = outputRows(c, meanType, varType, steps);
        for (const lossType of LOSS_TYPES) {
          const d = new GaussianDiffusion({ betas, meanType, varType, lossType });
          const model: SyncModel = () => tf.tensor2d(outs);
          const out = d.trainingLosses(model, tf.tensor2d(X0), tf.tensor1d(steps, "int32"), {
            noise: tf.tensor2d(EPS),
          });
          const expected = X0.map((x, i) =>
            ref.trainingLosses(c, { meanType, varType, lossType }, x, steps[i]!, EPS[i]!, outs[i]!)
          );
          const label = `${name}/${meanType}/${varType}/${lossType}`;
          assert.deepEqual(Object.keys(out).sort(), Object.keys(expected[0]!).sort(), label);
          for (const [k, v] of Object.entries(out)) {
            assert.deepEqual(v.shape, [2]);
            // The VLB terms of nearly equal Gaussians cancel in float32 (as in improved-diffusion):
            // allow 5e-6 bits absolute, times T where the loss is rescaled by T.
            const atol = k === "mse" ? 1e-7 : lossType === "rescaled_kl" ? 5e-6 * T : 5e-6;
            assertClose(await values(v), expected.map((e) => e[k]!), {
              rtol: 1e-4,
              atol,
              label: `${label} ${k}`,
            });
          }
        }
      }
    }
  }
});

Deno.test("the hybrid loss trains the variance through vb and the mean only through mse", () => {
  const betas = betaSchedule("cosine", 10);
  const x0 = tf.tensor2d(X0);
  const t = tf.tensor1d([0, 5], "int32");
  const noise = tf.tensor2d(EPS);
  for (const lossType of ["mse", "rescaled_mse"] as const) {
    const d = new GaussianDiffusion({ betas, meanType: "eps", varType: "learned_range", lossType });
    const lossOf = (key: "loss" | "vb" | "mse") => (w: tf.Tensor) =>
      tf.sum(
        d.trainingLosses((xt) => tf.concat([tf.mul(xt, w), tf.mul(xt, w)], -1), x0, t, {
          noise,
        })[key]!,
      );
    // w scales both halves of the output; vb must see only the variance half.
    const w = tf.scalar(0.3);
    const gVb = tf.grad(lossOf("vb"))(w);
    const vbOnly = (v: tf.Tensor) =>
      tf.sum(
        d.trainingLosses((xt) => tf.concat([tf.mul(xt, 0.3), tf.mul(xt, v)], -1), x0, t, { noise })
          .vb!,
      );
    const gVar = tf.grad(vbOnly)(w);
    assert.equal(
      gVb.arraySync(),
      gVar.arraySync(),
      `${lossType}: vb gradient comes only from the variance`,
    );
    assert.notEqual(gVar.arraySync(), 0);
    const meanOnly = (m: tf.Tensor) =>
      tf.sum(
        d.trainingLosses((xt) => tf.concat([tf.mul(xt, m), tf.mul(xt, 0.3)], -1), x0, t, { noise })
          .vb!,
      );
    assert.equal(
      tf.grad(meanOnly)(w).arraySync(),
      0,
      `${lossType}: no vb gradient reaches the mean`,
    );
  }
});

Deno.test("vbTermsBpd() gives a row the same value and gradient in a batch of t = 0 only, t > 0 only, or both", async () => {
  // On cpu and wasm it computes only the terms the batch's rows take; mixed batches take both.
  const hybrid = { meanType: "eps", varType: "learned_range", lossType: "rescaled_mse" } as const;
  const d = new GaussianDiffusion({ betas: betaSchedule("cosine", 10), ...hybrid });
  const x0 = tf.tensor2d(X0), noise = tf.tensor2d(EPS);
  const out = tf.tensor2d(X0.map((_, i) => [...DELTA[i]!, ...VAR_OUT.learned_range[i]!]));
  const rowsAt = async (steps: number[]) => {
    const t = tf.tensor1d(steps, "int32");
    const xt = d.qSample(x0, t, { noise });
    const vb = (o: tf.Tensor) => d.vbTermsBpd(() => o, x0, xt, t, { clipDenoised: false }).output;
    const value = await values(vb(out));
    const grad = (await tf.grad(vb)(out).array()) as number[][];
    return { value, grad };
  };
  const mixed = await rowsAt([0, 5]), zeros = await rowsAt([0, 0]), later = await rowsAt([5, 5]);
  assert.equal(mixed.value[0], zeros.value[0]);
  assert.equal(mixed.value[1], later.value[1]);
  assert.deepEqual(mixed.grad[0], zeros.grad[0]);
  assert.deepEqual(mixed.grad[1], later.grad[1]);
  assert.notEqual(mixed.value[0], later.value[0], "t = 0 takes the decoder NLL, not the KL");
});

Deno.test("calcBpdLoop() on T = 10 with supplied noise matches a float64 recomputation", async () => {
  const betas = betaSchedule("cosine", 10);
  const c = new ref.Chain(betas);
  const x0 = [[-1, 0.0039215686, 0.6], [1, -0.5294118, -0.8]];
  const noiseAt = (t: number) =>
    EPS.map((r, i) => r.map((e, j) => Math.sin(7 * t + 3 * i + j) * 1.3 + e * 0.1));
  for (const meanType of MEAN_TYPES) {
    for (const varType of VAR_TYPES) {
      const d = new GaussianDiffusion({ betas, meanType, varType, lossType: "kl" });
      // A linear model, roughly right for its mean type so that the decoder is not saturated.
      const [w, b0] =
        ({ eps: [0.4, 0.1], x0: [0.9, 0.02], prev_x: [0.95, 0], v: [0.3, 0] } as const)[
          meanType
        ];
      const bias = varType === "learned" ? -2.5 : -0.5;
      const model: SyncModel = (xt) => {
        const m = tf.add(tf.mul(xt, w), b0);
        return learned(varType) ? tf.concat([m, tf.add(tf.mul(xt, 0.2), bias)], -1) : m;
      };
      const r = await d.calcBpdLoop(model, tf.tensor2d(x0), {
        noise: (t) => tf.tensor2d(noiseAt(t)),
      });
      const vb: number[][] = [[], []];
      const xmse: number[][] = [[], []];
      for (let t = 9; t >= 0; t--) {
        x0.forEach((row, i) => {
          const xt = ref.qSample(c, row, t, noiseAt(t)[i]!);
          const out = [
            ...xt.map((x) => Math.fround(w) * x + Math.fround(b0)),
            ...(learned(varType) ? xt.map((x) => Math.fround(0.2) * x + bias) : []),
          ];
          const term = ref.vbTerm(c, { meanType, varType }, row, xt, t, out, true);
          vb[i]!.push(term.bits);
          xmse[i]!.push(term.x0hat.reduce((s, v, j) => s + (v - row[j]!) ** 2, 0) / 3);
        });
      }
      const aT = c.abar[9]!;
      const prior = x0.map((row) =>
        row.reduce((s, x) => s + ref.kl(Math.sqrt(aT) * x, Math.log(1 - aT), 0, 0), 0) / 3 /
        Math.LN2
      );
      const label = `${meanType}/${varType}`;
      assert.deepEqual(r.timesteps, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(r.vb.shape, [2, 10]);
      assertClose(await values(r.vb), vb.flat(), { rtol: 2e-4, atol: 1e-5, label: `${label} vb` });
      assertClose(await values(r.xstartMse), xmse.flat(), {
        rtol: 2e-4,
        atol: 1e-6,
        label: `${label} x0 mse`,
      });
      assertClose(await values(r.priorBpd), prior, {
        rtol: 1e-3,
        atol: 1e-9,
        label: `${label} prior`,
      });
      const total = vb.map((row, i) => row.reduce((s, v) => s + v, 0) + prior[i]!);
      assertClose(await values(r.totalBpd), total, {
        rtol: 2e-4,
        atol: 1e-5,
        label: `${label} total`,
      });
    }
  }
});

Deno.test("calcBpdLoop() over T = 1000 leaves the tensor count flat", async () => {
  const d = new GaussianDiffusion({
    betas: betaSchedule("linear", 1000),
    meanType: "eps",
    varType: "learned_range",
    lossType: "rescaled_mse",
  });
  const x0 = tf.tensor2d([[0, 0.5], [-1, 1]]);
  const model: SyncModel = (xt) => tf.concat([tf.mul(xt, 0.1), tf.zerosLike(xt)], -1);
  const before = tf.memory().numTensors;
  const r = await d.calcBpdLoop(model, x0, { seed: 1 });
  assert.equal(tf.memory().numTensors - before, 5, "only the five result tensors remain");
  assert.deepEqual(r.vb.shape, [2, 1000]);
  assert.ok((await values(r.totalBpd)).every(Number.isFinite));
  tf.dispose([r.totalBpd, r.priorBpd, r.vb, r.xstartMse, r.mse]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("single-step methods leave no intermediate tensors behind", async () => {
  for (const varType of VAR_TYPES) {
    const d = new GaussianDiffusion({
      betas: betaSchedule("cosine", 10),
      meanType: "eps",
      varType,
      lossType: "mse",
    });
    const outs = outputRows(new ref.Chain(d.betas), "eps", varType, [0, 5]);
    const model: SyncModel = () => tf.tensor2d(outs);
    const x = tf.tensor2d(X0);
    const t = tf.tensor1d([0, 5], "int32");
    const z = tf.tensor2d(EPS);
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(d.trainingLosses(model, x, t, { seed: 1 })));
    tf.dispose(Object.values(d.pMeanVariance(model, x, t)));
    tf.dispose(Object.values(d.pSample(model, x, t, { noise: z })));
    tf.dispose(Object.values(d.ddimSample(model, x, t, { noise: z, eta: 0.5 })));
    tf.dispose(Object.values(d.ddimReverseSample(model, x, t)));
    tf.dispose(Object.values(d.qPosteriorMeanVariance(x, z, t)));
    tf.dispose(
      Object.values(d.pSample(model, x, t, { noise: z, condFn: (xt) => tf.onesLike(xt) })),
    );
    tf.dispose(
      Object.values(d.ddimSample(model, x, t, { noise: z, condFn: (xt) => tf.onesLike(xt) })),
    );
    tf.dispose(
      Object.values(
        await d.pSample(
          async (xt: tf.Tensor) => {
            await Promise.resolve();
            return tf.tidy(() => model(xt, t));
          },
          x,
          t,
        ),
      ),
    );
    assert.equal(tf.memory().numTensors, before, varType);
  }
});

Deno.test("an async model gives the same numbers as a sync one and its calls return Promises", async () => {
  const betas = betaSchedule("cosine", 10);
  const d = new GaussianDiffusion({
    betas,
    meanType: "x0",
    varType: "learned",
    lossType: "rescaled_mse",
  });
  const outs = outputRows(new ref.Chain(betas), "x0", "learned", [0, 7]);
  const sync: SyncModel = () => tf.tensor2d(outs);
  const asyncModel = async (xt: tf.Tensor, t: tf.Tensor) => {
    await Promise.resolve();
    return sync(xt, t);
  };
  const x0 = tf.tensor2d(X0);
  const t = tf.tensor1d([0, 7], "int32");
  const noise = tf.tensor2d(EPS);
  const pending = d.trainingLosses(asyncModel, x0, t, { noise });
  assert.ok(pending instanceof Promise);
  const a = await pending;
  const s = d.trainingLosses(sync, x0, t, { noise });
  assert.deepEqual(await values(a.loss), await values(s.loss));
  const pa = await d.pMeanVariance(asyncModel, x0, t);
  const ps = d.pMeanVariance(sync, x0, t);
  assert.deepEqual(await values(pa.mean), await values(ps.mean));
});

Deno.test("a non-async function that returns a Promise is rejected with a fix", () => {
  const d = new GaussianDiffusion({
    betas: betaSchedule("cosine", 10),
    meanType: "eps",
    varType: "fixed_small",
    lossType: "mse",
  });
  const sneaky = ((xt: tf.Tensor) => Promise.resolve(tf.zerosLike(xt))) as unknown as SyncModel;
  assert.throws(
    () => d.pMeanVariance(sneaky, tf.zeros([1, 2]), tf.tensor1d([1], "int32")),
    /declare it `async/,
  );
});

Deno.test("inputs of the wrong dtype or shape fail with errors that name the fix", () => {
  const d = new GaussianDiffusion({
    betas: betaSchedule("cosine", 10),
    meanType: "eps",
    varType: "learned_range",
    lossType: "mse",
  });
  const x = tf.zeros([2, 3]);
  assert.throws(() => d.qSample(x, tf.tensor1d([1, 2])), /int32 tensor of shape \[2\]/);
  assert.throws(() => d.qSample(tf.zeros([3]), tf.tensor1d([1, 2, 3], "int32")), /rank >= 2/);
  assert.throws(
    () => d.pMeanVariance((xt) => tf.zerosLike(xt), x, tf.tensor1d([1, 2], "int32")),
    /needs \[2,6\]: concatenate the variance values after the mean on the last axis/,
  );
  assert.throws(
    () =>
      new GaussianDiffusion({
        betas: betaSchedule("cosine", 10),
        meanType: "epsilon" as "eps",
        varType: "fixed_small",
        lossType: "mse",
      }),
    /'meanType' is unknown: current value is "epsilon"/,
  );
});

Deno.test("data of any rank ≥ 2 gives the same numbers as flat [B, D] data", async () => {
  const betas = betaSchedule("cosine", 10);
  const d = new GaussianDiffusion({
    betas,
    meanType: "eps",
    varType: "learned_range",
    lossType: "rescaled_mse",
  });
  const flatModel: SyncModel = (xt) => tf.concat([tf.mul(xt, 0.3), tf.mul(xt, -0.2)], -1);
  // [B, H, W, C] with C = 1: the last axis carries the variance channel after the mean channel.
  const x4 = tf.tensor4d(X0.flat().concat([0.2, 0.1]), [2, 2, 2, 1]);
  const x2 = tf.reshape(x4, [2, 4]);
  const n4 = tf.tensor4d(EPS.flat().concat([0.5, -0.5]), [2, 2, 2, 1]);
  const t = tf.tensor1d([0, 6], "int32");
  const l4 = d.trainingLosses(flatModel, x4, t, { noise: n4 });
  // The flat model sees [B, 4] and splits it as [B, 4] mean + [B, 4] variance.
  const l2 = d.trainingLosses(flatModel, x2, t, { noise: tf.reshape(n4, [2, 4]) });
  assertClose(await values(l4.loss), await values(l2.loss), { rtol: 1e-6, label: "loss" });
  const p4 = d.pMeanVariance(flatModel, x4, t);
  assert.deepEqual(p4.mean.shape, [2, 2, 2, 1]);
  assert.deepEqual(p4.variance.shape, [2, 2, 2, 1]);
});

Deno.test("a respaced diffusion passes the ORIGINAL timesteps to the model, rescaled on request", () => {
  const base = {
    betas: betaSchedule("linear", 100),
    meanType: "eps",
    varType: "fixed_small",
    lossType: "mse",
  } as const;
  const seen: number[][] = [];
  const model: SyncModel = (xt, t) => {
    seen.push(Array.from(t.dataSync()));
    return tf.zerosLike(xt);
  };
  const d = spacedDiffusion(base, "ddim4");
  assert.deepEqual(d.timestepMap, [0, 25, 50, 75]);
  d.pMeanVariance(model, tf.zeros([2, 2]), tf.tensor1d([1, 3], "int32"));
  assert.deepEqual(seen.pop(), [25, 75]);
  const r = spacedDiffusion({ ...base, rescaleTimesteps: true }, [0, 50, 99]);
  r.pMeanVariance(model, tf.zeros([1, 2]), tf.tensor1d([2], "int32"));
  assert.deepEqual(seen.pop(), [990]);
  const full = new GaussianDiffusion({ ...base, rescaleTimesteps: true });
  full.pMeanVariance(model, tf.zeros([1, 2]), tf.tensor1d([50], "int32"));
  assert.deepEqual(seen.pop(), [500]);
  const twice = spacedDiffusion({
    betas: d.betas,
    meanType: "eps",
    varType: "fixed_small",
    lossType: "mse",
    timestepMap: d.timestepMap!,
    originalNumSteps: 100,
  }, [1, 3]);
  twice.pMeanVariance(model, tf.zeros([1, 2]), tf.tensor1d([1], "int32"));
  assert.deepEqual(seen.pop(), [75]);
  assert.ok(
    Math.abs(twice.alphasCumprod[1]! - new GaussianDiffusion(base).alphasCumprod[75]!) < 1e-12,
  );
});

Deno.test("a v-model that predicts the v of an ε-model's output gives the ε-model's p(x_{t−1} | x_t)", async () => {
  const betas = betaSchedule("cosine", 20);
  const dEps = new GaussianDiffusion({
    betas,
    meanType: "eps",
    varType: "fixed_large",
    lossType: "mse",
  });
  const dV = new GaussianDiffusion({
    betas,
    meanType: "v",
    varType: "fixed_large",
    lossType: "mse",
  });
  const xt = tf.tensor2d(X0);
  const t = tf.tensor1d([3, 15], "int32");
  const epsOut = tf.tensor2d(DELTA);
  const vOut = dEps.convertPrediction(epsOut, xt, t, { from: "eps", to: "v" });
  const a = dEps.pMeanVariance(() => epsOut.clone(), xt, t, { clipDenoised: false });
  const b = dV.pMeanVariance(() => vOut.clone(), xt, t, { clipDenoised: false });
  assertClose(await values(b.mean), await values(a.mean), {
    rtol: 1e-5,
    atol: 1e-6,
    label: "mean",
  });
  assertClose(await values(b.predXstart), await values(a.predXstart), {
    rtol: 1e-5,
    atol: 1e-6,
    label: "x0",
  });
});

Deno.test("callbacks may return precomputed tensors: elbo disposes only the tensors a call creates", async () => {
  const d = new GaussianDiffusion({
    betas: betaSchedule("cosine", 10),
    meanType: "eps",
    varType: "fixed_small",
    lossType: "mse",
  });
  const noises = Array.from({ length: 10 }, (_, t) => tf.fill([2, 3], 0.1 * t));
  const cached = tf.zeros([2, 3]);
  const asyncCached = async (_xt: tf.Tensor) => {
    await Promise.resolve();
    return cached;
  };
  const x0 = tf.tensor2d(X0);
  const before = tf.memory().numTensors;
  const r = await d.calcBpdLoop(asyncCached, x0, { noise: (t) => noises[t]! });
  tf.dispose([r.totalBpd, r.priorBpd, r.vb, r.xstartMse, r.mse]);
  const s = await d.pSampleLoop(asyncCached, [2, 3], { noise: x0, stepNoise: (t) => noises[t]! });
  s.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.ok(noises.every((n) => !n.isDisposed) && !cached.isDisposed && !x0.isDisposed);
  // Fresh tensors from the callbacks are freed.
  const r2 = await d.calcBpdLoop((xt) => tf.mul(xt, 0.5), x0, {
    noise: (t) => tf.clone(noises[t]!),
  });
  tf.dispose([r2.totalBpd, r2.priorBpd, r2.vb, r2.xstartMse, r2.mse]);
  assert.equal(tf.memory().numTensors, before);
});
