import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  type BackendInfo,
  formatBackendInfo,
  initBackend,
  isSoftwareAdapter,
  parseBackendFlag,
  probeWebGpu,
  setBackend,
} from "../../lib/backend/mod.ts";
import { REPO_ROOT, runWorker } from "./spawn.ts";
import type { SelectOutput } from "./select_worker.ts";

/** Run select_worker.ts with these initBackend options; returns its output and stderr lines. */
async function select(
  options: Record<string, unknown>,
  run: { permissions?: string[]; env?: Record<string, string>; then?: string } = {},
): Promise<{ out: SelectOutput; info: BackendInfo; lines: string[] }> {
  const args = [JSON.stringify(options), ...(run.then === undefined ? [] : ["--then", run.then])];
  const { json, stderr } = await runWorker<SelectOutput>("select_worker.ts", args, {
    ...(run.permissions === undefined ? {} : { permissions: run.permissions }),
    ...(run.env === undefined ? {} : { env: run.env }),
  });
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  return { out: json, info: json.info as BackendInfo, lines };
}

Deno.test("parseBackendFlag() reads --backend X and --backend=X, and the last flag wins", () => {
  assert.equal(parseBackendFlag(["train", "--backend", "webgpu"]), "webgpu");
  assert.equal(parseBackendFlag(["--backend=cpu", "x"]), "cpu");
  assert.equal(parseBackendFlag(["--backend", "cpu", "--backend=wasm"]), "wasm");
  assert.equal(parseBackendFlag(["--steps", "3"]), undefined);
});

Deno.test("parseBackendFlag() rejects an unknown name (RangeError) and a missing value (TypeError)", () => {
  assert.throws(() => parseBackendFlag(["--backend", "gpu"]), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /must be one of webgpu, wasm, cpu: current value is "gpu"/);
    return true;
  });
  assert.throws(() => parseBackendFlag(["--backend"]), TypeError);
  assert.throws(() => parseBackendFlag(["--backend", "--steps"]), TypeError);
});

Deno.test("isSoftwareAdapter() flags fallback adapters and llvmpipe/lavapipe/SwiftShader", () => {
  assert.equal(isSoftwareAdapter(true, "Some GPU"), true);
  assert.equal(isSoftwareAdapter(undefined, "llvmpipe (LLVM 15.0.6, 256 bits)"), true);
  assert.equal(isSoftwareAdapter(false, "lavapipe"), true);
  assert.equal(isSoftwareAdapter(false, "Google SwiftShader"), true);
  assert.equal(isSoftwareAdapter(false, "NVIDIA H100 80GB HBM3"), false);
  assert.equal(isSoftwareAdapter(undefined, ""), false);
});

Deno.test("formatBackendInfo() names backend, SIMD, threads and the adapter in one line", () => {
  const line = formatBackendInfo({
    name: "wasm",
    adapter: { description: "llvmpipe (LLVM 15.0.6, 256 bits)", vendor: "65541", isFallback: true },
    threads: 2,
    simd: true,
    native: null,
    notes: [],
  });
  assert.equal(
    line,
    "elbo: backend wasm (SIMD, 2 threads); webgpu adapter: llvmpipe (LLVM 15.0.6, 256 bits), software fallback",
  );
  assert.ok(!line.includes("\n"));
});

Deno.test("initBackend() uses webgpu only on a hardware adapter, else wasm, saying why in one line", async () => {
  const adapter = await probeWebGpu(); // the same adapter the worker will see
  const { info, lines, out } = await select({ threads: 1 });
  assert.equal(out.error, undefined);
  assert.deepEqual(info.adapter, adapter);
  if (adapter !== null && !adapter.isFallback) {
    assert.equal(info.name, "webgpu");
    assert.deepEqual(lines, [formatBackendInfo(info)]);
  } else if (adapter !== null) {
    assert.equal(info.name, "wasm"); // llvmpipe on this machine and in CI
    assert.deepEqual(lines, [
      `elbo: webgpu adapter is a software fallback (${adapter.description}); using wasm`,
      formatBackendInfo(info),
    ]);
    assert.equal(info.notes[0], lines[0]);
  } else {
    assert.equal(info.name, "wasm");
    assert.deepEqual(lines, [formatBackendInfo(info)]);
  }
  assert.equal(out.active, info.name);
  assert.deepEqual(JSON.parse(JSON.stringify(info)), info); // a plain JSON record
});

Deno.test("ELBO_BACKEND forces a backend; the backend option overrides it; a bad value is a RangeError", async () => {
  const fromEnv = await select({ quiet: true }, { env: { ELBO_BACKEND: "cpu" } });
  assert.equal(fromEnv.info.name, "cpu");
  assert.equal(fromEnv.info.adapter, null); // forced: no adapter probe
  assert.deepEqual(fromEnv.lines, []); // quiet
  const option = await select({ backend: "wasm", threads: 1, quiet: true }, {
    env: { ELBO_BACKEND: "cpu" },
  });
  assert.equal(option.info.name, "wasm");
  const bad = await select({}, { env: { ELBO_BACKEND: "tpu" } });
  assert.equal(bad.out.error?.name, "RangeError");
  assert.match(bad.out.error?.message ?? "", /ELBO_BACKEND must be one of webgpu, wasm, cpu/);
});

Deno.test("a forced backend that cannot start is an error naming the fix, not a fallback", async () => {
  // no --allow-read: tfjs-wasm cannot read its .wasm binaries
  const { out, lines } = await select({ backend: "wasm", threads: 1 }, {
    permissions: ["--allow-env"],
  });
  assert.equal(out.info, undefined);
  assert.match(out.error?.message ?? "", /^Cannot start the forced backend 'wasm'/);
  assert.match(out.error?.message ?? "", /--allow-read/);
  assert.deepEqual(lines, []);
});

Deno.test("automatic selection without read permission falls back to cpu with one line", async () => {
  const { info, lines } = await select({ threads: 1 }, { permissions: ["--allow-env"] });
  assert.equal(info.name, "cpu");
  const fallbacks = lines.filter((l) => l.includes("using cpu"));
  assert.equal(fallbacks.length, 1);
  assert.match(fallbacks[0]!, /^elbo: wasm failed to start \(.*--allow-read.*\); using cpu/);
  assert.equal(lines.at(-1), formatBackendInfo(info));
});

Deno.test("wasm runs a 2-thread pool with --allow-write=runs, and 1 thread with a note without it", async () => {
  const two = await select({ backend: "wasm", threads: 2, quiet: true });
  assert.equal(two.info.threads, 2);
  assert.equal(two.info.simd, true);
  const one = await select({ backend: "wasm", threads: 2, quiet: true }, {
    permissions: ["--allow-read", "--allow-env"],
  });
  assert.equal(one.info.threads, 1);
  assert.ok(
    one.info.notes.some((n) => /threads off: .* not writable \(grant --allow-write=runs\)/.test(n)),
  );
});

Deno.test("the wasm worker scripts are written once under runs/.cache, named by their SHA-256", async () => {
  await select({ backend: "wasm", threads: 2, quiet: true });
  const dir = `${REPO_ROOT}runs/.cache/wasm-threads`;
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".cjs"));
  assert.ok(
    files.some((f) => f.startsWith("factory-")) && files.some((f) => f.startsWith("worker-")),
  );
  for (const f of files) {
    const hash = createHash("sha256").update(Deno.readTextFileSync(`${dir}/${f}`)).digest("hex");
    assert.equal(f.replace(/^\w+-|\.cjs$/g, ""), hash.slice(0, 16), f);
  }
});

Deno.test("the backend is chosen once per process: the same choice returns the record, another throws", async () => {
  const info = await initBackend({ backend: "cpu", quiet: true });
  assert.equal(await setBackend("cpu"), info);
  assert.equal(await initBackend(), info);
  await assert.rejects(
    () => setBackend("wasm"),
    /Cannot switch to backend 'wasm' as this process already runs 'cpu'/,
  );
  const { out } = await select({ backend: "cpu", quiet: true }, { then: "wasm" });
  assert.match(out.secondError?.message ?? "", /chosen once per process/);
});
