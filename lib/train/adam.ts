/**
 * Adam (Kingma & Ba 2015) with PyTorch's update rule, owning its state so checkpoints hold it
 * by name: p ← p − lr · m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).
 *
 * On the wasm backend each variable's update is one fused pass over its memory
 * (`lib/backend/native_adam.ts`: WebAssembly SIMD, weights and moments written in place), and on
 * webgpu compute dispatches over their buffers, several variables each
 * (`lib/backend/webgpu_adam.ts`), instead of 13 tfjs ops that each allocate a tensor the size of
 * the variable; on cpu, and for any variable whose memory another tensor shares, it runs the same
 * update with tfjs ops. All paths keep the state in the same variables (`m`, `v`, `t`), so
 * checkpoints are the same.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { adamInPlace, type AdamStep } from "../backend/native_adam.ts";
import { activeHeap, type TensorHeap } from "../backend/native_heap.ts";
import { webgpuAdamInPlace } from "../backend/webgpu_adam.ts";
import type { Tensor, Variable } from "../types.ts";

/**
 * Where the update runs.
 *
 * - `"auto"`: in place on wasm and webgpu, tfjs ops on cpu. Not in place on cpu: there
 *   `tensor.data()` returns the tensor's own array, so an in-place update would change values a
 *   caller already read.
 * - `"inPlace"`: in place on wasm, webgpu and cpu.
 * - `"ops"`: always tfjs ops.
 */
export type AdamUpdate = "auto" | "inPlace" | "ops";

/** Adam hyper-parameters. */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** β₁. @default 0.9 */
  beta1?: number;
  /** β₂. @default 0.999 */
  beta2?: number;
  /** ε, added to √v̂ as in PyTorch. @default 1e-8 */
  epsilon?: number;
  /** Where the update runs (see {@linkcode AdamUpdate}). @default "auto" */
  update?: AdamUpdate;
}

/**
 * Adam over a fixed list of variables.
 *
 * @example Two steps on a quadratic
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { Adam } from "./adam.ts";
 * const x = tf.variable(tf.tensor1d([1, -2]));
 * const opt = new Adam([x], { lr: 0.1 });
 * for (let i = 0; i < 2; i++) tf.tidy(() => opt.apply([tf.mul(x, 2)])); // d/dx of x²
 * opt.t; // 2
 * ```
 */
export class Adam {
  /** Number of updates applied so far. */
  t = 0;
  /** Learning rate. */
  readonly lr: number;
  /** Decay of the first moment. */
  readonly beta1: number;
  /** Decay of the second moment. */
  readonly beta2: number;
  /** Added to the root of the second moment. */
  readonly epsilon: number;
  /** Where the update runs. */
  readonly update: AdamUpdate;
  /** First moments, one per variable, same order. */
  readonly m: Variable[];
  /** Second moments, one per variable, same order. */
  readonly v: Variable[];
  readonly #vars: readonly Variable[];

  /**
   * Creates zeroed moments for `vars`.
   *
   * @param vars The variables it updates (their order names the state).
   * @param options Hyper-parameters.
   */
  constructor(vars: readonly Variable[], options: AdamOptions) {
    const update = options.update ?? "auto";
    if (update !== "auto" && update !== "inPlace" && update !== "ops") {
      throw new RangeError(
        `Cannot create Adam as 'update' must be "auto", "inPlace" or "ops": current value is ${
          JSON.stringify(update)
        }`,
      );
    }
    this.#vars = vars;
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.update = update;
    // Inside tidy: the zeros are freed, so each moment owns its memory (in-place updates need it).
    this.m = tf.tidy(() => vars.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => vars.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /**
   * Applies one update.
   *
   * @param grads Gradients in the variables' order.
   *
   * @example Minimise x²
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { Adam } from "./adam.ts";
   * const x = tf.variable(tf.scalar(1));
   * const opt = new Adam([x], { lr: 0.1 });
   * opt.apply([tf.mul(x, 2)]);
   * opt.t; // 1
   * ```
   */
  apply(grads: readonly Tensor[]): void {
    if (grads.length !== this.#vars.length) {
      throw new TypeError(
        `Cannot apply Adam as it needs one gradient per variable (${this.#vars.length}): ` +
          `current value has ${grads.length}`,
      );
    }
    this.t++;
    const heap = this.#heap();
    const hp: AdamStep = {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      step: this.t,
    };
    const all = this.#vars.map((w, i) => ({ w, m: this.m[i]!, v: this.v[i]!, g: grads[i]! }));
    let done: boolean[];
    if (heap !== null) done = all.map((t) => adamInPlace(heap, t, hp));
    else if (this.update === "ops") done = all.map(() => false);
    else done = webgpuAdamInPlace(all, hp); // all false off webgpu
    const rest = all.flatMap((_, i) => done[i] ? [] : [i]);
    if (rest.length > 0) this.#withOps(grads, rest);
  }

  /** The backend memory to update in place, or `null` for the tfjs-ops path. */
  #heap(): TensorHeap | null {
    if (this.update === "ops") return null;
    const heap = activeHeap();
    if (heap === null) return null;
    return heap.backend === "wasm" || this.update === "inPlace" ? heap : null;
  }

  /** PyTorch's update with tfjs ops for the variables at `indices` (fresh memory for each). */
  #withOps(grads: readonly Tensor[], indices: readonly number[]): void {
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const stepSize = this.lr / c1;
    const sqrtC2 = Math.sqrt(c2);
    tf.tidy(() => {
      for (const i of indices) {
        const g = grads[i]!, m = this.m[i]!, v = this.v[i]!, p = this.#vars[i]!;
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(m1);
        v.assign(v1);
        const denom = tf.add(tf.div(tf.sqrt(v1), sqrtC2), this.epsilon);
        p.assign(tf.sub(p, tf.mul(tf.div(m1, denom), stepSize)));
      }
    });
  }

  /** Releases the moment buffers. */
  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
