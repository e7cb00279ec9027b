/**
 * Parity with openai/improved-diffusion itself: every schedule (linear, cosine) × meanType
 * (eps, x0, prev_x) × varType (4) × lossType (4), on full and respaced chains, against numbers
 * pinned in fixtures/improved_diffusion_parity.json (see its `_comment` for how it was produced).
 */

import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { betaSchedule, respacedBetas, scheduleTables, spaceTimesteps } from "../../lib/math/mod.ts";
import {
  GaussianDiffusion,
  type GaussianDiffusionOptions,
  type LossType,
  type MeanType,
  type SyncModel,
  type VarType,
} from "../../lib/diffusion/mod.ts";
import { assertClose, type Nested, values } from "./helpers.ts";

tf.env().set("PROD", true);
await tf.setBackend("cpu");

interface Pmv {
  t: number[];
  clipDenoised: boolean;
  mean: Nested;
  variance: Nested;
  logVariance: Nested;
  predXstart: Nested;
}
interface Step {
  t: number[];
  eta?: number;
  sample: Nested;
  predXstart: Nested;
}
interface ChainCase {
  pMeanVariance: Pmv[];
  trainingLosses: Record<LossType, ({ t: number[] } & Record<string, Nested>)[]>;
  pSample: Step[];
  ddimSample: Step[];
  calcBpdLoop: Record<"totalBpd" | "priorBpd" | "vb" | "xstartMse" | "mse", Nested>;
  pSampleLoop: Nested;
  ddimSampleLoop: Record<string, Nested>;
}
interface Fixture {
  T: number;
  x0: number[][];
  noise: number[][];
  bpdNoise: number[][][];
  stepNoise: number[][][];
  xT: number[][];
  params: Record<"w" | "b" | "wv" | "bvLearned" | "bvRange", number[]> & { c: number };
  tBatches: number[][];
  tables: Record<string, Record<string, number[]>>;
  spaceTimesteps: Record<string, number[]>;
  full: Record<string, Record<string, unknown>>;
  respaced: Record<string, Record<string, unknown> & { kept: number[]; betas: number[] }>;
}

const fx: Fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/improved_diffusion_parity.json", import.meta.url)),
);
const SCHEDULES = ["linear", "cosine"] as const;
const MEANS: MeanType[] = ["eps", "x0", "prev_x"];
const VARS: VarType[] = ["fixed_small", "fixed_large", "learned", "learned_range"];
const LOSSES: LossType[] = ["mse", "rescaled_mse", "kl", "rescaled_kl"];
/**
 * float32 agreement for one step: measured worst relative error 8e-7 (exp/log/tanh differ from
 * PyTorch's by an ulp), so 1e-5 leaves a 10x margin; the absolute floor covers values near 0.
 */
const F32 = { rtol: 1e-5, atol: 1e-6 };
/** Loops over all T steps accumulate rounding: measured worst 2.3e-6 relative. */
const F32_LOOP = { rtol: 3e-5, atol: 3e-6 };

function makeModel(varType: VarType): SyncModel {
  const p = fx.params;
  const w = tf.tensor1d(p.w);
  const b = tf.tensor1d(p.b);
  const wv = tf.tensor1d(p.wv);
  const bv = tf.tensor1d(varType === "learned" ? p.bvLearned : p.bvRange);
  const learned = varType === "learned" || varType === "learned_range";
  return (x, t) => {
    const tt = tf.reshape(tf.cast(t, "float32"), [-1, 1]);
    const out = tf.add(tf.add(tf.mul(x, w), b), tf.mul(p.c, tt));
    return learned ? tf.concat([out, tf.add(tf.mul(x, wv), bv)], 1) : out;
  };
}

const x0 = () => tf.tensor2d(fx.x0);
const int = (t: number[]) => tf.tensor1d(t, "int32");

function diffusionFor(
  sched: (typeof SCHEDULES)[number],
  meanType: MeanType,
  varType: VarType,
  lossType: LossType,
  respaced: boolean,
): GaussianDiffusion {
  const base: GaussianDiffusionOptions = {
    betas: betaSchedule(sched, fx.T),
    meanType,
    varType,
    lossType,
  };
  if (!respaced) return new GaussianDiffusion(base);
  const kept = fx.respaced[sched]!.kept;
  return new GaussianDiffusion({
    ...base,
    betas: respacedBetas(base.betas, kept),
    timestepMap: kept,
    originalNumSteps: fx.T,
    rescaleTimesteps: true,
  });
}

Deno.test("betaSchedule() and the tables match improved-diffusion to float64 precision", () => {
  for (const sched of SCHEDULES) {
    const ref = fx.tables[sched]!;
    const tb = scheduleTables(betaSchedule(sched, fx.T));
    const big = betaSchedule(sched, 1000);
    assertClose([0, 1, 500, 998, 999].map((i) => big[i]!), ref.T1000!, {
      rtol: 1e-13,
      atol: 0,
      label: `${sched} T=1000 betas`,
    });
    for (const key of Object.keys(ref).filter((k) => k !== "T1000")) {
      assertClose(tb[key as keyof typeof tb] as Float64Array, ref[key]!, {
        rtol: 1e-13,
        atol: 1e-300,
        label: `${sched} ${key}`,
      });
    }
  }
});

Deno.test("spaceTimesteps() and respacedBetas() match respace.py", () => {
  for (const [spec, kept] of Object.entries(fx.spaceTimesteps)) {
    assert.deepEqual(spaceTimesteps(300, spec), kept, spec);
  }
  for (const sched of SCHEDULES) {
    const r = fx.respaced[sched]!;
    assert.deepEqual(spaceTimesteps(fx.T, "3,2"), r.kept);
    assertClose(respacedBetas(betaSchedule(sched, fx.T), r.kept), r.betas, {
      rtol: 1e-13,
      atol: 0,
      label: `${sched} respaced betas`,
    });
  }
});

Deno.test("qSample(), qPosteriorMeanVariance() and priorBpd() match improved-diffusion", async () => {
  for (const sched of SCHEDULES) {
    const ref = fx.full[sched] as {
      qSample: Nested;
      qPosterior: Record<"mean" | "variance" | "logVariance", Nested>;
      priorBpd: Nested;
    };
    const d = diffusionFor(sched, "eps", "fixed_small", "mse", false);
    const t = int(fx.tBatches[1]!);
    const xt = d.qSample(x0(), t, { noise: tf.tensor2d(fx.noise) });
    assertClose(await values(xt), ref.qSample, { ...F32, label: `${sched} qSample` });
    const q = d.qPosteriorMeanVariance(x0(), xt, t);
    for (const k of ["mean", "variance", "logVariance"] as const) {
      assert.deepEqual(q[k].shape, [2, 4]);
      assertClose(await values(q[k]), ref.qPosterior[k], { ...F32, label: `${sched} q ${k}` });
    }
    assertClose(await values(d.priorBpd(x0())), ref.priorBpd, {
      rtol: 1e-5,
      atol: 1e-12,
      label: `${sched} prior`,
    });
  }
});

for (const respaced of [false, true]) {
  const chain = respaced ? "respaced (3,2) chain with rescaled timesteps" : "full chain";
  for (const sched of SCHEDULES) {
    Deno.test(`every method matches improved-diffusion on the ${sched} ${chain}`, async () => {
      for (const meanType of MEANS) {
        for (const varType of VARS) {
          const name = `${sched}/${meanType}/${varType}${respaced ? " respaced" : ""}`;
          const ref = (respaced ? fx.respaced : fx.full)[sched]![
            `${meanType}/${varType}`
          ] as ChainCase;
          const model = makeModel(varType);
          const d = diffusionFor(sched, meanType, varType, "mse", respaced);
          const noise = tf.tensor2d(fx.noise);
          for (const r of ref.pMeanVariance) {
            const t = int(r.t);
            const xt = d.qSample(x0(), t, { noise });
            const out = d.pMeanVariance(model, xt, t, { clipDenoised: r.clipDenoised });
            for (const k of ["mean", "variance", "logVariance", "predXstart"] as const) {
              assertClose(await values(out[k]), r[k], { ...F32, label: `${name} pmv ${k} ${r.t}` });
            }
          }
          for (const lossType of LOSSES) {
            const dl = diffusionFor(sched, meanType, varType, lossType, respaced);
            for (const r of ref.trainingLosses[lossType]) {
              const out = dl.trainingLosses(model, x0(), int(r.t), { noise });
              assert.deepEqual(
                Object.keys(out).sort(),
                Object.keys(r).filter((k) => k !== "t").sort(),
                `${name} ${lossType} keys`,
              );
              for (const [k, v] of Object.entries(out)) {
                assertClose(await values(v), r[k]!, {
                  ...F32,
                  label: `${name} ${lossType} ${k} ${r.t}`,
                });
              }
            }
          }
          const z = tf.tensor2d(fx.stepNoise[0]!);
          for (const r of ref.pSample) {
            const t = int(r.t);
            const out = d.pSample(model, d.qSample(x0(), t, { noise }), t, { noise: z });
            assertClose(await values(out.sample), r.sample, { ...F32, label: `${name} pSample` });
          }
          for (const r of ref.ddimSample) {
            const t = int(r.t);
            const xt = d.qSample(x0(), t, { noise });
            const out = d.ddimSample(model, xt, t, { noise: z, eta: r.eta ?? 0 });
            assertClose(await values(out.sample), r.sample, { ...F32, label: `${name} ddim` });
            assertClose(await values(out.predXstart), r.predXstart, { ...F32, label: name });
          }
          const bpd = await d.calcBpdLoop(model, x0(), {
            noise: (t) => tf.tensor2d(fx.bpdNoise[t]!),
          });
          for (const k of ["totalBpd", "priorBpd", "vb", "xstartMse", "mse"] as const) {
            assertClose(await values(bpd[k]), ref.calcBpdLoop[k], {
              ...F32_LOOP,
              label: `${name} calcBpdLoop ${k}`,
            });
          }
          const loopOpts = {
            noise: tf.tensor2d(fx.xT),
            stepNoise: (t: number) => tf.tensor2d(fx.stepNoise[t]!),
          };
          assertClose(await values(await d.pSampleLoop(model, [2, 4], loopOpts)), ref.pSampleLoop, {
            ...F32_LOOP,
            label: `${name} pSampleLoop`,
          });
          for (const [eta, expected] of Object.entries(ref.ddimSampleLoop)) {
            const got = await d.ddimSampleLoop(model, [2, 4], { ...loopOpts, eta: Number(eta) });
            assertClose(await values(got), expected, {
              ...F32_LOOP,
              label: `${name} ddimSampleLoop η=${eta}`,
            });
          }
        }
      }
    });
  }
}
