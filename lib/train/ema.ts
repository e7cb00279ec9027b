/**
 * Exponential moving average of weights (Polyak averaging), used for sampling and evaluation:
 * θ̄ ← d·θ̄ + (1 − d)·θ after every step.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { activeHeap } from "../backend/native_heap.ts";
import { emaInPlace } from "../backend/native_ema.ts";
import { webgpuEmaInPlace } from "../backend/webgpu_ema.ts";
import type { Variable } from "../types.ts";

/** EMA shadows of a list of variables. */
export class Ema {
  /** The shadow weights, one per variable, same order. */
  readonly shadows: Variable[];
  readonly #vars: readonly Variable[];

  /**
   * Starts the shadows at the current weights.
   *
   * @param vars The variables to average.
   * @param decay The decay d in [0, 1).
   */
  constructor(vars: readonly Variable[], readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) {
      throw new RangeError(
        `Cannot keep an EMA as 'decay' must be in [0, 1): current value is ${decay}`,
      );
    }
    this.#vars = vars;
    // A copy (clone() would share the weights' memory), made inside tidy so only the shadow holds
    // it: each shadow owns its memory from the start, as in-place updates need.
    this.shadows = tf.tidy(() => vars.map((v) => tf.variable(tf.mul(v, 1), false)));
  }

  /**
   * Moves the shadows toward the current weights.
   *
   * @example Average one step
   * ```ts
   * import * as tf from "@tensorflow/tfjs";
   * import { Ema } from "./ema.ts";
   * const w = tf.variable(tf.scalar(0));
   * const ema = new Ema([w], 0.9);
   * w.assign(tf.scalar(1));
   * ema.update(); // shadow is now 0.1
   * ```
   */
  update(): void {
    // On wasm, one in-place SIMD pass per shadow (native_ema.ts; the same float32 results); on
    // webgpu, in-place dispatches of several shadows each (webgpu_ema.ts).
    const heap = activeHeap();
    const pairs = this.shadows.map((shadow, i) => ({ shadow, weights: this.#vars[i]! }));
    const done = heap !== null
      ? pairs.map(({ shadow, weights }) => emaInPlace(heap, shadow, weights, this.decay))
      : webgpuEmaInPlace(pairs, this.decay); // all false off webgpu
    tf.tidy(() => {
      pairs.forEach(({ shadow: s, weights: w }, i) => {
        if (!done[i]) s.assign(tf.add(tf.mul(s, this.decay), tf.mul(w, 1 - this.decay)));
      });
    });
  }

  /**
   * Runs `fn` with the shadow weights swapped in, then restores the live weights.
   *
   * @param fn The evaluation or sampling to run.
   * @returns What `fn` returns.
   */
  async withAverages<T>(fn: () => Promise<T> | T): Promise<T> {
    const live = this.#vars.map((v) => v.clone());
    try {
      for (let i = 0; i < this.#vars.length; i++) this.#vars[i]!.assign(this.shadows[i]!);
      return await fn();
    } finally {
      for (let i = 0; i < this.#vars.length; i++) this.#vars[i]!.assign(live[i]!);
      tf.dispose(live);
    }
  }

  /** Releases the shadows. */
  dispose(): void {
    tf.dispose(this.shadows);
  }
}
