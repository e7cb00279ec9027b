/**
 * A small U-Net ε-network (Ronneberger et al. 2015, as used by DDPM / improved-diffusion): 3×3
 * convolutions, GroupNorm, SiLU, a time embedding added in every residual block, skip connections
 * between resolutions, and optional self-attention at the lowest resolution. Up- and down-sampling
 * use reshapes and means only, so every backend (wasm included) can differentiate them.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { defineNode, type Node, type ParamSpec } from "../graph/node.ts";
import {
  activate,
  conv,
  convParams,
  dense,
  denseParams,
  timestepEmbedding,
  upsample2,
} from "./layers.ts";
import type { Tensor, Tensor3D, Variable } from "../types.ts";

/** Options of {@linkcode unet}. */
export interface UnetOptions {
  /** Base channels. */
  channels: number;
  /** Channel multiplier per resolution (each level after the first halves the resolution). @default [1, 2] */
  mult?: number[];
  /** Self-attention at the lowest resolution. @default true */
  attention?: boolean;
  /** GroupNorm groups (must divide every channel count). @default 8 */
  groups?: number;
  /** Class-conditional with this many classes (+1 null class for classifier-free guidance). */
  numClasses?: number;
  /** Output the learned variance too (2·C channels). @default false */
  learnSigma?: boolean;
}

function normParams(name: string, c: number): Record<string, ParamSpec> {
  return {
    [`${name}_g`]: { shape: [c], init: "ones" },
    [`${name}_b`]: { shape: [c], init: "zeros" },
  };
}

/** GroupNorm (Wu & He 2018) over [H, W, C/G] per group, then a per-channel affine. */
function groupNorm(
  x: Tensor,
  p: Readonly<Record<string, Variable>>,
  name: string,
  groups: number,
): Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const g = tf.reshape(x, [b, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(g, [1, 2, 4], true);
  const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [b, h, w, c]);
  return tf.add(tf.mul(n, p[`${name}_g`]!), p[`${name}_b`]!);
}

const silu = (x: Tensor) => activate(x, "silu");

function down(x: Tensor): Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  return tf.mean(tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]), [2, 4]); // [B, H/2, W/2, C]
}

function resParams(name: string, ci: number, co: number, temb: number): Record<string, ParamSpec> {
  return {
    ...normParams(`${name}_n1`, ci),
    ...convParams(`${name}_c1`, [3, ci, co]),
    ...denseParams(`${name}_t_`, temb, co),
    ...normParams(`${name}_n2`, co),
    ...convParams(`${name}_c2`, [3, co, co], "zeros"),
    ...(ci !== co ? convParams(`${name}_skip`, [1, ci, co]) : {}),
  };
}

function resBlock(
  x: Tensor,
  temb: Tensor,
  p: Readonly<Record<string, Variable>>,
  name: string,
  groups: number,
): Tensor {
  let h = conv(silu(groupNorm(x, p, `${name}_n1`, groups)), p, `${name}_c1`);
  const co = h.shape[3]!;
  h = tf.add(h, tf.reshape(dense(silu(temb), p, `${name}_t_`), [-1, 1, 1, co]));
  h = conv(silu(groupNorm(h, p, `${name}_n2`, groups)), p, `${name}_c2`);
  const skip = p[`${name}_skip_W`] ? conv(x, p, `${name}_skip`) : x;
  return tf.add(skip, h);
}

function attnParams(name: string, c: number): Record<string, ParamSpec> {
  return {
    ...normParams(`${name}_n`, c),
    ...denseParams(`${name}_qkv_`, c, 3 * c),
    [`${name}_o_W`]: { shape: [c, c], init: "zeros" },
    [`${name}_o_b`]: { shape: [c], init: "zeros" },
  };
}

/** Single-head self-attention over the H·W positions, with a residual connection. */
function attention(
  x: Tensor,
  p: Readonly<Record<string, Variable>>,
  name: string,
  groups: number,
): Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const n = tf.reshape(groupNorm(x, p, `${name}_n`, groups), [b * h * w, c]);
  const qkv = tf.reshape(dense(n, p, `${name}_qkv_`), [b, h * w, 3 * c]);
  const [q, k, v] = tf.split(qkv, 3, 2) as [Tensor3D, Tensor3D, Tensor3D];
  const att = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(c))); // [B, HW, HW]
  const o = tf.reshape(tf.matMul(att, v), [b * h * w, c]); // [B·HW, C]
  return tf.add(x, tf.reshape(dense(o, p, `${name}_o_`), [b, h, w, c]));
}

/**
 * A small U-Net ε-network for `[B, H, W, C]` images (H and W divisible by 2^(levels − 1)).
 *
 * @param options Channels, multipliers, attention, classes, learned variance.
 * @returns A node `xt: [B, H, W, C]`, `t: [B]` (+ optional `y`) → `out: [B, H, W, C or 2C]`.
 *
 * @example A 2-level U-Net for MNIST
 * ```ts
 * import { unet } from "./unet.ts";
 * unet({ channels: 32, mult: [1, 2] }).spec.name; // "unet"
 * ```
 */
export function unet(options: UnetOptions): Node<"xt" | "t", "y", "out"> {
  const ch = options.channels, mult = options.mult ?? [1, 2], groups = options.groups ?? 8;
  const useAttn = options.attention ?? true, classes = options.numClasses ?? 0;
  const learnSigma = options.learnSigma ?? false;
  const tdim = 4 * ch;
  for (const m of mult) {
    if ((ch * m) % groups !== 0) {
      throw new RangeError(
        `Cannot build unet as 'groups' (${groups}) must divide every channel count: current value is ${
          ch * m
        }`,
      );
    }
  }
  const levels = mult.length;
  return defineNode({
    name: "unet",
    inputs: { xt: "B,H,W,C", t: "B" },
    optionalInputs: { y: "B" },
    outputs: { out: "B,H,W,O" },
    config: { channels: ch, mult, attention: useAttn, groups, numClasses: classes, learnSigma },
    outputDims: ({ dim }) => {
      const f = 2 ** (levels - 1);
      for (const s of ["H", "W"]) {
        if (dim(s) % f !== 0) {
          throw new RangeError(
            `Cannot build unet as image ${s} must be divisible by ${f} for ${levels} levels: current value is ${
              dim(s)
            }`,
          );
        }
      }
      return { O: learnSigma ? 2 * dim("C") : dim("C") };
    },
    params: ({ dim }) => {
      const C = dim("C");
      let p: Record<string, ParamSpec> = {
        ...denseParams("te0_", ch, tdim),
        ...denseParams("te1_", tdim, tdim),
        ...convParams("in", [3, C, ch]),
      };
      if (classes > 0) p.classEmb = { shape: [classes + 1, tdim], init: { normal: 1 } };
      let ci = ch;
      for (let l = 0; l < levels; l++) {
        p = { ...p, ...resParams(`d${l}`, ci, ch * mult[l]!, tdim) };
        ci = ch * mult[l]!;
      }
      p = { ...p, ...resParams("m0", ci, ci, tdim), ...resParams("m1", ci, ci, tdim) };
      if (useAttn) p = { ...p, ...attnParams("mattn", ci) };
      for (let l = levels - 1; l >= 0; l--) {
        const co = ch * mult[l]!;
        p = { ...p, ...resParams(`u${l}`, ci + co, co, tdim) };
        ci = co;
      }
      return {
        ...p,
        ...normParams("outn", ci),
        ...convParams("out", [3, ci, learnSigma ? 2 * C : C], "zeros"),
      };
    },
    fn: ({ xt, t, y }, { params: p }) => {
      let temb = dense(silu(dense(timestepEmbedding(t, ch), p, "te0_")), p, "te1_"); // [B, 4ch]
      if (classes > 0 && y !== undefined) {
        temb = tf.add(temb, tf.gather(p.classEmb!, tf.cast(y, "int32")));
      }
      let h = conv(xt, p, "in"); // [B, H, W, ch]
      const skips: Tensor[] = [];
      for (let l = 0; l < levels; l++) {
        h = resBlock(h, temb, p, `d${l}`, groups);
        skips.push(h);
        if (l + 1 < levels) h = down(h);
      }
      h = resBlock(h, temb, p, "m0", groups);
      if (useAttn) h = attention(h, p, "mattn", groups);
      h = resBlock(h, temb, p, "m1", groups);
      for (let l = levels - 1; l >= 0; l--) {
        if (l + 1 < levels) h = upsample2(h);
        h = resBlock(tf.concat([h, skips[l]!], 3), temb, p, `u${l}`, groups);
      }
      return { out: conv(silu(groupNorm(h, p, "outn", groups)), p, "out") };
    },
  });
}
