import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock } from "../../lib/sweep/lock.ts";
import { cli, fixture, ROOT, tempDir, tree } from "./_helpers.ts";

const COUNTER = fixture("counter");
const BADAXES = fixture("badaxes");

/** Runs the CLI on bad input: exit code 2, the message on stderr, and nothing in the runs folder. */
async function refused(args: string[], message: RegExp): Promise<void> {
  const dir = await tempDir();
  const { code, out, err } = await cli([...args, "--runs-dir", join(dir, "runs")]);
  assert.equal(code, 2, `exit code for ${args.join(" ")}: ${out}\n${err}`);
  assert.match(err, /^error: /);
  assert.match(err, message);
  assert.deepEqual(await tree(dir), [], "nothing may be written on bad input");
  await Deno.remove(dir, { recursive: true });
}

const scratch: string[] = [];

/** Writes a file into a fresh temporary folder, removed by {@linkcode cleanScratch}. */
async function writeTemp(name: string, text: string): Promise<string> {
  const dir = await tempDir();
  scratch.push(dir);
  const path = join(dir, name);
  await Deno.writeTextFile(path, text);
  return path;
}

async function cleanScratch(): Promise<void> {
  for (const dir of scratch.splice(0)) await Deno.remove(dir, { recursive: true });
}

Deno.test("bad input: an unknown axis key", async () => {
  await refused(
    [BADAXES, "--preset", "unknownAxis"],
    /Cannot use key 'lrr' in the axes of preset 'unknownAxis' as experiment 'badaxes' has no such key: did you mean 'lr'\?/,
  );
});

Deno.test("bad input: an empty axis", async () => {
  await refused([BADAXES, "--preset", "emptyAxis"], /Cannot sweep 'lr' .* as its list is empty/);
});

Deno.test("bad input: duplicate axis values", async () => {
  await refused(
    [BADAXES, "--preset", "duplicateAxis"],
    /Cannot sweep 'lr' .* repeats the value 0\.1: remove the duplicate/,
  );
});

Deno.test("bad input: an axis value of the wrong type", async () => {
  await refused(
    [BADAXES, "--preset", "wrongTypeAxis"],
    /Cannot set 'lr' in the axes of preset 'wrongTypeAxis' to "fast" as it must be a number/,
  );
});

Deno.test("bad input: a --set value of the wrong type", async () => {
  await refused(
    [COUNTER, "--set", "lr=fast"],
    /Cannot set 'lr' in --set to "fast" as it must be a number like its default 0\.1: write e\.g\. --set lr=0\.1/,
  );
  await refused([COUNTER, "--set", "evalFail=yes"], /must be a boolean like its default false/);
});

Deno.test("bad input: an unknown --set key", async () => {
  await refused(
    [COUNTER, "--set", "sede=1"],
    /Cannot use key 'sede' in --set .*did you mean 'seed'\?/,
  );
});

Deno.test("bad input: a --set string outside the declared choices", async () => {
  await refused([COUNTER, "--set", "mode=weird"], /must be one of "plain", "fancy"/);
});

Deno.test("bad input: a missing experiment file", async () => {
  await refused(
    ["experiments/nope.ts"],
    /Cannot load experiment experiments\/nope\.ts as the file does not exist: pass a path like/,
  );
});

Deno.test("bad input: an experiment file with a syntax error", async () => {
  const file = await writeTemp("broken.ts", "export default {\n  name: 'x',,\n};\n");
  await refused(
    [file],
    new RegExp(
      `Cannot load experiment ${file}: SyntaxError: .* \\(at ${file}:2:13\\)\\. Fix the file`,
    ),
  );
  await cleanScratch();
});

Deno.test("bad input: an experiment file without an experiment export", async () => {
  const file = await writeTemp("empty.ts", "export const x = 1;\n");
  await refused([file], /exports neither a default nor a named 'experiment'/);
  const half = await writeTemp(
    "half.ts",
    `import base from "${join(ROOT, "tests/sweep/fixtures/counter.ts")}";\n` +
      "const { train: _t, ...rest } = base;\nexport default rest;\n",
  );
  await refused([half], /as its experiment has no valid 'train' \(a function\)/);
  await cleanScratch();
});

Deno.test("bad input: malformed YAML in --config names line and column", async () => {
  const yaml = await writeTemp("bad.yaml", "lr: 0.2\nseed: [1, 2\nsteps: 3\n");
  await refused(
    [COUNTER, "--config", yaml],
    new RegExp(`Cannot read --config ${yaml}:3:1 as it is not valid YAML: Flow sequence`),
  );
  const list = await writeTemp("list.yaml", "- lr\n- 0.2\n");
  await refused([COUNTER, "--config", list], /is not a mapping of overrides/);
  const typed = await writeTemp("typed.yaml", "steps: many\n");
  await refused(
    [COUNTER, "--config", typed],
    new RegExp(`Cannot set 'steps' in ${typed} to "many" as it must be a number`),
  );
  await refused(
    [COUNTER, "--config", "/nonexistent/o.yaml"],
    /Cannot read --config \/nonexistent\/o\.yaml/,
  );
  await cleanScratch();
});

Deno.test("a valid --config file overrides the preset and --set overrides it", async () => {
  const yaml = await writeTemp("ok.yaml", "# overrides\nsteps: 8\nckptEvery: 2\nmode: fancy\n");
  const { code, out } = await cli([COUNTER, "--config", yaml, "--set", "steps=10", "--dry-run"]);
  assert.equal(code, 0);
  assert.match(out, /fixed: steps=10 ckptEvery=2 .*mode=fancy/);
  await cleanScratch();
});

Deno.test("bad input: an unknown preset", async () => {
  await refused(
    [COUNTER, "--preset", "tiny"],
    /Cannot use preset 'tiny' as experiment 'counter' does not define it: use one of smoke, laptop, full, one/,
  );
});

Deno.test("bad input: a missing data set is reported before any run folder exists", async () => {
  await refused(
    [fixture("nodata")],
    /Cannot start the sweep as the preflight check of run [0-9a-f]{10} \(lr=0\.1\) failed: Cannot find data set Fashion-MNIST at \/nonexistent\/fashion-mnist: fix with `apt-get install dataset-fashion-mnist`/,
  );
});

Deno.test("bad input: an unwritable runs folder", async () => {
  const dir = await tempDir();
  const file = join(dir, "runs");
  await Deno.writeTextFile(file, "a file where the runs folder should be");
  const { code, err } = await cli([COUNTER, "--preset", "one", "--runs-dir", file]);
  assert.equal(code, 2);
  assert.match(
    err,
    new RegExp(`Cannot write to the runs folder ${file}/counter: .*Fix: make it writable`),
  );
  assert.deepEqual(await tree(dir), ["runs"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad input: a second sweep on a folder whose lock is held", async () => {
  const dir = await tempDir();
  await Deno.mkdir(join(dir, "counter"));
  const lock = await acquireLock(join(dir, "counter"), { command: "deno task sweep counter.ts" });
  const { code, err } = await cli([COUNTER, "--preset", "one", "--runs-dir", dir]);
  await lock.release();
  assert.equal(code, 2);
  assert.match(
    err,
    new RegExp(
      `Cannot start the sweep as another sweep holds .*\\.lock \\(pid ${Deno.pid} on .*deno task sweep counter\\.ts\\)\\. Fix: wait for it to finish`,
    ),
  );
  assert.deepEqual(await tree(dir), ["counter"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad input: unknown flags, no experiment, two experiments", async () => {
  await refused([COUNTER, "--bogus"], /Unknown option '--bogus'.*run with --help/);
  await refused([], /Cannot run a sweep without an experiment file/);
  await refused([COUNTER, COUNTER], /Cannot run a sweep of 2 experiment files/);
  await refused([COUNTER, "--set"], /--set/);
});

Deno.test("--help prints the flags and exits 0", async () => {
  const { code, out } = await cli(["--help"]);
  assert.equal(code, 0);
  for (
    const flag of [
      "--preset",
      "--set",
      "--config",
      "--dry-run",
      "--fail-fast",
      "--list",
      "--runs-dir",
    ]
  ) {
    assert.ok(out.includes(flag), flag);
  }
});

Deno.test("--list shows each experiment with its presets and flags a broken one", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(
    join(dir, "a.ts"),
    `export { default } from "${join(ROOT, "tests/sweep/fixtures/counter.ts")}";\n`,
  );
  await Deno.writeTextFile(join(dir, "b.ts"), "export const nothing = 1;\n");
  await Deno.writeTextFile(join(dir, "_shared.ts"), "export const helper = 1;\n");
  const { code, out, err } = await cli(["--list"], { experimentsDir: dir });
  assert.equal(code, 2);
  assert.match(out, /a\.ts {2}counter: fake training that counts steps/);
  assert.match(out, /presets: smoke, laptop, full, one/);
  assert.match(err, /b\.ts: Cannot load experiment .* exports neither a default/);
  assert.ok(!out.includes("_shared"));
  await Deno.remove(dir, { recursive: true });
});
