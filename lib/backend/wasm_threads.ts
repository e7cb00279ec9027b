/**
 * Multi-threaded tfjs-wasm under Deno.
 *
 * tfjs-backend-wasm 4.22 runs single-threaded in Deno for three reasons (ecosystem.md §1,
 * bench/RESULTS.md §4.2):
 *
 * 1. `WASM_HAS_MULTITHREAD_SUPPORT` is `false` whenever tfjs sees Node (Deno exposes `process`);
 * 2. Emscripten's Node path starts `worker_threads` Workers from `blob:` URLs, which Deno rejects
 *    (`ERR_WORKER_PATH`);
 * 3. the XNNPACK pool size is read from `os.cpus()`, which needs `--allow-sys` in Deno.
 *
 * The shim forces the flag, captures the two scripts tfjs builds as Blobs (the pthread worker and
 * the module factory), writes them once to content-addressed `.cjs` files under
 * `runs/.cache/wasm-threads/` and hands Emscripten those absolute paths instead of `blob:` URLs.
 * The worker script is patched for Deno (getter-only `self`/`location`, and it loads the factory
 * from its file). While the backend starts, `os.cpus()` reports `threads` cores, without needing
 * `--allow-sys`. All global patches are undone by the returned `restore()`.
 *
 * This depends on tfjs-backend-wasm 4.22 internals; the version is pinned in deno.json.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import os from "node:os";

/** Emscripten's pthread pool in the 4.22 build pre-spawns this many workers at start-up. */
export const WASM_MAX_THREADS = 8;

/** Options for {@linkcode prepareWasmThreads}. */
export interface WasmThreadsOptions {
  /**
   * Folder for the generated `.cjs` scripts (must be writable and readable).
   * @default {"<repo>/runs/.cache/wasm-threads"}
   */
  cacheDir?: string;
}

/** What {@linkcode prepareWasmThreads} did: call `restore()` once the wasm backend has started. */
export interface WasmThreadsShim {
  /** Threads that tfjs-wasm will be asked for (1 when the shim could not be installed). */
  threads: number;
  /** Why threads are off (or were reduced), or `null` when the request was honoured. */
  reason: string | null;
  /** Folder where the worker scripts live, or `null` when the shim is not installed. */
  cacheDir: string | null;
  /** Undo the global patches (Blob, URL.createObjectURL, os.cpus). Idempotent. */
  restore: () => void;
}

/** The default script folder: `runs/.cache/wasm-threads` under the repository root. */
function defaultCacheDir(): string {
  return new URL("../../runs/.cache/wasm-threads", import.meta.url).pathname;
}

/** Whether this process may read and write `dir` without prompting. */
function canUse(dir: string): boolean {
  try {
    const write = Deno.permissions.querySync({ name: "write", path: dir }).state;
    const read = Deno.permissions.querySync({ name: "read", path: dir }).state;
    return write === "granted" && read === "granted";
  } catch {
    return false;
  }
}

/** Write `text` to `dir/<prefix>-<sha256>.cjs` once (atomically) and return the absolute path. */
function writeOnce(dir: string, prefix: string, text: string): string {
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const path = `${dir}/${prefix}-${hash}.cjs`;
  try {
    Deno.statSync(path);
    return path;
  } catch {
    // not there yet: write it below
  }
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, text);
  Deno.renameSync(tmp, path); // atomic: concurrent processes write identical bytes
  return path;
}

/** The Node modules the rollup bundle hoisted out of the factory, for the worker's copy. */
const FACTORY_PRELUDE = 'var require$$0=require("fs"),require$$1=require("path"),' +
  'require$$3=require("perf_hooks"),' +
  "require$$4={cpus:()=>Array.from({length:(globalThis.navigator&&navigator.hardwareConcurrency)||1})}," +
  "commonjsGlobal=globalThis;\n";

/** Patch the Emscripten pthread worker script so that it runs as a Deno `worker_threads` Worker. */
function patchWorker(text: string, factoryPath: string): string {
  const assign = "Object.assign(global,";
  const load =
    /if\(typeof e\.data\.urlOrBlob=="string"\)\{importScripts\(e\.data\.urlOrBlob\)\}else\{[^}]*\}/;
  if (!text.includes(assign) || !load.test(text)) {
    throw new Error(
      "Cannot patch the tfjs-wasm pthread worker as its text is not the 4.22 one: pin " +
        "@tensorflow/tfjs-backend-wasm to 4.22.0 or run with threads: 1",
    );
  }
  return text
    // Deno's worker global has getter-only `self` and `location`: assign what can be assigned.
    .replace(assign, "((g,o)=>{for(const k in o){try{g[k]=o[k]}catch(_){}}})(global,")
    // Load the module factory from its file instead of from a Blob.
    .replace(load, `importScripts(${JSON.stringify(factoryPath)});`);
}

/**
 * Install the wasm-threads shim before `tf.setBackend("wasm")`; call `restore()` after it.
 *
 * Falls back to 1 thread (with a reason) when `threads` is 1 or the script folder is not writable
 * (grant `--allow-write=runs`). At most {@linkcode WASM_MAX_THREADS} threads are used.
 *
 * @param threads XNNPACK threads wanted (a positive integer).
 * @param options Where the generated scripts go.
 * @returns The thread count that will be used, why it differs from the request, and `restore`.
 *
 * @example Start wasm with 2 threads (1 without `--allow-write=runs`)
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
 * import { prepareWasmThreads } from "./wasm_threads.ts";
 *
 * const shim = prepareWasmThreads(2);
 * setThreadsCount(shim.threads);
 * try {
 *   await tf.setBackend("wasm");
 * } finally {
 *   shim.restore();
 * }
 * console.log(shim.threads, shim.reason);
 * ```
 */
export function prepareWasmThreads(
  threads: number,
  options: WasmThreadsOptions = {},
): WasmThreadsShim {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Cannot start wasm threads as 'threads' must be a positive integer: current value is ${threads}`,
    );
  }
  const off = (reason: string | null): WasmThreadsShim => {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    return { threads: 1, reason, cacheDir: null, restore: () => {} };
  };
  if (threads === 1) return off(null);
  const dir = options.cacheDir ?? defaultCacheDir();
  if (!canUse(dir)) {
    return off(`threads off: ${dir} is not writable (grant --allow-write=runs)`);
  }
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (e) {
    return off(`threads off: cannot create ${dir} (${(e as Error).message})`);
  }
  const n = Math.min(threads, WASM_MAX_THREADS);
  const reason = n < threads ? `threads capped at ${WASM_MAX_THREADS} (Emscripten pool)` : null;

  // 1) Record the text of the string-only Blobs tfjs builds while the backend starts.
  const OrigBlob = globalThis.Blob;
  const texts = new WeakMap<Blob, string>();
  let factoryPath: string | null = null;
  class TextBlob extends OrigBlob {
    constructor(parts?: BlobPart[], opts?: BlobPropertyBag) {
      super(parts, opts);
      if (parts !== undefined && parts.every((p) => typeof p === "string")) {
        const text = parts.join("");
        texts.set(this, text);
        if (text.startsWith("var WasmBackendModuleThreadedSimd")) {
          factoryPath = writeOnce(dir, "factory", FACTORY_PRELUDE + text);
        }
      }
    }
  }
  globalThis.Blob = TextBlob;

  // 2) Hand Emscripten a file path instead of a blob: URL for the worker script.
  const origCreate = URL.createObjectURL;
  URL.createObjectURL = (obj: Blob): string => {
    const text = obj instanceof OrigBlob ? texts.get(obj) : undefined;
    if (text === undefined || !text.includes("ENVIRONMENT_IS_PTHREAD") || factoryPath === null) {
      return origCreate.call(URL, obj);
    }
    return writeOnce(dir, "worker", patchWorker(text, factoryPath));
  };

  // 3) tfjs caps XNNPACK at cores / 2 (it assumes SMT pairs), read through os.cpus() (needs
  //    --allow-sys in Deno): report 2n cores while the backend starts.
  const origCpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * n }, () => origCpusShape());

  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    globalThis.Blob = OrigBlob;
    URL.createObjectURL = origCreate;
    os.cpus = origCpus;
  };
  return { threads: n, reason, cacheDir: dir, restore };
}

/** A `CpuInfo` record; only the array length is read by Emscripten. */
function origCpusShape(): os.CpuInfo {
  return { model: "", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
}
