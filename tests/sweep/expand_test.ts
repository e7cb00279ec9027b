import assert from "node:assert/strict";
import { checkExperiment, parseSetFlag, planSweep } from "../../lib/sweep/expand.ts";
import type { Experiment } from "../../lib/sweep/types.ts";

type Cfg = {
  lr: number;
  seed: number;
  schedule: "linear" | "cosine";
  guidance: number;
  ema: boolean;
  widths: number[];
  width: number;
};

function demo(extra: Partial<Experiment<Cfg>> = {}): Experiment<Cfg> {
  return {
    name: "demo",
    description: "demo",
    defaults: {
      lr: 0.1,
      seed: 0,
      schedule: "cosine",
      guidance: 1,
      ema: true,
      widths: [8, 8],
      width: 16,
    },
    presets: { smoke: { lr: 0.5 }, laptop: {}, full: { width: 64 } },
    axes: { schedule: ["linear", "cosine"], seed: [0, 1, 2] },
    choices: { schedule: ["linear", "cosine"] },
    trainKey: ({ guidance: _g, ...rest }) => rest,
    train: () => Promise.resolve(),
    evaluate: () => Promise.resolve({}),
    ...extra,
  };
}

const exp = (e: Experiment<Cfg>): Experiment => e;

Deno.test("planSweep() expands the grid in declared order, first axis outermost", () => {
  const plan = planSweep(exp(demo()), "v");
  assert.deepEqual(plan.runs.map((r) => [r.config.schedule, r.config.seed]), [
    ["linear", 0],
    ["linear", 1],
    ["linear", 2],
    ["cosine", 0],
    ["cosine", 1],
    ["cosine", 2],
  ]);
  assert.deepEqual(plan.sweptKeys, ["schedule", "seed"]);
  assert.deepEqual(plan.runs[0]?.swept, { schedule: "linear", seed: 0 });
  assert.equal(new Set(plan.runs.map((r) => r.id)).size, 6);
  assert.equal(plan.preset, "laptop");
});

Deno.test("planSweep() applies preset, then --config, then --set", () => {
  const plan = planSweep(exp(demo()), "v", {
    preset: "smoke",
    overrides: { lr: 0.25, width: 32 },
    set: ["width=48"],
  });
  assert.equal(plan.base.lr, 0.25); // --config beats the preset
  assert.equal(plan.base.width, 48); // --set beats --config
  assert.equal(plan.base.guidance, 1);
});

Deno.test("--set on an axis key pins that axis to the single value", () => {
  const plan = planSweep(exp(demo()), "v", { set: ["schedule=linear"] });
  assert.equal(plan.runs.length, 3);
  assert.ok(plan.runs.every((r) => r.config.schedule === "linear"));
  assert.deepEqual(plan.sweptKeys, ["seed"]);
});

Deno.test("expand: single (deno task train) runs the resolved config alone, ignoring the axes", () => {
  const plan = planSweep(exp(demo()), "v", {
    preset: "smoke",
    set: ["seed=2"],
    expand: "single",
  });
  assert.equal(plan.runs.length, 1);
  assert.deepEqual(plan.sweptKeys, []);
  assert.equal(plan.runs[0]!.config.schedule, "cosine"); // the default, not the axis
  assert.equal(plan.runs[0]!.config.lr, 0.5);
  assert.equal(plan.runs[0]!.config.seed, 2);
  const grid = planSweep(exp(demo()), "v", { preset: "smoke", set: ["seed=2", "schedule=cosine"] });
  assert.equal(grid.runs[0]!.id, plan.runs[0]!.id); // the same run as the sweep's
});

Deno.test("parseSetFlag() keeps the default's type", () => {
  const e = exp(demo());
  assert.deepEqual(parseSetFlag("lr=2e-4", e), ["lr", 0.0002]);
  assert.deepEqual(parseSetFlag("ema=false", e), ["ema", false]);
  assert.deepEqual(parseSetFlag("widths=[4,4,4]", e), ["widths", [4, 4, 4]]);
  assert.deepEqual(parseSetFlag("schedule=linear", e), ["schedule", "linear"]);
  assert.throws(() => parseSetFlag("lr=fast", e), {
    name: "TypeError",
    message: /Cannot set 'lr' in --set to "fast" as it must be a number like its default 0.1/,
  });
  assert.throws(() => parseSetFlag("lr=", e), TypeError);
  assert.throws(() => parseSetFlag("lr=0x10", e), TypeError);
  assert.throws(() => parseSetFlag("ema=yes", e), /must be a boolean/);
  assert.throws(() => parseSetFlag("widths=8", e), /must be an array/);
  assert.throws(() => parseSetFlag("lr", e), /is not key=value/);
});

Deno.test("an unknown key is refused with the nearest known key", () => {
  assert.throws(() => parseSetFlag("lrr=0.1", exp(demo())), {
    name: "RangeError",
    message:
      /Cannot use key 'lrr' in --set as experiment 'demo' has no such key: did you mean 'lr'\?/,
  });
  assert.throws(
    () => planSweep(exp(demo()), "v", { overrides: { shedule: "linear" } }),
    /in --config as experiment 'demo' has no such key: did you mean 'schedule'\?/,
  );
});

Deno.test("choices reject a string that is not in the union", () => {
  assert.throws(() => parseSetFlag("schedule=sqrt", exp(demo())), {
    name: "RangeError",
    message: /must be one of "linear", "cosine"/,
  });
  assert.throws(
    () =>
      checkExperiment(
        demo({ presets: { smoke: {}, laptop: {}, full: { schedule: "sqrt" as "linear" } } }),
        "d.ts",
      ),
    /in preset 'full' to "sqrt" as it must be one of/,
  );
});

Deno.test("axes are checked: unknown key, empty, duplicates, wrong type", () => {
  const bad = (axes: unknown) => () =>
    planSweep(exp(demo({ axes: axes as Experiment<Cfg>["axes"] })), "v");
  assert.throws(
    bad({ sed: [0, 1] }),
    /Cannot use key 'sed' in the axes of preset 'laptop'.*did you mean 'seed'/,
  );
  assert.throws(
    bad({ seed: [] }),
    /Cannot sweep 'seed' in the axes of preset 'laptop' as its list is empty/,
  );
  assert.throws(bad({ seed: [0, 1, 0] }), /repeats the value 0: remove the duplicate/);
  assert.throws(bad({ seed: ["0"] }), /must be a number like its default 0/);
  assert.throws(bad({ seed: 3 }), /its values are not a list/);
});

Deno.test("an unknown preset is refused with the list of presets", () => {
  assert.throws(() => planSweep(exp(demo()), "v", { preset: "tiny" }), {
    name: "RangeError",
    message:
      "Cannot use preset 'tiny' as experiment 'demo' does not define it: use one of smoke, laptop, full",
  });
});

Deno.test("runs with equal trainKey share one training", () => {
  const plan = planSweep(exp(demo({ axes: { seed: [0, 1], guidance: [1, 2, 4] } })), "v");
  assert.equal(plan.runs.length, 6);
  assert.equal(plan.groups.length, 2);
  assert.deepEqual(plan.groups.map((g) => g.runs.map((r) => r.config.guidance)), [
    [1, 2, 4],
    [1, 2, 4],
  ]);
  assert.ok(plan.groups.every((g) => g.runs.every((r) => r.trainId === g.id)));
});

Deno.test("random search is seeded, stays in range, and multiplies the grid", () => {
  const random = {
    budget: 5,
    seed: 7,
    space: {
      lr: { min: 1e-4, max: 1e-2, log: true },
      width: { min: 8, max: 12, int: true },
    },
  };
  const e = exp(demo({ axes: { seed: [0, 1] }, random }));
  const a = planSweep(e, "v");
  const b = planSweep(e, "v");
  assert.equal(a.runs.length, 10);
  assert.deepEqual(a.runs.map((r) => r.id), b.runs.map((r) => r.id));
  for (const r of a.runs) {
    const lr = r.config.lr as number;
    const width = r.config.width as number;
    assert.ok(lr >= 1e-4 && lr <= 1e-2, `lr ${lr}`);
    assert.ok(Number.isInteger(width) && width >= 8 && width <= 12, `width ${width}`);
  }
  // Each seed replicates the same random points.
  const points = (seed: number) =>
    a.runs.filter((r) => r.config.seed === seed).map((r) => [r.config.lr, r.config.width]);
  assert.deepEqual(points(0), points(1));
  assert.deepEqual(a.sweptKeys, ["seed", "lr", "width"]);
  const pinned = planSweep(e, "v", { set: ["lr=0.003"] });
  assert.ok(pinned.runs.every((r) => r.config.lr === 0.003)); // --set pins a random key too
  assert.deepEqual(pinned.sweptKeys, ["seed", "width"]);
  const other = planSweep(
    exp(demo({ axes: { seed: [0, 1] }, random: { ...random, seed: 8 } })),
    "v",
  );
  assert.notDeepEqual(other.runs.map((r) => r.id), a.runs.map((r) => r.id));
});

Deno.test("random search drops duplicate samples and refuses bad ranges", () => {
  const plan = planSweep(
    exp(
      demo({
        axes: {},
        random: { budget: 20, seed: 1, space: { schedule: ["linear", "cosine"] } },
      }),
    ),
    "v",
  );
  assert.equal(plan.runs.length, 2);
  assert.equal(plan.duplicates, 18);
  const bad = (space: unknown) => () =>
    planSweep(exp(demo({ axes: {}, random: { budget: 2, seed: 1, space: space as never } })), "v");
  assert.throws(bad({ lr: { min: 0, max: 1, log: true } }), /a log range needs min > 0/);
  assert.throws(bad({ lr: { min: 1, max: 1 } }), /needs finite min < max/);
  assert.throws(bad({ schedule: { min: 0, max: 1 } }), /is not a number: give a list of values/);
  assert.throws(
    () => planSweep(exp(demo({ random: { budget: 2, seed: 1, space: { seed: [0, 5] } } })), "v"),
    /is also a grid axis/,
  );
});

Deno.test("checkExperiment() names the missing or malformed field", () => {
  const { train: _t, ...noTrain } = demo();
  assert.throws(() => checkExperiment(noTrain, "x.ts"), {
    name: "TypeError",
    message: /Cannot use x.ts as its experiment has no valid 'train' \(a function\)/,
  });
  assert.throws(
    () => checkExperiment({ ...demo(), name: "a/b" }, "x.ts"),
    /no valid 'name' \(a folder-safe string\)/,
  );
  assert.throws(
    () => checkExperiment({ ...demo(), presets: { smoke: {}, laptop: {} } }, "x.ts"),
    /no valid 'presets'/,
  );
  assert.throws(() => checkExperiment(42, "x.ts"), /its export is not an experiment object/);
  assert.throws(
    () => checkExperiment({ ...demo(), defaults: { ...demo().defaults, lr: NaN } }, "x.ts"),
    /default 'lr' is not a JSON value/,
  );
});
