/**
 * Building blocks shared by the network nodes: dense layers (PyTorch's default initialisation),
 * activations, MLP stacks, and the sinusoidal time embedding of DDPM.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { ParamSpec } from "../graph/node.ts";
import { fusedLinear } from "./fused_linear.ts";
import { webgpuSilu } from "../backend/webgpu_silu.ts";
import { hostValues } from "../backend/read.ts";
import type { Tensor, Tensor4D, Variable } from "../types.ts";

/** A nonlinearity. */
export type Activation = "relu" | "silu" | "tanh" | "gelu" | "softplus" | "linear";

/**
 * Applies an activation.
 *
 * @param x Input.
 * @param kind Which nonlinearity.
 * @returns The activated tensor.
 *
 * @example SiLU
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { activate } from "./layers.ts";
 * activate(tf.tensor1d([0]), "silu").shape; // [1]
 * ```
 */
export function activate(x: Tensor, kind: Activation): Tensor {
  switch (kind) {
    case "relu":
      return tf.relu(x);
    case "silu":
      // On webgpu one dispatch (and one for the gradient) instead of 2 (and 6).
      return webgpuSilu(x) ?? tf.mul(x, tf.sigmoid(x));
    case "tanh":
      return tf.tanh(x);
    case "gelu":
      // tanh approximation (Hendrycks & Gimpel 2016)
      return tf.tidy(() =>
        tf.mul(
          tf.mul(x, 0.5),
          tf.add(
            1,
            tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))),
          ),
        )
      );
    case "softplus":
      return tf.softplus(x);
    case "linear":
      return x;
    default: {
      const never: never = kind;
      throw new TypeError(`Cannot apply activation as it is unknown: current value is "${never}"`);
    }
  }
}

/**
 * Parameter specs of a dense layer `in → out` named `${prefix}W`, `${prefix}b`, initialised like
 * PyTorch's `nn.Linear`: U(−1/√in, 1/√in) for both.
 *
 * @param prefix Name prefix (e.g. `"l0_"`).
 * @param inDim Input size.
 * @param outDim Output size.
 * @returns The two parameter specs.
 *
 * @example A 784 → 512 layer
 * ```ts
 * import { denseParams } from "./layers.ts";
 * Object.keys(denseParams("l0_", 784, 512)); // ["l0_W", "l0_b"]
 * ```
 */
export function denseParams(
  prefix: string,
  inDim: number,
  outDim: number,
): Record<string, ParamSpec> {
  const limit = 1 / Math.sqrt(inDim);
  return {
    [`${prefix}W`]: { shape: [inDim, outDim], init: { uniform: limit } },
    [`${prefix}b`]: { shape: [outDim], init: { uniform: limit } },
  };
}

/**
 * Applies the dense layer named by `prefix`: x·W + b, or x·W + (b + shift) with a `shift` shared by
 * every row (one kernel either way: the bias seeds the product).
 *
 * @param x Input `[B, in]`.
 * @param params The node's parameters.
 * @param prefix Name prefix used in {@linkcode denseParams}.
 * @param shift An `[out]` or `[1, out]` tensor added to the bias, e.g. a time embedding that all
 * rows share (see {@linkcode sharedTimestep}).
 * @returns `[B, out]`.
 *
 * @example Apply a layer
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dense } from "./layers.ts";
 * const p = { l_W: tf.variable(tf.ones([3, 2])), l_b: tf.variable(tf.zeros([2])) };
 * dense(tf.ones([4, 3]), p, "l_").shape; // [4, 2]
 * ```
 */
export function dense(
  x: Tensor,
  params: Readonly<Record<string, Variable>>,
  prefix: string,
  shift?: Tensor,
): Tensor {
  const W = params[`${prefix}W`], b = params[`${prefix}b`];
  if (W === undefined || b === undefined) {
    throw new TypeError(
      `Cannot apply dense layer as parameters '${prefix}W'/'${prefix}b' are missing`,
    );
  }
  // One kernel with the bias inside, and lazy gradients (see fused_linear.ts).
  if (shift === undefined) return fusedLinear(x, W, b); // [B, out]
  return tf.tidy(() => fusedLinear(x, W, tf.add(b, tf.reshape(shift, b.shape)))); // [B, out]
}

/**
 * Adds a time embedding to a dense layer's output: x·W + b + temb. A `temb` of one row (all rows
 * share the timestep, see {@linkcode sharedTimestep}) goes into the layer's bias, so no `[B, out]`
 * add runs; a `[B, out]` one is added after the layer.
 *
 * @param x Input `[B, in]`.
 * @param params The node's parameters.
 * @param prefix Name prefix used in {@linkcode denseParams}.
 * @param temb `[B, out]` or `[1, out]`.
 * @returns `[B, out]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { denseAddingTime } from "./layers.ts";
 * const p = { l_W: tf.variable(tf.ones([3, 2])), l_b: tf.variable(tf.zeros([2])) };
 * denseAddingTime(tf.ones([4, 3]), p, "l_", tf.ones([1, 2])).shape; // [4, 2]
 * ```
 */
export function denseAddingTime(
  x: Tensor,
  params: Readonly<Record<string, Variable>>,
  prefix: string,
  temb: Tensor,
): Tensor {
  return temb.shape[0] === 1
    ? dense(x, params, prefix, temb)
    : tf.add(dense(x, params, prefix), temb);
}

/**
 * The hidden layers of a time-conditioned MLP, named `in_`, `h1_`, …: h = act(x·W + b + temb),
 * `layers` times, the time embedding added by {@linkcode denseAddingTime}.
 *
 * @param x Input `[B, in]`.
 * @param params The node's parameters.
 * @param layers How many hidden layers.
 * @param temb `[B, H]` or `[1, H]`.
 * @param act The nonlinearity.
 * @returns The last hidden layer `[B, H]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { hiddenAddingTime } from "./layers.ts";
 * const p = {
 *   in_W: tf.variable(tf.ones([3, 2])), in_b: tf.variable(tf.zeros([2])),
 *   h1_W: tf.variable(tf.ones([2, 2])), h1_b: tf.variable(tf.zeros([2])),
 * };
 * hiddenAddingTime(tf.ones([4, 3]), p, 2, tf.ones([1, 2]), "relu").shape; // [4, 2]
 * ```
 */
export function hiddenAddingTime(
  x: Tensor,
  params: Readonly<Record<string, Variable>>,
  layers: number,
  temb: Tensor,
  act: Activation,
): Tensor {
  let h = activate(denseAddingTime(x, params, "in_", temb), act);
  for (let i = 1; i < layers; i++) h = activate(denseAddingTime(h, params, `h${i}_`, temb), act);
  return h;
}

/**
 * The timesteps to embed: `t` itself, or its first entry `[1]` when every row holds the same
 * timestep and the values can be read without waiting (cpu, wasm: {@linkcode hostValues}). The
 * exact-NLL loop and the samplers call the network with one t for the whole batch; the time
 * embedding (in the ε-MLP two dense layers over `[B, H]`, a quarter of its multiply-adds) is then
 * computed once and broadcast. Values and gradients are those of the full embedding, up to float
 * rounding order.
 *
 * @param t Timesteps `[B]`.
 * @returns `t`, or `[1]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { sharedTimestep } from "./layers.ts";
 * sharedTimestep(tf.fill([8], 7, "int32")).shape; // [1]
 * sharedTimestep(tf.tensor1d([3, 7], "int32")).shape; // [2]
 * ```
 */
export function sharedTimestep(t: Tensor): Tensor {
  if (t.rank !== 1 || t.size < 2) return t;
  const values = hostValues(t);
  if (values === null) return t;
  const first = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return t;
  return tf.slice(t, [0], [1]);
}

/**
 * Parameter specs of an MLP `sizes[0] → … → sizes[n]`, layers named `l0_`, `l1_`, ….
 *
 * @param sizes Layer sizes, input first.
 * @param prefix Name prefix. @default "l"
 * @returns The parameter specs.
 *
 * @example Two layers
 * ```ts
 * import { mlpParams } from "./layers.ts";
 * Object.keys(mlpParams([4, 8, 2])).length; // 4
 * ```
 */
export function mlpParams(sizes: readonly number[], prefix = "l"): Record<string, ParamSpec> {
  let out: Record<string, ParamSpec> = {};
  for (let i = 0; i + 1 < sizes.length; i++) {
    out = { ...out, ...denseParams(`${prefix}${i}_`, sizes[i]!, sizes[i + 1]!) };
  }
  return out;
}

/**
 * Applies an MLP built by {@linkcode mlpParams}: activation after every layer but the last.
 *
 * @param x Input `[B, sizes[0]]`.
 * @param params The node's parameters.
 * @param layers Number of layers (`sizes.length − 1`).
 * @param activation Hidden nonlinearity.
 * @param prefix Name prefix. @default "l"
 * @returns `[B, sizes[n]]`.
 *
 * @example A 2-layer MLP
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { mlpForward } from "./layers.ts";
 * const p = {
 *   l0_W: tf.variable(tf.ones([3, 4])), l0_b: tf.variable(tf.zeros([4])),
 *   l1_W: tf.variable(tf.ones([4, 2])), l1_b: tf.variable(tf.zeros([2])),
 * };
 * mlpForward(tf.ones([5, 3]), p, 2, "relu").shape; // [5, 2]
 * ```
 */
export function mlpForward(
  x: Tensor,
  params: Readonly<Record<string, Variable>>,
  layers: number,
  activation: Activation,
  prefix = "l",
): Tensor {
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = dense(h, params, `${prefix}${i}_`);
    if (i + 1 < layers) h = activate(h, activation);
  }
  return h;
}

/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017; DDPM, improved-diffusion `timestep_embedding`):
 * [cos(t·f_i), sin(t·f_i)] with f_i = exp(−ln(maxPeriod)·i/half), i = 0 … half − 1.
 *
 * @param t Timesteps `[B]` (int or float).
 * @param dim Embedding size (even).
 * @param maxPeriod The longest period. @default 10000
 * @returns `[B, dim]`.
 *
 * @example Embed two timesteps
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { timestepEmbedding } from "./layers.ts";
 * timestepEmbedding(tf.tensor1d([0, 999], "int32"), 128).shape; // [2, 128]
 * ```
 */
export function timestepEmbedding(t: Tensor, dim: number, maxPeriod = 10000): Tensor {
  if (dim % 2 !== 0) {
    throw new RangeError(`Cannot embed timesteps as 'dim' must be even: current value is ${dim}`);
  }
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp(-Math.log(maxPeriod) * i / half);
  return tf.tidy(() => {
    const args = tf.mul(tf.expandDims(tf.cast(t, "float32"), 1), tf.tensor2d(freqs, [1, half])); // [B, half]
    return tf.concat([tf.cos(args), tf.sin(args)], 1); // [B, dim]
  });
}

/**
 * Parameter specs of a k×k convolution `ci → co` named `${name}_W`, `${name}_b`, initialised like
 * PyTorch's `nn.Conv2d`: U(±1/√(k²·ci)); `"zeros"` starts a residual branch at the identity.
 *
 * @param name Name prefix (e.g. `"c0"`).
 * @param shape `[k, ci, co]`: kernel size, input and output channels.
 * @param init How both are initialised. @default {"uniform"}
 * @returns The two parameter specs.
 *
 * @example A 3×3 convolution 1 → 32
 * ```ts
 * import { convParams } from "./layers.ts";
 * convParams("c0", [3, 1, 32]).c0_W?.shape; // [3, 3, 1, 32]
 * ```
 */
export function convParams(
  name: string,
  shape: readonly [k: number, ci: number, co: number],
  init: "uniform" | "zeros" = "uniform",
): Record<string, ParamSpec> {
  const [k, ci, co] = shape;
  const v = init === "zeros" ? "zeros" : { uniform: 1 / Math.sqrt(k * k * ci) };
  return {
    [`${name}_W`]: { shape: [k, k, ci, co], init: v },
    [`${name}_b`]: { shape: [co], init: v },
  };
}

/**
 * A "same"-padded convolution with bias, NHWC, using the parameters of {@linkcode convParams}.
 *
 * @param x Input `[B, H, W, ci]`.
 * @param params The node's parameters.
 * @param name The prefix given to `convParams`.
 * @param stride The stride. @default {1}
 * @returns `[B, H/stride, W/stride, co]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { conv } from "./layers.ts";
 * const p = { c_W: tf.variable(tf.ones([3, 3, 1, 2])), c_b: tf.variable(tf.zeros([2])) };
 * conv(tf.ones([1, 4, 4, 1]), p, "c", 2).shape; // [1, 2, 2, 2]
 * ```
 */
export function conv(
  x: Tensor,
  params: Readonly<Record<string, Variable>>,
  name: string,
  stride = 1,
): Tensor {
  const W = params[`${name}_W`] as Tensor4D;
  return tf.add(tf.conv2d(x as Tensor4D, W, stride, "same"), params[`${name}_b`]!);
}

/**
 * Nearest-neighbour 2× upsampling by reshape and broadcast (differentiable on every backend).
 *
 * @param x `[B, H, W, C]`.
 * @returns `[B, 2H, 2W, C]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { upsample2 } from "./layers.ts";
 * upsample2(tf.ones([1, 2, 2, 3])).shape; // [1, 4, 4, 3]
 * ```
 */
export function upsample2(x: Tensor): Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const t = tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]));
  return tf.reshape(t, [b, 2 * h, 2 * w, c]); // [B, 2H, 2W, C]
}
