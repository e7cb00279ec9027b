/**
 * The training loop: batches → `trainStep` → Adam, EMA, periodic async reads of the loss terms
 * (with a NaN/Inf guard), metrics, checkpoints and progress. It resumes exactly from a checkpoint:
 * weights, Adam moments, EMA, step, and the data iterator's position all come back, and every
 * random stream is keyed by step.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Compiled } from "../graph/compile.ts";
import type { Json } from "../types.ts";
import type { Checkpoint } from "../sweep/types.ts";
export type { Checkpoint };
import { Ema } from "./ema.ts";
import type { Tensor, Variable } from "../types.ts";

/** Where batches come from. The trainer disposes what `next()` returns. */
export interface BatchSource {
  /** The next batch, keyed by graph input name. */
  next(): Record<string, Tensor>;
  /** The iterator's position, for checkpoints. */
  state(): Json;
  /** Restores a position saved by `state()`. */
  restore(state: Json): void;
}

/** Where training reports to (the sweep's run context implements it). */
export interface TrainSink {
  /** A verified checkpoint to resume from, or null for a fresh start. */
  resume: Checkpoint | null;
  /** Appends one metrics record; steps strictly increase. */
  log(step: number, metrics: Record<string, number>): Promise<void>;
  /** Saves a checkpoint atomically. */
  saveCheckpoint(ck: Checkpoint): Promise<void>;
  /** Reports progress. */
  progress(step: number, total: number, info?: Record<string, number>): void;
}

/** Extra state a run keeps across checkpoints (e.g. an importance sampler's loss history). */
export interface StatefulPart {
  /** Serialises the part. */
  save(): Json;
  /** Restores what `save()` gave. */
  restore(state: Json): void;
}

/** Options of {@linkcode fit}. */
export interface FitOptions<R extends string> {
  /** Total steps. */
  steps: number;
  /** Read and log the loss terms every this many steps. @default 100 */
  logEvery?: number;
  /** Checkpoint every this many steps (and at the end). @default 1000 */
  checkpointEvery?: number;
  /** EMA decay of the weights, or null for none. @default null */
  ema?: number | null;
  /** Refs to return from each step to `afterStep` (e.g. sampled timesteps and per-example losses). */
  keep?: readonly R[];
  /** Called after each step with the kept tensors (disposed after it returns). */
  afterStep?: (step: number, kept: Record<string, Tensor>) => void | Promise<void>;
  /** Extra state saved in checkpoints. */
  parts?: Readonly<Record<string, StatefulPart>>;
  /**
   * Stops training early (Ctrl-C in a sweep): the step in flight finishes, a checkpoint is saved
   * at it, and `fit` returns with `interrupted: true`, so a later call resumes exactly there.
   */
  signal?: AbortSignal;
}

/** What {@linkcode fit} returns. */
export interface FitResult {
  /** The EMA of the weights, if one was kept. */
  ema: Ema | null;
  /** Steps run in this call (0 when the checkpoint was already final). */
  stepsRun: number;
  /** Wall time of this call's steps, seconds. */
  seconds: number;
  /** Whether `options.signal` stopped training before `steps`. */
  interrupted: boolean;
}

/** A loss became NaN or infinite. */
export class NonFiniteError extends Error {
  /**
   * Creates the error for a non-finite loss.
   *
   * @param step The logged step at which it was seen.
   * @param what Which term, and its value.
   */
  constructor(readonly step: number, what: string) {
    super(
      `Cannot continue training as ${what} at step ${step}: lower the learning rate, clip gradients (clipNorm), or check the data scaling`,
    );
    this.name = "NonFiniteError";
  }
}

/**
 * Snapshots weights, Adam state, EMA, step and extra parts into a checkpoint (async reads only).
 *
 * @param c The compiled graph.
 * @param step The step just completed.
 * @param extra EMA, data source and parts.
 * @returns The checkpoint.
 */
export async function snapshot(
  c: Compiled,
  step: number,
  extra: {
    ema: Ema | null;
    data: BatchSource | null;
    parts?: Readonly<Record<string, StatefulPart>>;
  },
): Promise<Checkpoint> {
  const tensors: Checkpoint["tensors"] = {};
  const put = async (name: string, t: Tensor) => {
    tensors[name] = { shape: [...t.shape], data: new Float32Array(await t.data()) };
  };
  for (const [name, v] of c.variables) await put(`param/${name}`, v);
  const names = [...c.variables].filter(([, v]) => v.trainable).map(([k]) => k);
  for (let i = 0; i < names.length; i++) {
    await put(`adam.m/${names[i]}`, c.optimizer.m[i]!);
    await put(`adam.v/${names[i]}`, c.optimizer.v[i]!);
    if (extra.ema) await put(`ema/${names[i]}`, extra.ema.shadows[i]!);
  }
  const parts: Record<string, Json> = {};
  for (const [k, p] of Object.entries(extra.parts ?? {})) parts[k] = p.save();
  return {
    step,
    tensors,
    state: { adamT: c.optimizer.t, data: extra.data?.state() ?? null, parts },
  };
}

/**
 * Restores what {@linkcode snapshot} saved.
 *
 * @param c The compiled graph (same graph and options as when saved).
 * @param ck The checkpoint.
 * @param extra EMA, data source and parts to restore into.
 */
export function restore(
  c: Compiled,
  ck: Checkpoint,
  extra: {
    ema: Ema | null;
    data: BatchSource | null;
    parts?: Readonly<Record<string, StatefulPart>>;
  },
): void {
  const take = (name: string, into: Variable) => {
    const t = ck.tensors[name];
    if (t === undefined) {
      throw new TypeError(
        `Cannot resume from the checkpoint of step ${ck.step} as it has no tensor '${name}': it was written by a different graph; delete the run folder to start over`,
      );
    }
    if (t.shape.join(",") !== into.shape.join(",")) {
      throw new TypeError(
        `Cannot resume from the checkpoint of step ${ck.step} as '${name}' has shape [${t.shape}] but the graph needs [${into.shape}]: delete the run folder to start over`,
      );
    }
    tf.tidy(() => into.assign(tf.tensor(t.data, t.shape)));
  };
  for (const [name, v] of c.variables) take(`param/${name}`, v);
  const names = [...c.variables].filter(([, v]) => v.trainable).map(([k]) => k);
  for (let i = 0; i < names.length; i++) {
    take(`adam.m/${names[i]}`, c.optimizer.m[i]!);
    take(`adam.v/${names[i]}`, c.optimizer.v[i]!);
    if (extra.ema) take(`ema/${names[i]}`, extra.ema.shadows[i]!);
  }
  const state = ck.state as { adamT: number; data: Json; parts: Record<string, Json> };
  c.optimizer.t = state.adamT;
  if (extra.data && state.data !== null) extra.data.restore(state.data);
  for (const [k, p] of Object.entries(extra.parts ?? {})) {
    if (state.parts[k] !== undefined) p.restore(state.parts[k]!);
  }
}

/**
 * Trains a compiled graph, resuming from `sink.resume` when given.
 *
 * @param c The compiled graph.
 * @param data The batch source.
 * @param sink Metrics, checkpoints and progress.
 * @param options Steps, logging, EMA, checkpoints.
 * @returns The EMA (if any) and timing of this call.
 * @throws {NonFiniteError} When a logged loss term is NaN or infinite.
 */
export async function fit<R extends string>(
  c: Compiled<R>,
  data: BatchSource,
  sink: TrainSink,
  options: FitOptions<R>,
): Promise<FitResult> {
  const logEvery = options.logEvery ?? 100;
  const ckEvery = options.checkpointEvery ?? 1000;
  const ema = options.ema == null ? null : new Ema(c.trainable, options.ema);
  const extra = { ema, data, parts: options.parts ?? {} };
  let step = 0;
  if (sink.resume !== null) {
    restore(c, sink.resume, extra);
    step = sink.resume.step;
  }
  const first = step;
  const t0 = performance.now();
  let windowStart = t0, windowSteps = 0;
  while (step < options.steps) {
    const feeds = data.next() as Partial<Record<R, Tensor>>;
    const r = c.trainStep(feeds, step, { keep: options.keep ?? [] });
    tf.dispose(Object.values(feeds) as Tensor[]);
    ema?.update();
    step++;
    windowSteps++;
    try {
      if (options.afterStep) await options.afterStep(step - 1, r.kept);
      if (step % logEvery === 0 || step === options.steps) {
        const metrics: Record<string, number> = {};
        for (const [k, t] of Object.entries(r.terms)) metrics[k] = (await t.data())[0]!;
        metrics.loss = (await r.total.data())[0]!;
        for (const [k, v] of Object.entries(metrics)) { // terms first: name the culprit
          if (!Number.isFinite(v)) throw new NonFiniteError(step, `loss term '${k}' is ${v}`);
        }
        const now = performance.now();
        metrics.stepsPerSec = windowSteps / ((now - windowStart) / 1000);
        windowStart = now;
        windowSteps = 0;
        await sink.log(step, metrics);
        sink.progress(step, options.steps, { loss: metrics.loss! });
      }
    } finally {
      tf.dispose([r.total, ...Object.values(r.terms), ...Object.values(r.kept)]);
    }
    const interrupted = options.signal?.aborted === true && step < options.steps;
    if (step % ckEvery === 0 || step === options.steps || interrupted) {
      await sink.saveCheckpoint(await snapshot(c, step, extra));
    }
    if (interrupted) break;
  }
  return {
    ema,
    stepsRun: step - first,
    seconds: (performance.now() - t0) / 1000,
    interrupted: step < options.steps,
  };
}
