import assert from "node:assert/strict";
import { join } from "node:path";
import {
  denoFs,
  RunDir,
  StoreWriteError,
  type SweepFs,
  writeAtomic,
} from "../../lib/sweep/store.ts";
import { tempDir, tree } from "./_helpers.ts";

Deno.test("RunDir.resolve() refuses paths outside the folder and the engine's own files", () => {
  const dir = new RunDir("/runs/x/0123456789");
  assert.equal(dir.resolve("samples/grid.png"), "/runs/x/0123456789/samples/grid.png");
  assert.equal(dir.resolve("a/../b.txt"), "/runs/x/0123456789/b.txt");
  for (const bad of ["../escape.txt", "../../x", "/tmp/x", "a/../../x", "."]) {
    assert.throws(() => dir.resolve(bad), {
      name: "RangeError",
      message: /outside the run folder/,
    });
  }
  for (const owned of ["status.json", "eval.json", "checkpoint/x.ckpt", "metrics.jsonl"]) {
    assert.throws(() => dir.resolve(owned), /the sweep engine owns it/);
  }
});

Deno.test("truncateMetrics() keeps lines up to the checkpoint step and drops a torn line", async () => {
  const root = await tempDir();
  const dir = new RunDir(root);
  const lines = [1, 2, 3, 4, 5].map((step) => JSON.stringify({ step, loss: 1 / step })).join("\n");
  await Deno.writeTextFile(join(root, "metrics.jsonl"), `${lines}\n{"step":6,"lo`);
  assert.deepEqual((await dir.readMetrics()).map((l) => l.step), [1, 2, 3, 4, 5]);
  assert.equal(await dir.truncateMetrics(3), 3);
  assert.deepEqual((await dir.readMetrics()).map((l) => l.step), [1, 2, 3]);
  await dir.appendMetrics({ step: 4, loss: 0.2 });
  assert.equal(
    await Deno.readTextFile(join(root, "metrics.jsonl")),
    '{"step":1,"loss":1}\n{"step":2,"loss":0.5}\n{"step":3,"loss":0.3333333333333333}\n{"step":4,"loss":0.2}\n',
  );
  assert.equal(await dir.truncateMetrics(-1), -1);
  assert.deepEqual(await dir.readMetrics(), []);
  await Deno.remove(root, { recursive: true });
});

Deno.test("status.json is written atomically with state first", async () => {
  const root = await tempDir();
  const dir = new RunDir(root);
  assert.equal(await dir.readStatus(), null);
  await dir.writeStatus({
    trainedBy: "train-0123456789",
    finishedAt: null,
    startedAt: "2026-01-01T00:00:00.000Z",
    step: 3,
    state: "running",
  });
  const text = await Deno.readTextFile(join(root, "status.json"));
  assert.ok(text.startsWith('{\n  "state": "running",\n  "step": 3,'), text);
  assert.deepEqual(await tree(root), ["status.json"]);
  await Deno.writeTextFile(join(root, "status.json"), "{");
  await assert.rejects(dir.readStatus(), /is not a valid status: delete it/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a failing write leaves the old file and no temporary file, and names the fix", async () => {
  const root = await tempDir();
  const path = join(root, "eval.json");
  await writeAtomic(denoFs(), path, "old");
  const full: SweepFs = {
    ...denoFs(),
    async writeFile(p, data, options) {
      await denoFs().writeFile(p, data.subarray(0, 1), options); // a partial write, then ENOSPC
      throw new Error("No space left on device (os error 28)");
    },
  };
  await assert.rejects(writeAtomic(full, path, "new content"), (err: unknown) => {
    assert.ok(err instanceof StoreWriteError);
    assert.equal(err.path, path);
    assert.match(
      err.message,
      /Cannot write .*eval.json: No space left on device \(os error 28\)\. Fix: free disk space/,
    );
    return true;
  });
  assert.equal(await Deno.readTextFile(path), "old");
  assert.deepEqual(await tree(root), ["eval.json"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("removeTempFiles() clears *.tmp files a killed process left", async () => {
  const root = await tempDir();
  await Deno.mkdir(join(root, "checkpoint"));
  await Deno.writeTextFile(join(root, "checkpoint/step-000000004.ckpt.123.tmp"), "x");
  await Deno.writeTextFile(join(root, "status.json.123.tmp"), "x");
  await Deno.writeTextFile(join(root, "keep.txt"), "x");
  assert.equal(await new RunDir(root).removeTempFiles(), 2);
  assert.deepEqual(await tree(root), ["checkpoint", "keep.txt"]);
  await Deno.remove(root, { recursive: true });
});
