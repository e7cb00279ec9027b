/**
 * WebGPU adapter probing and the tfjs-webgpu backend factory.
 *
 * Under Deno, `navigator.gpu` may give a *software* adapter (Mesa llvmpipe through GL, lavapipe
 * through Vulkan) that is 5–40× slower than wasm (ecosystem.md §1); tfjs would still pick it,
 * since webgpu has the highest priority. {@linkcode probeWebGpu} reads what the adapter is, so
 * the selector can refuse software adapters. {@linkcode registerWebGpuBackend} replaces the
 * stock factory (keeping the name "webgpu", so every webgpu kernel still applies): it requests
 * the adapter's maximum compute limits, requests only features by their plain name (tfjs 4.22
 * pushes `['bgra8unorm-storage']`, an array, into `requiredFeatures` on real GPUs;
 * denoland/webgpu-examples#22), and reports device loss and uncaptured errors on stderr.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** What the selector records about a WebGPU adapter (JSON-serialisable). */
export interface AdapterInfo {
  /** Driver description, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"` or `"NVIDIA H100"`. */
  description: string;
  /** PCI vendor id or name as the driver reports it. */
  vendor: string;
  /** True for a software rasteriser (a fallback adapter, or llvmpipe/lavapipe/SwiftShader). */
  isFallback: boolean;
}

/** Description fragments of software (CPU) WebGPU implementations. */
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|basic render driver/i;

/**
 * Whether an adapter is a software fallback: its `isFallbackAdapter` flag, or a description
 * naming a CPU rasteriser (llvmpipe, lavapipe, softpipe, SwiftShader, Microsoft Basic Render).
 *
 * @param flag The adapter's `info.isFallbackAdapter` (or `isFallbackAdapter`), if it has one.
 * @param description The adapter's `info.description`.
 * @returns True when the adapter runs on the CPU.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSoftwareAdapter } from "./webgpu.ts";
 *
 * assert.equal(isSoftwareAdapter(false, "llvmpipe (LLVM 15.0.6, 256 bits)"), true);
 * assert.equal(isSoftwareAdapter(false, "NVIDIA H100 80GB HBM3"), false);
 * ```
 */
export function isSoftwareAdapter(flag: boolean | undefined, description: string): boolean {
  return flag === true || SOFTWARE.test(description);
}

/** `info.isFallbackAdapter` (newer spec) or `adapter.isFallbackAdapter` (older), if present. */
function fallbackFlag(adapter: GPUAdapter): boolean | undefined {
  const fromInfo = (adapter.info as { isFallbackAdapter?: unknown }).isFallbackAdapter;
  if (typeof fromInfo === "boolean") return fromInfo;
  const old = (adapter as { isFallbackAdapter?: unknown }).isFallbackAdapter;
  return typeof old === "boolean" ? old : undefined;
}

/** Read an adapter's identity into a plain record. */
function describe(adapter: GPUAdapter): AdapterInfo {
  const info = adapter.info;
  const description = info.description || [info.vendor, info.architecture, info.device]
    .filter((s) => s !== "").join(" ");
  return {
    description,
    vendor: info.vendor,
    isFallback: isSoftwareAdapter(fallbackFlag(adapter), description),
  };
}

/** Ask `navigator.gpu` for a high-performance adapter; null when WebGPU or the adapter is absent. */
async function requestAdapter(): Promise<GPUAdapter | null> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (gpu === undefined) return null;
  return await gpu.requestAdapter({ powerPreference: "high-performance" });
}

/**
 * Probe the WebGPU adapter this process would get, without creating a device.
 *
 * @returns The adapter's identity, or `null` when `navigator.gpu` is missing or gives no adapter
 *   (on Linux: no Vulkan loader/driver and no GL; see ecosystem.md §6).
 *
 * @example
 * ```ts
 * import { probeWebGpu } from "./webgpu.ts";
 *
 * const adapter = await probeWebGpu();
 * console.log(adapter === null ? "no WebGPU" : adapter.description);
 * ```
 */
export async function probeWebGpu(): Promise<AdapterInfo | null> {
  const adapter = await requestAdapter();
  return adapter === null ? null : describe(adapter);
}

/** Compute-related limits requested at the adapter's maximum. */
const LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxUniformBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxBindGroups",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
] as const;

/** Optional features requested when the adapter has them (tfjs uses timestamp-query for tf.time). */
const FEATURES: GPUFeatureName[] = ["timestamp-query", "shader-f16"];

/** Where {@linkcode registerWebGpuBackend} reports device loss and uncaptured errors. */
export type GpuErrorSink = (line: string) => void;

/**
 * Replace tfjs's "webgpu" backend factory with one that uses the adapter's maximum limits,
 * requests features correctly, and reports `device.lost` and `uncapturederror`.
 * Call it after importing `@tensorflow/tfjs-backend-webgpu` and before `tf.setBackend("webgpu")`.
 *
 * @param onError Receives one line per device loss or uncaptured WebGPU error.
 * @returns Nothing; the factory runs when tfjs starts the backend.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-webgpu";
 * import { registerWebGpuBackend } from "./webgpu.ts";
 *
 * registerWebGpuBackend((line) => console.error(line));
 * ```
 */
export function registerWebGpuBackend(onError: GpuErrorSink): void {
  const priority = 3; // tfjs-webgpu's own priority
  if (tf.findBackendFactory("webgpu") !== null) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", async () => {
    const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
    const adapter = await requestAdapter();
    if (adapter === null) {
      throw new Error(
        "Cannot start the webgpu backend as navigator.gpu gives no adapter: install the GPU's " +
          "Vulkan driver (libvulkan1 and its ICD), or choose --backend wasm",
      );
    }
    const info = adapter.info; // read before requestDevice (denoland/deno#28135)
    const requiredFeatures = FEATURES.filter((f) => adapter.features.has(f));
    const requiredLimits: Record<string, number> = {};
    for (const name of LIMITS) {
      const value = adapter.limits[name];
      if (typeof value === "number") requiredLimits[name] = value;
    }
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
    device.lost.then((lost) => {
      if (lost.reason !== "destroyed") {
        onError(`elbo: WebGPU device lost (${lost.reason}): ${lost.message}`);
      }
    });
    device.addEventListener("uncapturederror", (event) => {
      onError(`elbo: WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
    return new WebGPUBackend(device, info);
  }, priority);
}
