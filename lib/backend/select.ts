/**
 * Backend selection: once per process, webgpu on a real GPU, else wasm, else cpu.
 *
 * tfjs on its own picks webgpu whenever `navigator.gpu` exists, even on a software adapter
 * (Mesa llvmpipe here) that is 5–40× slower than wasm (ecosystem.md §0). {@linkcode initBackend}
 * probes the adapter first and uses webgpu only on hardware; an explicit choice (the `backend`
 * option, `--backend`, or `ELBO_BACKEND`) overrides that, and a forced backend that cannot start
 * is an error, never a silent fallback. The backend is chosen once: tensors living on webgpu
 * cannot be moved by a later switch under Deno (synchronous readback throws, see `read.ts`).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { startWasm } from "./wasm.ts";
import { enableNativeBlas, findNativeBlas, type NativeBlasProbe } from "./native_blas.ts";
import { type AdapterInfo, probeWebGpu, registerWebGpuBackend } from "./webgpu.ts";

export type { AdapterInfo };

/** The tfjs backends elbo runs on. */
export type BackendName = "webgpu" | "wasm" | "cpu";

/** Every {@linkcode BackendName}, in order of preference. */
export const BACKEND_NAMES: readonly BackendName[] = ["webgpu", "wasm", "cpu"];

/** The environment variable that forces a backend when no `backend` option is given. */
export const BACKEND_ENV = "ELBO_BACKEND";

/**
 * The environment variable for the native BLAS path when no `native` option is given: `0`, `off`,
 * `false` or `no` turn it off; unset, empty, `1`, `on`, `true` or `yes` leave it on with the default
 * library (`libopenblas.so.0`); any other value names the library to load (a file name or path).
 */
export const NATIVE_ENV = "ELBO_NATIVE";

/** Options of {@linkcode initBackend}. */
export interface BackendOptions {
  /**
   * Force a backend; it must start, or `initBackend` throws.
   * @default {the ELBO_BACKEND environment variable, else automatic}
   */
  backend?: BackendName | undefined;
  /**
   * Threads for the math. With native BLAS on (wasm or cpu): the BLAS threads, and wasm runs 1
   * XNNPACK thread (2 XNNPACK threads beside the BLAS pool measured 8-29% slower). Without it: wasm
   * threads (XNNPACK pool), at most 8; needs `--allow-write=runs` for the worker scripts, else 1.
   * @default {navigator.hardwareConcurrency}
   */
  threads?: number;
  /**
   * Use OpenBLAS's sgemm through Deno FFI for matmuls on wasm and cpu (`native_blas.ts`) when
   * `--allow-ffi` is granted and `libopenblas.so.0` (Debian `libopenblas0`) is found; else one
   * line says why, and the backend keeps its own kernels. `false` turns it off.
   * @default {true, unless ELBO_NATIVE is 0, off, false or no}
   */
  native?: boolean;
  /**
   * Print neither the fallback nor the start-up line (fallback lines are still recorded in
   * `notes`; WebGPU device-loss errors are always printed).
   * @default {false}
   */
  quiet?: boolean;
  /**
   * Register elbo's wasm kernel fixes (transpose-free matmul, conv2d gradients, segment sum).
   * Only for measuring stock tfjs-wasm against them.
   * @default {true}
   */
  wasmKernels?: boolean;
}

/** What runs, as the run config records it (a plain JSON-serialisable record). */
export interface BackendInfo {
  /** The active tfjs backend. */
  name: BackendName;
  /** The WebGPU adapter seen at selection (`null`: none, or not probed because a backend was forced). */
  adapter: AdapterInfo | null;
  /** Threads doing the math: XNNPACK threads on wasm, 1 on cpu and webgpu (the JS thread). */
  threads: number;
  /** Whether the wasm SIMD binary runs (false on cpu and webgpu). */
  simd: boolean;
  /** Native BLAS library doing the matmuls (e.g. `libopenblas.so.0`), or `null`. */
  native: string | null;
  /** Fallbacks, reduced threads, kernels replaced: everything worth keeping with the run. */
  notes: string[];
}

let chosen: Promise<BackendInfo> | null = null;
let chosenInfo: BackendInfo | null = null;

/**
 * Check that `value` names a backend.
 *
 * @param value The text to check, e.g. a flag value.
 * @param source Where it came from, for the error message.
 * @returns The backend name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBackendName } from "./select.ts";
 *
 * assert.equal(toBackendName("wasm", "--backend"), "wasm");
 * assert.throws(() => toBackendName("gpu", "--backend"), RangeError);
 * ```
 */
export function toBackendName(value: string, source: string): BackendName {
  const name = BACKEND_NAMES.find((n) => n === value);
  if (name === undefined) {
    throw new RangeError(
      `Cannot select a backend as ${source} must be one of ${BACKEND_NAMES.join(", ")}: ` +
        `current value is "${value}"`,
    );
  }
  return name;
}

/**
 * Read `--backend X` or `--backend=X` from command-line arguments.
 *
 * @param args Command-line arguments, e.g. `Deno.args`.
 * @returns The backend named by the last `--backend` flag, or `undefined` when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBackendFlag } from "./select.ts";
 *
 * assert.equal(parseBackendFlag(["train", "--backend", "cpu"]), "cpu");
 * assert.equal(parseBackendFlag(["--backend=wasm"]), "wasm");
 * assert.equal(parseBackendFlag(["train"]), undefined);
 * ```
 */
export function parseBackendFlag(args: readonly string[]): BackendName | undefined {
  let found: BackendName | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--backend") {
      const value = args[i + 1];
      if (value === undefined || value.startsWith("--")) {
        throw new TypeError(
          `Cannot read --backend as it has no value: pass one of ${BACKEND_NAMES.join(", ")}`,
        );
      }
      found = toBackendName(value, "--backend");
      i++;
    } else if (arg.startsWith("--backend=")) {
      found = toBackendName(arg.slice("--backend=".length), "--backend");
    }
  }
  return found;
}

/**
 * Read an environment variable without prompting and without failing when `--allow-env` is
 * missing.
 *
 * @param name The variable.
 * @returns Its value, or `undefined` when unset or not readable.
 *
 * @example
 * ```ts
 * import { readEnv } from "./select.ts";
 *
 * const forced = readEnv("ELBO_BACKEND"); // undefined without --allow-env
 * console.log(forced ?? "auto");
 * ```
 */
export function readEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The start-up line: backend, threads, SIMD, native BLAS and the WebGPU adapter.
 *
 * @param info The selected backend.
 * @returns One line, e.g. `elbo: backend wasm (SIMD, 1 thread, native BLAS libopenblas.so.0); webgpu adapter: llvmpipe (…), software fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBackendInfo } from "./select.ts";
 *
 * const line = formatBackendInfo({
 *   name: "cpu", adapter: null, threads: 1, simd: false, native: null, notes: [],
 * });
 * assert.equal(line, "elbo: backend cpu (1 thread); webgpu adapter: none");
 * ```
 */
export function formatBackendInfo(info: BackendInfo): string {
  const parts: string[] = [];
  if (info.simd) parts.push("SIMD");
  parts.push(`${info.threads} thread${info.threads === 1 ? "" : "s"}`);
  if (info.native !== null) parts.push(`native BLAS ${info.native}`);
  const adapter = info.adapter === null
    ? "none"
    : `${info.adapter.description}, ${info.adapter.isFallback ? "software fallback" : "hardware"}`;
  return `elbo: backend ${info.name} (${parts.join(", ")}); webgpu adapter: ${adapter}`;
}

/** `navigator.hardwareConcurrency`, or 1 when unknown. */
function defaultThreads(): number {
  const n = globalThis.navigator?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? n : 1;
}

/** The message of any thrown value. */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Start `name` and make it tfjs's active backend; throws the real start-up error. */
async function start(
  name: BackendName,
  threads: number,
  wasmKernels: boolean,
): Promise<Pick<BackendInfo, "threads" | "simd" | "notes">> {
  switch (name) {
    case "webgpu": {
      await import("@tensorflow/tfjs-backend-webgpu");
      registerWebGpuBackend((line) => console.error(line)); // device loss: always reported
      const make = tf.findBackendFactory("webgpu");
      if (make === null) throw new Error("Cannot start the webgpu backend as it is not registered");
      const instance = await make(); // throws the real error, unlike tf.setBackend
      tf.removeBackend("webgpu");
      tf.registerBackend("webgpu", () => instance, 3);
      if (!await tf.setBackend("webgpu")) {
        throw new Error("Cannot start the webgpu backend: tf.setBackend('webgpu') returned false");
      }
      return { threads: 1, simd: false, notes: [] };
    }
    case "wasm":
      return await startWasm({ threads, kernels: wasmKernels });
    case "cpu":
      if (!await tf.setBackend("cpu")) {
        throw new Error("Cannot start the cpu backend: tf.setBackend('cpu') returned false");
      }
      return { threads: 1, simd: false, notes: [] };
    default: {
      const never: never = name;
      throw new RangeError(`Unknown backend: ${never}`);
    }
  }
}

/** Whether the native BLAS path is wanted (the `native` option, else `ELBO_NATIVE`), and which library. */
function nativeWanted(
  options: BackendOptions,
): { wanted: boolean; why: string; library: string | undefined } {
  if (options.native !== undefined) {
    return {
      wanted: options.native,
      why: `the 'native' option is ${options.native}`,
      library: undefined,
    };
  }
  const env = readEnv(NATIVE_ENV)?.trim();
  if (env === undefined || env === "" || ["1", "on", "true", "yes"].includes(env.toLowerCase())) {
    return { wanted: true, why: "", library: undefined };
  }
  if (["0", "off", "false", "no"].includes(env.toLowerCase())) {
    return { wanted: false, why: `${NATIVE_ENV}=${env}`, library: undefined };
  }
  return { wanted: true, why: "", library: env }; // a library name or path
}

/** Pick and start a backend (see {@linkcode initBackend}). */
async function select(
  options: BackendOptions,
  forced: BackendName | undefined,
): Promise<BackendInfo> {
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Cannot start the backend as 'threads' must be a positive integer: current value is ${threads}`,
    );
  }
  const wasmKernels = options.wasmKernels ?? true;
  const lines: string[] = [];
  const say = (line: string): void => {
    if (options.quiet !== true) console.error(line);
  };
  const fallBack = (line: string): void => {
    lines.push(line);
    say(line);
  };
  tf.env().set("PROD", true); // silences the "use tfjs-node" banner and tfjs's console warnings

  // Native BLAS is looked for before wasm starts: with it, wasm runs 1 thread.
  const wanted = nativeWanted(options);
  let probe: NativeBlasProbe | null = null;
  const launch = (name: BackendName) => {
    if (name !== "webgpu" && wanted.wanted && probe === null) {
      probe = findNativeBlas(wanted.library === undefined ? {} : { library: wanted.library });
    }
    const nativeOn = (probe as NativeBlasProbe | null)?.library != null;
    return start(name, name === "wasm" && nativeOn ? 1 : threads, wasmKernels);
  };

  let name: BackendName;
  let adapter: AdapterInfo | null = null;
  let started: Pick<BackendInfo, "threads" | "simd" | "notes">;
  if (forced !== undefined) {
    name = forced;
    try {
      if (forced === "webgpu") adapter = await probeWebGpu();
      started = await launch(forced);
    } catch (e) {
      throw new Error(
        `Cannot start the forced backend '${forced}': ${messageOf(e)}. Choose another with ` +
          `--backend or ${BACKEND_ENV}, or drop the choice to let elbo pick`,
        { cause: e },
      );
    }
  } else {
    try {
      adapter = await probeWebGpu();
    } catch (e) {
      lines.push(`webgpu probe failed: ${messageOf(e)}`);
    }
    name = "wasm";
    if (adapter !== null && adapter.isFallback) {
      fallBack(`elbo: webgpu adapter is a software fallback (${adapter.description}); using wasm`);
    } else if (adapter !== null) {
      name = "webgpu";
    }
    started = { threads: 1, simd: false, notes: [] };
    if (name === "webgpu") {
      try {
        started = await launch("webgpu");
      } catch (e) {
        fallBack(
          `elbo: webgpu failed to start on ${adapter?.description} (${messageOf(e)}); using wasm`,
        );
        name = "wasm";
      }
    }
    if (name === "wasm") {
      try {
        started = await launch("wasm");
      } catch (e) {
        fallBack(`elbo: wasm failed to start (${messageOf(e)}); using cpu (20-30x slower)`);
        name = "cpu";
        started = await launch("cpu");
      }
    }
  }

  // Native BLAS (native_blas.ts): registered after the backend and its own kernel fixes.
  let native: string | null = null;
  const nativeNotes: string[] = [];
  if (name !== "webgpu") {
    const found = probe as NativeBlasProbe | null;
    if (!wanted.wanted) {
      nativeNotes.push(`native BLAS off: ${wanted.why}`);
    } else if (found === null || found.library === null) {
      fallBack(
        `elbo: no native BLAS (${found?.reason ?? "not probed"}); ${name} keeps its own matmul`,
      );
    } else {
      const nb = enableNativeBlas(name, { library: found.library, threads });
      if (nb.enabled) {
        native = nb.library;
        nativeNotes.push(
          `native BLAS: ${nb.library} (${found.vendor}), ${threads} BLAS thread` +
            `${threads === 1 ? "" : "s"}${name === "wasm" ? "; wasm runs 1 thread beside it" : ""}`,
        );
      } else {
        fallBack(`elbo: no native BLAS (${nb.reason}); ${name} keeps its own matmul`);
      }
    }
  }

  const info: BackendInfo = {
    name,
    adapter,
    threads: started.threads,
    simd: started.simd,
    native,
    notes: [...lines, ...started.notes, ...nativeNotes],
  };
  say(formatBackendInfo(info));
  return info;
}

/**
 * Choose, start and activate the tfjs backend for this process (once).
 *
 * Order: an explicit `backend` option, else `ELBO_BACKEND`, else automatic: webgpu when
 * `navigator.gpu` gives a hardware adapter, else wasm, else cpu. An automatic fallback prints one
 * line saying why; a forced backend that cannot start throws. On wasm and cpu, matmuls run on
 * OpenBLAS through Deno FFI when `--allow-ffi` is granted and the library is found (wasm then
 * runs 1 thread; `native: false` or `ELBO_NATIVE=0` turns it off); otherwise one line says why.
 * Unless `quiet`, one start-up line on stderr names the backend, threads, SIMD, native BLAS and
 * adapter. Later calls return the same record;
 * asking for a different backend then throws (choose the backend once per process).
 *
 * @param options Backend to force, wasm threads, quiet.
 * @returns The record of what runs, for the run config.
 *
 * @example Use the pure-JS backend (e.g. in a small test)
 * ```ts
 * import { initBackend } from "./select.ts";
 *
 * const info = await initBackend({ backend: "cpu", quiet: true });
 * console.log(info.name); // "cpu"
 * ```
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const fromEnv = readEnv(BACKEND_ENV);
  const forced = options.backend ??
    (fromEnv === undefined || fromEnv === "" ? undefined : toBackendName(fromEnv, BACKEND_ENV));
  if (chosen === null) {
    chosen = select(options, forced).then((info) => (chosenInfo = info));
    chosen.catch(() => (chosen = null)); // a failed start may be retried with another choice
  }
  const info = await chosen;
  if (options.backend !== undefined && options.backend !== info.name) {
    throw new Error(
      `Cannot switch to backend '${options.backend}' as this process already runs ` +
        `'${info.name}': the backend is chosen once per process; start a new process with ` +
        `--backend ${options.backend}`,
    );
  }
  return info;
}

/** Options of {@linkcode setBackend}: those of {@linkcode initBackend} except `backend`. */
export type SetBackendOptions = Omit<BackendOptions, "backend">;

/**
 * Select backend `name` through {@linkcode initBackend} (the framework's `setBackend`): it must
 * start, and it must be the only backend this process uses.
 *
 * @param name The backend to force.
 * @param options wasm threads, quiet.
 * @returns The record of what runs.
 *
 * @example
 * ```ts
 * import { setBackend } from "./select.ts";
 *
 * const info = await setBackend("cpu", { quiet: true });
 * console.log(info.threads); // 1
 * ```
 */
export async function setBackend(
  name: BackendName,
  options: SetBackendOptions = {},
): Promise<BackendInfo> {
  return await initBackend({ ...options, backend: toBackendName(name, "setBackend(name)") });
}

/**
 * The backend chosen by {@linkcode initBackend}, or `null` before it finished.
 *
 * @returns The record, or `null`.
 *
 * @example
 * ```ts
 * import { getBackendInfo } from "./select.ts";
 *
 * console.log(getBackendInfo()?.name ?? "not chosen yet");
 * ```
 */
export function getBackendInfo(): BackendInfo | null {
  return chosenInfo;
}
