/**
 * One queue submission per training step on the tfjs-webgpu backend.
 *
 * tfjs-webgpu records kernels into a command encoder and submits it to the GPU queue every
 * `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` dispatches (15 by default), so a step of workload A (72
 * dispatches) went out as 5 submissions. {@linkcode inOneSubmission} raises that batch size while
 * a step is recorded and submits once at its end: each `GPUQueue.submit` has a fixed cost on the
 * CPU (validation and resource tracking of the command buffer), and a step never waits for the GPU
 * in between, so the GPU can run one step while the next is recorded. (Whether this is faster on
 * a real GPU is not yet measured: see BENCHMARKS.md.)
 *
 * The cost: a buffer freed during the step is reused only after the submission (tfjs-webgpu
 * defers the release of buffers used by unsubmitted work), so a step holds its intermediates
 * until it ends (or until the next submission: {@linkcode STEP_DISPATCH_LIMIT} bounds that for
 * large graphs).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { webgpuInternals } from "./webgpu_inplace.ts";

/**
 * The most dispatches recorded before a submission inside {@linkcode inOneSubmission}: above
 * the steps of the reference workloads (A 72, B 86, with a weight EMA about 95), so each is one
 * submission; a U-Net step (964 dispatches at 64 channels) goes out in 8. Measured on that U-Net
 * (CIFAR-sized, batch 8, llvmpipe): GPU memory allocated 587 MB with tfjs's 15, 717 MB with 128,
 * 760 MB with 256 — the buffers held until each submission.
 */
export const STEP_DISPATCH_LIMIT = 128;

const FLAG = "WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE";

/**
 * Runs `fn` so that the GPU work it records goes to the queue in one submission at its end (or one
 * per {@linkcode STEP_DISPATCH_LIMIT} dispatches), with any work recorded before it. On other
 * backends it just runs `fn`. Reads inside `fn` still submit (a read needs the results).
 *
 * @param fn The work, e.g. a training step.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { inOneSubmission } from "./webgpu_submit.ts";
 *
 * await tf.setBackend("cpu");
 * const y = inOneSubmission(() => tf.tidy(() => tf.square(tf.ones([4]))));
 * console.log(y.shape); // [4]
 * ```
 */
export function inOneSubmission<T>(fn: () => T): T {
  const be = webgpuInternals();
  if (be === null) return fn();
  const env = tf.env();
  const before = env.getNumber(FLAG);
  env.set(FLAG, Math.max(before, STEP_DISPATCH_LIMIT));
  try {
    return fn();
  } finally {
    env.set(FLAG, before);
    if (be.commandEncoder !== null) {
      be.endComputePassEncoder();
      be.submitQueue();
    }
  }
}
