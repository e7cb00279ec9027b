import assert from "node:assert/strict";
import { join } from "node:path";
import { denoFs, type SweepFs } from "../../lib/sweep/store.ts";
import { cli, fixture, readJson, tempDir, tree } from "./_helpers.ts";

const COUNTER = fixture("counter");

async function lines(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
}

async function folders(exp: string): Promise<{ trains: string[]; runs: string[] }> {
  const names = (await Array.fromAsync(Deno.readDir(exp))).filter((e) => e.isDirectory).map((e) =>
    e.name
  );
  return {
    trains: names.filter((n) => n.startsWith("train-")).sort(),
    runs: names.filter((n) => /^[0-9a-f]{10}$/.test(n)).sort(),
  };
}

async function evals(exp: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const id of (await folders(exp)).runs) out[id] = await readJson(join(exp, id, "eval.json"));
  return out;
}

Deno.test("runs with equal trainKey share one training, and a rerun skips everything", async () => {
  const dir = await tempDir();
  const args = [COUNTER, "--preset", "smoke", "--runs-dir", dir];
  const first = await cli(args);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /8 runs = 4 trainings, 8 evaluations; to do: 4 trainings, 8 evaluations/);
  assert.match(first.out, /finished: 4 trainings, 8 evaluations \(4 trained and 8 evaluated now\)/);
  const exp = join(dir, "counter");
  const { trains, runs } = await folders(exp);
  assert.equal(trains.length, 4);
  assert.equal(runs.length, 8);
  for (const t of trains) {
    assert.deepEqual(await lines(join(exp, t, "train-finished.txt")), [`pid ${Deno.pid}`]);
    assert.deepEqual(
      (await readJson(join(exp, t, "status.json"))).state,
      "done",
    );
    const steps = (await lines(join(exp, t, "metrics.jsonl"))).map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  }
  const trainedBy = new Map<string, number>();
  for (const r of runs) {
    const status = await readJson<{ state: string; trainedBy: string; step: number }>(
      join(exp, r, "status.json"),
    );
    assert.equal(status.state, "done");
    assert.equal(status.step, 12);
    trainedBy.set(status.trainedBy, (trainedBy.get(status.trainedBy) ?? 0) + 1);
    assert.match(
      await Deno.readTextFile(join(exp, r, "config.yaml")),
      /^# Written by `elbo sweep`/,
    );
    assert.deepEqual(await lines(join(exp, r, "eval-finished.txt")), [`pid ${Deno.pid}`]);
  }
  assert.deepEqual([...trainedBy.values()], [2, 2, 2, 2]);
  const md = await Deno.readTextFile(join(exp, "summary.md"));
  assert.match(md, /4 trainings, 8 evaluations\. 8 done, 0 failed/);
  assert.match(md, /## Final metrics by lr, evalScale \(mean ± std over seeds/);

  const second = await cli(args);
  assert.equal(second.code, 0, second.err);
  assert.match(second.out, /to do: 0 trainings, 0 evaluations \(8 runs already done\)/);
  for (const t of trains) {
    assert.equal((await lines(join(exp, t, "train-finished.txt"))).length, 1);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--dry-run lists every run, the trainings they share, and writes nothing", async () => {
  const dir = await tempDir();
  const { code, out } = await cli([COUNTER, "--preset", "smoke", "--runs-dir", dir, "--dry-run"]);
  assert.equal(code, 0);
  assert.equal(out.match(/^train-[0-9a-f]{10} {2}\[new\] {2}shared by 2 runs$/gm)?.length, 4);
  assert.equal(
    out.match(/^ {2}[0-9a-f]{10} {2}\[new\] {2}lr=0\.[12] seed=[01] evalScale=[12]$/gm)?.length,
    8,
  );
  assert.match(out, /swept: lr, seed, evalScale/);
  assert.match(out, /8 runs: 4 trainings, 8 evaluations; to do: 4 trainings, 8 evaluations/);
  assert.deepEqual(await tree(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a NaN loss fails its runs with the step, the sweep goes on, and a rerun retries them", async () => {
  const dir = await tempDir();
  const args = [COUNTER, "--preset", "smoke", "--runs-dir", dir, "--set", "nanLr=0.2"];
  const first = await cli(args);
  assert.equal(first.code, 1);
  assert.match(first.out, /4 done, 4 failed, 0 not run/);
  const exp = join(dir, "counter");
  const summary = await readJson<{ runs: { state: string; step: number; error?: string }[] }>(
    join(exp, "summary.json"),
  );
  const failed = summary.runs.filter((r) => r.state === "failed");
  assert.equal(failed.length, 4);
  for (const r of failed) {
    assert.equal(r.step, 7);
    assert.match(
      r.error ?? "",
      /TrainStepError: Cannot continue training as 'loss' is NaN at step 7/,
    );
  }
  assert.match(await Deno.readTextFile(join(exp, "summary.md")), /## Failures/);

  const again = await cli(args);
  assert.equal(again.code, 1);
  assert.match(again.out, /to do: 2 trainings, 4 evaluations \(4 runs already done\)/);
  assert.equal(again.out.match(/resuming from step 4/g)?.length, 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--fail-fast stops at the first failed run and leaves the rest queued", async () => {
  const dir = await tempDir();
  const { code, out } = await cli([
    COUNTER,
    "--preset",
    "smoke",
    "--runs-dir",
    dir,
    "--set",
    "nanLr=0.1",
    "--fail-fast",
  ]);
  assert.equal(code, 1);
  assert.match(out, /\(1 trained and 0 evaluated now\); 0 done, 2 failed, 6 not run/);
  const { trains } = await folders(join(dir, "counter"));
  const states = await Promise.all(
    trains.map(async (t) => (await readJson(join(dir, "counter", t, "status.json"))).state),
  );
  assert.deepEqual(states.sort(), ["failed", "queued", "queued", "queued"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a failing evaluation fails only its run; the training stays done", async () => {
  const dir = await tempDir();
  const { code, out } = await cli([
    COUNTER,
    "--preset",
    "one",
    "--runs-dir",
    dir,
    "--set",
    "evalFail=true",
  ]);
  assert.equal(code, 1);
  assert.match(
    out,
    /FAILED [0-9a-f]{10} \(train-[0-9a-f]{10}\) at step 6: TrainStepError: evaluation failed on purpose/,
  );
  const { trains, runs } = await folders(join(dir, "counter"));
  assert.equal(
    (await readJson(join(dir, "counter", trains[0] ?? "", "status.json"))).state,
    "done",
  );
  const status = await readJson(join(dir, "counter", runs[0] ?? "", "status.json"));
  assert.equal(status.state, "failed");
  assert.equal(status.step, 6);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an interrupted sweep resumes from checkpoints and ends equal to an uninterrupted one", async () => {
  const base = await tempDir();
  const args = (d: string) => [COUNTER, "--preset", "smoke", "--runs-dir", d];
  const straight = join(base, "straight");
  assert.equal((await cli(args(straight))).code, 0);

  const resumed = join(base, "resumed");
  const controller = new AbortController();
  let checkpoints = 0;
  const fs: SweepFs = {
    ...denoFs(),
    async rename(from, to) {
      await denoFs().rename(from, to);
      // Interrupt after the 2nd training's checkpoint at step 8 (the 6th checkpoint overall).
      if (to.endsWith(".ckpt") && ++checkpoints === 5) controller.abort();
    },
  };
  const stopped = await cli(args(resumed), { fs, signal: controller.signal });
  assert.equal(stopped.code, 130);
  assert.match(
    stopped.out,
    /interrupted: .*\(2 trained and 2 evaluated now\); 2 done, 0 failed, 6 not run/,
  );
  const exp = join(resumed, "counter");
  const restarted = await cli(args(resumed));
  assert.equal(restarted.code, 0, restarted.err);
  assert.match(restarted.out, /resuming from step 8/);
  assert.deepEqual(await evals(exp), await evals(join(straight, "counter")));
  for (const t of (await folders(exp)).trains) {
    const steps = (await lines(join(exp, t, "metrics.jsonl"))).map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal((await lines(join(exp, t, "train-finished.txt"))).length, 1);
  }
  await Deno.remove(base, { recursive: true });
});

for (const damage of ["corrupted", "truncated"] as const) {
  Deno.test(`a ${damage} checkpoint fails its run with the file and the fix`, async () => {
    const dir = await tempDir();
    const args = [
      COUNTER,
      "--preset",
      "one",
      "--runs-dir",
      dir,
      "--set",
      "throwAt=5",
    ];
    assert.equal((await cli(args)).code, 1); // fails at step 5 with checkpoints at 2 and 4
    const exp = join(dir, "counter");
    const train = (await folders(exp)).trains[0] ?? "";
    const ck = join(exp, train, "checkpoint", "step-000000004.ckpt");
    const bytes = await Deno.readFile(ck);
    if (damage === "corrupted") bytes[bytes.length - 40] = (bytes[bytes.length - 40] ?? 0) ^ 1;
    await Deno.writeFile(ck, damage === "corrupted" ? bytes : bytes.subarray(0, 60));
    const { code, out } = await cli(args);
    assert.equal(code, 1);
    const status = await readJson<{ state: string; error: string }>(
      join(exp, train, "status.json"),
    );
    assert.equal(status.state, "failed");
    assert.match(
      status.error,
      new RegExp(`CheckpointError: Cannot read checkpoint ${ck} as it is ${damage}`),
    );
    assert.match(
      status.error,
      /Fix: delete .*step-000000004\.ckpt to resume from the previous one \(step 2\)/,
    );
    assert.match(out, new RegExp(`as it is ${damage}`));
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a full disk stops the sweep with the path and the fix, and a rerun completes it", async () => {
  const base = await tempDir();
  const dir = join(base, "runs");
  const args = [COUNTER, "--preset", "smoke", "--runs-dir", dir];
  let checkpoints = 0;
  const full: SweepFs = {
    ...denoFs(),
    async writeFile(path, data, options) {
      if (path.includes(".ckpt") && ++checkpoints > 4) {
        await denoFs().writeFile(path, data.subarray(0, 10), options); // a partial write …
        throw new Error("No space left on device (os error 28)"); // … then ENOSPC
      }
      await denoFs().writeFile(path, data, options);
    },
  };
  const broken = await cli(args, { fs: full });
  assert.equal(broken.code, 1);
  assert.match(
    broken.err,
    /error: Cannot write .*step-000000008\.ckpt: No space left on device \(os error 28\)\. Fix: free disk space, then run the same command again/,
  );
  const files = await tree(dir);
  assert.deepEqual(files.filter((f) => f.endsWith(".tmp")), []);
  assert.ok(!files.includes("counter/.lock"));
  const healed = await cli(args);
  assert.equal(healed.code, 0, healed.err);
  assert.match(healed.out, /resuming from step 4/);
  const straight = join(base, "straight");
  assert.equal((await cli([COUNTER, "--preset", "smoke", "--runs-dir", straight])).code, 0);
  assert.deepEqual(await evals(join(dir, "counter")), await evals(join(straight, "counter")));
  await Deno.remove(base, { recursive: true });
});
