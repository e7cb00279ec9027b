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
import { DEFAULT_PERMISSIONS, REPO_ROOT, runWorker } from "./spawn.ts";
import { findNativeBlas } from "../../lib/backend/native_blas.ts";
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

/** The fallback line when the FFI permission is missing. */
const NO_FFI_LINE = (backend: string) =>
  `elbo: no native BLAS (the FFI permission is not granted (state: prompt); run Deno with ` +
  `--allow-ffi); ${backend} keeps its own matmul`;

/** The native tests need OpenBLAS (CI installs libopenblas0-openmp). */
const blas = findNativeBlas();
const WITH_FFI = [...DEFAULT_PERMISSIONS, "--allow-ffi"];

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
      NO_FFI_LINE("wasm"), // the worker runs without --allow-ffi
      formatBackendInfo(info),
    ]);
    assert.equal(info.notes[0], lines[0]);
    assert.equal(info.notes[1], lines[1]);
  } else {
    assert.equal(info.name, "wasm");
    assert.deepEqual(lines, [NO_FFI_LINE("wasm"), formatBackendInfo(info)]);
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

Deno.test({
  name:
    "with --allow-ffi and OpenBLAS, wasm runs native BLAS beside 1 wasm thread, named in the start-up line",
  ignore: blas.library === null,
  fn: async () => {
    const { info, lines } = await select({ backend: "wasm", threads: 2 }, {
      permissions: WITH_FFI,
    });
    assert.equal(info.name, "wasm");
    assert.equal(info.native, blas.library);
    assert.equal(info.threads, 1);
    assert.deepEqual(lines, [formatBackendInfo(info)]); // no fallback line
    assert.match(
      lines[0]!,
      /^elbo: backend wasm \(SIMD, 1 thread, native BLAS libopenblas\.so\.0\)/,
    );
    assert.ok(
      info.notes.some((n) =>
        /^native BLAS: .*2 BLAS threads; wasm runs 1 thread beside it$/.test(n)
      ),
      info.notes.join("\n"),
    );
  },
});

Deno.test({
  name: "automatic selection picks wasm with native BLAS when --allow-ffi is granted",
  ignore: blas.library === null,
  fn: async () => {
    const { info, lines } = await select({ threads: 2 }, { permissions: WITH_FFI });
    if (info.name === "webgpu") return; // a hardware GPU: native BLAS does not apply
    assert.equal(info.name, "wasm");
    assert.equal(info.native, blas.library);
    assert.equal(lines.at(-1), formatBackendInfo(info));
    assert.ok(!lines.some((l) => l.includes("no native BLAS")));
  },
});

Deno.test({
  name: "cpu gets native BLAS too when --allow-ffi is granted",
  ignore: blas.library === null,
  fn: async () => {
    const { info } = await select({ backend: "cpu", quiet: true }, { permissions: WITH_FFI });
    assert.equal(info.name, "cpu");
    assert.equal(info.native, blas.library);
    assert.equal(info.threads, 1);
  },
});

Deno.test("without --allow-ffi native BLAS falls back with one line, and wasm keeps its threads", async () => {
  const { info, lines } = await select({ backend: "wasm", threads: 2 });
  assert.equal(info.native, null);
  assert.equal(info.threads, 2);
  assert.deepEqual(lines, [NO_FFI_LINE("wasm"), formatBackendInfo(info)]);
  assert.ok(info.notes.includes(NO_FFI_LINE("wasm")));
});

Deno.test("a missing BLAS library (ELBO_NATIVE names one) falls back with one line naming it", async () => {
  const { info, lines } = await select({ backend: "wasm", threads: 2 }, {
    permissions: WITH_FFI,
    env: { ELBO_NATIVE: "libelbo-missing.so.0" },
  });
  assert.equal(info.native, null);
  assert.equal(info.threads, 2);
  assert.equal(lines.length, 2);
  assert.match(
    lines[0]!,
    /^elbo: no native BLAS \(no usable BLAS library \(libelbo-missing\.so\.0: .+\)\); wasm keeps its own matmul$/,
  );
  assert.equal(lines[1], formatBackendInfo(info));
});

Deno.test({
  name: "ELBO_NATIVE=0 and native: false turn native BLAS off without a fallback line",
  ignore: blas.library === null,
  fn: async () => {
    for (
      const run of [{ env: { ELBO_NATIVE: "0" }, options: {} }, {
        env: {},
        options: { native: false },
      }]
    ) {
      const { info, lines } = await select({ backend: "wasm", threads: 2, ...run.options }, {
        permissions: WITH_FFI,
        env: run.env,
      });
      assert.equal(info.native, null);
      assert.equal(info.threads, 2);
      assert.deepEqual(lines, [formatBackendInfo(info)]);
      assert.ok(info.notes.some((n) => /^native BLAS off: /.test(n)), info.notes.join("\n"));
    }
  },
});
