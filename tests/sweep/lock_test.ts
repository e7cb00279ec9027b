import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock, LockHeldError } from "../../lib/sweep/lock.ts";
import { tempDir } from "./_helpers.ts";

Deno.test("a second acquireLock() on a held folder fails with the holder's pid", async () => {
  const dir = await tempDir();
  const lock = await acquireLock(dir, { command: "deno task sweep a.ts" });
  await assert.rejects(acquireLock(dir), (err: unknown) => {
    assert.ok(err instanceof LockHeldError);
    assert.equal(err.holder?.pid, Deno.pid);
    assert.match(err.message, new RegExp(`another sweep holds .*\\.lock \\(pid ${Deno.pid} on `));
    assert.match(err.message, /deno task sweep a.ts/);
    return true;
  });
  await lock.release();
  const again = await acquireLock(dir);
  assert.equal(again.stale, null);
  await again.release();
  await assert.rejects(Deno.stat(join(dir, ".lock")), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a lock file left by a dead process does not block and is reported as stale", async () => {
  const dir = await tempDir();
  const dead = { pid: 999999, hostname: "h", startedAt: "2026-01-01T00:00:00Z", command: "x" };
  await Deno.writeTextFile(join(dir, ".lock"), JSON.stringify(dead)); // no flock: its holder died
  const lock = await acquireLock(dir);
  assert.deepEqual(lock.stale, dead);
  const info = JSON.parse(await Deno.readTextFile(join(dir, ".lock")));
  assert.equal(info.pid, Deno.pid);
  await lock.release();
  await Deno.remove(dir, { recursive: true });
});
