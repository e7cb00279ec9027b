/**
 * In-place compute dispatches on the tfjs-webgpu backend: a WGSL kernel that reads and writes
 * tensors' own GPU buffers, recorded into the backend's open compute pass, so it runs in order
 * with tfjs's kernels and goes out in the same queue submission.
 *
 * Why: an update like Adam's, written with tfjs ops, is 13 kernels per variable, each with its own
 * dispatch, uniform buffer and output buffer (for workload A: 156 of the 246 dispatches of a
 * training step). A kernel that updates weights and moments where they live is one dispatch for
 * several variables and allocates nothing. tfjs-webgpu's own programs (`runWebGPUProgram`) write one new
 * output, so this module encodes the dispatch itself; it relies on fields of tfjs-webgpu 4.22's
 * `WebGPUBackend` (`device`, `tensorMap`, `commandEncoder`, `computePassEncoder`, …), checked at
 * run time: when they are not there the caller gets `false` and runs its tfjs-ops path.
 *
 * A write is only done when it is invisible to other tensors: every written tensor is float32,
 * lives in a GPU buffer and shares it with no other tensor (reference count 1). Its CPU copy, if a
 * read cached one, is dropped, so a later read fetches the new values.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-webgpu 4.22's `WebGPUBackend` that elbo's own GPU work uses. */
export interface WebGpuInternals {
  device: GPUDevice;
  makeTensorInfo(shape: number[], dtype: "float32"): tf.TensorInfo;
  tensorMap: { get(dataId: object): TensorData | undefined };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers?: unknown;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  makeUniforms(
    uniforms: { type: "float32" | "int32" | "uint32"; data: number[] }[],
  ): GPUBufferBinding;
}

interface TensorData {
  dtype: string;
  refCount: number;
  values: unknown;
  resource: unknown;
}

/** One in-place dispatch: what it writes, what it reads, its uniforms and its size. */
export interface InPlaceDispatch {
  /** Tensors the kernel reads and writes (bindings 0 … w−1, `read_write`). */
  write: readonly tf.Tensor[];
  /** Tensors the kernel only reads (the bindings after those, `read`). */
  read: readonly tf.Tensor[];
  /** Values of the uniform block (the last binding, if any), each a group of 1 to 4 float32s. */
  uniforms: readonly (readonly number[])[];
  /** Invocations wanted: the kernel gets `i` = 0 … n−1 (and must skip `i >= n`). */
  n: number;
}

/** Invocations per workgroup of the kernels run by {@linkcode dispatchInPlace}. */
const WORKGROUP_SIZE = 256;

/** The most workgroups along one dispatch dimension (WebGPU's guaranteed minimum limit). */
const MAX_GROUPS_PER_DIM = 65535;

/** The flat invocation index (large sizes are dispatched over two dimensions). */
const FLAT_INDEX = `gid.x + gid.y * groups.x * ${WORKGROUP_SIZE}u`;

/**
 * The opening of a kernel's entry point for {@linkcode dispatchInPlace}: `fn main` with the
 * workgroup size, `let <index>` bound to the flat invocation index, and an early return past the
 * end of `array` (past their summed lengths for several, as when one dispatch covers several
 * tensors one after another). The caller writes the body and the closing brace.
 *
 * @param array The binding (or bindings) whose length bounds the index.
 * @param index The index's name.
 * @returns WGSL source.
 *
 * @example
 * ```ts
 * import { kernelEntry } from "./webgpu_inplace.ts";
 * const body = `${kernelEntry("x")}\n  x[i] = 2.0 * x[i];\n}`;
 * console.log(body.includes("fn main")); // true
 * ```
 */
export function kernelEntry(array: string | readonly string[], index = "i"): string {
  const names = typeof array === "string" ? [array] : array;
  const bound = names.map((a) => `arrayLength(&${a})`).join(" + ");
  return `
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>) {
  let ${index} = ${FLAT_INDEX};
  if (${index} >= ${bound}) { return; }`;
}

/**
 * The entry point of a kernel that covers several tensors one after another (one dispatch for
 * several variables): invocation `i` finds the tensor its element falls in and runs `update(j)`
 * for tensor j with `e`, the element's index in it. `arrays[j]` is tensor j's binding.
 *
 * @param arrays One binding per tensor, in dispatch order.
 * @param update The WGSL statements for tensor j (they read and write element `e`).
 * @returns WGSL source: the entry point, body and closing brace.
 *
 * @example
 * ```ts
 * import { segmentedEntry } from "./webgpu_inplace.ts";
 * const code = segmentedEntry(["a", "b"], (j) => `${["a", "b"][j]}[e] = 0.0;`);
 * console.log(code.includes("e = e - arrayLength(&a);")); // true
 * ```
 */
export function segmentedEntry(arrays: readonly string[], update: (j: number) => string): string {
  const chain = arrays.map((a, j) => `
  if (e < arrayLength(&${a})) {
    ${update(j)}
    return;
  }
  e = e - arrayLength(&${a});`);
  return `${kernelEntry(arrays)}
  var e = i;${chain.join("")}
}`;
}

/**
 * tfjs-webgpu's backend object with the fields elbo uses, or `null` when the active backend is not
 * webgpu or is not the 4.22 one.
 *
 * @returns The backend, typed, or `null`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { webgpuInternals } from "./webgpu_inplace.ts";
 *
 * await tf.setBackend("cpu");
 * console.log(webgpuInternals()); // null
 * ```
 */
export function webgpuInternals(): WebGpuInternals | null {
  if (tf.getBackend() !== "webgpu") return null;
  const be = tf.backend() as unknown as Partial<WebGpuInternals>;
  const fns = [
    be.makeTensorInfo,
    be.uploadToGPU,
    be.ensureCommandEncoderReady,
    be.endComputePassEncoder,
    be.submitQueue,
    be.makeUniforms,
  ];
  if (
    be.device === undefined || be.tensorMap === undefined ||
    !(be.commandQueueOwnedIds instanceof WeakSet) || typeof be.dispatchCountInPass !== "number" ||
    fns.some((f) => typeof f !== "function")
  ) {
    return null;
  }
  return be as WebGpuInternals;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** The compute pipeline of `code` on `device`, compiled once. */
function pipelineFor(device: GPUDevice, code: string): GPUComputePipeline {
  let byCode = pipelines.get(device);
  if (byCode === undefined) pipelines.set(device, byCode = new Map());
  let pipeline = byCode.get(code);
  if (pipeline === undefined) {
    pipeline = device.createComputePipeline({
      layout: "auto",
      compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
    });
    byCode.set(code, pipeline);
  }
  return pipeline;
}

/**
 * Records `kernel` over `dispatch`'s tensors into tfjs-webgpu's open compute pass, writing the
 * `write` tensors in place. Returns `false`, touching nothing, when the backend is not webgpu,
 * when a tensor is empty or not float32, or when a written tensor shares its buffer with another
 * tensor.
 *
 * The kernel binds, in group 0, the written tensors, then the read ones (each
 * `array<f32>`, bound to exactly its size, so `arrayLength` is the tensor's size), then, when
 * `uniforms` is not empty, one uniform struct of `vec4<f32>` fields holding them (each group
 * padded to 4).
 *
 * @param kernel WGSL source whose entry point opens with {@linkcode kernelEntry}.
 * @param dispatch Tensors, uniforms and size.
 * @returns Whether the dispatch was recorded.
 *
 * @example Double a variable in place (on webgpu; elsewhere nothing happens)
 * ```ts ignore
 * import * as tf from "@tensorflow/tfjs";
 * import { dispatchInPlace, kernelEntry } from "./webgpu_inplace.ts";
 *
 * const x = tf.variable(tf.ones([10]));
 * const kernel = `
 *   @group(0) @binding(0) var<storage, read_write> x: array<f32>;
 *   struct U { k: vec4<f32> }
 *   @group(0) @binding(1) var<uniform> u: U;
 *   ${kernelEntry("x")}
 *     x[i] = x[i] * u.k.x;
 *   }`;
 * dispatchInPlace(kernel, { write: [x], read: [], uniforms: [[2]], n: x.size });
 * ```
 */
export function dispatchInPlace(kernel: string, dispatch: InPlaceDispatch): boolean {
  const be = webgpuInternals();
  if (be === null) return false;
  const all = [...dispatch.write, ...dispatch.read];
  // An empty storage binding is invalid in WebGPU; tfjs ops handle empty tensors.
  if (all.some((t) => t.size === 0)) return false;
  for (const t of all) {
    const data = be.tensorMap.get(t.dataId);
    if (data === undefined || data.dtype !== "float32" || t.dtype !== "float32") return false;
  }
  for (const t of dispatch.write) {
    if (be.tensorMap.get(t.dataId)!.refCount !== 1) return false;
  }
  for (const t of all) be.uploadToGPU(t.dataId);
  const buffers = all.map((t) => be.tensorMap.get(t.dataId)!.resource);
  if (!buffers.every((b) => b instanceof GPUBuffer)) return false;

  const pipeline = pipelineFor(be.device, kernel);
  const entries: GPUBindGroupEntry[] = all.map((t, i) => ({
    binding: i,
    resource: { buffer: buffers[i] as GPUBuffer, offset: 0, size: 4 * t.size },
  }));
  if (dispatch.uniforms.length > 0) {
    const data = dispatch.uniforms.map((group) => [...group, 0, 0, 0].slice(0, 4));
    const resource = be.makeUniforms(data.map((d) => ({ type: "float32", data: d })));
    entries.push({ binding: all.length, resource });
  }
  const bindGroup = be.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });

  const groups = Math.ceil(dispatch.n / WORKGROUP_SIZE);
  const x = Math.min(groups, MAX_GROUPS_PER_DIM);
  const y = Math.ceil(groups / x);
  be.ensureCommandEncoderReady();
  if (be.activeTimers != null) be.endComputePassEncoder(); // tf.profile times passes one by one
  be.computePassEncoder ??= be.commandEncoder!.beginComputePass({});
  be.computePassEncoder.setPipeline(pipeline);
  be.computePassEncoder.setBindGroup(0, bindGroup);
  be.computePassEncoder.dispatchWorkgroups(x, y);
  be.dispatchCountInPass++;
  // Buffers in use by recorded work are released only after the next submission.
  for (const t of all) be.commandQueueOwnedIds.add(t.dataId);
  // A cached CPU copy of a written tensor is stale now.
  for (const t of dispatch.write) be.tensorMap.get(t.dataId)!.values = null;
  if (tf.env().getNumber("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE") <= be.dispatchCountInPass) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
  return true;
}

/**
 * Runs `kernel` with a new float32 tensor of `shape` as its one written binding (its buffer is
 * not initialised: the kernel must write every element) and `read` after it, like
 * {@linkcode dispatchInPlace}. The result is tracked by the engine like any op's output (a
 * surrounding `tf.tidy` frees it), though no tfjs kernel is recorded for it.
 *
 * @param kernel WGSL source (see {@linkcode dispatchInPlace}).
 * @param shape The output's shape; `n` is its size.
 * @param read Tensors the kernel reads.
 * @param uniforms Values of the uniform block.
 * @returns The output, or `null` (nothing done) where {@linkcode dispatchInPlace} would refuse.
 *
 * @example
 * ```ts ignore
 * const y = dispatchToNew(kernel, x.shape, [x], []) ?? fallback(x);
 * ```
 */
export function dispatchToNew(
  kernel: string,
  shape: readonly number[],
  read: readonly tf.Tensor[],
  uniforms: readonly (readonly number[])[] = [],
): tf.Tensor | null {
  const be = webgpuInternals();
  if (be === null) return null;
  const out = tf.engine().makeTensorFromTensorInfo(be.makeTensorInfo([...shape], "float32"));
  if (dispatchInPlace(kernel, { write: [out], read, uniforms, n: out.size })) return out;
  out.dispose();
  return null;
}

/**
 * Runs an in-place update over `items` in dispatches of as many items as the device's
 * `maxStorageBuffersPerShaderStage` allows at `buffersPerItem` each (at most `maxPerDispatch`).
 * Where a group's dispatch declines (see {@linkcode dispatchInPlace}), its items are tried one by
 * one, so one item that must not be written in place does not hold back the others.
 *
 * @param items What to update, e.g. each variable's tensors.
 * @param buffersPerItem Storage bindings one item needs.
 * @param maxPerDispatch The most items in one dispatch.
 * @param dispatchGroup Records one dispatch over a group; returns whether it did.
 * @returns For each item, whether it was updated; all `false` off webgpu.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dispatchGrouped } from "./webgpu_inplace.ts";
 *
 * await tf.setBackend("cpu");
 * console.log(dispatchGrouped([1, 2, 3], 2, 16, () => true)); // [false, false, false]
 * ```
 */
export function dispatchGrouped<T>(
  items: readonly T[],
  buffersPerItem: number,
  maxPerDispatch: number,
  dispatchGroup: (group: readonly T[]) => boolean,
): boolean[] {
  const done = items.map(() => false);
  const be = webgpuInternals();
  if (be === null) return done;
  const limit = be.device.limits.maxStorageBuffersPerShaderStage;
  const k = Math.max(1, Math.min(maxPerDispatch, Math.floor(limit / buffersPerItem)));
  for (let start = 0; start < items.length; start += k) {
    const group = items.slice(start, start + k);
    if (dispatchGroup(group)) {
      done.fill(true, start, start + group.length);
    } else if (group.length > 1) {
      group.forEach((one, j) => done[start + j] = dispatchGroup([one]));
    }
  }
  return done;
}
