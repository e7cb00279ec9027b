/**
 * The sweep engine: expand an experiment's axes into runs with content-addressed ids, share one
 * training between runs with equal `trainKey`, resume after a crash, record failures, and write
 * summaries. The command line is `deno task sweep <experiment.ts>` (see `cli.ts`).
 *
 * @example Plan a sweep without running it
 * ```ts
 * import { type Experiment, planSweep } from "./mod.ts";
 * type Cfg = { lr: number; seed: number; guidance: number }; // a `type`, not an `interface`
 * const exp: Experiment<Cfg> = {
 *   name: "demo",
 *   description: "two learning rates, two seeds",
 *   defaults: { lr: 0.1, seed: 0, guidance: 1 },
 *   presets: { smoke: {}, laptop: {}, full: {} },
 *   axes: { lr: [0.1, 0.2], seed: [0, 1], guidance: [1, 3] },
 *   trainKey: ({ lr, seed }) => ({ lr, seed }), // guidance is evaluation-only
 *   train: async () => {},
 *   evaluate: async () => ({}),
 * };
 * const plan = planSweep(exp, "0123456789");
 * plan.runs.length; // 8 runs …
 * plan.groups.length; // … share 4 trainings
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./identity.ts";
export * from "./expand.ts";
export * from "./store.ts";
export * from "./checkpoint.ts";
export * from "./lock.ts";
export * from "./progress.ts";
export * from "./summary.ts";
export * from "./scheduler.ts";
export { HELP, loadExperiment, main, readOverrides } from "./cli.ts";
export type { CliIo } from "./cli.ts";
