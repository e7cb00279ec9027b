/**
 * The scheduler: runs a {@linkcode SweepPlan} into `runs/<experiment>/`, one training per group
 * of runs with equal `trainKey`, then one evaluation per run.
 *
 * Layout: a training lives in `runs/<experiment>/train-<hash>/` (`config.yaml`, `status.json`,
 * `metrics.jsonl`, `checkpoint/`), keyed by `trainKey` and the code version, so any sweep that
 * needs the same training finds it. A run lives in `runs/<experiment>/<run-id>/` (`config.yaml`,
 * `status.json` with `trainedBy`, `eval.json`, `samples/`).
 *
 * Resume: `done` runs are skipped; a training that is not `done` restarts from its newest
 * verified checkpoint after the `metrics.jsonl` lines past that step are dropped; `failed` runs
 * are retried. A failure marks the run (and, for a training, every run of its group) `failed`
 * with the step and the message; the sweep goes on unless `failFast`. A write error under the
 * runs folder (a full disk) stops the sweep.
 *
 * @module
 */

import { join } from "node:path";
import { CheckpointError, loadLatestCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import type { PlannedRun, SweepPlan, TrainingGroup } from "./expand.ts";
import { acquireLock, LockHeldError } from "./lock.ts";
import { Progress, type ProgressOptions } from "./progress.ts";
import {
  denoFs,
  type MetricsLine,
  RunDir,
  type RunStatus,
  StoreWriteError,
  type SweepFs,
  writeAtomic,
} from "./store.ts";
import { buildSummary, countWork, type RunRecord, writeSummary } from "./summary.ts";
import {
  type Checkpoint,
  type EvalContext,
  type Experiment,
  type Json,
  SweepInputError,
  type TrainContext,
  TrainStepError,
} from "./types.ts";

/** Options of {@linkcode runSweep}. */
export interface SweepOptions {
  /**
   * The runs folder.
   * @default {"runs"}
   */
  runsDir?: string;
  /**
   * Stop at the first failed run (the rest stay queued).
   * @default {false}
   */
  failFast?: boolean;
  /**
   * The file system all writes go through.
   * @default {denoFs()}
   */
  fs?: SweepFs;
  /**
   * Where log lines go.
   * @default {console.log}
   */
  log?: (line: string) => void;
  /**
   * Progress display options.
   * @default {{}}
   */
  progress?: ProgressOptions;
  /**
   * Aborting it stops the sweep after the current unit (which sees `ctx.signal`).
   * @default {never aborted}
   */
  signal?: AbortSignal;
  /**
   * The backend record stored in each new `config.yaml`.
   * @default {null}
   */
  backend?: Json;
  /**
   * The command line recorded in the lock file.
   * @default {"elbo sweep"}
   */
  command?: string;
}

/** A run that failed. */
export interface FailedRun {
  /** The run id. */
  id: string;
  /** Its training folder. */
  trainedBy: string;
  /** The step it failed at. */
  step: number;
  /** The message. */
  error: string;
}

/** What a sweep did. */
export interface SweepResult {
  /** The experiment folder. */
  dir: string;
  /** Trainings in the sweep. */
  trainings: number;
  /** Evaluations (runs) in the sweep. */
  evaluations: number;
  /** Trainings run (or resumed) by this call. */
  trainedNow: number;
  /** Evaluations run by this call. */
  evaluatedNow: number;
  /** Runs that were already done. */
  alreadyDone: number;
  /** Runs that failed in this call. */
  failed: FailedRun[];
  /** Runs left queued (after `failFast` or an interruption). */
  notRun: number;
  /** Whether the signal stopped the sweep. */
  interrupted: boolean;
  /** The summary files written. */
  summary: string[];
}

type Outcome =
  | { kind: "done"; step: number }
  | { kind: "failed"; step: number; error: string }
  | { kind: "interrupted" };

/** What a training or an evaluation needs from the sweep. */
interface Env {
  experiment: Experiment;
  fs: SweepFs;
  say: (line: string) => void;
  progress: Progress;
  signal: AbortSignal;
}

/**
 * Runs a sweep: takes the folder's lock, writes every new run folder (`config.yaml` first), trains
 * each group once, evaluates every run, and writes the summary.
 *
 * @param experiment The experiment.
 * @param plan Its expanded plan (see `planSweep`).
 * @param options Runs folder, failure policy, IO.
 * @returns What happened; throws {@linkcode SweepInputError} for an unwritable runs folder or a
 * held lock (nothing written), {@linkcode StoreWriteError} when a write fails mid-sweep.
 *
 * @example
 * ```ts ignore
 * import { planSweep } from "./expand.ts";
 * import { runSweep } from "./scheduler.ts";
 * const result = await runSweep(experiment, planSweep(experiment, "0123456789"), { runsDir: "runs" });
 * result.failed.length; // 0
 * ```
 */
export async function runSweep(
  experiment: Experiment,
  plan: SweepPlan,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const fs = options.fs ?? denoFs();
  const dir = join(options.runsDir ?? "runs", plan.experiment);
  const log = options.log ?? ((line: string) => console.log(line));
  await checkWritable(dir, fs);
  let lock;
  try {
    lock = await acquireLock(dir, { command: options.command ?? "elbo sweep" });
  } catch (err) {
    if (err instanceof LockHeldError) throw err;
    throw new SweepInputError(
      `Cannot lock ${join(dir, ".lock")}: ${
        (err as Error).message
      }. Fix: give write access to the runs folder`,
      { cause: err },
    );
  }
  try {
    if (lock.stale) {
      log(
        `note: took over the lock of pid ${lock.stale.pid} on ${lock.stale.hostname}, which stopped without releasing it`,
      );
    }
    return await execute(experiment, plan, { ...options, fs, log, dir });
  } finally {
    await lock.release();
  }
}

async function execute(
  experiment: Experiment,
  plan: SweepPlan,
  options: SweepOptions & { fs: SweepFs; log: (line: string) => void; dir: string },
): Promise<SweepResult> {
  const { fs, dir } = options;
  const folder = (id: string) => new RunDir(join(dir, id), fs);
  const status = await createFolders(plan, folder, options.backend ?? null);

  const pending = (group: TrainingGroup) =>
    group.runs.filter((r) => status.get(r.id)?.state !== "done");
  const todo = plan.groups.filter((g) => pending(g).length > 0);
  const todoTrain = todo.filter((g) => status.get(g.id)?.state !== "done").length;
  const todoEval = todo.reduce((n, g) => n + pending(g).length, 0);
  const alreadyDone = plan.runs.length - todoEval;
  const progress = new Progress({ trainings: todoTrain, evaluations: todoEval }, options.progress);
  const say = (line: string) => progress.logLine(() => options.log(line));
  say(
    `sweep ${plan.experiment} (preset ${plan.preset}, code ${plan.codeVersion}): ${plan.runs.length} run${
      plan.runs.length === 1 ? "" : "s"
    } = ` +
      `${countWork(plan.groups.length, plan.runs.length)}; to do: ${
        countWork(todoTrain, todoEval)
      } ` +
      `(${alreadyDone} runs already done)`,
  );
  const env: Env = {
    experiment,
    fs,
    say,
    progress,
    signal: options.signal ?? new AbortController().signal,
  };

  const failed: FailedRun[] = [];
  let trainedNow = 0;
  let evaluatedNow = 0;
  let interrupted = false;
  const stopped = () => interrupted || (options.failFast === true && failed.length > 0);
  try {
    for (const group of todo) {
      if (stopped()) break;
      const runs = pending(group);
      const td = folder(group.id);
      if (status.get(group.id)?.state !== "done") {
        trainedNow++;
        const outcome = await train(env, group, td, `[train ${trainedNow}/${todoTrain}]`);
        if (outcome.kind === "interrupted") {
          interrupted = true;
          break;
        }
        if (outcome.kind === "failed") {
          // The group's runs cannot be evaluated: each is failed with the training's step and error.
          for (const run of runs) {
            const error = `training ${group.id} failed: ${outcome.error}`;
            await folder(run.id).writeStatus({
              state: "failed",
              step: outcome.step,
              error,
              startedAt: null,
              finishedAt: new Date().toISOString(),
              trainedBy: group.id,
            });
            failed.push({ id: run.id, trainedBy: group.id, step: outcome.step, error });
          }
          continue;
        }
      }
      const finished = (await td.readStatus())?.state === "done";
      for (const run of runs) {
        if (stopped()) break;
        evaluatedNow++;
        const count = `[eval ${evaluatedNow}/${todoEval}]`;
        const outcome = await evaluate(env, run, folder(run.id), { td, finished, count });
        if (outcome.kind === "interrupted") interrupted = true;
        if (outcome.kind === "failed") {
          failed.push({
            id: run.id,
            trainedBy: group.id,
            step: outcome.step,
            error: outcome.error,
          });
        }
      }
    }
  } finally {
    progress.clear();
  }

  const { summary, files } = await summarize(experiment, plan, folder, fs, dir, say);
  const notRun = summary.counts.queued + summary.counts.running;
  say(
    `${interrupted ? "interrupted" : "finished"}: ${
      countWork(plan.groups.length, plan.runs.length)
    } ` +
      `(${trainedNow} trained and ${evaluatedNow} evaluated now); ${summary.counts.done} done, ` +
      `${summary.counts.failed} failed, ${notRun} not run → ${files[0]}`,
  );
  for (const f of failed) say(`FAILED ${f.id} (${f.trainedBy}) at step ${f.step}: ${f.error}`);
  return {
    dir,
    trainings: plan.groups.length,
    evaluations: plan.runs.length,
    trainedNow,
    evaluatedNow,
    alreadyDone,
    failed,
    notRun,
    interrupted,
    summary: files,
  };
}

/**
 * Writes `config.yaml` (first) and a `queued` status into every training and run folder that
 * has no status yet; returns every folder's status.
 */
async function createFolders(
  plan: SweepPlan,
  folder: (id: string) => RunDir,
  backend: Json,
): Promise<Map<string, RunStatus>> {
  const status = new Map<string, RunStatus>();
  const ensure = async (id: string, record: Record<string, Json>, trainedBy?: string) => {
    const rd = folder(id);
    let st = await rd.readStatus();
    if (st === null) {
      await rd.writeConfig({ ...record, backend });
      st = { state: "queued", step: 0, startedAt: null, finishedAt: null };
      if (trainedBy !== undefined) st.trainedBy = trainedBy;
      await rd.writeStatus(st);
    }
    status.set(id, st);
  };
  const common = { experiment: plan.experiment, codeVersion: plan.codeVersion };
  for (const group of plan.groups) {
    await ensure(group.id, {
      ...common,
      trainId: group.id,
      trainKey: group.trainKey,
      config: firstRun(group).config,
    });
    for (const run of group.runs) {
      await ensure(
        run.id,
        { ...common, runId: run.id, trainedBy: group.id, config: run.config },
        group.id,
      );
    }
  }
  return status;
}

/** Reads every run's status and metrics and writes the summary files. */
async function summarize(
  experiment: Experiment,
  plan: SweepPlan,
  folder: (id: string) => RunDir,
  fs: SweepFs,
  dir: string,
  say: (line: string) => void,
) {
  const records: RunRecord[] = [];
  for (const run of plan.runs) {
    const rd = folder(run.id);
    const st = await rd.readStatus();
    const record: RunRecord = {
      id: run.id,
      trainedBy: run.trainId,
      swept: run.swept,
      state: st?.state ?? "queued",
      step: st?.step ?? 0,
      metrics: st?.state === "done" ? await rd.readEval() : null,
    };
    if (st?.error !== undefined) record.error = st.error;
    records.push(record);
  }
  const curves: Record<string, MetricsLine[]> = {};
  for (const group of plan.groups) curves[group.id] = await folder(group.id).readMetrics();
  const spec = experiment.summarize ? { spec: experiment.summarize } : {};
  const summary = buildSummary(plan, records, spec);
  const files = await writeSummary(dir, summary, { fs, curves, log: say });
  return { summary, files };
}

async function train(
  env: Env,
  group: TrainingGroup,
  td: RunDir,
  count: string,
): Promise<Outcome> {
  const { experiment, fs, say, progress, signal } = env;
  const ckDir = join(td.path, "checkpoint");
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  await td.removeTempFiles();
  let resume: Checkpoint | null = null;
  let logged = -1;
  let saved = -1;
  const fail = async (err: unknown): Promise<Outcome> => {
    const step = stepOf(err) ?? Math.max(logged, saved, 0);
    const error = describeError(err);
    await td.writeStatus({
      state: "failed",
      step,
      error,
      startedAt,
      finishedAt: new Date().toISOString(),
    }).catch((writeErr) => {
      if (!(err instanceof StoreWriteError)) throw writeErr;
    });
    if (err instanceof StoreWriteError) throw err;
    say(`${count} ${group.id}: FAILED at step ${step}: ${error}`);
    return { kind: "failed", step, error };
  };
  try {
    resume = await loadLatestCheckpoint(ckDir);
  } catch (err) {
    if (err instanceof CheckpointError) return await fail(err);
    throw err;
  }
  saved = resume?.step ?? -1;
  logged = await td.truncateMetrics(resume?.step ?? -1);
  const runs = group.runs.map((r) => r.id).join(", ");
  say(
    resume
      ? `${count} ${group.id}: resuming from step ${resume.step} (runs ${runs})`
      : `${count} ${group.id}: starting (runs ${runs})`,
  );
  await td.writeStatus({ state: "running", step: Math.max(saved, 0), startedAt, finishedAt: null });
  const ctx: TrainContext = {
    dir: td.path,
    resume,
    signal,
    async log(step, metrics) {
      if (!Number.isInteger(step) || step <= logged) {
        throw new RangeError(
          `Cannot log step ${step} as logged steps must be integers that strictly increase: the last logged step is ${logged}`,
        );
      }
      for (const [key, value] of Object.entries(metrics)) {
        if (key === "step") {
          throw new RangeError(`Cannot log a metric named 'step' as the step is logged already`);
        }
        if (typeof value !== "number" || !Number.isFinite(value)) {
          throw new TrainStepError(
            `Cannot continue training as '${key}' is ${value} at step ${step}: lower the learning rate or check the data`,
            { step },
          );
        }
      }
      await td.appendMetrics({ step, ...metrics });
      logged = step;
    },
    async saveCheckpoint(ck) {
      if (ck.step < saved) {
        throw new RangeError(
          `Cannot save a checkpoint at step ${ck.step} as step ${saved} is saved already: resume from ctx.resume`,
        );
      }
      await saveCheckpoint(ckDir, ck, { fs });
      saved = ck.step;
    },
    progress: (step, total, info) => progress.update(step, total, info),
    writeFile: (rel, data) => td.writeFile(rel, data),
  };
  progress.begin("train", group.id);
  try {
    await experiment.train(firstRun(group).config, ctx);
  } catch (err) {
    progress.end();
    if (signal.aborted && !(err instanceof StoreWriteError)) return await interrupt(td, saved);
    return await fail(err);
  }
  progress.end();
  if (signal.aborted) return await interrupt(td, saved);
  const step = Math.max(logged, saved, 0);
  await td.writeStatus({ state: "done", step, startedAt, finishedAt: new Date().toISOString() });
  say(`${count} ${group.id}: done at step ${step} (${seconds(t0)})`);
  return { kind: "done", step };
}

async function evaluate(
  env: Env,
  run: PlannedRun,
  rd: RunDir,
  options: { td: RunDir; finished: boolean; count: string },
): Promise<Outcome> {
  const { experiment, say, progress, signal } = env;
  const { td, finished, count } = options;
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const step = (await td.readStatus())?.step ?? 0;
  const base = { step, startedAt, trainedBy: run.trainId };
  await rd.removeTempFiles();
  await rd.writeStatus({ ...base, state: "running", finishedAt: null });
  const ctx: EvalContext = {
    dir: rd.path,
    trainDir: td.path,
    signal,
    async latestCheckpoint() {
      const ck = await loadLatestCheckpoint(join(td.path, "checkpoint"), { finished });
      if (ck === null) {
        throw new RangeError(
          `Cannot evaluate run ${run.id} as its training ${run.trainId} saved no checkpoint: call ctx.saveCheckpoint() at the end of train()`,
        );
      }
      return ck;
    },
    writeFile: (rel, data) => rd.writeFile(rel, data),
    progress: (s, total, info) => progress.update(s, total, info),
  };
  progress.begin("eval", run.id);
  let metrics: Record<string, number | number[]>;
  try {
    metrics = checkMetrics(await experiment.evaluate(run.config, ctx));
  } catch (err) {
    progress.end();
    if (signal.aborted && !(err instanceof StoreWriteError)) {
      await rd.writeStatus({ ...base, state: "queued", startedAt: null, finishedAt: null });
      return { kind: "interrupted" };
    }
    const error = describeError(err);
    await rd.writeStatus({
      ...base,
      state: "failed",
      error,
      finishedAt: new Date().toISOString(),
    }).catch((writeErr) => {
      if (!(err instanceof StoreWriteError)) throw writeErr;
    });
    if (err instanceof StoreWriteError) throw err;
    say(`${count} ${label(run)}: FAILED: ${error}`);
    return { kind: "failed", step, error };
  }
  progress.end();
  await rd.writeEval(metrics);
  await rd.writeStatus({ ...base, state: "done", finishedAt: new Date().toISOString() });
  const shown = Object.entries(metrics).filter(([, v]) => typeof v === "number").slice(0, 4)
    .map(([k, v]) => `${k}=${Number((v as number).toPrecision(5))}`).join(" ");
  say(`${count} ${label(run)}: done ${shown} (${seconds(t0)})`);
  return { kind: "done", step };
}

async function interrupt(td: RunDir, saved: number): Promise<Outcome> {
  await td.writeStatus({
    state: "queued",
    step: Math.max(saved, 0),
    startedAt: null,
    finishedAt: null,
  });
  return { kind: "interrupted" };
}

async function checkWritable(dir: string, fs: SweepFs): Promise<void> {
  const probe = join(dir, ".write-test");
  try {
    await fs.mkdir(dir);
    await writeAtomic(fs, probe, "ok\n");
    await fs.remove(probe);
  } catch (err) {
    const why = err instanceof StoreWriteError && err.cause instanceof Error
      ? err.cause.message
      : (err as Error).message;
    throw new SweepInputError(
      `Cannot write to the runs folder ${dir}: ${why}. Fix: make it writable (the sweep task allows --allow-write=runs) or choose another one with --runs-dir`,
      { cause: err },
    );
  }
}

function checkMetrics(metrics: unknown): Record<string, number | number[]> {
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) {
    throw new TypeError(
      `Cannot record the result of evaluate() as it is not an object of metrics: return e.g. { nll: 1.23 }`,
    );
  }
  for (const [key, value] of Object.entries(metrics)) {
    const ok = (v: unknown) => typeof v === "number" && Number.isFinite(v);
    if (!(ok(value) || (Array.isArray(value) && value.every(ok)))) {
      throw new TypeError(
        `Cannot record metric '${key}' of evaluate() as it is ${
          JSON.stringify(value) ?? String(value)
        }: return finite numbers or arrays of them`,
      );
    }
  }
  return metrics as Record<string, number | number[]>;
}

function firstRun(group: TrainingGroup): PlannedRun {
  const first = group.runs[0];
  if (first === undefined) throw new RangeError(`Cannot train ${group.id} as it has no runs`);
  return first;
}

function stepOf(err: unknown): number | undefined {
  const step = (err as { step?: unknown } | null)?.step;
  return typeof step === "number" && Number.isFinite(step) ? step : undefined;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** The run id and its swept values, for log lines. */
function label(run: PlannedRun): string {
  const values = Object.entries(run.swept).map(([k, v]) =>
    `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
  );
  return [run.id, ...values].join(" ");
}

function seconds(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
