/** Shared helpers of the sweep tests. */

import { fileURLToPath } from "node:url";
import { main } from "../../lib/sweep/cli.ts";
import type { SweepFs } from "../../lib/sweep/store.ts";

/** A fixture experiment's path (relative to the repository root's absolute path). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
}

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** What one CLI call printed and returned. */
export interface CliCall {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process with captured output (progress silenced). */
export async function cli(
  args: string[],
  options: { fs?: SweepFs; signal?: AbortSignal; experimentsDir?: string } = {},
): Promise<CliCall> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    progress: { tty: false, write: () => {} },
    ...options,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A fresh temporary folder. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "elbo-sweep-test-" });
}

/** Every path (files and folders) under a folder, relative, sorted; [] when it does not exist. */
export async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string): Promise<void> => {
    for await (const e of Deno.readDir(d)) {
      const rel = prefix + e.name;
      out.push(rel);
      if (e.isDirectory) await walk(`${d}/${e.name}`, `${rel}/`);
    }
  };
  try {
    await walk(dir, "");
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

/** Reads a JSON file. */
export async function readJson<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}
