/**
 * `deno task sweep <experiment.ts> [flags]`: expand, validate and run a sweep.
 *
 * Exit codes: 0 every run done, 1 a run failed (or a write failed mid-sweep), 2 bad input
 * (nothing written), 130 interrupted.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseDocument } from "yaml";
import { checkExperiment, planSweep, type SweepPlan } from "./expand.ts";
import { codeVersion } from "./identity.ts";
import type { ProgressOptions } from "./progress.ts";
import { runSweep } from "./scheduler.ts";
import { RunDir, StoreWriteError, type SweepFs } from "./store.ts";
import { countWork } from "./summary.ts";
import { type Experiment, SweepInputError } from "./types.ts";

/** The help text of `deno task sweep --help`. */
export const HELP = `elbo sweep: run every configuration of an experiment, resumably.

usage: deno task sweep <experiment.ts> [flags]
       deno task sweep --list

flags:
  --preset <name>      smoke | laptop | full | any preset the experiment defines (default: laptop)
  --set key=value      override one config key (repeatable); the value keeps the default's type:
                       numbers (2e-4), true/false, strings, JSON for arrays and objects.
                       Setting a swept key pins its axis to that one value.
  --config <file.yaml> a YAML mapping of overrides, applied before --set
  --dry-run            list every run (id, swept values, state) and the trainings they share
  --fail-fast          stop at the first failed run (default: record it and go on)
  --single             one run of the resolved config, no axes (what \`deno task train\` does)
  --runs-dir <dir>     where run folders go (default: runs)
  --list               list experiments/*.ts and their presets
  -h, --help           this help

Order: defaults → preset → --config → --set → grid over the axes × random search.
Runs with equal trainKey share one training (runs/<experiment>/train-<hash>/); each run is
evaluated into runs/<experiment>/<run-id>/. Running the same command again skips finished runs
and resumes the rest from their last checkpoint; failed runs are retried.

exit codes: 0 all runs done, 1 a run failed, 2 bad input (nothing written), 130 interrupted`;

/** Input and output of {@linkcode main}, replaceable in tests. */
export interface CliIo {
  /**
   * Log lines and listings.
   * @default {console.log}
   */
  stdout?: (line: string) => void;
  /**
   * Error messages.
   * @default {console.error}
   */
  stderr?: (line: string) => void;
  /**
   * The file system for run folders (a failing one simulates a full disk).
   * @default {denoFs()}
   */
  fs?: SweepFs;
  /**
   * Aborting it stops the sweep after the current unit.
   * @default {never aborted}
   */
  signal?: AbortSignal;
  /**
   * Progress display options.
   * @default {{}}
   */
  progress?: ProgressOptions;
  /**
   * The folder `--list` reads.
   * @default {"experiments"}
   */
  experimentsDir?: string;
}

/**
 * Runs the sweep command line.
 *
 * @param args The arguments (without the program).
 * @param io Output, file system and interruption.
 * @returns The exit code: 0 ok, 1 a run failed, 2 bad input, 130 interrupted.
 *
 * @example
 * ```ts ignore
 * import { main } from "./cli.ts";
 * const code = await main(["experiments/vae-mnist.ts", "--preset", "smoke", "--dry-run"]);
 * ```
 */
export async function main(args: string[], io: CliIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  let plan: SweepPlan;
  let experiment: Experiment;
  let flags;
  let backend = null;
  try {
    flags = parseFlags(args);
    if (flags.help) {
      out(HELP);
      return 0;
    }
    if (flags.list) return await listExperiments(io.experimentsDir ?? "experiments", out, err);
    const file = flags.file;
    experiment = await loadExperiment(file);
    const overrides = flags.config === undefined ? {} : await readOverrides(flags.config);
    plan = planSweep(experiment, await codeVersion(file), {
      ...(flags.preset === undefined ? {} : { preset: flags.preset }),
      overrides,
      ...(flags.config === undefined ? {} : { overridesSource: flags.config }),
      set: flags.set,
      expand: flags.single ? "single" : "grid",
    });
    await preflight(experiment, plan);
    if (flags.dryRun) {
      await printPlan(plan, { file, runsDir: flags.runsDir, out });
      return 0;
    }
    if (experiment.backend) backend = await experiment.backend(plan.base);
  } catch (e) {
    err(`error: ${message(e)}`);
    return 2;
  }
  try {
    const result = await runSweep(experiment, plan, {
      runsDir: flags.runsDir,
      failFast: flags.failFast,
      log: out,
      backend,
      command: `deno task sweep ${args.join(" ")}`,
      ...(io.fs ? { fs: io.fs } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(io.progress ? { progress: io.progress } : {}),
    });
    if (result.interrupted) return 130;
    return result.failed.length > 0 ? 1 : 0;
  } catch (e) {
    err(`error: ${message(e)}`);
    if (e instanceof SweepInputError) return 2;
    if (!(e instanceof StoreWriteError) && e instanceof Error && e.stack) err(e.stack);
    return 1;
  }
}

/**
 * Imports an experiment file and validates its `export default` (or `export const experiment`).
 *
 * @param file The path of the `.ts` file.
 * @returns The checked experiment.
 *
 * @example
 * ```ts ignore
 * import { loadExperiment } from "./cli.ts";
 * const exp = await loadExperiment("experiments/vae-mnist.ts");
 * ```
 */
export async function loadExperiment(file: string): Promise<Experiment> {
  const hint = "pass a path like experiments/vae-mnist.ts (--list shows them)";
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new SweepInputError(
        `Cannot load experiment ${file} as the file does not exist: ${hint}`,
      );
    }
    throw e;
  }
  if (!stat.isFile) {
    throw new SweepInputError(`Cannot load experiment ${file} as it is not a file: ${hint}`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(resolve(file)).href);
  } catch (e) {
    const text = message(e);
    const at = /at (file:\/\/\S+:\d+:\d+)\s*$/.exec(text)?.[1];
    const where = at === undefined ? "" : ` (at ${at.replace("file://", "")})`;
    throw new SweepInputError(
      `Cannot load experiment ${file}: ${
        firstLine(text)
      }${where}. Fix the file (\`deno check ${file}\` shows every error)`,
      { cause: e },
    );
  }
  const value = mod.default ?? mod.experiment;
  if (value === undefined) {
    throw new SweepInputError(
      `Cannot load experiment ${file} as it exports neither a default nor a named 'experiment': add \`export default defineExperiment({ … })\``,
    );
  }
  return checkExperiment(value, file);
}

/**
 * Reads a `--config` YAML file of overrides (a mapping of config keys).
 *
 * @param file The YAML file.
 * @returns The overrides (unchecked; `planSweep` checks keys and types).
 *
 * @example
 * ```ts ignore
 * import { readOverrides } from "./cli.ts";
 * await readOverrides("overrides.yaml"); // { lr: 0.0002 }
 * ```
 */
export async function readOverrides(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new SweepInputError(
      `Cannot read --config ${file}: ${message(e)}. Fix: pass an existing YAML file`,
      { cause: e },
    );
  }
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new SweepInputError(
      `Cannot read --config ${where} as it is not valid YAML: ${
        firstLine(first.message).replace(/ at line \d+, column \d+:?$/, "")
      }. Fix the file at that line`,
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SweepInputError(
      `Cannot use --config ${file} as it is not a mapping of overrides: write one \`key: value\` per line`,
    );
  }
  return value as Record<string, unknown>;
}

interface Flags {
  file: string;
  preset: string | undefined;
  set: string[];
  config: string | undefined;
  dryRun: boolean;
  failFast: boolean;
  single: boolean;
  list: boolean;
  runsDir: string;
  help: boolean;
}

function parseFlags(args: string[]): Flags {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        preset: { type: "string" },
        set: { type: "string", multiple: true },
        config: { type: "string" },
        "dry-run": { type: "boolean" },
        "fail-fast": { type: "boolean" },
        single: { type: "boolean" },
        list: { type: "boolean" },
        "runs-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new SweepInputError(`${firstLine(message(e))}: run with --help for the flags`);
  }
  const { values, positionals } = parsed;
  const help = values.help ?? false;
  const list = values.list ?? false;
  if (!help && !list && positionals.length !== 1) {
    throw new SweepInputError(
      positionals.length === 0
        ? "Cannot run a sweep without an experiment file: deno task sweep experiments/<name>.ts (--list shows them)"
        : `Cannot run a sweep of ${positionals.length} experiment files (${
          positionals.join(", ")
        }): give exactly one`,
    );
  }
  return {
    file: positionals[0] ?? "",
    preset: values.preset,
    set: values.set ?? [],
    config: values.config,
    dryRun: values["dry-run"] ?? false,
    failFast: values["fail-fast"] ?? false,
    single: values.single ?? false,
    list,
    runsDir: values["runs-dir"] ?? "runs",
    help,
  };
}

async function preflight(experiment: Experiment, plan: SweepPlan): Promise<void> {
  if (!experiment.preflight) return;
  for (const run of plan.runs) {
    try {
      await experiment.preflight(run.config);
    } catch (e) {
      const swept = Object.entries(run.swept).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      throw new SweepInputError(
        `Cannot start the sweep as the preflight check of run ${run.id}${
          swept.length > 0 ? ` (${swept.join(" ")})` : ""
        } failed: ${message(e)}`,
        { cause: e },
      );
    }
  }
}

async function printPlan(
  plan: SweepPlan,
  options: { file: string; runsDir: string; out: (line: string) => void },
): Promise<void> {
  const { out } = options;
  const dir = resolve(options.runsDir, plan.experiment);
  const stateOf = async (id: string) =>
    (await new RunDir(`${dir}/${id}`).readStatus().catch(() => null))?.state ?? "new";
  out(
    `experiment ${plan.experiment} (${options.file}), preset ${plan.preset}, code version ${plan.codeVersion}`,
  );
  const fixed = Object.entries(plan.base).filter(([k]) => !plan.sweptKeys.includes(k))
    .map(([k, v]) => `${k}=${show(v)}`);
  out(`fixed: ${fixed.join(" ") || "(none)"}`);
  out(`swept: ${plan.sweptKeys.join(", ") || "(none)"}`);
  if (plan.duplicates > 0) out(`${plan.duplicates} duplicate random samples dropped`);
  let todoTrain = 0;
  let todoEval = 0;
  for (const group of plan.groups) {
    const trainState = await stateOf(group.id);
    const runStates = await Promise.all(group.runs.map((r) => stateOf(r.id)));
    const pending = runStates.filter((s) => s !== "done").length;
    todoEval += pending;
    if (pending > 0 && trainState !== "done") todoTrain++;
    const shared = group.runs.length > 1 ? `shared by ${group.runs.length} runs` : "1 run";
    out(`${group.id}  [${trainState}]  ${shared}`);
    group.runs.forEach((run, i) => {
      const values = Object.entries(run.swept).map(([k, v]) => `${k}=${show(v)}`).join(" ");
      out(`  ${run.id}  [${runStates[i]}]  ${values}`);
    });
  }
  out(
    `${plan.runs.length} run${plan.runs.length === 1 ? "" : "s"}: ${
      countWork(plan.groups.length, plan.runs.length)
    }; ` +
      `to do: ${countWork(todoTrain, todoEval)} (runs folder ${dir})`,
  );
}

async function listExperiments(
  dir: string,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let files: string[];
  try {
    files = (await Array.fromAsync(Deno.readDir(dir)))
      .filter((e) => e.isFile && e.name.endsWith(".ts") && !e.name.startsWith("_"))
      .map((e) => join(dir, e.name)).sort();
  } catch (e) {
    throw new SweepInputError(
      `Cannot list experiments as the folder ${dir} cannot be read: ${message(e)}`,
    );
  }
  let broken = 0;
  for (const file of files) {
    try {
      const exp = await loadExperiment(file);
      out(`${file}  ${exp.name}: ${exp.description}`);
      out(`  presets: ${Object.keys(exp.presets).join(", ")}`);
    } catch (e) {
      broken++;
      err(`${file}: ${message(e)}`);
    }
  }
  if (files.length === 0) out(`no experiments in ${dir}`);
  return broken > 0 ? 2 : 0;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

if (import.meta.main) {
  const controller = new AbortController();
  let interrupts = 0;
  const stop = () => {
    if (++interrupts > 1) Deno.exit(130);
    console.error("interrupt: stopping after the current step (again to quit at once)");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // No top-level await: an experiment file that imports lib/sweep/mod.ts (which re-exports this
  // module) would otherwise wait forever for this module to finish evaluating.
  main(Deno.args, { signal: controller.signal }).then((code) => Deno.exit(code));
}
