/**
 * End-to-end tests that spawn the sweep CLI with the task's least-privilege flags: a real
 * SIGKILL mid-sweep followed by a restart, and the permission sandbox.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fixture, readJson, ROOT, tempDir, tree } from "./_helpers.ts";

/** The flags of `deno task sweep`, with the runs folder (and fixtures' reads) under `dir`. */
function sweep(dir: string, args: string[], options: { writable?: boolean } = {}): Deno.Command {
  const runs = join(dir, "runs");
  return new Deno.Command("deno", {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${ROOT},${dir}`,
      ...(options.writable === false ? [] : [`--allow-write=${runs}`]),
      "--allow-env=LOG_TOKENS,LOG_STREAM",
      join(ROOT, "lib/sweep/cli.ts"),
      ...args,
      "--runs-dir",
      runs,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(cmd: Deno.Command): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await cmd.output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout), err: dec.decode(stderr) };
}

async function states(exp: string, prefix: RegExp): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of Deno.readDirSync(exp)) {
    if (!e.isDirectory || !prefix.test(e.name)) continue;
    try {
      out[e.name] = (await readJson(join(exp, e.name, "status.json"))).state as string;
    } catch {
      out[e.name] = "none";
    }
  }
  return out;
}

async function loggedSteps(path: string): Promise<number[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").flatMap((l) => {
    try {
      return [JSON.parse(l).step as number];
    } catch {
      return [];
    }
  });
}

async function lineCount(path: string): Promise<number> {
  return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "").length;
}

const SLOW = [
  "--preset",
  "smoke",
  "--set",
  "steps=40",
  "--set",
  "ckptEvery=5",
  "--set",
  "sleepMs=10",
];

Deno.test("a sweep killed with SIGKILL resumes: each run finishes once, equal to an uninterrupted sweep", async () => {
  const dir = await tempDir();
  const exp = join(dir, "runs", "counter");
  const child = sweep(dir, [fixture("counter"), ...SLOW]).spawn();
  // Kill once a training is done and the next one has logged steps past its last checkpoint,
  // so the restart must drop those metrics lines and resume from the checkpoint.
  let killedMidway = false;
  for (let i = 0; i < 1500 && !killedMidway; i++) {
    await new Promise((r) => setTimeout(r, 5));
    const trains = await states(exp, /^train-/).catch(() => ({}));
    const running = Object.entries(trains).filter(([, s]) => s === "running").map(([t]) => t);
    const done = Object.values(trains).filter((s) => s === "done").length;
    for (const t of running) {
      if (done < 1) break;
      const cks = await Array.fromAsync(Deno.readDir(join(exp, t, "checkpoint"))).catch(() => []);
      const ckSteps = cks.map((e) => /^step-(\d+)\.ckpt$/.exec(e.name)?.[1]).filter((s) => s)
        .map(Number);
      const logged = await loggedSteps(join(exp, t, "metrics.jsonl"));
      if (ckSteps.length > 0 && Math.max(...logged) > Math.max(...ckSteps)) killedMidway = true;
    }
  }
  child.kill("SIGKILL");
  const status = await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
  assert.ok(killedMidway, "the sweep should be killed in the middle of a training");
  assert.equal(status.signal, "SIGKILL");
  assert.ok((await tree(exp)).includes(".lock"), "the killed process leaves its lock file");

  const restart = await run(sweep(dir, [fixture("counter"), ...SLOW]));
  assert.equal(restart.code, 0, restart.err);
  assert.match(restart.out, /note: took over the lock of pid \d+/);
  assert.match(restart.out, /resuming from step (5|10|15|20|25|30|35)/);
  assert.match(restart.out, /\(\d+ runs already done\)/);

  const straightDir = await tempDir();
  const straight = await run(sweep(straightDir, [fixture("counter"), ...SLOW]));
  assert.equal(straight.code, 0, straight.err);
  const straightExp = join(straightDir, "runs", "counter");

  const runs = Object.keys(await states(exp, /^[0-9a-f]{10}$/)).sort();
  assert.deepEqual(runs, Object.keys(await states(straightExp, /^[0-9a-f]{10}$/)).sort());
  assert.equal(runs.length, 8);
  for (const id of runs) {
    assert.equal((await readJson(join(exp, id, "status.json"))).state, "done");
    assert.equal(
      await lineCount(join(exp, id, "eval-finished.txt")),
      1,
      `run ${id} evaluated once`,
    );
    assert.deepEqual(
      await readJson(join(exp, id, "eval.json")),
      await readJson(join(straightExp, id, "eval.json")),
    );
  }
  const trains = Object.keys(await states(exp, /^train-/));
  assert.equal(trains.length, 4);
  for (const t of trains) {
    assert.equal(await lineCount(join(exp, t, "train-finished.txt")), 1, `${t} finished once`);
    const steps = await loggedSteps(join(exp, t, "metrics.jsonl"));
    assert.deepEqual(steps, Array.from({ length: 40 }, (_, i) => i + 1));
    assert.equal(
      await Deno.readTextFile(join(exp, t, "metrics.jsonl")),
      await Deno.readTextFile(join(straightExp, t, "metrics.jsonl")),
    );
  }
  assert.ok(!(await tree(exp)).some((f) => f.endsWith(".tmp")));
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(straightDir, { recursive: true });
});

Deno.test("an experiment cannot write outside runs/: its runs fail with NotCapable", async () => {
  const dir = await tempDir();
  const outside = join(dir, "outside");
  await Deno.mkdir(outside);
  const { code, out } = await run(
    sweep(dir, [fixture("escape"), "--set", `outsideDir=${outside}`]),
  );
  assert.equal(code, 1);
  const summary = await readJson<
    { runs: { swept: { target: string }; state: string; error: string }[] }
  >(
    join(dir, "runs", "escape", "summary.json"),
  );
  const byTarget = Object.fromEntries(summary.runs.map((r) => [r.swept.target, r]));
  assert.equal(byTarget.repo?.state, "failed");
  assert.match(
    byTarget.repo?.error ?? "",
    /NotCapable: Requires write access to ".*escape-test\.txt"/,
  );
  assert.equal(byTarget.outside?.state, "failed");
  assert.match(
    byTarget.outside?.error ?? "",
    new RegExp(`NotCapable: Requires write access to "${outside}/escape-test.txt"`),
  );
  assert.equal(byTarget.ctx?.state, "failed");
  assert.match(
    byTarget.ctx?.error ?? "",
    /RangeError: Cannot write "..\/..\/escape-test.txt" as it is outside the run folder/,
  );
  assert.match(out, /0 done, 3 failed/);
  await assert.rejects(Deno.stat(join(ROOT, "escape-test.txt")), Deno.errors.NotFound);
  assert.deepEqual(await tree(outside), []);
  assert.ok(!(await tree(join(dir, "runs"))).some((f) => f.endsWith("escape-test.txt")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("without write permission on the runs folder the sweep exits 2 and writes nothing", async () => {
  const dir = await tempDir();
  const { code, err } = await run(
    sweep(dir, [fixture("counter"), "--preset", "one"], { writable: false }),
  );
  assert.equal(code, 2);
  assert.match(
    err,
    /error: Cannot write to the runs folder .*: Requires write access to .*Fix: make it writable/,
  );
  assert.deepEqual(await tree(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an experiment that imports a value from lib/sweep/mod.ts loads without deadlock", async () => {
  const dir = await tempDir();
  const cmd = sweep(dir, [fixture("via_mod"), "--dry-run"]);
  const child = cmd.spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  assert.equal(code, 0, `the CLI hung or failed: ${new TextDecoder().decode(stderr)}`);
  assert.match(new TextDecoder().decode(stdout), /via-mod/);
});
