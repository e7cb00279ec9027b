/**
 * Adam (Kingma & Ba 2015) with PyTorch's update rule, owning its state so checkpoints hold it
 * by name: p ← p − lr · m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Tensor, Variable } from "../types.ts";

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
}

/** Adam over a fixed list of variables. */
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
    this.#vars = vars;
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.m = vars.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = vars.map((p) => tf.variable(tf.zerosLike(p), false));
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
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const stepSize = this.lr / c1;
    const sqrtC2 = Math.sqrt(c2);
    tf.tidy(() => {
      for (let i = 0; i < this.#vars.length; i++) {
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
