import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
} from "../../lib/sweep/checkpoint.ts";
import type { Checkpoint } from "../../lib/sweep/types.ts";
import { tempDir } from "./_helpers.ts";

function sample(step: number): Checkpoint {
  return {
    step,
    tensors: {
      w: { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, -0, 7], (v) => v * step) },
      b: { shape: [3], data: new Float32Array([0.1, 0.2, 0.3]) },
      empty: { shape: [0], data: new Float32Array(0) },
    },
    state: { rng: [1, 2, 3], adam: { t: step, beta1Power: 0.9 ** step }, cursor: "e3:b17" },
  };
}

Deno.test("a checkpoint round-trips tensors bit-exactly and its JSON state", () => {
  const ck = sample(5);
  const back = decodeCheckpoint(encodeCheckpoint(ck), "mem");
  assert.equal(back.step, 5);
  assert.deepEqual(back.state, ck.state);
  assert.deepEqual(Object.keys(back.tensors), ["w", "b", "empty"]);
  for (const name of ["w", "b", "empty"]) {
    assert.deepEqual(back.tensors[name]?.shape, ck.tensors[name]?.shape);
    assert.deepEqual(back.tensors[name]?.data, ck.tensors[name]?.data);
  }
});

Deno.test("the binary layout starts with ELBOCKPT, version 1, and ends with sha256", async () => {
  const bytes = encodeCheckpoint(sample(1));
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "ELBOCKPT");
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(8, true), 1);
  const h = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + h)));
  const dataStart = Math.ceil((16 + h) / 4) * 4;
  assert.equal(bytes.length, dataStart + header.dataBytes + 32);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes.slice(0, bytes.length - 32)),
  );
  assert.deepEqual(bytes.subarray(bytes.length - 32), digest);
  const w = new Float32Array(bytes.slice(dataStart, dataStart + 24).buffer);
  assert.deepEqual(w, sample(1).tensors.w?.data);
});

Deno.test("a truncated checkpoint is reported as truncated with its path", () => {
  const bytes = encodeCheckpoint(sample(2));
  for (const cut of [bytes.length - 1, bytes.length - 40, 30, 10]) {
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, cut), "ck/step-000000002.ckpt"), {
      name: "CheckpointError",
      message: /^Cannot read checkpoint ck\/step-000000002.ckpt as it is truncated/,
    });
  }
});

Deno.test("a flipped bit anywhere is reported as corrupted", () => {
  const bytes = encodeCheckpoint(sample(3));
  for (const at of [0, 9, 20, bytes.length - 50, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[at] = (bad[at] ?? 0) ^ 0x10;
    assert.throws(() => decodeCheckpoint(bad, "x.ckpt"), (err: unknown) => {
      assert.ok(err instanceof CheckpointError);
      assert.match(err.message, /as it is (corrupted|truncated)/);
      return true;
    });
  }
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  assert.throws(() => decodeCheckpoint(longer, "x.ckpt"), /corrupted: expected \d+ bytes/);
});

Deno.test("encodeCheckpoint() refuses a data length that does not match the shape", () => {
  assert.throws(
    () =>
      encodeCheckpoint({
        step: 1,
        tensors: { w: { shape: [2, 2], data: new Float32Array(3) } },
        state: null,
      }),
    {
      name: "TypeError",
      message: /Cannot save tensor 'w' as its data must be a Float32Array of 4 values/,
    },
  );
  assert.throws(() => encodeCheckpoint({ step: 1, tensors: {}, state: { x: NaN } }), RangeError);
  assert.throws(() => encodeCheckpoint({ step: -1, tensors: {}, state: null }), RangeError);
});

Deno.test("saveCheckpoint() keeps the newest two files and leaves no temporary file", async () => {
  const dir = join(await tempDir(), "checkpoint");
  for (const step of [10, 20, 30]) await saveCheckpoint(dir, sample(step));
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(files, ["step-000000020.ckpt", "step-000000030.ckpt"]);
  assert.deepEqual((await listCheckpoints(dir)).map((f) => f.step), [30, 20]);
  const latest = await loadLatestCheckpoint(dir);
  assert.equal(latest?.step, 30);
  assert.deepEqual(latest?.tensors.w?.data, sample(30).tensors.w?.data);
  await Deno.remove(join(dir, ".."), { recursive: true });
});

Deno.test("loadLatestCheckpoint() gives null for no checkpoint and names the fix for a bad one", async () => {
  const dir = join(await tempDir(), "checkpoint");
  assert.equal(await loadLatestCheckpoint(dir), null);
  await saveCheckpoint(dir, sample(4));
  await saveCheckpoint(dir, sample(8));
  const path = join(dir, "step-000000008.ckpt");
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, bytes.length - 7));
  await assert.rejects(loadLatestCheckpoint(dir), (err: unknown) => {
    assert.ok(err instanceof CheckpointError);
    assert.equal(err.path, path);
    assert.match(err.message, new RegExp(`Cannot read checkpoint ${path} as it is truncated`));
    assert.match(
      err.message,
      /Fix: delete .*step-000000008.ckpt to resume from the previous one \(step 4\)/,
    );
    return true;
  });
  await assert.rejects(
    loadLatestCheckpoint(dir, { finished: true }),
    /Fix: delete the folder .* to train again/,
  );
  await Deno.remove(path);
  assert.equal((await loadLatestCheckpoint(dir))?.step, 4);
  await Deno.remove(join(dir, ".."), { recursive: true });
});
