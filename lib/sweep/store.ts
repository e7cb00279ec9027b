/**
 * Run folder IO: atomic writes, `config.yaml`, `status.json`, `metrics.jsonl`, `eval.json`.
 *
 * Every write goes through a {@linkcode SweepFs}, so a test can inject a failing writer (a full
 * disk). A write that fails becomes a {@linkcode StoreWriteError} naming the path and the fix; it
 * stops the sweep, since the next run would fail the same way.
 *
 * @module
 */

import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { stringify } from "yaml";
import type { Json } from "./types.ts";

/** The file operations the sweep engine writes with. */
export interface SweepFs {
  /** Writes (or appends) bytes; `sync` flushes them to the disk before returning. */
  writeFile(path: string, data: Uint8Array, options?: WriteOptions): Promise<void>;
  /** Renames a file (atomically replacing `to`). */
  rename(from: string, to: string): Promise<void>;
  /** Creates a folder and its parents. */
  mkdir(path: string): Promise<void>;
  /** Removes a file or folder (recursively). */
  remove(path: string): Promise<void>;
}

/** Options of {@linkcode SweepFs.writeFile}. */
export interface WriteOptions {
  /**
   * Append instead of replacing.
   * @default {false}
   */
  append?: boolean;
  /**
   * Flush the data to the disk (fsync) before returning.
   * @default {false}
   */
  sync?: boolean;
}

/**
 * The real file system (Deno APIs).
 *
 * @returns A {@linkcode SweepFs} backed by `Deno.open`, `Deno.rename`, `Deno.mkdir`, `Deno.remove`.
 *
 * @example
 * ```ts ignore
 * import { denoFs } from "./store.ts";
 * await denoFs().mkdir("runs/demo");
 * ```
 */
export function denoFs(): SweepFs {
  return {
    async writeFile(path, data, options = {}) {
      const append = options.append ?? false;
      const file = await Deno.open(path, { write: true, create: true, append, truncate: !append });
      try {
        let done = 0;
        while (done < data.length) done += await file.write(data.subarray(done));
        if (options.sync) await file.syncData();
      } finally {
        file.close();
      }
    },
    rename: (from, to) => Deno.rename(from, to),
    mkdir: (path) => Deno.mkdir(path, { recursive: true }),
    remove: (path) => Deno.remove(path, { recursive: true }),
  };
}

/**
 * A write under the runs folder failed (disk full, permission); the sweep stops.
 *
 * @example
 * ```ts
 * import { StoreWriteError } from "./store.ts";
 * const err = new StoreWriteError("runs/x/status.json", new Error("No space left on device (os error 28)"));
 * err.message.includes("free disk space"); // true
 * ```
 */
export class StoreWriteError extends Error {
  /** The file that could not be written. */
  readonly path: string;
  /**
   * Creates the error.
   *
   * @param path The file that could not be written.
   * @param cause The underlying error.
   */
  constructor(path: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const full = /no space|ENOSPC|os error 28|quota/i.test(why);
    const denied = cause instanceof Deno.errors.NotCapable ||
      cause instanceof Deno.errors.PermissionDenied;
    const fix = full
      ? "free disk space, then run the same command again: finished runs are kept and unfinished ones resume from their last checkpoint"
      : denied
      ? "give write access to the runs folder (--allow-write=runs) or choose another one with --runs-dir"
      : "check the disk and the folder, then run the same command again: it resumes where it stopped";
    super(`Cannot write ${path}: ${why}. Fix: ${fix}`, { cause });
    this.name = "StoreWriteError";
    this.path = path;
  }
}

const encoder = new TextEncoder();

/**
 * Writes a file atomically: a temporary file in the same folder, flushed, then renamed over the
 * target, so a reader (or a crash) sees the old or the new content, never a mix.
 *
 * @param fs The file system.
 * @param path The target file (its folder is created).
 * @param data The content.
 * @returns Nothing; throws {@linkcode StoreWriteError} when a step fails (no temporary file is left).
 *
 * @example
 * ```ts ignore
 * import { denoFs, writeAtomic } from "./store.ts";
 * await writeAtomic(denoFs(), "runs/demo/eval.json", "{}");
 * ```
 */
export async function writeAtomic(
  fs: SweepFs,
  path: string,
  data: Uint8Array | string,
): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    await fs.mkdir(dirname(path));
    await fs.writeFile(tmp, typeof data === "string" ? encoder.encode(data) : data, { sync: true });
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err instanceof StoreWriteError ? err : new StoreWriteError(path, err);
  }
}

/** The state of a run or a training. */
export type RunState = "queued" | "running" | "done" | "failed";

/** `status.json` of a run or training folder. */
export interface RunStatus {
  /** Where it stands. */
  state: RunState;
  /** The last training step reached (for a run: the step of the checkpoint it evaluated). */
  step: number;
  /** Why it failed (only when `failed`). */
  error?: string;
  /** When the last attempt started (ISO time), or `null` while queued. */
  startedAt: string | null;
  /** When it finished or failed (ISO time), or `null`. */
  finishedAt: string | null;
  /** For a run: the training folder it was evaluated from (`train-<hash>`). */
  trainedBy?: string;
}

/** One line of `metrics.jsonl`: the step and the logged values. */
export type MetricsLine = { step: number } & Record<string, number>;

/** Files the engine owns; `ctx.writeFile` refuses them. */
const RESERVED = new Set([
  "config.yaml",
  "status.json",
  "metrics.jsonl",
  "eval.json",
  "checkpoint",
]);

/**
 * One run or training folder and the files the engine keeps in it.
 *
 * @example
 * ```ts ignore
 * import { RunDir } from "./store.ts";
 * const dir = new RunDir("runs/demo/0123456789");
 * await dir.writeStatus({ state: "queued", step: 0, startedAt: null, finishedAt: null });
 * ```
 */
export class RunDir {
  /** The folder. */
  readonly path: string;
  /** The file system it writes with. */
  readonly fs: SweepFs;

  /**
   * Refers to a folder; nothing is written until a method is called.
   *
   * @param path The folder.
   * @param fs The file system.
   */
  constructor(path: string, fs: SweepFs = denoFs()) {
    this.path = path;
    this.fs = fs;
  }

  /**
   * The path of a file inside the folder; refuses paths that leave it and files the engine owns.
   *
   * @param rel A relative path such as `samples/grid.png`.
   * @returns The joined path.
   */
  resolve(rel: string): string {
    const clean = normalize(rel);
    const inside = !isAbsolute(rel) && clean !== ".." && !clean.startsWith(`..${sep}`) &&
      clean !== ".";
    if (!inside) {
      throw new RangeError(
        `Cannot write ${
          JSON.stringify(rel)
        } as it is outside the run folder ${this.path}: use a relative path like samples/grid.png`,
      );
    }
    const top = clean.split(sep)[0] ?? clean;
    if (RESERVED.has(top)) {
      throw new RangeError(
        `Cannot write ${JSON.stringify(rel)} as the sweep engine owns it: pick another name`,
      );
    }
    return join(this.path, clean);
  }

  /**
   * Writes a file inside the folder atomically.
   *
   * @param rel A relative path (see {@linkcode RunDir.resolve}).
   * @param data The content.
   */
  async writeFile(rel: string, data: Uint8Array | string): Promise<void> {
    await writeAtomic(this.fs, this.resolve(rel), data);
  }

  /**
   * Writes `config.yaml` (a YAML record with a header comment).
   *
   * @param record Every resolved value, the code version, the backend.
   */
  async writeConfig(record: Record<string, Json>): Promise<void> {
    const header =
      "# Written by `elbo sweep` before the run started. Do not edit: the run id is a\n" +
      "# hash of `config` and `codeVersion`.\n";
    const yaml = stringify(record, { aliasDuplicateObjects: false });
    await writeAtomic(this.fs, join(this.path, "config.yaml"), header + yaml);
  }

  /**
   * Reads `status.json`.
   *
   * @returns The status, or `null` when the folder has none yet.
   */
  async readStatus(): Promise<RunStatus | null> {
    const path = join(this.path, "status.json");
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    let status: unknown;
    try {
      status = JSON.parse(text);
    } catch {
      status = null;
    }
    const state = (status as { state?: unknown } | null)?.state;
    if (state !== "queued" && state !== "running" && state !== "done" && state !== "failed") {
      throw new TypeError(
        `Cannot read ${path} as it is not a valid status: delete it and run the sweep again (the run restarts from its last checkpoint)`,
      );
    }
    return status as RunStatus;
  }

  /**
   * Writes `status.json` atomically.
   *
   * @param status The new status.
   */
  async writeStatus(status: RunStatus): Promise<void> {
    const { state, step, error, startedAt, finishedAt, trainedBy } = status;
    const ordered = { state, step, error, startedAt, finishedAt, trainedBy }; // undefined: left out
    await writeAtomic(this.fs, join(this.path, "status.json"), JSON.stringify(ordered, null, 2));
  }

  /**
   * Reads `metrics.jsonl`, ignoring a torn last line left by a crash.
   *
   * @returns The lines in file order.
   */
  async readMetrics(): Promise<MetricsLine[]> {
    let text: string;
    try {
      text = await Deno.readTextFile(join(this.path, "metrics.jsonl"));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
    const lines: MetricsLine[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const parsed = JSON.parse(line) as MetricsLine;
        if (typeof parsed.step === "number") lines.push(parsed);
      } catch {
        // a line cut short by a crash; resume drops it
      }
    }
    return lines;
  }

  /**
   * Keeps only the metrics lines up to `maxStep` (in increasing step order), rewriting the file
   * atomically; used before a training resumes from the checkpoint at `maxStep`.
   *
   * @param maxStep The last step to keep (`-1` keeps nothing).
   * @returns The last kept step, or `-1` when none is kept.
   */
  async truncateMetrics(maxStep: number): Promise<number> {
    const kept: MetricsLine[] = [];
    let last = -1;
    for (const line of await this.readMetrics()) {
      if (line.step > maxStep || line.step <= last) continue;
      kept.push(line);
      last = line.step;
    }
    const text = kept.map((l) => JSON.stringify(l) + "\n").join("");
    await writeAtomic(this.fs, join(this.path, "metrics.jsonl"), text);
    return last;
  }

  /**
   * Appends one line to `metrics.jsonl` (the caller checks the step order).
   *
   * @param line The step and its values.
   */
  async appendMetrics(line: MetricsLine): Promise<void> {
    const path = join(this.path, "metrics.jsonl");
    try {
      await this.fs.writeFile(path, encoder.encode(JSON.stringify(line) + "\n"), { append: true });
    } catch (err) {
      throw new StoreWriteError(path, err);
    }
  }

  /**
   * Writes `eval.json` atomically.
   *
   * @param metrics The final metrics.
   */
  async writeEval(metrics: Record<string, number | number[]>): Promise<void> {
    await writeAtomic(this.fs, join(this.path, "eval.json"), JSON.stringify(metrics, null, 2));
  }

  /**
   * Reads `eval.json`.
   *
   * @returns The metrics, or `null` when there are none yet.
   */
  async readEval(): Promise<Record<string, number | number[]> | null> {
    try {
      return JSON.parse(await Deno.readTextFile(join(this.path, "eval.json")));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /**
   * Removes temporary files (`*.tmp`) a killed process left in the folder and its subfolders.
   *
   * @returns How many were removed.
   */
  async removeTempFiles(): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return;
        throw err;
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory) await walk(path);
        else if (e.name.endsWith(".tmp")) {
          await this.fs.remove(path).catch(() => {});
          removed++;
        }
      }
    };
    await walk(this.path);
    return removed;
  }
}
