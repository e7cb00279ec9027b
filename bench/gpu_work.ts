/**
 * GPU work per step on the webgpu backend: compute dispatches and queue submissions, counted at
 * the WebGPU API (`GPUComputePassEncoder.dispatchWorkgroups`, `GPUQueue.submit`), so every
 * dispatch counts, tfjs's and elbo's own (`lib/backend/webgpu_inplace.ts`). On a real GPU a small
 * model's step is bound by these rather than by arithmetic; the counts are the same on any
 * adapter, so they can be tracked on the software adapter too.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Workload } from "./handwritten.ts";

/** Dispatches and submissions per step, averaged over the counted steps. */
export interface GpuWork {
  /** Compute dispatches per step. */
  dispatches: number;
  /** `GPUQueue.submit` calls per step. */
  submits: number;
}

/**
 * Runs `steps` steps of `work` (the last output read back) and counts the GPU work they issued.
 *
 * @param work The workload (already warmed up).
 * @param steps Steps to count over.
 * @returns The counts per step, or `null` when the backend is not webgpu.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeWorkloadB } from "./handwritten.ts";
 * import { countGpuWork } from "./gpu_work.ts";
 *
 * await tf.setBackend("cpu");
 * const w = makeWorkloadB({ batch: 4 });
 * console.log(await countGpuWork(w, 1)); // null: not on webgpu
 * w.dispose();
 * ```
 */
export async function countGpuWork(work: Workload, steps: number): Promise<GpuWork | null> {
  if (tf.getBackend() !== "webgpu" || typeof GPUComputePassEncoder === "undefined") return null;
  const pass = GPUComputePassEncoder.prototype, queue = GPUQueue.prototype;
  const { dispatchWorkgroups } = pass, { submit } = queue;
  let dispatches = 0, submits = 0;
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args) {
    dispatches++;
    return dispatchWorkgroups.apply(this, args);
  };
  queue.submit = function (this: GPUQueue, ...args) {
    submits++;
    return submit.apply(this, args);
  };
  try {
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < steps; i++) outs.push(work.step());
    await outs[outs.length - 1]?.data();
    tf.dispose(outs);
  } finally {
    pass.dispatchWorkgroups = dispatchWorkgroups;
    queue.submit = submit;
  }
  return { dispatches: dispatches / steps, submits: submits / steps };
}
