/**
 * The small least-squares problem the Adam tests train: W [7, 3] (21 values: 5 SIMD groups of 4
 * and a tail of 1 on wasm), b [3], fixed x [8, 7] and y [8, 3]. Not a test file.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Adam, type AdamUpdate } from "../../lib/train/adam.ts";
import { seeded } from "../_seeded.ts";

/** The problem's variables, one Adam step on them, and cleanup. */
export function problem(): {
  W: tf.Variable;
  b: tf.Variable;
  step: (opt: Adam) => void;
  dispose: () => void;
} {
  const W = tf.tidy(() => tf.variable(tf.tensor2d(seeded(21, 1), [7, 3])));
  const b = tf.tidy(() => tf.variable(tf.tensor1d(seeded(3, 2))));
  const x = tf.tensor2d(seeded(56, 3), [8, 7]);
  const y = tf.tensor2d(seeded(24, 4), [8, 3]);
  const loss = () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, W), b), y))) as tf.Scalar;
  const step = (opt: Adam) =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(loss, [W, b]);
      opt.apply([grads[W.name]!, grads[b.name]!]);
    });
  return { W, b, step, dispose: () => tf.dispose([W, b, x, y]) };
}

/**
 * Trains the problem `steps` steps with Adam (lr 0.05) and reads everything back; `kept` says
 * whether the weight and its moments kept their memory (an in-place update).
 */
export async function train(update: AdamUpdate, steps: number): Promise<{
  W: Float32Array;
  b: Float32Array;
  m: Float32Array;
  v: Float32Array;
  t: number;
  kept: boolean;
}> {
  const p = problem();
  const opt = new Adam([p.W, p.b], { lr: 0.05, update });
  const ids = [p.W, opt.m[0]!, opt.v[0]!].map((t) => t.dataId);
  for (let i = 0; i < steps; i++) p.step(opt);
  const out = {
    W: Float32Array.from(await p.W.data()),
    b: Float32Array.from(await p.b.data()),
    m: Float32Array.from(await opt.m[0]!.data()),
    v: Float32Array.from(await opt.v[0]!.data()),
    t: opt.t,
    kept: [p.W, opt.m[0]!, opt.v[0]!].every((t, i) => t.dataId === ids[i]),
  };
  opt.dispose();
  p.dispose();
  return out;
}
