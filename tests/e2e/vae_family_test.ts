/**
 * End to end: `experiments/vae-family.ts --preset smoke` through the sweep CLI (a subprocess
 * with the sweep task's permissions, on the backend it picks: wasm here). Every model of the
 * family must train from the experiment file with a falling loss, and its evaluation must
 * report the columns of its data protocol only, with its images.
 */

import assert from "node:assert/strict";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname!, "../..");
const MODELS = [
  "ae",
  "dae",
  "sparse-ae",
  "ksparse-ae",
  "cae",
  "vae",
  "beta-vae",
  "vae-2d",
  "vq-vae",
  "hvae",
];
const VAE_TYPES = ["vae", "beta-vae", "vae-2d", "hvae"];

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("every model of vae-family trains in the smoke preset with a falling loss and reports only its protocol's columns", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vae_family_e2e_" });
  try {
    const runs = join(dir, "runs");
    const { code, stdout, stderr } = await new Deno.Command("deno", {
      args: [
        "run",
        "--no-prompt",
        `--allow-read=${ROOT},/usr/share/datasets,${dir}`,
        `--allow-write=${runs}`,
        "--allow-env",
        "--allow-ffi",
        join(ROOT, "lib/sweep/cli.ts"),
        join(ROOT, "experiments/vae-family.ts"),
        "--preset",
        "smoke",
        "--runs-dir",
        runs,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(code, 0, `sweep failed:\n${dec.decode(stdout)}\n${dec.decode(stderr)}`);
    const exp = join(runs, "vae-family");
    const summary = await readJson(join(exp, "summary.json"));
    const records = summary.runs as {
      id: string;
      trainedBy: string;
      swept: { model: string; likelihood: string };
      state: string;
    }[];
    assert.equal(records.length, MODELS.length * 2);
    const seen = new Set<string>();
    for (const r of records) {
      const { model, likelihood } = r.swept;
      const what = `${model}/${likelihood}`;
      seen.add(model);
      assert.equal(r.state, "done", what);
      // The loss falls: last logged total below 90% of the first.
      const lines = (await Deno.readTextFile(join(exp, r.trainedBy, "metrics.jsonl")))
        .trim().split("\n").map((l) => JSON.parse(l) as { step: number; loss: number });
      assert.ok(lines.length >= 2, `${what}: ${lines.length} logged steps`);
      const first = lines[0]!.loss, last = lines[lines.length - 1]!.loss;
      assert.ok(last < 0.9 * first, `${what}: loss ${first} → ${last}`);
      // The evaluation: finite numbers, and the columns of its protocol only.
      const ev = await readJson(join(exp, r.id, "eval.json"));
      for (const [k, v] of Object.entries(ev)) {
        assert.ok(typeof v === "number" && Number.isFinite(v), `${what}: ${k} = ${v}`);
      }
      const keys = Object.keys(ev);
      const own = likelihood === "bernoulli" ? "bin" : "q8";
      const other = likelihood === "bernoulli" ? "q8" : "bin";
      assert.ok(!keys.some((k) => k.startsWith(other)), `${what} reports ${other} columns`);
      assert.ok(typeof ev.recErr === "number", what);
      if (VAE_TYPES.includes(model)) {
        assert.ok(typeof ev[`${own}Nelbo`] === "number", `${what}: no −ELBO`);
        assert.ok(typeof ev[`${own}Iwae`] === "number", `${what}: no IWAE`);
        assert.equal(ev.iwaeK, 10);
        // IWAE-k and the −ELBO from the same samples: the bound can only tighten.
        assert.ok((ev[`${own}Iwae`] as number) <= (ev[`${own}IwaeNelbo`] as number) + 1e-3, what);
        assert.ok(await exists(join(exp, r.id, "samples/prior.png")), what);
      } else if (model === "vq-vae") {
        assert.ok(typeof ev[`${own}Nelbo`] === "number", what);
        assert.ok(!keys.some((k) => k.endsWith("Iwae")), what);
        assert.ok((ev.perplexity as number) >= 1 && (ev.perplexity as number) <= 16, what);
      } else {
        assert.ok(!keys.some((k) => /Nelbo|Iwae/.test(k)), `${what}: an AE reports a bound`);
      }
      assert.ok(await exists(join(exp, r.id, "samples/reconstructions.png")), what);
      if (model === "vae-2d") {
        assert.ok(await exists(join(exp, r.id, "samples/latent-traversal.png")), what);
        assert.ok(await exists(join(exp, r.id, "plots/latent-means.svg")), what);
      }
    }
    assert.deepEqual([...seen].sort(), [...MODELS].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
