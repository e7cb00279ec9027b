/**
 * Sweep expansion: preset → `--config` → `--set` overrides → grid over the axes (cartesian, in
 * declared order, first axis outermost) × seeded random search, with every key and value checked
 * against the experiment's defaults.
 *
 * Any override (preset, `--config` or `--set`) of a key that is also an axis or a random-search
 * key pins it: the axis is replaced by that single value.
 *
 * @module
 */

import { canonicalJson, runId, trainId } from "./identity.ts";
import type { Axes, Config, Experiment, Json, RandomRange } from "./types.ts";

/** The kind of a JSON value, as `--set` and type checks see it. */
export type JsonKind = "null" | "boolean" | "number" | "string" | "array" | "object";

/**
 * The kind of a JSON value.
 *
 * @param value A JSON value.
 * @returns Its kind.
 *
 * @example
 * ```ts
 * import { kindOf } from "./expand.ts";
 * kindOf([1, 2]); // "array"
 * ```
 */
export function kindOf(value: Json): JsonKind {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const t = typeof value;
  switch (t) {
    case "boolean":
    case "number":
    case "string":
    case "object":
      return t;
    default:
      throw new TypeError(`Cannot find the JSON kind of a ${t}`);
  }
}

/** One run of a sweep: its resolved config, its id and the training it shares. */
export interface PlannedRun {
  /** The run id (folder name): a hash of the config and the code version. */
  id: string;
  /** The fully resolved config. */
  config: Config;
  /** The values of the keys that differ between runs of this sweep. */
  swept: Config;
  /** What determines training (`Experiment.trainKey(config)`). */
  trainKey: Json;
  /** The training folder name (`train-<hash>`). */
  trainId: string;
}

/** Runs that share one training. */
export interface TrainingGroup {
  /** The training folder name (`train-<hash>`). */
  id: string;
  /** What determines the training. */
  trainKey: Json;
  /** The runs evaluated from it, in sweep order; training uses the first one's config. */
  runs: PlannedRun[];
}

/** A fully expanded and validated sweep. */
export interface SweepPlan {
  /** The experiment's name (folder under the runs folder). */
  experiment: string;
  /** The preset used. */
  preset: string;
  /** The code version that is part of every run id. */
  codeVersion: string;
  /** The config after preset, `--config` and `--set`, before the grid. */
  base: Config;
  /** The keys whose values differ between runs, axes first (in declared order). */
  sweptKeys: string[];
  /** Every run, in sweep order. */
  runs: PlannedRun[];
  /** The trainings, in the order of their first run. */
  groups: TrainingGroup[];
  /** Configs produced more than once (by random search) and kept once. */
  duplicates: number;
}

/** Options of {@linkcode planSweep}. */
export interface PlanOptions {
  /**
   * The preset to start from.
   * @default {"laptop"}
   */
  preset?: string;
  /**
   * Overrides read from a `--config` file (a parsed YAML mapping).
   * @default {{}}
   */
  overrides?: Record<string, unknown>;
  /**
   * The name of the overrides' source, used in error messages.
   * @default {"--config"}
   */
  overridesSource?: string;
  /**
   * `--set key=value` flags, applied last.
   * @default {[]}
   */
  set?: string[];
  /**
   * `"grid"` expands the axes and the random search; `"single"` (`deno task train`) runs the
   * resolved config alone: defaults → preset → overrides, no axes.
   * @default {"grid"}
   */
  expand?: "grid" | "single";
}

/**
 * Validates an experiment definition (what an experiment file exports).
 *
 * @param value The exported value.
 * @param source The file it came from, for error messages.
 * @returns The same value, typed.
 *
 * @example
 * ```ts
 * import { checkExperiment } from "./expand.ts";
 * let message = "";
 * try {
 *   checkExperiment({ name: "x" }, "x.ts");
 * } catch (err) {
 *   message = (err as Error).message;
 * }
 * message; // "Cannot use x.ts as its experiment has no valid 'description' (a string): …"
 * ```
 */
export function checkExperiment(value: unknown, source: string): Experiment {
  const fix =
    "export default { name, description, defaults, presets, axes, trainKey, train, evaluate }";
  if (!isPlainObject(value)) {
    throw new TypeError(`Cannot use ${source} as its export is not an experiment object: ${fix}`);
  }
  const need = (key: string, kind: string, ok: (v: unknown) => boolean) => {
    if (!ok(value[key])) {
      throw new TypeError(
        `Cannot use ${source} as its experiment has no valid '${key}' (${kind}): ${fix}`,
      );
    }
  };
  need("name", "a folder-safe string", (v) => typeof v === "string" && NAME.test(v));
  need("description", "a string", (v) => typeof v === "string");
  need("defaults", "a config object", (v) => isPlainObject(v) && Object.keys(v).length > 0);
  need(
    "presets",
    "an object with smoke, laptop and full",
    (v) => isPlainObject(v) && ["smoke", "laptop", "full"].every((p) => isPlainObject(v[p])),
  );
  need(
    "axes",
    "an object or a function of the preset",
    (v) => isPlainObject(v) || typeof v === "function",
  );
  for (const fn of ["trainKey", "train", "evaluate"]) {
    need(fn, "a function", (v) => typeof v === "function");
  }
  for (const fn of ["preflight", "backend"]) {
    need(fn, "a function, if given", (v) => v === undefined || typeof v === "function");
  }
  need(
    "summarize",
    "{ metrics: string[], primary: string, lowerIsBetter: boolean }",
    (v) =>
      v === undefined ||
      (isPlainObject(v) && Array.isArray(v.metrics) &&
        v.metrics.every((m) => typeof m === "string") && typeof v.primary === "string" &&
        typeof v.lowerIsBetter === "boolean"),
  );
  need("choices", "an object of value lists, if given", (v) => v === undefined || isPlainObject(v));
  need("random", "{ budget, seed, space }, if given", (v) =>
    v === undefined ||
    (isPlainObject(v) && Number.isInteger(v.budget) && (v.budget as number) > 0 &&
      Number.isInteger(v.seed) && isPlainObject(v.space)));
  const exp = value as unknown as Experiment;
  for (const [key, def] of Object.entries(exp.defaults)) {
    if (!isJson(def)) {
      throw new TypeError(
        `Cannot use ${source} as default '${key}' is not a JSON value (finite numbers, strings, booleans, null, arrays, objects)`,
      );
    }
  }
  for (const [key, list] of Object.entries(exp.choices ?? {})) {
    const where = "in choices";
    if (!Array.isArray(list) || list.length === 0) {
      throw new TypeError(`Cannot use key '${key}' ${where} as its list of values is empty`);
    }
    for (const v of list) checkKind(exp, key, v, where);
    checkValue(exp, key, exp.defaults[key] ?? null, "as a default");
  }
  for (const [name, preset] of Object.entries(exp.presets)) {
    for (const [key, v] of Object.entries(preset)) checkValue(exp, key, v, `in preset '${name}'`);
  }
  return exp;
}

/**
 * Parses one `--set key=value` flag into a typed value: the default's type decides how the text
 * is read (number, `true`/`false`, string, or JSON for arrays, objects and `null` defaults).
 *
 * @param flag The flag's text, `key=value`.
 * @param experiment The experiment whose defaults give the types.
 * @returns The key and its typed value.
 *
 * @example
 * ```ts
 * import { parseSetFlag } from "./expand.ts";
 * import type { Experiment } from "./types.ts";
 * const exp = { name: "x", defaults: { lr: 0.1, schedule: "cosine" } } as unknown as Experiment;
 * parseSetFlag("lr=2e-4", exp); // ["lr", 0.0002]
 * ```
 */
export function parseSetFlag(flag: string, experiment: Experiment): [string, Json] {
  const eq = flag.indexOf("=");
  if (eq <= 0) {
    throw new TypeError(
      `Cannot read --set ${JSON.stringify(flag)} as it is not key=value: write e.g. --set lr=2e-4`,
    );
  }
  const key = flag.slice(0, eq);
  const raw = flag.slice(eq + 1);
  const where = "in --set";
  checkKnown(experiment, key, where);
  const def = experiment.defaults[key] ?? null;
  const wrong = () =>
    new TypeError(
      `Cannot set '${key}' ${where} to ${JSON.stringify(raw)} as it must be ${
        article(kindOf(def))
      } like its default ${show(def)}: write e.g. --set ${key}=${
        typeof def === "string" ? def : JSON.stringify(def)
      }`,
    );
  let value: Json;
  switch (kindOf(def)) {
    case "number":
      if (!NUMBER.test(raw.trim())) throw wrong();
      value = Number(raw);
      break;
    case "boolean":
      if (raw !== "true" && raw !== "false") throw wrong();
      value = raw === "true";
      break;
    case "string":
      value = raw;
      break;
    case "null":
    case "array":
    case "object":
      try {
        value = JSON.parse(raw) as Json;
      } catch {
        if (def !== null) throw wrong();
        value = raw;
      }
      break;
    default: {
      const never: never = kindOf(def) as never;
      throw new TypeError(`Cannot parse a value of kind ${never}`);
    }
  }
  return [key, checkValue(experiment, key, value, where)];
}

/**
 * Expands and validates a sweep: overrides, grid, random search, run ids and training groups.
 *
 * @param experiment A checked experiment (see {@linkcode checkExperiment}).
 * @param codeVersion The code version that goes into every run id.
 * @param options Preset and overrides.
 * @returns The plan: every run with its id, and the trainings they share.
 *
 * @example Two learning rates × two seeds
 * ```ts
 * import { planSweep } from "./expand.ts";
 * import type { Experiment } from "./types.ts";
 * const exp: Experiment = {
 *   name: "demo",
 *   description: "a demo",
 *   defaults: { lr: 0.1, seed: 0 },
 *   presets: { smoke: {}, laptop: {}, full: {} },
 *   axes: { lr: [0.1, 0.2], seed: [0, 1] },
 *   trainKey: (cfg) => cfg,
 *   train: async () => {},
 *   evaluate: async () => ({}),
 * };
 * const plan = planSweep(exp, "0123456789");
 * plan.runs.map((r) => r.swept); // [{lr: 0.1, seed: 0}, {lr: 0.1, seed: 1}, {lr: 0.2, seed: 0}, …]
 * ```
 */
export function planSweep(
  experiment: Experiment,
  codeVersion: string,
  options: PlanOptions = {},
): SweepPlan {
  const preset = options.preset ?? "laptop";
  const presetValues = experiment.presets[preset];
  if (presetValues === undefined) {
    throw new RangeError(
      `Cannot use preset '${preset}' as experiment '${experiment.name}' does not define it: use one of ${
        Object.keys(experiment.presets).join(", ")
      }`,
    );
  }
  const base: Config = { ...experiment.defaults };
  const pinned = new Set<string>();
  const apply = (key: string, value: Json) => {
    base[key] = value;
    pinned.add(key);
  };
  for (const [key, v] of Object.entries(presetValues)) {
    apply(key, checkValue(experiment, key, v, `in preset '${preset}'`));
  }
  const source = options.overridesSource ?? "--config";
  for (const [key, v] of Object.entries(options.overrides ?? {})) {
    apply(key, checkValue(experiment, key, v, `in ${source}`));
  }
  for (const flag of options.set ?? []) apply(...parseSetFlag(flag, experiment));

  const single = options.expand === "single";
  const axes = single ? {} : resolveAxes(experiment, preset);
  const axisKeys = Object.keys(axes).filter((k) => !pinned.has(k));
  let points: Config[] = [{}];
  for (const key of axisKeys) {
    const values = axes[key] ?? [];
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  const { keys: randomKeys, samples } = single
    ? { keys: [], samples: [{}] }
    : randomSamples(experiment, pinned, axisKeys);

  const seen = new Set<string>();
  const configs: Config[] = [];
  let duplicates = 0;
  for (const point of points) {
    for (const sample of samples) {
      const config = { ...base, ...point, ...sample };
      const text = canonicalJson(config);
      if (seen.has(text)) duplicates++;
      else {
        seen.add(text);
        configs.push(config);
      }
    }
  }

  const sweptKeys = [...axisKeys, ...randomKeys].filter((key) =>
    new Set(configs.map((c) => canonicalJson(c[key] ?? null))).size > 1
  );
  const runs = configs.map((config): PlannedRun => {
    const trainKey = callTrainKey(experiment, config);
    return {
      id: runId(config, codeVersion),
      config,
      swept: Object.fromEntries(sweptKeys.map((k) => [k, config[k] ?? null])),
      trainKey,
      trainId: trainId(trainKey, codeVersion),
    };
  });
  const groups = new Map<string, TrainingGroup>();
  for (const run of runs) {
    const group = groups.get(run.trainId);
    if (group) group.runs.push(run);
    else groups.set(run.trainId, { id: run.trainId, trainKey: run.trainKey, runs: [run] });
  }
  return {
    experiment: experiment.name,
    preset,
    codeVersion,
    base,
    sweptKeys,
    runs,
    groups: [...groups.values()],
    duplicates,
  };
}

/**
 * A small seeded uniform generator on [0, 1) (mulberry32), used by random search.
 *
 * @param seed Any integer.
 * @returns A function giving the next number.
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./expand.ts";
 * const next = mulberry32(1);
 * next() === mulberry32(1)(); // true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function resolveAxes(experiment: Experiment, preset: string): Axes<Config> {
  const axes = typeof experiment.axes === "function" ? experiment.axes(preset) : experiment.axes;
  const where = `in the axes of preset '${preset}'`;
  if (!isPlainObject(axes)) {
    throw new TypeError(`Cannot expand the sweep as the axes ${where} are not an object`);
  }
  for (const [key, values] of Object.entries(axes)) {
    checkKnown(experiment, key, where);
    checkList(experiment, key, values, where);
  }
  return axes as Axes<Config>;
}

function randomSamples(
  experiment: Experiment,
  pinned: Set<string>,
  axisKeys: string[],
): { keys: string[]; samples: Config[] } {
  const random = experiment.random;
  if (random === undefined) return { keys: [], samples: [{}] };
  const where = "in random.space";
  const space = Object.entries(random.space).filter(([key]) => !pinned.has(key));
  for (const [key, spec] of space) {
    checkKnown(experiment, key, where);
    if (axisKeys.includes(key)) {
      throw new RangeError(
        `Cannot use key '${key}' ${where} as it is also a grid axis: remove it from one of them`,
      );
    }
    if (Array.isArray(spec)) checkList(experiment, key, spec, where);
    else checkRange(experiment, key, spec, where);
  }
  const next = mulberry32(random.seed);
  const samples: Config[] = [];
  for (let i = 0; i < random.budget; i++) {
    const sample: Config = {};
    for (const [key, spec] of space) {
      const u = next();
      if (Array.isArray(spec)) sample[key] = spec[Math.floor(u * spec.length)] ?? null;
      else sample[key] = sampleRange(spec as RandomRange, u);
    }
    samples.push(sample);
  }
  return { keys: space.map(([key]) => key), samples };
}

/** Uniform (or log-uniform) draw; floats keep 4 significant digits so configs stay readable. */
function sampleRange(range: RandomRange, u: number): number {
  const { min, max } = range;
  if (range.int) {
    if (!range.log) return min + Math.floor(u * (max - min + 1));
    const v = Math.round(Math.exp(Math.log(min) + u * (Math.log(max + 0.5) - Math.log(min))));
    return Math.min(max, Math.max(min, v));
  }
  const v = range.log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min +
    u * (max - min);
  return Number(v.toPrecision(4));
}

function checkRange(experiment: Experiment, key: string, spec: unknown, where: string): void {
  const bad = (why: string) =>
    new RangeError(`Cannot use the range of '${key}' ${where} as ${why}`);
  if (!isPlainObject(spec) || typeof spec.min !== "number" || typeof spec.max !== "number") {
    throw new TypeError(
      `Cannot use the range of '${key}' ${where} as it is not a list or { min, max, log?, int? }`,
    );
  }
  if (typeof experiment.defaults[key] !== "number") {
    throw new TypeError(
      `Cannot use a numeric range for '${key}' ${where} as its default ${
        show(experiment.defaults[key] ?? null)
      } is not a number: give a list of values`,
    );
  }
  const { min, max } = spec;
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(min < max)) {
    throw bad(`it needs finite min < max: current value is { min: ${min}, max: ${max} }`);
  }
  if (spec.log === true && !(min > 0)) {
    throw bad(`a log range needs min > 0: current value is ${min}`);
  }
  if (spec.int === true && !(Number.isInteger(min) && Number.isInteger(max))) {
    throw bad(`an int range needs integer bounds: current value is { min: ${min}, max: ${max} }`);
  }
}

function checkList(experiment: Experiment, key: string, values: unknown, where: string): void {
  if (!Array.isArray(values)) {
    throw new TypeError(`Cannot sweep '${key}' ${where} as its values are not a list`);
  }
  if (values.length === 0) {
    throw new RangeError(
      `Cannot sweep '${key}' ${where} as its list is empty: give one value or more`,
    );
  }
  const seen = new Set<string>();
  for (const v of values) {
    checkValue(experiment, key, v, where);
    const text = canonicalJson(v as Json);
    if (seen.has(text)) {
      throw new RangeError(
        `Cannot sweep '${key}' ${where} as its list repeats the value ${text}: remove the duplicate`,
      );
    }
    seen.add(text);
  }
}

function checkKnown(experiment: Experiment, key: string, where: string): void {
  if (Object.hasOwn(experiment.defaults, key)) return;
  const keys = Object.keys(experiment.defaults);
  const near = closest(key, keys);
  throw new RangeError(
    `Cannot use key '${key}' ${where} as experiment '${experiment.name}' has no such key${
      near ? `: did you mean '${near}'?` : ""
    } (keys: ${keys.join(", ")})`,
  );
}

function checkKind(experiment: Experiment, key: string, value: unknown, where: string): Json {
  checkKnown(experiment, key, where);
  const def = experiment.defaults[key] ?? null;
  if (!isJson(value)) {
    throw new TypeError(
      `Cannot set '${key}' ${where} as its value is not JSON (finite numbers, strings, booleans, null, arrays, objects)`,
    );
  }
  if (def !== null && kindOf(value) !== kindOf(def)) {
    throw new TypeError(
      `Cannot set '${key}' ${where} to ${show(value)} as it must be ${
        article(kindOf(def))
      } like its default ${show(def)}`,
    );
  }
  return value;
}

function checkValue(experiment: Experiment, key: string, value: unknown, where: string): Json {
  const json = checkKind(experiment, key, value, where);
  const choices = experiment.choices?.[key];
  if (choices !== undefined && !choices.some((c) => canonicalJson(c) === canonicalJson(json))) {
    throw new RangeError(
      `Cannot set '${key}' ${where} to ${show(json)} as it must be one of ${
        choices.map(show).join(", ")
      }`,
    );
  }
  return json;
}

function callTrainKey(experiment: Experiment, config: Config): Json {
  const key = experiment.trainKey(config);
  if (!isJson(key)) {
    throw new TypeError(
      `Cannot group runs as trainKey() of experiment '${experiment.name}' returned a value that is not JSON`,
    );
  }
  return key;
}

function article(kind: JsonKind): string {
  return kind === "array" || kind === "object" ? `an ${kind}` : `a ${kind}`;
}

function show(value: Json): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isJson(value: unknown): value is Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  return isPlainObject(value) && Object.values(value).every(isJson);
}

/** The candidate nearest to `name` by edit distance, if it is close enough to be a typo. */
function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
