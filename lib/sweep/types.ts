/**
 * The contract between an experiment file and the sweep engine.
 *
 * An experiment file `export default`s an {@linkcode Experiment}: a typed config with defaults,
 * presets, sweep axes, and three functions (`trainKey`, `train`, `evaluate`). The engine expands
 * the axes into runs, gives each run a content-addressed id, shares one training between runs
 * with equal `trainKey`, resumes after a crash, and writes the run folders described in
 * DESIGN.md ("A run on disk").
 *
 * @module
 */

import type { Json } from "../types.ts";
import type { Summary } from "./summary.ts";
export type { Json };

/**
 * A flat config: `{ schedule: "cosine", T: 1000, lr: 2e-4 }`.
 *
 * Declare your own config as a `type` alias, not an `interface`: only type aliases are
 * assignable to this index signature.
 */
export type Config = Record<string, Json>;

/** Values to sweep for some keys of a config (the grid). */
export type Axes<C extends Config> = { [K in keyof C]?: C[K][] };

/** A numeric range for random search; `log` samples log-uniformly, `int` rounds to integers. */
export interface RandomRange {
  /** Lower bound (inclusive). */
  min: number;
  /** Upper bound (inclusive for `int`, exclusive otherwise). */
  max: number;
  /**
   * Sample uniformly in log space (needs `min > 0`).
   * @default {false}
   */
  log?: boolean;
  /**
   * Sample integers.
   * @default {false}
   */
  int?: boolean;
}

/** Seeded random search over some keys, combined with every grid point. */
export interface RandomSearch<C extends Config> {
  /** Number of random points. */
  budget: number;
  /** Seed of the sampler; the same seed gives the same points. */
  seed: number;
  /** A list (uniform choice) or a numeric range per key. */
  space: { [K in keyof C]?: C[K][] | RandomRange };
}

/** Named partial configs; `laptop` is the default preset. */
export type Presets<C extends Config> =
  & { smoke: Partial<C>; laptop: Partial<C>; full: Partial<C> }
  & Record<string, Partial<C>>;

/** What the summary tables show. */
export interface SummarizeSpec {
  /** Metric names (keys of `evaluate()`'s result) shown as table columns. */
  metrics: string[];
  /** The metric the tables are sorted by. */
  primary: string;
  /** Whether a smaller primary metric is better (NLL: yes; accuracy: no). */
  lowerIsBetter: boolean;
  /**
   * Renders the experiment's own report (a paper-style table, a plot over runs) from the
   * summary; its files are written next to `summary.md` on every sweep, also when every run was
   * already done. It must be pure and synchronous, and cope with failed or unfinished runs.
   * @default {no extra report}
   */
  report?: (summary: Summary) => SummaryReport;
}

/**
 * The files an experiment's {@linkcode SummarizeSpec.report} renders.
 *
 * @example A one-file report
 * ```ts
 * import type { SummaryReport } from "./types.ts";
 * const report: SummaryReport = { files: { "table.md": "| a |\n| - |\n| 1 |\n" }, print: "| a |" };
 * ```
 */
export interface SummaryReport {
  /** File contents by path relative to the experiment folder (e.g. `table.md`, `plots/x.svg`). */
  files: Record<string, string>;
  /**
   * Text to print at the end of the sweep (e.g. the table).
   * @default {nothing printed}
   */
  print?: string;
}

/** One training's state: float32 tensors plus JSON scalars (optimiser step, RNG, data cursor). */
export interface Checkpoint {
  /** The training step this checkpoint was taken after. */
  step: number;
  /** Named tensors; `data.length` equals the product of `shape`. */
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
  /** Optimiser scalars, RNG state, data-iterator position, … */
  state: Json;
}

/** What `train()` gets from the engine. */
export interface TrainContext {
  /** The training folder (`runs/<experiment>/train-<hash>/`). */
  dir: string;
  /** The verified latest checkpoint to resume from, or `null` for a fresh start. */
  resume: Checkpoint | null;
  /**
   * Append one line to `metrics.jsonl`. Steps must strictly increase; a non-finite value throws
   * a {@linkcode TrainStepError} (the NaN guard). Log a step before checkpointing it.
   */
  log(step: number, metrics: Record<string, number>): Promise<void>;
  /** Write a checkpoint atomically with a sha256 checksum; keeps the last two. */
  saveCheckpoint(ck: Checkpoint): Promise<void>;
  /** Report progress for the progress display. */
  progress(step: number, total: number, info?: Record<string, number>): void;
  /** Write a file atomically inside the training folder (`rel` must stay inside it). */
  writeFile(rel: string, data: Uint8Array | string): Promise<void>;
  /** Aborted when the sweep is interrupted (Ctrl-C): save what you need and throw. */
  signal: AbortSignal;
}

/** What `evaluate()` gets from the engine. */
export interface EvalContext {
  /** The run folder (`runs/<experiment>/<run-id>/`). */
  dir: string;
  /** The training folder whose checkpoint this run evaluates. */
  trainDir: string;
  /** The verified latest checkpoint of the training (throws when there is none). */
  latestCheckpoint(): Promise<Checkpoint>;
  /** Write a file atomically inside the run folder (`samples/grid.png`, …). */
  writeFile(rel: string, data: Uint8Array | string): Promise<void>;
  /** Report progress for the progress display. */
  progress(step: number, total: number, info?: Record<string, number>): void;
  /** Aborted when the sweep is interrupted (Ctrl-C). */
  signal: AbortSignal;
}

/**
 * An experiment: a typed config, presets, sweep axes and the functions that train and evaluate.
 *
 * `train(cfg)` is called with the config of the first run of its group and must read only what
 * `trainKey(cfg)` covers; the runs of the group are then evaluated from its checkpoint.
 */
export interface Experiment<C extends Config = Config> {
  /** Folder name under `runs/` (letters, digits, `.`, `_`, `-`). */
  name: string;
  /** One line shown by `--list`. */
  description: string;
  /** The full config: every key with its default; the types define what `--set` accepts. */
  defaults: C;
  /** Partial configs selected with `--preset`; `laptop` is the default. */
  presets: Presets<C>;
  /** The grid (cartesian product in declared order, first key outermost), or one per preset. */
  axes: Axes<C> | ((preset: string) => Axes<C>);
  /** Optional seeded random search, combined with every grid point. */
  random?: RandomSearch<C>;
  /** The allowed values of string-union keys; `--set`, presets and axes are checked against them. */
  choices?: { [K in keyof C]?: C[K][] };
  /** What determines training: runs with equal `trainKey` share one training. */
  trainKey(cfg: C): Json;
  /** Checks inputs (data sets, files) before any run folder is created; throw {@linkcode MissingDataError}. */
  preflight?(cfg: C): Promise<void>;
  /** A record of the compute backend, stored in each `config.yaml` (not part of the run id). */
  backend?(cfg: C): Promise<Json>;
  /** Train, resuming from `ctx.resume` when it is not `null`. */
  train(cfg: C, ctx: TrainContext): Promise<void>;
  /** Evaluate the trained model; the result becomes `eval.json`. */
  evaluate(cfg: C, ctx: EvalContext): Promise<Record<string, number | number[]>>;
  /** What the summary tables show (default: every scalar metric, sorted by the first). */
  summarize?: SummarizeSpec;
}

/** Options of {@linkcode MissingDataError}. */
export interface MissingDataErrorOptions {
  /** Where the data was looked for. */
  path: string;
  /** How to get it (a command, a download). */
  fix: string;
}

/**
 * A data set or input file is missing; thrown by `Experiment.preflight` and reported as bad input
 * (exit code 2) before any run folder is created.
 *
 * @example Throwing from preflight
 * ```ts
 * import { MissingDataError } from "./types.ts";
 * const err = new MissingDataError("Fashion-MNIST", {
 *   path: "/usr/share/datasets/fashion-mnist",
 *   fix: "apt-get install dataset-fashion-mnist",
 * });
 * err.message; // "Cannot find data set Fashion-MNIST at /usr/share/datasets/fashion-mnist: …"
 * ```
 */
export class MissingDataError extends Error {
  /** Where the data was looked for. */
  readonly path: string;
  /** How to get it. */
  readonly fix: string;
  /**
   * Creates the error.
   *
   * @param what The data set's name.
   * @param options Where it was looked for and how to get it.
   */
  constructor(what: string, options: MissingDataErrorOptions) {
    super(`Cannot find data set ${what} at ${options.path}: fix with \`${options.fix}\``);
    this.name = "MissingDataError";
    this.path = options.path;
    this.fix = options.fix;
  }
}

/**
 * An error at a known training step (a NaN/Inf loss, a diverged optimiser); the run is marked
 * `failed` with this step.
 *
 * @example A NaN guard
 * ```ts
 * import { TrainStepError } from "./types.ts";
 * const loss = NaN;
 * const err = new TrainStepError(`Cannot continue training as the loss is ${loss}`, { step: 120 });
 * err.step; // 120
 * ```
 */
export class TrainStepError extends Error {
  /** The training step at which it happened. */
  readonly step: number;
  /**
   * Creates the error.
   *
   * @param message What happened and how to fix it.
   * @param options The step.
   */
  constructor(message: string, options: { step: number }) {
    super(message);
    this.name = "TrainStepError";
    this.step = options.step;
  }
}

/**
 * Bad input to a sweep (unknown key, wrong type, unknown preset, unwritable folder, held lock):
 * reported with exit code 2 before anything is written.
 *
 * @example
 * ```ts
 * import { SweepInputError } from "./types.ts";
 * new SweepInputError("Cannot use preset 'tiny' as it is not defined: use smoke, laptop or full");
 * ```
 */
export class SweepInputError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong and how to fix it.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SweepInputError";
  }
}
