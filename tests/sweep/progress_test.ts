import assert from "node:assert/strict";
import { formatDuration, Progress } from "../../lib/sweep/progress.ts";

function clocked(tty: boolean, intervalMs = 10_000) {
  const writes: string[] = [];
  const clock = { t: 0 };
  const p = new Progress({ trainings: 2, evaluations: 2 }, {
    tty,
    now: () => clock.t,
    write: (s) => writes.push(s),
    intervalMs,
  });
  return { p, writes, clock };
}

Deno.test("plain mode prints at most one line per interval, with run and sweep ETA", () => {
  const { p, writes, clock } = clocked(false, 10_000);
  p.begin("train", "train-a");
  for (let step = 0; step <= 100; step++) {
    clock.t = step * 200; // 5 steps per second
    p.update(step, 100, { loss: 1 / (step + 1) });
  }
  assert.equal(writes.length, 2); // at 10 s and 20 s
  assert.ok(writes.every((w) => w.endsWith("\n") && !w.includes("\r")));
  assert.match(
    writes[0] ?? "",
    /^\[train 1\/2, eval 0\/2\] train-a step 50\/100 \(50%\) loss=0.01961 · run ETA 10s · sweep ETA 30s\+/,
  );
  p.end();
  p.begin("eval", "run-1");
  clock.t += 1000;
  p.end();
  p.begin("train", "train-b");
  clock.t += 1000;
  p.update(0, 100);
  clock.t += 10_000;
  p.update(50, 100);
  // This run: 10 s left. Sweep: 10 s + one eval of 1 s measured.
  assert.match(
    writes.at(-1) ?? "",
    /\[train 2\/2, eval 1\/2\] train-b step 50\/100 \(50%\) · run ETA 10s · sweep ETA 11s/,
  );
});

Deno.test("terminal mode redraws one line and keeps log lines clean", () => {
  const { p, writes, clock } = clocked(true);
  p.begin("train", "train-a");
  clock.t = 500;
  p.update(1, 10);
  clock.t = 1000;
  p.update(2, 10);
  assert.ok(writes.every((w) => w.startsWith("\r\x1b[2K")));
  const before = writes.length;
  const printed: string[] = [];
  p.logLine(() => printed.push("a log line"));
  assert.deepEqual(printed, ["a log line"]);
  assert.equal(writes[before], "\r\x1b[2K"); // erased before the log line …
  assert.ok((writes[before + 1] ?? "").startsWith("\r\x1b[2K[train 1/2")); // … and redrawn after
  p.end();
  assert.equal(writes.at(-1), "\r\x1b[2K");
});

Deno.test("terminal mode cuts the line to the terminal width so it never wraps", () => {
  const writes: string[] = [];
  const p = new Progress({ trainings: 1, evaluations: 1 }, {
    tty: true,
    columns: 20,
    write: (s) => writes.push(s),
  });
  p.begin("train", "train-0123456789");
  assert.deepEqual(writes, ["\r\x1b[2K[train 1/1, eval 0/"]);
});

Deno.test("formatDuration() writes seconds, minutes and hours", () => {
  assert.equal(formatDuration(9_400), "9s");
  assert.equal(formatDuration(245_000), "4m05s");
  assert.equal(formatDuration(7_380_000), "2h03m");
  assert.equal(formatDuration(null), "?");
});
