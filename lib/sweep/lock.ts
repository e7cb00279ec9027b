/**
 * One sweep at a time per experiment folder: `runs/<experiment>/.lock`.
 *
 * The lock is an exclusive `flock` on the lock file, so the kernel releases it when its process
 * dies, even by SIGKILL: a stale lock never blocks a restart, and liveness needs no `/proc`
 * access or `--allow-run`. The file holds the holder's pid, host and start time, for the message
 * a second sweep prints.
 *
 * @module
 */

import { join } from "node:path";
import { SweepInputError } from "./types.ts";

/** What the lock file says about its holder. */
export interface LockInfo {
  /** The holder's process id. */
  pid: number;
  /** The holder's host name (`"unknown"` without `--allow-sys=hostname`). */
  hostname: string;
  /** When it took the lock (ISO time). */
  startedAt: string;
  /** Its command line, for the message. */
  command: string;
}

/** A held lock. */
export interface SweepLock {
  /** The lock file. */
  readonly path: string;
  /** The previous holder, when it died without releasing (a stale lock taken over). */
  readonly stale: LockInfo | null;
  /** Releases the lock and removes the file. */
  release(): Promise<void>;
}

/**
 * Another live process holds the lock.
 *
 * @example
 * ```ts
 * import { LockHeldError } from "./lock.ts";
 * const err = new LockHeldError("runs/x/.lock", null);
 * err instanceof Error; // true
 * ```
 */
export class LockHeldError extends SweepInputError {
  /** The lock file. */
  readonly path: string;
  /** What the lock file says about the holder (null if unreadable). */
  readonly holder: LockInfo | null;
  /**
   * Creates the error.
   *
   * @param path The lock file.
   * @param holder The holder.
   */
  constructor(path: string, holder: LockInfo | null) {
    const who = holder
      ? `pid ${holder.pid} on ${holder.hostname}, started ${holder.startedAt}: ${holder.command}`
      : "another process";
    super(
      `Cannot start the sweep as another sweep holds ${path} (${who}). Fix: wait for it to finish, or stop it; a killed sweep releases the lock by itself`,
    );
    this.name = "LockHeldError";
    this.path = path;
    this.holder = holder;
  }
}

/** Options of {@linkcode acquireLock}. */
export interface AcquireLockOptions {
  /**
   * The command line recorded in the lock file.
   * @default {"elbo sweep"}
   */
  command?: string;
}

/**
 * Takes the sweep lock of an experiment folder, or throws {@linkcode LockHeldError}.
 *
 * @param dir The experiment folder (`runs/<experiment>`), which must exist.
 * @param options The command to record.
 * @returns The held lock; call `release()` when done.
 *
 * @example
 * ```ts ignore
 * import { acquireLock } from "./lock.ts";
 * const lock = await acquireLock("runs/demo");
 * try {
 *   // … run the sweep …
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export async function acquireLock(
  dir: string,
  options: AcquireLockOptions = {},
): Promise<SweepLock> {
  const path = join(dir, ".lock");
  for (let attempt = 0; attempt < 5; attempt++) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    if (!(await file.tryLock(true))) {
      file.close();
      throw new LockHeldError(path, await readInfo(path));
    }
    // A holder that is releasing may have unlinked the file we opened: lock the file at the path.
    const onDisk = await Deno.stat(path).catch(() => null);
    if (onDisk?.ino !== (await file.stat()).ino) {
      file.close();
      continue;
    }
    const stale = await readInfo(path);
    const info: LockInfo = {
      pid: Deno.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      command: options.command ?? "elbo sweep",
    };
    await file.truncate(0);
    await file.write(new TextEncoder().encode(JSON.stringify(info, null, 2) + "\n"));
    let released = false;
    return {
      path,
      stale,
      async release() {
        if (released) return;
        released = true;
        await Deno.remove(path).catch(() => {});
        file.close(); // closing drops the flock
      },
    };
  }
  throw new LockHeldError(path, await readInfo(path));
}

async function readInfo(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await Deno.readTextFile(path)) as LockInfo;
    return typeof info.pid === "number" ? info : null;
  } catch {
    return null;
  }
}

/** The host name, without a permission prompt: `"unknown"` unless `--allow-sys=hostname`. */
function hostname(): string {
  try {
    const granted = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state;
    return granted === "granted" ? Deno.hostname() : "unknown";
  } catch {
    return "unknown";
  }
}
