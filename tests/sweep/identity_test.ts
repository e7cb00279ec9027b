import assert from "node:assert/strict";
import { join } from "node:path";
import { canonicalJson, codeVersion, runId, shortHash, trainId } from "../../lib/sweep/identity.ts";
import { tempDir } from "./_helpers.ts";

Deno.test("canonicalJson() is independent of key order at every depth", () => {
  const a = canonicalJson({ b: { y: 1, x: [2, { q: 1, p: 0 }] }, a: "s" });
  const b = canonicalJson({ a: "s", b: { x: [2, { p: 0, q: 1 }], y: 1 } });
  assert.equal(a, b);
  assert.equal(a, '{"a":"s","b":{"x":[2,{"p":0,"q":1}],"y":1}}');
});

Deno.test("canonicalJson() rejects non-finite numbers instead of writing null", () => {
  assert.throws(() => canonicalJson({ lr: NaN }), RangeError);
  assert.throws(() => canonicalJson([Infinity]), /non-finite/);
});

Deno.test("shortHash() is the first 10 hex digits of sha256", () => {
  assert.equal(shortHash("abc"), "ba7816bf8f"); // sha256("abc") = ba7816bf8f01cfea…
});

Deno.test("runId() changes with any config value and with the code version only", () => {
  const cfg = { lr: 0.1, seed: 0, schedule: "cosine" };
  const id = runId(cfg, "v1");
  assert.match(id, /^[0-9a-f]{10}$/);
  assert.equal(runId({ schedule: "cosine", seed: 0, lr: 0.1 }, "v1"), id);
  assert.notEqual(runId({ ...cfg, seed: 1 }, "v1"), id);
  assert.notEqual(runId({ ...cfg, lr: 0.10000001 }, "v1"), id);
  assert.notEqual(runId(cfg, "v2"), id);
  assert.match(trainId({ lr: 0.1 }, "v1"), /^train-[0-9a-f]{10}$/);
});

Deno.test("codeVersion() hashes lib/**/*.ts, mod.ts and the experiment file", async () => {
  const root = await tempDir();
  await Deno.mkdir(join(root, "lib/a"), { recursive: true });
  await Deno.writeTextFile(join(root, "lib/a/x.ts"), "export const x = 1;");
  await Deno.writeTextFile(join(root, "lib/a/notes.md"), "not code");
  await Deno.writeTextFile(join(root, "mod.ts"), "export * from './lib/a/x.ts';");
  await Deno.writeTextFile(join(root, "exp.ts"), "export default {};");
  await Deno.writeTextFile(join(root, "exp2.ts"), "export default {};");
  const v1 = await codeVersion(join(root, "exp.ts"), { root });
  assert.match(v1, /^[0-9a-f]{10}$/);
  // Computed once per process: editing lib/ now does not change the memoised value …
  await Deno.writeTextFile(join(root, "lib/a/x.ts"), "export const x = 2;");
  assert.equal(await codeVersion(join(root, "exp.ts"), { root }), v1);
  // … while a fresh computation (another experiment file, same content) sees the edit.
  const v2 = await codeVersion(join(root, "exp2.ts"), { root });
  assert.notEqual(v2, v1);
  // A non-.ts file does not count.
  await Deno.writeTextFile(join(root, "lib/a/notes.md"), "changed");
  await Deno.writeTextFile(join(root, "exp3.ts"), "export default {};");
  assert.equal(await codeVersion(join(root, "exp3.ts"), { root }), v2);
  await Deno.remove(root, { recursive: true });
});
