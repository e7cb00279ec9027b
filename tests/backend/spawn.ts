/**
 * Run a worker script in a fresh `deno run` process (the backend is chosen once per process).
 * Tests that use it need `--allow-run=deno`.
 *
 * @module
 */

/** The repository root (the workers' cwd, so `--allow-write=runs` means `<repo>/runs`). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/** Permissions a worker gets unless a test says otherwise (those the project's tasks grant). */
export const DEFAULT_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write=runs",
  "--allow-env",
];

/** Options of {@linkcode runWorker}. */
export interface RunWorkerOptions {
  /**
   * `deno run` permission flags.
   * @default {DEFAULT_PERMISSIONS}
   */
  permissions?: readonly string[];
  /**
   * Extra environment variables (`ELBO_BACKEND` is cleared unless given here).
   * @default {{}}
   */
  env?: Record<string, string>;
}

/** What a worker printed. */
export interface WorkerRun<T> {
  /** Exit code. */
  code: number;
  /** The JSON object on the last line of stdout. */
  json: T;
  /** Everything written to stderr (start-up and fallback lines). */
  stderr: string;
}

/**
 * Run `tests/backend/<script>` with `args` in a new Deno process and parse its last stdout line.
 *
 * @param script File name inside `tests/backend/`.
 * @param args Arguments after the script.
 * @param options Permissions and environment.
 * @returns Exit code, parsed JSON and stderr.
 *
 * @example
 * ```ts ignore
 * const run = await runWorker<{ info: unknown }>("select_worker.ts", ['{"backend":"cpu"}']);
 * ```
 */
export async function runWorker<T>(
  script: string,
  args: readonly string[],
  options: RunWorkerOptions = {},
): Promise<WorkerRun<T>> {
  const permissions = options.permissions ?? DEFAULT_PERMISSIONS;
  const out = await new Deno.Command("deno", {
    args: ["run", "--quiet", ...permissions, `tests/backend/${script}`, ...args],
    cwd: REPO_ROOT,
    env: { ELBO_BACKEND: "", NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr);
  const last = stdout.split("\n").at(-1) ?? "";
  let json: T;
  try {
    json = JSON.parse(last) as T;
  } catch {
    throw new Error(
      `Worker ${script} ${
        args.join(" ")
      } printed no JSON (exit ${out.code}):\n${stdout}\n${stderr}`,
    );
  }
  return { code: out.code, json, stderr };
}
