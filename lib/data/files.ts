/**
 * File-system helpers shared by the loaders.
 *
 * @module
 */

/**
 * Tells whether a path exists (needs `--allow-read` for it).
 *
 * @param path The path.
 * @returns `true` when `Deno.stat` succeeds, `false` when it reports NotFound.
 *
 * @example Check a path
 * ```ts
 * import { fileExists } from "./files.ts";
 * console.log(await fileExists("/definitely/not/here")); // false
 * ```
 */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
