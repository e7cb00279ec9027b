/**
 * `defineExperiment`: the file a researcher writes. It declares a config (every key typed by its
 * default), presets, sweep axes, a pure `model(cfg)` giving the graph and training settings, the
 * batches, and an evaluation. elbo turns it into the sweep engine's `Experiment`.
 *
 * Work sharing falls out of the graph: a run's training identity (`trainKey`) is the fingerprint
 * of the nodes its losses depend on plus its training settings. Keys that only the evaluation
 * reads — guidance weight, sampler, sampling steps, η — change neither, so runs differing only in
 * them share one training and are evaluated from the same checkpoint.
 *
 * @module
 */

import { compile, type Compiled } from "../graph/compile.ts";
import type { Graph } from "../graph/graph.ts";
import type { Json } from "../graph/node.ts";
import {
  type BatchSource,
  type Checkpoint,
  fit,
  restore,
  type StatefulPart,
} from "../train/fit.ts";
import { Ema } from "../train/ema.ts";
import type {
  Axes,
  Config,
  EvalContext,
  Experiment,
  Presets,
  RandomSearch,
  SummarizeSpec,
  TrainContext,
} from "../sweep/types.ts";
import { initBackend } from "../backend/mod.ts";
import type { Tensor } from "../types.ts";

/** Training settings: everything besides the graph that decides what a training produces. */
export interface TrainSettings {
  /** Optimiser steps. */
  steps: number;
  /** Batch size. */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** Seed of initialisation, random streams and data order. */
  seed: number;
  /** EMA decay of the weights used for evaluation and sampling; null for none. */
  ema: number | null;
  /** What data it trains on (name, split, limit …), as JSON. */
  data: Json;
  /** Clip the global gradient norm; 0 disables. @default 0 */
  clipNorm?: number;
  /** Log every this many steps. @default 100 */
  logEvery?: number;
  /** Checkpoint every this many steps. @default 500 */
  checkpointEvery?: number;
}

/** A model: the graph plus how to train it. Returned by the experiment's pure `model(cfg)`. */
export interface ModelPlan {
  /** The validated graph. */
  graph: Graph<string>;
  /** Training settings. */
  train: TrainSettings;
}

/** Hooks into the training loop (e.g. an importance sampler that learns from per-example losses). */
export interface TrainHooks {
  /** Refs to hand to `afterStep`. */
  keep?: string[];
  /** Called after every step with the kept tensors. */
  afterStep?: (step: number, kept: Record<string, Tensor>) => void | Promise<void>;
  /** State saved in checkpoints. */
  parts?: Record<string, StatefulPart>;
}

/** What an experiment's `evaluate` receives. */
export interface EvalEnv<D> {
  /** The compiled graph, with the EMA weights (if any) loaded. */
  compiled: Compiled<string>;
  /** The data. */
  data: D;
  /** Steps the model was trained for. */
  trainedSteps: number;
  /** Seconds the training took (summed over resumed segments). */
  trainSeconds: number;
  /** Writes a file inside the run folder (e.g. `samples/grid.png`). */
  writeFile(rel: string, data: Uint8Array | string): Promise<void>;
  /** Reports progress. */
  progress(step: number, total: number, info?: Record<string, number>): void;
}

/** The experiment file's spec. */
export interface ExperimentSpec<C extends Config, D> {
  /** Folder name under `runs/`. */
  name: string;
  /** One paragraph: what it compares and why. */
  description: string;
  /** The full config; each default's type is the type `--set` accepts. */
  config: C;
  /** Presets (`laptop` is the default; `smoke` for CI; `full` for a GPU). */
  presets: Presets<C>;
  /** Sweep axes (grid), or a function of the preset name. */
  axes: Axes<C> | ((preset: string) => Axes<C>);
  /** Allowed values of string keys (so `--set` rejects typos). */
  choices?: { [K in keyof C]?: C[K][] };
  /** Optional random search. */
  random?: RandomSearch<C>;
  /** What the summary shows. */
  summarize?: SummarizeSpec;
  /** Loads the data (called once per run; loaders cache). Throw a MissingDataError when absent. */
  data(cfg: C): Promise<D>;
  /** The graph and training settings. Pure and cheap: it also decides work sharing. */
  model(cfg: C): ModelPlan;
  /** Training batches, keyed by graph input. */
  batches(cfg: C, data: D, seed: number): BatchSource;
  /** Optional training hooks. */
  hooks?(cfg: C, compiled: Compiled<string>): TrainHooks;
  /** Final metrics of a run, computed with the EMA weights. */
  evaluate(cfg: C, env: EvalEnv<D>): Promise<Record<string, number | number[]>>;
}

/** Training wall time, carried across resumed segments inside checkpoints. */
class Clock implements StatefulPart {
  seconds = 0;
  #since = performance.now();
  save(): Json {
    return this.seconds + (performance.now() - this.#since) / 1000;
  }
  restore(state: Json): void {
    this.seconds = state as number;
    this.#since = performance.now();
  }
}

function sinkOf(ctx: TrainContext) {
  return {
    resume: ctx.resume,
    log: (step: number, m: Record<string, number>) => ctx.log(step, m),
    saveCheckpoint: (ck: Checkpoint) => ctx.saveCheckpoint(ck),
    progress: (s: number, t: number, info?: Record<string, number>) => ctx.progress(s, t, info),
  };
}

function compiledOf(plan: ModelPlan): Compiled<string> {
  const t = plan.train;
  return compile(plan.graph, {
    seed: t.seed,
    optimizer: { kind: "adam", lr: t.lr, clipNorm: t.clipNorm ?? 0 },
  });
}

/**
 * Defines an experiment: a config, presets, axes, a graph, and an evaluation.
 *
 * @param spec The experiment.
 * @returns The experiment the sweep engine runs (`deno task sweep <file>`).
 *
 * @example See `experiments/vae-mnist.ts`
 * ```ts ignore
 * export default defineExperiment({ name: "vae-mnist", ... });
 * ```
 */
export function defineExperiment<C extends Config, D>(spec: ExperimentSpec<C, D>): Experiment<C> {
  const exp: Experiment<C> = {
    name: spec.name,
    description: spec.description,
    defaults: spec.config,
    presets: spec.presets,
    axes: spec.axes,
    trainKey(cfg: C): Json {
      const plan = spec.model(cfg);
      return { graph: plan.graph.fingerprint(), train: plan.train as unknown as Json };
    },
    async preflight(cfg: C): Promise<void> {
      spec.model(cfg); // graph errors surface before any run folder exists
      await spec.data(cfg);
    },
    async backend(): Promise<Json> {
      return (await initBackend()) as unknown as Json;
    },
    async train(cfg: C, ctx: TrainContext): Promise<void> {
      await initBackend();
      const data = await spec.data(cfg);
      const plan = spec.model(cfg);
      const compiled = compiledOf(plan);
      const hooks = spec.hooks?.(cfg, compiled) ?? {};
      const clock = new Clock();
      try {
        const t = plan.train;
        await fit(compiled, spec.batches(cfg, data, t.seed), sinkOf(ctx), {
          steps: t.steps,
          logEvery: t.logEvery ?? 100,
          checkpointEvery: t.checkpointEvery ?? 500,
          ema: t.ema,
          keep: hooks.keep ?? [],
          ...(hooks.afterStep ? { afterStep: hooks.afterStep } : {}),
          parts: { ...hooks.parts, clock },
          signal: ctx.signal,
        });
      } finally {
        compiled.dispose();
      }
    },
    async evaluate(cfg: C, ctx: EvalContext): Promise<Record<string, number | number[]>> {
      await initBackend();
      const data = await spec.data(cfg);
      const plan = spec.model(cfg);
      const compiled = compiledOf(plan);
      const ck = await ctx.latestCheckpoint();
      const ema = plan.train.ema === null ? null : new Ema(compiled.trainable, plan.train.ema);
      const clock = new Clock();
      const hooks = spec.hooks?.(cfg, compiled) ?? {};
      restore(compiled, ck, { ema, data: null, parts: { ...hooks.parts, clock } });
      const env: EvalEnv<D> = {
        compiled,
        data,
        trainedSteps: ck.step,
        trainSeconds: clock.seconds,
        writeFile: (rel, bytes) => ctx.writeFile(rel, bytes),
        progress: (s, t, info) => ctx.progress(s, t, info),
      };
      try {
        const metrics = ema
          ? await ema.withAverages(() => spec.evaluate(cfg, env))
          : await spec.evaluate(cfg, env);
        return { ...metrics, trainSteps: ck.step, trainSeconds: clock.seconds };
      } finally {
        ema?.dispose();
        compiled.dispose();
      }
    },
  };
  if (spec.choices) exp.choices = spec.choices;
  if (spec.random) exp.random = spec.random;
  if (spec.summarize) exp.summarize = spec.summarize;
  return exp;
}
