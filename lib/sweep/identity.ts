/**
 * Run identity: canonical JSON, short hashes, the code version, run ids and training ids.
 *
 * A run id is `shortHash(canonicalJson({ config, codeVersion }))`: the same resolved config on
 * the same code always gets the same folder, so a second invocation finds its finished runs.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config, Json } from "./types.ts";

/**
 * JSON with object keys sorted at every depth, so equal values give equal text.
 *
 * @param value A JSON value (numbers must be finite).
 * @returns The canonical JSON text.
 *
 * @example Key order does not matter
 * ```ts
 * import { canonicalJson } from "./identity.ts";
 * canonicalJson({ b: 1, a: [true, null] }) === canonicalJson({ a: [true, null], b: 1 }); // true
 * ```
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new RangeError(
        `Cannot hash a config as it holds a non-finite number: current value is ${value}`,
      );
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${
    keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`).join(",")
  }}`;
}

/**
 * The first 10 hex digits of the sha256 of a text.
 *
 * @param text The text to hash.
 * @returns 10 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { shortHash } from "./identity.ts";
 * shortHash("abc"); // "ba7816bf8f"
 * ```
 */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}

/**
 * The run id of a resolved config on a code version.
 *
 * @param config The fully resolved config.
 * @param codeVersion The code version (see {@linkcode codeVersion}).
 * @returns 10 hex digits.
 *
 * @example
 * ```ts
 * import { runId } from "./identity.ts";
 * runId({ lr: 0.1, seed: 0 }, "0123456789") === runId({ seed: 0, lr: 0.1 }, "0123456789"); // true
 * ```
 */
export function runId(config: Config, codeVersion: string): string {
  return shortHash(canonicalJson({ config, codeVersion }));
}

/**
 * The folder name of the training shared by runs with equal `trainKey`: `train-<hash>`.
 *
 * @param trainKey What determines training (`Experiment.trainKey(cfg)`).
 * @param codeVersion The code version.
 * @returns `"train-"` plus 10 hex digits.
 *
 * @example
 * ```ts
 * import { trainId } from "./identity.ts";
 * trainId({ lr: 0.1 }, "0123456789").startsWith("train-"); // true
 * ```
 */
export function trainId(trainKey: Json, codeVersion: string): string {
  return `train-${shortHash(canonicalJson({ trainKey, codeVersion }))}`;
}

/** Options of {@linkcode codeVersion}. */
export interface CodeVersionOptions {
  /**
   * The repository root holding `lib/` and `mod.ts`.
   * @default {the root of this checkout (two folders above lib/sweep/)}
   */
  root?: string;
}

const memo = new Map<string, string>();

/**
 * The code version: a short hash of `lib/**\/*.ts`, `mod.ts` and the experiment file (paths and
 * contents), computed once per process.
 *
 * @param experimentPath The experiment file.
 * @param options The repository root.
 * @returns 10 hex digits.
 *
 * @example
 * ```ts ignore
 * import { codeVersion } from "./identity.ts";
 * await codeVersion("experiments/cosine-vs-linear.ts"); // e.g. "3f9a0c21b7"
 * ```
 */
export async function codeVersion(
  experimentPath: string,
  options: CodeVersionOptions = {},
): Promise<string> {
  const root = options.root ?? fileURLToPath(new URL("../../", import.meta.url));
  const memoKey = `${root}\0${experimentPath}`;
  const known = memo.get(memoKey);
  if (known !== undefined) return known;
  const files = (await listTs(join(root, "lib"))).sort();
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${relative(root, file)}\0`).update(await Deno.readFile(file)).update("\0");
  }
  try {
    hash.update("mod.ts\0").update(await Deno.readFile(join(root, "mod.ts"))).update("\0");
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  hash.update("experiment\0").update(await Deno.readFile(experimentPath));
  const version = hash.digest("hex").slice(0, 10);
  memo.set(memoKey, version);
  return version;
}

async function listTs(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) out.push(...await listTs(path));
      else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}
