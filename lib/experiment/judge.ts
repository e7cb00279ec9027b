/**
 * A sample-quality proxy for small image data sets: a "judge" classifier (an MLP trained once per
 * process on the real training split, seeded) scores generated samples with an Inception-style
 * score exp(E_x KL(p(y|x) ‖ p(y))) (Salimans et al. 2016): 1 for unrecognisable or single-class
 * samples, up to the number of classes for confident and diverse ones. It is a proxy, comparable
 * only between runs on the same data set; it is not FID.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/mod.ts";
import { compile, type Compiled } from "../graph/compile.ts";
import { graph } from "../graph/graph.ts";
import { crossEntropy } from "../nodes/classifier.ts";
import { mlp } from "../nodes/vae.ts";
import { batchSource } from "./batches.ts";
import type { Tensor } from "../types.ts";

const judges = new Map<string, Promise<Compiled<string>>>();

function train(data: ImageDataset): Compiled<string> {
  const [h, w, c] = data.shape;
  const g = graph({ x: `B,${h * w * c}`, y: "B" })
    .add("net", mlp({ hidden: [256], out: data.numClasses }), { x: "x" })
    .loss("ce", crossEntropy, { logits: "net.y", y: "y" })
    .build();
  const judge = compile(g, { seed: 1234, optimizer: { kind: "adam", lr: 1e-3 } });
  const src = batchSource(data, {
    batchSize: 128,
    seed: 1234,
    transform: "symmetric",
    flatten: true,
  }, {
    labels: "y",
  });
  for (let step = 0; step < 600; step++) {
    const feeds = src.next();
    const r = judge.trainStep(feeds, step);
    tf.dispose([...Object.values(feeds), r.total, ...Object.values(r.terms)]);
  }
  return judge;
}

/**
 * The judge's class probabilities for images in [−1, 1].
 *
 * @param data The data set the images imitate (the judge is trained on its training split).
 * @param images `[N, H, W, C]` or `[N, D]` in [−1, 1].
 * @returns `[N, K]` probabilities.
 */
export async function judgeProbs(data: ImageDataset, images: Tensor): Promise<Tensor> {
  let j = judges.get(data.name);
  if (j === undefined) judges.set(data.name, j = Promise.resolve().then(() => train(data)));
  const judge = await j;
  return tf.tidy(() =>
    tf.softmax(judge.run(["net.y"], { x: tf.reshape(images, [images.shape[0]!, -1]) })["net.y"])
  );
}

/**
 * The Inception-style score of samples under the judge.
 *
 * @param data The data set.
 * @param images Samples in [−1, 1].
 * @returns exp(E KL(p(y|x) ‖ p(y))), in [1, K].
 *
 * @example Score DDPM samples
 * ```ts ignore
 * const score = await judgeScore(env.data, samples);
 * ```
 */
export async function judgeScore(data: ImageDataset, images: Tensor): Promise<number> {
  const p = await judgeProbs(data, images);
  const v = tf.tidy(() => {
    const py = tf.mean(p, 0, true); // [1, K]
    const kl = tf.sum(tf.mul(p, tf.sub(tf.log(tf.add(p, 1e-12)), tf.log(tf.add(py, 1e-12)))), -1);
    return tf.exp(tf.mean(kl));
  });
  const out = (await v.data())[0]!;
  tf.dispose([p, v]);
  return out;
}

/**
 * The fraction of samples the judge assigns to the class they were conditioned on.
 *
 * @param data The data set.
 * @param images Samples in [−1, 1].
 * @param labels The conditioning labels `[N]`.
 * @returns Accuracy in [0, 1].
 */
export async function judgeAccuracy(
  data: ImageDataset,
  images: Tensor,
  labels: Tensor,
): Promise<number> {
  const p = await judgeProbs(data, images);
  const hit = tf.tidy(() =>
    tf.mean(tf.cast(tf.equal(tf.argMax(p, -1), tf.cast(labels, "int32")), "float32"))
  );
  const out = (await hit.data())[0]!;
  tf.dispose([p, hit]);
  return out;
}
